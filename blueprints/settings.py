"""Settings › Partners › Shared deals: the referred deals pipeline."""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from wtforms.fields.choices import SelectChoice

from blueprints.access import signed_in_user
from catalog import gettext as _
from forms.settings import ReferredPipelineForm
from services import settings
from services.errors import Invalid

bp = Blueprint("settings", __name__, url_prefix="/settings")


@bp.get("/")
def index():
    return redirect(url_for("settings.shared_deals"))


@bp.route("/partners/shared-deals", methods=["GET", "POST"])
def shared_deals():
    """Admins change the referred deals pipeline; members see it read-only (a post is 403)."""
    account = signed_in_user().account
    if request.method == "POST" and not signed_in_user().is_admin:
        abort(403)
    form = ReferredPipelineForm()
    form.pipeline.choices = [SelectChoice(p.id, p.name) for p in settings.pipelines_of(account.id)]
    if form.validate_on_submit():
        try:
            pipeline = settings.set_referred_pipeline(signed_in_user(), form.pipeline.data)
        except Invalid as error:
            form.pipeline.errors = [error.message]
        else:
            flash(
                _("Settings saved: shared deals now land in %(pipeline)s.", pipeline=pipeline.name)
            )
            return redirect(url_for("settings.shared_deals"), code=303)
    elif not form.is_submitted():
        form.pipeline.data = settings.referred_pipeline_for(account).id
    status = 422 if form.pipeline.errors else 200
    return render_template(
        "settings/shared_deals.html", form=form, read_only=not signed_in_user().is_admin
    ), status
