"""Create a shared deal, or share an existing one: the forms, and the stage options that
follow the chosen pipeline."""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from wtforms.fields.choices import SelectChoice

from blueprints.access import signed_in_user
from blueprints.deal_page import own_deal
from catalog import gettext as _
from forms.fields import parse_id
from forms.shared_deal import SharedDealForm, SharingTermsForm
from services import settings, shared_deals
from services.errors import NotFound
from services.shared_deals import AlreadyShared, InvalidSharedDeal

bp = Blueprint("shared_deals", __name__)


def _with_parties(form: SharingTermsForm, user) -> SharingTermsForm:
    """Fill the other party's choices (the one vendor preselected for a partner)."""
    vendor_side = user.account.is_vendor
    parties = shared_deals.other_parties_for(user)
    other = form.other_party()
    other.choices = [SelectChoice("", _("Choose a partner…"))] if vendor_side else []
    other.choices += [SelectChoice(a.id, a.name) for a in parties]
    if not vendor_side and len(parties) == 1 and other.data is None:
        other.data = parties[0].id
    return form


def _form_for(user) -> SharedDealForm:
    """The form with only the fields this user's side fills in, and their choices."""
    form = _with_parties(SharedDealForm.for_side(user.account.is_vendor), user)
    pipelines = settings.pipelines_of(user.account_id)
    form.pipeline.choices = [SelectChoice(p.id, p.name) for p in pipelines]
    chosen = shared_deals.own_pipeline(user, form.pipeline.data)
    if chosen is None and not form.is_submitted() and pipelines:
        chosen = pipelines[0]  # a new form starts in the first pipeline
        form.pipeline.data = chosen.id
    _fill_stages(form, chosen)
    return form


def _fill_stages(form: SharedDealForm, pipeline) -> None:
    stages = shared_deals.stages_of(pipeline) if pipeline else []
    form.stage.choices = [SelectChoice(s.id, s.name) for s in stages]


def _show_errors(form: SharingTermsForm, error: InvalidSharedDeal) -> None:
    for name, message in error.errors.items():
        field = form.other_party() if name == "other_party" else form[name]
        field.errors = [message]


@bp.route("/deals/new", methods=["GET", "POST"])
def new():
    form = _form_for(signed_in_user())
    if form.validate_on_submit():
        try:
            shared = shared_deals.create(signed_in_user(), form.new_shared_deal())
        except InvalidSharedDeal as error:
            _show_errors(form, error)
        else:
            flash(_("Shared deal created."))
            deal_id = shared.deal_id_of(signed_in_user().account_id)
            return redirect(url_for("deal_page.show", deal_id=deal_id), code=303)
    status = 422 if form.errors else 200
    products = shared_deals.products_offered(signed_in_user())
    return render_template("shared_deals/new.html", form=form, products_offered=products), status


@bp.get("/deals/new/stages")
def stage_options():
    """The "Deal stage" field for the pipeline chosen in the form (htmx swaps it in)."""
    form = SharedDealForm.for_side(signed_in_user().account.is_vendor, formdata=None)
    pipeline = shared_deals.own_pipeline(signed_in_user(), parse_id(request.args.get("pipeline")))
    _fill_stages(form, pipeline)
    form.stage.data = parse_id(request.args.get("stage"))  # kept when one of the new options
    if pipeline is None:
        form.stage.errors = [shared_deals.CHOOSE_PIPELINE]
    return render_template("shared_deals/_stage_field.html", form=form)


@bp.route("/deals/<id:deal_id>/share", methods=["GET", "POST"])
def share(deal_id):
    """Share an unshared deal: the terms asked; its name, amount and date go as they are."""
    deal = own_deal(deal_id)
    page = url_for("deal_page.show", deal_id=deal.id)
    if shared_deals.shared_deal_of(deal.id) is not None:
        flash(str(shared_deals.ALREADY_SHARED))
        return redirect(page, code=303)
    form = _with_parties(
        SharingTermsForm.for_side(signed_in_user().account.is_vendor), signed_in_user()
    )
    if form.validate_on_submit():
        try:
            shared_deals.share(signed_in_user(), deal.id, form.sharing_terms())
        except InvalidSharedDeal as error:
            _show_errors(form, error)
        except AlreadyShared as error:  # shared by someone else since the page was shown
            flash(str(error.message))
            return redirect(page, code=303)
        except NotFound:
            abort(404)
        else:
            flash(_("Deal shared with %(party)s.", party=_other_party_name(form)))
            return redirect(page, code=303)
    status = 422 if form.errors else 200
    context = {
        "deal": deal,
        "form": form,
        "products_offered": shared_deals.products_offered(signed_in_user()),
    }
    return render_template("shared_deals/share.html", **context), status


def _other_party_name(form: SharingTermsForm) -> str:
    chosen = form.other_party().data
    return next((str(c.label) for c in form.other_party().choices if c.value == chosen), "")
