"""The deals index as a board: one column per stage of one pipeline.

The board shows the index's filtered set (the same conditions and search as
the table, `query.filtered`) within one pipeline. It costs two statements
whatever the data:

- `stage_totals`: every column's deal count and total amount over the whole
  filtered set (not a page of it): from the counts kept per stage and owner, or
  per stage and amount band (`services.board_counts`), when the filters allow,
  else one aggregate GROUP BY stage over the filtered deals;
- `column_cards`: each column's first cards in the table's order, the index's
  `page.numbered_matches` per stage (each reads its top rows off an index): on
  PostgreSQL one LATERAL subquery over the stages, on SQLite one UNION ALL.

Moving a card is a stage edit (`services.deal_fields.update`), not done here;
`moved_card` then says where the card now goes (one statement), and `stage_totals`
recounts the two columns it left and joined.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import NamedTuple

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from extensions import db, on_sqlite
from models import Deal, User
from services import board_counts
from services.deal_index.choices import Choice, ChoiceOptions
from services.deal_index.page import numbered_matches
from services.deal_index.query import filter_key, filtered, order_key, statement
from services.deal_index.registry import Scope, shared_with_name
from services.deal_index.state import IndexState

CARDS_PER_COLUMN = 20
# "Show more" pages through a column up to here; past it, filter or use the table.
MAX_OFFSET = 1000


class BoardCard(NamedTuple):
    """A card's facts, in the order the card's template unpacks them (`for id, name, … in`):
    a tuple, so a board's ~130 cards are built and read without a call per field."""

    id: int
    name: str
    amount: Decimal | None
    close_date: date | None
    owner: str | None
    stage_id: int
    shared_with: str | None = None  # the other party's name; None for an unshared deal


class BoardColumn(NamedTuple):
    """A column, in the order the board's template unpacks it (`for stage, count, … in`):
    a tuple, read without a Python call a field (Jinja's `column.count` is one)."""

    stage: Choice
    count: int  # deals of the whole filtered set in this stage
    total: Decimal  # their amounts' sum
    cards: list[BoardCard]
    offset: int  # how many cards come before these
    has_more: bool  # a card follows these ("Show more")

    @property
    def shown(self) -> int:
        return self.offset + len(self.cards)


@dataclass
class Board:
    pipeline: Choice | None  # None: the account has no pipeline
    pipelines: list[Choice]
    columns: list[BoardColumn]

    @property
    def count(self) -> int:
        return sum(c.count for c in self.columns)

    @property
    def total(self) -> Decimal:
        return sum((c.total for c in self.columns), Decimal(0))

    def column(self, stage_id: int) -> BoardColumn | None:
        return next((c for c in self.columns if c.stage.id == stage_id), None)


def board_pipeline(state: IndexState, choices: ChoiceOptions) -> Choice | None:
    """The pipeline the board shows: the state's, else the account's first."""
    pipelines = choices.get("pipeline")
    chosen = next((p for p in pipelines if p.id == state.pipeline), None)
    return chosen or (pipelines[0] if pipelines else None)


def pipeline_stages(pipeline: Choice | None, choices: ChoiceOptions) -> list[Choice]:
    """The pipeline's stages in order (a stage choice's group is its pipeline's unique name)."""
    if pipeline is None:
        return []
    return [s for s in choices.get("stage") if s.group == pipeline.label]


def board_stages(state: IndexState, choices: ChoiceOptions) -> list[Choice]:
    """The stages of the board's pipeline: its columns, and where a card can move."""
    return pipeline_stages(board_pipeline(state, choices), choices)


def stage_totals(
    scope: Scope, state: IndexState, stage_ids: list[int], may_fold: bool = True
) -> dict[int, tuple[int, Decimal]]:
    """Stage id -> (deal count, total amount) over the whole filtered set, exactly.

    `may_fold=False` within a write's transaction (a move's answer): the counts' fold,
    which commits or rolls back, is left to a later read (board_counts.stage_totals).

    With no filter but on owner, stage or pipeline (none, "My deals", an owner
    filter) and no search, from the counts kept per (account, pipeline, stage,
    owner): a few rows per column (`services.board_counts`). With one amount range
    besides stage or pipeline, from the counts kept per amount band, and the deals
    of the two bands at the range's ends. Otherwise one aggregate GROUP BY stage
    over the filtered deals.
    """
    if not stage_ids:
        return {}
    if board_counts.counts_answer((c.prop.key for c in state.conditions), state.search):
        stmt = statement(
            ("counts", filter_key(scope, state), tuple(stage_ids)),
            lambda: board_counts.totals_statement(
                scope.account_id,
                stage_ids,
                [board_counts.on_counts(c.where(scope, state.sort)) for c in state.conditions],
            ),
        )
        return board_counts.stage_totals(stmt, scope.account_id, may_fold)
    by_amount = board_counts.amount_range(state.conditions, state.search)
    if by_amount is not None:
        amount, kept = by_amount
        others = [c for c in state.conditions if c is not amount]
        stmt = statement(
            ("amount counts", filter_key(scope, state), tuple(stage_ids)),
            lambda: board_counts.amount_totals_statement(
                scope.account_id,
                stage_ids,
                kept,
                amount.where(scope, state.sort),
                [c.where(scope, state.sort) for c in others],
            ),
        )
        return board_counts.stage_totals(stmt, scope.account_id, may_fold)
    return filtered_stage_totals(scope, state, stage_ids)


