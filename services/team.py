"""The deal team of a shared deal: users of both parties; each party manages only its own.

A save carries what the user changed (added and removed, relative to what their
dialog showed), never a whole new team: it is applied to the team as it is now,
so two people saving at the same moment both keep their changes.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass

import sqlalchemy as sa

from catalog import gettext as _
from catalog import lazy_gettext as _l
from extensions import db, on_sqlite
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

    @property
    def order(self) -> tuple:
        """Where the member comes in the team: the partner's first ("partner" sorts before
        "vendor"), then by name."""
        return self.account_kind, self.full_name, self.user_id


def members_of(shared: SharedDeal) -> list[Member]:
    """Every member of the team, both parties: the partner's first, then by name."""
    rows = db.session.execute(_members_statement(), {"shared_id": shared.id})
    return [Member(*row) for row in rows]


@functools.cache
def _members_statement() -> sa.Select:
    # Built once (bind parameters): a team save reads the team under its lock.
    return (
        sa.select(User.id, User.full_name, Account.id, Account.name, Account.kind, User.active)
        .join(DealTeamMember, DealTeamMember.user_id == User.id)
        .join(Account, Account.id == User.account_id)
        .where(DealTeamMember.shared_deal_id == sa.bindparam("shared_id", type_=sa.Integer))
        .order_by(Account.kind, User.full_name, User.id)  # as Member.order
    )


@functools.cache
def _own_users_statement() -> sa.Select:
    # Built once (bind parameters): the users a team save names, of the actor's account.
    return sa.select(User).where(
        User.account_id == sa.bindparam("account_id", type_=sa.Integer),
        User.id.in_(sa.bindparam("user_ids", expanding=True, type_=sa.Integer)),
    )


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
    """The team as its history line says it, before and after a change: in `Member.order`."""
    return ", ".join(m.full_name for m in sorted(team, key=lambda m: m.order)) or "nobody"


def _summary(added_names: list[str], removed_names: list[str]) -> str:
    added, removed = ", ".join(added_names), ", ".join(removed_names)
    if added and removed:
        return f"changed the deal team: added {added}, removed {removed}"
    if added:
        return f"added {added} to the deal team"
    return f"removed {removed} from the deal team"


def _insert_ignoring_duplicates(rows: list[dict]) -> None:
    """INSERT the team rows; one already there (a concurrent duplicate add) is skipped."""
    db.session.execute(_insert_statement(on_sqlite()), rows)


@functools.cache
def _insert_statement(sqlite: bool) -> sa.Insert:
    # Built once per database (its own ON CONFLICT), run for the rows given.
    return insert_on_conflict(DealTeamMember.__table__, sqlite).on_conflict_do_nothing(
        index_elements=["shared_deal_id", "user_id"]
    )


@functools.cache
def _delete_statement() -> sa.Delete:
    # Built once (bind parameters).
    return sa.delete(DealTeamMember).where(
        DealTeamMember.shared_deal_id == sa.bindparam("shared_id", type_=sa.Integer),
        DealTeamMember.user_id.in_(sa.bindparam("user_ids", expanding=True, type_=sa.Integer)),
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
        parameters = {"account_id": actor.account_id, "user_ids": sorted(added | removed)}
        own = {u.id: u for u in db.session.scalars(_own_users_statement(), parameters)}
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
            db.session.execute(_delete_statement(), {"shared_id": shared.id, "user_ids": to_remove})
        # The team after: what was read under the lock, changed as written (no one else
        # changes it while the lock is held).
        account = actor.account
        after = [m for m in team if m.user_id not in to_remove] + [
            Member(uid, own[uid].full_name, account.id, account.name, account.kind, True)
            for uid in to_add
        ]
        change.record(
            "team",
            _summary(
                [own[uid].full_name for uid in to_add], [own[uid].full_name for uid in to_remove]
            ),
            before=_names(team),
            after=_names(after),
            also_notify=to_remove,
        )
    return True
