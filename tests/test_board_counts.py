"""The board's counts (migration 0010, services/board_counts) always add up to the deals.

Whatever writes the deals (the app's services, a bulk SQL statement, the bulk
seed), the sums of `deal_counts` per (account, pipeline, stage, owner) equal a
GROUP BY over `deals`, computed here in Python from the rows; and a board read
from the counts says what the aggregate over the filtered deals says.
"""

import contextlib
import re
from collections import defaultdict
from datetime import date
from decimal import Decimal

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from extensions import db
from models import BUCKET_INDEX, Deal, DealAmountCount, DealCount, SharedDeal, User
from services import board_counts, deal_fields, deal_index, shared_deals
from services.changes import writing
from services.deal_index import Scope, parse_query
from services.deal_index.board import _cards_statement as cards_statement
from services.deal_index.board import board_stages, filtered_stage_totals, stage_totals
from services.errors import Conflict, Invalid
from services.shared_deals import AlreadyShared, NewSharedDeal, SharingTerms
from tests.databases import sqlite_plan

TODAY = date(2026, 6, 15)


def exact_counts() -> dict:
    """(account, pipeline, stage, owner or 0) -> (deals, amount total), from the deals."""
    out = defaultdict(lambda: [0, Decimal(0)])
    rows = db.session.execute(
        sa.select(Deal.account_id, Deal.pipeline_id, Deal.stage_id, Deal.owner_id, Deal.amount)
    )
    for account, pipeline, stage, owner, amount in rows:
        entry = out[(account, pipeline, stage, owner or 0)]
        entry[0] += 1
        entry[1] += amount or 0
    return {key: (n, total.quantize(Decimal("0.01"))) for key, (n, total) in out.items()}


def kept_counts() -> dict:
    """The same, as the sums of deal_counts' rows (keys at zero left out)."""
    return _kept(DealCount, "owner_id")


def _kept(model, last: str) -> dict:
    """(account, pipeline, stage, `last`) -> (deals, amount total), as the sums of the rows."""
    out = defaultdict(lambda: [0, 0])
    for row in db.session.scalars(sa.select(model)):
        entry = out[(row.account_id, row.pipeline_id, row.stage_id, getattr(row, last))]
        entry[0] += row.deal_count
        entry[1] += row.amount_cents
    return {key: (n, Decimal(cents).scaleb(-2)) for key, (n, cents) in out.items() if n or cents}


def exact_amount_counts() -> dict:
    """(account, pipeline, stage, band) -> (deals, amount total), from the deals with an amount."""
    out = defaultdict(lambda: [0, Decimal(0)])
    rows = db.session.execute(
        sa.select(Deal.account_id, Deal.pipeline_id, Deal.stage_id, Deal.amount).where(
            Deal.amount.is_not(None)
        )
    )
    for account, pipeline, stage, amount in rows:
        cents = int((Decimal(amount) * 100).to_integral_value())
        entry = out[(account, pipeline, stage, board_counts.bucket(cents))]
        entry[0] += 1
        entry[1] += amount
    return {key: (n, total.quantize(Decimal("0.01"))) for key, (n, total) in out.items()}


def kept_amount_counts() -> dict:
    """The same, as the sums of deal_amount_counts' rows (keys at zero left out)."""
    return _kept(DealAmountCount, "bucket")


def assert_counts_exact():
    db.session.expire_all()
    assert kept_counts() == exact_counts()
    assert kept_amount_counts() == exact_amount_counts()


def test_the_demo_data_is_counted(db_session, demo):
    assert exact_counts()  # not two empty dicts
    assert exact_amount_counts()
    assert_counts_exact()


