"""deals.registered_until, kept by triggers on deal_registrations, and its partial index

A deal has an active registration on day d when its shared deal has a
registration not deregistered whose expiry (if any) is d or later
(services/registration_queries.active_condition). registered_until is the
latest such expiry, 9999-12-31 for a registration without one, NULL when there
is none: "registered on d" is `registered_until >= d`. Nothing needs writing
when a registration expires; a registration added, deregistered, re-dated or
removed re-computes it for both deals of its shared deal, in the same
transaction (after the shared deal's row lock every registration write takes).

ix_deals_account_registered holds only the deals ever registered, in the deals
index's default order, with what its count and total read: "Registered deals"
reads ~1,000 index entries instead of one table row per registered deal.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29 04:00:00

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

FOREVER = "'9999-12-31'"


def _refresh(shared_deal_id: str) -> str:
    """UPDATE of both deals of shared deal `shared_deal_id` (an SQL expression)."""
    return (
        "UPDATE deals SET registered_until = ("
        f"SELECT max(coalesce(r.expires_on, {FOREVER})) FROM deal_registrations r "
        f"WHERE r.shared_deal_id = {shared_deal_id} AND r.deregistered_at IS NULL) "
        f"WHERE id IN (SELECT partner_deal_id FROM shared_deals WHERE id = {shared_deal_id} "
        f"UNION ALL SELECT vendor_deal_id FROM shared_deals WHERE id = {shared_deal_id})"
    )


SQLITE_UPGRADE = (
    "CREATE TRIGGER deal_registrations_registered_until_insert "
    f"AFTER INSERT ON deal_registrations BEGIN {_refresh('new.shared_deal_id')}; END",
    "CREATE TRIGGER deal_registrations_registered_until_update "
    "AFTER UPDATE OF shared_deal_id, expires_on, deregistered_at ON deal_registrations BEGIN "
    f"{_refresh('old.shared_deal_id')}; {_refresh('new.shared_deal_id')}; END",
    "CREATE TRIGGER deal_registrations_registered_until_delete "
    f"AFTER DELETE ON deal_registrations BEGIN {_refresh('old.shared_deal_id')}; END",
)
SQLITE_DOWNGRADE = (
    "DROP TRIGGER IF EXISTS deal_registrations_registered_until_delete",
    "DROP TRIGGER IF EXISTS deal_registrations_registered_until_update",
    "DROP TRIGGER IF EXISTS deal_registrations_registered_until_insert",
)
POSTGRESQL_UPGRADE = (
    "CREATE FUNCTION deals_refresh_registered_until() RETURNS trigger "
    "LANGUAGE plpgsql AS $$ BEGIN "
    f"IF TG_OP <> 'INSERT' THEN {_refresh('OLD.shared_deal_id')}; END IF; "
    f"IF TG_OP <> 'DELETE' THEN {_refresh('NEW.shared_deal_id')}; END IF; "
    "RETURN NULL; END $$",
    "CREATE TRIGGER deal_registrations_registered_until "
    "AFTER INSERT OR DELETE OR UPDATE OF shared_deal_id, expires_on, deregistered_at "
    "ON deal_registrations FOR EACH ROW EXECUTE FUNCTION deals_refresh_registered_until()",
)
POSTGRESQL_DOWNGRADE = (
    "DROP TRIGGER IF EXISTS deal_registrations_registered_until ON deal_registrations",
    "DROP FUNCTION IF EXISTS deals_refresh_registered_until()",
)


def _run(statements_by_dialect):
    for statement in statements_by_dialect.get(op.get_bind().dialect.name, ()):
        op.execute(statement)


def upgrade():
    # Plain ALTER TABLE on SQLite too: a batch copy of `deals` would drop its search triggers.
    op.add_column("deals", sa.Column("registered_until", sa.Date(), nullable=True))
    # The deals registered now, then the triggers that keep them so.
    op.execute(
        "UPDATE deals SET registered_until = ("
        f"SELECT max(coalesce(r.expires_on, {FOREVER})) FROM deal_registrations r "
        "JOIN shared_deals s ON s.id = r.shared_deal_id "
        "WHERE (s.partner_deal_id = deals.id OR s.vendor_deal_id = deals.id) "
        "AND r.deregistered_at IS NULL) "
        "WHERE id IN (SELECT partner_deal_id FROM shared_deals "
        "UNION ALL SELECT vendor_deal_id FROM shared_deals)"
    )
    _run({"sqlite": SQLITE_UPGRADE, "postgresql": POSTGRESQL_UPGRADE})
    op.create_index(
        "ix_deals_account_registered",
        "deals",
        ["account_id", "created_at", "id", "registered_until", "amount"],
        sqlite_where=sa.text("registered_until IS NOT NULL"),
        postgresql_where=sa.text("registered_until IS NOT NULL"),
    )


def downgrade():
    op.drop_index("ix_deals_account_registered", table_name="deals")
    _run({"sqlite": SQLITE_DOWNGRADE, "postgresql": POSTGRESQL_DOWNGRADE})
    op.drop_column("deals", "registered_until")
