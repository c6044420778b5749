"""One deal of an account, read through the account: another account's deal is NotFound.

The deals index (many deals, filtered, sorted, paged) is services/deal_index/.
"""

from __future__ import annotations

import functools

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from extensions import db
from models import Deal, User
from services.errors import NotFound


def get_deal_for(user: User, deal_id: int) -> Deal:
    """The deal `deal_id` of the user's own account, with its labels loaded.

    Raises NotFound for a deal of another account exactly as for one that does not exist.
    """
    parameters = {"deal_id": deal_id, "account_id": user.account_id}
    deal = db.session.scalar(_deal_statement(), parameters)
    if deal is None:
        raise NotFound(f"No deal {deal_id} in this account.")
    return deal


@functools.cache
def _deal_statement() -> sa.Select:
    # Built once (bind parameters): building it and its loader options, then keying it for
    # the compiled cache, cost as much as running it (a board move reads its deal first).
    return (
        sa.select(Deal)
        .where(
            Deal.id == sa.bindparam("deal_id", type_=sa.Integer),
            Deal.account_id == sa.bindparam("account_id", type_=sa.Integer),
        )
        .options(
            # Not the owner's account (a joined relationship of User): the deal's own, already
            # in the session. Joined, SQLite made (users JOIN accounts) whole for every page.
            joinedload(Deal.owner).lazyload(User.account),
            joinedload(Deal.stage),
            joinedload(Deal.pipeline),
        )
    )
