"""The schema comes from Alembic: upgrading an empty database reaches the models exactly."""

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from extensions import db
from models import include_in_autogenerate


def test_upgrade_from_empty_matches_the_models(app, db_session):
    # The session's database was built by `flask db upgrade` (see conftest).
    with db.engine.connect() as connection:
        # The search indexes are made by the migrations only (see models.py).
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "include_name": include_in_autogenerate}
        )
        diff = compare_metadata(context, db.metadata)
    assert diff == []


def test_downgrade_and_upgrade_round_trip(fresh_app):
    from flask_migrate import downgrade, upgrade

    with fresh_app.app_context():
        downgrade(revision="base")
        with db.engine.connect() as connection:
            tables = set(sa.inspect(connection).get_table_names()) - {"alembic_version"}
        assert tables == set()
        upgrade()
        with db.engine.connect() as connection:
            assert "deals" in sa.inspect(connection).get_table_names()
