"""The tables. Domain rules live in services/; these classes only keep data honest."""

from __future__ import annotations

import secrets
from datetime import UTC, date, datetime
from decimal import Decimal

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.ext.hybrid import hybrid_method
from sqlalchemy.orm import Mapped, mapped_column, relationship

from extensions import db, written_in

ACCOUNT_KINDS = ("partner", "vendor")
OTHER_KIND = {"partner": "vendor", "vendor": "partner"}
ROLES = ("admin", "member")
VIEW_VISIBILITIES = ("private", "account")

# The free-text search indexes (migration 0002, read by services/search.py) are not
# in the metadata: an FTS5 table and its shadow tables on SQLite, pg_trgm indexes on
# PostgreSQL. Alembic's autogenerate and compare skip them through this hook.
SEARCH_INDEX_TABLE = "deals_fts"
# PostgreSQL also keeps the names lower-cased, with an index of the default order that
# holds them (migration 0015): what the search's LIKE reads there.
FOLDED_NAMES = ("name_folded", "company_folded")
SEARCH_INDEX_NAMES = (
    "ix_deals_name_trgm",
    "ix_deals_company_name_trgm",
    "ix_deals_account_created_folded",
)

# An amount's band for the board's counts (services.board_counts.bucket), in SQL: the
# cents below 100, else their number of digits times 100 plus their first two digits.
# Word for word as migration 0012's triggers and its expression index BUCKET_INDEX on
# deals (account_id, stage_id, band, amount) write it: a query finds that index only by
# this text. Like the search indexes, that index is the migration's alone: PostgreSQL
# reflects the expression in its own words, which never compare equal to these.
BUCKET_INDEX = "ix_deals_account_stage_bucket"
_WHOLE = "CAST(round({amount} * 100) AS BIGINT)"
BUCKET_SQL = (
    f"CASE WHEN {_WHOLE} < 100 THEN {_WHOLE} ELSE length(CAST({_WHOLE} AS TEXT)) * 100 "
    f"+ CAST(substr(CAST({_WHOLE} AS TEXT), 1, 2) AS INTEGER) END"
)


def include_in_autogenerate(name: str | None, type_: str, parent_names: dict) -> bool:
    """Alembic `include_name` hook: False for the search index objects (the folded names
    among them) and the amount band's expression index, else True."""
    if type_ == "table":
        return not (name or "").startswith(SEARCH_INDEX_TABLE)
    if type_ == "column":
        return not (parent_names.get("table_name") == "deals" and name in FOLDED_NAMES)
    if type_ == "index":
        return name not in SEARCH_INDEX_NAMES and name != BUCKET_INDEX
    return True


def new_session_token() -> str:
    """A fresh random session token (see User.get_id); 43 URL-safe characters."""
    return secrets.token_urlsafe(32)


def utcnow() -> datetime:
    """Timezone-aware now; stored as naive UTC so SQLite and PostgreSQL agree."""
    return datetime.now(UTC).replace(tzinfo=None)


def partial_index(name: str, *columns, where: str, unique: bool = False) -> sa.Index:
    """An index of the rows meeting `where` only, on SQLite and PostgreSQL alike."""
    condition = sa.text(where)
    return sa.Index(
        name, *columns, unique=unique, sqlite_where=condition, postgresql_where=condition
    )


