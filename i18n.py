"""The request's language and time zone: what the UI speaks and values are read and written in.

Flask-Babel asks `select_locale` / `select_timezone` once per request; the
rest of the app asks `current_language()` / `current_timezone()`. Strings are
translated with `catalog`'s gettext (Flask-Babel's catalogs): `_()` in templates,
and in Python `from catalog import gettext as _` (or `lazy_gettext` at import time).

The language is the user's saved choice ("Language" in the user menu; before
logging in, the choice made on the login page), else the best match of the
browser's Accept-Language among LANGUAGES, else English. The time zone is the
user's, else their account's, else UTC.
"""

from __future__ import annotations

import os
import tempfile
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import has_request_context, request, session
from flask_babel import force_locale, get_timezone
from flask_login import current_user

import catalog
from services import values

# The languages the UI speaks, with their names in their own language (the switch).
LANGUAGES = {"en": "English", "fr": "Français"}


def is_language(code) -> bool:
    """True for a language the UI speaks ("en", "fr")."""
    return code in LANGUAGES


def browser_language() -> str:
    """The best match of the request's Accept-Language among LANGUAGES, else English."""
    return request.accept_languages.best_match(LANGUAGES) or values.DEFAULT_LOCALE


def select_locale() -> str:
    """Flask-Babel's locale selector: the language this request is served in."""
    if not has_request_context():
        return values.DEFAULT_LOCALE  # the command line, services run by tests
    user = current_user._get_current_object()  # the proxy looks it up on every read
    if user and user.is_authenticated:
        if is_language(user.language):
            return user.language
    elif is_language(session.get("language")):
        return session["language"]  # chosen on the login page
    return browser_language()


def time_zone_or_none(name: str | None) -> ZoneInfo | None:
    """The IANA time zone called `name`, or None when blank or unknown."""
    if not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def select_timezone() -> str | None:
    """Flask-Babel's time zone selector: the user's, else their account's (None: UTC)."""
    if not has_request_context():
        return None
    user = current_user._get_current_object()  # the proxy looks it up on every read
    if not (user and user.is_authenticated):
        return None
    for name in (user.time_zone, user.account.time_zone):
        if time_zone_or_none(name) is not None:
            return name
    return None


def current_language() -> str:
    """The language of this request's user ("en", "fr"); English outside a request."""
    if not has_request_context():
        return values.DEFAULT_LOCALE
    return values.language(catalog.request_locale())


def current_timezone():
    """The time zone moments are shown in for this request's user (a tzinfo; UTC by default)."""
    if not has_request_context():
        return None
    return get_timezone()


def compile_catalogs(directory: Path) -> list[Path]:
    """Compile each translations/<lang>/LC_MESSAGES/messages.po whose .mo is missing or older.

    Compiled catalogs are not committed (they would go stale); the app builds them
    at start, atomically, so several workers starting at once do not trip on each
    other. Returns the .mo files written.
    """
    written = []
    for po_path in sorted(directory.glob("*/LC_MESSAGES/messages.po")):
        mo_path = po_path.with_suffix(".mo")
        if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        with open(po_path, "rb") as po_file:
            messages = read_po(po_file, locale=po_path.parent.parent.name)
        handle, temporary = tempfile.mkstemp(dir=po_path.parent, suffix=".mo.tmp")
        with os.fdopen(handle, "wb") as mo_file:
            write_mo(mo_file, messages)
        os.replace(temporary, mo_path)
        written.append(mo_path)
    return written


def warm_up(app) -> None:
    """Load now what each language's first request would: its catalog and Babel's data.

    gunicorn's master calls this before it forks (gunicorn.conf.py), so the workers
    share what it loaded instead of each loading its own: both catalogs, and Babel's
    locale data for numbers, dates and moments. The templates are compiled here too.
    """
    for name in app.jinja_env.list_templates():
        app.jinja_env.get_template(name)
    today = datetime.now(UTC)
    for language in LANGUAGES:
        with app.test_request_context(), force_locale(language):
            catalog.translations().ugettext("Deals")
        values.format_amount(Decimal("1234.5"), language)
        values.format_count(1234, language)
        values.format_date(today, language)
        values.format_datetime(today.replace(tzinfo=None), language, ZoneInfo("Europe/Paris"))
