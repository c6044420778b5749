"""The index page, read either of its two ways, gives the plain query's answer.

A list read in order off one index (a sort with no blanks, no search, no text filter)
is, on SQLite, counted and summed by one read of its first COUNT_CAP + 1 matches and
paged by another (`page._walked_page_statement`); every other list, and every list on
PostgreSQL, numbers those matches (`page._numbered_page_statement`). Either way, on
either database, the rows, the count and the total must be the plain query's: every
matching deal (`export_select`, no cap, no page) in the same order, counted up to the
cap + 1, summed over the first cap of them, on any page, past the end too. The cap is
lowered to 50 here, so that 120 deals cross it.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from models import Deal, Pipeline, Stage
from services import deal_index
from services.deal_index import Scope, page, parse_query
from services.deal_index import query as index_query
from services.deal_index.registry import PAGE_SIZE

TODAY = date(2026, 6, 15)
CAP = 50  # a multiple of the page size, as COUNT_CAP is
CONDITIONS = (
    "",
    "f=amount:gt:20000",
    "f=amount:unknown:",
    "f=owner:is_me:",
    "f=stage:any_of:Qualified",
    "f=stage:none_of:Qualified",
    "f=close_date:next_days:30",
    "f=close_date:before:2026-07-01",
    "f=active_registrations:gt:0",
    "f=name:contains:deal 1",  # a text filter: numbered
)
SORTS = (
    "",
    "sort=name",
    "sort=-name",
    "sort=created_at",
    "sort=company",
    "sort=-amount",
    "sort=stage",
)


@pytest.fixture
def deals(db_session, demo):
    """Brightside gets 120 more deals; every seventh has no amount."""
    stages = list(
        db_session.scalars(
            sa.select(Stage)
            .join(Pipeline, Pipeline.id == Stage.pipeline_id)
            .where(Pipeline.account_id == demo.brightside.id)
            .order_by(Stage.id)
        )
    )
    rows = [
        {
            "account_id": demo.brightside.id,
            "name": f"Read deal {i % 17} #{i}",
            "company_name": "Read Co",
            "amount": None if i % 7 == 0 else Decimal(500 * (i % 50) + i),
            "close_date": TODAY + timedelta(days=i % 60 - 20),
            "pipeline_id": stages[i % len(stages)].pipeline_id,
            "stage_id": stages[i % len(stages)].id,
            "owner_id": demo.alice.id if i % 3 else demo.bob.id,
        }
        for i in range(120)
    ]
    db_session.execute(sa.insert(Deal), rows)
    db_session.flush()


def _expected(user, state, choices, asked: int):
    """(row ids, matched, total, page) from every matching deal, in the index's order."""
    scope = Scope(user.account_id, user.account.kind, user.id, TODAY)
    stmt = deal_index.export_select(scope, state, choices)
    found = [(row.id, row.amount) for row in db_session_connection().execute(stmt)]
    last_page = max(1, -(-min(len(found), CAP) // PAGE_SIZE))
    shown = min(asked, last_page)
    ids = [deal_id for deal_id, _ in found[:CAP][(shown - 1) * PAGE_SIZE : shown * PAGE_SIZE]]
    total = sum((amount or Decimal(0)) for _, amount in found[:CAP])
    return ids, min(len(found), CAP + 1), Decimal(total), shown


def db_session_connection():
    from extensions import db

    return db.session.connection()


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    condition=st.sampled_from(CONDITIONS),
    sort=st.sampled_from(SORTS),
    asked=st.integers(min_value=1, max_value=4),
    walked=st.booleans(),
)
def test_either_read_gives_the_plain_querys_rows_count_and_total(
    db_session, demo, deals, condition, sort, asked, walked
):
    user = demo.alice
    choices = deal_index.index_reference(user).choices
    query = "&".join(part for part in (condition, sort, f"page={asked}") if part)
    state = parse_query(query, choices).state
    scope = Scope(user.account_id, user.account.kind, user.id, TODAY)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(page, "COUNT_CAP", CAP)
        patch.setattr(page, "on_sqlite", lambda: walked)  # the walks, on either database
        index_query._statements.clear()
        shown = deal_index.index_page(scope, state, choices)
        index_query._statements.clear()
    ids, matched, total, page_shown = _expected(user, state, choices, asked)
    assert [row.id for row in shown.rows] == ids
    assert (shown.matched, shown.amount_total, shown.page) == (matched, total, page_shown)


@pytest.mark.parametrize(
    ("query", "in_order"),
    [
        ("", True),
        ("sort=name", True),
        ("f=stage:any_of:Qualified&f=close_date:next_days:30", True),
        ("f=active_registrations:gt:0", True),
        ("sort=-amount", False),  # blanks last: two branches
        ("sort=stage", False),  # a choice's order: a branch per stage
        ("sort=active_registrations", False),  # the few registered deals apart
        ("q=relaunch", False),  # a search tests each deal it reads
        ("f=name:contains:relaunch", False),  # so does a text filter
    ],
)
def test_which_lists_are_read_in_order(demo, query, in_order):
    user = demo.alice
    choices = deal_index.index_reference(user).choices
    state = parse_query(query, choices).state
    scope = Scope(user.account_id, user.account.kind, user.id, TODAY)
    assert page.reads_in_order(scope, state, choices) is in_order
