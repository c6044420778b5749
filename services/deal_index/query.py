"""The SQL of an index state: the matching deals, their labels, and their order."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from models import Deal, Pipeline, Stage, User
from services import search
from services.deal_index.choices import ChoiceOptions
from services.deal_index.columns import COLUMNS
from services.deal_index.registry import Scope
from services.deal_index.state import IndexState


def filtered(scope: Scope, state: IndexState, *columns) -> sa.Select:
    """SELECT `columns` FROM the scope's deals matching every condition and the search."""
    stmt = sa.select(*columns).select_from(Deal).where(Deal.account_id == scope.account_id)
    for condition in state.conditions:
        stmt = stmt.where(condition.where(scope, state.sort))
    forced = next((c.sqlite_index for c in state.conditions if c.sqlite_index), None)
    if forced:
        stmt = stmt.with_hint(Deal, f"INDEXED BY {forced}", "sqlite")
    if state.search:
        stmt = stmt.where(search.matching(state.search))
    return stmt


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