class Account(db.Model):
    __tablename__ = "accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(120), unique=True)
    kind: Mapped[str] = mapped_column(sa.String(10))
    # IANA name ("Europe/Paris"): the default for the account's users; None: UTC.
    time_zone: Mapped[str | None] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (sa.CheckConstraint("kind IN ('partner', 'vendor')", name="kind"),)

    @property
    def is_vendor(self) -> bool:
        return self.kind == "vendor"

    def __repr__(self) -> str:
        return f"<Account {self.name}>"


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(sa.ForeignKey("accounts.id"), index=True)
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    full_name: Mapped[str] = mapped_column(sa.String(120))
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    role: Mapped[str] = mapped_column(sa.String(10), default="member")
    active: Mapped[bool] = mapped_column(default=True)
    # Part of the id kept in the session and remember-me cookies: a new token ends them all.
    session_token: Mapped[str] = mapped_column(sa.String(64), default=new_session_token)
    # The UI language the user chose ("en", "fr"); None: the browser's Accept-Language.
    language: Mapped[str | None] = mapped_column(sa.String(8))
    # IANA name ("Europe/Paris"); None: the account's time zone, else UTC.
    time_zone: Mapped[str | None] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    # Loaded with the user, by an inner join; "unnested": where the user itself is joined
    # by an outer join (a deal's owner, an activity's actor), the account follows by a
    # second LEFT OUTER JOIN, not `LEFT OUTER JOIN (users JOIN accounts)`. SQLite cannot
    # flatten that nested join: it built every user with their account first (3,000
    # users: 6-15 ms a statement). Every user has an account, so the rows are the same.
    account: Mapped[Account] = relationship(lazy="joined", innerjoin="unnested")

    __table_args__ = (
        sa.CheckConstraint("role IN ('admin', 'member')", name="role"),
        # Target of composite foreign keys: "a user of *this* account".
        sa.UniqueConstraint("account_id", "id", name="uq_users_account_id_id"),
    )

    @property
    def is_active(self) -> bool:  # Flask-Login: inactive users cannot log in
        return self.active

    def get_id(self) -> str:
        """Flask-Login: the id stored in the session and the remember-me cookie."""
        return f"{self.id}:{self.session_token}"

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    def __repr__(self) -> str:
        return f"<User {self.email}>"


class Pipeline(db.Model):
    __tablename__ = "pipelines"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(sa.ForeignKey("accounts.id"))
    name: Mapped[str] = mapped_column(sa.String(120))
    position: Mapped[int] = mapped_column(default=0)

    stages: Mapped[list[Stage]] = relationship(
        order_by="Stage.position", back_populates="pipeline", lazy="raise"
    )

    __table_args__ = (
        sa.UniqueConstraint("account_id", "name", name="uq_pipelines_account_id_name"),
        sa.UniqueConstraint("account_id", "id", name="uq_pipelines_account_id_id"),
    )


class Stage(db.Model):
    __tablename__ = "stages"

    id: Mapped[int] = mapped_column(primary_key=True)
    pipeline_id: Mapped[int] = mapped_column(sa.ForeignKey("pipelines.id"))
    name: Mapped[str] = mapped_column(sa.String(120))
    position: Mapped[int] = mapped_column(default=0)

    pipeline: Mapped[Pipeline] = relationship(back_populates="stages", lazy="raise")

    __table_args__ = (
        sa.UniqueConstraint("pipeline_id", "name", name="uq_stages_pipeline_id_name"),
        sa.UniqueConstraint("pipeline_id", "id", name="uq_stages_pipeline_id_id"),
    )


class AccountSettings(db.Model):
    """Per-account settings; one row per account."""

    __tablename__ = "account_settings"

    account_id: Mapped[int] = mapped_column(sa.ForeignKey("accounts.id"), primary_key=True)
    referred_pipeline_id: Mapped[int | None] = mapped_column()
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    __table_args__ = (
        # The referred deals pipeline must be one of the account's own pipelines.
        sa.ForeignKeyConstraint(
            ["account_id", "referred_pipeline_id"],
            ["pipelines.account_id", "pipelines.id"],
            name="fk_account_settings_referred_pipeline",
        ),
    )


