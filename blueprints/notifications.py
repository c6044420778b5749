"""The bell in the top bar and the notifications page."""

import json
from datetime import datetime

from flask import Blueprint, abort, current_app, flash, render_template, request
from flask_login import current_user

from blueprints.htmx import is_htmx, redirect_back_or
from models import utcnow
from services import notifications
from services.errors import NotFound

bp = Blueprint("notifications", __name__)

# The event that makes the bell re-fetch its count (see templates/notifications/_bell.html).
CHANGED_EVENT = "notifications-changed"
MAX_ID = 2**31 - 1  # ids are 32-bit integers


@bp.app_context_processor
def bell_context():
    # A function, so only pages that show the bell pay for the count query.
    def unread_notification_count():
        return notifications.unread_count(current_user)

    return {
        "unread_notification_count": unread_notification_count,
        "notifications_poll_seconds": current_app.config.get("NOTIFICATIONS_POLL_SECONDS", 30),
    }


@bp.app_template_filter("time_ago")
def time_ago(moment: datetime) -> str:
    """'just now', '5 min ago', '3 h ago', 'yesterday', '4 days ago', else the date."""
    seconds = max(0, int((utcnow() - moment).total_seconds()))
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        return f"{seconds // 60} min ago"
    if seconds < 86400:
        return f"{seconds // 3600} h ago"
    days = seconds // 86400
    if days == 1:
        return "yesterday"
    if days < 7:
        return f"{days} days ago"
    return f"{moment.day} {moment:%b %Y}"


@bp.after_app_request
def announce_own_changes(response):
    """After the user's own htmx change (POST/PUT/DELETE), tell the bell to refresh its count."""
    if is_htmx() and request.method not in ("GET", "HEAD") and response.status_code < 400:
        current = response.headers.get("HX-Trigger", "").strip()
        if not current:
            response.headers["HX-Trigger"] = CHANGED_EVENT
        elif current.startswith("{"):
            try:
                events = json.loads(current)
            except ValueError:
                return response  # not ours to repair
            events.setdefault(CHANGED_EVENT, None)
            response.headers["HX-Trigger"] = json.dumps(events)
        elif CHANGED_EVENT not in current.split(","):
            response.headers["HX-Trigger"] = f"{current}, {CHANGED_EVENT}"
    return response


@bp.get("/notifications")
def index():
    older_than = request.args.get("older_than", type=int)
    if older_than is not None and not 0 < older_than <= MAX_ID:
        older_than = None
    page = notifications.page_for(current_user, older_than)
    return render_template("notifications/index.html", page=page, older_than=older_than)


@bp.get("/notifications/bell")
def bell():
    """The bell link alone: htmx polls it (and re-fetches it on `notifications-changed`)."""
    return render_template("notifications/_bell.html")


@bp.post("/notifications/<int:notification_id>/open")
def open_notification(notification_id):
    if notification_id > MAX_ID:
        abort(404)
    try:
        deal_id = notifications.open_notification(current_user, notification_id)
    except NotFound:
        abort(404)
    return redirect_back_or("deal_page.show", deal_id=deal_id)


@bp.post("/notifications/read")
def mark_all_read():
    count = notifications.mark_all_read(current_user)
    if count:
        flash(f"Marked {count} notification{'s' if count != 1 else ''} as read.")
    else:
        flash("You have no unread notifications.")
    return redirect_back_or("notifications.index")
