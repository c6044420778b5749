"""users choose their language and time zone; accounts have a default time zone

users.language: "en", "fr" or NULL (NULL: the browser's Accept-Language).
users.time_zone, accounts.time_zone: IANA names ("Europe/Paris") or NULL; a user
without one sees moments in the account's, an account without one in UTC.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-28 15:20:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('users', sa.Column('language', sa.String(length=8), nullable=True))
    op.add_column('users', sa.Column('time_zone', sa.String(length=64), nullable=True))
    op.add_column('accounts', sa.Column('time_zone', sa.String(length=64), nullable=True))


def downgrade():
    # Plain DROP COLUMN (SQLite >= 3.35): a batch rebuild of `accounts` or `users`
    # is refused by the foreign keys that point at them.
    op.drop_column('accounts', 'time_zone')
    op.drop_column('users', 'time_zone')
    op.drop_column('users', 'language')
