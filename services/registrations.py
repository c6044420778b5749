"""Deal registrations: what "active" means, in Python and in SQL, in one place.

A registration is active when it was not deregistered and its expiry date (if
any) is today or later. An expired registration stops counting on the day after
its expiry date, with no write to anything.
"""

from datetime import date

import sqlalchemy as sa

from models import Deal, DealRegistration, SharedDeal


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
