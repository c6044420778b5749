"""PostgreSQL: a transaction that only read ends with COMMIT, so psycopg keeps its
prepared statements; one that wrote (or set anything) still rolls back; and a statement
marked `planned_for_values` (the deals index's) runs with its values written into its
SQL, so PostgreSQL plans it for them, and keeps that plan once psycopg prepares it, for
those values only (extensions.py). SQLite: no statement of the main pages is prepared
again at each run."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tests import databases

PREPARED = sa.text("SELECT count(*) FROM pg_prepared_statements")


@pytest.fixture
def engine(database_url, tmp_path):
    """An engine of one pooled connection on an empty database of the test's own."""
    server = databases.server_url(database_url)
    if server is None:
        pytest.skip("psycopg's prepared statements: PostgreSQL only")
    url = databases.create(server, tmp_path)
    engine = sa.create_engine(url, pool_size=1, max_overflow=0)
    with engine.begin() as connection:
        connection.execute(sa.text("CREATE TABLE notes (id integer PRIMARY KEY, body text)"))
        connection.execute(sa.text("INSERT INTO notes VALUES (1, 'kept')"))
    yield engine
    engine.dispose()
    databases.drop(url)


def _read(engine, times: int = 6) -> None:
    """Run one SELECT `times`, each in a transaction closed without commit (as a request ends)."""
    for _ in range(times):
        with engine.connect() as connection:
            connection.execute(sa.text("SELECT body FROM notes WHERE id = :id"), {"id": 1})


def test_reads_keep_their_prepared_statements(engine):
    _read(engine)  # psycopg prepares on the fifth run: a rollback in between would drop it
    with engine.connect() as connection:
        assert connection.execute(PREPARED).scalar() == 1


def test_a_read_with_a_common_table_expression_keeps_them(engine):
    _read(engine)
    with engine.connect() as connection:
        found = connection.execute(
            sa.text("WITH kept AS (SELECT id FROM notes) SELECT count(*) FROM kept")
        )
        assert found.scalar() == 1
    with engine.connect() as connection:
        assert connection.execute(PREPARED).scalar() == 1


def test_a_common_table_expression_that_writes_rolls_back(engine):
    _read(engine)
    with engine.connect() as connection:
        connection.execute(
            sa.text("WITH changed AS (UPDATE notes SET body = 'lost' RETURNING id) SELECT 1")
        )
    with engine.connect() as connection:
        assert connection.execute(sa.text("SELECT body FROM notes")).scalar() == "kept"
        assert connection.execute(PREPARED).scalar() == 0


def test_a_statement_read_by_its_key_keeps_its_generic_plan(engine):
    _read(engine, times=12)  # PostgreSQL plans the first five runs, then keeps a generic plan
    with engine.connect() as connection:
        generic, custom = connection.execute(
            sa.text("SELECT generic_plans, custom_plans FROM pg_prepared_statements")
        ).one()
    assert custom == 5 and generic >= 1  # psycopg prepares it after its fifth run


# Written into the SQL, a value must still be read as the value it is: quotes, a
# backslash, a percent sign, a comment, a placeholder's look, non-ASCII.
HOSTILE = "it's \\' 100% -- %(body)s :body $1 ; DROP TABLE notes; « é »"


PREPARED_STATEMENTS = sa.text(
    "SELECT statement, cardinality(parameter_types), generic_plans, custom_plans "
    "FROM pg_prepared_statements"
)


def test_a_statement_planned_for_values_is_prepared_with_its_values_written_in(engine):
    from extensions import planned_for_values

    body = planned_for_values(sa.select(sa.text("body FROM notes WHERE id = :id")))
    for _ in range(12):
        with engine.connect() as connection:
            assert connection.execute(body, {"id": 1}).scalar() == "kept"
    with engine.connect() as connection:
        (statement, parameters, generic, custom), *others = connection.execute(
            PREPARED_STATEMENTS
        ).all()
    assert others == []
    # No parameter: the plan PostgreSQL keeps is the one made for id 1, and only id 1 runs it.
    assert statement.endswith("WHERE id = 1") and parameters == 0
    assert generic >= 1 and custom == 0


