"""The UI's words in the request's language: gettext, ngettext and lazy_gettext.

They are Flask-Babel's, with the same catalogs and the same results, but each finds the
request's catalog with one lookup instead of Flask-Babel's five request-context lookups
and a locale-to-string conversion a string (~4 µs; a page says 100–200 strings, a form's
labels and the filter builder's choices among them). The catalog is kept per locale:
`force_locale` and `refresh` give a new locale, so they are honoured as before.

In Python, `from catalog import gettext as _` (or `lazy_gettext as _l` at import time);
in templates `_()` calls these (`blueprints.templating`). A leaf module: `services.values`
translates its messages with it, and `i18n` (the request's language) imports `values`.
"""

from __future__ import annotations

from babel import Locale
from babel.support import NullTranslations, Translations
from flask import g
from flask_babel import get_locale, get_translations
from flask_babel.speaklater import LazyString

# Each language's catalog, by the Locale Flask-Babel chose for the request (a Locale is
# equal and hashes alike for the same language): one entry per language.
_CATALOGS: dict[Locale, Translations | NullTranslations] = {}


def request_locale() -> Locale | None:
    """Flask-Babel's `get_locale()`: the request's Locale (None outside an app).

    The one it has chosen for this request is read first, where Flask-Babel keeps it
    (`g._flask_babel.babel_locale`, also set by `force_locale`): one call, where
    `get_locale` takes ~11 through `g`'s proxy, and a page looks it up 40–50 times
    (every lazy string shown). Until one is chosen, or should Flask-Babel keep it
    elsewhere, `get_locale` itself.
    """
    try:
        return g._get_current_object()._flask_babel.babel_locale or get_locale()
    except (RuntimeError, AttributeError):  # no app context; no locale chosen yet
        return get_locale()


def translations() -> Translations | NullTranslations:
    """The catalog of this request's language (Flask-Babel's; none outside an app)."""
    locale = request_locale()
    if locale is None:
        return get_translations()  # no app context: Flask-Babel's NullTranslations
    try:
        return _CATALOGS[locale]
    except KeyError:
        found = _CATALOGS[locale] = get_translations()
        return found


def gettext(string: str, /, **variables) -> str:
    """`string` in the request's language, %-formatted with `variables` if any."""
    text = translations().ugettext(string)
    return text % variables if variables else text


def ngettext(singular: str, plural: str, num, /, **variables) -> str:
    """The form of `singular`/`plural` for `num` in the request's language; `num` is
    a variable of the message unless given."""
    variables.setdefault("num", num)
    return translations().ungettext(singular, plural, num) % variables


def lazy_gettext(string: str, /, **variables) -> LazyString:
    """`gettext(string)` when shown, not now: for words defined at import time."""
    return LazyString(gettext, string, **variables)