def test_every_deal_write_is_counted(db_session, demo):
    acme, acme_vendor = demo.acme, db_session.get(Deal, demo.acme_shared.vendor_deal_id)
    (sales, sales_stages), (other, other_stages), *_ = deal_fields.stages_by_pipeline(
        demo.brightside.id
    )
    # A stage move, a pipeline move, an owner change, no owner, a shared amount (both sides).
    deal_fields.update(demo.alice, acme.id, "pipeline", (sales.id, sales_stages[0].id), None)
    deal_fields.update(demo.alice, acme.id, "stage", sales_stages[2].id, None)
    assert_counts_exact()
    deal_fields.update(demo.alice, acme.id, "pipeline", (other.id, other_stages[0].id), None)
    deal_fields.update(demo.alice, acme.id, "owner", demo.bob.id, None)
    deal_fields.update(demo.alice, acme.id, "owner", None, None)
    assert_counts_exact()
    deal_fields.update(demo.rita, acme_vendor.id, "amount", Decimal("1234.56"), None)
    assert db_session.get(Deal, acme.id).amount == Decimal("1234.56")
    deal_fields.update(demo.alice, acme.id, "amount", None, None)
    assert_counts_exact()
    # A new shared deal (two deals), an unshared one shared later (the other side's deal).
    shared_deals.create(
        demo.alice,
        NewSharedDeal(
            name="Counted shared deal",
            amount=Decimal("999.99"),
            other_party_id=demo.northwind.id,
            pipeline_id=sales.id,
            stage_id=sales_stages[1].id,
        ),
    )
    shared_deals.share(demo.alice, demo.initech.id, SharingTerms(other_party_id=demo.northwind.id))
    assert_counts_exact()
    # Bulk SQL: many rows in one statement, and a delete.
    with writing():
        db_session.execute(
            sa.update(Deal)
            .where(Deal.account_id == demo.brightside.id, Deal.stage_id == sales_stages[0].id)
            .values(amount=sa.func.coalesce(Deal.amount, 0) + 1, stage_id=sales_stages[3].id)
        )
        db_session.execute(sa.update(Deal).values(name=Deal.name))  # no count changes
    gone = db_session.scalar(
        sa.select(Deal.id).where(
            Deal.account_id == demo.brightside.id,
            Deal.id.not_in(sa.select(SharedDeal.partner_deal_id)),
        )
    )
    with writing():
        db_session.execute(sa.delete(Deal).where(Deal.id == gone))
    assert_counts_exact()


def test_a_fold_keeps_the_sums_with_one_row_per_key(db_session, demo):
    stages = deal_fields.stages_by_pipeline(demo.brightside.id)[0][1]
    for stage in (*stages, *stages):
        deal_fields.update(demo.alice, demo.acme.id, "stage", stage.id, None)
    before = kept_counts()
    board_counts.fold(demo.brightside.id)
    assert kept_counts() == before
    assert_counts_exact()
    keys = db_session.execute(
        sa.select(DealCount.stage_id, DealCount.owner_id, sa.func.count())
        .where(DealCount.account_id == demo.brightside.id)
        .group_by(DealCount.stage_id, DealCount.owner_id)
    ).all()
    assert keys and {n for _, _, n in keys} == {1}
    board_counts.fold(demo.brightside.id)  # nothing to fold: nothing changes
    assert kept_counts() == before


def test_a_board_read_folds_past_the_limit(db_session, demo, monkeypatch):
    monkeypatch.setattr(board_counts, "FOLD_AFTER", 2)
    stages = deal_fields.stages_by_pipeline(demo.brightside.id)[0][1]
    for stage in stages:
        deal_fields.update(demo.alice, demo.acme.id, "stage", stage.id, None)
    rows = sa.select(sa.func.count()).where(DealCount.account_id == demo.brightside.id)
    before = db_session.scalar(rows)
    state, choices, scope = board_state(demo.alice, "layout=board")
    totals = stage_totals(scope, state, [s.id for s in board_stages(state, choices)])
    assert db_session.scalar(rows) < before
    assert totals == stage_totals(scope, state, [s.id for s in board_stages(state, choices)])
    assert_counts_exact()


def board_state(user, query):
    choices = deal_index.index_reference(user).choices
    parsed = parse_query(query, choices)
    assert parsed.errors == [], parsed.errors
    return parsed.state, choices, Scope(user.account_id, user.account.kind, user.id, TODAY)


@pytest.mark.parametrize(
    "filters",
    [
        "",
        "f=owner:is_me:",
        "f=owner:any_of:{bob},{carol}",
        "f=owner:none_of:{bob}",
        "f=owner:is_me:&f=stage:none_of:{stage}",
        "f=pipeline:any_of:{pipeline}",
    ],
)
def test_the_counts_answer_as_the_filtered_aggregate(db_session, demo, filters):
    deal_fields.update(demo.alice, demo.initech.id, "owner", None, None)  # a deal of no one
    (pipeline, stages), *_ = deal_fields.stages_by_pipeline(demo.brightside.id)
    query = filters.format(
        bob=demo.bob.id, carol=demo.carol.id, stage=stages[1].id, pipeline=pipeline.id
    )
    state, choices, scope = board_state(demo.alice, f"layout=board&{query}")
    assert board_counts.counts_answer((c.prop.key for c in state.conditions), state.search)
    stage_ids = [s.id for s in board_stages(state, choices)]
    from_counts = stage_totals(scope, state, stage_ids)
    aggregate = filtered_stage_totals(scope, state, stage_ids)
    assert sum(n for n, _ in aggregate.values()) > 0
    assert {k: v for k, v in from_counts.items() if v[0]} == aggregate


