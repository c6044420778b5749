"""Generated deals in bulk, for benchmarks: `flask seed-demo --deals N`.

The rows are made by the database itself: one INSERT … SELECT over a number
series per partner (a recursive CTE on SQLite, generate_series on PostgreSQL),
joined to small lookup tables of names, stages and owners; no row passes
through Python. For a large load, what would be updated row by row is read from
the catalogue, dropped, and made again once the rows are in: the secondary
indexes of `deals` (the search indexes of migration 0002 and any index a later
migration adds included), on SQLite its triggers (the FTS table and the board's
counts, migration 0010, are rebuilt in one pass each), on PostgreSQL the foreign
keys of `deals` (validated in one join each) — and there the indexes are built
two at a time, one connection each. PostgreSQL keeps the board's count triggers:
they run once per statement, a few dozen rows for a million deals.

One generated deal in SHARE_EVERY is shared with the vendor: a vendor deal, a
shared deal, a registration (active, expired, deregistered, active in turn) and
a two-person team (the partner owner and the vendor's first user). Both deals are
made with the party they are shared with (`deals.shared_with_account_id`), which
the shared deals' trigger (migration 0020) then has no need to write.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timedelta

import sqlalchemy as sa

from extensions import db
from models import Account, Deal, DealRegistration, DealTeamMember, SharedDeal, User, utcnow
from services import board_counts, search
from services.demo import COMPANIES, PROJECTS

SHARE_EVERY = 100
REBUILD_INDEXES_FROM = 50_000  # smaller loads just update the indexes as they go
LOAD_CACHE_KIB = 1_048_576  # SQLite page cache while loading and indexing (1 GiB)
SQLITE_DEFAULT_CACHE_KIB = 2_000
CREATED_SPREAD_SECONDS = 31_536_000  # creation dates over the last year
TABLES_WITH_IDS = ("deals", "shared_deals", "deal_registrations", "deal_team_members")

# The per-dialect pieces; everything else is the same SQL on both databases.
_SQLITE = {
    "series": (
        "WITH RECURSIVE seq(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM seq WHERE i + 1 < :n)"
    ),
    "close_date": "date(:today, ((seq.i * 13) % 400 - 150) || ' days')",
    "created_at": ("datetime(:now, '-' || ((seq.i * 37) % {spread}) || ' seconds') || '.000000'"),
}
_POSTGRESQL = {
    "series": "WITH seq(i) AS (SELECT generate_series(0, CAST(:n AS bigint) - 1))",
    "close_date": "CAST(:today AS date) + CAST((seq.i * 13) % 400 - 150 AS integer)",
    "created_at": "CAST(:now AS timestamp) - ((seq.i * 37) % {spread}) * interval '1 second'",
}

_DEALS = """
{series}
INSERT INTO deals (id, account_id, name, company_name, amount, close_date,
                   pipeline_id, stage_id, owner_id, created_at, updated_at,
                   shared_with_account_id)
SELECT :base + seq.i, :account, n.name || ' #' || seq.i, n.company,
       ((seq.i * 7919 + :account * 31) % 3996 + 4) * 250,
       {close_date}, s.pipeline_id, s.stage_id, o.user_id, {created_at}, {created_at},
       CASE WHEN seq.i % :every = 0 THEN :vendor END
FROM seq
JOIN seed_names n ON n.k = (seq.i * 7919 + :account) % :names
JOIN seed_stages s ON s.account_id = :account AND s.k = seq.i % :stages
JOIN seed_owners o ON o.account_id = :account AND o.k = seq.i % :owners
"""
# The shared ones: every SHARE_EVERY-th of the deals just made, numbered j = 0, 1, ...
_SHARED = "d.id BETWEEN :base AND :base + :n - 1 AND (d.id - :base) % :every = 0"
_SHARED_FROM = f"FROM deals d WHERE {_SHARED}"
_J = "((d.id - :base) / :every)"
_VENDOR_DEALS = f"""
INSERT INTO deals (id, account_id, name, company_name, amount, close_date,
                   pipeline_id, stage_id, owner_id, created_at, updated_at,
                   shared_with_account_id)
SELECT :vendor_base + {_J}, :vendor, d.name, d.company_name, d.amount, d.close_date,
       :vendor_pipeline, :vendor_stage, :vendor_user, d.created_at, d.updated_at, :account
{_SHARED_FROM}
"""
_SHARED_DEALS = f"""
INSERT INTO shared_deals (id, partner_account_id, vendor_account_id, partner_deal_id,
                          vendor_deal_id, created_by_id, intro_note, pain_or_opportunity,
                          next_steps, created_at)
