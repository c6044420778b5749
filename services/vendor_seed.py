"""The vendor's side at scale, for benchmarks: `flask seed-demo --partners P --shared-deals N`.

Adds P partner accounts (each with a "Sales pipeline" that receives referred
deals, and PARTNER_USERS users who log in with the demo password) and N shared
deals spread over them round-robin, all with the demo's vendor: each one a
partner deal and the vendor's deal (in the vendor's referred deals pipeline,
owned by one of its users, as services/shared_deals.py makes them), a team of
two (the partner owner and the vendor owner), a product interest on one deal in
two, a registration on one deal in two (REGISTRATION_PATTERN: active, with or
without expiry, expired, deregistered) and registration requests: one deal in
OPEN_REQUEST_EVERY has an open request for the vendor to decide, as many have a
declined one, and as many registered ones an approved one. Each customer company
("Acme Corp 17") has deals with CUSTOMER_PARTNERS partners, so a vendor deal
page can show other partners' registrations on the same customer.

Every row is made by the database, as in services/bulk_seed.py: one
INSERT … SELECT over a number series per table, ids computed from the series
number i (partner p = i mod P); the deals' secondary indexes and search index
are dropped for a large load and made again after it (bulk_seed's helpers).
Both deals of a shared deal are made with the party they are shared with
(`deals.shared_with_account_id`): the shared deals' trigger then writes none.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import sqlalchemy as sa

from extensions import db
from models import (
    Account,
    AccountSettings,
    Deal,
    DealRegistration,
    DealTeamMember,
    Pipeline,
    Product,
    RegistrationRequest,
    SharedDeal,
    Stage,
    User,
    utcnow,
)
from services import bulk_seed
from services.accounts import DEFAULT_STAGES
from services.demo import DEMO_PASSWORD, VENDOR
from services.passwords import hash_password

PARTNER_USERS = 3  # an admin and two members per partner
CUSTOMER_PARTNERS = 4  # partners bringing the same customer: registration conflicts
OPEN_REQUEST_EVERY = 400  # 2,500 open requests at 1,000,000 shared deals
# i mod 8 -> the shared deal's registration: active without expiry, active until
# :expires_on, expired, deregistered; 4..7: none (half the deals are unregistered).
REGISTRATION_PATTERN = 8
TABLES_WITH_IDS = (
    "accounts",
    "users",
    "pipelines",
    "stages",
    *bulk_seed.TABLES_WITH_IDS,
    "registration_requests",
)

_SQLITE = {
    **bulk_seed._SQLITE,
    "number": "substr('0000000' || (:account_base + seq.i), -:width)",
    "token": "lower(hex(randomblob(16)))",
}
_POSTGRESQL = {
    **bulk_seed._POSTGRESQL,
    "number": "lpad(CAST(:account_base + seq.i AS text), CAST(:width AS integer), '0')",
    "token": "md5(random()::text || seq.i)",
}

# Ids from the series number: partner p of the P new ones is account :account_base + p.
_P = "(seq.i % :partners)"
# The customer: CUSTOMER_PARTNERS consecutive shared deals (of as many partners) are
# deals of one customer company ("Acme Corp 17"), the rest of the name is its project.
_C = f"(seq.i / {CUSTOMER_PARTNERS})"
_J = "(seq.i / :partners)"  # the deal's number among its partner's deals
_PARTNER_OWNER = f":user_base + {_P} * {PARTNER_USERS} + {_J} % {PARTNER_USERS}"
_VENDOR_OWNER = "vo.user_id"
_CREATED = "{created_at}"

_ACCOUNTS = """
{series}
INSERT INTO accounts (id, name, kind, created_at)
SELECT :account_base + seq.i, 'Partner ' || {number}, 'partner', :now FROM seq
"""
_PIPELINES = """
{series}
INSERT INTO pipelines (id, account_id, name, position)
SELECT :pipeline_base + seq.i, :account_base + seq.i, 'Sales pipeline', 0 FROM seq
"""
_SETTINGS = """
{series}
INSERT INTO account_settings (account_id, referred_pipeline_id, updated_at)
SELECT :account_base + seq.i, :pipeline_base + seq.i, :now FROM seq
"""
# Stage k of partner p: id :stage_base + p * :stages + k; seq runs over P * stages.
_STAGES = """
{series}
INSERT INTO stages (id, pipeline_id, name, position)
SELECT :stage_base + seq.i, :pipeline_base + seq.i / :stages, sn.name, seq.i % :stages
FROM seq JOIN seed_stage_names sn ON sn.k = seq.i % :stages
"""
# User u of partner p: id :user_base + p * PARTNER_USERS + u; seq runs over P * PARTNER_USERS.
_USERS = f"""
{{series}}
INSERT INTO users (id, account_id, email, full_name, password_hash, role, active,
                   session_token, created_at)