def test_other_filters_and_search_keep_the_aggregate(db_session, demo):
    for query in ("f=amount:gt:1000", "q=acme", "f=owner:is_me:&f=amount:gt:1000"):
        state, _, _ = board_state(demo.alice, f"layout=board&{query}")
        keys = (c.prop.key for c in state.conditions)
        assert not board_counts.counts_answer(keys, state.search), query
    for query in (
        "f=amount:eq:1000",
        "f=amount:unknown:",
        "q=acme&f=amount:gt:1000",
        "f=owner:is_me:&f=amount:gt:1000",
        "f=amount:gt:10&f=amount:lt:5000",
    ):
        state, _, _ = board_state(demo.alice, f"layout=board&{query}")
        assert board_counts.amount_range(state.conditions, state.search) is None, query


# ---------------------------------------------------------------- amount bands


@settings(max_examples=300, deadline=None)
@given(
    st.integers(min_value=0, max_value=10**14 - 1), st.integers(min_value=0, max_value=10**14 - 1)
)
def test_bands_follow_the_amounts_and_hold_them(a, b):
    start, end = board_counts.band(board_counts.bucket(a))
    assert start <= a < end
    if a < b:
        assert board_counts.bucket(a) <= board_counts.bucket(b)


BAND_EDGES = (0, 1, 99, 100, 109, 110, 999, 1000, 1099, 1100, 9999, 10**7, 51 * 10**6 - 1)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(st.one_of(st.sampled_from(BAND_EDGES), st.integers(0, 10**14 - 1)), min_size=1))
def test_the_database_bands_an_amount_as_python_does(db_session, cents):
    for value in cents:
        amount = f"CAST('{_cents_text(value)}' AS NUMERIC(14, 2))"  # as the column holds it
        banded = db_session.scalar(sa.select(board_counts.bucket_of(amount)))
        assert banded == board_counts.bucket(value), value


def _cents_text(cents: int) -> str:
    sign = "-" if cents < 0 else ""
    return f"{sign}{abs(cents) // 100}.{abs(cents) % 100:02d}"


def _set_amounts(demo, cents: list[int | None]) -> None:
    ids = db.session.scalars(
        sa.select(Deal.id).where(Deal.account_id == demo.brightside.id).order_by(Deal.id)
    ).all()
    with writing():
        for deal_id, value in zip(ids, cents, strict=False):
            amount = None if value is None else Decimal(value).scaleb(-2)
            db.session.execute(sa.update(Deal).where(Deal.id == deal_id).values(amount=amount))


def _assert_answered_as_the_aggregate(user, query: str) -> None:
    state, choices, scope = board_state(user, f"layout=board&{query}")
    assert board_counts.amount_range(state.conditions, state.search) is not None, query
    stage_ids = [s.id for s in board_stages(state, choices)]
    from_counts = stage_totals(scope, state, stage_ids)
    aggregate = filtered_stage_totals(scope, state, stage_ids)
    assert {k: v for k, v in from_counts.items() if v[0]} == aggregate, query


@pytest.mark.parametrize(
    "filters",
    [
        "f=amount:gt:{mid}",
        "f=amount:lt:{mid}",
        "f=amount:between:{low}..{high}",
        "f=amount:known:",
        "f=amount:gt:{mid}&f=stage:none_of:{stage}",
        "f=amount:between:{low}..{high}&f=pipeline:any_of:{pipeline}",
    ],
)
def test_the_amount_counts_answer_as_the_filtered_aggregate(db_session, demo, filters):
    _set_amounts(demo, [None, 99, 100, 109_999, 110_000, 5_000_000, 5_000_001, 51_000_000] * 3)
    (pipeline, stages), *_ = deal_fields.stages_by_pipeline(demo.brightside.id)
    query = filters.format(
        mid="50000", low="1099.99", high="50000", stage=stages[1].id, pipeline=pipeline.id
    )
    _assert_answered_as_the_aggregate(demo.alice, query)


