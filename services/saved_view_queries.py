"""Saved views in SQL: which views a user may see.

A view is visible to its owner, and to everyone in the owner's account when its
visibility is "account". Reads only: the deals index lists the visible views in
its reference statement, and the write service (services/saved_views.py) finds
one view by the same rule.
"""

import sqlalchemy as sa

from models import SavedView


def visible_condition(account_id, user_id):
    """SQL condition on SavedView: visible to user `user_id` of `account_id`."""
    return sa.and_(
        SavedView.account_id == account_id,
        sa.or_(SavedView.owner_id == user_id, SavedView.visibility == "account"),
    )


def visible_views_select(account_id, user_id) -> sa.Select:
    """SELECT of the views user `user_id` of `account_id` may see (values or bind parameters)."""
    return sa.select(
        SavedView.id,
        SavedView.name,
        SavedView.owner_id,
        SavedView.visibility,
        SavedView.query,
    ).where(visible_condition(account_id, user_id))
