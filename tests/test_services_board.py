"""The board (flow 8): columns, counts and totals over the table's filtered set, cards in
the table's order, "Show more", the state in the URL, and a move as a stage edit."""

from collections import defaultdict
from datetime import date
from decimal import Decimal

import pytest
import sqlalchemy as sa
from sqlalchemy import event

from extensions import db
from models import Activity, Deal, Notification, Pipeline, Stage
from services import deal_fields, deal_index, saved_views
from services.deal_index import Scope, parse_query
from services.deal_index.board import CARDS_PER_COLUMN
from services.deal_index.query import _statements
from services.errors import Conflict, Invalid, NotFound

TODAY = date(2026, 6, 15)


def scope_of(user):
    return Scope(user.account_id, user.account.kind, user.id, TODAY)


def state_of(user, query):
    choices = deal_index.index_reference(user).choices
    parsed = parse_query(query, choices)
    assert parsed.errors == [], parsed.errors
    return parsed.state, choices


def board_of(user, query):
    state, choices = state_of(user, query)
    return deal_index.board(scope_of(user), state, choices)


def table_rows(user, query):
    """Every row the table shows for `query` (all pages), in its order."""
    state, choices = state_of(user, query.replace("layout=board", ""))
    return db.session.execute(deal_index.export_select(scope_of(user), state, choices)).all()


def by_stage(rows, pipeline):
    """Stage name -> (count, total, names in order) of the table's rows in `pipeline`."""
    out = defaultdict(lambda: [0, Decimal(0), []])
    for row in rows:
        if row.pipeline == pipeline:
            entry = out[row.stage]
            entry[0] += 1
            entry[1] += row.amount or 0
            entry[2].append(row.name)
    return out


def stage_named(db_session, account, pipeline, name):
    return db_session.scalar(
        sa.select(Stage)
        .join(Pipeline, Pipeline.id == Stage.pipeline_id)
        .where(Pipeline.account_id == account.id, Pipeline.name == pipeline, Stage.name == name)
    )


def add_deals(db_session, demo, stage, count, prefix="Board deal"):
    db_session.execute(
        sa.insert(Deal),
        [
            {
                "account_id": demo.brightside.id,
                "name": f"{prefix} {i:03d}",
                "amount": Decimal(1000 + 10 * (i % 7)) if i % 5 else None,
                "close_date": date(2026, 1 + i % 12, 1) if i % 3 else None,
                "pipeline_id": stage.pipeline_id,
                "stage_id": stage.id,
                "owner_id": [demo.alice.id, demo.bob.id, None][i % 3],
            }
            for i in range(count)
        ],
    )
    db_session.flush()


def assert_board_matches_table(user, query):
    board = board_of(user, query)
    expected = by_stage(table_rows(user, query), board.pipeline.label)
    assert [c.stage.label for c in board.columns] == [
        s.label for s in deal_index.board_stages(*state_of(user, query))
    ]
    for column in board.columns:
        count, total, names = expected.get(column.stage.label, (0, Decimal(0), []))
        assert (column.stage.label, column.count, column.total) == (
            column.stage.label,
            count,
            total,
        ), query
        # The first cards, in the table's order.
        assert [c.name for c in column.cards] == names[:CARDS_PER_COLUMN], query
        assert column.has_more == (count > CARDS_PER_COLUMN)
    return board


# ---------------------------------------------------------------- columns, counts, totals


def test_columns_are_the_first_pipelines_stages_in_order(demo):
    board = board_of(demo.alice, "layout=board")
    assert board.pipeline.label == "Sales pipeline"
    assert [p.label for p in board.pipelines] == ["Sales pipeline", "Partner referrals"]
    assert [c.stage.label for c in board.columns] == [
        "Discovery",
        "Qualified",
        "Proposal sent",
        "Negotiation",
        "Closed won",
        "Closed lost",
    ]
    assert board.count > 0


@pytest.mark.parametrize(
    "query",
    [
        "layout=board",
        "layout=board&f=owner:is_me:",
        "layout=board&f=amount:gt:200000",
        "layout=board&f=amount:unknown:",
        "layout=board&f=active_registrations:gt:0",
        "layout=board&q=hooli",
        "layout=board&f=close_date:before:2027-01-01&sort=-amount",
        "layout=board&sort=owner",
        "layout=board&sort=-close_date",
        "layout=board&sort=active_registrations",
    ],
)
def test_counts_totals_and_cards_equal_the_tables_filtered_set(db_session, demo, query):
    qualified = stage_named(db_session, demo.brightside, "Sales pipeline", "Qualified")
    add_deals(db_session, demo, qualified, 45)  # more than a column shows
    assert_board_matches_table(demo.alice, query)