def test_sqlite_counts_the_edge_bands_off_the_expression_index(db_session, demo):
    """The deals of a range's end bands are read from BUCKET_INDEX (the
    band is an expression: the query must name it word for word to find the index)."""
    if db_session.get_bind().dialect.name != "sqlite":
        pytest.skip("an EXPLAIN QUERY PLAN check; PostgreSQL's planner weighs real statistics")
    state, choices, scope = board_state(demo.alice, "layout=board&f=amount:between:5..50000")
    amount, kept = board_counts.amount_range(state.conditions, state.search)
    stage_ids = [s.id for s in board_stages(state, choices)]
    stmt = board_counts.amount_totals_statement(
        scope.account_id, stage_ids, kept, amount.where(scope, state.sort), []
    )
    _, plan = sqlite_plan(db_session, stmt)
    assert sum(BUCKET_INDEX in step for step in plan) == 2, plan
    assert any("ix_deal_amount_counts_account_stage" in step for step in plan), plan


@pytest.mark.parametrize(
    ("value", "read"),
    [
        # 50,000 starts the band 50,000.00–50,999.99: read the deals of exactly 50,000
        ("gt:50000", "deals.amount <= "),
        ("lt:50999.99", "deals.amount >= "),
        # ... and its last cents: read the few deals kept
        ("gt:50999", "deals.amount > "),
        ("lt:50000.01", "deals.amount < "),
    ],
)
def test_an_edge_band_is_read_from_its_fewer_side(db_session, demo, value, read):
    """Of the band holding a range's end, the deals read are those kept when the range
    covers at most half of it; else those it leaves out, taken from the band's sums."""
    state, choices, scope = board_state(demo.alice, f"layout=board&f=amount:{value}")
    amount, kept = board_counts.amount_range(state.conditions, state.search)
    stage_ids = [s.id for s in board_stages(state, choices)]
    stmt = board_counts.amount_totals_statement(
        scope.account_id, stage_ids, kept, amount.where(scope, state.sort), []
    )
    sql = str(stmt.compile(db_session.get_bind()))
    assert re.findall(r"deals\.amount [<>]=? ", sql) == [read], sql
    _set_amounts(demo, [5_000_000, 5_000_000, 5_000_001, 5_099_999, 5_100_000, 4_999_999] * 2)
    _assert_answered_as_the_aggregate(demo.alice, f"f=amount:{value}")


@pytest.mark.parametrize("order", ["-amount", "amount"])
def test_sqlite_reads_each_stage_in_amount_order_off_its_index(db_session, demo, order):
    """Migration 0019: a board sorted by amount reads each stage's first cards from
    ix_deals_account_stage_amount, not the account's deals by amount, kept by stage."""
    if db_session.get_bind().dialect.name != "sqlite":
        pytest.skip("an EXPLAIN QUERY PLAN check; PostgreSQL's planner weighs real statistics")
    state, choices, scope = board_state(demo.alice, f"layout=board&f=amount:gt:1000&sort={order}")
    stage_ids = [s.id for s in board_stages(state, choices)]
    _, plan = sqlite_plan(db_session, cards_statement(scope, state, choices, stage_ids, 0))
    reads = [step for step in plan if "ix_deals_account_stage_amount" in step]
    assert len(reads) >= len(stage_ids) > 1, plan


AMOUNT_CENTS = st.one_of(st.none(), st.sampled_from(BAND_EDGES), st.integers(0, 10**12))
BOUND_CENTS = st.one_of(st.sampled_from(BAND_EDGES), st.integers(-(10**4), 10**12 + 10**4))


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    amounts=st.lists(AMOUNT_CENTS, min_size=1, max_size=20),
    op=st.sampled_from(("gt", "lt", "between")),
    low=BOUND_CENTS,
    high=BOUND_CENTS,
)
def test_any_amount_range_is_answered_as_the_aggregate(db_session, demo, amounts, op, low, high):
    _set_amounts(demo, amounts)
    low, high = sorted((low, high))  # "is between" wants its low end first
    value = f"{_cents_text(low)}..{_cents_text(high)}" if op == "between" else _cents_text(low)
    _assert_answered_as_the_aggregate(demo.alice, f"f=amount:{op}:{value}")


# ---------------------------------------------------------------- random sequences of writes

OPERATIONS = ("stage", "pipeline", "amount", "owner", "create", "create_shared", "share")
OPERATIONS += ("delete", "bulk", "fold")
AMOUNTS = (None, Decimal("0"), Decimal("0.01"), Decimal("0.99"), Decimal("1.00"))
AMOUNTS += (Decimal("1234.56"), Decimal("500000"), Decimal("999999999.99"))


