"""A user's notifications: the unread count, the list, and marking them read.

Notifications are written by `services.activity.record`; here they are only
read and marked read, always through the user who owns them. Each one points
at the recipient's *own* deal of the shared deal (the partner's deal for
partner users, the vendor's for vendor users).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from extensions import db
from models import Activity, Deal, Notification, SharedDeal, User, utcnow
from services.changes import writing
from services.errors import NotFound

PAGE_SIZE = 50


@dataclass(frozen=True)
class NotificationItem:
    """One line of the notifications page: who did what on which deal, when."""

    id: int
    activity_id: int
    actor_name: str | None
    summary: str
    before: str | None
    after: str | None
    deal_id: int
    deal_name: str
    created_at: datetime
    read: bool


@dataclass(frozen=True)
class NotificationPage:
    """Up to PAGE_SIZE notifications, newest first; `older_than` continues the list."""

    items: list[NotificationItem]
    older_than: int | None


def unread_condition(user_id: int):
    """SQL condition on Notification: the user's unread ones (served by an index)."""
    return sa.and_(Notification.user_id == user_id, Notification.read_at.is_(None))


def unread_count(user: User) -> int:
    """How many of the user's notifications are unread (an index-only count): the
    notifications page's. The bell, on every page, counts up to BELL_COUNTS_UP_TO."""
    return db.session.scalar(
        sa.select(sa.func.count(Notification.id)).where(unread_condition(user.id))
    )


# The bell shows "99+" from here on. Counting no further keeps every page's count a
# walk of at most 100 index entries: a user who never reads their notifications
# (16,206 unread in a bench's database) made every page read all of them (PostgreSQL,
# 4,289 unread: 0.99 ms -> 0.05 ms, EXPLAIN ANALYZE).
BELL_COUNTS_UP_TO = 100


def bell_count(user_id):
    """The bell's count as a scalar subquery: the user's unread notifications, up to
    BELL_COUNTS_UP_TO. `user_id` a value or a bind parameter."""
    unread = sa.select(Notification.id).where(unread_condition(user_id))
    return (
        sa.select(sa.func.count())
        .select_from(unread.limit(BELL_COUNTS_UP_TO).subquery())
        .scalar_subquery()
    )


def unread_for_bell(user: User) -> int:
    """`bell_count` of the user: the bell fragment's, polled by every open page."""
    return db.session.scalar(_bell_statement(), {"user_id": user.id})


@functools.cache
def _bell_statement() -> sa.Select:
    # Built once (a bind parameter), as the project's other per-request statements are.
    return sa.select(bell_count(sa.bindparam("user_id", type_=sa.Integer)))


def _joined_to_own_deal(statement, user: User):
    return (
        statement.select_from(Notification)
        .join(Activity, Activity.id == Notification.activity_id)
        .join(SharedDeal, SharedDeal.id == Activity.shared_deal_id)
        .join(
            Deal,
            sa.and_(
                Deal.id == SharedDeal.deal_id_of(user.account_id),
                Deal.account_id == user.account_id,
            ),
        )
        .where(Notification.user_id == user.id)
    )


def page_for(user: User, older_than: int | None = None, limit: int = PAGE_SIZE) -> NotificationPage:
    """The user's notifications, newest first, `limit` at a time.

    Newest means newest activity: ordered by activity id, which the unique
    (user_id, activity_id) index serves without sorting. `older_than` is the
    previous page's `older_than`: the list continues with older activity.
    """
    # Two bounded queries: the page from the index, then what those rows show.
    # (One join lets the planner walk every activity to find a user's few.)
    picked = sa.select(
        Notification.id, Notification.activity_id, Notification.read_at, Notification.created_at
    ).where(Notification.user_id == user.id)
    if older_than is not None:
        picked = picked.where(Notification.activity_id < older_than)
    rows = db.session.execute(
        picked.order_by(Notification.activity_id.desc()).limit(limit + 1)
    ).all()
    shown = rows[:limit]
    actor = aliased(User)
    details = {
        row.activity_id: row
        for row in db.session.execute(
            sa.select(
                Activity.id.label("activity_id"),
                Activity.summary,
                Activity.before,
                Activity.after,
                actor.full_name.label("actor_name"),
                Deal.id.label("deal_id"),
                Deal.name.label("deal_name"),
            )
            .join(SharedDeal, SharedDeal.id == Activity.shared_deal_id)
            .join(
                Deal,
                sa.and_(
                    Deal.id == SharedDeal.deal_id_of(user.account_id),
                    Deal.account_id == user.account_id,
                ),
            )
            .outerjoin(actor, actor.id == Activity.actor_id)
            .where(Activity.id.in_([row.activity_id for row in shown]))
        )
    }
    items = [
        NotificationItem(
            id=row.id,
            activity_id=row.activity_id,
            read=row.read_at is not None,
            created_at=row.created_at,
            summary=detail.summary,
            before=detail.before,
            after=detail.after,
            actor_name=detail.actor_name,
            deal_id=detail.deal_id,
            deal_name=detail.deal_name,
        )
        for row in shown
        if (detail := details.get(row.activity_id)) is not None
    ]
    older = shown[-1].activity_id if len(rows) > limit else None
    return NotificationPage(items=items, older_than=older)


def open_notification(user: User, notification_id: int) -> int:
    """Mark the user's notification read and return the id of the user's own deal it is about.

    Raises NotFound for another user's notification exactly as for a missing one.
    """
    with writing():
        deal_id = db.session.scalar(
            _joined_to_own_deal(sa.select(Deal.id), user).where(Notification.id == notification_id)
        )
        if deal_id is None:
            raise NotFound(f"No notification {notification_id} for this user.")
        db.session.execute(
            sa.update(Notification)
            .where(
                Notification.id == notification_id,
                Notification.user_id == user.id,
                Notification.read_at.is_(None),
            )
            .values(read_at=utcnow())
        )
    return deal_id


def mark_all_read(user: User) -> int:
    """Mark every unread notification of the user read; returns how many were unread."""
    with writing():
        result = db.session.execute(
            sa.update(Notification)
            .where(Notification.user_id == user.id, Notification.read_at.is_(None))
            .values(read_at=utcnow())
        )
    return result.rowcount
