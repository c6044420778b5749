"""The deal's own fields, edited one at a time: one small form per field.

Every form carries `original`: the field's value (its canonical form) when the
editor was shown, so the service can tell a concurrent change from this one.
`value()` is what the service receives.
"""

from __future__ import annotations

from wtforms import HiddenField, StringField
from wtforms.validators import DataRequired, InputRequired, Length

from catalog import lazy_gettext as _l
from forms.base import Form
from forms.fields import AmountField, DateField, IdField
from services import shared_deals as rules
from services.deal_fields import MAX_COMPANY
from services.deal_index import CARDS_PER_COLUMN
from services.values import parse_id

CHOOSE_OWNER = _l("Choose an active user of your account.")
CHOOSE_PIPELINE = _l("Choose a pipeline.")
CHOOSE_STAGE = _l("Choose a deal stage.")


def _strip(text):
    return text.strip() if isinstance(text, str) else text


class _FieldForm(Form):
    original = HiddenField()

    @classmethod
    def editing(cls, deal, original: str):
        """The editor as it opens: the deal's stored value, and `original` to send back."""
        form = cls(formdata=None, data=cls.initial(deal))
        form.original.data = original
        return form

    def original_value(self) -> str | None:
        """The value the editor started from; None when the form did not say (no check)."""
        return self.original.data


class NameForm(_FieldForm):
    name = StringField(
        _l("Deal name"),
        filters=[_strip],
        validators=[
            DataRequired(rules.ENTER_NAME),
            Length(max=rules.NAME_MAX, message=rules.NAME_TOO_LONG),
        ],
    )

    @staticmethod
    def initial(deal):
        return {"name": deal.name}

    def value(self):
        return self.name.data


class AmountForm(_FieldForm):
    amount = AmountField(_l("Amount"))

    @staticmethod
    def initial(deal):
        return {"amount": deal.amount}

    def value(self):
        return self.amount.data


class CloseDateForm(_FieldForm):
    close_date = DateField(_l("Close date"))

    @staticmethod
    def initial(deal):
        return {"close_date": deal.close_date}

    def value(self):
        return self.close_date.data


class CompanyForm(_FieldForm):
    company = StringField(
        _l("Company"),
        filters=[_strip],
        validators=[
            Length(max=MAX_COMPANY, message=_l("Use at most %(num)s characters.", num=MAX_COMPANY))
        ],
    )

    @staticmethod
    def initial(deal):
        return {"company": deal.company_name}

    def value(self):
        return self.company.data or ""


class OwnerForm(_FieldForm):
    owner = IdField(_l("Deal owner"), message=CHOOSE_OWNER)  # blank: no owner

    @staticmethod
    def initial(deal):
        return {"owner": deal.owner_id}

    def value(self):
        return self.owner.data


class StageForm(_FieldForm):
    stage = IdField(
        _l("Deal stage"), validators=[InputRequired(CHOOSE_STAGE)], message=CHOOSE_STAGE
    )

    @staticmethod
    def initial(deal):
        return {"stage": deal.stage_id}

    def value(self):
        return self.stage.data


class PipelineForm(StageForm):
    """A new pipeline takes a stage of it: both are posted together."""

    pipeline = IdField(
        _l("Pipeline"), validators=[InputRequired(CHOOSE_PIPELINE)], message=CHOOSE_PIPELINE
    )

    @staticmethod
    def initial(deal):
        return {"pipeline": deal.pipeline_id, "stage": deal.stage_id}

    def value(self):
        return self.pipeline.data, self.stage.data


FIELD_FORMS = {
    "name": NameForm,
    "amount": AmountForm,
    "close_date": CloseDateForm,
    "company": CompanyForm,
    "owner": OwnerForm,
    "stage": StageForm,
    "pipeline": PipelineForm,
}


class MoveForm(StageForm):
    """A board card's "Move to stage": the deal page's stage edit, from the board.

    `query` is the board's own query string (filters, pipeline, ...): where a
    plain post returns to, and what the board shows again after the move.
    `shown` is how many cards the board shows in the new column (app.js sends it).
    """

    query = HiddenField()
    shown = HiddenField()  # never an error: missing or bad, the board's first cards

    def shown_cards(self) -> int:
        """How many cards the new column shows: what app.js said, else the first ones."""
        return parse_id(self.shown.data) or CARDS_PER_COLUMN
