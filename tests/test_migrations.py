"""The schema comes from Alembic: upgrading an empty database reaches the models exactly."""

import warnings

import pytest
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
        with warnings.catch_warnings():
            # SQLite cannot reflect the expression index on saved views' lower(name), so
            # it is compared on PostgreSQL only; test_services_saved_views checks it works.
            warnings.filterwarnings("ignore", "Skipped unsupported reflection of expression")
            warnings.filterwarnings("ignore", "autogenerate skipping metadata-specified expr")
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


def test_0003_gives_each_user_a_token_and_renames_colliding_view_names(fresh_app):
    from flask_migrate import downgrade, upgrade

    with fresh_app.app_context():
        downgrade(revision="0002")
        # Before 0003 nothing stopped two views of one owner sharing a name.
        with db.engine.begin() as connection:
            users = dict(connection.execute(sa.text("SELECT email, id FROM users")).all())
            assert "session_token" not in {
                c["name"] for c in sa.inspect(connection).get_columns("users")
            }
            account_of = dict(connection.execute(sa.text("SELECT id, account_id FROM users")).all())
            long_name = "x" * 80
            for email, name in [
                ("alice@brightside.example", "Big"),
                ("alice@brightside.example", "big"),
                ("alice@brightside.example", "Big (2)"),
                ("alice@brightside.example", "BIG"),
                ("alice@brightside.example", long_name),
                ("alice@brightside.example", long_name.upper()),
                ("bob@brightside.example", "Big"),
            ]:
                connection.execute(
                    sa.text(
                        "INSERT INTO saved_views (account_id, owner_id, name, visibility, query,"
                        " created_at, updated_at) VALUES (:account, :owner, :name, 'private',"
                        " '', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                    ),
                    {"account": account_of[users[email]], "owner": users[email], "name": name},
                )
        upgrade()
        with db.engine.connect() as connection:
            tokens = connection.scalars(sa.text("SELECT session_token FROM users")).all()
            names = connection.execute(
                sa.text("SELECT owner_id, name FROM saved_views ORDER BY id")
            ).all()
    assert len(tokens) == len(users) == len(set(tokens)) and all(len(t) >= 40 for t in tokens)
    alice, bob = users["alice@brightside.example"], users["bob@brightside.example"]
    assert names == [
        (alice, "Big"),
        (alice, "big (3)"),  # "Big (2)" was already taken
        (alice, "Big (2)"),
        (alice, "BIG (4)"),
        (alice, long_name),
        (alice, "X" * 76 + " (2)"),
        (bob, "Big"),
    ]


def test_0004_makes_both_deals_of_a_shared_deal_agree_keeping_the_partners_values(fresh_app):
    from flask_migrate import downgrade, upgrade

    with fresh_app.app_context():
        downgrade(revision="0003")
        with db.engine.begin() as connection:
            pairs = connection.execute(
                sa.text("SELECT partner_deal_id, vendor_deal_id FROM shared_deals")
            ).all()
            partner_id, vendor_id = pairs[0]
            connection.execute(
                sa.text(
                    "UPDATE deals SET name = 'Drifted', amount = 1, close_date = '2030-01-01' "
                    "WHERE id = :id"
                ),
                {"id": vendor_id},
            )
            partner = connection.execute(
                sa.text("SELECT name, amount, close_date FROM deals WHERE id = :id"),
                {"id": partner_id},
            ).one()
        upgrade()
        with db.engine.connect() as connection:
            rows = connection.execute(
                sa.text(
                    "SELECT p.name, p.amount, p.close_date, v.name, v.amount, v.close_date "
                    "FROM shared_deals s JOIN deals p ON p.id = s.partner_deal_id "
                    "JOIN deals v ON v.id = s.vendor_deal_id"
                )
            ).all()
            vendor = connection.execute(
                sa.text("SELECT name, amount, close_date FROM deals WHERE id = :id"),
                {"id": vendor_id},
            ).one()
    assert len(rows) == len(pairs) > 1
    assert all(tuple(row[:3]) == tuple(row[3:]) for row in rows)
    assert tuple(vendor) == tuple(partner) and vendor[0] != "Drifted"


def test_0019_measures_again_what_earlier_migrations_left_unmeasured(fresh_app):
    """SQLite plans from sqlite_stat1; an index made after the last ANALYZE has no row
    there (0014 made deals' default-order index again, 0018 the shared deals' parties
    index). 0019 analyzes both tables of a database that has statistics."""
    from flask_migrate import downgrade, upgrade

    with fresh_app.app_context():
        if db.engine.dialect.name != "sqlite":
            pytest.skip("sqlite_stat1 is SQLite's; PostgreSQL's autovacuum analyzes")
        downgrade(revision="0018")
        with db.engine.begin() as connection:
            connection.exec_driver_sql("ANALYZE")
            connection.exec_driver_sql(
                "DELETE FROM sqlite_stat1 WHERE idx IN "
                "('ix_deals_account_created', 'ix_shared_deals_parties')"
            )
        upgrade()
        with db.engine.connect() as connection:
            measured = set(connection.exec_driver_sql("SELECT idx FROM sqlite_stat1").scalars())
        assert {
            "ix_deals_account_created",
            "ix_shared_deals_parties",
            "ix_deals_account_stage_amount",
        } <= measured
