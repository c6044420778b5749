"""The search's two routes and the index's kept statements give the plain query's answer.

On SQLite a search term reads either the FTS trigram matches first (a rare term)
or walks the sort's index with the LIKE alone (a common one), chosen per term
(`search.remember_matches`); the index's statement is built once per state and
reused (`query.statement`). Whatever the route and whether the statement was
kept, the rows, the count and the total must be those of the plain query: every
matching deal (`export_select`, no cap, no page), in the same order.
"""

from __future__ import annotations

import string
from datetime import date, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from models import Deal, Pipeline, Stage
from services import deal_index, search
from services.deal_index import COUNT_CAP, Scope, parse_query
from services.deal_index.conditions import Condition
from services.deal_index.query import filtered
from services.deal_index.registry import CONTAINS, IS, NOT_CONTAINS, PAGE_SIZE, PROPERTIES
from services.deal_index.state import IndexState
from tests.databases import sqlite_plan

TODAY = date(2026, 6, 15)
WORDS = ("relaunch", "Acme", "data", "café", "zorg", "50%", "al", "launch")
CONDITIONS = (
    "",
    "f=amount:gt:20000",
    "f=amount:unknown:",
    "f=owner:is_me:",
    "f=stage:any_of:Qualified",
    "f=stage:none_of:Qualified",
    "f=close_date:next_days:30",
    "f=close_date:before:2026-07-01",
    "f=name:contains:launch",
    "f=name:is:ZORG ZORG %2312",
    "f=company:contains:zorg data",
    "f=company:is_empty:",
    "f=active_registrations:gt:0",
)
SORTS = ("", "sort=name", "sort=-amount", "sort=close_date", "sort=stage", "sort=owner")


# Sixty generated examples, each in the test's database session (its fixtures).
SIXTY_EXAMPLES = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture
def many_deals(db_session, demo):
    """Brightside gets 120 deals named from WORDS, with amounts, dates and stages."""
    stages = list(
        db_session.scalars(
            sa.select(Stage)
            .join(Pipeline, Pipeline.id == Stage.pipeline_id)
            .where(Pipeline.account_id == demo.brightside.id)
            .order_by(Stage.id)
        )
    )
    rows = []
    for i in range(120):
        stage = stages[i % len(stages)]
        rows.append(
            {
                "account_id": demo.brightside.id,
                "name": f"{WORDS[i % len(WORDS)]} {WORDS[(i * 7) % len(WORDS)]} #{i}",
                "company_name": ["Acme Corp", "Zorg Data", "", "Café Rouge"][i % 4],
                "amount": None if i % 9 == 0 else Decimal(1000 * (i % 40)),
                "close_date": None if i % 5 == 0 else TODAY + timedelta(days=i % 60 - 20),
                "pipeline_id": stage.pipeline_id,
                "stage_id": stage.id,
                "owner_id": demo.alice.id if i % 3 else demo.bob.id,
            }
        )
    db_session.execute(sa.insert(Deal), rows)
    db_session.flush()


def _scope(user):
    return Scope(user.account_id, user.account.kind, user.id, TODAY)


def plain_matches(user, query):
    """Every deal the plain query finds (the LIKE alone), in the index's order."""
    choices = deal_index.index_reference(user).choices
    state = parse_query(query, choices).state
    stmt = deal_index.export_select(_scope(user), state, choices)
    return [(row.id, row.amount) for row in deal_index_connection().execute(stmt)]


def deal_index_connection():
    from extensions import db

    return db.session.connection()


def _page(user, query):
    choices = deal_index.index_reference(user).choices
    state = parse_query(query, choices).state
    return state, deal_index.index_page(_scope(user), state, choices)