def test_other_pipeline_and_a_saved_view(db_session, demo):
    referrals = db_session.scalar(
        sa.select(Pipeline).where(
            Pipeline.account_id == demo.brightside.id, Pipeline.name == "Partner referrals"
        )
    )
    board = assert_board_matches_table(demo.alice, f"layout=board&pipeline={referrals.id}")
    assert board.pipeline.label == "Partner referrals"

    view = saved_views.create(
        demo.alice,
        "Big referrals",
        "private",
        f"f=amount:gt:100000&layout=board&pipeline={referrals.id}",
    )
    assert "layout=board" in view.query and f"pipeline={referrals.id}" in view.query
    board = assert_board_matches_table(demo.alice, view.query)
    assert board.pipeline.label == "Partner referrals"
    assert all(c.amount > 100000 for column in board.columns for c in column.cards)


def test_show_more_pages_through_one_column(db_session, demo):
    qualified = stage_named(db_session, demo.brightside, "Sales pipeline", "Qualified")
    add_deals(db_session, demo, qualified, 45)
    for query in ("layout=board", "layout=board&sort=-amount", "layout=board&sort=owner"):
        state, choices = state_of(demo.alice, query)
        names = by_stage(table_rows(demo.alice, query), "Sales pipeline")["Qualified"][2]
        assert len(names) > 2 * CARDS_PER_COLUMN
        shown = []
        offset = 0
        while True:
            column = deal_index.more_cards(
                scope_of(demo.alice), state, choices, qualified.id, offset
            )
            shown += [c.name for c in column.cards]
            if not column.has_more:
                break
            offset = column.shown
        assert shown == names, query


def test_only_the_accounts_own_deals_and_stages(db_session, demo):
    board = board_of(demo.hana, "layout=board")
    brightside_ids = set(
        db_session.scalars(sa.select(Deal.id).where(Deal.account_id == demo.brightside.id))
    )
    assert not {c.id for column in board.columns for c in column.cards} & brightside_ids
    # A stage of another account is not on this account's board.
    qualified = stage_named(db_session, demo.brightside, "Sales pipeline", "Qualified")
    state, choices = state_of(demo.hana, "layout=board")
    assert deal_index.more_cards(scope_of(demo.hana), state, choices, qualified.id, 0) is None


def test_the_board_costs_two_statements(app, demo):
    state, choices = state_of(demo.alice, "layout=board&f=owner:is_me:&sort=-amount")
    statements = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        deal_index.board(scope_of(demo.alice), state, choices)
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert len(statements) == 2, statements
    assert "GROUP BY" in statements[0]


def test_a_board_asked_again_reuses_its_statements_and_reads_the_data_anew(app, demo, db_session):
    query = "layout=board&f=owner:is_me:"
    first = board_of(demo.alice, query)
    kept = set(_statements)
    assert board_of(demo.alice, query).count == first.count
    assert set(_statements) == kept  # nothing built again
    # Bob's "My deals" is his own statement (the owner is in the scope), not Alice's.
    assert_board_matches_table(demo.bob, query)
    # The same statement, new data: three deals, one of them Alice's (add_deals).
    qualified = stage_named(db_session, demo.brightside, "Sales pipeline", "Qualified")
    add_deals(db_session, demo, qualified, 3)
    again = board_of(demo.alice, query)
    assert again.count == first.count + 1
    assert_board_matches_table(demo.alice, query)


@pytest.mark.parametrize("query", ["layout=board", "layout=board&f=amount:gt:1000&sort=-amount"])
def test_the_boards_statements_are_ones_sqlalchemy_compiles_once(demo, query):
    # A statement without a cache key is compiled again at every run: a board's
    # cards (a dozen subqueries) cost more to compile than to run.
    board_of(demo.alice, query)
    kept = [
        stmt for key, stmt in _statements.items() if key[0] in ("cards", "counts", "amount counts")
    ]
    assert kept
    assert all(stmt._generate_cache_key() is not None for stmt in kept)


# ---------------------------------------------------------------- the state


