"""What the deal page shows of a shared deal: the parties, team, products, registrations, notes.

Everything is read through the viewer's own deal (`services.deal_page.head_for`), so a
shared deal is reachable only from the deal id of one of its two parties.
"""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from catalog import gettext as _
from extensions import db, on_sqlite
from models import (
    Account,
    Activity,
    Deal,
    DealRegistration,
    DealTeamMember,
    Product,
    ProductInterest,
    RegistrationRequest,
    SharedDeal,
    Stage,
    User,
)
from services import (
    activity,
    changes,
    deal_page,
    registration_requests,
    registrations,
    shared_notes,
    team,
)
from services.errors import NotFound

# The Activity shows its newest rows, then "Show more": rendering its rows (each moment
# formatted, each summary translated) was most of the deal page's time at 50.
ACTIVITY_PAGE_SIZE = 20
# The card's registrations and requests: the newest this many of each list, and every
# active registration and the open request besides; the rest on the deal's registration
# history page. A deal registered again every year would otherwise grow its card, and
# every registration save's answer, by a row a year.
CARD_HISTORY = 2
EVERY_ROW = None  # `card_for(shown=...)`: the history page's, every row
# The lists of the card statement (`card_for(lists=...)`), each a kind of row of one UNION ALL.
CARD_LISTS = frozenset(
    ("party", "member", "product", "catalogue", "registration", "request", "candidate", "conflict")
)
# All but the registrations that conflict with an open request: for a caller that knows
# none is open, or shows no registrations.
NO_CONFLICTS = CARD_LISTS - {"conflict"}


@dataclass
class SharedCard:
    """The "Shared deal" card as one viewer sees it: everything its template shows."""

    shared: SharedDeal
    viewer: User
    own_account: Account
    other_account: Party
    members: list[team.Member]
    products: list[Choice]
    catalogue: list[Choice]
    registrations: list[registrations.RegistrationRow]
    # Who the viewer may tick in "Edit deal team": their account's active users, and
    # members of their account deactivated since (listed, ticked, so they can be removed).
    team_candidates: list[Choice]
    team_inactive_members: list[team.Member]
    today: date
    # The other party's own stage of its deal: shown read-only ("Their stage").
    other_stage: str = ""
    requests: list[registration_requests.RequestRow] = dataclasses.field(default_factory=list)
    # Shown to vendor users before they approve an open request.
    conflicts: list[registration_requests.Conflicting] = dataclasses.field(default_factory=list)
    # How many registrations and requests the shared deal has; the lists may show fewer.
    registrations_total: int = 0
    requests_total: int = 0

    @property
    def history_left_out(self) -> bool:
        """Whether the card leaves out older registrations or requests."""
        return self.registrations_total > len(self.registrations) or self.requests_total > len(
            self.requests
        )

    @property
    def open_request(self) -> registration_requests.RequestRow | None:
        return next((r for r in self.requests if r.status == "requested"), None)

    @property
    def can_request(self) -> bool:
        """A partner user may ask for a registration: none open, the deal not registered."""
        return (
            not self.viewer_is_vendor
            and self.open_request is None
            and self.active_registrations == 0
        )

    notes = shared_notes.NOTES

    @property
    def viewer_is_vendor(self) -> bool:
        return self.own_account.kind == "vendor"

    @property
    def other_party_label(self) -> str:
        """The other party's field label: "Partner" for vendor users, "Vendor" for partners."""
        return _("Vendor") if self.other_account.kind == "vendor" else _("Partner")

    @property
    def own_member_ids(self) -> set[int]:
        """The viewer's account's members of the team: what "Edit deal team" starts ticked."""
        return {m.user_id for m in self.members if m.account_id == self.own_account.id}

    @property
    def other_member_names(self) -> list[str]:
        return [m.full_name for m in self.members if m.account_id != self.own_account.id]

    @property
    def product_ids(self) -> set[int]:
        return {p.id for p in self.products}

    @property
    def active_registrations(self) -> int:
        return sum(1 for r in self.registrations if r.status == "active")


@dataclass
class NotesCard:
    """All a shared note's part reads of the card (card/_note.html): the notes and the
    shared deal. A note's view, edit and save load nothing more (`card_for` is one
    statement over every list of the card, and the objects made of it)."""

    shared: SharedDeal
    notes = shared_notes.NOTES


def notes_card(_user: User, shared: SharedDeal) -> NotesCard:
    return NotesCard(shared)


def shared_deal_for(user: User, deal_id: int) -> tuple[Deal, SharedDeal]:
    """The user's own deal `deal_id` and its shared deal.

    Raises NotFound for another account's deal, a missing one, or an unshared one.
    """
    head = deal_page.head_for(user, deal_id, page=False)  # one statement for both
    deal, shared = head.deal, head.shared
    if shared is None:
        raise NotFound(f"Deal {deal_id} is not shared.")
    return deal, shared