SELECT :user_base + seq.i, :account_base + seq.i / {PARTNER_USERS},
       CASE seq.i % {PARTNER_USERS} WHEN 0 THEN 'admin' ELSE 'rep' || (seq.i % {PARTNER_USERS}) END
       || '@partner' || (:account_base + seq.i / {PARTNER_USERS}) || '.example',
       CASE seq.i % {PARTNER_USERS} WHEN 0 THEN 'Admin' ELSE 'Rep ' || (seq.i % {PARTNER_USERS}) END
       || ' of partner ' || (:account_base + seq.i / {PARTNER_USERS}),
       :password_hash, CASE seq.i % {PARTNER_USERS} WHEN 0 THEN 'admin' ELSE 'member' END,
       TRUE, {{token}}, :now
FROM seq
"""  # noqa: S608 - fixed fragments; every value is a bound parameter
_PARTNER_DEALS = f"""
{{series}}
INSERT INTO deals (id, account_id, name, company_name, amount, close_date,
                   pipeline_id, stage_id, owner_id, created_at, updated_at,
                   shared_with_account_id)
SELECT :deal_base + seq.i, :account_base + {_P}, n.name || ' #' || seq.i,
       n.company || ' ' || ({_C} + 1),
       ((seq.i * 7919 + {_P} * 31) % 3996 + 4) * 250, {{close_date}},
       :pipeline_base + {_P}, :stage_base + {_P} * :stages + {_J} % :stages,
       {_PARTNER_OWNER}, {_CREATED}, {_CREATED}, :vendor
FROM seq JOIN seed_names n ON n.k = ({_C} * 7919) % :names
"""  # noqa: S608 - fixed fragments; every value is a bound parameter
# The vendor's deal of shared deal i: id :deal_base + :n + i, same name, amount and dates.
_VENDOR_DEALS = f"""
{{series}}
INSERT INTO deals (id, account_id, name, company_name, amount, close_date,
                   pipeline_id, stage_id, owner_id, created_at, updated_at,
                   shared_with_account_id)
SELECT :deal_base + :n + seq.i, :vendor, n.name || ' #' || seq.i, n.company || ' ' || ({_C} + 1),
       ((seq.i * 7919 + {_P} * 31) % 3996 + 4) * 250, {{close_date}},
       vs.pipeline_id, vs.stage_id, {_VENDOR_OWNER}, {_CREATED}, {_CREATED},
       :account_base + {_P}
FROM seq
JOIN seed_names n ON n.k = ({_C} * 7919) % :names
JOIN seed_vendor_stages vs ON vs.k = seq.i % :vendor_stages
JOIN seed_vendor_owners vo ON vo.k = seq.i % :vendor_owners
"""  # noqa: S608 - fixed fragments; every value is a bound parameter
_SHARED_DEALS = f"""
{{series}}
INSERT INTO shared_deals (id, partner_account_id, vendor_account_id, partner_deal_id,
                          vendor_deal_id, created_by_id, intro_note, pain_or_opportunity,
                          next_steps, created_at)
SELECT :shared_base + seq.i, :account_base + {_P}, :vendor, :deal_base + seq.i,
       :deal_base + :n + seq.i, {_PARTNER_OWNER}, '', '', '', {_CREATED}
FROM seq
"""  # noqa: S608 - fixed fragments; every value is a bound parameter
_TEAM = f"""
{{series}}
INSERT INTO deal_team_members (id, shared_deal_id, user_id, added_by_id, added_at)
SELECT :team_base + 2 * seq.i + t.k, :shared_base + seq.i,
       CASE t.k WHEN 0 THEN {_PARTNER_OWNER} ELSE {_VENDOR_OWNER} END,
       {_PARTNER_OWNER}, {_CREATED}
FROM seq CROSS JOIN (SELECT 0 AS k UNION ALL SELECT 1) t
JOIN seed_vendor_owners vo ON vo.k = seq.i % :vendor_owners
"""  # noqa: S608 - fixed fragments; every value is a bound parameter
_PRODUCT_INTERESTS = """
{series}
INSERT INTO product_interests (shared_deal_id, product_id)
SELECT :shared_base + seq.i, p.product_id
FROM seq JOIN seed_products p ON p.k = (seq.i / 2) % :products
WHERE seq.i % 2 = 0
"""
_REGISTRATIONS = f"""
{{series}}
INSERT INTO deal_registrations (id, shared_deal_id, registered_by_id, registered_at,
                                expires_on, deregistered_at, deregistered_by_id)
