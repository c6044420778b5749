"""revocable sessions; saved view names unique per owner

users.session_token: a random token that is part of the id Flask-Login keeps in
the session and in the remember-me cookie (User.get_id). A new token ends every
session of the user. Each existing user gets a token of their own.

On SQLite the column keeps the DEFAULT '' it was added with: dropping a default
there means rebuilding `users`, which the foreign keys pointing at it forbid.
services/accounts.load_user refuses an empty token, and the model always sets one.

saved_views: one name per owner, case-insensitive: a unique index on
(owner_id, lower(name)). Names that already collide (two "Save view" at the same
moment could make them) are renamed "Name (2)", "Name (3)", … first, oldest kept.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28 09:00:00

"""
import secrets

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

MAX_VIEW_NAME = 80

users = sa.table('users', sa.column('id', sa.Integer), sa.column('session_token', sa.String))
saved_views = sa.table(
    'saved_views', sa.column('id', sa.Integer), sa.column('owner_id', sa.Integer),
    sa.column('name', sa.String),
)


def upgrade():
    bind = op.get_bind()
    op.add_column(
        'users',
        sa.Column('session_token', sa.String(length=64), nullable=False, server_default=''),
    )
    for user_id in bind.scalars(sa.select(users.c.id)).all():
        bind.execute(
            users.update()
            .where(users.c.id == user_id)
            .values(session_token=secrets.token_urlsafe(32))
        )
    if bind.dialect.name == 'postgresql':
        op.alter_column('users', 'session_token', server_default=None)

    _rename_colliding_view_names(bind)
    op.create_index(
        'uq_saved_views_owner_name', 'saved_views', ['owner_id', sa.text('lower(name)')],
        unique=True,
    )


def downgrade():
    op.drop_index('uq_saved_views_owner_name', table_name='saved_views')
    op.drop_column('users', 'session_token')


def _rename_colliding_view_names(bind):
    rows = bind.execute(
        sa.select(saved_views.c.id, saved_views.c.owner_id, saved_views.c.name)
        .order_by(saved_views.c.owner_id, saved_views.c.id)
    ).all()
    taken = {(owner_id, name.lower()) for _, owner_id, name in rows}
    seen = set()
    for view_id, owner_id, name in rows:
        if (owner_id, name.lower()) not in seen:
            seen.add((owner_id, name.lower()))
            continue
        number = 2
        while True:
            suffix = f' ({number})'
            candidate = name[: MAX_VIEW_NAME - len(suffix)] + suffix
            if (owner_id, candidate.lower()) not in taken:
                break
            number += 1
        taken.add((owner_id, candidate.lower()))
        seen.add((owner_id, candidate.lower()))
        bind.execute(
            saved_views.update().where(saved_views.c.id == view_id).values(name=candidate)
        )