def shared_deal_of(user: User, deal_id: int, lock: bool = False) -> SharedDeal:
    """The shared deal of the user's own deal `deal_id`, alone: what a card's route reads
    (the card's parts need no more of the deal than its id).

    One small statement, by the user's side of the shared deal: a shared deal's deal of
    a side lives in that side's account (a foreign key), so no deal row is read. Raises
    NotFound for another account's deal, a missing one, or an unshared one.

    `lock=True`, for a change (inside `changes.answering()`): on PostgreSQL the row is
    read under its lock, so the service's own lock of it (`changes.lock_row`) sends no
    second statement. On SQLite, whose lock is the whole database's, the service takes
    it, after its checks, as before: the read is a plain one.
    """
    parameters = {"deal_id": deal_id, "account_id": user.account_id}
    lock = lock and not on_sqlite()
    shared = db.session.scalar(_shared_deal_of_statement(user.account.kind, lock), parameters)
    if shared is None:
        raise NotFound(f"Deal {deal_id} is not a shared deal of this account.")
    return changes.locked(shared) if lock else shared


@functools.cache
def _shared_deal_of_statement(account_kind: str, lock: bool) -> sa.Select:
    # Built once per side (bind parameters): it runs before every change of the card.
    statement = sa.select(SharedDeal).where(
        SharedDeal.deal_id_column(account_kind) == sa.bindparam("deal_id", type_=sa.Integer),
        SharedDeal.account_id_column(account_kind) == sa.bindparam("account_id", type_=sa.Integer),
    )
    return changes.locking(statement) if lock else statement


def card_for(
    user: User,
    shared: SharedDeal,
    today: date | None = None,
    shown: int | None = CARD_HISTORY,
    lists: frozenset[str] = CARD_LISTS,
) -> SharedCard:
    """Load everything the card shows in one statement (`_card_statement`), no lazy loads.

    `lists`: only these of the card's lists (CARD_LISTS), the other party's always, the
    rest left empty: for a change's answer that shows a part of the card, or NO_CONFLICTS.
    The conflicts (the vendor's alone) are worth leaving out when no request can be open:
    on PostgreSQL their list makes the statement's generic plan look dearer than planning
    it anew, so with it the statement is planned at every run (1,000,000 shared deals:
    ~2.5 ms a run).

    `shown`: how many of the newest registrations and requests, with the active ones and
    the open one besides (CARD_HISTORY; EVERY_ROW for the registration history page).
    """
    today = today or date.today()
    kinds: dict[str, list] = {kind: [] for kind in CARD_LISTS}
    is_vendor = user.account_id == shared.vendor_account_id
    parameters = {
        "shared_id": shared.id,
        "account_id": user.account_id,
        "other_account_id": shared.other_account_id(user.account_id),
        "other_deal_id": shared.other_deal_id(user.account_id),
        "vendor_account_id": shared.vendor_account_id,
        "partner_account_id": shared.partner_account_id,
        "partner_deal_id": shared.partner_deal_id,
        "today": today,
    }
    lists = lists if is_vendor else lists - {"conflict"}
    for row in db.session.execute(_card_statement(lists), parameters):
        kinds[row.kind].append(row)
    (party,) = kinds["party"]
    members = [
        team.Member(r.id, r.text1, r.number, r.text2, r.text3, bool(r.flag))
        for r in kinds["member"]
    ]
    candidates = [Choice(r.id, r.text1) for r in kinds["candidate"]]
    candidate_ids = {c.id for c in candidates}
    registration_rows = [
        registrations.RegistrationRow(
            id=r.id,
            status=DealRegistration.status_of(r.day, r.at2, today),
            registered_by=r.text1 or "",
            registered_at=r.at1,
            expires_on=r.day,
            deregistered_at=r.at2,
            deregistered_by=r.text2 or "",
        )
        for r in kinds["registration"]
    ]
    request_rows = [
        registration_requests.RequestRow(
            id=r.id,
            status=r.text1,
            requested_by=r.text2 or "",
            requested_at=r.at1,
            message=r.text3,
            decided_by=r.text4 or "",
            decided_at=r.at2,
            decline_reason=r.text5,
        )
        for r in kinds["request"]
    ]
    return SharedCard(
        shared=shared,
        viewer=user,
        own_account=user.account,
        other_account=Party(party.id, party.text1, party.text2),
        members=members,
        products=[Choice(r.id, r.text1) for r in kinds["product"]],
        catalogue=[Choice(r.id, r.text1) for r in kinds["catalogue"]],
        registrations=_newest(registration_rows, shown, lambda r: r.status == "active"),
        registrations_total=len(registration_rows),
        team_candidates=candidates,
        team_inactive_members=[
            m for m in members if m.account_id == user.account_id and m.user_id not in candidate_ids
        ],
        today=today,
        other_stage=party.text3,
        requests=_newest(request_rows, shown, lambda r: r.status == "requested"),
        requests_total=len(request_rows),
        conflicts=[
            registration_requests.Conflicting(r.text1, r.text2, r.text3) for r in kinds["conflict"]
        ],
    )


