"""Deal registrations in SQL: what "active" means, and the counts built on it.

A registration is active when it was not deregistered and its expiry date (if
any) is today or later. An expired registration stops counting on the day after
its expiry date, with no write to anything.

Reads only: the deals index counts and filters with these, and the write
service (services/registrations.py) counts with them too.
"""

from datetime import date

import sqlalchemy as sa

from extensions import db
from models import Deal, DealRegistration, RegistrationRequest, SharedDeal


def active_condition(today: date):
    """SQL condition on DealRegistration: active on `today`."""
    return sa.and_(
        DealRegistration.deregistered_at.is_(None),
        sa.or_(DealRegistration.expires_on.is_(None), DealRegistration.expires_on >= today),
    )


def active_count_for_deal(today: date):
    """Correlated scalar subquery: a deal's number of active deal registrations.

    Counts the registrations of the shared deal the deal belongs to, whichever
    side (partner or vendor) the deal is on; 0 for a deal that is not shared.
    """
    return (
        sa.select(sa.func.count(DealRegistration.id))
        .join(SharedDeal, SharedDeal.id == DealRegistration.shared_deal_id)
        .where(
            sa.or_(SharedDeal.partner_deal_id == Deal.id, SharedDeal.vendor_deal_id == Deal.id),
            active_condition(today),
        )
        .correlate(Deal)
        .scalar_subquery()
    )


# The partial index of the deals ever registered (migration 0008): the deals index
# forces it on SQLite, whose planner, with sampled statistics, prefers the sort's index.
REGISTERED_INDEX = "ix_deals_account_registered"


def has_active_registration(today: date):
    """SQL condition on Deal: at least one registration active on `today`.

    The same answer as `active_count_for_deal(today) > 0`, read from the deal's
    own `registered_until` (kept by the triggers of migration 0008) and served by
    REGISTERED_INDEX, which holds only the deals ever registered.
    """
    return Deal.registered_until >= today


def registered_deal_ids(account_id: int, today: date) -> sa.Select:
    """SELECT of the account's deal ids with at least one registration active on `today`."""
    return sa.select(Deal.id).where(Deal.account_id == account_id, has_active_registration(today))


def open_request_deal_ids(account_kind: str, account_id: int) -> sa.Select:
    """SELECT of the account's deal ids whose shared deal has an open registration request.

    The status is a literal, not a bound parameter: SQLite uses the partial index of
    open requests (uq_registration_requests_open) only for a WHERE it can read.

    On PostgreSQL the open requests' shared-deal ids are gathered first, as one array
    (an init plan), and the shared deals read by primary key: joined instead, the
    planner hashes the few open requests against a parallel scan of all the vendor's
    shared deals (1,000,000 of them: 245 ms, against 37 ms this way, warm).
    """
    own = SharedDeal.account_id_column(account_kind) == account_id
    is_open = RegistrationRequest.status == sa.literal_column("'requested'")
    if db.session.get_bind().dialect.name == "postgresql":
        open_ids = (
            sa.select(sa.func.array_agg(RegistrationRequest.shared_deal_id))
            .where(is_open)
            .scalar_subquery()
        )
        return sa.select(SharedDeal.deal_id_column(account_kind)).where(
            # The cast makes ANY read one array, not the subquery's rows.
            own,
            SharedDeal.id == sa.any_(sa.cast(open_ids, sa.ARRAY(sa.Integer))),
        )
    return (
        sa.select(SharedDeal.deal_id_column(account_kind))
        .join(RegistrationRequest, RegistrationRequest.shared_deal_id == SharedDeal.id)
        .where(own, is_open)
    )


def open_request_count_for_deal():
    """Correlated scalar subquery: 1 when the deal's shared deal has an open registration
    request, else 0 (a partial unique index keeps at most one open)."""
    return (
        sa.select(sa.func.count(RegistrationRequest.id))
        .join(SharedDeal, SharedDeal.id == RegistrationRequest.shared_deal_id)
        .where(
            sa.or_(SharedDeal.partner_deal_id == Deal.id, SharedDeal.vendor_deal_id == Deal.id),
            RegistrationRequest.status == "requested",
        )
        .correlate(Deal)
        .scalar_subquery()
    )
