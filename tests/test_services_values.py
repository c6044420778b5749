"""services/values.py in both languages: what is shown, what is accepted, what is refused."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from babel.numbers import format_decimal
from hypothesis import given, settings
from hypothesis import strategies as st

from services import values
from services.errors import Invalid


@pytest.mark.parametrize(
    ("text", "locale", "expected"),
    [
        ("1,500.50", "en", Decimal("1500.50")),
        ("1500.50", "en", Decimal("1500.50")),
        ("1,500", "en", Decimal("1500.00")),
        ("1 500,50", "fr", Decimal("1500.50")),
        ("1\u202f500,50", "fr", Decimal("1500.50")),
        ("1\u00a0500,50", "fr", Decimal("1500.50")),
        ("1500,50", "fr", Decimal("1500.50")),
        ("1500", "fr", Decimal("1500.00")),
        ("  ", "fr", None),
    ],
)
def test_amounts_typed_the_language_s_way_are_read(text, locale, expected):
    assert values.parse_amount(text, locale) == expected


@pytest.mark.parametrize(
    ("text", "locale"),
    [
        ("1500,50", "en"),  # a French decimal comma: ambiguous in English
        ("1.500,50", "en"),
        ("1,50", "en"),
        ("1,500", "fr"),  # an English grouping comma: 1.5 or 1500?
        ("1.500,50", "fr"),
        ("1500.50", "fr"),
        ("15 00,50", "fr"),
        ("1,500.505", "en"),
        ("-5", "en"),
        ("abc", "fr"),
    ],
)
def test_ambiguous_or_malformed_amounts_are_refused(text, locale):
    with pytest.raises(Invalid):
        values.parse_amount(text, locale)


def test_the_refusal_shows_the_expected_form():
    with pytest.raises(Invalid) as english:
        values.parse_amount("1500,50", "en")
    assert "1,500.50" in str(english.value) and "1500.50" in str(english.value)
    with pytest.raises(Invalid) as french:
        values.parse_amount("1,500", "fr")
    assert "1 500,50" in str(french.value)


def test_amounts_are_shown_the_language_s_way():
    assert values.format_amount(Decimal("1500.5"), "en") == "1,500.50"
    assert values.format_amount(Decimal("1500.5"), "fr") == "1\u202f500,50"
    assert values.format_amount_input(Decimal("1500.5"), "fr") == "1500,50"
    assert values.format_amount(None, "fr") == "—"
    assert values.format_count(1234, "fr") == "1\u202f234"


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(
        st.decimals(min_value=-(10**13), max_value=10**13, places=2),
        st.decimals(min_value=-(10**13), max_value=10**13, allow_nan=False),
    )
)
def test_an_amount_reads_as_babel_formats_it(amount):
    # The cache keeps an amount by its text: the same amount written otherwise
    # ("1500.5", "1500.50", "1.5E+3") still reads the same.
    for locale in ("en", "fr"):
        expected = format_decimal(amount, format="#,##0.00", locale=locale)
        assert values.format_amount(amount, locale) == expected
        assert values.format_amounts([amount, amount.normalize()], locale) == [expected] * 2


def test_many_amounts_and_dates_at_once_read_as_one_at_a_time():
    amounts = [Decimal("1500.5"), None, Decimal("0"), Decimal("-12.345")]
    moments = [date(2026, 12, 11), None, datetime(2026, 3, 1, 23, 59)]
    for locale in ("en", "fr_FR", "de"):
        assert values.format_amounts(amounts, locale) == [
            values.format_amount(a, locale) for a in amounts
        ]
        assert values.format_dates(moments, locale) == [
            values.format_date(d, locale) for d in moments
        ]
    assert values.format_amounts([], "fr") == values.format_dates((), "fr") == []


def test_a_locale_s_language_is_one_shared_string():
    # The formatting caches keep the language in every key: one string, not one per call.
    assert values.language("fr_FR") is values.language("FR") is values.language("fr-CA")
    assert values.language("de") is values.language(None) is values.DEFAULT_LOCALE
    assert values.language("fr") is values.language("fr_FR") and values.language("en") == "en"


def test_dates_in_both_languages():
    assert values.format_date(date(2026, 12, 11), "en") == "Dec 11, 2026"
    assert values.format_date(date(2026, 12, 11), "fr") == "11 déc. 2026"
    assert values.parse_date("31/12/2026", "fr") == date(2026, 12, 31)
    assert values.parse_date("12/31/2026", "en") == date(2026, 12, 31)
    assert values.parse_date("2026-12-31", "fr") == date(2026, 12, 31)
    with pytest.raises(Invalid):
        values.parse_date("31/12/2026", "en")  # no 31st month
    with pytest.raises(Invalid):
        values.parse_date("11 déc. 2026", "fr")


def test_moments_are_shown_in_the_time_zone():
    from zoneinfo import ZoneInfo

    moment = datetime(2026, 12, 11, 23, 30)  # stored naive UTC
    assert values.format_datetime(moment, "fr", ZoneInfo("Europe/Paris")).startswith("12 déc. 2026")
    assert values.format_datetime(moment, "en").startswith("Dec 11, 2026")


def test_a_moment_reads_as_babel_writes_its_date_and_time():
    from zoneinfo import ZoneInfo

    from babel.dates import format_date, format_time

    moment = datetime(2026, 12, 11, 23, 30)  # stored naive UTC
    assert values.format_datetime(moment, "en") == "Dec 11, 2026, 11:30\u202fPM"
    assert values.format_datetime(moment, "fr", ZoneInfo("Europe/Paris")) == "12 déc. 2026, 00:30"
    # The pattern is parsed once per language; each moment is still its own date and time.
    for lang, zone in [("en", "America/New_York"), ("fr", "Asia/Tokyo")]:
        for hours in range(0, 24 * 400, 37):
            local = (moment + timedelta(hours=hours)).replace(tzinfo=UTC)
            local = local.astimezone(ZoneInfo(zone))
            expected = f"{format_date(local, 'medium', locale=lang)}, "
            expected += format_time(local, "short", locale=lang)
            shown = values.format_datetime(moment + timedelta(hours=hours), lang, ZoneInfo(zone))
            assert shown == expected


@given(
    moment=st.datetimes(min_value=datetime(1900, 1, 2), max_value=datetime(2999, 12, 30)),
    lang=st.sampled_from(["en", "fr"]),
    zone=st.sampled_from(
        [None, "Europe/Paris", "America/New_York", "Asia/Kolkata", "Pacific/Chatham"]
    ),
)
def test_any_moment_reads_as_babel_writes_it_whole(moment, lang, zone):
    """The date and the time, each formatted once and kept, glued as the language does:
    what Babel's own medium date and short time give, in any time zone."""
    from zoneinfo import ZoneInfo

    from babel.dates import format_date, format_time, get_datetime_format

    tzinfo = ZoneInfo(zone) if zone else None
    local = moment.replace(tzinfo=UTC)
    local = local.astimezone(tzinfo) if tzinfo else local
    glue = get_datetime_format("medium", locale=lang)
    expected = glue.format(
        format_time(local, "short", locale=lang), format_date(local, "medium", locale=lang)
    )
    assert values.format_datetime(moment, lang, tzinfo) == expected
