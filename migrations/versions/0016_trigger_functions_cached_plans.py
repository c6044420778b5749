"""PostgreSQL: the trigger functions keep their cached plans (plan_cache_mode = auto)

The app's connections plan every statement for its values (`plan_cache_mode =
force_custom_plan`, extensions.py): a generic plan had turned the vendor's "filter
by partner" from 51 into 494 ms. That setting also reached the statements inside
the trigger functions (PL/pgSQL prepares them once per session), which then were
planned again at every row: 3,000 registrations inserted in one statement, whose
trigger recomputes `deals.registered_until`, took 5.0-5.9 s against 2.0-3.4 s, and
the vendor's seed of 500,000 registrations ran for minutes longer. Each trigger
function now sets `plan_cache_mode = auto` for its own run: its statements differ
only by the row's ids, and a generic plan for them is the right one.

A trigger function added later needs the same clause (tests/test_prepared_statements.py
checks every one).

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-29 17:20:00

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

FUNCTIONS = (
    "deals_refresh_registered_until()",
    "deals_count_changes()",
    "deals_amount_count_changes()",
)


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        for function in FUNCTIONS:
            op.execute(f"ALTER FUNCTION {function} SET plan_cache_mode = auto")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        for function in FUNCTIONS:
            op.execute(f"ALTER FUNCTION {function} RESET plan_cache_mode")
