"""Flask extensions, created unbound so that any module can import them."""

import re
import sqlite3

import psycopg
from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData, String, event, literal_column
from sqlalchemy.dialects.sqlite.base import SQLiteCompiler
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

# Named constraints keep Alembic migrations portable between SQLite and PostgreSQL.
naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

db = SQLAlchemy(metadata=MetaData(naming_convention=naming_convention))
migrate = Migrate(render_as_batch=True)
login_manager = LoginManager()
csrf = CSRFProtect()
# Translations (translations/<lang>/LC_MESSAGES) and the request's locale: i18n.py.
babel = Babel()
# Login throttling (blueprints/auth.py). Counters live in RATELIMIT_STORAGE_URI (config.py).
limiter = Limiter(key_func=get_remote_address)


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, _record):
    """SQLite: enforce foreign keys, WAL for concurrent readers, wait instead of failing."""
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    # Let SQLAlchemy emit BEGIN itself, so SAVEPOINT and transactional DDL work
    # (pysqlite's own transaction handling does not support them).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def on_sqlite() -> bool:
    """Whether the request's session talks to SQLite (else PostgreSQL): where the two
    databases need different SQL, or different help choosing a plan."""
    return db.session.get_bind().dialect.name == "sqlite"


def _sqlite_from_hint(_compiler, _table, text):
    """`select.with_hint(table, "INDEXED BY ix", "sqlite")` renders `FROM table INDEXED BY ix`.

    SQLAlchemy's SQLite compiler renders no FROM hint by default; the deals index
    forces an index with one (services/deal_index/conditions.py, `sqlite_hint`).
    """
    return text


SQLiteCompiler.get_from_hint_text = _sqlite_from_hint


@event.listens_for(Engine, "begin")
def _sqlite_begin(connection):
    """SQLite: BEGIN ourselves; BEGIN IMMEDIATE where the caller asked for a writer."""
    if connection.dialect.name != "sqlite":
        return
    immediate = connection.get_execution_options().get("sqlite_immediate")
    connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


# What a write's commit leaves loaded: the signed-in user, the accounts and the shared deals
# (by table, as models.py imports this module). Everything else is expired as usual (a
# trigger may have changed a deal's row). No save changes these rows but through the
# session itself, no trigger changes them, and every answer after a save reads them again
# (the user's account, its kind; the card of the shared deal just changed): a commit that
# expired them cost each save one statement more.
_KEPT_ON_COMMIT = frozenset({"users", "accounts", "shared_deals"})


def commit_keeping_the_actor(ending_reads: bool = False) -> None:
    """Commit the request's session; expire what it loaded but the users and accounts.

    `ending_reads`: the commit only ends a transaction that read (begin_write), made on
    the Session itself, not through the scoped proxy that tests watch for write commits.
    """
    session = db.session()  # the request's Session
    session.expire_on_commit = False
    try:
        (session if ending_reads else db.session).commit()
    finally:
        session.expire_on_commit = True
    for instance in list(session.identity_map.values()):
        if instance.__table__.name not in _KEPT_ON_COMMIT:
            session.expire(instance)


def begin_write() -> None:
    """Make the session's transaction a writer's, before a service reads what it will change.

    On SQLite a deferred transaction that reads and then writes fails with
    "database is locked" when another writer got in between; BEGIN IMMEDIATE waits
    its turn instead. A view has usually read through the session already (to find
    the deal), so a transaction that has only read is ended first; objects reload
    on access. PostgreSQL needs none of this: row locks and constraints do the work.
    """
    if not on_sqlite():
        return
    session = db.session()  # the request's Session; the scoped proxy lacks in_transaction()
    if session.in_transaction():
        if session.new or session.dirty or session.deleted:
            return  # already writing: the first flush took the write lock
        commit_keeping_the_actor(ending_reads=True)
    session.connection(execution_options={"sqlite_immediate": True})


# The rows locked in the session's transaction, as (model, id), forgotten when it ends
# (session.info; services.changes.lock_row).
LOCKED_ROWS = "locked_rows"


@event.listens_for(Session, "after_transaction_end")
def _forget_the_locks(session, transaction):
    if transaction.parent is None:  # the session's own transaction, not a savepoint
        session.info.pop(LOCKED_ROWS, None)