SELECT :registration_base + seq.i, :shared_base + seq.i, {_VENDOR_OWNER}, {_CREATED},
       CASE seq.i % {REGISTRATION_PATTERN} WHEN 0 THEN NULL WHEN 2 THEN :expired_on
            ELSE :expires_on END,
       CASE seq.i % {REGISTRATION_PATTERN} WHEN 3 THEN :now END,
       CASE seq.i % {REGISTRATION_PATTERN} WHEN 3 THEN {_VENDOR_OWNER} END
FROM seq JOIN seed_vendor_owners vo ON vo.k = seq.i % :vendor_owners
WHERE seq.i % {REGISTRATION_PATTERN} < 4
"""  # noqa: S608 - fixed fragments; every value is a bound parameter
# Open (i mod OPEN_REQUEST_EVERY = 5) and declined (= 13) requests fall on unregistered
# deals, approved ones (= 8) on deals with an active registration (the one approval made).
_REQUESTS = f"""
{{series}}
INSERT INTO registration_requests (id, shared_deal_id, status, requested_by_id, requested_at,
                                   message, decided_by_id, decided_at, decline_reason,
                                   registration_id)
SELECT :request_base + seq.i, :shared_base + seq.i,
       CASE seq.i % {OPEN_REQUEST_EVERY} WHEN 5 THEN 'requested' WHEN 13 THEN 'declined'
            ELSE 'approved' END,
       {_PARTNER_OWNER}, {_CREATED}, 'Please register this deal for us.',
       CASE WHEN seq.i % {OPEN_REQUEST_EVERY} <> 5 THEN {_VENDOR_OWNER} END,
       CASE WHEN seq.i % {OPEN_REQUEST_EVERY} <> 5 THEN :now END,
       CASE seq.i % {OPEN_REQUEST_EVERY} WHEN 13 THEN 'Already registered by another partner.'
            ELSE '' END,
       CASE seq.i % {OPEN_REQUEST_EVERY} WHEN 8 THEN :registration_base + seq.i END
