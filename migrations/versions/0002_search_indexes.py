"""trigram search indexes over deal name and company name

SQLite: an FTS5 table with the trigram tokenizer over deals(name, company_name),
external content (it stores only the index, reading the text from `deals`), kept
in sync by three triggers. PostgreSQL: pg_trgm GIN indexes on the two columns,
which serve `ILIKE '%term%'` directly.

None of this is in the SQLAlchemy metadata (models.include_in_autogenerate keeps
autogenerate from proposing to drop it); services/search.py is its only reader.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27 15:00:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

SQLITE_UPGRADE = (
    # columnsize=0: no per-row size table (nothing here ranks results).
    "CREATE VIRTUAL TABLE deals_fts USING fts5("
    "name, company_name, content='deals', content_rowid='id', "
    "tokenize='trigram', columnsize=0)",
    "CREATE TRIGGER deals_fts_insert AFTER INSERT ON deals BEGIN "
    "INSERT INTO deals_fts(rowid, name, company_name) "
    "VALUES (new.id, new.name, new.company_name); END",
    "CREATE TRIGGER deals_fts_delete AFTER DELETE ON deals BEGIN "
    "INSERT INTO deals_fts(deals_fts, rowid, name, company_name) "
    "VALUES ('delete', old.id, old.name, old.company_name); END",
    "CREATE TRIGGER deals_fts_update AFTER UPDATE OF id, name, company_name ON deals BEGIN "
    "INSERT INTO deals_fts(deals_fts, rowid, name, company_name) "
    "VALUES ('delete', old.id, old.name, old.company_name); "
    "INSERT INTO deals_fts(rowid, name, company_name) "
    "VALUES (new.id, new.name, new.company_name); END",
    # Index the deals that are already there.
    "INSERT INTO deals_fts(deals_fts) VALUES ('rebuild')",
)
SQLITE_DOWNGRADE = (
    "DROP TRIGGER IF EXISTS deals_fts_update",
    "DROP TRIGGER IF EXISTS deals_fts_delete",
    "DROP TRIGGER IF EXISTS deals_fts_insert",
    "DROP TABLE IF EXISTS deals_fts",
)
POSTGRESQL_UPGRADE = (
    # pg_trgm is a trusted extension: the database owner may create it.
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX ix_deals_name_trgm ON deals USING gin (name gin_trgm_ops)",
    "CREATE INDEX ix_deals_company_name_trgm ON deals USING gin (company_name gin_trgm_ops)",
)
POSTGRESQL_DOWNGRADE = (
    # The extension stays: it may have been there before, and others may use it.
    "DROP INDEX IF EXISTS ix_deals_company_name_trgm",
    "DROP INDEX IF EXISTS ix_deals_name_trgm",
)


def _run(statements_by_dialect):
    for statement in statements_by_dialect.get(op.get_bind().dialect.name, ()):
        op.execute(statement)


def upgrade():
    _run({"sqlite": SQLITE_UPGRADE, "postgresql": POSTGRESQL_UPGRADE})


def downgrade():
    _run({"sqlite": SQLITE_DOWNGRADE, "postgresql": POSTGRESQL_DOWNGRADE})
