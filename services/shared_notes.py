"""The shared notes of a shared deal: intro note, specific pain/opportunity, next steps.

Both parties edit them; every change is one activity row (before -> after). Like the
deal's own fields, an edit carries the text it started from and never overwrites a
change someone else made meanwhile (`deal_fields.Conflict`).
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from extensions import db
from models import SharedDeal, User
from services import activity, team
from services.deal_fields import Conflict
from services.errors import Forbidden, Invalid

MAX_NOTE = 5000


@dataclass(frozen=True)
class Note:
    key: str  # the SharedDeal column
    label: str
    noun: str  # as the activity says it: "changed the next steps"


NOTES = {
    n.key: n
    for n in (
        Note("intro_note", "Intro note", "intro note"),
        Note("pain_or_opportunity", "Specific pain/opportunity defined", "pain/opportunity"),
        Note("next_steps", "Next steps", "next steps"),
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
        raise Invalid("That note does not exist.")
    if actor.account_id not in (shared.partner_account_id, shared.vendor_account_id):
        raise Forbidden("Only the two parties of a shared deal may change its notes.")
    text = (text or "").replace("\r\n", "\n").strip()
    if len(text) > MAX_NOTE:
        raise Invalid(f"Use at most {MAX_NOTE:,} characters.", key)
    try:
        team.lock(shared)
        column = getattr(SharedDeal, spec.key)  # spec comes from the allow-list above
        current = db.session.scalar(sa.select(column).where(SharedDeal.id == shared.id)) or ""
        if original is not None and original.replace("\r\n", "\n").strip() != current:
            raise Conflict(spec.label, current or "—")
        if text == current:
            db.session.rollback()
            return False
        db.session.execute(
            sa.update(SharedDeal).where(SharedDeal.id == shared.id).values({spec.key: text})
        )
        activity.record(
            shared,
            actor,
            "note",
            f"changed the {spec.noun}",
            before=current or None,
            after=text or None,
        )
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return True
