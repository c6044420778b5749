"""Registration requests: a partner asks the vendor to register a shared deal.

requested -> approved (the vendor rep's approval makes the active DealRegistration,
optionally with an expiry date) or declined (with a reason). One open request per
shared deal at a time; only the partner's users request, only the vendor's users
decide. The requester hears of the decision even when no longer on the team.
Requested and declined requests never count as registrations: only the
DealRegistration an approval makes does (services/registration_queries.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from catalog import gettext as _
from catalog import lazy_gettext as _l
from extensions import db, on_sqlite
from models import Account, Deal, DealRegistration, RegistrationRequest, SharedDeal, User, utcnow
from services.changes import shared_deal_change
from services.errors import Forbidden, Invalid, NotFound
from services.registration_queries import active_condition

MAX_MESSAGE = 1000
NOT_PARTNER = _l("Only the partner's users can request a registration.")
NOT_VENDOR = _l("Only the vendor's users can approve or decline a registration request.")
ALREADY_OPEN = _l("A registration request is already open for this deal.")
ALREADY_REGISTERED = _l("This deal is already registered.")
ALREADY_DECIDED = _l("This request was already approved or declined.")
REASON_REQUIRED = _l("Give a reason for declining.")
EXPIRY_IN_PAST = _l("The expiry date cannot be in the past.")


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


def rows_for(shared: SharedDeal) -> list[RequestRow]:
    """The shared deal's requests, newest first."""
    requester, decider = aliased(User), aliased(User)
    rows = db.session.execute(
        sa.select(RegistrationRequest, requester.full_name, decider.full_name)
        .outerjoin(requester, requester.id == RegistrationRequest.requested_by_id)
        .outerjoin(decider, decider.id == RegistrationRequest.decided_by_id)
        .where(RegistrationRequest.shared_deal_id == shared.id)
        .order_by(RegistrationRequest.id.desc())
    )
    return [
        RequestRow(
            id=r.id,
            status=r.status,
            requested_by=by or "",
            requested_at=r.requested_at,
            message=r.message,
            decided_by=decided or "",
            decided_at=r.decided_at,
            decline_reason=r.decline_reason,
        )
        for r, by, decided in rows
    ]


def _open_request(shared_id: int) -> RegistrationRequest | None:
    return db.session.scalar(
        sa.select(RegistrationRequest).where(
            RegistrationRequest.shared_deal_id == shared_id,
            RegistrationRequest.is_open(),
        )
    )


def _is_registered(shared_id: int, today: date) -> bool:
    return bool(
        db.session.scalar(
            sa.select(sa.func.count(DealRegistration.id)).where(
                DealRegistration.shared_deal_id == shared_id, active_condition(today)
            )
        )
    )


def request(
    shared: SharedDeal, actor: User, message: str = "", today: date | None = None
) -> RegistrationRequest:
    """Ask the vendor to register the shared deal (partner users only). Commits.

    Refused (Invalid) while another request is open or the deal is registered.
    The shared deal's row lock makes two simultaneous requests one after the other.
    """
    today = today or date.today()
    if actor.account_id != shared.partner_account_id:
        raise Forbidden(NOT_PARTNER)
    message = (message or "").strip()
    if len(message) > MAX_MESSAGE:
        raise Invalid(_("Use at most %(num)s characters.", num=MAX_MESSAGE), "message")
    with shared_deal_change(shared, actor) as change:
        if _open_request(change.shared.id) is not None:
            raise Invalid(ALREADY_OPEN)
        if _is_registered(change.shared.id, today):
            raise Invalid(ALREADY_REGISTERED)
        made = RegistrationRequest(
            shared_deal_id=change.shared.id, requested_by_id=actor.id, message=message
        )
        db.session.add(made)
        db.session.flush()
        change.record("registration_requested", "requested a registration", after=message or None)
    return made


def _decide(shared: SharedDeal, actor: User, request_id: int):
    """The open request `request_id` of the locked shared deal, for a vendor user."""
    if actor.account_id != shared.vendor_account_id:
        raise Forbidden(NOT_VENDOR)
    made = db.session.scalar(
        sa.select(RegistrationRequest)
        .where(
            RegistrationRequest.id == request_id,
            RegistrationRequest.shared_deal_id == shared.id,
        )
        .execution_options(populate_existing=True)
    )
    if made is None:
        raise NotFound(f"No registration request {request_id} on this shared deal.")
    if made.status != "requested":
        raise Invalid(ALREADY_DECIDED)
    made.decided_by_id, made.decided_at = actor.id, utcnow()
    return made


def approve(
    shared: SharedDeal,
    actor: User,
    request_id: int,
    expires_on: date | None,
    today: date | None = None,
) -> DealRegistration:
    """Approve the open request (vendor users only): the deal is registered. Commits."""
    today = today or date.today()
    if actor.account_id != shared.vendor_account_id:
        raise Forbidden(NOT_VENDOR)
    if expires_on is not None and expires_on < today:
        raise Invalid(EXPIRY_IN_PAST, "expires_on")
    with shared_deal_change(shared, actor) as change:
        made = _decide(change.shared, actor, request_id)
        registration = DealRegistration(
            shared_deal_id=change.shared.id, registered_by_id=actor.id, expires_on=expires_on
        )
        db.session.add(registration)
        db.session.flush()
        made.status, made.registration_id = "approved", registration.id
        expiry = f"expires {expires_on.isoformat()}" if expires_on else "no expiry"
        change.record(
            "registration_approved",
            "approved the registration request",
            before="requested",
            after=f"active, {expiry}",
            also_notify=[made.requested_by_id] if made.requested_by_id else (),
        )
    return registration


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
        made = _decide(change.shared, actor, request_id)
        made.status, made.decline_reason = "declined", reason
        change.record(
            "registration_declined",
            "declined the registration request",
            before="requested",
            after=reason,
            also_notify=[made.requested_by_id] if made.requested_by_id else (),
        )


def _company_key(column):
    """A company name compared case- and space-insensitively.

    Literals, not bound parameters: this is the expression of the index
    ix_deals_registered_company_key, and SQLite matches an expression index only to
    the same text.
    """
    return sa.func.lower(sa.func.replace(column, sa.literal_column("' '"), sa.literal_column("''")))


def conflicts_for(shared: SharedDeal, today: date | None = None) -> list[Conflicting]:
    """Other partners' active registrations on deals whose company name matches this one's.

    The company is the partner's deal's; a deal without a company conflicts with none.
    """
    select = conflicts_select(
        shared.vendor_account_id,
        shared.partner_account_id,
        shared.partner_deal_id,
        today or date.today(),
    )
    return [Conflicting(*row) for row in db.session.execute(select)]


def conflicts_select(
    vendor_account_id, partner_account_id, partner_deal_id, today, only_if=None
) -> sa.Select:
    """SELECT (partner, deal name, company) of `conflicts_for`, the first 20 by partner and deal.

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
