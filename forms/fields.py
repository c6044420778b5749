"""Form fields for the values this app reads: amounts, dates, ids and lists of ids.

Each turns the posted text into a typed value through `services.values` (amounts
and dates, in the user's language) or a bounded integer (ids), and reports
anything else as the field's error, before any view or service sees it.
"""

from __future__ import annotations

from wtforms import Field, SelectField, StringField
from wtforms.widgets import HiddenInput, TextInput

from catalog import lazy_gettext as _l
from i18n import current_language
from services import values
from services.errors import Invalid
from services.values import parse_id

CHOOSE_FROM_LIST = _l("Choose from the list.")


class _TypedField(StringField):
    """A text box whose text is parsed into `data`; the typed text is shown back as typed."""

    parse = None  # (text, language) -> value, raising Invalid
    show = None  # (value, language) -> text

    def process_formdata(self, valuelist):
        self.raw_data = valuelist
        self.typed = valuelist[0] if valuelist else ""
        if self.typed is None:
            self.typed = ""
        self.data = None
        try:
            self.data = type(self).parse(self.typed, current_language())
        except Invalid as error:
            raise ValueError(error.message) from None

    def _value(self):
        typed = getattr(self, "typed", None)
        if typed is not None:
            return typed
        return type(self).show(self.data, current_language())


class AmountField(_TypedField):
    """An amount in the user's language ("1,500.50" / "1 500,50"); blank is None."""

    parse = staticmethod(values.parse_amount)
    show = staticmethod(values.format_amount_input)


class DateField(_TypedField):
    """A date: ISO (what a date input sends) or the language's numeric form; blank is None."""

    widget = TextInput(input_type="date")
    parse = staticmethod(values.parse_date)
    show = staticmethod(lambda value, _language: values.canonical_date(value))


class IdField(Field):
    """One id (a select's or a hidden field's value); blank is None.

    `message` is the error for text that cannot be an id of the choices.
    """

    widget = HiddenInput()

    def __init__(self, label=None, validators=None, message=CHOOSE_FROM_LIST, **kwargs):
        super().__init__(label, validators, **kwargs)
        self.message = message

    def process_formdata(self, valuelist):
        text = (valuelist[0] if valuelist else "") or ""
        self.raw_data = valuelist
        self.data = None
        if text.strip():
            self.data = parse_id(text)
            if self.data is None:
                raise ValueError(self.message)

    def _value(self):
        return "" if self.data is None else str(self.data)


class IdListField(Field):
    """Several ids under one name (checkboxes); an id that cannot be one is an error."""

    widget = HiddenInput()

    def __init__(self, label=None, validators=None, message=CHOOSE_FROM_LIST, **kwargs):
        super().__init__(label, validators, **kwargs)
        self.message = message

    def process_formdata(self, valuelist):
        self.raw_data = valuelist
        # Blank values are markers ("the form said this, and it was empty"), not ids.
        ids = {parse_id(text) for text in valuelist if (text or "").strip()}
        if None in ids:
            self.data = set()
            raise ValueError(self.message)
        self.data = ids

    def process_data(self, value):
        self.data = set(value or ())


class IdSelectField(SelectField):
    """A select whose options are ids; the service checks the id is one the user may pick."""

    def __init__(self, label=None, validators=None, message=CHOOSE_FROM_LIST, **kwargs):
        kwargs.setdefault("validate_choice", False)
        super().__init__(label, validators, coerce=_id_or_none, **kwargs)
        self.message = message

    def process_formdata(self, valuelist):
        text = (valuelist[0] if valuelist else "") or ""
        self.raw_data = valuelist
        self.data = None
        if text.strip():
            self.data = parse_id(text)
            if self.data is None:
                raise ValueError(self.message)


def _id_or_none(value):
    return value if isinstance(value, int) or value is None else parse_id(value)
