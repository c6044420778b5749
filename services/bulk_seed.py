"""Generated deals in bulk, for benchmarks: `flask seed-demo --deals N`.

Rows go in through the driver directly (executemany on SQLite, COPY on PostgreSQL)
with explicit ids, and the deals indexes are rebuilt after a large load: building
an index once is far cheaper than updating it a million times.
"""

import random
from datetime import date, datetime, timedelta

import sqlalchemy as sa

from extensions import db
from models import (
    Account,
    Deal,
    DealRegistration,
    DealTeamMember,
    Pipeline,
    SharedDeal,
    Stage,
    User,
    utcnow,
)
from services.demo import COMPANIES, PROJECTS

SHARE_EVERY = 100  # one generated deal in a hundred is shared with the vendor
REBUILD_INDEXES_FROM = 50_000
DEAL_COLUMNS = (
    "id",
    "account_id",
    "name",
    "company_name",
    "amount",
    "close_date",
    "pipeline_id",
    "stage_id",
    "owner_id",
    "created_at",
    "updated_at",
)


def _next_id(column) -> int:
    return (db.session.scalar(sa.select(sa.func.max(column))) or 0) + 1


def _deal_indexes():
    return [i for i in Deal.__table__.indexes if not i.unique]


def add_generated_deals(per_partner: int, today: date | None = None, seed: int = 1) -> int:
    """Add `per_partner` generated deals to every partner account. Returns rows added.

    One in SHARE_EVERY is shared with the vendor, with a registration that is
    active, expired or deregistered in turn, and a two-person team.
    """
    today = today or date.today()
    rng = random.Random(seed)  # noqa: S311 - reproducible benchmark data
    vendor = db.session.scalar(sa.select(Account).where(Account.kind == "vendor"))
    partners = list(db.session.scalars(sa.select(Account).where(Account.kind == "partner")))
    if vendor is None or not partners:
        raise ValueError("Load the demo data first: there is no vendor or partner account.")
    vendor_users = _user_ids(vendor)
    vendor_stages = _stage_pairs(vendor)
    now = utcnow().replace(microsecond=0)

    deals, shared, registrations, team = [], [], [], []
    deal_id = _next_id(Deal.id)
    shared_id = _next_id(SharedDeal.id)
    registration_id = _next_id(DealRegistration.id)
    team_id = _next_id(DealTeamMember.id)
    names = [f"{c} {p}" for c in COMPANIES for p in PROJECTS]
    statuses = ("active", "expired", "deregistered", "active")
    for partner in partners:
        owners = _user_ids(partner)
        stage_pairs = _stage_pairs(partner)
        amounts = [rng.randrange(4, 4000) * 250 for _ in range(997)]
        for i in range(per_partner):
            name = names[(i * 7919 + partner.id) % len(names)]
            company = name.split(" ")[0]
            pipeline_id, stage_id = stage_pairs[i % len(stage_pairs)]
            owner = owners[i % len(owners)]
            created = now - timedelta(seconds=(i * 37) % 31_536_000)
            close = today + timedelta(days=(i * 13) % 400 - 150)
            amount = amounts[i % len(amounts)]
            deals.append(
                (
                    deal_id,
                    partner.id,
                    f"{name} #{i}",
                    company,
                    amount,
                    close,
                    pipeline_id,
                    stage_id,
                    owner,
                    created,
                    created,
                )
            )
            if i % SHARE_EVERY == 0:
                v_pipeline, v_stage = vendor_stages[0]
                vendor_deal_id = deal_id + 1
                deals.append(
                    (
                        vendor_deal_id,
                        vendor.id,
                        f"{name} #{i}",
                        company,
                        amount,
                        close,
                        v_pipeline,
                        v_stage,
                        vendor_users[0],
                        created,
                        created,
                    )
                )
                shared.append(
                    (
                        shared_id,
                        partner.id,
                        vendor.id,
                        deal_id,
                        vendor_deal_id,
                        owner,
                        "",
                        "",
                        "",
                        created,
                    )
                )
                status = statuses[(i // SHARE_EVERY) % len(statuses)]
                expires = (
                    today - timedelta(days=5)
                    if status == "expired"
                    else (today + timedelta(days=60))
                )
                registrations.append(
                    (
                        registration_id,
                        shared_id,
                        vendor_users[0],
                        created,
                        expires,
                        now if status == "deregistered" else None,
                        vendor_users[0] if status == "deregistered" else None,
                    )
                )
                team.append((team_id, shared_id, owner, owner, created))
                team.append((team_id + 1, shared_id, vendor_users[0], owner, created))
                deal_id += 1
                shared_id += 1
                registration_id += 1
                team_id += 2
            deal_id += 1

    rebuild = len(deals) >= REBUILD_INDEXES_FROM
    connection = db.session.connection()
    if rebuild:
        for index in _deal_indexes():
            index.drop(connection, checkfirst=True)
    _insert(connection, "deals", DEAL_COLUMNS, deals)
    _insert(
        connection,
        "shared_deals",
        (
            "id",
            "partner_account_id",
            "vendor_account_id",
            "partner_deal_id",
            "vendor_deal_id",
            "created_by_id",
            "intro_note",
            "pain_or_opportunity",
            "next_steps",
            "created_at",
        ),
        shared,
    )
    _insert(
        connection,
        "deal_registrations",
        (
            "id",
            "shared_deal_id",
            "registered_by_id",
            "registered_at",
            "expires_on",
            "deregistered_at",
            "deregistered_by_id",
        ),
        registrations,
    )
    _insert(
        connection,
        "deal_team_members",
        ("id", "shared_deal_id", "user_id", "added_by_id", "added_at"),
        team,
    )
    if rebuild:
        for index in _deal_indexes():
            index.create(connection, checkfirst=True)
    if connection.dialect.name == "postgresql":
        for table in ("deals", "shared_deals", "deal_registrations", "deal_team_members"):
            connection.exec_driver_sql(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
                f"(SELECT max(id) FROM {table}))"
            )
        connection.exec_driver_sql("ANALYZE")
    else:
        connection.exec_driver_sql("ANALYZE")
    db.session.commit()
    return len(deals)


def _user_ids(account: Account) -> list[int]:
    return list(
        db.session.scalars(
            sa.select(User.id).where(User.account_id == account.id).order_by(User.id)
        )
    )


def _stage_pairs(account: Account) -> list[tuple[int, int]]:
    rows = db.session.execute(
        sa.select(Stage.pipeline_id, Stage.id)
        .join(Pipeline, Pipeline.id == Stage.pipeline_id)
        .where(Pipeline.account_id == account.id)
        .order_by(Pipeline.position, Stage.position)
    )
    return [tuple(r) for r in rows]


def _insert(connection, table: str, columns, rows) -> None:
    """Insert `rows` (tuples in `columns` order) through the driver, fast."""
    if not rows:
        return
    raw = connection.connection.driver_connection
    if connection.dialect.name == "postgresql":
        with (
            raw.cursor() as cursor,
            cursor.copy(
                f"COPY {table} ({', '.join(columns)}) FROM STDIN"  # noqa: S608 - fixed names
            ) as copy,
        ):
            for row in rows:
                copy.write_row(row)
        return
    sql = (
        f"INSERT INTO {table} ({', '.join(columns)}) "  # noqa: S608 - fixed names
        f"VALUES ({', '.join('?' * len(columns))})"
    )
    raw.executemany(sql, (tuple(_sqlite_value(v) for v in row) for row in rows))


def _sqlite_value(value):
    # SQLAlchemy's SQLite storage formats, so the ORM reads these rows back.
    if isinstance(value, datetime):
        return value.isoformat(sep=" ", timespec="microseconds")
    if isinstance(value, date):
        return value.isoformat()
    return value
