"""The SQL of an index state: the matching deals, their labels, and their order."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

import sqlalchemy as sa

from extensions import planned_for_values
from models import Deal, Pipeline, Stage, User
from services import search
from services.deal_index.choices import ChoiceOptions
from services.deal_index.columns import COLUMNS
from services.deal_index.registry import BY_PRIMARY_KEY, Scope
from services.deal_index.state import IndexState


def filtered(scope: Scope, state: IndexState, *columns) -> sa.Select:
    """SELECT `columns` FROM the scope's deals matching every condition and the search."""
    stmt = sa.select(*columns).select_from(Deal).where(Deal.account_id == scope.account_id)
    for condition in state.conditions:
        stmt = stmt.where(condition.where(scope, state.sort))
    hint = next(filter(None, (c.sqlite_hint(scope) for c in state.conditions)), None)
    if state.search and search.starts_from_matches(state.search):
        # A rare term: SQLite must start from its FTS matches (primary keys only), not
        # walk an index of the account testing each deal against them.
        hint = BY_PRIMARY_KEY
    if hint:
        stmt = stmt.with_hint(Deal, hint, "sqlite")
    if state.search:
        stmt = stmt.where(search.matching(state.search))
    return stmt


# Statements kept per process (see `statement`): a few boards' and index pages' worth,
# 0.1-0.3 MB each. In a soak of the bench's mix (bench/memory_soak.py: every index and
# board view, then the same with a new value each time) 16 kept hit 87.2 % of
# look-ups, 32 kept 87.4 %; with 16 the traced heap was 3 MB smaller (3.4 vs 6.5 MB
# after 2,500 requests), the process 1.6 MB (USS).
STATEMENTS_KEPT = 16
_statements: OrderedDict[tuple, sa.Select] = OrderedDict()
_statements_lock = threading.Lock()


def statement(key: tuple, build: Callable[[], sa.Select]) -> sa.Select:
    """The statement built for `key`, built once while it stays among the last used.

    Building an index or board statement (capped matches, a branch per stage or
    choice, the rows' labels) and working out its SQLAlchemy cache key cost more
    than running it. A statement object is immutable and memoizes its cache key, so
    the same list asked again (a reload, another page, after a move) reuses it whole.
    `key` names everything the statement is built from (`filter_key`, `order_key`).
    Its best plan depends on its values (the account, the filters): planned for them.
    """
    with _statements_lock:
        stmt = _statements.get(key)
        if stmt is not None:
            _statements.move_to_end(key)
            return stmt
    stmt = planned_for_values(build())
    with _statements_lock:
        _statements[key] = stmt
        while len(_statements) > STATEMENTS_KEPT:
            _statements.popitem(last=False)
    return stmt


def filter_key(scope: Scope, state: IndexState) -> tuple:
    """What `filtered` builds from: the scope, the conditions, the sort (a date condition
    depends on it), the search and its route."""
    return (
        scope,
        tuple(c.param for c in state.conditions),
        state.sort,
        state.search,
        search.is_common(state.search),
    )


def order_key(state: IndexState, choices: ChoiceOptions) -> tuple:
    """What the order builds from: the sort, and a choice column's choices (their order)."""
    return (state.sort, state.descending, tuple(choices.get(state.sort)))


def with_labels(stmt: sa.Select) -> sa.Select:
    """Join the owner, stage and pipeline names a deal row shows."""
    return (
        stmt.outerjoin(User, User.id == Deal.owner_id)
        .join(Stage, Stage.id == Deal.stage_id)
        .join(Pipeline, Pipeline.id == Deal.pipeline_id)
    )


@dataclass(frozen=True)
class SortOrder:
    """The order of the index: blanks last, then the sort key, then the deal id."""

    key: sa.ColumnElement
    descending: bool
    nullable: bool
    # Sorting by a choice column: that column, and its choice ids in sort order.
    choice_column: sa.ColumnElement | None = None
    choice_ids: tuple[int, ...] = ()
    nonzero_ids: sa.Select | None = None

    def direct(self, expression):
        return expression.desc() if self.descending else expression.asc()

    def blank(self):
        """1 for a deal whose sort key is blank, else 0 (blanks go last)."""
        return sa.case((self.key.is_(None), 1), else_=0)

    def order_by(self) -> list:
        """ORDER BY terms over Deal giving the index's order."""
        terms = [self.blank()] if self.nullable else []
        return [*terms, self.direct(self.key), self.direct(Deal.id)]


def sort_order(scope: Scope, state: IndexState, choices: ChoiceOptions) -> SortOrder:
    """How the index is sorted for `state`; choice columns need the account's `choices`."""
    column = COLUMNS[state.sort]
    if column.choice_column is None:
        nonzero = column.nonzero_ids(scope) if column.nonzero_ids else None
        return SortOrder(
            column.sort_key(scope), state.descending, column.nullable, nonzero_ids=nonzero
        )
    ids = tuple(c.id for c in column.choice_order(choices.get(state.sort)))
    # The choice's position in the order; NULL (blank, last) for no choice.
    rank = (
        sa.case(
            {choice_id: position for position, choice_id in enumerate(ids)},
            value=column.choice_column,
        )
        if ids
        else sa.null()
    )
    return SortOrder(rank, state.descending, True, column.choice_column, ids)