FROM seq JOIN seed_vendor_owners vo ON vo.k = seq.i % :vendor_owners
WHERE seq.i % {OPEN_REQUEST_EVERY} IN (5, 8, 13)
"""  # noqa: S608 - fixed fragments; every value is a bound parameter


def add_vendor_scale(
    partners: int,
    shared_deals: int,
    today: date | None = None,
    report: Callable[[str], None] | None = None,
) -> dict[str, int]:
    """Add `partners` partner accounts and `shared_deals` shared deals with the demo vendor.

    Commits; returns the number of rows added per kind. Needs the demo data
    (its vendor, the vendor's users, referred deals pipeline and products).
    """
    if partners < 1 or shared_deals < 0:
        raise ValueError("Give at least one partner and no negative number of shared deals.")
    today = today or date.today()
    report = report or (lambda line: None)
    vendor = db.session.scalar(sa.select(Account).where(Account.name == VENDOR))
    if vendor is None:
        raise ValueError("Load the demo data first: there is no vendor account.")
    connection = db.session.connection()
    dialect = connection.dialect.name
    pieces = _POSTGRESQL if dialect == "postgresql" else _SQLITE
    now = utcnow().replace(microsecond=0)
    step = bulk_seed._stepper(report)
    sizes = step("lookup tables", lambda: _lookup_tables(connection, vendor))
    params = {
        "partners": partners,
        "n": shared_deals,
        "vendor": vendor.id,
        "stages": len(DEFAULT_STAGES),
        "password_hash": hash_password(DEMO_PASSWORD),
        **sizes,
        **bulk_seed._dates(dialect, today, now),
        "account_base": bulk_seed._next_id(Account.id),
        "pipeline_base": bulk_seed._next_id(Pipeline.id),
        "stage_base": bulk_seed._next_id(Stage.id),
        "user_base": bulk_seed._next_id(User.id),
        "deal_base": bulk_seed._next_id(Deal.id),
        "shared_base": bulk_seed._next_id(SharedDeal.id),
        "team_base": bulk_seed._next_id(DealTeamMember.id),
        "registration_base": bulk_seed._next_id(DealRegistration.id),
        "request_base": bulk_seed._next_id(RegistrationRequest.id),
    }
    params["width"] = max(4, len(str(params["account_base"] + partners)))

    def insert(label: str, sql: str, count: int) -> None:
        text = sql.format(**pieces).format(spread=bulk_seed.CREATED_SPREAD_SECONDS)
        step(label, lambda: bulk_seed._run(text, {**params, "n": count}))

    insert(f"{partners:,} partner accounts", _ACCOUNTS, partners)
    insert("  pipelines", _PIPELINES, partners)
    insert("  settings", _SETTINGS, partners)
    insert("  stages", _STAGES, partners * len(DEFAULT_STAGES))
    insert("  users", _USERS, partners * PARTNER_USERS)
    big = 2 * shared_deals >= bulk_seed.REBUILD_INDEXES_FROM
    saved = bulk_seed._drop_secondary_schema(connection) if big else []
    for label, sql in (
        (f"{shared_deals:,} partner deals", _PARTNER_DEALS),
        ("  vendor deals", _VENDOR_DEALS),
        ("  shared deals", _SHARED_DEALS),
        ("  teams", _TEAM),
        ("  product interests", _PRODUCT_INTERESTS),
        ("  registrations", _REGISTRATIONS),
        ("  registration requests", _REQUESTS),
    ):
        insert(label, sql, shared_deals)
    for name in _LOOKUP_TABLES:
        connection.exec_driver_sql(f"DROP TABLE IF EXISTS {name}")
    loaded = (*TABLES_WITH_IDS, "product_interests")
    bulk_seed.finish(connection, saved, TABLES_WITH_IDS, loaded, step)
    return _counts(partners, shared_deals)


def _counts(partners: int, n: int) -> dict[str, int]:
    """What add_vendor_scale adds, computed from the patterns (the tests count the rows)."""

    def every(period: int, residues) -> int:
        return sum(len(range(r, n, period)) for r in residues)

    return {
        "partner accounts": partners,
        "users": partners * PARTNER_USERS,
        "deals": 2 * n,
        "shared deals": n,
        "team members": 2 * n,
        "product interests": every(2, [0]),
        "registrations": every(REGISTRATION_PATTERN, range(4)),
        "active registrations": every(REGISTRATION_PATTERN, [0, 1]),
        "open requests": every(OPEN_REQUEST_EVERY, [5]),
        "registration requests": every(OPEN_REQUEST_EVERY, [5, 8, 13]),
    }


_LOOKUP_TABLES = (
    "seed_names",
    "seed_stage_names",
    "seed_vendor_stages",
    "seed_vendor_owners",
    "seed_products",
)


def _lookup_tables(connection, vendor: Account) -> dict[str, int]:
    """Temporary tables of names, stage names, the vendor's stages, owners and products."""
    temp = "CREATE TEMPORARY TABLE {} ({})" + (
        " ON COMMIT DROP" if connection.dialect.name == "postgresql" else ""
    )
    names = bulk_seed.deal_names()
    referred = db.session.scalar(
        sa.select(AccountSettings.referred_pipeline_id).where(
            AccountSettings.account_id == vendor.id
        )
    )
    vendor_stages = [
        (pipeline, stage)
        for pipeline, stage in bulk_seed._stage_pairs(vendor.id)
        if pipeline == referred
    ]
    owners = bulk_seed._user_ids(vendor.id)
    products = list(
        db.session.scalars(
            sa.select(Product.id)
            .where(Product.vendor_account_id == vendor.id)
            .order_by(Product.position, Product.id)
        )
    )
    if not (vendor_stages and owners and products):
        raise ValueError("The vendor needs a referred deals pipeline, users and products.")
    tables = {
        "seed_names": (
            "k INTEGER PRIMARY KEY, name TEXT NOT NULL, company TEXT NOT NULL",
            [{"k": k, "name": f"{c} {p}", "company": c} for k, (c, p) in enumerate(names)],
        ),
        "seed_stage_names": (
            "k INTEGER PRIMARY KEY, name TEXT NOT NULL",
            [{"k": k, "name": name} for k, name in enumerate(DEFAULT_STAGES)],
        ),
        "seed_vendor_stages": (
            "k INTEGER PRIMARY KEY, pipeline_id INTEGER, stage_id INTEGER",
            [{"k": k, "pipeline_id": p, "stage_id": s} for k, (p, s) in enumerate(vendor_stages)],
        ),
        "seed_vendor_owners": (
            "k INTEGER PRIMARY KEY, user_id INTEGER",
            [{"k": k, "user_id": u} for k, u in enumerate(owners)],
        ),
        "seed_products": (
            "k INTEGER PRIMARY KEY, product_id INTEGER",
            [{"k": k, "product_id": p} for k, p in enumerate(products)],
        ),
    }
    for name, (columns, rows) in tables.items():
        connection.exec_driver_sql(f"DROP TABLE IF EXISTS {name}")
        connection.exec_driver_sql(temp.format(name, columns))
        keys = list(rows[0])
        bulk_seed._insert_many(
            connection,
            f"INSERT INTO {name} ({', '.join(keys)}) "  # noqa: S608 - fixed names
            f"VALUES ({', '.join(':' + k for k in keys)})",
            rows,
        )
    return {
        "names": len(names),
        "vendor_stages": len(vendor_stages),
        "vendor_owners": len(owners),
        "products": len(products),
    }
