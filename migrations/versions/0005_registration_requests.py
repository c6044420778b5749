"""registration requests: a partner asks, a vendor rep approves or declines

One table, registration_requests; a partial unique index keeps one open
("requested") request per shared deal. Approving makes the DealRegistration,
so what counts as an active registration (and its index) is unchanged.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28 15:10:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'registration_requests',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('shared_deal_id', sa.Integer(), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('requested_by_id', sa.Integer(), nullable=True),
        sa.Column('requested_at', sa.DateTime(), nullable=False),
        sa.Column('message', sa.Text(), nullable=False),
        sa.Column('decided_by_id', sa.Integer(), nullable=True),
        sa.Column('decided_at', sa.DateTime(), nullable=True),
        sa.Column('decline_reason', sa.Text(), nullable=False),
        sa.Column('registration_id', sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "status IN ('requested', 'approved', 'declined')",
            name=op.f('ck_registration_requests_request_status'),
        ),
        sa.ForeignKeyConstraint(
            ['decided_by_id'], ['users.id'],
            name=op.f('fk_registration_requests_decided_by_id_users'),
        ),
        sa.ForeignKeyConstraint(
            ['registration_id'], ['deal_registrations.id'],
            name=op.f('fk_registration_requests_registration_id_deal_registrations'),
        ),
        sa.ForeignKeyConstraint(
            ['requested_by_id'], ['users.id'],
            name=op.f('fk_registration_requests_requested_by_id_users'),
        ),
        sa.ForeignKeyConstraint(
            ['shared_deal_id'], ['shared_deals.id'],
            name=op.f('fk_registration_requests_shared_deal_id_shared_deals'),
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_registration_requests')),
    )
    with op.batch_alter_table('registration_requests', schema=None) as batch_op:
        batch_op.create_index(
            'ix_registration_requests_shared_deal', ['shared_deal_id', 'id'], unique=False
        )
        batch_op.create_index(
            'uq_registration_requests_open', ['shared_deal_id'], unique=True,
            sqlite_where=sa.text("status = 'requested'"),
            postgresql_where=sa.text("status = 'requested'"),
        )


def downgrade():
    with op.batch_alter_table('registration_requests', schema=None) as batch_op:
        batch_op.drop_index('uq_registration_requests_open')
        batch_op.drop_index('ix_registration_requests_shared_deal')
    op.drop_table('registration_requests')