def filtered_stage_totals(
    scope: Scope, state: IndexState, stage_ids: list[int]
) -> dict[int, tuple[int, Decimal]]:
    """Stage id -> (deal count, total amount) over the filtered deals: one GROUP BY."""
    stmt = statement(
        ("totals", filter_key(scope, state), tuple(stage_ids)),
        lambda: (
            filtered(scope, state, Deal.stage_id, sa.func.count(), sa.func.sum(Deal.amount))
            .where(Deal.stage_id.in_(stage_ids))
            .group_by(Deal.stage_id)
        ),
    )
    rows = db.session.connection().execute(stmt)
    return {stage_id: (count, Decimal(total or 0)) for stage_id, count, total in rows}


def _card_columns(scope: Scope):
    """A card's columns; "Shared with" as the table's column reads it (one subquery a card)."""
    return (
        Deal.id,
        Deal.name,
        Deal.amount,
        Deal.close_date,
        User.full_name,
        Deal.stage_id,
        shared_with_name(),
    )


def column_cards(
    scope: Scope,
    state: IndexState,
    choices: ChoiceOptions,
    stage_ids: list[int],
    offset: int = 0,
) -> dict[int, list[BoardCard]]:
    """Stage id -> its cards after the first `offset`, in the table's order.

    Reads one card more than CARDS_PER_COLUMN per stage: whether "Show more" has more to show.
    """
    if not stage_ids:
        return {}
    offset = max(0, min(offset, MAX_OFFSET))
    key = ("cards", filter_key(scope, state), order_key(state, choices), tuple(stage_ids), offset)
    stmt = statement(key, lambda: _cards_statement(scope, state, choices, stage_ids, offset))
    out: dict[int, list[BoardCard]] = {stage_id: [] for stage_id in stage_ids}
    # `all()`: the rows in one fetch, not a fetch (two calls) a row.
    for card in map(_as_card, db.session.connection().execute(stmt).all()):
        out[card.stage_id].append(card)
    return out


# A row of `_card_columns` as a card, without a Python call a card (`BoardCard._make` is
# one, to check a length the statement's columns already fix).
_as_card = functools.partial(tuple.__new__, BoardCard)


def _cards_statement(
    scope: Scope, state: IndexState, choices: ChoiceOptions, stage_ids: list[int], offset: int
) -> sa.Select:
    cards = _ranked_in_stages(scope, state, choices, stage_ids, offset + CARDS_PER_COLUMN + 1)
    cards = (
        sa.select(cards.c.id, cards.c.position).where(cards.c.position > offset).subquery("cards")
    )
    return (
        sa.select(*_card_columns(scope))
        .select_from(cards.join(Deal, Deal.id == cards.c.id))
        .outerjoin(User, User.id == Deal.owner_id)
        .order_by(Deal.stage_id, cards.c.position)
    )


def _ranked_in_stages(
    scope: Scope, state: IndexState, choices: ChoiceOptions, stage_ids: list[int], limit: int
) -> sa.Subquery:
    """id, position: each stage's first `limit` matches, numbered from 1 within the stage.

    PostgreSQL: one LATERAL subquery over the stage ids, so the planner plans the
    column's statement once, not once per stage (5 of its 10 ms at 100,000 deals).
    SQLite has no LATERAL: a UNION ALL of one numbered statement per stage.
    """
    if not on_sqlite():
        # unnest(array), not VALUES: SQLAlchemy caches the compiled form of this one.
        ids = sa.literal(stage_ids, postgresql.ARRAY(sa.Integer))
        stages = sa.func.unnest(ids).table_valued("stage_id").render_derived(name="board_stages")
        numbered = numbered_matches(
            scope,
            state,
            choices,
            where=(Deal.stage_id == stages.c.stage_id,),
            limit=limit,
            correlate=stages,
        ).lateral("numbered")
        return (
            sa.select(numbered.c.id, numbered.c.position)
            .select_from(stages.join(numbered, sa.true()))
            .where(numbered.c.position <= limit)
            .subquery("ranked")
        )
    branches = []
    for stage_id in stage_ids:
        numbered = numbered_matches(
            scope, state, choices, where=(Deal.stage_id == stage_id,), limit=limit
        ).subquery("numbered")
        branches.append(
            sa.select(numbered.c.id, numbered.c.position).where(numbered.c.position <= limit)
        )
    return (sa.union_all(*branches) if len(branches) > 1 else branches[0]).subquery("ranked")


