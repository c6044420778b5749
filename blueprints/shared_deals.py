"""Create a shared deal: the form, and the stage options that follow the chosen pipeline."""

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, TextAreaField

from services import settings, shared_deals
from services.shared_deals import InvalidSharedDeal, NewSharedDeal

bp = Blueprint("shared_deals", __name__)


class SharedDealForm(FlaskForm):
    """The fields of the form; every rule lives in `services.shared_deals.create`."""

    name = StringField("Deal name")
    amount = StringField("Amount")
    close_date = StringField("Close date")
    partner = SelectField("Partner", validate_choice=False)
    vendor = SelectField("Vendor", validate_choice=False)
    pipeline = SelectField("Pipeline", validate_choice=False)
    stage = SelectField("Deal stage", validate_choice=False)
    intro_note = TextAreaField("Intro note")
    pain_or_opportunity = TextAreaField("Specific pain/opportunity defined")
    next_steps = TextAreaField("Next steps")
    registration_expires_on = StringField(
        "Registration expires on",
        description="Optional. Leave empty for a registration that does not expire.",
    )

    def other_party(self):
        """The select naming the other party: "Partner" for vendor users, else "Vendor"."""
        return self.partner if "partner" in self else self.vendor


def _form_for(user) -> SharedDealForm:
    """The form with only the fields this user's side fills in, and their choices."""
    form = SharedDealForm()
    if user.account.is_vendor:
        del form.vendor
        for field in ("intro_note", "pain_or_opportunity", "next_steps"):
            delattr(form, field)
        form.partner.choices = [("", "Choose a partner…")]
    else:
        del form.partner
        del form.registration_expires_on
        form.vendor.choices = []
    parties = shared_deals.other_parties_for(user)
    form.other_party().choices += [(str(a.id), a.name) for a in parties]
    if not user.account.is_vendor and len(parties) == 1 and not form.vendor.data:
        form.vendor.data = str(parties[0].id)  # the one vendor, preselected
    pipelines = settings.pipelines_of(user.account)
    form.pipeline.choices = [(str(p.id), p.name) for p in pipelines]
    chosen = shared_deals.own_pipeline(user, form.pipeline.data) or (
        pipelines[0] if pipelines else None
    )
    form.pipeline.data = str(chosen.id) if chosen else None
    _fill_stages(form.stage, chosen)
    return form


def _fill_stages(field, pipeline) -> None:
    field.choices = (
        [(str(s.id), s.name) for s in shared_deals.stages_of(pipeline)] if pipeline else []
    )


def _input_from(form: SharedDealForm) -> NewSharedDeal:
    def text(name):
        return form[name].data or "" if name in form else ""

    return NewSharedDeal(
        name=text("name"),
        amount=text("amount"),
        close_date=text("close_date"),
        other_party_id=form.other_party().data or "",
        pipeline_id=request.form.get("pipeline", ""),
        stage_id=text("stage"),
        intro_note=text("intro_note"),
        pain_or_opportunity=text("pain_or_opportunity"),
        next_steps=text("next_steps"),
        registration_expires_on=text("registration_expires_on"),
    )


@bp.route("/deals/new", methods=["GET", "POST"])
def new():
    form = _form_for(current_user)
    if form.validate_on_submit():
        try:
            shared = shared_deals.create(current_user, _input_from(form))
        except InvalidSharedDeal as error:
            for name, message in error.errors.items():
                field = form.other_party() if name == "other_party" else form[name]
                field.errors = [message]
        else:
            flash("Shared deal created.")
            deal_id = shared_deals.own_deal_id(shared, current_user)
            return redirect(url_for("deal_page.show", deal_id=deal_id), code=303)
    status = 422 if form.errors else 200
    return render_template("shared_deals/new.html", form=form), status


@bp.get("/deals/new/stages")
def stage_options():
    """The "Deal stage" field for the pipeline chosen in the form (htmx swaps it in)."""
    form = SharedDealForm(formdata=None)
    pipeline = shared_deals.own_pipeline(current_user, request.args.get("pipeline", ""))
    _fill_stages(form.stage, pipeline)
    form.stage.data = request.args.get("stage")  # kept when it is one of the new options
    if pipeline is None:
        form.stage.errors = [shared_deals.CHOOSE_PIPELINE]
    return render_template("shared_deals/_stage_field.html", form=form)
