"""Activity and notification sentences in the reader's language.

The history stores each sentence once, in English, as it was written
("added Bob Nguyen to the deal team"): it is a record, and readers may speak
different languages. Each known sentence shape is recognised here and said again
through gettext when it is shown; a sentence of an unknown shape (written by a
newer feature without an entry here) is shown as stored.
"""

from __future__ import annotations

import re
from datetime import date

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from services import values

_STATUS = {
    "active": _l("active"),
    "requested": _l("requested"),
    "declined": _l("declined"),
    "expired": _l("expired"),
    "deregistered": _l("deregistered"),
    "no expiry": _l("no expiry"),
    "nobody": _l("nobody"),
}
_ISO = r"(\d{4}-\d{2}-\d{2})"


def _day(iso: str, locale: str) -> str:
    return values.format_date(date.fromisoformat(iso), locale)


# (pattern, how to say it): the groups of the pattern are the sentence's variables.
_SENTENCES = [
    (re.compile("registered the deal"), lambda m, loc: _("registered the deal")),
    (re.compile("deregistered the deal"), lambda m, loc: _("deregistered the deal")),
    (
        re.compile(r"registration #(\d+) expired"),
        lambda m, loc: _("registration #%(id)s expired", id=m[1]),
    ),
    (
        re.compile("changed the deal team: added (.+), removed (.+)"),
        lambda m, loc: _(
            "changed the deal team: added %(added)s, removed %(removed)s", added=m[1], removed=m[2]
        ),
    ),
    (
        re.compile("added (.+) to the deal team"),
        lambda m, loc: _("added %(names)s to the deal team", names=m[1]),
    ),
    (
        re.compile("removed (.+) from the deal team"),
        lambda m, loc: _("removed %(names)s from the deal team", names=m[1]),
    ),
    (re.compile("changed the deal team"), lambda m, loc: _("changed the deal team")),
    (re.compile("created the shared deal"), lambda m, loc: _("created the shared deal")),
    (re.compile("changed the intro note"), lambda m, loc: _("changed the intro note")),
    (re.compile("changed the pain/opportunity"), lambda m, loc: _("changed the pain/opportunity")),
    (re.compile("changed the next steps"), lambda m, loc: _("changed the next steps")),
    (re.compile("changed the product interest"), lambda m, loc: _("changed the product interest")),
    (
        re.compile(r"created the shared deal and registered it for (.+) \(expires " + _ISO + r"\)"),
        lambda m, loc: _(
            "created the shared deal and registered it for %(account)s (expires %(date)s)",
            account=m[1],
            date=_day(m[2], loc),
        ),
    ),
    (
        re.compile(r"created the shared deal and registered it for (.+) \(no expiry\)"),
        lambda m, loc: _(
            "created the shared deal and registered it for %(account)s (no expiry)", account=m[1]
        ),
    ),
    (re.compile("changed the deal name"), lambda m, loc: _("changed the deal name")),
    (re.compile("changed the amount"), lambda m, loc: _("changed the amount")),
    (re.compile("changed the close date"), lambda m, loc: _("changed the close date")),
    (re.compile("changed the deal owner"), lambda m, loc: _("changed the deal owner")),
    (re.compile("changed the company"), lambda m, loc: _("changed the company")),
    (re.compile("changed the pipeline"), lambda m, loc: _("changed the pipeline")),
    (re.compile("changed the deal stage"), lambda m, loc: _("changed the deal stage")),
    (re.compile("requested a registration"), lambda m, loc: _("requested a registration")),
    (
        re.compile("approved the registration request"),
        lambda m, loc: _("approved the registration request"),
    ),
    (
        re.compile("declined the registration request"),
        lambda m, loc: _("declined the registration request"),
    ),
    (
        re.compile(r"shared the deal with (.+)"),
        lambda m, loc: _("shared the deal with %(account)s", account=m[1]),
    ),
    (
        re.compile(r"shared the deal and registered it for (.+) \(expires " + _ISO + r"\)"),
        lambda m, loc: _(
            "shared the deal and registered it for %(account)s (expires %(date)s)",
            account=m[1],
            date=_day(m[2], loc),
        ),
    ),
    (
        re.compile(r"shared the deal and registered it for (.+) \(no expiry\)"),
        lambda m, loc: _(
            "shared the deal and registered it for %(account)s (no expiry)", account=m[1]
        ),
    ),
    (
        re.compile(r"created the shared deal \(registered automatically\)"),
        lambda m, loc: _("created the shared deal (registered automatically)"),
    ),
]
_VALUES = [
    (
        re.compile(r"active, expires " + _ISO),
        lambda m, loc: _("active, expires %(date)s", date=_day(m[1], loc)),
    ),
    (re.compile(r"active, no expiry"), lambda m, loc: _("active, no expiry")),
    (re.compile(r"expires " + _ISO), lambda m, loc: _("expires %(date)s", date=_day(m[1], loc))),
    (re.compile(r"expired " + _ISO), lambda m, loc: _("expired %(date)s", date=_day(m[1], loc))),
]


def summary(text: str | None, locale: str) -> str:
    """A stored English activity sentence, said in `locale`'s language (as stored if unknown)."""
    text = text or ""
    for pattern, say in _SENTENCES:
        match = pattern.fullmatch(text)
        if match:
            return say(match, locale)
    return text


def value(text: str | None, locale: str) -> str | None:
    """A stored before/after value: statuses and dates said in the language, the rest as is."""
    if text is None:
        return None
    if text in _STATUS:
        return str(_STATUS[text])
    for pattern, say in _VALUES:
        match = pattern.fullmatch(text)
        if match:
            return say(match, locale)
    return text
