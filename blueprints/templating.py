"""What every template may use, registered once by the app factory: value filters
(in the user's language) and the few globals the layout needs.

The request's language, time zone and catalog are looked up once per render
(`_language_context`), not once per string or value: Flask-Babel finds them through
several request-context lookups on every call (17 µs a string, 9 µs the language; a
deal page has about 100 strings and 90 values). Macros imported without context use
Jinja's globals: the language's lookups per call, and `catalog`'s gettext (one lookup).
"""

from __future__ import annotations

import functools
import itertools
from collections import ChainMap
from collections.abc import Sequence
from typing import NamedTuple

from flask import Flask, current_app, has_request_context, url_for
from flask.templating import Environment as FlaskEnvironment
from flask_login import current_user
from jinja2 import pass_context
from markupsafe import Markup, escape

from catalog import gettext as _
from catalog import lazy_gettext as _l
from catalog import translations
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


class _TemplateGlobals(ChainMap):
    """A template's globals: its own (almost always none), then the environment's.

    Every `{% from … import … %}` compares the importing template's global names with
    these keys (`Template._get_default_module`); a ChainMap's keys test each name in each
    map in Python (~100 calls an import; a deal page imports ~16 times). With no globals
    of its own, the keys are the environment's dict's own view, compared in C.
    """

    def keys(self):
        if len(self.maps) == 2 and not self.maps[0]:
            return self.maps[1].keys()
        return super().keys()


class Environment(FlaskEnvironment):
    """Flask's template environment, its templates' globals a `_TemplateGlobals`."""

    def make_globals(self, d):
        return _TemplateGlobals({} if d is None else d, self.globals)


def register(app: Flask) -> None:
    """Add the filters and globals to `app`'s templates."""
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
    app.add_template_filter(amount)
    app.add_template_filter(date)
    app.add_template_filter(datetime)
    app.add_template_filter(ago)
    app.add_template_filter(count)
    app.add_template_filter(activity_summary)
    app.add_template_filter(activity_value)
    app.add_template_filter(initials)
    app.add_template_filter(card_texts)
    app.add_template_filter(table_cells)
    app.context_processor(_layout_globals)
    app.context_processor(_language_context)
    # Where a render has no context (macros imported without it), `_()` is Jinja's
    # global: the catalog's, instead of Flask-Babel's per-call lookups. Jinja's newstyle
    # wrapper escapes and %-formats, so these return the catalog's text as it is.
    app.jinja_env.install_gettext_callables(
        gettext=lambda string: translations().ugettext(string),
        ngettext=lambda singular, plural, num: translations().ungettext(singular, plural, num),
        newstyle=True,
        pgettext=lambda context, string: translations().upgettext(context, string),
        npgettext=lambda context, singular, plural, num: translations().unpgettext(
            context, singular, plural, num
        ),
    )
    # Globals, not context: the macros of _macros.html use them without "with context".
    app.jinja_env.globals.update(
        current_language=current_language,
        ui_languages=LANGUAGES,
        amount_example=lambda: values.amount_example(current_language()),
        registration_status_labels=REGISTRATION_STATUS_LABELS,
        board_frame=board_frame,
    )


def _language_context() -> dict:
    """Once per render: the language and time zone the filters use, and `gettext` and
    `ngettext` bound to the request's catalog (what Jinja's `_()` calls), behaving as the
    i18n extension's newstyle ones: escaped under autoescape, then %-formatted."""
    if not has_request_context():
        return {}
    catalog = translations()
    # Markup as jinja2.ext's newstyle gettext does: the catalog's text is ours (the
    # translators'); the %-formatting then escapes every variable.

    @pass_context
    def gettext(context, string, /, **variables):
        text = catalog.ugettext(string)
        if context.eval_ctx.autoescape:
            text = Markup(text)  # noqa: S704
        # Formatted as Jinja's does ("%%" is "%"), only when there is something to format.
        return text % variables if variables or "%" in text else text

    @pass_context
    def ngettext(context, singular, plural, num, /, **variables):
        variables.setdefault("num", num)
        text = catalog.ungettext(singular, plural, num)
        return (Markup(text) if context.eval_ctx.autoescape else text) % variables  # noqa: S704

    def say(string, /, **variables):
        """Plain gettext (no Markup) on the same catalog, for text the filters return."""
        text = catalog.ugettext(string)
        return text % variables if variables else text

    return {
        # `_()` too: Jinja's own `_` looks `gettext` up again and calls it through the
        # context (six calls more a string; a page says 50–200).
        "_": gettext,
        "gettext": gettext,
        "ngettext": ngettext,
        "render_say": say,
        "render_language": current_language(),
        "render_timezone": current_timezone(),
    }


def _language(context) -> str:
    # The render's own variables (`parent`), read as a dict: `context.get` is three calls,
    # and a board formats ~250 values.
    return context.parent.get("render_language") or current_language()


def _say(context):
    return context.parent.get("render_say") or _


@pass_context
def amount(context, value) -> str:
    """125000 -> "125,000.00" (English) / "125 000,00" (French); blank -> "—"."""
    return values.format_amount(value, _language(context))


@pass_context
def date(context, value) -> str:
    """A date or timestamp as "Mar 1, 2026" / "1 mars 2026"; blank -> "—"."""
    return values.format_date(value, _language(context))


@pass_context
def datetime(context, value) -> str:
    """A stored moment in the user's time zone: "Mar 1, 2026, 3:04 PM"."""
    render = context.parent
    if "render_language" not in render:
        return values.format_datetime(value, current_language(), current_timezone())
    return values.format_datetime(value, render["render_language"], render["render_timezone"])


