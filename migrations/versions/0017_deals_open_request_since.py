"""deals.open_request_since, kept by triggers on registration_requests, and its partial index

A shared deal has at most one open ("requested") registration request
(uq_registration_requests_open). open_request_since is that request's
requested_at on both deals of the shared deal, NULL when none is open: a request
made, approved, declined or removed re-computes it for both deals, in the same
transaction, as migration 0008 does for registered_until.

ix_deals_account_open_request holds only the deals with an open request, in the
deals index's default order, with what its count and total read: "Registration
requests" reads its ~2,500 index entries (1,000,000 shared deals in the vendor's
bench) instead of gathering the open requests and reading each deal by key.

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-29 19:00:00

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def _refresh(shared_deal_id: str) -> str:
    """UPDATE of both deals of shared deal `shared_deal_id` (an SQL expression)."""
    return (
        "UPDATE deals SET open_request_since = ("
        "SELECT max(q.requested_at) FROM registration_requests q "
        f"WHERE q.shared_deal_id = {shared_deal_id} AND q.status = 'requested') "
        f"WHERE id IN (SELECT partner_deal_id FROM shared_deals WHERE id = {shared_deal_id} "
        f"UNION ALL SELECT vendor_deal_id FROM shared_deals WHERE id = {shared_deal_id})"
    )


SQLITE_UPGRADE = (
    "CREATE TRIGGER registration_requests_open_insert "
    f"AFTER INSERT ON registration_requests BEGIN {_refresh('new.shared_deal_id')}; END",
    "CREATE TRIGGER registration_requests_open_update "
    "AFTER UPDATE OF shared_deal_id, status, requested_at ON registration_requests BEGIN "
    f"{_refresh('old.shared_deal_id')}; {_refresh('new.shared_deal_id')}; END",
    "CREATE TRIGGER registration_requests_open_delete "
    f"AFTER DELETE ON registration_requests BEGIN {_refresh('old.shared_deal_id')}; END",
)
SQLITE_DOWNGRADE = (
    "DROP TRIGGER IF EXISTS registration_requests_open_delete",
    "DROP TRIGGER IF EXISTS registration_requests_open_update",
    "DROP TRIGGER IF EXISTS registration_requests_open_insert",
)
POSTGRESQL_UPGRADE = (
    # `plan_cache_mode = auto`, as migration 0016 gives the other trigger functions.
    "CREATE FUNCTION deals_refresh_open_request() RETURNS trigger "
    "LANGUAGE plpgsql SET plan_cache_mode = auto AS $$ BEGIN "
    f"IF TG_OP <> 'INSERT' THEN {_refresh('OLD.shared_deal_id')}; END IF; "
    f"IF TG_OP <> 'DELETE' THEN {_refresh('NEW.shared_deal_id')}; END IF; "
    "RETURN NULL; END $$",
    "CREATE TRIGGER registration_requests_open "
    "AFTER INSERT OR DELETE OR UPDATE OF shared_deal_id, status, requested_at "
    "ON registration_requests FOR EACH ROW EXECUTE FUNCTION deals_refresh_open_request()",
)
POSTGRESQL_DOWNGRADE = (
    "DROP TRIGGER IF EXISTS registration_requests_open ON registration_requests",
    "DROP FUNCTION IF EXISTS deals_refresh_open_request()",
)


def _run(statements_by_dialect):
    for statement in statements_by_dialect.get(op.get_bind().dialect.name, ()):
        op.execute(statement)


def upgrade():
    # Plain ALTER TABLE on SQLite too: a batch copy of `deals` would drop its search triggers.
    op.add_column("deals", sa.Column("open_request_since", sa.DateTime(), nullable=True))
    # The deals with an open request now, then the triggers that keep them so.
    op.execute(
        "UPDATE deals SET open_request_since = ("
        "SELECT max(q.requested_at) FROM registration_requests q "
        "JOIN shared_deals s ON s.id = q.shared_deal_id "
        "WHERE (s.partner_deal_id = deals.id OR s.vendor_deal_id = deals.id) "
        "AND q.status = 'requested') "
        "WHERE id IN (SELECT s.partner_deal_id FROM shared_deals s "
        "JOIN registration_requests q ON q.shared_deal_id = s.id WHERE q.status = 'requested' "
        "UNION ALL SELECT s.vendor_deal_id FROM shared_deals s "
        "JOIN registration_requests q ON q.shared_deal_id = s.id WHERE q.status = 'requested')"
    )
    _run({"sqlite": SQLITE_UPGRADE, "postgresql": POSTGRESQL_UPGRADE})
    op.create_index(
        "ix_deals_account_open_request",
        "deals",
        ["account_id", "created_at", "id", "open_request_since", "amount"],
        sqlite_where=sa.text("open_request_since IS NOT NULL"),
        postgresql_where=sa.text("open_request_since IS NOT NULL"),
    )


def downgrade():
    op.drop_index("ix_deals_account_open_request", table_name="deals")
    _run({"sqlite": SQLITE_DOWNGRADE, "postgresql": POSTGRESQL_DOWNGRADE})
    op.drop_column("deals", "open_request_since")