# PostgreSQL: psycopg prepares a statement on its fifth run on a connection, so the
# server parses it once; but every ROLLBACK makes psycopg drop all of the connection's
# prepared statements, and every request ends its transaction with one (the session's
# close). A transaction that only read ends with COMMIT instead: the same for the
# data, and the statements stay prepared.
_INTRANS = psycopg.pq.TransactionStatus.INTRANS
_SELECT = re.compile(r"\s*SELECT\b", re.IGNORECASE).match
_WITH = re.compile(r"\s*WITH\b", re.IGNORECASE).match
_CHANGES_ROWS = re.compile(r"\b(?:INSERT|UPDATE|DELETE|MERGE)\b", re.IGNORECASE).search


def _only_reads(statement: str) -> bool:
    """A SELECT, or a WITH ... SELECT none of whose parts changes rows (or locks them)."""
    return bool(_SELECT(statement) or _WITH(statement) and not _CHANGES_ROWS(statement))


# PostgreSQL plans a prepared statement anew at its first five runs; after that it may
# keep a generic plan, made for any values, and skip the planning (measured: a user
# read by primary key with its account, 0.53 ms unprepared, 0.15 ms with the generic
# plan, 0.69 ms prepared but planned at every run). Right for a row read by its key; not
# for the deals index, whose best plan depends on the values: a generic plan made for any
# partner turned the vendor's "filter by partner" (200 partners, 200,000 shared deals)
# from 51 into 494 ms, and one made for any pattern read every trigram match of a common
# word. Those statements are marked, and run with their values written into the SQL
# (psycopg's own quoting, as its client-side cursor binds): PostgreSQL plans them for
# those values, and once psycopg prepares the text (its fifth run on a connection, the
# same list asked again) keeps that plan, which no other values can reach. Run
# unprepared and planned at every run, an index fragment took 1.3-1.6 ms longer, a board
# 0.4-1.5 ms (100,000 deals, in-process; docs/performance.md, stop 32).
PLANNED_FOR_VALUES = "planned_for_values"


def planned_for_values(statement):
    """`statement`, run on PostgreSQL with its values written into its SQL: planned for
    them, and that plan kept for them alone once the same text has run five times."""
    return statement.execution_options(**{PLANNED_FOR_VALUES: True})


def written_in(constant: str):
    """`constant` (the code's own, never input) written into the SQL, not bound.

    For a value the database should see when it plans: a bound one makes PostgreSQL's
    plan made for any values misjudge a rare value (the deal page's head statement was
    planned at every run), and makes SQLite prepare the statement again at every run
    when a partial index's condition names the value (an open request's status).
    """
    return literal_column("'" + constant.replace("'", "''") + "'", String)


@event.listens_for(Engine, "do_execute")
def _run_with_values_written_in(cursor, statement, parameters, context):
    # A server-side cursor (`yield_per`, the export) declares its query: left as it is.
    if context.execution_options.get(PLANNED_FOR_VALUES) and type(cursor) is psycopg.Cursor:
        # 30 µs for an index statement; with no parameter left, psycopg prepares it by its
        # text, and PostgreSQL's plan for a statement with no parameter is made once.
        cursor.execute(psycopg.ClientCursor(cursor.connection).mogrify(statement, parameters))
        return True  # executed: SQLAlchemy does not run it again
    return None


@event.listens_for(Engine, "begin")
def _nothing_written_yet(connection):
    connection.info["wrote"] = False


@event.listens_for(Engine, "before_cursor_execute")
def _note_writes(connection, _cursor, statement, _parameters, _context, _many):
    """Anything but a read (`_only_reads`) counts as a write: INSERT, UPDATE, DELETE, SET,
    DDL, a WITH that changes rows.

    PostgreSQL's only: SQLite's statements are not tested (its rollback is left alone)."""
    if connection.dialect.name == "postgresql" and not _only_reads(statement):
        connection.info["wrote"] = True


@event.listens_for(Engine, "rollback")
def _end_reads_with_commit(connection):
    """Before a rollback: commit a PostgreSQL transaction that only read (and did not fail)."""
    if connection.dialect.name != "postgresql" or connection.info.get("wrote", True):
        return
    dbapi_connection = connection.connection.dbapi_connection
    if dbapi_connection.info.transaction_status == _INTRANS:
        dbapi_connection.commit()  # the rollback that follows finds nothing to do