def ago(value) -> str:
    """How long ago: "just now", "7 minutes ago", "3 days ago"."""
    return values.format_ago(value, utcnow(), current_language()) or _("just now")


@pass_context
def activity_summary(context, item) -> str:
    """An activity's (or notification's) stored sentence in the reader's language."""
    return activity_text.summary(item.summary, _language(context), _say(context))


@pass_context
def activity_value(context, text, summary=None) -> str | None:
    """An activity's before/after value in the reader's language; `summary`: its entry's."""
    return activity_text.value(text, _language(context), _say(context), summary)


@pass_context
def card_texts(context, cards) -> zip:
    """A board column's cards as the card template writes them (autoescape off): each
    card's fields in its order, the texts people typed escaped (a missing one is ""),
    the amount and date formatted. A few calls a column: a field at a time, it was ~12
    calls a card.
    """
    if not cards:
        return zip()
    ids, names, amounts, close_dates, owners, stage_ids, shared_with = zip(*cards, strict=True)
    language = _language(context)
    n = len(ids)
    texts = escape_all(names + owners + shared_with)
    return zip(
        ids,
        texts[:n],
        values.format_amounts(amounts, language),
        values.format_dates(close_dates, language),
        texts[n : 2 * n],
        stage_ids,
        texts[2 * n :],
        strict=True,
    )


# A board card's words (deals/_board_card.html).
_CARD_WORDS = (
    _l("Amount"),
    _l("Close date"),
    _l("Deal owner"),
    _l("Shared with"),
    _l("Move to stage"),
    _l("Show more"),
)


class BoardFrame(NamedTuple):
    """What every card and "Show more" of a board share, as HTML: the card's words in
    the request's language, and the addresses back to the board (escaped). Worked out
    once per render (`board_frame`), not once per column: it was ~80 Python calls a
    column."""

    amount: Markup
    close_date: Markup
    owner: Markup
    shared_with: Markup
    move_to: Markup
    show_more: Markup
    query: Markup  # "?<the board's query>", or "": a card's move page keeps it
    deals_url: Markup  # the deals index: a card links to <deals_url>/<id>
    more_url: Markup  # "Show more": <more_url>stage=<id>&amp;offset=<shown>


@functools.cache
def _card_words(language: str) -> tuple[Markup, ...]:
    """The card's words in `language` (the request's): looked up once per language.
    As the templates show any word of the catalog's: the translators' text, unescaped."""
    return tuple(Markup(str(word)) for word in _CARD_WORDS)  # noqa: S704


@pass_context
def board_frame(context, state) -> BoardFrame:
    """The `BoardFrame` of the board `state` shows."""
    query = state.query()
    more_url = url_for("board.more") + "?" + (query + "&" if query else "")
    return BoardFrame(
        *_card_words(_language(context)),
        query=escape("?" + query) if query else Markup(""),
        deals_url=escape(url_for("deals.index")),
        more_url=escape(more_url),
    )


def _texts(texts, language) -> list[str]:
    return escape_all(texts)


def _texts_or_missing(texts, language) -> list[str]:
    return [text or values.MISSING for text in escape_all(texts)]


def _as_they_are(numbers, language) -> list:
    return numbers


# How the deals table (deals/_results.html) writes each column's values, a column at a
# time: escaped texts ("—" for none where one may be missing), formatted amounts and
# dates, counts as they are.
_TABLE_COLUMN_TEXTS = {
    "name": _texts,
    "stage": _texts,
    "pipeline": _texts,
    "company": _texts_or_missing,
    "owner": _texts_or_missing,
    "shared_with": _texts_or_missing,
    "amount": values.format_amounts,
    "close_date": values.format_dates,
    "created_at": values.format_dates,
    "active_registrations": _as_they_are,
}


@pass_context
def table_cells(context, rows, keys) -> list[tuple[int, tuple[tuple[str, str], ...]]]:
    """The deals table's rows as its template writes them (autoescape off): each row's
    id and its (column key, text) cells in the columns' order. A column at a time, as
    `card_texts`: a cell at a time, a row of ten cells was ~40 calls.
    """
    if not rows:
        return []
    language = _language(context)
    columns = []
    for key in keys:
        texts = _TABLE_COLUMN_TEXTS[key]([getattr(row, key) for row in rows], language)
        columns.append(tuple(zip(itertools.repeat(key), texts, strict=False)))
    return list(zip([row.id for row in rows], zip(*columns, strict=True), strict=True))


def escape_all(texts: Sequence[str | None]) -> list[str]:
    """`markupsafe.escape` of each text, as plain strings; None is "".

    One call of `escape` for all of them: it is two Python calls a text, and a board
    column has 60. They are escaped joined by NUL, which `escape` leaves alone and no text
    should hold (the app refuses a request with one); should one hold it, each is
    escaped alone.
    """
    plain = [text or "" for text in texts]
    joined = "\0".join(plain)
    if joined.count("\0") != len(plain) - 1:
        return [str(escape(text)) for text in plain]
    return str(escape(joined)).split("\0")  # plain strings, not Markup


def initials(name) -> str:
    """The letters of an avatar: "Alice Martin" -> "AM" (a blank name: "?")."""
    return "".join(part[0].upper() for part in (name or "?").split()[:2])


@pass_context
def count(context, value) -> str:
    """A whole number with grouping: "1,234"."""
    return values.format_count(value, _language(context))


def _layout_globals() -> dict:
    def unread_notification_count():
        # A function, so only pages that show the bell pay for the count query.
        return notifications.unread_for_bell(current_user)

    return {
        "htmx_version": current_app.config["HTMX_VERSION"],
        "unread_notification_count": unread_notification_count,
        "notifications_poll_seconds": current_app.config.get("NOTIFICATIONS_POLL_SECONDS", 30),
    }