def expected_page(found, page, cap=COUNT_CAP):
    """The rows, count, total and page the index must show for the plain query's `found`
    (every match in order): pages stop at `cap` matches, counted up to `cap` + 1."""
    shown = min(len(found), cap)
    last_page = max(1, -(-shown // PAGE_SIZE))
    page = min(page, last_page)
    rows = [deal_id for deal_id, _ in found[:cap][(page - 1) * PAGE_SIZE : page * PAGE_SIZE]]
    total = sum((amount or Decimal(0)) for _, amount in found[:cap])
    return rows, min(len(found), cap + 1), Decimal(total), page


def _route(term: str, common: bool) -> None:
    """Make `term` take the LIKE walk (common) or start from its FTS matches."""
    if common:
        search.remember_matches(term, search.PROBE_CAP, 1)
    else:
        search.remember_matches(term, 0, 1)


@SIXTY_EXAMPLES
@given(
    word=st.sampled_from(WORDS),
    condition=st.sampled_from(CONDITIONS),
    sort=st.sampled_from(SORTS),
    page=st.integers(min_value=1, max_value=6),
    common=st.booleans(),
)
def test_either_route_gives_the_plain_querys_rows_count_and_total(
    demo, many_deals, word, condition, sort, page, common
):
    query = "&".join(part for part in (f"q={word}", condition, sort) if part)
    _route(word, True)  # the plain query: the LIKE alone, whatever the database
    found = plain_matches(demo.alice, query)
    _route(word, common)
    _, shown = _page(demo.alice, f"{query}&page={page}")
    rows, matched, total, page_shown = expected_page(found, page)
    assert [row.id for row in shown.rows] == rows
    assert (shown.matched, shown.amount_total, shown.page) == (matched, total, page_shown)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    condition=st.sampled_from(CONDITIONS),
    sort=st.sampled_from(SORTS),
    pages=st.lists(st.integers(min_value=1, max_value=6), min_size=2, max_size=4),
)
def test_a_kept_statement_answers_each_page_and_new_data_as_a_new_one_would(
    db_session, demo, many_deals, condition, sort, pages
):
    from services.deal_index import query as index_query

    query = "&".join(part for part in (condition, sort) if part)
    for page in pages:
        index_query._statements.clear()
        _, fresh = _page(demo.alice, f"{query}&page={page}")
        _, kept = _page(demo.alice, f"{query}&page={page}")  # the statement just built
        assert kept == fresh
        rows, matched, total, page_shown = expected_page(plain_matches(demo.alice, query), page)
        assert [row.id for row in kept.rows] == rows
        assert (kept.matched, kept.amount_total, kept.page) == (matched, total, page_shown)


def test_a_kept_statement_reads_deals_added_since(db_session, demo, many_deals):
    _, before = _page(demo.alice, "f=amount:gt:20000")
    deal = db_session.get(Deal, before.rows[0].id)
    db_session.add(
        Deal(
            account_id=deal.account_id,
            name="Newest big deal",
            company_name="",
            amount=Decimal(999_999),
            pipeline_id=deal.pipeline_id,
            stage_id=deal.stage_id,
            owner_id=deal.owner_id,
        )
    )
    db_session.flush()
    _, after = _page(demo.alice, "f=amount:gt:20000")
    assert after.rows[0].name == "Newest big deal"
    assert after.matched == before.matched + 1


def test_a_term_is_common_when_the_walk_reads_fewer_rows_than_its_matches_cost():
    search.remember_matches("probe-rare", 100, 2_000_000)
    search.remember_matches("probe-mid", 20_000, 2_000_000)
    search.remember_matches("probe-common", 25_000, 2_000_000)
    search.remember_matches("probe-capped", search.PROBE_CAP, 10**9)
    assert search.is_common("probe-rare") is False
    assert search.is_common("probe-mid") is False
    assert search.is_common("probe-common") is True
    assert search.is_common("probe-capped") is True


def test_the_reference_statement_chooses_a_new_terms_route(db_session, demo, many_deals):
    term = "zorg data"  # new to this process: its route is not known yet
    sqlite = db_session.get_bind().dialect.name == "sqlite"
    assert search.needs_probe(term) is sqlite
    deal_index.index_reference(demo.alice, term)
    # A few dozen matches among a few hundred deals: the FTS route. PostgreSQL's
    # planner chooses by itself, from pg_trgm's statistics.
    assert search.is_common(term) is (False if sqlite else None)
    assert search.needs_probe(term) is False
    assert search.needs_probe("ab") is False  # no trigram: always the LIKE


def test_a_rare_term_is_read_from_its_fts_matches_whatever_the_statistics(
    db_session, demo, many_deals
):
    """SQLite, a rare term: the deals are read by primary key from the FTS matches
    (`NOT INDEXED`), never by walking an index of the account and testing each deal
    (280 ms at 1,000,000 deals once the default order's index had no statistics)."""
    if db_session.get_bind().dialect.name != "sqlite":
        pytest.skip("FTS5 and NOT INDEXED are SQLite's; pg_trgm serves the same LIKE")
    from services.deal_index.query import filtered

    _route("zorg", False)
    choices = deal_index.index_reference(demo.alice).choices
    state = parse_query("q=zorg&f=amount:gt:1000", choices).state
    stmt = filtered(_scope(demo.alice), state, Deal.id).order_by(Deal.created_at.desc()).limit(25)
    compiled = stmt.compile(db_session.get_bind())
    params = tuple(str(compiled.params[name]) for name in compiled.positiontup)
    plan = " | ".join(
        row[-1]
        for row in db_session.connection().exec_driver_sql(
            "EXPLAIN QUERY PLAN " + str(compiled), params
        )
    )
    assert "deals_fts VIRTUAL TABLE INDEX" in plan
    assert "SEARCH deals USING INTEGER PRIMARY KEY" in plan
    assert "ix_deals_account" not in plan


@settings(max_examples=200, deadline=None)
@given(
    text=st.text(alphabet="aAzZéÉßẞİıöÖ%_\\ -1", max_size=8),
    fragment=st.text(alphabet="aAzZéÉßẞİıöÖ%_\\ -1", max_size=4),
)
def test_sqlite_like_folds_case_exactly_as_lower_like_lower(app, text, fragment):
    """SQLite's plain LIKE (what `search.ilike` sends there) matches exactly what
    `lower(x) LIKE lower(p)` (SQLAlchemy's ILIKE there) did, Unicode included."""
    from extensions import db

    if db.engine.dialect.name != "sqlite":
        pytest.skip("ILIKE is PostgreSQL's own")
    pattern = f"%{search.escape_like(fragment)}%"
    with db.engine.connect() as connection:
        plain, lowered = connection.exec_driver_sql(
            "SELECT ? LIKE ? ESCAPE '\\', lower(?) LIKE lower(?) ESCAPE '\\'",
            (text, pattern, text, pattern),
        ).one()
    assert plain == lowered


# ---------------------------------------------------------------- the text filters

# Letters with a case (ASCII and not), LIKE's wildcards, its escape and quotes.
TEXT = "aAzZéÉöÖßẞ%_\\\"' -1"
TEXT_OPERATORS = {"contains": CONTAINS, "is": IS, "not_contains": NOT_CONTAINS}


def _folded(text: str, dialect: str) -> str:
    """`text` as LIKE compares it: SQLite folds ASCII letters only, PostgreSQL's ILIKE all."""
    if dialect == "sqlite":
        return text.translate(str.maketrans(string.ascii_uppercase, string.ascii_lowercase))
    return text.lower()


def _text_holds(operator: str, value: str | None, term: str, dialect: str) -> bool:
    """The text filter's answer for one deal, in plain Python."""
    if value is None:
        return operator == "not_contains"  # a blank company contains nothing
    value, term = _folded(value, dialect), _folded(term, dialect)
    if operator == "is":
        return value == term
    return (term in value) is (operator == "contains")


@st.composite
def names_and_term(draw):
    """A few deal names and a term: typed anew, or cut from a name (its case swapped)."""
    names = draw(st.lists(st.text(TEXT, min_size=1, max_size=10), min_size=1, max_size=6))
    if draw(st.booleans()):
        term = draw(st.text(TEXT, min_size=1, max_size=5))
    else:
        name = draw(st.sampled_from(names))
        start = draw(st.integers(0, len(name) - 1))
        term = name[start : draw(st.integers(start + 1, len(name)))]
        term = term.swapcase() if draw(st.booleans()) else term
    return names, term


@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    names_term=names_and_term(),
    key=st.sampled_from(("name", "company")),
    operator=st.sampled_from(tuple(TEXT_OPERATORS)),
    common=st.booleans(),
)
def test_a_text_filter_finds_what_python_finds_by_either_route(
    db_session, demo, names_term, key, operator, common
):
    """ "Deal name / Company contains, is, does not contain" answer exactly what Python's
    `in` and `==` say of the account's deals (LIKE's case folding, every character
    literal), whichever route SQLite takes: FTS matches rechecked, or the LIKE alone."""
    names, term = names_term
    dialect = db_session.get_bind().dialect.name
    deals = [
        Deal(
            account_id=demo.brightside.id,
            name=name,
            company_name=name[::-1] if i % 3 else None,
            pipeline_id=demo.acme.pipeline_id,
            stage_id=demo.acme.stage_id,
        )
        for i, name in enumerate(names)
    ]
    db_session.add_all(deals)
    db_session.flush()
    try:
        prop = PROPERTIES[key]
        column = prop.expression(_scope(demo.alice))
        search.remember_matches(term, search.PROBE_CAP if common else 0, 1, column)
        condition = Condition(prop, TEXT_OPERATORS[operator], (term,))
        state = IndexState(conditions=(condition,))
        found = set(db_session.scalars(filtered(_scope(demo.alice), state, Deal.id)))
        everything = db_session.execute(
            sa.select(Deal.id, column).where(Deal.account_id == demo.brightside.id)
        )
        expected = {
            deal_id for deal_id, value in everything if _text_holds(operator, value, term, dialect)
        }
        assert found == expected
    finally:
        for deal in deals:
            db_session.delete(deal)
        db_session.flush()


