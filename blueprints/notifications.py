"""The bell in the top bar and the notifications page."""

from flask import Blueprint, abort, flash, render_template, request

from blueprints.access import signed_in_user
from blueprints.htmx import redirect_back_or
from catalog import gettext as _
from catalog import ngettext
from forms.fields import parse_id
from services import notifications
from services.errors import NotFound

bp = Blueprint("notifications", __name__)


@bp.get("/notifications")
def index():
    older_than = parse_id(request.args.get("older_than"))
    page = notifications.page_for(signed_in_user(), older_than)
    unread = notifications.unread_count(signed_in_user())
    return render_template(
        "notifications/index.html", page=page, older_than=older_than, unread=unread
    )


@bp.get("/notifications/bell")
def bell():
    """The bell link alone: htmx polls it (and re-fetches it on `notifications-changed`)."""
    return render_template("notifications/_bell.html")


@bp.post("/notifications/<id:notification_id>/open")
def open_notification(notification_id):
    try:
        deal_id = notifications.open_notification(signed_in_user(), notification_id)
    except NotFound:
        abort(404)
    return redirect_back_or("deal_page.show", deal_id=deal_id)


@bp.post("/notifications/read")
def mark_all_read():
    count = notifications.mark_all_read(signed_in_user())
    if count:
        flash(
            ngettext(
                "Marked %(num)d notification as read.",
                "Marked %(num)d notifications as read.",
                count,
            )
        )
    else:
        flash(_("You have no unread notifications."))
    return redirect_back_or("notifications.index")
