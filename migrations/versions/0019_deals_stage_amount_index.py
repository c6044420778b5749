"""the board's cards in amount order, each stage's read from one index; SQLite's statistics made again

A board sorted by amount shows each stage's 20 largest (or smallest) deals. No index
held a stage's deals in amount order: PostgreSQL walked the account's deals by amount
and kept those of the stage (EXPLAIN ANALYZE, 100,000 deals, "amount > 500,000":
206 rows removed per stage, the cards statement's execution 3.9-4.4 ms); with
`(account_id, stage_id, amount, id)` each stage reads its 21 entries from the index
alone (1.6-1.7 ms). SQLite, 100,000 deals, the same statement: 1.5-2.2 -> 0.8-1.1 ms.

SQLite plans from the statistics `ANALYZE` leaves in sqlite_stat1, and an index made
since has none: 0014 and 0017 made indexes on deals, 0018 one on shared deals, without
measuring them. A database upgraded from 0011 to 0018 read the same cards in 14.9 ms
until analyzed. So a database that has statistics gets them again for both tables
(sampled, as the seeds do).

Revision ID: 0019
Revises: 0018
Create Date: 2026-11-29 22:50:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index(
        "ix_deals_account_stage_amount", "deals", ["account_id", "stage_id", "amount", "id"]
    )
    bind = op.get_bind()
    if bind.dialect.name == "sqlite" and sa.inspect(bind).has_table("sqlite_stat1"):
        op.execute("PRAGMA analysis_limit = 1000")
        op.execute("ANALYZE deals")
        op.execute("ANALYZE shared_deals")


def downgrade():
    op.drop_index("ix_deals_account_stage_amount", table_name="deals")
