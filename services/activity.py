"""The shared deal's history, and the notifications it sends.

Every change to a shared deal calls `record` inside the same transaction as the
change itself, so history and notifications commit or roll back with it.
"""

import functools
from collections.abc import Iterable
from datetime import datetime
from typing import NamedTuple

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Session

from extensions import db, on_sqlite
from models import Activity, DealTeamMember, Notification, SharedDeal, User, utcnow
from services.rows import insert_row

# The column's size: PostgreSQL refuses a longer text (SQLite would keep it).
SUMMARY_MAX = Activity.__table__.c.summary.type.length


def fit_summary(summary: str) -> str:
    """`summary` cut to fit its column, with "…" when cut (the full lists are in before/after)."""
    return summary if len(summary) <= SUMMARY_MAX else summary[: SUMMARY_MAX - 1] + "…"


class HistoryRow(NamedTuple):
    """A history row as the Activity shows it: shared_card.activity_for's columns."""

    id: int
    action: str
    summary: str
    before: str | None
    after: str | None
    created_at: datetime
    actor_name: str | None  # None for the system


# The history rows the request's session recorded, as (number, shared deal id, HistoryRow):
# a change's answer shows the rows it added (shared_card.activity_after) from what it wrote,
# not by reading them back. The rows of the transaction under way are also counted in
# _PENDING: a rollback takes them out (`_forget_rolled_back`), a commit keeps them. The
# list lasts as long as the session: one request's (Flask-SQLAlchemy ends it after each).
_RECORDED = "recorded_activity"
_PENDING = "recorded_activity_pending"
_NEXT_NUMBER = "recorded_activity_next"


def recorded_mark() -> int:
    """Where the session's history stands: `recorded_since` gives what is recorded after."""
    return db.session.info.get(_NEXT_NUMBER, 0)


def recorded_since(mark: int, shared_id: int) -> list[HistoryRow]:
    """The shared deal's history rows the session recorded after `mark` (`recorded_mark`)
    and did not roll back, newest first."""
    recorded = db.session.info.get(_RECORDED, ())
    return [
        row for number, shared, row in reversed(recorded) if number >= mark and shared == shared_id
    ]


@event.listens_for(Session, "after_commit")
def _keep_committed(session):
    session.info.pop(_PENDING, None)


@event.listens_for(Session, "after_rollback")
def _forget_rolled_back(session):
    pending = session.info.pop(_PENDING, 0)
    if pending:
        del session.info[_RECORDED][-pending:]


def team_user_ids(shared: SharedDeal) -> set[int]:
    """Ids of the users on the shared deal's team, both parties."""
    return set(db.session.scalars(_team_of(shared.id)))


def _team_of(shared_id) -> sa.Select:
    """The shared deal's team members' ids; `shared_id` an id or a bind parameter."""
    return sa.select(DealTeamMember.user_id).where(DealTeamMember.shared_deal_id == shared_id)


def record(
    shared: SharedDeal,
    actor: User | None,
    action: str,
    summary: str,
    before: str | None = None,
    after: str | None = None,
    also_notify: Iterable[int] = (),
) -> int:
    """Append one activity row and notify every team member except the actor. No commit.
    Returns the new row's id.

    Call it after the change is applied (so a member just added is on the team
    and hears of it); `also_notify` adds people no longer on the team, such as
    a member just removed. Two statements built once: the row's INSERT … RETURNING its
    id, and the notifications' INSERT … SELECT of the team as the database has it (not
    a read of the team and then an insert); on PostgreSQL the two are one
    (`_record_statement`).
    """
    db.session.flush()  # the team as the session holds it (nothing to do when it is clean)
    now = utcnow()
    actor_id = actor.id if actor else None
    row = {
        "shared_deal_id": shared.id,
        "actor_id": actor_id,
        "action": action,
        "summary": fit_summary(summary),
        "before": before,
        "after": after,
        "created_at": now,
    }
    also_notify = sorted(set(also_notify))
    parameters = {"shared_id": shared.id, "created_at": now, "actor_id": actor_id}
    if also_notify:
        parameters["also_notify"] = also_notify
    if on_sqlite():
        activity_id = insert_row(Activity, row)
        parameters["activity_id"] = activity_id
        db.session.execute(_notify_statement(bool(also_notify)), parameters)
    else:
        parameters |= {f"new_{column}": value for column, value in row.items()}
        activity_id = db.session.execute(
            _record_statement(bool(also_notify)), parameters
        ).scalar_one()
    # What the answer shows of it (recorded_since), as written.
    actor_name = actor.full_name if actor else None
    history = HistoryRow(activity_id, action, row["summary"], before, after, now, actor_name)
    info = db.session.info
    number = info.get(_NEXT_NUMBER, 0)
    info.setdefault(_RECORDED, []).append((number, shared.id, history))
    info[_NEXT_NUMBER], info[_PENDING] = number + 1, info.get(_PENDING, 0) + 1
    return activity_id


def _recipients(with_others: bool):
    """Who hears of a change: the team as the database has it, and with `with_others` the
    users in `also_notify` (the actor is left out by `_notifications`)."""
    recipients = _team_of(sa.bindparam("shared_id", type_=sa.Integer))
    if with_others:
        others = sa.bindparam("also_notify", expanding=True, type_=sa.Integer)
        recipients = recipients.union(sa.select(User.id).where(User.id.in_(others)))
    return recipients.subquery()


def _notifications(activity_id, with_others: bool) -> sa.Insert:
    """The notifications' INSERT … SELECT of the recipients but the actor (none: the system
    notifies everyone), each of the activity `activity_id` (a bind parameter or a column).
    The table's INSERT, not the model's: given parameters, the session would take the
    model's for a bulk insert of rows."""
    recipients = _recipients(with_others)
    return sa.insert(Notification.__table__).from_select(
        ["user_id", "activity_id", "created_at"],
        sa.select(
            recipients.c.user_id,
            activity_id,
            sa.bindparam("created_at", type_=sa.DateTime),
        )
        .where(recipients.c.user_id.is_distinct_from(sa.bindparam("actor_id", type_=sa.Integer)))
        .order_by(recipients.c.user_id),
    )


@functools.cache
def _record_statement(with_others: bool) -> sa.Select:
    """PostgreSQL: `record`'s two INSERTs in one statement, built once: the activity row's,
    RETURNING its id, and its notifications', which take that id (a WITH whose parts
    write). One round trip less for every change to a shared deal; SQLite has no
    INSERT in a WITH, and no round trips to save."""
    table = Activity.__table__
    values = {c: sa.bindparam(f"new_{c}", type_=table.c[c].type) for c in _ACTIVITY_COLUMNS}
    new = sa.insert(table).values(values).returning(table.c.id).cte("new_activity")
    notified = _notifications(sa.select(new.c.id).scalar_subquery(), with_others).cte("notified")
    return sa.select(new.c.id).add_cte(notified)


_ACTIVITY_COLUMNS = (
    "shared_deal_id",
    "actor_id",
    "action",
    "summary",
    "before",
    "after",
    "created_at",
)


@functools.cache
def _notify_statement(with_others: bool) -> sa.Insert:
    """SQLite: `record`'s notifications, built once (bind parameters), for the activity
    row just inserted (`activity_id`). Building this INSERT … SELECT cost more than
    running it."""
    return _notifications(sa.bindparam("activity_id", type_=sa.Integer), with_others)
