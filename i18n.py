"""The request's language and time zone: what the UI speaks and values are read and written in.

Flask-Babel asks `select_locale` / `select_timezone` once per request; the
rest of the app asks `current_language()` / `current_timezone()`. Strings are
translated with Flask-Babel's gettext: `_()` in templates, and in Python
`from flask_babel import gettext as _` (or `lazy_gettext` at import time).

English only for now; the French issue fills in the selector (the user's
saved choice, then Accept-Language) and the catalogs under translations/.
"""

from flask import has_request_context
from flask_babel import get_locale

from services import values

LANGUAGES = ("en",)


def select_locale() -> str:
    """Flask-Babel's locale selector: the language this request is served in."""
    return values.DEFAULT_LOCALE


def select_timezone() -> str | None:
    """Flask-Babel's time zone selector (None: UTC)."""
    return None


def current_language() -> str:
    """The language of this request's user ("en", "fr"); English outside a request."""
    if not has_request_context():
        return values.DEFAULT_LOCALE
    return values.language(get_locale())


def current_timezone():
    """The time zone moments are shown in for this request's user (None: UTC)."""
    return None
