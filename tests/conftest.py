"""Fixtures: an app on a migrated, demo-seeded database; each test rolled back.

SQLite (a temp file) by default; PostgreSQL when DATABASE_URL names a server:
the suite then creates its own database there and drops it afterwards.
"""

from __future__ import annotations

import os
from types import SimpleNamespace

import pytest
import sqlalchemy as sa
from flask import g
from sqlalchemy.orm import scoped_session, sessionmaker

from bench.sessions import log_in
from tests import databases


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    url = databases.create(os.environ.get("DATABASE_URL"), tmp_path_factory.mktemp("db"))
    yield url
    databases.drop(url)


@pytest.fixture(scope="session")
def app(database_url):
    from app import create_app

    app = create_app(databases.test_config(database_url))
    with app.app_context():
        databases.migrate_and_seed()

    def forget_request_globals():
        # Each test holds one app context (for its rolled-back session); requests
        # must still start without the previous request's `g` (the logged-in user),
        # before any other hook reads it: first in line.
        for name in list(g):
            g.pop(name)

    app.before_request_funcs.setdefault(None, []).insert(0, forget_request_globals)
    return app


@pytest.fixture(autouse=True)
def fresh_login_limits(app):
    """Every test starts with no failed logins counted (Flask-Limiter's memory storage)."""
    from extensions import limiter

    limiter.reset()


@pytest.fixture(autouse=True)
def db_session(request, app):
    """Run the test inside one transaction and roll it back; services' commits are savepoints."""
    if {"fresh_app", "make_app", "race_app"} & set(request.fixturenames):
        yield None  # that test has a database (and an app) of its own, with real commits
        return
    from extensions import db

    with app.app_context():
        connection = db.engine.connect()
        outer = connection.begin()
        original = db.session
        db.session = scoped_session(
            sessionmaker(bind=connection, join_transaction_mode="create_savepoint")
        )
        try:
            yield db.session
        finally:
            db.session.remove()
            db.session = original
            outer.rollback()
            connection.close()


@pytest.fixture
def fresh_app(database_url, tmp_path):
    """An app on a database of the test's own (migrated, demo data), with real commits."""
    from app import create_app

    url = databases.create(databases.server_url(database_url), tmp_path)
    fresh = create_app(databases.test_config(url))
    with fresh.app_context():
        databases.migrate_and_seed()
    yield fresh
    databases.drop(url)


@pytest.fixture(scope="session")
def race_app(database_url, tmp_path_factory):
    """One app with real commits on a database of its own, shared by the race tests
    (tests/races.py): each test puts back the state its rounds start from."""
    from app import create_app

    url = databases.create(databases.server_url(database_url), tmp_path_factory.mktemp("races"))
    racing = create_app(databases.test_config(url))
    with racing.app_context():
        databases.migrate_and_seed()
    yield racing
    databases.drop(url)


@pytest.fixture
def make_app():
    """Build an app of the test's own: make_app(config, instance_path=None)."""
    from app import create_app

    def make(config: dict, instance_path=None):
        if instance_path is None:
            return create_app(config)
        return create_app(config, instance_path=str(instance_path))

    return make


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def login_as(app, client):
    """Log `client` in as a user without paying for a password hash each time."""

    def login(user):
        log_in(app, client, user)
        return user

    return login


@pytest.fixture
def csrf_enabled(app, monkeypatch):
    """Most tests post without CSRF tokens; these check that a missing token is refused."""
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)


@pytest.fixture
def demo(app, db_session):
    """The demo data by name: demo.alice, demo.rita, demo.brightside, demo.acme, ..."""
    from models import Account, Deal, SharedDeal, User

    users = {u.email.split("@")[0]: u for u in db_session.scalars(sa.select(User))}
    accounts = {a.name: a for a in db_session.scalars(sa.select(Account))}

    def deal(account, name):
        # The first by id: the demo's generated deals may repeat a curated deal's name.
        return db_session.scalar(
            sa.select(Deal)
            .where(Deal.account_id == account.id, Deal.name == name)
            .order_by(Deal.id)
            .limit(1)
        )

    brightside = accounts["Brightside Agency"]
    acme = deal(brightside, "Acme Corp website relaunch")
    return SimpleNamespace(
        **users,
        northwind=accounts["Northwind Cloud"],
        brightside=brightside,
        harbor=accounts["Harbor Digital"],
        acme=acme,
        acme_shared=db_session.scalar(
            sa.select(SharedDeal).where(SharedDeal.partner_deal_id == acme.id)
        ),
        initech=deal(brightside, "Initech SEO audit"),
        deal=deal,
    )
