"""PostgreSQL: deal and company names kept lower-cased, for the name filters and the search

"Deal name contains", "Deal name is" and the free-text search compared each deal
with ILIKE. In a UTF-8 database ILIKE lower-cases the name (and the pattern) for
every row it tests, and a common word ("relaunch") walks ~16,000 deals in the
list's order before it has the page's capped count: 26 ms of ILIKE against 7.5 ms
for the same walk with LIKE (100,000 deals, psql, median of 25). The names are now
stored lower-cased too, by the database (generated columns, `lower()` as ILIKE
applies it), and services/search.py compares them with LIKE against the lower-cased
pattern: the same answer as ILIKE, which is exactly `lower(x) LIKE lower(p)` there.

- `name_folded`, `company_folded`: `lower(name)`, `lower(company_name)`, stored;
- the trigram indexes (migration 0002) now index those, so LIKE can use them;
- `ix_deals_account_created_folded` (account, created_at, id, amount, both folded
  names): the default order's walk reads the index alone.

SQLite is untouched: its LIKE folds ASCII only, as its search always did, and
reads the names from `ix_deals_account_created` (migration 0014). Like the search
indexes, none of this is in the SQLAlchemy metadata (models.include_in_autogenerate).

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-29 16:15:00

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

POSTGRESQL_UPGRADE = (
    "ALTER TABLE deals "
    "ADD COLUMN name_folded text GENERATED ALWAYS AS (lower(name)) STORED, "
    "ADD COLUMN company_folded text GENERATED ALWAYS AS (lower(company_name)) STORED",
    "DROP INDEX IF EXISTS ix_deals_name_trgm",
    "DROP INDEX IF EXISTS ix_deals_company_name_trgm",
    "CREATE INDEX ix_deals_name_trgm ON deals USING gin (name_folded gin_trgm_ops)",
    "CREATE INDEX ix_deals_company_name_trgm ON deals USING gin (company_folded gin_trgm_ops)",
    "CREATE INDEX ix_deals_account_created_folded ON deals "
    "(account_id, created_at, id, amount, name_folded, company_folded)",
)
POSTGRESQL_DOWNGRADE = (
    "DROP INDEX IF EXISTS ix_deals_account_created_folded",
    "DROP INDEX IF EXISTS ix_deals_company_name_trgm",
    "DROP INDEX IF EXISTS ix_deals_name_trgm",
    "ALTER TABLE deals DROP COLUMN company_folded, DROP COLUMN name_folded",
    "CREATE INDEX ix_deals_name_trgm ON deals USING gin (name gin_trgm_ops)",
    "CREATE INDEX ix_deals_company_name_trgm ON deals USING gin (company_name gin_trgm_ops)",
)


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        for statement in POSTGRESQL_UPGRADE:
            op.execute(statement)


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        for statement in POSTGRESQL_DOWNGRADE:
            op.execute(statement)
