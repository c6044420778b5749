"""the deals index's default order also holds the deal and company names

"Deal name contains" and the free-text search with a common word (one that many
deals hold: "relaunch") walk `ix_deals_account_created` in the list's order,
testing each deal's name (and company) with LIKE until the page's capped count:
~16,000 deals for "relaunch" at 1,000,000, each a table row read for its names.
With the names in the index the walk reads the index alone (SQLite, 1,000,000
deals, the statement 16-29 -> 5.5 ms; the fragment 30 -> 23 ms median). It costs
~60 bytes a deal (61 MB at 1,000,000) and 11 s to rebuild there.

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-29 13:45:00

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

WITHOUT = ["account_id", "created_at", "id", "amount", "close_date", "stage_id", "owner_id"]
WITH = [*WITHOUT, "name", "company_name"]


def upgrade():
    op.drop_index("ix_deals_account_created", table_name="deals")
    op.create_index("ix_deals_account_created", "deals", WITH)


def downgrade():
    op.drop_index("ix_deals_account_created", table_name="deals")
    op.create_index("ix_deals_account_created", "deals", WITHOUT)
