"""The shared notes of a shared deal: intro note, specific pain/opportunity, next steps.

Both parties edit them; every change is one activity row (before -> after). Like the
deal's own fields, an edit carries the text it started from and never overwrites a
change someone else made meanwhile (`errors.Conflict`).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm.attributes import set_committed_value

from catalog import gettext as _
from catalog import lazy_gettext as _l
from models import SharedDeal, User
from services.changes import shared_deal_change
from services.errors import Conflict, Invalid
from services.rows import update_rows

MAX_NOTE = 5000


@dataclass(frozen=True)
class Note:
    key: str  # the SharedDeal column
    label: str
    noun: str  # as the activity says it: "changed the next steps"


NOTES = {
    n.key: n
    for n in (
        Note("intro_note", _l("Intro note"), "intro note"),
        Note("pain_or_opportunity", _l("Specific pain/opportunity defined"), "pain/opportunity"),
        Note("next_steps", _l("Next steps"), "next steps"),
    )
}


def note(key: str) -> Note | None:
    """The note called `key`, or None: the allow-list of what a form may change."""
    return NOTES.get(key)


def update(shared: SharedDeal, actor: User, key: str, text: str, original: str | None) -> bool:
    """Replace one note's text. Commits with its activity row; returns whether it changed.

    Raises Conflict when the stored text is no longer `original`, Invalid for a
    too-long text; nothing is written then.
    """
    spec = note(key)
    if spec is None:
        raise Invalid(_("That note does not exist."))
    text = (text or "").replace("\r\n", "\n").strip()
    if len(text) > MAX_NOTE:
        raise Invalid(_("Use at most %(num)s characters.", num=MAX_NOTE), key)
    with shared_deal_change(shared, actor) as change:
        current = getattr(change.shared, spec.key) or ""  # spec comes from the allow-list above
        if original is not None and original.replace("\r\n", "\n").strip() != current:
            raise Conflict(spec.label, current or "—")
        if text == current:
            return False
        # The row by the table's UPDATE, and the object told it holds the text, unchanged
        # for the session (rows.update_rows).
        update_rows(SharedDeal, [change.shared.id], {spec.key: text})
        set_committed_value(change.shared, spec.key, text)
        change.record(
            "note", f"changed the {spec.noun}", before=current or None, after=text or None
        )
    return True
