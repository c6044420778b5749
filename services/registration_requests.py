"""Registration requests: a partner asks the vendor to register a shared deal.

requested -> approved (the vendor rep's approval makes the active DealRegistration,
optionally with an expiry date) or declined (with a reason). One open request per
shared deal at a time; only the partner's users request, only the vendor's users
decide. The requester hears of the decision even when no longer on the team.
Requested and declined requests never count as registrations: only the
DealRegistration an approval makes does (services/registration_queries.py).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from catalog import gettext as _
from catalog import lazy_gettext as _l
from extensions import db, on_sqlite
from models import Account, Deal, DealRegistration, RegistrationRequest, SharedDeal, User, utcnow
from services import registrations
from services.changes import shared_deal_change
from services.errors import Forbidden, Invalid, NotFound
from services.registration_queries import active_condition
from services.rows import insert_row, shared_row_exists, shared_row_update, update_shared_row

MAX_MESSAGE = 1000
NOT_PARTNER = _l("Only the partner's users can request a registration.")
NOT_VENDOR = _l("Only the vendor's users can approve or decline a registration request.")
ALREADY_OPEN = _l("A registration request is already open for this deal.")
ALREADY_REGISTERED = _l("This deal is already registered.")
ALREADY_DECIDED = _l("This request was already approved or declined.")
REASON_REQUIRED = _l("Give a reason for declining.")


@dataclass(frozen=True)
class RequestRow:
    """One request as the card shows it."""

    id: int
    status: str  # requested, approved, declined
    requested_by: str
    requested_at: datetime
    message: str
    decided_by: str
    decided_at: datetime | None
    decline_reason: str


@dataclass(frozen=True)
class Conflicting:
    """Another partner's active registration on a deal of the same company."""

    partner: str
    deal_name: str
    company: str


@functools.cache
def _may_request_statement() -> sa.Select:
    # Built once (bind parameters): (is a request open, is the deal registered).
    shared_id = sa.bindparam("shared_id", type_=sa.Integer)
    open_request = sa.select(RegistrationRequest.id).where(
        RegistrationRequest.shared_deal_id == shared_id, RegistrationRequest.is_open()
    )
    registered = sa.select(DealRegistration.id).where(
        DealRegistration.shared_deal_id == shared_id,
        active_condition(sa.bindparam("today", type_=sa.Date)),
    )
    return sa.select(open_request.exists(), registered.exists())


def request(shared: SharedDeal, actor: User, message: str = "", today: date | None = None) -> int:
    """Ask the vendor to register the shared deal (partner users only). Commits.

    Refused (Invalid) while another request is open or the deal is registered.
    The shared deal's row lock makes two simultaneous requests one after the other.
    Returns the request's id.
    """
    today = today or date.today()
    if actor.account_id != shared.partner_account_id:
        raise Forbidden(NOT_PARTNER)
    message = (message or "").strip()
    if len(message) > MAX_MESSAGE:
        raise Invalid(_("Use at most %(num)s characters.", num=MAX_MESSAGE), "message")
    with shared_deal_change(shared, actor) as change:
        state = {"shared_id": change.shared.id, "today": today}
        already_open, registered = db.session.execute(_may_request_statement(), state).one()
        if already_open:
            raise Invalid(ALREADY_OPEN)
        if registered:
            raise Invalid(ALREADY_REGISTERED)
        row = {
            "shared_deal_id": change.shared.id,
            "status": "requested",
            "requested_by_id": actor.id,
            "requested_at": utcnow(),
            "message": message,
        }
        request_id = insert_row(RegistrationRequest, row)
        change.record("registration_requested", "requested a registration", after=message or None)
    return request_id


@functools.cache
def _decide_statement(columns: tuple[str, ...]) -> sa.Update:
    # Built once per decision: the open request takes the decision, returning who asked (a
    # request decided meanwhile matches nothing).
    open_request = RegistrationRequest.is_open()
    update = shared_row_update(RegistrationRequest, columns, open_request)
    return update.returning(RegistrationRequest.__table__.c.requested_by_id)


