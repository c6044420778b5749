"""shared properties: both deals of a shared deal get the same name, amount and close date

Deal name, amount and close date are shared properties from now on: an edit by
either party changes both deals (services/deal_fields.update). Pairs that drifted
apart before are made consistent here, keeping the partner's values: the
partner brought the deal, and the partner's deal is the one its reps worked.

Data only; downgrade leaves the values as they are.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28 15:00:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def _partners(column: str) -> str:
    return (
        f"(SELECT p.{column} FROM shared_deals s JOIN deals p ON p.id = s.partner_deal_id "
        "WHERE s.vendor_deal_id = deals.id)"
    )


def upgrade():
    op.execute(
        f"UPDATE deals SET name = {_partners('name')}, amount = {_partners('amount')}, "
        f"close_date = {_partners('close_date')} "
        "WHERE id IN (SELECT vendor_deal_id FROM shared_deals)"
    )


def downgrade():
    pass