def _newest(rows: list, shown: int | None, kept) -> list:
    """The first `shown` of `rows` (newest first), and those after them that `kept` keeps.

    The card statement reads every registration and request: a deal has a few, and a
    bound in SQL (each list numbered, counted and filtered) cost more than reading them
    (callgrind, the vendor's deal page against stop 26's: +1.8 % instructions, +0.4 % here)."""
    if shown is None:
        return rows
    return [row for position, row in enumerate(rows) if position < shown or kept(row)]


@dataclass(frozen=True)
class Party:
    """The other party of a shared deal, as the card names it."""

    id: int
    name: str
    kind: str


@dataclass(frozen=True)
class Choice:
    """A product or a user as the card lists it: what it shows and what a form posts."""

    id: int
    name: str

    @property
    def full_name(self) -> str:
        return self.name


# Every row of the card statement's UNION ALL has all the columns below, NULL where its
# kind (CARD_LISTS) has nothing to say.
_CARD_COLUMNS = {
    "id": sa.Integer(),
    "number": sa.Integer(),
    "flag": sa.Boolean(),
    "text1": sa.Text(),
    "text2": sa.Text(),
    "text3": sa.Text(),
    "text4": sa.Text(),
    "text5": sa.Text(),
    "at1": DealRegistration.registered_at.type,
    "at2": DealRegistration.deregistered_at.type,
    "day": DealRegistration.expires_on.type,
}


def _rows(kind: str, order_by, **columns) -> sa.Select:
    """One list of the card statement: `columns` by name, its order kept as `position`."""
    return sa.select(
        sa.literal(kind, sa.Text).label("kind"),
        sa.func.row_number().over(order_by=order_by).label("position"),
        *(_column(columns.get(name), type_).label(name) for name, type_ in _CARD_COLUMNS.items()),
    )


def _parameter(name: str):
    return sa.bindparam(name, type_=sa.Integer)


def _column(value, type_):
    """A column of the union, typed alike in every list (CAST, which SQLite would turn a
    stored date or time into a number with, only for NULL and the plain types)."""
    if value is None:
        return sa.cast(sa.null(), type_)
    if isinstance(type_, sa.Date | sa.DateTime):
        return sa.type_coerce(value, type_)
    return sa.cast(value, type_)


