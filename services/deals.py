"""One deal of an account, read through the account: another account's deal is NotFound.

The deals index (many deals, filtered, sorted, paged) is services/deal_index/.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from extensions import db
from models import Deal, User
from services.errors import NotFound


def get_deal_for(user: User, deal_id: int) -> Deal:
    """The deal `deal_id` of the user's own account, with its labels loaded.

    Raises NotFound for a deal of another account exactly as for one that does not exist.
    """
    deal = db.session.scalar(
        sa.select(Deal)
        .where(Deal.id == deal_id, Deal.account_id == user.account_id)
        .options(
            # Not the owner's account (a joined relationship of User): the deal's own, already
            # in the session. Joined, SQLite made (users JOIN accounts) whole for every page.
            joinedload(Deal.owner).lazyload(User.account),
            joinedload(Deal.stage),
            joinedload(Deal.pipeline),
        )
    )
    if deal is None:
        raise NotFound(f"No deal {deal_id} in this account.")
    return deal