class Product(db.Model):
    """The vendor's catalogue: what "Product interest" picks from."""

    __tablename__ = "products"

    id: Mapped[int] = mapped_column(primary_key=True)
    vendor_account_id: Mapped[int] = mapped_column(sa.ForeignKey("accounts.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    position: Mapped[int] = mapped_column(default=0)

    __table_args__ = (
        sa.UniqueConstraint("vendor_account_id", "name", name="uq_products_vendor_name"),
    )


class Deal(db.Model):
    """A deal in one account's CRM."""

    __tablename__ = "deals"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(sa.ForeignKey("accounts.id"))
    name: Mapped[str] = mapped_column(sa.String(200))
    company_name: Mapped[str] = mapped_column(sa.String(200), default="")
    amount: Mapped[Decimal | None] = mapped_column(sa.Numeric(14, 2))
    close_date: Mapped[date | None] = mapped_column()
    pipeline_id: Mapped[int] = mapped_column()
    stage_id: Mapped[int] = mapped_column()
    owner_id: Mapped[int | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    # The last day the deal has an active registration: the latest expiry of its shared
    # deal's registrations not deregistered (9999-12-31 for one without expiry);
    # NULL when there is none. Written only by the triggers of migration 0008 on
    # deal_registrations, read by `registration_queries.has_active_registration`:
    # "registered today" is `registered_until >= today`, so an expiry needs no write.
    registered_until: Mapped[date | None] = mapped_column()
    # When its shared deal's open registration request was made (at most one is open);
    # NULL when none is. Written only by the triggers of migration 0017 on
    # registration_requests, read by `registration_queries.has_open_request`.
    open_request_since: Mapped[datetime | None] = mapped_column()
    # The other party's account when the deal is shared (the vendor's on a partner's
    # deal, the partner's on the vendor's); NULL when it is not. Written only by the
    # triggers of migration 0020 on shared_deals, read by the index's "Shared with".
    shared_with_account_id: Mapped[int | None] = mapped_column()

    pipeline: Mapped[Pipeline] = relationship(
        foreign_keys=[pipeline_id], primaryjoin="Deal.pipeline_id == Pipeline.id", lazy="raise"
    )
    stage: Mapped[Stage] = relationship(
        foreign_keys=[stage_id], primaryjoin="Deal.stage_id == Stage.id", lazy="raise"
    )
    owner: Mapped[User | None] = relationship(
        foreign_keys=[owner_id], primaryjoin="Deal.owner_id == User.id", lazy="raise"
    )

    __table_args__ = (
        # A deal's pipeline belongs to its account, its stage to its pipeline,
        # and its owner is a user of its account.
        sa.ForeignKeyConstraint(
            ["account_id", "pipeline_id"],
            ["pipelines.account_id", "pipelines.id"],
            name="fk_deals_account_pipeline",
        ),
        sa.ForeignKeyConstraint(
            ["pipeline_id", "stage_id"],
            ["stages.pipeline_id", "stages.id"],
            name="fk_deals_pipeline_stage",
        ),
        sa.ForeignKeyConstraint(
            ["account_id", "owner_id"],
            ["users.account_id", "users.id"],
            name="fk_deals_account_owner",
        ),
        sa.UniqueConstraint("account_id", "id", name="uq_deals_account_id_id"),
        # The deals index always filters by account, then sorts by one of these. The
        # default order's also holds what its common filters, the total and the
        # search's LIKE read (migrations 0011, 0014), so its walk to the capped count
        # needs no table row.
        sa.Index(
            "ix_deals_account_created",
            "account_id",
            "created_at",
            "id",
            "amount",
            "close_date",
            "stage_id",
            "owner_id",
            "name",
            "company_name",
        ),
        sa.Index("ix_deals_account_amount", "account_id", "amount", "id"),
        sa.Index("ix_deals_account_close_date", "account_id", "close_date", "id"),
        sa.Index("ix_deals_account_name", "account_id", "name", "id"),
        sa.Index("ix_deals_account_stage", "account_id", "stage_id", "id"),
        sa.Index("ix_deals_account_pipeline", "account_id", "pipeline_id", "id"),
        sa.Index("ix_deals_account_owner", "account_id", "owner_id", "id"),
        # The board: each stage's counts and totals read from the index alone (owner
        # and amount in it), and each column's newest cards straight off it.
        # Registration conflicts: other registered deals of the same company, spaces and
        # case aside (services/registration_requests.conflicts_for), found by key among
        # the registered deals alone, not by reading every deal of the company.
        partial_index(
            "ix_deals_registered_company_key",
            sa.text("lower(replace(company_name, ' ', ''))"),
            where="registered_until IS NOT NULL",
        ),
        sa.Index(
            "ix_deals_account_stage_board",
            "account_id",
            "stage_id",
            "created_at",
            "owner_id",
            "amount",
        ),
        # A board sorted by amount: each stage's largest (smallest) deals from the index.
        sa.Index("ix_deals_account_stage_amount", "account_id", "stage_id", "amount", "id"),
        # The board filtered by amount reads an expression index of migration 0012 too,
        # BUCKET_INDEX (not in the metadata, see BUCKET_SQL).
        # "Registered deals": the few deals ever registered, newest first, with what the
        # index's count and total read (registered_until, amount), without a table row.
        partial_index(
            "ix_deals_account_registered",
            "account_id",
            "created_at",
            "id",
            "registered_until",
            "amount",
            where="registered_until IS NOT NULL",
        ),
        # "Registration requests": the deals with an open request, the same way.
        partial_index(
            "ix_deals_account_open_request",
            "account_id",
            "created_at",
            "id",
            "open_request_since",
            "amount",
            where="open_request_since IS NOT NULL",
        ),
        # "Shared with": the shared deals by the other party, the same way.
        partial_index(
            "ix_deals_account_shared_with",
            "account_id",
            "shared_with_account_id",
            "created_at",
            "id",
            "amount",
            where="shared_with_account_id IS NOT NULL",
        ),
    )


class DealCount(db.Model):
    """The board's per-stage counts and totals, as signed deltas: written only by the
    triggers of migration 0010 on `deals`, read by `services.board_counts`.

    Each row says "this many more deals (fewer when negative) and this much more
    amount, in cents, for (account, pipeline, stage, owner)" (owner 0: no owner). A
    write only ever inserts rows, so concurrent writes never wait on each other
    here; the sum of an account's rows per key is exact at every commit, and
    `board_counts.fold` now and then replaces them by one row per key.
    """

    __tablename__ = "deal_counts"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column()
    pipeline_id: Mapped[int] = mapped_column()
    stage_id: Mapped[int] = mapped_column()
    owner_id: Mapped[int] = mapped_column()  # 0: the deals without an owner
    deal_count: Mapped[int] = mapped_column()
    amount_cents: Mapped[int] = mapped_column(sa.BigInteger)

    __table_args__ = (
        # A board's columns read from here alone: account, stage, then each owner's rows.
        sa.Index(
            "ix_deal_counts_account_stage",
            "account_id",
            "stage_id",
            "owner_id",
            "deal_count",
            "amount_cents",
        ),
    )


class DealAmountCount(db.Model):
    """The board's per-stage counts and totals by amount band, as signed deltas: written
    only by the triggers of migration 0012 on `deals`, read by `services.board_counts`.

    Like DealCount, keyed by (account, pipeline, stage, bucket) instead of owner: the
    bucket is the band of the deal's amount in cents (`board_counts.bucket`: its
    number of digits and first two digits), so a board filtered by amount adds up
    the whole bands its range covers here and counts only the deals of the two bands
    at its edges. Deals without an amount have no row.
    """

    __tablename__ = "deal_amount_counts"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column()
    pipeline_id: Mapped[int] = mapped_column()
    stage_id: Mapped[int] = mapped_column()
    bucket: Mapped[int] = mapped_column()
    deal_count: Mapped[int] = mapped_column()
    amount_cents: Mapped[int] = mapped_column(sa.BigInteger)

    __table_args__ = (
        sa.Index(
            "ix_deal_amount_counts_account_stage",
            "account_id",
            "stage_id",
            "bucket",
            "deal_count",
            "amount_cents",
        ),
    )


class SharedDeal(db.Model):
    """Links a partner's deal and the vendor's deal, and holds what they share."""

    __tablename__ = "shared_deals"

    id: Mapped[int] = mapped_column(primary_key=True)
    partner_account_id: Mapped[int] = mapped_column(sa.ForeignKey("accounts.id"))
    vendor_account_id: Mapped[int] = mapped_column(sa.ForeignKey("accounts.id"))
    partner_deal_id: Mapped[int] = mapped_column(unique=True)
    vendor_deal_id: Mapped[int] = mapped_column(unique=True)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    intro_note: Mapped[str] = mapped_column(sa.Text, default="")
    pain_or_opportunity: Mapped[str] = mapped_column(sa.Text, default="")
    next_steps: Mapped[str] = mapped_column(sa.Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    partner_deal: Mapped[Deal] = relationship(
        foreign_keys=[partner_deal_id],
        primaryjoin="SharedDeal.partner_deal_id == Deal.id",
        lazy="raise",
    )
    vendor_deal: Mapped[Deal] = relationship(
        foreign_keys=[vendor_deal_id],
        primaryjoin="SharedDeal.vendor_deal_id == Deal.id",
        lazy="raise",
    )

    __table_args__ = (
        # Each side's deal lives in that side's account.
        sa.ForeignKeyConstraint(
            ["partner_account_id", "partner_deal_id"],
            ["deals.account_id", "deals.id"],
            name="fk_shared_deals_partner_deal",
        ),
        sa.ForeignKeyConstraint(
            ["vendor_account_id", "vendor_deal_id"],
            ["deals.account_id", "deals.id"],
            name="fk_shared_deals_vendor_deal",
        ),
        sa.CheckConstraint("partner_account_id <> vendor_account_id", name="two_parties"),
        # "Shared with": either side's deal ids by the two parties, from the index alone.
        sa.Index(
            "ix_shared_deals_parties",
            "partner_account_id",
            "vendor_account_id",
            "partner_deal_id",
            "vendor_deal_id",
        ),
        sa.Index("ix_shared_deals_vendor_account", "vendor_account_id"),
    )

    # Which side is whose: the one place that knows the partner/vendor column pairs.

    @classmethod
    def account_id_column(cls, kind: str):
        """The column holding the `kind` party's account ("partner" or "vendor")."""
        return cls.vendor_account_id if kind == "vendor" else cls.partner_account_id

    @classmethod
    def deal_id_column(cls, kind: str):
        """The column holding the `kind` party's deal."""
        return cls.vendor_deal_id if kind == "vendor" else cls.partner_deal_id

    @classmethod
    def holds_deal(cls, deal_id):
        """A condition: `deal_id` (a value or a column) is either party's deal."""
        return sa.or_(cls.partner_deal_id == deal_id, cls.vendor_deal_id == deal_id)

    @hybrid_method
    def is_party(self, account_id: int) -> bool:
        """True when `account_id` is one of the two parties."""
        return account_id in (self.partner_account_id, self.vendor_account_id)

    @is_party.expression
    def is_party(cls, account_id):
        return sa.or_(cls.partner_account_id == account_id, cls.vendor_account_id == account_id)

    @hybrid_method
    def deal_id_of(self, account_id: int) -> int:
        """The id of the deal that party `account_id` keeps in its CRM."""
        return (
            self.partner_deal_id if account_id == self.partner_account_id else self.vendor_deal_id
        )

    @deal_id_of.expression
    def deal_id_of(cls, account_id):
        return sa.case(
            (cls.partner_account_id == account_id, cls.partner_deal_id), else_=cls.vendor_deal_id
        )

    @hybrid_method
    def other_account_id(self, account_id: int) -> int:
        """The account of the party that is not `account_id`."""
        if account_id == self.partner_account_id:
            return self.vendor_account_id
        return self.partner_account_id

    @other_account_id.expression
    def other_account_id(cls, account_id):
        return sa.case(
            (cls.partner_account_id == account_id, cls.vendor_account_id),
            else_=cls.partner_account_id,
        )

    def other_deal_id(self, account_id: int) -> int:
        """The id of the other party's deal."""
        return self.deal_id_of(self.other_account_id(account_id))


class DealTeamMember(db.Model):
    __tablename__ = "deal_team_members"

    id: Mapped[int] = mapped_column(primary_key=True)
    shared_deal_id: Mapped[int] = mapped_column(sa.ForeignKey("shared_deals.id"))
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    added_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    added_at: Mapped[datetime] = mapped_column(default=utcnow)

    user: Mapped[User] = relationship(foreign_keys=[user_id], lazy="raise")

    __table_args__ = (
        sa.UniqueConstraint("shared_deal_id", "user_id", name="uq_deal_team_members_member"),
    )


class ProductInterest(db.Model):
    __tablename__ = "product_interests"

    shared_deal_id: Mapped[int] = mapped_column(sa.ForeignKey("shared_deals.id"), primary_key=True)
    product_id: Mapped[int] = mapped_column(
        sa.ForeignKey("products.id"), primary_key=True, index=True
    )


class DealRegistration(db.Model):
    """Made by a vendor rep for the partner. Active until expired or deregistered."""

    __tablename__ = "deal_registrations"

    id: Mapped[int] = mapped_column(primary_key=True)
    shared_deal_id: Mapped[int] = mapped_column(sa.ForeignKey("shared_deals.id"))
    registered_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    registered_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_on: Mapped[date | None] = mapped_column()
    deregistered_at: Mapped[datetime | None] = mapped_column()
    deregistered_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    __table_args__ = (
        sa.Index("ix_deal_registrations_active", "shared_deal_id", "deregistered_at", "expires_on"),
    )

    def status_on(self, today: date) -> str:
        """'active', 'expired' or 'deregistered' as of `today`."""
        return self.status_of(self.expires_on, self.deregistered_at, today)

    @staticmethod
    def status_of(expires_on: date | None, deregistered_at: datetime | None, today: date) -> str:
        """The status of a registration with these dates (`status_on`, from a plain row)."""
        if deregistered_at is not None:
            return "deregistered"
        if expires_on is not None and expires_on < today:
            return "expired"
        return "active"


class RegistrationRequest(db.Model):
    """A partner's request that the vendor register a shared deal.

    requested -> approved (which makes a DealRegistration) or declined (with a
    reason). A shared deal has at most one open ("requested") request at a time:
    a partial unique index says so, on SQLite and PostgreSQL alike.
    """

    __tablename__ = "registration_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    shared_deal_id: Mapped[int] = mapped_column(sa.ForeignKey("shared_deals.id"))
    status: Mapped[str] = mapped_column(sa.String(20), default="requested")
    requested_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
    message: Mapped[str] = mapped_column(sa.Text, default="")
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column()
    decline_reason: Mapped[str] = mapped_column(sa.Text, default="")
    registration_id: Mapped[int | None] = mapped_column(sa.ForeignKey("deal_registrations.id"))

    __table_args__ = (
        sa.CheckConstraint(
            "status IN ('requested', 'approved', 'declined')", name="request_status"
        ),
        partial_index(
            "uq_registration_requests_open",
            "shared_deal_id",
            unique=True,
            where="status = 'requested'",
        ),
        sa.Index("ix_registration_requests_shared_deal", "shared_deal_id", "id"),
    )

    @classmethod
    def is_open(cls):
        """A condition: the request is open ("requested"), the status written into the SQL
        as `uq_registration_requests_open` says it (extensions.written_in). Bound as a
        value, SQLite could not choose that index before seeing it, so it prepared the
        statement again at every run (an EXISTS of it: 29 -> 7 µs), and PostgreSQL's
        generic plan could not use it.
        """
        return cls.status == written_in("requested")


class Activity(db.Model):
    """Append-only history of a shared deal: who did what, when, before -> after."""

    __tablename__ = "activities"

    id: Mapped[int] = mapped_column(primary_key=True)
    shared_deal_id: Mapped[int] = mapped_column(sa.ForeignKey("shared_deals.id"))
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    action: Mapped[str] = mapped_column(sa.String(40))
    summary: Mapped[str] = mapped_column(sa.String(300))
    before: Mapped[str | None] = mapped_column(sa.Text)
    after: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    actor: Mapped[User | None] = relationship(lazy="raise")

    __table_args__ = (sa.Index("ix_activities_shared_deal", "shared_deal_id", "id"),)


class Notification(db.Model):
    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    activity_id: Mapped[int] = mapped_column(sa.ForeignKey("activities.id"))
    read_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    activity: Mapped[Activity] = relationship(lazy="raise")

    __table_args__ = (
        sa.UniqueConstraint("user_id", "activity_id", name="uq_notifications_user_activity"),
        sa.Index("ix_notifications_user_unread", "user_id", "read_at", "id"),
    )


class SavedView(db.Model):
    """A named deals-index filter: the index's query string, owned by a user."""

    __tablename__ = "saved_views"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(sa.ForeignKey("accounts.id"))
    owner_id: Mapped[int] = mapped_column()
    name: Mapped[str] = mapped_column(sa.String(80))
    visibility: Mapped[str] = mapped_column(sa.String(10), default="private")
    query: Mapped[str] = mapped_column(sa.Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    owner: Mapped[User] = relationship(
        foreign_keys=[owner_id], primaryjoin="SavedView.owner_id == User.id", lazy="raise"
    )

    __table_args__ = (
        sa.ForeignKeyConstraint(
            ["account_id", "owner_id"],
            ["users.account_id", "users.id"],
            name="fk_saved_views_account_owner",
        ),
        sa.CheckConstraint("visibility IN ('private', 'account')", name="visibility"),
        sa.Index("ix_saved_views_account", "account_id", "visibility"),
        # One name per owner, whatever the case: "Big deals" and "big deals" collide.
        sa.Index("uq_saved_views_owner_name", "owner_id", sa.text("lower(name)"), unique=True),
    )
