"""deals.shared_with_account_id, kept by triggers on shared_deals, and its partial index

A shared deal links a partner's deal and the vendor's deal. shared_with_account_id
is, on each of the two deals, the other party's account: the vendor's on the
partner's deal, the partner's on the vendor's; NULL on a deal not shared. A shared
deal made, re-pointed or removed writes it on its deals, in the same transaction.

ix_deals_account_shared_with holds only the shared deals, by the party they are
shared with, in the deals index's default order, with the amount its total reads:
"Shared with" one partner reads that partner's index entries (1,000 of the vendor's
1,000,000 deals in the vendor's bench), where it read the partner's shared deals
off ix_shared_deals_parties and then each deal by key for its date and amount. The
deal rows' "Shared with" name is one account read by key, not a shared deal first.

PostgreSQL writes the shared deals made by one statement in one UPDATE per side (a
statement trigger reading the new rows): the seeds make a million in one INSERT.
An UPDATE trigger with transition tables cannot name its columns, and a note saved
on a shared deal must not write its deals: re-pointing and removing, which the app
never does, are row triggers.

Revision ID: 0020
Revises: 0019
Create Date: 2026-11-30 08:00:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

PARTIES = "partner_account_id, vendor_account_id, partner_deal_id, vendor_deal_id"


def _share(row: str, differs: str) -> tuple[str, str]:
    """The two UPDATEs that mark the deals of shared deal `row` (NEW, new) as shared.

    A deal already marked so is not written: the seeds mark their deals as they make
    them. `differs` is the dialect's null-safe "not equal" (IS NOT, IS DISTINCT FROM).
    """
    return tuple(
        f"UPDATE deals SET shared_with_account_id = {row}.{other}_account_id "
        f"WHERE id = {row}.{side}_deal_id "
        f"AND shared_with_account_id {differs} {row}.{other}_account_id"
        for side, other in (("partner", "vendor"), ("vendor", "partner"))
    )


def _unshare(row: str) -> str:
    """The UPDATE that marks the deals of shared deal `row` (OLD, old) as not shared."""
    return (
        "UPDATE deals SET shared_with_account_id = NULL "
        f"WHERE id IN ({row}.partner_deal_id, {row}.vendor_deal_id)"
    )


SQLITE_UPGRADE = (
    "CREATE TRIGGER shared_deals_shared_with_insert AFTER INSERT ON shared_deals BEGIN "
    + "; ".join(_share("new", "IS NOT"))
    + "; END",
    f"CREATE TRIGGER shared_deals_shared_with_update AFTER UPDATE OF {PARTIES} "
    f"ON shared_deals BEGIN {_unshare('old')}; " + "; ".join(_share("new", "IS NOT")) + "; END",
    "CREATE TRIGGER shared_deals_shared_with_delete AFTER DELETE ON shared_deals BEGIN "
    f"{_unshare('old')}; END",
)
SQLITE_DOWNGRADE = (
    "DROP TRIGGER IF EXISTS shared_deals_shared_with_delete",
    "DROP TRIGGER IF EXISTS shared_deals_shared_with_update",
    "DROP TRIGGER IF EXISTS shared_deals_shared_with_insert",
)
POSTGRESQL_UPGRADE = (
    # `plan_cache_mode = auto`, as migration 0016 gives the other trigger functions.
    "CREATE FUNCTION deals_share() RETURNS trigger "
    "LANGUAGE plpgsql SET plan_cache_mode = auto AS $$ BEGIN "
    "UPDATE deals d SET shared_with_account_id = n.vendor_account_id "
    "FROM new_shared n WHERE d.id = n.partner_deal_id "
    "AND d.shared_with_account_id IS DISTINCT FROM n.vendor_account_id; "
    "UPDATE deals d SET shared_with_account_id = n.partner_account_id "
    "FROM new_shared n WHERE d.id = n.vendor_deal_id "
    "AND d.shared_with_account_id IS DISTINCT FROM n.partner_account_id; "
    "RETURN NULL; END $$",
    "CREATE TRIGGER shared_deals_shared_with_insert AFTER INSERT ON shared_deals "
    "REFERENCING NEW TABLE AS new_shared FOR EACH STATEMENT EXECUTE FUNCTION deals_share()",
    "CREATE FUNCTION deals_reshare() RETURNS trigger "
    "LANGUAGE plpgsql SET plan_cache_mode = auto AS $$ BEGIN "
    f"{_unshare('OLD')}; "
    "IF TG_OP = 'UPDATE' THEN " + "; ".join(_share("NEW", "IS DISTINCT FROM")) + "; END IF; "
    "RETURN NULL; END $$",
    f"CREATE TRIGGER shared_deals_shared_with_change AFTER DELETE OR UPDATE OF {PARTIES} "
    "ON shared_deals FOR EACH ROW EXECUTE FUNCTION deals_reshare()",
)
POSTGRESQL_DOWNGRADE = (
    "DROP TRIGGER IF EXISTS shared_deals_shared_with_change ON shared_deals",
    "DROP TRIGGER IF EXISTS shared_deals_shared_with_insert ON shared_deals",
    "DROP FUNCTION IF EXISTS deals_reshare()",
    "DROP FUNCTION IF EXISTS deals_share()",
)


def _run(statements_by_dialect):
    for statement in statements_by_dialect.get(op.get_bind().dialect.name, ()):
        op.execute(statement)


def upgrade():
    # Plain ALTER TABLE on SQLite too: a batch copy of `deals` would drop its search triggers.
    op.add_column("deals", sa.Column("shared_with_account_id", sa.Integer(), nullable=True))
    # The deals shared now, then the triggers that keep them so.
    for side, other in (("partner", "vendor"), ("vendor", "partner")):
        op.execute(
            f"UPDATE deals SET shared_with_account_id = (SELECT s.{other}_account_id "  # noqa: S608
            f"FROM shared_deals s WHERE s.{side}_deal_id = deals.id) "
            f"WHERE id IN (SELECT {side}_deal_id FROM shared_deals)"
        )
    _run({"sqlite": SQLITE_UPGRADE, "postgresql": POSTGRESQL_UPGRADE})
    op.create_index(
        "ix_deals_account_shared_with",
        "deals",
        ["account_id", "shared_with_account_id", "created_at", "id", "amount"],
        sqlite_where=sa.text("shared_with_account_id IS NOT NULL"),
        postgresql_where=sa.text("shared_with_account_id IS NOT NULL"),
    )
    bind = op.get_bind()
    if bind.dialect.name == "sqlite" and sa.inspect(bind).has_table("sqlite_stat1"):
        # A new index has no statistics: measure it, as migration 0019 does.
        op.execute("PRAGMA analysis_limit = 1000")
        op.execute("ANALYZE deals")


def downgrade():
    op.drop_index("ix_deals_account_shared_with", table_name="deals")
    _run({"sqlite": SQLITE_DOWNGRADE, "postgresql": POSTGRESQL_DOWNGRADE})
    op.drop_column("deals", "shared_with_account_id")
