"""Deals of one account: reading them, always scoped by the account."""

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from extensions import db
from models import Account, Deal, User
from services.errors import NotFound


def latest_deals(account: Account, limit: int = 25) -> list[Deal]:
    """The account's newest deals, with owner, stage and pipeline loaded in one query."""
    return list(
        db.session.scalars(
            sa.select(Deal)
            .where(Deal.account_id == account.id)
            .options(joinedload(Deal.owner), joinedload(Deal.stage), joinedload(Deal.pipeline))
            .order_by(Deal.created_at.desc(), Deal.id.desc())
            .limit(limit)
        )
    )


def get_deal_for(user: User, deal_id: int) -> Deal:
    """The deal `deal_id` of the user's own account, with its labels loaded.

    Raises NotFound for a deal of another account exactly as for one that does not exist.
    """
    deal = db.session.scalar(
        sa.select(Deal)
        .where(Deal.id == deal_id, Deal.account_id == user.account_id)
        .options(joinedload(Deal.owner), joinedload(Deal.stage), joinedload(Deal.pipeline))
    )
    if deal is None:
        raise NotFound(f"No deal {deal_id} in this account.")
    return deal