def _apply(demo, operation: str, pick: int, value: int) -> None:
    """One write picked by numbers: the deal, the user and the value follow from them."""
    accounts = (demo.brightside, demo.northwind)
    account = accounts[value % 2]
    admin = demo.alice if account is demo.brightside else demo.rita
    ids = db.session.scalars(
        sa.select(Deal.id).where(Deal.account_id == account.id).order_by(Deal.id)
    ).all()
    deal = db.session.get(Deal, ids[pick % len(ids)])
    pipelines = deal_fields.stages_by_pipeline(account.id)
    users = db.session.scalars(
        sa.select(User.id).where(User.account_id == account.id, User.active).order_by(User.id)
    ).all()
    if operation == "stage":
        stages = next(s for p, s in pipelines if p.id == deal.pipeline_id)
        deal_fields.update(admin, deal.id, "stage", stages[value % len(stages)].id, None)
    elif operation == "pipeline":
        pipeline, stages = pipelines[value % len(pipelines)]
        stage = stages[pick % len(stages)]
        deal_fields.update(admin, deal.id, "pipeline", (pipeline.id, stage.id), None)
    elif operation == "amount":  # a shared deal's amount changes both parties' deals
        deal_fields.update(admin, deal.id, "amount", AMOUNTS[pick % len(AMOUNTS)], None)
    elif operation == "owner":
        owner = [None, *users][value % (len(users) + 1)]
        deal_fields.update(admin, deal.id, "owner", owner, None)
    elif operation == "create":
        pipeline, stages = pipelines[pick % len(pipelines)]
        with writing():
            db.session.add(
                Deal(
                    account_id=account.id,
                    name=f"Generated {pick}",
                    amount=AMOUNTS[value % len(AMOUNTS)],
                    pipeline_id=pipeline.id,
                    stage_id=stages[value % len(stages)].id,
                    owner_id=users[pick % len(users)],
                )
            )
    elif operation == "create_shared":
        pipeline, stages = pipelines[pick % len(pipelines)]
        partner = demo.brightside if account is demo.northwind else demo.northwind
        shared_deals.create(
            admin,
            NewSharedDeal(
                name=f"Shared {pick}",
                amount=AMOUNTS[value % len(AMOUNTS)],
                other_party_id=partner.id,
                pipeline_id=pipeline.id,
                stage_id=stages[value % len(stages)].id,
            ),
        )
    elif operation == "share" and account is demo.brightside:
        shared_deals.share(admin, deal.id, SharingTerms(other_party_id=demo.northwind.id))
    elif operation == "delete" and shared_deals.shared_deal_of(deal.id) is None:
        with writing():
            db.session.execute(sa.delete(Deal).where(Deal.id == deal.id))
    elif operation == "bulk":  # one statement, many rows, several keys
        stages = next(s for p, s in pipelines if p.id == deal.pipeline_id)
        with writing():
            db.session.execute(
                sa.update(Deal)
                .where(Deal.account_id == account.id, Deal.pipeline_id == deal.pipeline_id)
                .where(Deal.id % 3 == value % 3)
                .values(
                    stage_id=stages[pick % len(stages)].id,
                    amount=sa.func.coalesce(Deal.amount, 0) + Decimal("0.05"),
                )
            )
    elif operation == "fold":
        board_counts.fold(account.id)


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    steps=st.lists(
        st.tuples(
            st.sampled_from(OPERATIONS),
            st.integers(min_value=0, max_value=10_000),
            st.integers(min_value=0, max_value=10_000),
        ),
        min_size=1,
        max_size=12,
    )
)
def test_random_writes_keep_the_counts_exact(db_session, demo, steps):
    for operation, pick, value in steps:
        # Refused writes write nothing (an inactive owner, a deal already shared...).
        with contextlib.suppress(Invalid, Conflict, AlreadyShared):
            _apply(demo, operation, pick, value)
        assert_counts_exact()


@pytest.mark.parametrize("rebuild_from", [1, 10**9], ids=["large load", "small load"])
def test_the_bulk_seed_is_counted(fresh_app, monkeypatch, rebuild_from):
    """A large load drops the deals' triggers on SQLite and counts again after; a small
    one (and PostgreSQL's, always) goes through the triggers."""
    from services import bulk_seed

    monkeypatch.setattr(bulk_seed, "REBUILD_INDEXES_FROM", rebuild_from)
    with fresh_app.app_context():
        bulk_seed.add_generated_deals(300)
        assert_counts_exact()
        db.session.remove()