def board(scope: Scope, state: IndexState, choices: ChoiceOptions) -> Board:
    """The board of `state`: its pipeline's columns, their counts, totals and first cards."""
    pipeline = board_pipeline(state, choices)
    stages = pipeline_stages(pipeline, choices)
    stage_ids = [s.id for s in stages]
    totals = stage_totals(scope, state, stage_ids)
    cards = column_cards(scope, state, choices, stage_ids)
    columns = [_column(s, cards[s.id], 0, *totals.get(s.id, (0, Decimal(0)))) for s in stages]
    return Board(pipeline, choices.get("pipeline"), columns)


def _column(stage: Choice, cards: list[BoardCard], offset: int, count=0, total=Decimal(0)):
    more = len(cards) > CARDS_PER_COLUMN and offset + CARDS_PER_COLUMN < MAX_OFFSET
    return BoardColumn(stage, count, total, cards[:CARDS_PER_COLUMN], offset, more)


def more_cards(
    scope: Scope, state: IndexState, choices: ChoiceOptions, stage_id: int, offset: int
) -> BoardColumn | None:
    """One column's cards after `offset` ("Show more"); None for a stage not on the board.

    Its count and total are left at 0: the board's header already shows them.
    """
    pipeline = board_pipeline(state, choices)
    stage = next((s for s in pipeline_stages(pipeline, choices) if s.id == stage_id), None)
    if stage is None:
        return None
    offset = max(0, min(offset, MAX_OFFSET))
    return _column(stage, column_cards(scope, state, choices, [stage_id], offset)[stage_id], offset)


def moved_card(
    scope: Scope,
    state: IndexState,
    choices: ChoiceOptions,
    deal_id: int,
    stage_id: int,
    shown: int = CARDS_PER_COLUMN,
) -> tuple[BoardCard | None, int | None]:
    """A card just moved to `stage_id`: (its card, the id of the card that follows it).

    `shown` is how many cards the board shows in that column. The card is None when
    it lies past them (or no longer matches the filters): the board shows it only
    after "Show more". The next id is None when the card comes right after the shown
    ones (the column's last, or a "Show more" away). One statement: the column's
    first `shown` + 1 cards with each one's successor (LEAD), read at the moved deal.
    """
    limit = max(CARDS_PER_COLUMN, min(shown, MAX_OFFSET + CARDS_PER_COLUMN)) + 1
    key = ("moved", filter_key(scope, state), order_key(state, choices), stage_id, limit)
    stmt = statement(key, lambda: _moved_statement(scope, state, choices, stage_id, limit))
    row = db.session.connection().execute(stmt, {"deal_id": deal_id}).first()
    if row is None:
        return None, None
    return BoardCard(*row[:-1]), row.next_id


def _moved_statement(
    scope: Scope, state: IndexState, choices: ChoiceOptions, stage_id: int, limit: int
) -> sa.Select:
    ranked = _ranked_in_stages(scope, state, choices, [stage_id], limit)
    following = sa.select(
        ranked.c.id,
        sa.func.lead(ranked.c.id).over(order_by=ranked.c.position).label("next_id"),
    ).subquery("following")
    return (
        sa.select(*_card_columns(scope), following.c.next_id)
        .select_from(following.join(Deal, Deal.id == following.c.id))
        .outerjoin(User, User.id == Deal.owner_id)
        .where(following.c.id == sa.bindparam("deal_id", type_=sa.Integer))
    )


def card(scope: Scope, deal_id: int) -> BoardCard | None:
    """One deal of the scope as a board card, wherever it is (a refused move shows it)."""
    stmt = (
        sa.select(*_card_columns(scope))
        .select_from(Deal)
        .outerjoin(User, User.id == Deal.owner_id)
        .where(Deal.id == deal_id, Deal.account_id == scope.account_id)
    )
    row = db.session.connection().execute(stmt).first()
    return BoardCard(*row) if row else None
