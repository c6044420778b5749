"""the deals index's default order reads amount, close date, stage and owner from its index

`ix_deals_account_created` (account, created_at, id) is the order the deals index
walks by default, stopping at the page's capped count (1,001 matches). With only
those columns, each entry it read cost a table row for the amount (the total) and
for the filter's column: "amount >", "stage is any of", "close date in the next 30
days" read 6,000-16,000 rows at 1,000,000 deals. The same index with amount,
close_date, stage_id and owner_id after the id answers them from the index alone.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-29 07:00:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

NARROW = ['account_id', 'created_at', 'id']
WIDE = [*NARROW, 'amount', 'close_date', 'stage_id', 'owner_id']


def upgrade():
    op.drop_index('ix_deals_account_created', table_name='deals')
    op.create_index('ix_deals_account_created', 'deals', WIDE)


def downgrade():
    op.drop_index('ix_deals_account_created', table_name='deals')
    op.create_index('ix_deals_account_created', 'deals', NARROW)