def test_a_rare_name_filter_reads_the_fts_matches_of_the_name(db_session, demo, many_deals):
    """SQLite, "Deal name contains" a rare term: the FTS matches of the name column by
    primary key (`NOT INDEXED`), not a walk of the sort's index testing every deal."""
    if db_session.get_bind().dialect.name != "sqlite":
        pytest.skip("FTS5 and NOT INDEXED are SQLite's; pg_trgm serves the same ILIKE")
    term = "zorg #1"  # new to this process: chosen when the statement is built
    assert search.needs_probe(term, Deal.name)
    choices = deal_index.index_reference(demo.alice).choices
    state = parse_query(f"f=name:contains:{term}", choices).state
    stmt = deal_index.export_select(_scope(demo.alice), state, choices)
    assert search.is_common(term, Deal.name) is False  # a few matches: the FTS route
    sql, plan = sqlite_plan(db_session, stmt)
    assert "deals NOT INDEXED" in sql
    assert 'name : "zorg #1"' in stmt.compile().params.values()
    assert any("deals_fts VIRTUAL TABLE INDEX" in step for step in plan), plan
    assert any("SEARCH deals USING INTEGER PRIMARY KEY" in step for step in plan), plan
    assert not any("ix_deals_account" in step for step in plan), plan


def test_a_common_name_filter_walks_the_sorts_index(db_session, demo, many_deals):
    """A term most names contain takes the LIKE alone, stopping at the page's cap."""
    if db_session.get_bind().dialect.name != "sqlite":
        pytest.skip("the route is chosen on SQLite; PostgreSQL's planner chooses its own")
    search.remember_matches("launch", search.PROBE_CAP, 1, Deal.name)
    choices = deal_index.index_reference(demo.alice).choices
    state = parse_query("f=name:contains:launch", choices).state
    sql, plan = sqlite_plan(db_session, filtered(_scope(demo.alice), state, Deal.id))
    assert "deals_fts" not in sql and "NOT INDEXED" not in sql
    assert any("ix_deals_account" in step for step in plan), plan


def test_a_name_filters_route_is_its_own_and_is_always_starts_from_the_fts(
    db_session, demo, many_deals
):
    """A term's route for the search (name or company) and for the name filter are
    remembered apart; "is" starts from the FTS matches even for a common term."""
    sqlite = db_session.get_bind().dialect.name == "sqlite"
    search.remember_matches("zorg acme apart", search.PROBE_CAP, 1)  # the search: common
    search.remember_matches("zorg acme apart", 0, 1, Deal.name)  # the name filter: rare
    assert search.is_common("zorg acme apart") is True
    assert search.is_common("zorg acme apart", Deal.name) is False
    term = "ACME CORP WEBSITE RELAUNCH"
    search.remember_matches(term, search.PROBE_CAP, 1, Deal.name)  # common for "contains"
    choices = deal_index.index_reference(demo.alice).choices
    state = parse_query(f"f=name:is:{term}", choices).state
    stmt = filtered(_scope(demo.alice), state, Deal.name)
    assert ("deals_fts" in str(stmt.compile(db_session.get_bind()))) is sqlite
    assert set(db_session.scalars(stmt)) == {"Acme Corp website relaunch"}