SELECT :shared_base + {_J}, :account, :vendor, d.id, :vendor_base + {_J}, d.owner_id,
       '', '', '', d.created_at
{_SHARED_FROM}
"""
_REGISTRATIONS = f"""
INSERT INTO deal_registrations (id, shared_deal_id, registered_by_id, registered_at,
                                expires_on, deregistered_at, deregistered_by_id)
SELECT :registration_base + {_J}, :shared_base + {_J}, :vendor_user, d.created_at,
       CASE {_J} % 4 WHEN 1 THEN :expired_on ELSE :expires_on END,
       CASE {_J} % 4 WHEN 2 THEN :now END,
       CASE {_J} % 4 WHEN 2 THEN :vendor_user END
{_SHARED_FROM}
"""
_TEAM = f"""
INSERT INTO deal_team_members (id, shared_deal_id, user_id, added_by_id, added_at)
SELECT :team_base + 2 * {_J} + t.k, :shared_base + {_J},
       CASE t.k WHEN 0 THEN d.owner_id ELSE :vendor_user END, d.owner_id, d.created_at
FROM deals d CROSS JOIN (SELECT 0 AS k UNION ALL SELECT 1) t
WHERE {_SHARED}
"""  # noqa: S608 - fixed fragments; every value is a bound parameter


def add_generated_deals(
    per_partner: int,
    today: date | None = None,
    report: Callable[[str], None] | None = None,
) -> int:
    """Add `per_partner` generated deals to every partner account. Commits; returns rows added.

    `report`, when given, receives one line per step with its duration.
    """
    today = today or date.today()
    report = report or (lambda line: None)
    vendor = db.session.scalar(sa.select(Account).where(Account.kind == "vendor"))
    partners = list(
        db.session.scalars(sa.select(Account).where(Account.kind == "partner").order_by(Account.id))
    )
    if vendor is None or not partners:
        raise ValueError("Load the demo data first: there is no vendor or partner account.")
    connection = db.session.connection()
    dialect = connection.dialect.name
    pieces = _POSTGRESQL if dialect == "postgresql" else _SQLITE
    now = utcnow().replace(microsecond=0)
    vendor_user = _user_ids(vendor.id)[0]
    vendor_pipeline, vendor_stage = _stage_pairs(vendor.id)[0]
    shared_per_partner = -(-per_partner // SHARE_EVERY)
    params = {
        "n": per_partner,
        "every": SHARE_EVERY,
        "vendor": vendor.id,
        "vendor_user": vendor_user,
        "vendor_pipeline": vendor_pipeline,
        "vendor_stage": vendor_stage,
        **_dates(dialect, today, now),
    }
    ids = {
        "base": _next_id(Deal.id),
        "shared_base": _next_id(SharedDeal.id),
        "registration_base": _next_id(DealRegistration.id),
        "team_base": _next_id(DealTeamMember.id),
    }
    step = _stepper(report)
    sizes = step("lookup tables", lambda: _lookup_tables(connection, partners))
    deals_sql = _DEALS.format(**pieces).format(spread=CREATED_SPREAD_SECONDS)
    big = per_partner * len(partners) >= REBUILD_INDEXES_FROM
    saved = _drop_secondary_schema(connection) if big else []
    for partner in partners:
        ids["vendor_base"] = ids["base"] + per_partner
        values = {**params, **ids, "account": partner.id, **sizes[partner.id]}
        step(f"{per_partner:,} deals of {partner.name}", lambda v=values: _run(deals_sql, v))
        for label, sql in (
            ("vendor deals", _VENDOR_DEALS),
            ("shared deals", _SHARED_DEALS),
            ("registrations", _REGISTRATIONS),
            ("teams", _TEAM),
        ):
            step(f"  {label}", lambda s=sql, v=values: _run(s, v))
        ids["base"] += per_partner + shared_per_partner
        ids["shared_base"] += shared_per_partner
        ids["registration_base"] += shared_per_partner
        ids["team_base"] += 2 * shared_per_partner
    for name in ("seed_names", "seed_stages", "seed_owners"):
        connection.exec_driver_sql(f"DROP TABLE IF EXISTS {name}")
    finish(connection, saved, TABLES_WITH_IDS, TABLES_WITH_IDS, step)
    return len(partners) * (per_partner + shared_per_partner)


def _run(sql: str, values: dict) -> None:
    db.session.connection().execute(sa.text(sql), values)


def _stepper(report):
    def step(label, action):
        started = time.perf_counter()
        result = action()
        report(f"{label}: {time.perf_counter() - started:.1f} s")
        return result

    return step


def _dates(dialect: str, today: date, now: datetime) -> dict:
    values = {
        "today": today,
        "now": now,
        "expires_on": today + timedelta(days=60),
        "expired_on": today - timedelta(days=5),
    }
    if dialect == "sqlite":  # SQLAlchemy's storage formats, so the ORM reads them back
        return {
            key: value.isoformat(sep=" ", timespec="microseconds")
            if isinstance(value, datetime)
            else value.isoformat()
            for key, value in values.items()
        }
    return values


def _next_id(column) -> int:
    return (db.session.scalar(sa.select(sa.func.max(column))) or 0) + 1


def _user_ids(account_id: int) -> list[int]:
    return list(
        db.session.scalars(
            sa.select(User.id).where(User.account_id == account_id).order_by(User.id)
        )
    )


def _stage_pairs(account_id: int) -> list[tuple[int, int]]:
    from models import Pipeline, Stage

    rows = db.session.execute(
        sa.select(Stage.pipeline_id, Stage.id)
        .join(Pipeline, Pipeline.id == Stage.pipeline_id)
        .where(Pipeline.account_id == account_id)
        .order_by(Pipeline.position, Stage.position)
    )
    return [tuple(row) for row in rows]


def deal_names() -> list[tuple[str, str]]:
    """(company, project) pairs: a generated deal is called "<company> <project> #<n>"."""
    return [(company, project) for company in COMPANIES for project in PROJECTS]


def _lookup_tables(connection, partners: list[Account]) -> dict[int, dict]:
    """Temporary tables seed_names, seed_stages, seed_owners; their sizes per partner."""
    temp = "CREATE TEMPORARY TABLE {} ({})" + (
        " ON COMMIT DROP" if connection.dialect.name == "postgresql" else ""
    )
    tables = {
        "seed_names": "k INTEGER PRIMARY KEY, name TEXT NOT NULL, company TEXT NOT NULL",
        "seed_stages": "account_id INTEGER, k INTEGER, pipeline_id INTEGER, stage_id INTEGER, "
        "PRIMARY KEY (account_id, k)",
        "seed_owners": "account_id INTEGER, k INTEGER, user_id INTEGER, "
        "PRIMARY KEY (account_id, k)",
    }
    for name, columns in tables.items():
        connection.exec_driver_sql(f"DROP TABLE IF EXISTS {name}")
        connection.exec_driver_sql(temp.format(name, columns))
    names = deal_names()
    _insert_many(
        connection,
        "INSERT INTO seed_names (k, name, company) VALUES (:k, :name, :company)",
        [{"k": k, "name": f"{c} {p}", "company": c} for k, (c, p) in enumerate(names)],
    )
    sizes = {}
    for partner in partners:
        stages = _stage_pairs(partner.id)
        owners = _user_ids(partner.id)
        _insert_many(
            connection,
            "INSERT INTO seed_stages (account_id, k, pipeline_id, stage_id) "
            "VALUES (:a, :k, :p, :s)",
            [{"a": partner.id, "k": k, "p": p, "s": s} for k, (p, s) in enumerate(stages)],
        )
        _insert_many(
            connection,
            "INSERT INTO seed_owners (account_id, k, user_id) VALUES (:a, :k, :u)",
            [{"a": partner.id, "k": k, "u": u} for k, u in enumerate(owners)],
        )
        sizes[partner.id] = {"names": len(names), "stages": len(stages), "owners": len(owners)}
    return sizes


def _insert_many(connection, sql: str, rows: list[dict]) -> None:
    if rows:
        connection.execute(sa.text(sql), rows)


def _drop_secondary_schema(connection) -> list[tuple[str, str, str]]:
    """Drop what slows a bulk load of `deals`; return (kind, name, DDL) to make it again.

    That is every index but the keys (and on PostgreSQL the foreign keys, which
    check each row with a trigger but validate a whole table in one join); on
    SQLite also the search-index triggers, the FTS table being rebuilt after.
    """
    if connection.dialect.name == "postgresql":
        indexes = connection.exec_driver_sql(
            "SELECT 'INDEX', indexname, indexdef FROM pg_indexes "
            "WHERE schemaname = current_schema() AND tablename = 'deals' AND indexname NOT IN "
            "(SELECT conname FROM pg_constraint WHERE conrelid = 'deals'::regclass)"
        )
        foreign_keys = connection.exec_driver_sql(
            "SELECT 'CONSTRAINT', conname, "
            "'ALTER TABLE deals ADD CONSTRAINT ' || quote_ident(conname) || ' ' "
            "|| pg_get_constraintdef(oid) "
            "FROM pg_constraint WHERE conrelid = 'deals'::regclass AND contype = 'f'"
        )
        saved = [tuple(row) for row in [*indexes, *foreign_keys]]
    else:
        # SQLite's page cache is 2 MB by default: index builds would spill all the time.
        connection.exec_driver_sql(f"PRAGMA cache_size = {-LOAD_CACHE_KIB}")
        saved = [
            tuple(row)
            for row in connection.exec_driver_sql(
                "SELECT upper(type), name, sql FROM sqlite_master "
                "WHERE tbl_name = 'deals' AND type IN ('index', 'trigger') AND sql IS NOT NULL"
            )
        ]
    for kind, name, _ddl in saved:
        if kind == "CONSTRAINT":
            connection.exec_driver_sql(f'ALTER TABLE deals DROP CONSTRAINT "{name}"')
        else:
            connection.exec_driver_sql(f'DROP {kind} "{name}"')
    return saved


def _rebuild_sqlite(connection, saved, step) -> None:
    for kind, name, ddl in saved:
        if kind == "INDEX":
            step(f"index {name}", lambda d=ddl: connection.exec_driver_sql(d))
    for kind, _name, ddl in saved:
        if kind == "TRIGGER":
            connection.exec_driver_sql(ddl)
    if saved:
        step("search index (FTS5 trigram)", lambda: search.rebuild_index(connection))
        # The board's counts missed the rows loaded without their triggers: count again.
        step("board counts", lambda: board_counts.rebuild(connection))
        connection.exec_driver_sql(f"PRAGMA cache_size = {-SQLITE_DEFAULT_CACHE_KIB}")


def _rebuild_postgresql(engine, saved, step) -> None:
    """Build the indexes two at a time (one connection each), then the foreign keys.

    The rows are committed by then: should this fail, the statements to run by
    hand are in the error.
    """

    def build(ddl: str, name: str) -> None:
        with engine.begin() as connection:
            # Sort in memory where possible (the default is 64 MB).
            connection.exec_driver_sql("SET LOCAL maintenance_work_mem = '512MB'")
            step(f"index {name}", lambda: connection.exec_driver_sql(ddl))

    indexes = [(ddl, name) for kind, name, ddl in saved if kind == "INDEX"]
    indexes.sort(key=lambda item: " gin " not in item[0].lower())  # the longest first
    try:
        with ThreadPoolExecutor(max_workers=2) as pool:
            for future in [pool.submit(build, ddl, name) for ddl, name in indexes]:
                future.result()
        with engine.begin() as connection:
            for kind, name, ddl in saved:
                if kind == "CONSTRAINT":
                    step(f"foreign key {name}", lambda d=ddl: connection.exec_driver_sql(d))
    except Exception as error:
        statements = "\n".join(f"{ddl};" for _, _, ddl in saved)
        raise RuntimeError(
            f"The deals are loaded, but rebuilding their indexes failed ({error}). "
            f"Run what is missing of:\n{statements}"
        ) from error


def finish(connection, saved, with_ids, loaded, step) -> None:
    """After a load: the sequences of the tables `with_ids` past their rows (PostgreSQL),
    the dropped indexes `saved` made again, the statistics of the tables `loaded`; commits.
    """
    if connection.dialect.name == "postgresql":
        _advance_sequences(connection, with_ids)
        finish_postgresql(saved, loaded, step)
    else:
        _rebuild_sqlite(connection, saved, step)
        # A sample is enough for the planner, and takes a fraction of a full pass.
        connection.exec_driver_sql("PRAGMA analysis_limit = 1000")
        step("statistics", lambda: analyze(connection, loaded))
        step("commit", db.session.commit)


def analyze(connection, tables) -> None:
    """SQLite: refresh the planner's statistics of the tables loaded (and of no other)."""
    for table in tables:
        connection.exec_driver_sql(f"ANALYZE {table}")


def finish_postgresql(saved, tables, step) -> None:
    """Commit, make the dropped indexes again, then VACUUM (ANALYZE) the tables loaded.

    VACUUM, not ANALYZE alone: it also marks the loaded pages all-visible, so an
    index-only scan reads no table row. Without it the first queries find pages not
    yet vacuumed, and the planner prefers a sequential scan ("Shared with" one partner
    of 1,000: a parallel scan of all the vendor's shared deals) until autovacuum runs,
    which it would do in the middle of whatever comes next. It cannot run in a
    transaction: on a connection of its own, in autocommit.
    """
    step("commit", db.session.commit)
    if saved:
        _rebuild_postgresql(db.engine, saved, step)
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as vacuum:
        for table in tables:
            step(f"vacuum {table}", lambda t=table: vacuum.exec_driver_sql(f"VACUUM (ANALYZE) {t}"))


def _advance_sequences(connection, tables) -> None:
    """Move the id sequences of `tables` past the rows inserted with explicit ids."""
    for table in tables:
        connection.exec_driver_sql(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
            f"(SELECT max(id) FROM {table}))"
        )
