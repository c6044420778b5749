"""Deal registrations of a shared deal: the card's rows, registering, deregistering, expiries.

What "active" means in SQL lives in services/registration_queries.py; the
model's `status_on` says the same in Python.
"""

import functools
from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa

from catalog import lazy_gettext as _l
from extensions import db, written_in
from models import Activity, DealRegistration, SharedDeal, User, utcnow
from services.changes import shared_deal_change
from services.errors import Forbidden, Invalid, NotFound
from services.rows import insert_row, shared_row_exists, shared_row_update, update_shared_row

NOT_VENDOR = _l("Only the vendor's users can register or deregister a shared deal.")
EXPIRY_IN_PAST = _l("The expiry date cannot be in the past.")
EXPIRED_ACTION = "registration_expired"


@dataclass(frozen=True)
class RegistrationRow:
    """One registration as the card shows it."""

    id: int
    status: str
    registered_by: str
    registered_at: datetime
    expires_on: date | None
    deregistered_at: datetime | None
    deregistered_by: str


def _check_vendor(shared: SharedDeal, actor: User) -> None:
    if actor.account_id != shared.vendor_account_id:
        raise Forbidden(NOT_VENDOR)


def describe(expires_on: date | None) -> str:
    """A registration's expiry as the history writes it: "expires 2027-01-31", "no expiry"."""
    return f"expires {expires_on.isoformat()}" if expires_on else "no expiry"


def add(shared: SharedDeal, actor: User, expires_on: date | None, today: date | None = None) -> int:
    """Register the shared deal for the partner (vendor users only). Commits.

    `expires_on` is optional and may not be before `today`. Writes one activity row
    that notifies the team, in the same transaction. Returns the registration's id.
    """
    today = today or date.today()
    _check_vendor(shared, actor)
    check_expiry(expires_on, today)
    with shared_deal_change(shared, actor) as change:
        registration_id = insert(change.shared, actor, expires_on)
        change.record("registration_added", "registered the deal", after=describe(expires_on))
    return registration_id


def check_expiry(expires_on: date | None, today: date) -> None:
    """Refuse (Invalid) an expiry date before `today`."""
    if expires_on is not None and expires_on < today:
        raise Invalid(EXPIRY_IN_PAST, "expires_on")


def insert(shared: SharedDeal, actor: User, expires_on: date | None) -> int:
    """Write an active registration of the (locked) shared deal; returns its id."""
    row = {
        "shared_deal_id": shared.id,
        "registered_by_id": actor.id,
        "registered_at": utcnow(),
        "expires_on": expires_on,
    }
    return insert_row(DealRegistration, row)


@functools.cache
def _deregister_statement() -> sa.Update:
    # Built once: the registration, if not deregistered yet, returning its expiry (what its
    # status was).
    columns = ("deregistered_at", "deregistered_by_id")
    table = DealRegistration.__table__
    update = shared_row_update(DealRegistration, columns, table.c.deregistered_at.is_(None))
    return update.returning(table.c.expires_on)


def deregister(
    shared: SharedDeal, actor: User, registration_id: int, today: date | None = None
) -> bool:
    """Deregister one of the shared deal's registrations (vendor users only). Commits.

    A registration of another shared deal is NotFound. Deregistering one already
    deregistered changes nothing and returns False.
    """
    today = today or date.today()
    _check_vendor(shared, actor)
    with shared_deal_change(shared, actor) as change:
        # Under the shared deal's lock no one else changes its registrations: one UPDATE
        # of the registration if it still counts, and a read only when it did not.
        values = {"deregistered_at": utcnow(), "deregistered_by_id": actor.id}
        statement = _deregister_statement()
        expires_on = update_shared_row(statement, registration_id, change.shared.id, values)
        if expires_on is None:
            if not shared_row_exists(DealRegistration, registration_id, change.shared.id):
                raise NotFound(f"No registration {registration_id} on this shared deal.")
            return False  # already deregistered
        before = DealRegistration.status_of(expires_on[0], None, today)
        change.record(
            "registration_deregistered",
            "deregistered the deal",
            before=before,
            after="deregistered",
        )
    return True


def _expired_summary(registration_id: int) -> str:
    # The registration id in the summary is what tells one expiry record from another.
    return f"registration #{registration_id} expired"


def record_expiries(shared: SharedDeal, today: date | None = None) -> int:
    """Write the "expired" activity of registrations that expired since last looked at.

    Expiry happens by itself (no write is needed for the count to drop); the history
    learns of it lazily, the first time the shared deal is viewed after the expiry
    date. Each expired registration is recorded once; the activity has no actor.
    Commits only when there is something to record; returns how many were recorded.
    """
    today = today or date.today()
    candidates = _unrecorded_expiries(shared, today)
    if not candidates:
        return 0
    with shared_deal_change(shared, None) as change:
        # Checked again under the lock: another viewer may have recorded them meanwhile.
        candidates = _unrecorded_expiries(change.shared, today)
        for registration in candidates:
            change.record(
                EXPIRED_ACTION,
                _expired_summary(registration.id),
                before="active",
                after=f"expired {registration.expires_on.isoformat()}",
            )
    return len(candidates)


def _unrecorded_expiries(shared: SharedDeal, today: date) -> list[DealRegistration]:
    return list(
        db.session.scalars(
            sa.select(DealRegistration)
            .where(unrecorded_expiry_condition(shared.id, today))
            .order_by(DealRegistration.id)
        )
    )


def unrecorded_expiry_condition(shared_deal_id, today: date):
    """SQL condition on DealRegistration: one of the shared deal's (an id or a column) that
    expired before `today` and whose expiry the history does not hold yet."""
    # The history of the registration's own shared deal (correlated to the registration:
    # `shared_deal_id` may be a column two queries out, which SQLAlchemy would not
    # correlate, so the history would be every shared deal's). The action is written into
    # the SQL (extensions.written_in): PostgreSQL's plan made for any values then knows the
    # action is rare, and the deal page's head statement keeps it.
    recorded = sa.select(Activity.id).where(
        Activity.shared_deal_id == DealRegistration.shared_deal_id,
        Activity.action == written_in(EXPIRED_ACTION),
        Activity.summary
        == sa.literal("registration #") + sa.cast(DealRegistration.id, sa.String) + " expired",
    )
    return sa.and_(
        DealRegistration.shared_deal_id == shared_deal_id,
        DealRegistration.deregistered_at.is_(None),
        DealRegistration.expires_on < today,
        ~recorded.exists(),
    )
