"""The deal team of a shared deal: users of both parties; each party manages only its own.

A save carries what the user changed (added and removed, relative to what their
dialog showed), never a whole new team: it is applied to the team as it is now,
so two people saving at the same moment both keep their changes.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import sqlalchemy as sa

from catalog import gettext as _
from catalog import lazy_gettext as _l
from extensions import db
from models import Account, DealTeamMember, SharedDeal, User
from services.changes import insert_on_conflict, shared_deal_change
from services.errors import Invalid

NOT_YOUR_USERS = _l("Choose active users of your own account.")


@dataclass(frozen=True)
class Member:
    """One team member as the card shows them."""

    user_id: int
    full_name: str
    account_id: int
    account_name: str
    account_kind: str
    active: bool


def members_of(shared: SharedDeal) -> list[Member]:
    """Every member of the team, both parties: the partner's first, then by name."""
    rows = db.session.execute(
        sa.select(User.id, User.full_name, Account.id, Account.name, Account.kind, User.active)
        .join(DealTeamMember, DealTeamMember.user_id == User.id)
        .join(Account, Account.id == User.account_id)
        .where(DealTeamMember.shared_deal_id == shared.id)
        .order_by(Account.kind, User.full_name, User.id)  # "partner" sorts before "vendor"
    )
    return [Member(*row) for row in rows]


def member_ids_of(shared: SharedDeal, account_id: int) -> set[int]:
    """Ids of the team members who belong to `account_id`."""
    return set(
        db.session.scalars(
            sa.select(DealTeamMember.user_id)
            .join(User, User.id == DealTeamMember.user_id)
            .where(DealTeamMember.shared_deal_id == shared.id, User.account_id == account_id)
        )
    )


def _names(team: list[Member]) -> str:
    return ", ".join(m.full_name for m in team) or "nobody"


def _summary(added_names: list[str], removed_names: list[str]) -> str:
    added, removed = ", ".join(added_names), ", ".join(removed_names)
    if added and removed:
        return f"changed the deal team: added {added}, removed {removed}"
    if added:
        return f"added {added} to the deal team"
    return f"removed {removed} from the deal team"


def _insert_ignoring_duplicates(rows: list[dict]) -> None:
    """INSERT the team rows; one already there (a concurrent duplicate add) is skipped."""
    db.session.execute(
        insert_on_conflict(DealTeamMember)
        .values(rows)
        .on_conflict_do_nothing(index_elements=["shared_deal_id", "user_id"])
    )


def apply_changes(
    shared: SharedDeal, actor: User, added: Iterable[int], removed: Iterable[int]
) -> bool:
    """Add and remove members of the actor's own account, in one transaction. Commits.

    `added` and `removed` are what this user changed in their dialog; they are applied
    to the team as it is now (an add of someone already there, or a removal of someone
    already gone, does nothing). Every id must be an active user of the actor's own
    account (`Invalid` otherwise, and nothing changes); a user may remove a member of
    their account who has been deactivated since. Writes one activity row, notifying
    the team (new members included) and the removed members. Returns whether the
    team changed.
    """
    added, removed = set(added), set(removed)
    if added & removed:
        raise Invalid(_("A user cannot be both added and removed."), "members")
    with shared_deal_change(shared, actor) as change:
        shared = change.shared
        own = {
            u.id: u
            for u in db.session.scalars(
                sa.select(User).where(
                    User.account_id == actor.account_id, User.id.in_(added | removed)
                )
            )
        }
        # The team as it is under the lock: who is on it now, and the history's "before".
        team = members_of(shared)
        current = {m.user_id for m in team if m.account_id == actor.account_id}
        if any(uid not in own or not own[uid].active for uid in added) or any(
            uid not in own or (not own[uid].active and uid not in current) for uid in removed
        ):
            raise Invalid(NOT_YOUR_USERS, "members")
        to_add = sorted(added - current)
        to_remove = sorted(removed & current)
        if not to_add and not to_remove:
            return False
        if to_add:
            _insert_ignoring_duplicates(
                [
                    {"shared_deal_id": shared.id, "user_id": uid, "added_by_id": actor.id}
                    for uid in to_add
                ]
            )
        if to_remove:
            db.session.execute(
                sa.delete(DealTeamMember).where(
                    DealTeamMember.shared_deal_id == shared.id,
                    DealTeamMember.user_id.in_(to_remove),
                )
            )
        change.record(
            "team",
            _summary(
                [own[uid].full_name for uid in to_add], [own[uid].full_name for uid in to_remove]
            ),
            before=_names(team),
            after=_names(members_of(shared)),
            also_notify=to_remove,
        )
    return True
