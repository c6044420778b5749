"""Deal registrations in SQL: what "active" means, and the counts built on it.

A registration is active when it was not deregistered and its expiry date (if
any) is today or later. An expired registration stops counting on the day after
its expiry date, with no write to anything.

Reads only: the deals index counts and filters with these, and the write
service (services/registrations.py) counts with them too.
"""

from datetime import date

import sqlalchemy as sa

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
            SharedDeal.holds_deal(Deal.id),
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


# The partial index of the deals with an open request (migration 0017), forced on SQLite
# as REGISTERED_INDEX is.
OPEN_REQUEST_INDEX = "ix_deals_account_open_request"


def has_open_request():
    """SQL condition on Deal: its shared deal has an open registration request.

    The same answer as `open_request_count_for_deal() > 0`, read from the deal's own
    `open_request_since` (kept by the triggers of migration 0017) and served by
    OPEN_REQUEST_INDEX, which holds only those deals.
    """
    return Deal.open_request_since.is_not(None)


def open_request_count():
    """A deal's number of open registration requests (0 or 1), from its own column."""
    return sa.case((has_open_request(), 1), else_=0)


def open_request_count_for_deal():
    """Correlated scalar subquery: 1 when the deal's shared deal has an open registration
    request, else 0 (a partial unique index keeps at most one open). What the triggers'
    `open_request_since` must agree with (tests/test_registered_until.py)."""
    return (
        sa.select(sa.func.count(RegistrationRequest.id))
        .join(SharedDeal, SharedDeal.id == RegistrationRequest.shared_deal_id)
        .where(
            SharedDeal.holds_deal(Deal.id),
            RegistrationRequest.is_open(),
        )
        .correlate(Deal)
        .scalar_subquery()
    )
