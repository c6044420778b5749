"""deal_amount_counts: the board's counts and totals by amount band

A board filtered by amount ("Amount is greater than 500,000") cannot read
deal_counts (0010), which has no amount in its key: its column headers read one
index entry per matching deal, 500,000 at 1,000,000 deals, about 100 ms. These
rows hold each stage's count and total per amount band, kept by triggers on
`deals` exactly like deal_counts' (insert-only signed deltas, per statement on
PostgreSQL, per row on SQLite): the board adds up the bands its range covers
whole, and counts only the deals of the two bands at its edges, from the new
index (account, stage, amount) alone.

The band ("bucket") of an amount in whole cents c is c itself below 100, else its
number of digits times 100 plus its first two digits (12,345 cents: 512). Bands
follow the amounts' order, and each holds about 1 % of a decade: at most ~1,300
per stage, whatever the data. services/board_counts.bucket computes the same in
Python. Deals without an amount have no row.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-29 13:30:00

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

COLUMNS = "account_id, pipeline_id, stage_id, bucket, deal_count, amount_cents"


def _cents(row: str) -> str:
    return f"CAST(round({row}.amount * 100) AS BIGINT)"


def _bucket(row: str) -> str:
    cents, text = _cents(row), f"CAST({_cents(row)} AS TEXT)"
    return (
        f"CASE WHEN {cents} < 100 THEN {cents} "
        f"ELSE length({text}) * 100 + CAST(substr({text}, 1, 2) AS INTEGER) END"
    )


def _key(row: str) -> str:
    return f"{row}.account_id, {row}.pipeline_id, {row}.stage_id, {_bucket(row)}"


def _sqlite_delta(row: str, sign: str) -> str:
    return (
        f"INSERT INTO deal_amount_counts ({COLUMNS}) "
        f"SELECT {_key(row)}, {sign}1, {sign}{_cents(row)} WHERE {row}.amount IS NOT NULL"
    )


_CHANGED = " OR ".join(
    f"old.{c} IS NOT new.{c}" for c in ("account_id", "pipeline_id", "stage_id", "amount")
)
SQLITE_UPGRADE = (
    "CREATE TRIGGER deals_amount_count_insert AFTER INSERT ON deals BEGIN "
    f"{_sqlite_delta('new', '')}; END",
    "CREATE TRIGGER deals_amount_count_delete AFTER DELETE ON deals BEGIN "
    f"{_sqlite_delta('old', '-')}; END",
    "CREATE TRIGGER deals_amount_count_update "
    "AFTER UPDATE OF account_id, pipeline_id, stage_id, amount ON deals "
    f"WHEN {_CHANGED} BEGIN {_sqlite_delta('old', '-')}; {_sqlite_delta('new', '')}; END",
)
SQLITE_DOWNGRADE = (
    "DROP TRIGGER IF EXISTS deals_amount_count_update",
    "DROP TRIGGER IF EXISTS deals_amount_count_delete",
    "DROP TRIGGER IF EXISTS deals_amount_count_insert",
)

# One row per key the statement changed; keys whose changes cancel out write nothing.
_PG_INSERT = (
    f"INSERT INTO deal_amount_counts ({COLUMNS}) "
    "SELECT account_id, pipeline_id, stage_id, bucket, sum(n), sum(c) FROM ({rows}) AS d "
    "GROUP BY account_id, pipeline_id, stage_id, bucket HAVING sum(n) <> 0 OR sum(c) <> 0"
)


def _pg_select(table: str, sign: str) -> str:
    return (
        "SELECT d.account_id, d.pipeline_id, d.stage_id, "
        f"{_bucket('d')} AS bucket, {sign}1 AS n, {sign}{_cents('d')} AS c "
        f"FROM {table} d WHERE d.amount IS NOT NULL"
    )


_PG_BOTH = f"{_pg_select('old_deals', '-')} UNION ALL {_pg_select('new_deals', '')}"
POSTGRESQL_UPGRADE = (
    "CREATE FUNCTION deals_amount_count_changes() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    "IF TG_OP = 'INSERT' THEN "
    f"{_PG_INSERT.format(rows=_pg_select('new_deals', ''))}; "
    "ELSIF TG_OP = 'DELETE' THEN "
    f"{_PG_INSERT.format(rows=_pg_select('old_deals', '-'))}; "
    "ELSE "
    f"{_PG_INSERT.format(rows=_PG_BOTH)}; "
    "END IF; RETURN NULL; END $$",
    "CREATE TRIGGER deals_amount_count_insert AFTER INSERT ON deals "
    "REFERENCING NEW TABLE AS new_deals FOR EACH STATEMENT "
    "EXECUTE FUNCTION deals_amount_count_changes()",
    "CREATE TRIGGER deals_amount_count_delete AFTER DELETE ON deals "
    "REFERENCING OLD TABLE AS old_deals FOR EACH STATEMENT "
    "EXECUTE FUNCTION deals_amount_count_changes()",
    "CREATE TRIGGER deals_amount_count_update AFTER UPDATE ON deals "
    "REFERENCING OLD TABLE AS old_deals NEW TABLE AS new_deals "
    "FOR EACH STATEMENT EXECUTE FUNCTION deals_amount_count_changes()",
)
POSTGRESQL_DOWNGRADE = (
    "DROP TRIGGER IF EXISTS deals_amount_count_update ON deals",
    "DROP TRIGGER IF EXISTS deals_amount_count_delete ON deals",
    "DROP TRIGGER IF EXISTS deals_amount_count_insert ON deals",
    "DROP FUNCTION IF EXISTS deals_amount_count_changes()",
)


def _run(statements_by_dialect):
    for statement in statements_by_dialect.get(op.get_bind().dialect.name, ()):
        op.execute(statement)


def upgrade():
    op.create_table(
        "deal_amount_counts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("pipeline_id", sa.Integer(), nullable=False),
        sa.Column("stage_id", sa.Integer(), nullable=False),
        sa.Column("bucket", sa.Integer(), nullable=False),
        sa.Column("deal_count", sa.Integer(), nullable=False),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deal_amount_counts")),
    )
    op.create_index(
        "ix_deal_amount_counts_account_stage",
        "deal_amount_counts",
        ["account_id", "stage_id", "bucket", "deal_count", "amount_cents"],
    )
    op.execute(
        "CREATE INDEX ix_deals_account_stage_bucket ON deals "
        f"(account_id, stage_id, ({_bucket('deals').replace('deals.', '')}), amount)"
    )
    # The deals there are now, one row per key, then the triggers that keep them so.
    op.execute(
        f"INSERT INTO deal_amount_counts ({COLUMNS}) "
        f"SELECT {_key('deals')}, count(*), sum({_cents('deals')}) FROM deals "
        f"WHERE amount IS NOT NULL GROUP BY {_key('deals')}"
    )
    _run({"sqlite": SQLITE_UPGRADE, "postgresql": POSTGRESQL_UPGRADE})
    bind = op.get_bind()
    if bind.dialect.name == "sqlite" and sa.inspect(bind).has_table("sqlite_stat1"):
        # A database whose planner has statistics for every other index would take the
        # new one, unmeasured, for the board's cards (stage = ?, amount < ?, newest
        # first) and sort a whole stage: measure it too (sampled, as the bulk seed does).
        op.execute("PRAGMA analysis_limit = 1000")
        op.execute("ANALYZE deals")


def downgrade():
    _run({"sqlite": SQLITE_DOWNGRADE, "postgresql": POSTGRESQL_DOWNGRADE})
    op.drop_index("ix_deals_account_stage_bucket", table_name="deals")
    op.drop_index("ix_deal_amount_counts_account_stage", table_name="deal_amount_counts")
    op.drop_table("deal_amount_counts")