def test_a_statement_planned_for_values_keeps_no_plan_for_other_values(engine):
    from extensions import planned_for_values

    with engine.begin() as connection:
        connection.execute(sa.text("INSERT INTO notes VALUES (2, :b)"), {"b": HOSTILE})
    # A percent sign in the SQL itself too (SQLAlchemy doubles it for psycopg's placeholders).
    by_body = planned_for_values(
        sa.select(sa.text("id FROM notes WHERE body = :body AND '100%' LIKE '100%%'"))
    )
    for value in ("kept", HOSTILE, "kept", HOSTILE, "kept", HOSTILE, "nothing"):
        with engine.connect() as connection:
            found = connection.execute(by_body, {"body": value}).scalar()
            assert found == {"kept": 1, HOSTILE: 2}.get(value)
    with engine.connect() as connection:
        assert connection.execute(PREPARED).scalar() == 0  # no text ran five times


def test_the_index_statements_are_planned_for_values():
    from extensions import PLANNED_FOR_VALUES
    from services.deal_index import query

    built = query.statement(("test", object()), lambda: sa.select(sa.literal(1)))
    assert built.get_execution_options()[PLANNED_FOR_VALUES] is True


def test_a_transaction_that_wrote_still_rolls_back(engine):
    _read(engine)
    with engine.connect() as connection:
        connection.execute(sa.text("SELECT body FROM notes WHERE id = 1"))
        connection.execute(sa.text("UPDATE notes SET body = 'lost' WHERE id = 1"))
    with engine.connect() as connection:
        assert connection.execute(sa.text("SELECT body FROM notes")).scalar() == "kept"
        # psycopg dropped its statements at that rollback, as it always did
        assert connection.execute(PREPARED).scalar() == 0


def test_a_setting_changed_in_a_transaction_rolls_back(engine):
    with engine.connect() as connection:
        default = connection.execute(sa.text("SHOW statement_timeout")).scalar()
        connection.execute(sa.text("SET statement_timeout = 4321"))
    with engine.connect() as connection:
        assert connection.execute(sa.text("SHOW statement_timeout")).scalar() == default


def test_a_failed_read_rolls_back_and_the_connection_works(engine):
    with engine.connect() as connection, pytest.raises(sa.exc.DataError):
        connection.execute(sa.text("SELECT 1 / 0"))
    with engine.connect() as connection:
        assert connection.execute(sa.text("SELECT body FROM notes")).scalar() == "kept"


def test_every_trigger_function_keeps_its_cached_plans(app):
    """Migration 0016: whatever a connection sets, the trigger functions keep PostgreSQL's
    cached plans; planned at every row, a bulk insert of registrations took twice as long."""
    from extensions import db

    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("plan_cache_mode is PostgreSQL's")
        with db.engine.connect() as connection:
            functions = connection.execute(
                sa.text(
                    "SELECT p.proname, p.proconfig FROM pg_proc p "
                    "JOIN pg_namespace n ON n.oid = p.pronamespace "
                    "WHERE n.nspname = current_schema() AND p.prorettype = 'trigger'::regtype"
                )
            ).all()
    assert len(functions) == 6  # 0016's three, 0017's and 0020's two (made with the setting)
    for name, config in functions:
        assert "plan_cache_mode=auto" in (config or []), name


