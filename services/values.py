"""The one parser and formatter of amounts and dates, in the user's language.

Amounts and dates are *read* strictly: what is ambiguous or malformed in the
user's language is refused with a message that shows the expected form, never
guessed ("1500,50" is 1500.50 in French and refused in English; "1,500" is
1500 in English and refused in French). They are *written* with Babel's CLDR
data: "1,500.50" and "Dec 11, 2026" in English, "1 500,50" and "11 déc. 2026"
in French.

Next to the human forms there is one language-neutral form of each value (the
*canonical* form: "1500.50", "2026-12-11"), used wherever a value travels
between requests — URLs, saved views, the `original` of an edit form — so a
view saved in French opens the same in English.

Every function takes the locale explicitly ("en", "fr"): services have no
request. The web layer passes the current user's.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from babel import Locale
from babel.dates import (
    DateTimePattern,
    get_datetime_format,
    get_time_format,
    parse_pattern,
)
from babel.dates import format_date as babel_format_date
from babel.dates import format_timedelta as babel_format_timedelta
from babel.numbers import format_decimal as babel_format_decimal

from catalog import gettext as _
from services.errors import Invalid

DEFAULT_LOCALE = "en"
# deals.amount is NUMERIC(14, 2): twelve digits before the point, two after.
MAX_AMOUNT = Decimal("999999999999.99")
CENT = Decimal("0.01")
# What both databases and Python's date arithmetic (a day either side) accept, with room.
MIN_DATE = date(1900, 1, 1)
MAX_DATE = date(2999, 12, 31)
MAX_INPUT = 40  # characters: longer than any amount or date anyone types
MISSING = "—"
# Formatted amounts, counts and dates kept per language and process (each cache below): an
# entry is ~0.3 KB. Over 9,000 requests of the bench's soak mix (bench/memory_soak.py), an
# LRU of 1,024 would have hit 99.1 % of amount look-ups, one of 4,096 99.2 %; dates and
# counts lose nothing at 1,024.
FORMATTED_KEPT = 1024

# Group separators people type in French: a space, a no-break space, a narrow one (CLDR's).
_FRENCH_SPACES = " \u00a0\u202f"
_AMOUNT_PATTERNS = {
    # Either plain digits or correctly grouped thousands, then decimals (at most two are kept).
    "en": re.compile(r"(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d+))?"),
    "fr": re.compile(rf"(?:\d{{1,3}}(?:[{_FRENCH_SPACES}]\d{{3}})+|\d+)(?:,(\d+))?"),
}
_DATE_PATTERNS = {
    # The locale's numeric order, four-digit years only (two-digit years are guesses).
    "en": (re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})"), ("month", "day", "year")),
    "fr": (re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})"), ("day", "month", "year")),
}
_LANGUAGES = {code: code for code in _AMOUNT_PATTERNS}
_ISO_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_CANONICAL_AMOUNT = re.compile(r"\d{1,12}(?:\.\d{1,2})?")


def language(locale) -> str:
    """The language part of a locale ("fr_FR", Babel's Locale("fr") -> "fr"), one we know."""
    if type(locale) is str and locale in _LANGUAGES:
        return _LANGUAGES[locale]  # already a language of ours: every value a page formats
    code = str(locale or DEFAULT_LOCALE).replace("-", "_").split("_")[0].lower()
    # Our own string, not `code` (a new one each call): the formatting caches keep it in keys.
    return _LANGUAGES.get(code, DEFAULT_LOCALE)


# ---------------------------------------------------------------- ids

# Ids are positive and fit the tables' INTEGER keys (32-bit on PostgreSQL); anything else
# cannot name a row, and a larger number would make PostgreSQL refuse the query.
MAX_ID = 2**31 - 1


def parse_id(text) -> int | None:
    """A posted id as an int within 1..MAX_ID, or None when it cannot be one."""
    text = str(text if text is not None else "").strip()
    if not text.isascii() or not text.isdigit() or len(text) > 10:
        return None
    number = int(text)
    return number if 1 <= number <= MAX_ID else None


# ---------------------------------------------------------------- amounts


def amount_example(locale=DEFAULT_LOCALE) -> str:
    """How an amount is typed in this language: "1,500.50" or "1 500,50"."""
    return format_amount(Decimal("1500.50"), locale, grouping_space=" ")


def _refuse_amount(locale) -> Invalid:
    plain = format_amount_input(Decimal("1500.50"), locale)
    return Invalid(
        _(
            "Enter an amount like %(example)s or %(plain)s.",
            example=amount_example(locale),
            plain=plain,
        )
    )


def parse_amount(text: str | None, locale=DEFAULT_LOCALE) -> Decimal | None:
    """The amount typed in `text` in the user's language; None when blank. Raises Invalid.

    Never rounds: more than two decimals, a negative amount or one past the
    column's limit is refused, like anything ambiguous in this language.
    """
    text = (text or "").strip()
    if not text:
        return None
    lang = language(locale)
    match = _AMOUNT_PATTERNS[lang].fullmatch(text) if len(text) <= MAX_INPUT else None
    if match is None:
        if text.startswith("-"):
            raise Invalid(_("The amount cannot be negative."))
        raise _refuse_amount(lang)
    if match.group(1) and len(match.group(1)) > 2:
        raise Invalid(
            _("Use at most two decimals, like %(example)s.", example=amount_example(lang))
        )
    if lang == "fr":
        digits = text.translate({ord(c): None for c in _FRENCH_SPACES}).replace(",", ".")
    else:
        digits = text.replace(",", "")
    return _within_limit(Decimal(digits))


def parse_canonical_amount(text: str | None) -> Decimal | None:
    """An amount in the language-neutral form of URLs and views ("1500.50"). Raises Invalid."""
    text = (text or "").strip()
    if not text:
        return None
    if len(text) > MAX_INPUT or not _CANONICAL_AMOUNT.fullmatch(text):
        raise Invalid(_("Enter an amount like %(example)s.", example="1500.50"))
    return _within_limit(Decimal(text))


def _within_limit(amount: Decimal) -> Decimal:
    if amount > MAX_AMOUNT:
        raise Invalid(_("The amount is at most %(max)s.", max=format_amount(MAX_AMOUNT)))
    return amount.quantize(CENT)


def canonical_amount(amount: Decimal | None) -> str:
    """The language-neutral form: "1500.50"; "" for no amount."""
    return "" if amount is None else f"{amount:.2f}"


def format_amount(amount: Decimal | None, locale=DEFAULT_LOCALE, grouping_space=None) -> str:
    """An amount as people read it: "1,500.50" / "1 500,50" (always two decimals); "—" if none."""
    if amount is None:
        return MISSING
    text = _formatted_amount(str(amount), language(locale))
    return text.replace("\u202f", grouping_space) if grouping_space else text


def format_amounts(amounts: Iterable[Decimal | None], locale=DEFAULT_LOCALE) -> list[str]:
    """`format_amount` of each amount, in one call: a board column formats 20 at once, and
    two calls an amount were a tenth of its cards' calls."""
    lang = language(locale)
    return [
        MISSING if amount is None else _formatted_amount(str(amount), lang) for amount in amounts
    ]


@functools.lru_cache(maxsize=FORMATTED_KEPT)
def _formatted_amount(amount: str, lang: str) -> str:
    """An amount, given as its `Decimal`'s text ("306500.00"), formatted in `lang`.

    Cached: Babel parses the pattern on every call (~25 µs), and a board shows a few
    hundred amounts. Keyed by the text, which gives the `Decimal` back exactly: hashing
    a `Decimal` with cents takes a modular power (~5,000 instructions, 0.7 M a board),
    its text a few hundred.
    """
    return babel_format_decimal(Decimal(amount), format="#,##0.00", locale=lang)


def format_amount_input(amount: Decimal | None, locale=DEFAULT_LOCALE) -> str:
    """An amount as an edit box shows it, easy to retype: "1500.50" / "1500,50"."""
    if amount is None:
        return ""
    return babel_format_decimal(amount, format="0.00", locale=language(locale))


def format_count(number: int, locale=DEFAULT_LOCALE) -> str:
    """A whole number with the language's grouping: "1,234" / "1 234"."""
    return _formatted_count(number, language(locale))


@functools.lru_cache(maxsize=FORMATTED_KEPT)
def _formatted_count(number: int, lang: str) -> str:
    # The index's summary, pager and tabs format a few counts a request, each a Babel
    # pattern parse (~0.2 ms under load): cProfile put them at a tenth of the rendering.
    return babel_format_decimal(number, locale=lang)


# ---------------------------------------------------------------- dates


def date_example(locale=DEFAULT_LOCALE) -> str:
    """How a date is typed in this language, besides the ISO form: "12/31/2026", "31/12/2026"."""
    return "31/12/2026" if language(locale) == "fr" else "12/31/2026"


def parse_date(text: str | None, locale=DEFAULT_LOCALE) -> date | None:
    """The date in `text`: ISO (what date inputs send) or the language's numeric form.

    None when blank. Raises Invalid for anything else, or a date outside
    MIN_DATE..MAX_DATE.
    """
    text = (text or "").strip()
    if not text:
        return None
    parts = _date_parts(text, language(locale))
    if parts is None:
        raise Invalid(
            _(
                "Enter a date like %(example)s or %(iso)s.",
                example=date_example(locale),
                iso="2026-12-31",
            )
        )
    return _valid_date(*parts)


def parse_canonical_date(text: str | None) -> date | None:
    """A date in the language-neutral form of URLs and saved views (ISO). Raises Invalid."""
    text = (text or "").strip()
    if not text:
        return None
    match = _ISO_DATE.fullmatch(text) if len(text) == 10 else None
    if match is None:
        raise Invalid(_("Enter a date like %(example)s.", example="2026-12-31"))
    return _valid_date(*(int(part) for part in match.groups()))


def _date_parts(text: str, lang: str) -> tuple[int, int, int] | None:
    if len(text) > MAX_INPUT:
        return None
    iso = _ISO_DATE.fullmatch(text)
    if iso:
        return tuple(int(part) for part in iso.groups())
    pattern, order = _DATE_PATTERNS[lang]
    match = pattern.fullmatch(text)
    if match is None:
        return None
    named = dict(zip(order, (int(part) for part in match.groups()), strict=True))
    return named["year"], named["month"], named["day"]


def _valid_date(year: int, month: int, day: int) -> date:
    try:
        value = date(year, month, day)
    except ValueError:
        raise Invalid(_("That day does not exist.")) from None
    if not MIN_DATE <= value <= MAX_DATE:
        raise Invalid(
            _(
                "Enter a date between %(first)s and %(last)s.",
                first=MIN_DATE.year,
                last=MAX_DATE.year,
            )
        )
    return value


def canonical_date(value: date | None) -> str:
    """The language-neutral form: "2026-12-11"; "" for no date."""
    return value.isoformat() if value else ""


def format_date(value: date | datetime | None, locale=DEFAULT_LOCALE) -> str:
    """A date as people read it: "Dec 11, 2026" / "11 déc. 2026"; "—" if none."""
    if value is None:
        return MISSING
    if isinstance(value, datetime):
        value = value.date()
    return _formatted_date(value, language(locale))


def format_dates(dates: Iterable[date | datetime | None], locale=DEFAULT_LOCALE) -> list[str]:
    """`format_date` of each date, in one call (as `format_amounts`)."""
    lang = language(locale)
    return [
        MISSING
        if value is None
        else _formatted_date(value.date() if isinstance(value, datetime) else value, lang)
        for value in dates
    ]


@functools.lru_cache(maxsize=FORMATTED_KEPT)
def _formatted_date(value: date, lang: str) -> str:
    # A list repeats its dates; Babel's pattern work is ~10 µs a call.
    return babel_format_date(value, format="medium", locale=lang)


def format_datetime(value: datetime | None, locale=DEFAULT_LOCALE, tzinfo=None) -> str:
    """A stored (naive UTC) moment in the user's time zone: "Dec 11, 2026, 3:04 PM"."""
    if value is None:
        return MISSING
    moment = _as_utc(value).astimezone(tzinfo) if tzinfo else _as_utc(value)
    lang = language(locale)
    return _datetime_glue(lang).format(
        _formatted_time(moment.hour, moment.minute, lang), _formatted_date(moment.date(), lang)
    )


@functools.cache  # one entry per language
def _datetime_glue(lang: str) -> str:
    """How the language puts a medium date and a short time together: "{1}, {0}"."""
    return get_datetime_format("medium", locale=lang)


@functools.lru_cache(maxsize=FORMATTED_KEPT)
def _formatted_time(hour: int, minute: int, lang: str) -> str:
    # A short time is the hour and the minute alone: 1,440 of them a language. The
    # Activity formats a moment a row; Babel's pattern work was 17 µs each, parsed once.
    pattern, babel_locale = _time_pattern(lang)
    return pattern.apply(time(hour, minute), babel_locale)


@functools.cache  # one entry per language
def _time_pattern(lang: str) -> tuple[DateTimePattern, Locale]:
    return parse_pattern(get_time_format("short", locale=lang).pattern), Locale.parse(lang)


def format_ago(value: datetime, now: datetime, locale=DEFAULT_LOCALE) -> str | None:
    """How long ago, in words: "7 minutes ago" / "il y a 7 minutes"; None under a minute."""
    delta = now - value
    if delta < timedelta(minutes=1):
        return None  # the caller says "just now" in its own words
    return babel_format_timedelta(
        -delta, granularity="minute", add_direction=True, locale=language(locale)
    )


def _as_utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)