def test_layout_and_pipeline_are_in_the_canonical_query(demo):
    choices = deal_index.index_reference(demo.alice).choices
    sales, referrals = choices.get("pipeline")
    parsed = parse_query(f"pipeline={referrals.id}&layout=board&f=owner:is_me:&page=3", choices)
    assert parsed.state.board and parsed.state.pipeline == referrals.id
    # The board has no pages; a saved view keeps layout and pipeline.
    assert parsed.state.query() == f"f=owner:is_me:&layout=board&pipeline={referrals.id}"
    assert parsed.state.saved_query() == parsed.state.query()
    assert parsed.state.layout_query("table") == "f=owner:is_me:"
    # The table ignores a pipeline; an unknown layout is the table.
    assert parse_query(f"pipeline={referrals.id}", choices).state.query() == ""
    assert parse_query("layout=grid", choices).state.query() == ""


@pytest.mark.parametrize("pipeline", ["abc", "999999", "-1"])
def test_a_bad_pipeline_says_so_and_shows_the_first(demo, pipeline):
    choices = deal_index.index_reference(demo.alice).choices
    parsed = parse_query(f"layout=board&pipeline={pipeline}", choices)
    assert parsed.errors == ["Choose one of your pipelines for the board."]
    assert parsed.state.pipeline is None and parsed.state.query() == "layout=board"


def test_another_accounts_pipeline_is_refused(db_session, demo):
    theirs = db_session.scalar(sa.select(Pipeline.id).where(Pipeline.account_id == demo.harbor.id))
    choices = deal_index.index_reference(demo.alice).choices
    parsed = parse_query(f"layout=board&pipeline={theirs}", choices)
    assert parsed.errors and parsed.state.pipeline is None


# ---------------------------------------------------------------- a move is a stage edit


def test_a_move_of_a_shared_deal_is_recorded_and_notified(db_session, demo):
    deal = demo.acme
    target = stage_named(db_session, demo.brightside, "Sales pipeline", "Negotiation")
    before = db_session.get(Stage, deal.stage_id).name
    original = str(deal.stage_id)
    assert deal_fields.update(demo.alice, deal.id, "stage", target.id, original) is True
    assert db_session.get(Deal, deal.id).stage_id == target.id
    row = db_session.scalar(
        sa.select(Activity)
        .where(Activity.shared_deal_id == demo.acme_shared.id)
        .order_by(Activity.id.desc())
    )
    assert (row.actor_id, row.summary, row.before, row.after) == (
        demo.alice.id,
        "changed the deal stage",
        before,
        "Negotiation",
    )
    notified = set(
        db_session.scalars(
            sa.select(Notification.user_id).where(Notification.activity_id == row.id)
        )
    )
    assert notified and demo.alice.id not in notified

    # The same move again, from a board that still showed the old stage: a conflict.
    other = stage_named(db_session, demo.brightside, "Sales pipeline", "Closed won")
    with pytest.raises(Conflict, match="Negotiation"):
        deal_fields.update(demo.alice, deal.id, "stage", other.id, original)
    assert db_session.get(Deal, deal.id).stage_id == target.id


def test_a_move_to_another_pipelines_or_accounts_stage_is_refused(db_session, demo):
    deal = demo.initech
    referrals = stage_named(db_session, demo.brightside, "Partner referrals", "New referral")
    if referrals is None:  # whatever the first stage of that pipeline is called
        referrals = db_session.scalar(
            sa.select(Stage)
            .join(Pipeline, Pipeline.id == Stage.pipeline_id)
            .where(Pipeline.account_id == demo.brightside.id, Pipeline.name == "Partner referrals")
        )
    theirs = db_session.scalar(
        sa.select(Stage)
        .join(Pipeline, Pipeline.id == Stage.pipeline_id)
        .where(Pipeline.account_id == demo.harbor.id)
    )
    for stage in (referrals, theirs):
        with pytest.raises(Invalid, match="Choose a deal stage of the chosen pipeline."):
            deal_fields.update(demo.alice, deal.id, "stage", stage.id, str(deal.stage_id))
    assert db_session.get(Deal, deal.id).stage_id == deal.stage_id


def test_another_accounts_deal_cannot_be_moved(db_session, demo):
    harbor_deal = db_session.scalar(sa.select(Deal).where(Deal.account_id == demo.harbor.id))
    with pytest.raises(NotFound):
        deal_fields.update(demo.alice, harbor_deal.id, "stage", harbor_deal.stage_id, None)
