"""Saved views of the deals index: save, rename, save changes.

`query` is the index's state the form was posted from (a hidden field the
results fragment keeps current); `view` the tab it was posted from.
"""

from __future__ import annotations

from wtforms import HiddenField, RadioField, StringField
from wtforms.fields.choices import SelectChoice

from catalog import lazy_gettext as _l
from forms.base import Form
from models import VIEW_VISIBILITIES
from services.saved_views import VISIBILITY_LABELS


def _strip(text):
    return text.strip() if isinstance(text, str) else text


class _ViewStateForm(Form):
    query = HiddenField()
    view = HiddenField(filters=[_strip])


class SaveViewForm(_ViewStateForm):
    # Name and visibility rules (blank, length, taken) are the service's: one message each.
    name = StringField(_l("View name"))
    visibility = RadioField(
        _l("Who can see it"),
        choices=[SelectChoice(value, VISIBILITY_LABELS[value]) for value in VIEW_VISIBILITIES],
        validate_choice=False,  # the service says "Choose who can see the view."
    )


class RenameViewForm(SaveViewForm):
    name = StringField(_l("New name"))

    def new_visibility(self) -> str | None:
        """The visibility posted, or None: keep the view's."""
        return self.visibility.data if self.visibility.raw_data else None


class UpdateViewForm(_ViewStateForm):
    """Save changes: the owner's view keeps the index's current state."""
