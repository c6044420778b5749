"""the registration conflicts' company index holds only the registered deals

A registration's conflicts are other partners' deals of the same company with an
active registration (services/registration_requests.conflicts_select). The
expression index of 0009 held every deal's company key, so a registration card
read every deal of its company to find the few registered ones: at 1,000,000
deals per partner, the seed's ~72,000 a company, 75 ms a card. Only a deal with
an active registration has a `registered_until` (0008); the index now holds those
alone (SQLite, the seed at 1,000,000: 75 -> 11 ms).

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-29 13:45:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

KEY = sa.text("lower(replace(company_name, ' ', ''))")
REGISTERED = sa.text("registered_until IS NOT NULL")


def upgrade():
    op.drop_index("ix_deals_company_key", table_name="deals")
    op.create_index(
        "ix_deals_registered_company_key",
        "deals",
        [KEY],
        sqlite_where=REGISTERED,
        postgresql_where=REGISTERED,
    )


def downgrade():
    op.drop_index("ix_deals_registered_company_key", table_name="deals")
    op.create_index("ix_deals_company_key", "deals", [KEY])
