"""What the deal page shows of a shared deal: the parties, team, products, registrations, notes.

Everything is read through the viewer's own deal (`services.deals.get_deal_for`), so a
shared deal is reachable only from the deal id of one of its two parties.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import joinedload

from extensions import db
from models import Account, Activity, Deal, Product, SharedDeal, Stage, User
from services import (
    accounts,
    deals,
    product_interest,
    registration_requests,
    registrations,
    shared_notes,
    team,
)
from services.errors import NotFound

ACTIVITY_PAGE_SIZE = 50


@dataclass
class SharedCard:
    """The "Shared deal" card as one viewer sees it: everything its template shows."""

    shared: SharedDeal
    viewer: User
    own_account: Account
    other_account: Account
    members: list[team.Member]
    products: list[Product]
    catalogue: list[Product]
    registrations: list[registrations.RegistrationRow]
    # Who the viewer may tick in "Edit deal team": their account's active users, and
    # members of their account deactivated since (listed, ticked, so they can be removed).
    team_candidates: list[User]
    team_inactive_members: list[team.Member]
    today: date
    # The other party's own stage of its deal: shown read-only ("Their stage").
    other_stage: str = ""
    requests: list[registration_requests.RequestRow] = dataclasses.field(default_factory=list)
    # Shown to vendor users before they approve an open request.
    conflicts: list[registration_requests.Conflicting] = dataclasses.field(default_factory=list)

    @property
    def open_request(self) -> registration_requests.RequestRow | None:
        return next((r for r in self.requests if r.status == "requested"), None)

    @property
    def can_request(self) -> bool:
        """A partner user may ask for a registration: none open, the deal not registered."""
        return (
            not self.viewer_is_vendor
            and self.open_request is None
            and self.active_registrations == 0
        )

    notes = shared_notes.NOTES

    @property
    def viewer_is_vendor(self) -> bool:
        return self.own_account.kind == "vendor"

    @property
    def other_party_label(self) -> str:
        """The other party's field label: "Partner" for vendor users, "Vendor" for partners."""
        return _("Vendor") if self.other_account.kind == "vendor" else _("Partner")

    @property
    def own_member_ids(self) -> set[int]:
        """The viewer's account's members of the team: what "Edit deal team" starts ticked."""
        return {m.user_id for m in self.members if m.account_id == self.own_account.id}

    @property
    def other_member_names(self) -> list[str]:
        return [m.full_name for m in self.members if m.account_id != self.own_account.id]

    @property
    def product_ids(self) -> set[int]:
        return {p.id for p in self.products}

    @property
    def active_registrations(self) -> int:
        return sum(1 for r in self.registrations if r.status == "active")


def shared_deal_of(deal: Deal) -> SharedDeal | None:
    """The shared deal `deal` belongs to (on either side), or None for an unshared deal."""
    return db.session.scalar(
        sa.select(SharedDeal).where(
            sa.or_(SharedDeal.partner_deal_id == deal.id, SharedDeal.vendor_deal_id == deal.id)
        )
    )


def shared_deal_for(user: User, deal_id: int) -> tuple[Deal, SharedDeal]:
    """The user's own deal `deal_id` and its shared deal.

    Raises NotFound for another account's deal, a missing one, or an unshared one.
    """
    deal = deals.get_deal_for(user, deal_id)
    shared = shared_deal_of(deal)
    if shared is None:
        raise NotFound(f"Deal {deal_id} is not shared.")
    return deal, shared


def card_for(user: User, shared: SharedDeal, today: date | None = None) -> SharedCard:
    """Load everything the card shows, in a handful of queries (no lazy loads)."""
    other_id = shared.other_account_id(user.account_id)
    parties = {
        a.id: a
        for a in db.session.scalars(
            sa.select(Account).where(Account.id.in_([user.account_id, other_id]))
        )
    }
    members = team.members_of(shared)
    requests = registration_requests.rows_for(shared)
    candidates = accounts.active_users_of(user.account_id)
    candidate_ids = {u.id for u in candidates}
    return SharedCard(
        shared=shared,
        viewer=user,
        own_account=parties[user.account_id],
        other_account=parties[other_id],
        members=members,
        products=product_interest.products_of(shared),
        catalogue=product_interest.catalogue_for(shared),
        registrations=registrations.rows_for(shared, today or date.today()),
        team_candidates=candidates,
        team_inactive_members=[
            m for m in members if m.account_id == user.account_id and m.user_id not in candidate_ids
        ],
        today=today or date.today(),
        other_stage=other_stage_name(shared, user.account_id),
        requests=requests,
        conflicts=(
            registration_requests.conflicts_for(shared, today)
            if user.account_id == shared.vendor_account_id
            and any(r.status == "requested" for r in requests)
            else []
        ),
    )


def other_stage_name(shared: SharedDeal, account_id: int) -> str:
    """The stage the other party's deal is at, in their pipeline."""
    return db.session.scalar(
        sa.select(Stage.name)
        .join(Deal, Deal.stage_id == Stage.id)
        .where(Deal.id == shared.other_deal_id(account_id))
    )


def other_party_name(user: User, shared: SharedDeal) -> str:
    """The name of the party of `shared` that is not the user's account."""
    return db.session.scalar(
        sa.select(Account.name).where(Account.id == shared.other_account_id(user.account_id))
    )


def activity_mark() -> int:
    """The newest activity id now, of any deal: what a change records next comes after it."""
    return db.session.scalar(sa.select(sa.func.max(Activity.id))) or 0


def activity_after(shared: SharedDeal, mark: int) -> list[Activity]:
    """The shared deal's history rows recorded after `mark` (activity_mark), newest first."""
    return list(
        db.session.scalars(
            sa.select(Activity)
            .where(Activity.shared_deal_id == shared.id, Activity.id > mark)
            .options(joinedload(Activity.actor))
            .order_by(Activity.id.desc())
            .limit(ACTIVITY_PAGE_SIZE)
        )
    )


def activity_for(shared: SharedDeal, before_id: int | None = None, limit: int = ACTIVITY_PAGE_SIZE):
    """The shared deal's history, newest first: up to `limit` rows older than `before_id`.

    Returns (rows, has_more).
    """
    query = (
        sa.select(Activity)
        .where(Activity.shared_deal_id == shared.id)
        .options(joinedload(Activity.actor))
        .order_by(Activity.id.desc())
        .limit(limit + 1)
    )
    if before_id is not None:
        query = query.where(Activity.id < before_id)
    rows = list(db.session.scalars(query))
    return rows[:limit], len(rows) > limit
