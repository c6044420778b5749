"""The shared deal's history, and the notifications it sends.

Every change to a shared deal calls `record` inside the same transaction as the
change itself, so history and notifications commit or roll back with it.
"""

from collections.abc import Iterable

import sqlalchemy as sa

from extensions import db
from models import Activity, DealTeamMember, Notification, SharedDeal, User

# The column's size: PostgreSQL refuses a longer text (SQLite would keep it).
SUMMARY_MAX = Activity.__table__.c.summary.type.length


def fit_summary(summary: str) -> str:
    """`summary` cut to fit its column, with "…" when cut (the full lists are in before/after)."""
    return summary if len(summary) <= SUMMARY_MAX else summary[: SUMMARY_MAX - 1] + "…"


def team_user_ids(shared: SharedDeal) -> set[int]:
    """Ids of the users on the shared deal's team, both parties."""
    return set(
        db.session.scalars(
            sa.select(DealTeamMember.user_id).where(DealTeamMember.shared_deal_id == shared.id)
        )
    )


def record(
    shared: SharedDeal,
    actor: User | None,
    action: str,
    summary: str,
    before: str | None = None,
    after: str | None = None,
    also_notify: Iterable[int] = (),
) -> Activity:
    """Append one activity row and notify every team member except the actor. No commit.

    Call it after the change is applied (so a member just added is on the team
    and hears of it); `also_notify` adds people no longer on the team, such as
    a member just removed.
    """
    activity = Activity(
        shared_deal_id=shared.id,
        actor_id=actor.id if actor else None,
        action=action,
        summary=fit_summary(summary),
        before=before,
        after=after,
    )
    db.session.add(activity)
    db.session.flush()
    recipients = (team_user_ids(shared) | set(also_notify)) - {actor.id if actor else None}
    db.session.add_all(
        Notification(user_id=user_id, activity_id=activity.id) for user_id in sorted(recipients)
    )
    return activity