@pytest.mark.parametrize("side", ["partner", "vendor"])
def test_the_deal_page_head_can_keep_a_generic_plan(side):
    """The deal page's first statement (services/deal_page.py) reads rows by key, so a
    plan made for any values is as good. PostgreSQL planned it at every run (0.9 ms of
    1.1 ms, 1,000,000 deals): its expiry check bound the action, and a plan for any action
    expected 138 of the 1,669 history rows to be expiry records (there were none): a cost
    of 320 against 114. The action is written into the SQL; the history read is the
    registration's own shared deal's."""
    from sqlalchemy.dialects import postgresql

    from services.deal_page import _head_statement
    from services.registrations import EXPIRED_ACTION

    sql = str(_head_statement(side, True).compile(dialect=postgresql.psycopg.dialect()))
    recorded = sql[sql.index("SELECT activities.id") :]
    assert f"activities.action = '{EXPIRED_ACTION}'" in recorded
    from_clause = recorded[recorded.index("FROM") : recorded.index("WHERE")]
    assert from_clause.split() == ["FROM", "activities"]  # no second, unrelated shared_deals
    assert "activities.shared_deal_id = deal_registrations.shared_deal_id" in recorded


def test_sqlite_prepares_each_statement_of_the_main_pages_once(client, login_as, demo, db_session):
    """SQLite prepares a statement again at every run when a bound value could change its
    plan: a bare LIKE pattern, or a value a partial index's condition names. No statement
    of the deal page, the saves, the board or the index (filters, search) is like that
    (SQLite's own count of each statement's re-preparations, `sqlite_stmt.reprep`)."""
    if db_session.get_bind().dialect.name != "sqlite":
        pytest.skip("SQLite's statements")
    raw = db_session.connection().connection.dbapi_connection
    try:
        raw.execute("SELECT count(*) FROM sqlite_stmt")
    except Exception:
        pytest.skip("this SQLite has no sqlite_stmt table (SQLITE_ENABLE_STMTVTAB)")
    partner, vendor = demo.acme_shared.partner_deal_id, demo.acme_shared.vendor_deal_id
    hx = {"HX-Request": "true"}
    pages = [
        "/deals",
        "/deals?layout=board",
        "/deals?q=acme",
        "/deals?f=name:contains:website",
        "/deals?view=registered&f=active_registrations:gt:0",
        "/deals?f=amount:gt:1000&sort=-amount",
        "/deals?f=close_date:next_days:30",
    ]

    def run_the_pages(round_: int) -> None:
        login_as(demo.rita)
        assert client.get(f"/deals/{vendor}").status_code == 200
        assert client.get("/deals?view=requests&f=open_requests:gt:0").status_code == 200
        assert client.post(f"/deals/{vendor}/registrations", headers=hx).status_code == 200
        login_as(demo.alice)
        for path in [f"/deals/{partner}", *pages]:
            assert client.get(path).status_code == 200, path
            assert client.get(path, headers=hx).status_code == 200, path
        for path, form in (
            (f"/deals/{partner}/fields/amount", {"amount": str(1000 + round_)}),
            (f"/deals/{partner}/notes/next_steps", {"text": f"Call back {round_}"}),
            (f"/deals/{partner}/team", {"members": [demo.alice.id, demo.bob.id][: 1 + round_ % 2]}),
        ):
            assert client.post(path, data=form, headers=hx).status_code == 200, path

    # The connection is the suite's: its statement cache holds earlier tests' statements,
    # which SQLite prepares again once at their next run after any schema change. A first
    # round settles that; what counts is what the next rounds add.
    counts = "SELECT sql, reprep FROM sqlite_stmt WHERE sql NOT LIKE '%sqlite_stmt%'"
    run_the_pages(0)
    before = dict(raw.execute(counts).fetchall())
    for round_ in (1, 2):  # a statement is prepared again when it is bound again
        run_the_pages(round_)
    # Reads and writes only: transaction control is prepared again on its own terms.
    prepared_again = [
        (reprep - before.get(sql, 0), sql)
        for sql, reprep in raw.execute(counts).fetchall()
        if reprep > before.get(sql, 0) and sql.split(None, 1)[0] in WRITES_AND_READS
    ]
    assert prepared_again == []


WRITES_AND_READS = {"SELECT", "INSERT", "UPDATE", "DELETE", "WITH"}
