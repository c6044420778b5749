"""deal_counts: the board's per-(account, pipeline, stage, owner) counts and totals

The board's column headers (a count and an amount total per stage, over the
whole set) read one index entry per deal: 545,000 at 1,000,000 deals, 80-140 ms.
These rows hold the same numbers, kept by triggers on `deals` in the same
transaction as every write that changes them: a deal created, deleted, moved
(stage or pipeline), re-owned or re-priced, by the app, the bulk seed or any SQL.

Insert-only deltas, not one row per key updated in place: a write inserts
"+1 deal, +amount" for the key it joins and "-1, -amount" for the one it leaves,
and never updates a shared row, so two concurrent moves A->B and B->A of the same
owner cannot wait on each other's counter row, let alone deadlock; a count is the
sum of its key's rows. services/board_counts.fold replaces an account's rows by
one per key now and then. Amounts are summed in cents (integers): exact on SQLite,
where NUMERIC is a float.

On PostgreSQL the triggers are per statement, with transition tables: a statement
inserts one row per key it changed (a bulk INSERT of a million deals, a few dozen
rows; an UPDATE that changes no key or amount, none). SQLite has row triggers only.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-29 07:00:00

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

COLUMNS = "account_id, pipeline_id, stage_id, owner_id, deal_count, amount_cents"


def _key(row: str) -> str:
    return f"{row}.account_id, {row}.pipeline_id, {row}.stage_id, coalesce({row}.owner_id, 0)"


def _cents(row: str) -> str:
    return f"CAST(round(coalesce({row}.amount, 0) * 100) AS BIGINT)"


def _sqlite_delta(row: str, sign: str) -> str:
    return f"INSERT INTO deal_counts ({COLUMNS}) VALUES ({_key(row)}, {sign}1, {sign}{_cents(row)})"


_CHANGED = " OR ".join(
    f"old.{c} IS NOT new.{c}"
    for c in ("account_id", "pipeline_id", "stage_id", "owner_id", "amount")
)
SQLITE_UPGRADE = (
    "CREATE TRIGGER deals_count_insert AFTER INSERT ON deals BEGIN "
    f"{_sqlite_delta('new', '')}; END",
    "CREATE TRIGGER deals_count_delete AFTER DELETE ON deals BEGIN "
    f"{_sqlite_delta('old', '-')}; END",
    "CREATE TRIGGER deals_count_update "
    "AFTER UPDATE OF account_id, pipeline_id, stage_id, owner_id, amount ON deals "
    f"WHEN {_CHANGED} BEGIN {_sqlite_delta('old', '-')}; {_sqlite_delta('new', '')}; END",
)
SQLITE_DOWNGRADE = (
    "DROP TRIGGER IF EXISTS deals_count_update",
    "DROP TRIGGER IF EXISTS deals_count_delete",
    "DROP TRIGGER IF EXISTS deals_count_insert",
)


# One row per key the statement changed; keys whose changes cancel out (a name edit,
# an UPDATE to the same values) write nothing.
_PG_INSERT = (
    f"INSERT INTO deal_counts ({COLUMNS}) "
    "SELECT account_id, pipeline_id, stage_id, owner_id, sum(n), sum(c) FROM ({rows}) AS d "
    "GROUP BY account_id, pipeline_id, stage_id, owner_id HAVING sum(n) <> 0 OR sum(c) <> 0"
)


def _pg_select(table: str, sign: str) -> str:
    return (
        "SELECT d.account_id, d.pipeline_id, d.stage_id, coalesce(d.owner_id, 0) AS owner_id, "
        f"{sign}1 AS n, {sign}{_cents('d')} AS c FROM {table} d"
    )


_PG_BOTH = f"{_pg_select('old_deals', '-')} UNION ALL {_pg_select('new_deals', '')}"
POSTGRESQL_UPGRADE = (
    "CREATE FUNCTION deals_count_changes() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    "IF TG_OP = 'INSERT' THEN "
    f"{_PG_INSERT.format(rows=_pg_select('new_deals', ''))}; "
    "ELSIF TG_OP = 'DELETE' THEN "
    f"{_PG_INSERT.format(rows=_pg_select('old_deals', '-'))}; "
    "ELSE "
    f"{_PG_INSERT.format(rows=_PG_BOTH)}; "
    "END IF; RETURN NULL; END $$",
    "CREATE TRIGGER deals_count_insert AFTER INSERT ON deals "
    "REFERENCING NEW TABLE AS new_deals FOR EACH STATEMENT EXECUTE FUNCTION deals_count_changes()",
    "CREATE TRIGGER deals_count_delete AFTER DELETE ON deals "
    "REFERENCING OLD TABLE AS old_deals FOR EACH STATEMENT EXECUTE FUNCTION deals_count_changes()",
    "CREATE TRIGGER deals_count_update AFTER UPDATE ON deals "
    "REFERENCING OLD TABLE AS old_deals NEW TABLE AS new_deals "
    "FOR EACH STATEMENT EXECUTE FUNCTION deals_count_changes()",
)
POSTGRESQL_DOWNGRADE = (
    "DROP TRIGGER IF EXISTS deals_count_update ON deals",
    "DROP TRIGGER IF EXISTS deals_count_delete ON deals",
    "DROP TRIGGER IF EXISTS deals_count_insert ON deals",
    "DROP FUNCTION IF EXISTS deals_count_changes()",
)


def _run(statements_by_dialect):
    for statement in statements_by_dialect.get(op.get_bind().dialect.name, ()):
        op.execute(statement)


def upgrade():
    op.create_table(
        "deal_counts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("pipeline_id", sa.Integer(), nullable=False),
        sa.Column("stage_id", sa.Integer(), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("deal_count", sa.Integer(), nullable=False),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deal_counts")),
    )
    op.create_index(
        "ix_deal_counts_account_stage",
        "deal_counts",
        ["account_id", "stage_id", "owner_id", "deal_count", "amount_cents"],
    )
    # The deals there are now, one row per key, then the triggers that keep them so.
    op.execute(
        f"INSERT INTO deal_counts ({COLUMNS}) "
        "SELECT account_id, pipeline_id, stage_id, coalesce(owner_id, 0), count(*), "
        f"sum({_cents('deals')}) FROM deals "
        "GROUP BY account_id, pipeline_id, stage_id, coalesce(owner_id, 0)"
    )
    _run({"sqlite": SQLITE_UPGRADE, "postgresql": POSTGRESQL_UPGRADE})


def downgrade():
    _run({"sqlite": SQLITE_DOWNGRADE, "postgresql": POSTGRESQL_DOWNGRADE})
    op.drop_index("ix_deal_counts_account_stage", table_name="deal_counts")
    op.drop_table("deal_counts")
