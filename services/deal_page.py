"""A deal's page in four statements: the user (Flask-Login), `head_for`, the "Shared deal"
card (services.shared_card.card_for) and the first page of its Activity.

`head_for` reads, in one statement, what every part of the page needs first: the deal
with its labels, its shared deal (None for an unshared deal) and the other party's
name, the top bar's unread count, and whether the history has a registration's expiry
still to record.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from extensions import db
from models import Deal, SharedDeal, User
from services import notifications, registrations
from services.deal_index.registry import shared_with_name
from services.errors import NotFound


@dataclass
class DealHead:
    """The deal, its shared deal, and the two facts the page asks for before rendering."""

    deal: Deal
    shared: SharedDeal | None
    other_party_name: str | None  # the party the deal is shared with; None if not shared
    unread_notifications: int
    expiries_to_record: bool


def head_for(user: User, deal_id: int, today: date | None = None, page: bool = True) -> DealHead:
    """The user's own deal `deal_id` with its labels, its shared deal and the bell's count.

    `page=False` (a save's answer, which shows no bell) leaves out the count and the
    expiries. Raises NotFound for another account's deal exactly as for a missing one.
    """
    parameters = {"deal_id": deal_id, "account_id": user.account_id}
    if page:
        parameters |= {"user_id": user.id, "today": today or date.today()}
    row = db.session.execute(_head_statement(user.account.kind, page), parameters).first()
    if row is None:
        raise NotFound(f"No deal {deal_id} in this account.")
    deal, shared, other_party_name, *facts = row
    unread, expiries_due = facts or (0, False)
    return DealHead(deal, shared, other_party_name, unread, bool(shared and expiries_due))


@functools.cache
def _head_statement(account_kind: str, page: bool) -> sa.Select:
    """`head_for`'s statement for one side, with or without the page's two facts, built once
    (bind parameters): building and cache-keying it cost three times running it."""
    # A deal is its own account's side of a shared deal: the partner's or the vendor's.
    own_side = SharedDeal.deal_id_column(account_kind)
    extras = []
    if page:
        today = sa.bindparam("today", type_=sa.Date)
        extras = [
            notifications.bell_count(sa.bindparam("user_id", type_=sa.Integer)),
            sa.exists().where(registrations.unrecorded_expiry_condition(SharedDeal.id, today)),
        ]
    return (
        sa.select(Deal, SharedDeal, shared_with_name(), *extras)
        .outerjoin(SharedDeal, own_side == Deal.id)
        .where(
            Deal.id == sa.bindparam("deal_id", type_=sa.Integer),
            Deal.account_id == sa.bindparam("account_id", type_=sa.Integer),
        )
        .options(joinedload(Deal.owner), joinedload(Deal.stage), joinedload(Deal.pipeline))
    )


def head_recording_expiries(user: User, deal_id: int) -> DealHead:
    """`head_for`, after writing the history of registrations expired since last looked at
    (services.registrations.record_expiries): the first view after an expiry records it."""
    head = head_for(user, deal_id)
    if head.expiries_to_record:
        registrations.record_expiries(head.shared)
        head = head_for(user, deal_id)  # the commit expired what was loaded
    return head