@functools.cache
def _card_statement(lists: frozenset[str]) -> sa.Select:
    """The card's lists in one statement: the other party and its stage, the team, product
    interest and the catalogue, registrations, requests, who may join the team and (the
    vendor's users), while a request is open, the conflicting registrations; of these,
    the other party and those in `lists`.

    Built once each, with bind parameters (see `card_for`): building a statement this
    size costs more than running it.
    """
    shared_id, account_id = _parameter("shared_id"), _parameter("account_id")
    other_stage = (
        sa.select(Stage.name)
        .join(Deal, Deal.stage_id == Stage.id)
        .where(Deal.id == _parameter("other_deal_id"))
        .scalar_subquery()
    )
    registered_by, deregistered_by = aliased(User), aliased(User)
    requester, decider = aliased(User), aliased(User)
    every = {
        "party": _rows(
            "party",
            Account.id,
            id=Account.id,
            text1=Account.name,
            text2=Account.kind,
            text3=other_stage,
        ).where(Account.id == _parameter("other_account_id")),
        # The partner's members first ("partner" sorts before "vendor"), then by name.
        "member": _rows(
            "member",
            (Account.kind, User.full_name, User.id),
            id=User.id,
            text1=User.full_name,
            number=Account.id,
            text2=Account.name,
            text3=Account.kind,
            flag=User.active,
        )
        .select_from(DealTeamMember)
        .join(User, User.id == DealTeamMember.user_id)
        .join(Account, Account.id == User.account_id)
        .where(DealTeamMember.shared_deal_id == shared_id),
        "product": _rows(
            "product", (Product.position, Product.name), id=Product.id, text1=Product.name
        )
        .join(ProductInterest, ProductInterest.product_id == Product.id)
        .where(ProductInterest.shared_deal_id == shared_id),
        "catalogue": _rows(
            "catalogue",
            (Product.vendor_account_id, Product.position, Product.name),
            id=Product.id,
            text1=Product.name,
        ).where(Product.vendor_account_id == _parameter("vendor_account_id")),
        "registration": _rows(
            "registration",
            (DealRegistration.registered_at.desc(), DealRegistration.id.desc()),
            id=DealRegistration.id,
            text1=registered_by.full_name,
            text2=deregistered_by.full_name,
            at1=DealRegistration.registered_at,
            at2=DealRegistration.deregistered_at,
            day=DealRegistration.expires_on,
        )
        .select_from(DealRegistration)
        .outerjoin(registered_by, registered_by.id == DealRegistration.registered_by_id)
        .outerjoin(deregistered_by, deregistered_by.id == DealRegistration.deregistered_by_id)
        .where(DealRegistration.shared_deal_id == shared_id),
        "request": _rows(
            "request",
            RegistrationRequest.id.desc(),
            id=RegistrationRequest.id,
            text1=RegistrationRequest.status,
            text2=requester.full_name,
            text3=RegistrationRequest.message,
            text4=decider.full_name,
            text5=RegistrationRequest.decline_reason,
            at1=RegistrationRequest.requested_at,
            at2=RegistrationRequest.decided_at,
        )
        .select_from(RegistrationRequest)
        .outerjoin(requester, requester.id == RegistrationRequest.requested_by_id)
        .outerjoin(decider, decider.id == RegistrationRequest.decided_by_id)
        .where(RegistrationRequest.shared_deal_id == shared_id),
        # Who "Edit deal team" offers: the viewer's account's active users, by name.
        "candidate": _rows(
            "candidate", (User.full_name, User.id), id=User.id, text1=User.full_name
        ).where(User.account_id == account_id, User.active.is_(True)),
    }
    parts = [rows for kind, rows in every.items() if kind == "party" or kind in lists]
    if "conflict" in lists:
        open_request = sa.exists().where(
            RegistrationRequest.shared_deal_id == shared_id,
            RegistrationRequest.is_open(),
        )
        # Asked twice. With the partner deal's company, before any other deal is read:
        # SQLite, which tested it on the conflicts found, read the company's registered
        # deals to drop them all. And on the list: PostgreSQL tests that once, before
        # anything (a One-Time Filter); asked only inside, it planned the list whole,
        # parallel workers and all (the vendor's card at 1,000,000 deals: 0.43 -> 11.5 ms).
        conflicts = registration_requests.conflicts_select(
            _parameter("vendor_account_id"),
            _parameter("partner_account_id"),
            _parameter("partner_deal_id"),
            sa.bindparam("today", type_=sa.Date),
            only_if=open_request,
        ).subquery()
        partner, deal_name, company = conflicts.c
        parts.append(
            _rows(
                "conflict",
                (partner, deal_name),
                text1=partner,
                text2=deal_name,
                text3=company,
            ).where(open_request)
        )
    union = sa.union_all(*parts).subquery("card")
    return sa.select(union).order_by(union.c.kind, union.c.position)


def activity_mark() -> int:
    """Where the request's history stands: what a change records next comes after it."""
    return activity.recorded_mark()


def activity_after(shared: SharedDeal, mark: int) -> list[activity.HistoryRow]:
    """The shared deal's history rows the request recorded after `mark` (activity_mark),
    newest first (`activity_for`'s columns): from what the change wrote, not read back.
    On PostgreSQL the answer is made under the change's lock (changes.answering): no one
    else's row can come between. On SQLite, where it is made after the commit, another's
    may; it shows when the page is next read, as any other change does."""
    return activity.recorded_since(mark, shared.id)


def activity_for(shared: SharedDeal, before_id: int | None = None, limit: int = ACTIVITY_PAGE_SIZE):
    """The shared deal's history, newest first: up to `limit` rows older than `before_id`.

    Returns (rows, has_more). A row has what the Activity shows: the Activity's columns
    and `actor_name` (None for the system), not Activity objects: loading 20 of them
    with their actors cost more than the statement.
    """
    parameters = {"shared_id": shared.id, "before_id": before_id}
    rows = list(db.session.execute(_activity_statement(before_id is not None, limit), parameters))
    return rows[:limit], len(rows) > limit


def _activity_rows() -> sa.Select:
    """A shared deal's history, newest first, each row with its actor's name."""
    return (
        sa.select(
            Activity.id,
            Activity.action,
            Activity.summary,
            Activity.before,
            Activity.after,
            Activity.created_at,
            User.full_name.label("actor_name"),
        )
        .outerjoin(User, User.id == Activity.actor_id)
        .where(Activity.shared_deal_id == sa.bindparam("shared_id", type_=sa.Integer))
        .order_by(Activity.id.desc())
    )


# Built once (bind parameters): they run on every deal page and after every change.


@functools.cache
def _activity_statement(older: bool, limit: int) -> sa.Select:
    statement = _activity_rows().limit(limit + 1)  # one more: whether to offer "Show more"
    if older:
        statement = statement.where(Activity.id < sa.bindparam("before_id", type_=sa.Integer))
    return statement
