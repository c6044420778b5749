"""services/activity_text.py: the history, stored in English, said in the reader's language."""

from datetime import date, datetime
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from services import activity_text, values

AMOUNTS = st.decimals(min_value=0, max_value=values.MAX_AMOUNT, places=2)
DATES = st.dates(min_value=values.MIN_DATE, max_value=values.MAX_DATE)


@given(before=AMOUNTS, after=AMOUNTS)
def test_an_amount_change_reads_in_the_reader_s_form(app, before, after):
    """The history stores the amounts as English readers see them ("306,500.00")."""
    with app.test_request_context():
        for amount in (before, after):
            stored = values.format_amount(amount, "en")
            for lang in ("fr", "en"):
                said = activity_text.value(stored, lang, summary="changed the amount")
                assert said == values.format_amount(amount, lang)


@given(day=DATES)
def test_a_close_date_change_reads_in_the_reader_s_form(app, day):
    with app.test_request_context():
        stored = values.format_date(day, "en")
        for lang in ("fr", "en"):
            said = activity_text.value(stored, lang, summary="changed the close date")
            assert said == values.format_date(day, lang)


@given(text=st.text(max_size=40))
def test_other_values_and_unreadable_ones_are_shown_as_stored(app, text):
    """A name that looks like an amount stays a name; a value the field's form cannot
    read (older history, "—") is shown as it was written."""
    with app.test_request_context():
        assert activity_text.value(text, "fr", summary="changed the deal name") in (
            text,
            activity_text.value(text, "fr"),  # a status or registration wording
        )
        said = activity_text.value(text, "fr", summary="changed the amount")
        assert said == text or said == values.format_amount(values.parse_amount(text), "fr")
        said = activity_text.value(text, "fr", summary="changed the close date")
        if said != text:  # an English medium date, read here by the C locale's names
            assert said == values.format_date(datetime.strptime(text, "%b %d, %Y").date(), "fr")


def test_examples_in_french(app):
    with app.test_request_context():
        amount = activity_text.value("306,500.00", "fr", summary="changed the amount")
        assert amount == values.format_amount(Decimal("306500"), "fr") == "306\u202f500,00"
        day = activity_text.value("Dec 5, 2026", "fr", summary="changed the close date")
        assert day == values.format_date(date(2026, 12, 5), "fr") == "5 déc. 2026"
        assert activity_text.value("1,500.00", "fr", summary="changed the deal name") == "1,500.00"
        assert activity_text.value("—", "fr", summary="changed the amount") == "—"
        assert activity_text.value("Feb 30, 2026", "fr", summary="changed the close date") == (
            "Feb 30, 2026"
        )
