"""Activity and notification sentences in the reader's language.

The history stores each sentence once, in English, as it was written
("added Bob Nguyen to the deal team"): it is a record, and readers may speak
different languages. Each known sentence shape is recognised here and said again
through gettext when it is shown; a sentence of an unknown shape (written by a
newer feature without an entry here) is shown as stored.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from datetime import date

from babel.dates import get_month_names

from catalog import gettext
from services import values
from services.errors import Invalid

# (message, **variables) -> the message in the reader's language, %-formatted.
Say = Callable[..., str]


def _statuses(_: Say) -> tuple[str, ...]:
    """The registration statuses a before/after value may be, said through `_`."""
    return (
        _("active"),
        _("requested"),
        _("declined"),
        _("expired"),
        _("deregistered"),
        _("no expiry"),
        _("nobody"),
    )


def _fixed(_: Say) -> tuple[str, ...]:
    """The sentences without variables, said through `_` (called once with the identity:
    the stored sentence is its own message)."""
    return (
        _("registered the deal"),
        _("deregistered the deal"),
        _("changed the deal team"),
        _("created the shared deal"),
        _("changed the intro note"),
        _("changed the pain/opportunity"),
        _("changed the next steps"),
        _("changed the product interest"),
        _("changed the deal name"),
        _("changed the amount"),
        _("changed the close date"),
        _("changed the deal owner"),
        _("changed the company"),
        _("changed the pipeline"),
        _("changed the deal stage"),
        _("requested a registration"),
        _("approved the registration request"),
        _("declined the registration request"),
        _("created the shared deal (registered automatically)"),
    )


def _identity(message: str, **_variables) -> str:
    return message


_FIXED = frozenset(_fixed(_identity))
_STATUS = frozenset(_statuses(_identity))
_ISO = r"(\d{4}-\d{2}-\d{2})"


def _day(iso: str, locale: str) -> str:
    return values.format_date(date.fromisoformat(iso), locale)


# (pattern, how to say it): the groups of the pattern are the sentence's variables.
_SENTENCES = [
    (
        re.compile(r"registration #(\d+) expired"),
        lambda m, loc, _: _("registration #%(id)s expired", id=m[1]),
    ),
    (
        re.compile("changed the deal team: added (.+), removed (.+)"),
        lambda m, loc, _: _(
            "changed the deal team: added %(added)s, removed %(removed)s", added=m[1], removed=m[2]
        ),
    ),
    (
        re.compile("added (.+) to the deal team"),
        lambda m, loc, _: _("added %(names)s to the deal team", names=m[1]),
    ),
    (
        re.compile("removed (.+) from the deal team"),
        lambda m, loc, _: _("removed %(names)s from the deal team", names=m[1]),
    ),
    (
        re.compile(r"created the shared deal and registered it for (.+) \(expires " + _ISO + r"\)"),
        lambda m, loc, _: _(
            "created the shared deal and registered it for %(account)s (expires %(date)s)",
            account=m[1],
            date=_day(m[2], loc),
        ),
    ),
    (
        re.compile(r"created the shared deal and registered it for (.+) \(no expiry\)"),
        lambda m, loc, _: _(
            "created the shared deal and registered it for %(account)s (no expiry)", account=m[1]
        ),
    ),
    (
        re.compile(r"shared the deal with (.+)"),
        lambda m, loc, _: _("shared the deal with %(account)s", account=m[1]),
    ),
    (
        re.compile(r"shared the deal and registered it for (.+) \(expires " + _ISO + r"\)"),
        lambda m, loc, _: _(
            "shared the deal and registered it for %(account)s (expires %(date)s)",
            account=m[1],
            date=_day(m[2], loc),
        ),
    ),
    (
        re.compile(r"shared the deal and registered it for (.+) \(no expiry\)"),
        lambda m, loc, _: _(
            "shared the deal and registered it for %(account)s (no expiry)", account=m[1]
        ),
    ),
]
_VALUES = [
    (
        re.compile(r"active, expires " + _ISO),
        lambda m, loc, _: _("active, expires %(date)s", date=_day(m[1], loc)),
    ),
    (re.compile(r"active, no expiry"), lambda m, loc, _: _("active, no expiry")),
    (
        re.compile(r"expires " + _ISO),
        lambda m, loc, _: _("expires %(date)s", date=_day(m[1], loc)),
    ),
    (
        re.compile(r"expired " + _ISO),
        lambda m, loc, _: _("expired %(date)s", date=_day(m[1], loc)),
    ),
]


def summary(text: str | None, locale: str, say: Say = gettext) -> str:
    """A stored English activity sentence, said in `locale`'s language (as stored if unknown).

    `say`: the catalog of that language (Flask-Babel's gettext looks it up on every call;
    a template passes the one it looked up once per render).
    """
    text = text or ""
    return say(text) if text in _FIXED else _said_again(text, _SENTENCES, locale, say)


def value(
    text: str | None, locale: str, say: Say = gettext, summary: str | None = None
) -> str | None:
    """A stored before/after value: statuses, dates and amounts said in the language, the rest
    as is. `summary` is its entry's stored sentence: an amount or a close date is recognised
    only in the change of that field (a deal's name may look like an amount)."""
    if text is None:
        return None
    if text in _STATUS:
        return say(text)
    field_value = _FIELD_VALUES.get(summary)
    if field_value is not None:
        # Stored as an English reader reads it: said again for the others only.
        lang = values.language(locale)
        return text if lang == values.DEFAULT_LOCALE else field_value(text, lang)
    return _said_again(text, _VALUES, locale, say)


@functools.lru_cache(maxsize=values.FORMATTED_KEPT)
def _amount_again(text: str, locale: str) -> str:
    """An amount as the history stores it ("306,500.00", English) in `locale`'s form."""
    try:
        amount = values.parse_amount(text, values.DEFAULT_LOCALE)
    except Invalid:
        return text
    return values.format_amount(amount, locale) if amount is not None else text


# The history's dates of a close date change: English medium dates ("Dec 5, 2026").
_MONTHS = {name: number for number, name in get_month_names("abbreviated", locale="en").items()}
_MEDIUM_DATE = re.compile(r"(" + "|".join(_MONTHS) + r") (\d{1,2}), (\d{4})")


@functools.lru_cache(maxsize=values.FORMATTED_KEPT)
def _date_again(text: str, locale: str) -> str:
    """A date as the history stores it ("Dec 5, 2026", English) in `locale`'s form."""
    match = _MEDIUM_DATE.fullmatch(text)
    if match is None:
        return text
    try:
        day = date(int(match[3]), _MONTHS[match[1]], int(match[2]))
    except ValueError:
        return text
    return values.format_date(day, locale)


# The field changes whose values are amounts or dates: services/deal_fields.py writes
# these summaries.
AMOUNT_CHANGED = "changed the amount"
CLOSE_DATE_CHANGED = "changed the close date"
_FIELD_VALUES = {AMOUNT_CHANGED: _amount_again, CLOSE_DATE_CHANGED: _date_again}


def _said_again(text: str, shapes, locale: str, say: Say) -> str:
    """`text` said through the first of `shapes` (pattern, how to say it) it matches whole;
    as stored when none does."""
    for pattern, said in shapes:
        match = pattern.fullmatch(text)
        if match:
            return said(match, locale, say)
    return text
