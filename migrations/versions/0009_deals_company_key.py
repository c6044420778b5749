"""an index on deals by company key (lower case, no spaces), for registration conflicts

The vendor's deal page lists other partners' active registrations on deals of the
same company (services/registration_requests.conflicts_for). Without an index
that read every shared deal of the vendor: 1,000,000 at the vendor-scale bench.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-29 04:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index(
        'ix_deals_company_key', 'deals', [sa.text("lower(replace(company_name, ' ', ''))")]
    )


def downgrade():
    op.drop_index('ix_deals_company_key', table_name='deals')