def _decide(shared: SharedDeal, actor: User, request_id: int, **decision) -> list[int]:
    """Write the decision on the open request `request_id` of the locked shared deal (the
    columns `decision` and who decided when). Returns whom to tell: who asked, if still a
    user. NotFound for a request of another shared deal; Invalid for one already decided."""
    values = {**decision, "decided_by_id": actor.id, "decided_at": utcnow()}
    statement = _decide_statement(tuple(values))
    asked = update_shared_row(statement, request_id, shared.id, values)
    if asked is None:
        if not shared_row_exists(RegistrationRequest, request_id, shared.id):
            raise NotFound(f"No registration request {request_id} on this shared deal.")
        raise Invalid(ALREADY_DECIDED)
    return [asked.requested_by_id] if asked.requested_by_id else []


def approve(
    shared: SharedDeal,
    actor: User,
    request_id: int,
    expires_on: date | None,
    today: date | None = None,
) -> int:
    """Approve the open request (vendor users only): the deal is registered. Commits.

    Returns the registration's id.
    """
    today = today or date.today()
    if actor.account_id != shared.vendor_account_id:
        raise Forbidden(NOT_VENDOR)
    registrations.check_expiry(expires_on, today)
    with shared_deal_change(shared, actor) as change:
        # The registration first, for the request to name it; a refusal rolls both back.
        registration_id = registrations.insert(change.shared, actor, expires_on)
        asked = _decide(
            change.shared, actor, request_id, status="approved", registration_id=registration_id
        )
        change.record(
            "registration_approved",
            "approved the registration request",
            before="requested",
            after=f"active, {registrations.describe(expires_on)}",
            also_notify=asked,
        )
    return registration_id


def decline(shared: SharedDeal, actor: User, request_id: int, reason: str) -> None:
    """Decline the open request with a reason (vendor users only). Commits."""
    if actor.account_id != shared.vendor_account_id:
        raise Forbidden(NOT_VENDOR)
    reason = (reason or "").strip()
    if not reason:
        raise Invalid(REASON_REQUIRED, "reason")
    if len(reason) > MAX_MESSAGE:
        raise Invalid(_("Use at most %(num)s characters.", num=MAX_MESSAGE), "reason")
    with shared_deal_change(shared, actor) as change:
        asked = _decide(change.shared, actor, request_id, status="declined", decline_reason=reason)
        change.record(
            "registration_declined",
            "declined the registration request",
            before="requested",
            after=reason,
            also_notify=asked,
        )


def _company_key(column):
    """A company name compared case- and space-insensitively.

    Literals, not bound parameters: this is the expression of the index
    ix_deals_registered_company_key, and SQLite matches an expression index only to
    the same text.
    """
    return sa.func.lower(sa.func.replace(column, sa.literal_column("' '"), sa.literal_column("''")))


def conflicts_select(
    vendor_account_id, partner_account_id, partner_deal_id, today, only_if=None
) -> sa.Select:
    """Other partners' active registrations on deals whose company name matches this one's:
    SELECT (partner, deal name, company), the first 20 by partner and deal. The company is
    the partner's deal's; a deal without a company conflicts with none.

    The shared deal's parties, partner deal and `today` are values or bind parameters; the
    partner deal's company is read in the same statement, so the deal page can run this
    inside its card statement (services/shared_card.py). `only_if`: a condition without
    which there are none, tested with that company, before any other deal is read.
    """
    own, other = aliased(Deal), aliased(SharedDeal)
    wanted = sa.select(_company_key(own.company_name)).where(
        own.id == partner_deal_id, _company_key(own.company_name) != ""
    )
    if only_if is not None:
        wanted = wanted.where(only_if)
    wanted = wanted.scalar_subquery()
    # SQLite must start from the company's few registered deals: with sampled statistics
    # (analysis_limit) it would walk every shared deal of the vendor instead, testing each
    # deal's company (1,000,000 deals: 15-22 ms against 8 ms). `+ 0` keeps it from reading
    # the vendor's shared deals by index; PostgreSQL plans from its own statistics.
    vendor = other.vendor_account_id + 0 if on_sqlite() else other.vendor_account_id
    return (
        sa.select(Account.name, Deal.name, Deal.company_name)
        .select_from(other)
        .join(Deal, Deal.id == other.partner_deal_id)
        .join(Account, Account.id == other.partner_account_id)
        .where(
            vendor == vendor_account_id,
            other.partner_account_id != partner_account_id,
            _company_key(Deal.company_name) == wanted,
            # An active registration implies it (migration 0008); the index holds only these.
            Deal.registered_until.is_not(None),
            sa.exists(
                sa.select(1).where(
                    DealRegistration.shared_deal_id == other.id, active_condition(today)
                )
            ),
        )
        .order_by(Account.name, Deal.name)
        .limit(20)
    )
