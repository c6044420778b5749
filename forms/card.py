"""The "Shared deal" card: deal team, product interest, shared notes, registrations.

The team and product forms say what the user's form *showed* (`original_…`) as
well as what they chose, so the service applies only this user's changes to
the set as it is now: two people saving at once both keep theirs.
"""

from __future__ import annotations

from collections.abc import Callable

from wtforms import HiddenField, TextAreaField
from wtforms.validators import DataRequired, Length

from catalog import lazy_gettext as _l
from forms.base import Form
from forms.fields import DateField, IdListField
from services.product_interest import CHOOSE_PRODUCTS
from services.registration_requests import MAX_MESSAGE, REASON_REQUIRED
from services.shared_notes import MAX_NOTE
from services.team import NOT_YOUR_USERS


def _normalise_text(text):
    # Browsers post CRLF; what is stored and compared is LF, without outer blanks.
    return text.replace("\r\n", "\n").strip() if isinstance(text, str) else text


class TeamForm(Form):
    members = IdListField(message=NOT_YOUR_USERS)
    original_members = IdListField(message=NOT_YOUR_USERS)

    def added(self) -> set[int]:
        return self.members.data - self.original_members.data

    def removed(self) -> set[int]:
        return self.original_members.data - self.members.data


class ProductsForm(Form):
    products = IdListField(message=CHOOSE_PRODUCTS)
    original_products = IdListField(message=CHOOSE_PRODUCTS)

    def changes(self, current: Callable[[], set[int]]) -> tuple[set[int], set[int]]:
        """(added, removed): against what the form showed, or `current()` if it did not say.

        The form always posts `original_products` (an empty marker at least); a post
        without it is someone's own client, whose choice is the whole new set.
        """
        showed = self.original_products.data if self.original_products.raw_data else current()
        chosen = self.products.data
        return chosen - showed, showed - chosen


class NoteForm(Form):
    text = TextAreaField(
        filters=[_normalise_text],
        validators=[
            Length(max=MAX_NOTE, message=_l("Use at most %(num)s characters.", num=MAX_NOTE))
        ],
    )
    original = HiddenField(filters=[_normalise_text])

    def original_value(self) -> str | None:
        return self.original.data


class RegistrationForm(Form):
    expires_on = DateField(_l("Expiry date (optional)"))


_MESSAGE_LENGTH = Length(
    max=MAX_MESSAGE, message=_l("Use at most %(num)s characters.", num=MAX_MESSAGE)
)


class RegistrationRequestForm(Form):
    message = TextAreaField(
        _l("Message (optional)"), filters=[_normalise_text], validators=[_MESSAGE_LENGTH]
    )


class ApproveForm(Form):
    expires_on = DateField(_l("Expiry date (optional)"))


class DeclineForm(Form):
    reason = TextAreaField(
        _l("Reason"),
        filters=[_normalise_text],
        validators=[DataRequired(REASON_REQUIRED), _MESSAGE_LENGTH],
    )
