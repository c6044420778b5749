"""the board's index on deals: (account, stage, created_at, owner, amount)

The board counts and totals every stage of a pipeline over the index's filtered
set (one GROUP BY stage): with the owner and the amount in the index, the
unfiltered board and "My deals" read no table row. Its columns' default order
(newest first) reads straight off it too.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28 16:00:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index(
        'ix_deals_account_stage_board',
        'deals',
        ['account_id', 'stage_id', 'created_at', 'owner_id', 'amount'],
    )


def downgrade():
    op.drop_index('ix_deals_account_stage_board', table_name='deals')
