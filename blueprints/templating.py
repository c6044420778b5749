"""What every template may use, registered once by the app factory: value filters
(in the user's language) and the few globals the layout needs."""

from __future__ import annotations

from flask import Flask, current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from i18n import LANGUAGES, current_language, current_timezone
from models import utcnow
from services import activity_text, notifications, values

# A registration's status as the card shows it (the data says "active", "expired"…).
REGISTRATION_STATUS_LABELS = {
    "active": _l("Active"),
    "requested": _l("Requested"),
    "declined": _l("Declined"),
    "expired": _l("Expired"),
    "deregistered": _l("Deregistered"),
}


def register(app: Flask) -> None:
    """Add the filters and globals to `app`'s templates."""
    app.add_template_filter(amount)
    app.add_template_filter(date)
    app.add_template_filter(datetime)
    app.add_template_filter(ago)
    app.add_template_filter(count)
    app.add_template_filter(activity_summary)
    app.add_template_filter(activity_value)
    app.context_processor(_layout_globals)
    # Globals, not context: the macros of _macros.html use them without "with context".
    app.jinja_env.globals.update(
        current_language=current_language,
        ui_languages=LANGUAGES,
        amount_example=lambda: values.amount_example(current_language()),
        registration_status_labels=REGISTRATION_STATUS_LABELS,
    )


def amount(value) -> str:
    """125000 -> "125,000.00" (English) / "125 000,00" (French); blank -> "—"."""
    return values.format_amount(value, current_language())


def date(value) -> str:
    """A date or timestamp as "Mar 1, 2026" / "1 mars 2026"; blank -> "—"."""
    return values.format_date(value, current_language())


def datetime(value) -> str:
    """A stored moment in the user's time zone: "Mar 1, 2026, 3:04 PM"."""
    return values.format_datetime(value, current_language(), current_timezone())


def ago(value) -> str:
    """How long ago: "just now", "7 minutes ago", "3 days ago"."""
    return values.format_ago(value, utcnow(), current_language()) or _("just now")


def activity_summary(item) -> str:
    """An activity's (or notification's) stored sentence in the reader's language."""
    return activity_text.summary(item.summary, current_language())


def activity_value(text) -> str | None:
    """An activity's before/after value in the reader's language."""
    return activity_text.value(text, current_language())


def count(value) -> str:
    """A whole number with grouping: "1,234"."""
    return values.format_count(value, current_language())


def _layout_globals() -> dict:
    def unread_notification_count():
        # A function, so only pages that show the bell pay for the count query.
        return notifications.unread_count(current_user)

    return {
        "htmx_version": current_app.config["HTMX_VERSION"],
        "unread_notification_count": unread_notification_count,
        "notifications_poll_seconds": current_app.config.get("NOTIFICATIONS_POLL_SECONDS", 30),
    }
