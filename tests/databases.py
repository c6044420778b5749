"""Test databases: a temp SQLite file, or a database of our own on a PostgreSQL server."""

from __future__ import annotations

import uuid
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import make_url


def create(server_url: str | None, directory: Path) -> str:
    """A new, empty database: on the PostgreSQL server at `server_url`, else SQLite."""
    if not server_url:
        return f"sqlite:///{directory / 'test.db'}"
    url = make_url(server_url).set(drivername="postgresql+psycopg")
    name = f"shared_deals_test_{uuid.uuid4().hex[:12]}"
    engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    engine.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


def drop(url: str) -> None:
    """Remove a database made by `create` (a SQLite file goes with its temp folder)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        return
    from extensions import db

    # Connections of the app's pool would keep the database busy.
    for engine in list(_all_engines(db)):
        engine.dispose()
    engine = sa.create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)')
    engine.dispose()


def _all_engines(db):
    # Flask-SQLAlchemy keeps one engine per app; dispose them all.
    from weakref import WeakKeyDictionary

    registry = getattr(db, "_app_engines", WeakKeyDictionary())
    for engines in list(registry.values()):
        yield from engines.values()


def server_url(database_url: str) -> str | None:
    """The server a test database lives on (None for SQLite)."""
    parsed = make_url(database_url)
    if parsed.get_backend_name() != "postgresql":
        return None
    return parsed.set(database="postgres").render_as_string(hide_password=False)


def test_config(database_url: str) -> dict:
    """App config for tests: the given database, no auto set-up, no CSRF unless asked."""
    return {
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SECRET_KEY": "test-secret-key-not-for-production",
        "AUTO_SETUP": False,
        "WTF_CSRF_ENABLED": False,
    }


def migrate_and_seed() -> None:
    """Bring the schema up with the real migrations, then load the demo data."""
    from flask_migrate import upgrade

    from services import demo

    upgrade()
    demo.seed()


def sqlite_plan(session, stmt) -> tuple[str, list[str]]:
    """`stmt` as SQLite runs it, and its EXPLAIN QUERY PLAN steps."""
    compiled = stmt.compile(session.get_bind())
    params = tuple(str(compiled.params[name]) for name in compiled.positiontup)
    rows = session.connection().exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}", params)
    return str(compiled), [row[3] for row in rows]
