"""One page of the deals index, and every deal of it for the export.

The index costs a constant number of statements whatever the data:
`reference.index_reference` (the filter choices and the view tabs, one
statement) and `index_page` (the page's rows with the capped count and amount
total, one statement); Flask-Login's user load is the only other one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa

from extensions import db
from models import Deal, Pipeline, Stage, User
from services.deal_index.choices import ChoiceOptions
from services.deal_index.query import (
    filter_key,
    filtered,
    order_key,
    sort_order,
    statement,
    with_labels,
)
from services.deal_index.registry import COUNT_CAP, PAGE_SIZE, Scope, shared_with_name
from services.deal_index.state import IndexState


@dataclass(frozen=True)
class DealRow:
    id: int
    name: str
    company: str
    owner: str | None
    stage: str
    pipeline: str
    amount: Decimal | None
    close_date: date | None
    active_registrations: int
    created_at: datetime
    shared_with: str | None


@dataclass
class IndexPage:
    rows: list[DealRow]
    page: int  # the page shown: the asked one, or the last one when that is past the end
    matched: int  # how many deals match, counted up to COUNT_CAP + 1
    amount_total: Decimal  # over the matches, or over the first COUNT_CAP of them

    @property
    def capped(self) -> bool:
        return self.matched > COUNT_CAP

    @property
    def shown_total(self) -> int:
        return min(self.matched, COUNT_CAP)

    @property
    def first(self) -> int:
        return (self.page - 1) * PAGE_SIZE + 1 if self.rows else 0

    @property
    def last(self) -> int:
        return self.first + len(self.rows) - 1 if self.rows else 0

    @property
    def last_page(self) -> int:
        return max(1, -(-self.shown_total // PAGE_SIZE))

    @property
    def has_previous(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.last_page


def _row_columns(scope: Scope):
    return (
        Deal.id,
        Deal.name,
        Deal.company_name.label("company"),
        User.full_name.label("owner"),
        Stage.name.label("stage"),
        Pipeline.name.label("pipeline"),
        Deal.amount,
        Deal.close_date,
        scope.active_registrations().label("active_registrations"),
        Deal.created_at,
        shared_with_name().label("shared_with"),
    )


def capped_matches(
    scope: Scope,
    state: IndexState,
    choices: ChoiceOptions,
    *,
    where: tuple = (),
    limit: int,
) -> sa.Subquery:
    """The first `limit` matches in the index's order: id, position, count, total.

    `where` narrows the matches further; the count and total are over the first
    COUNT_CAP of what was read.
    """
    numbered = numbered_matches(scope, state, choices, where=where, limit=limit).subquery(
        "numbered"
    )
    ranked = sa.select(
        numbered.c.id,
        numbered.c.position,
        sa.func.count().over().label("matched"),
        sa.func.sum(sa.case((numbered.c.position <= COUNT_CAP, numbered.c.amount)))
        .over()
        .label("amount_total"),
    )
    # Several branches may bring COUNT_CAP + 1 rows each: count the first ones only.
    return ranked.where(numbered.c.position <= limit).subquery("ranked")


def numbered_matches(
    scope: Scope,
    state: IndexState,
    choices: ChoiceOptions,
    *,
    where: tuple = (),
    limit: int,
    correlate: sa.FromClause | None = None,
) -> sa.Select:
    """SELECT id, amount, position: at least the first `limit` matches, numbered in order.

    `where` narrows the matches further (the board: one stage's deals); on
    PostgreSQL it may name `correlate`, a FROM item of an enclosing LATERAL join.

    Each branch is an ORDER BY ... LIMIT the database reads straight off an index
    (account, sort column, id): deals with a value, then blank ones (so blanks sort
    last in either direction, on SQLite and PostgreSQL alike); for a choice column
    one branch per choice, in the choices' order; for the registration count, the
    few deals with a registration apart from the many that count 0. Each branch
    brings up to `limit` rows: keep the positions up to `limit`.
    """
    order = sort_order(scope, state, choices)
    narrowed = where

    def branch(blank: int, sort_key, *where, by_id_only: bool = False):
        stmt = filtered(
            scope,
            state,
            Deal.id,
            Deal.amount,
            sa.literal(blank).label("blank"),
            sort_key.label("sort_key"),
        ).where(*narrowed, *where)
        if correlate is not None:
            stmt = stmt.correlate(correlate)
        keys = [order.direct(Deal.id)] if by_id_only else [order.direct(sort_key)]
        if not by_id_only:
            keys.append(order.direct(Deal.id))
        return sa.select(stmt.order_by(*keys).limit(limit).subquery())

    if order.choice_column is not None:
        ranked = order.choice_ids[::-1] if order.descending else order.choice_ids
        branches = [
            branch(
                0, sa.literal(order.choice_ids.index(i)), order.choice_column == i, by_id_only=True
            )
            for i in ranked
        ]
        null_int = sa.cast(sa.null(), sa.Integer)
        branches.append(branch(1, null_int, order.choice_column.is_(None), by_id_only=True))
    elif order.nonzero_ids is not None:
        # Most deals have no registration: count only for the few that do.
        branches = [
            branch(0, order.key, Deal.id.in_(order.nonzero_ids)),
            branch(0, sa.literal(0), Deal.id.not_in(order.nonzero_ids), by_id_only=True),
        ]
    elif order.nullable:
        branches = [
            branch(0, order.key, order.key.is_not(None)),
            branch(1, order.key, order.key.is_(None), by_id_only=True),
        ]
    else:
        branches = [branch(0, order.key)]
    matched = (sa.union_all(*branches) if len(branches) > 1 else branches[0]).subquery("matched")
    window = [matched.c.blank.asc()] if order.nullable else []
    window += [order.direct(matched.c.sort_key), order.direct(matched.c.id)]
    return sa.select(
        matched.c.id,
        matched.c.amount,
        sa.func.row_number().over(order_by=window).label("position"),
    )


def index_page(scope: Scope, state: IndexState, choices: ChoiceOptions) -> IndexPage:
    """One page of the index: its rows, the capped match count and amount total.

    One statement, however many deals there are. A page past the end gives the
    last page; pages stop at COUNT_CAP matches (bounded OFFSET: sort or filter
    to reach the others, or export them all).
    """
    key = ("page", filter_key(scope, state), order_key(state, choices))
    stmt = statement(key, lambda: _page_statement(scope, state, choices))
    start = (state.page - 1) * PAGE_SIZE
    # Core rows straight from the connection: no ORM entities to load here.
    result = db.session.connection().execute(stmt, {"asked_start": start}).all()
    if not result:
        return IndexPage(rows=[], page=1, matched=0, amount_total=Decimal(0))
    head = result[0]
    return IndexPage(
        rows=[DealRow(*row[3:]) for row in result],
        page=head.start // PAGE_SIZE + 1,
        matched=head.matched,
        amount_total=Decimal(head.amount_total or 0),
    )


def _clamped_start(matched):
    """The first position's offset: the page asked (`asked_start`), or the last page's
    when that is past the end (worked out in SQL, where the count is known)."""
    shown = sa.case((matched > COUNT_CAP, COUNT_CAP), else_=matched)
    last_start = ((shown - 1) // PAGE_SIZE) * PAGE_SIZE
    asked_start = sa.bindparam("asked_start", type_=sa.Integer)
    return sa.case((last_start < asked_start, last_start), else_=asked_start)


def _page_statement(scope: Scope, state: IndexState, choices: ChoiceOptions):
    """The page's statement for `state`; the page asked for is bind parameter `asked_start`."""
    if reads_in_order(scope, state, choices):
        return _walked_page_statement(scope, state, choices)
    return _numbered_page_statement(scope, state, choices)


def reads_in_order(scope: Scope, state: IndexState, choices: ChoiceOptions) -> bool:
    """Whether the matches are one ORDER BY ... LIMIT read in order off an index, each
    deal read cheap to test: a sort with no blanks and no branches, no search, no text
    condition (those test each deal they read for a word, and read many per match)."""
    order = sort_order(scope, state, choices)
    if order.nullable or order.nonzero_ids is not None or state.search:
        return False
    return all(condition.prop.type != "text" for condition in state.conditions)


def _walked_page_statement(scope: Scope, state: IndexState, choices: ChoiceOptions):
    """The page's statement, read off the index in order: the first COUNT_CAP + 1 matches
    counted and summed, then the page (`asked_start`, clamped). Only a capped list reads
    a third time, to take the last match read out of the total (over the first COUNT_CAP).

    Numbering the first COUNT_CAP + 1 matches (`_numbered_page_statement`) costs more
    than reading them again: on SQLite its window functions write them to a table and
    sort them (the index page, 1,000,000 deals: 2.3 -> 0.4 ms); on PostgreSQL the walks
    run in half the time (100,000 deals: 1.22 -> 0.60 ms, "close in the next 30 days"
    2.52 -> 1.47). Their plan costs PostgreSQL more to make (0.3-0.7 ms), made once
    for a list asked again (`extensions.planned_for_values`).
    """
    order = sort_order(scope, state, choices)
    keys = (order.direct(order.key), order.direct(Deal.id))

    def walk(*columns, limit: int) -> sa.Select:
        return filtered(scope, state, *columns).order_by(*keys).limit(limit)

    read = walk(Deal.amount, limit=COUNT_CAP + 1).subquery("read")
    bounds = sa.select(
        sa.func.count().label("matched"),
        sa.func.coalesce(sa.func.sum(read.c.amount), 0).label("read_total"),
    ).cte("bounds")
    past_cap = walk(sa.func.coalesce(Deal.amount, 0), limit=1).offset(COUNT_CAP)
    amount_total = sa.case(
        (bounds.c.matched > COUNT_CAP, bounds.c.read_total - past_cap.scalar_subquery()),
        else_=bounds.c.read_total,
    )
    start = _clamped_start(bounds.c.matched)
    page = (
        walk(Deal.id.label("id"), order.key.label("sort_key"), limit=PAGE_SIZE)
        .offset(sa.select(start).scalar_subquery())
        .subquery("page")
    )
    stmt = with_labels(
        sa.select(
            start.label("start"),
            bounds.c.matched,
            amount_total.label("amount_total"),
            *_row_columns(scope),
        ).select_from(bounds.join(page, sa.true()).join(Deal, Deal.id == page.c.id))
    )
    return stmt.order_by(order.direct(page.c.sort_key), order.direct(page.c.id))


def _numbered_page_statement(scope: Scope, state: IndexState, choices: ChoiceOptions) -> sa.Select:
    """The page's statement: the first COUNT_CAP + 1 matches numbered in order, as an
    order read in several branches needs (blanks last, a choice's order, the few deals
    with a registration); the page asked for is bind parameter `asked_start`."""
    ranked = capped_matches(scope, state, choices, limit=COUNT_CAP + 1)
    start = _clamped_start(ranked.c.matched)
    stmt = with_labels(
        sa.select(
            (ranked.c.position - 1).label("start"),
            ranked.c.matched,
            ranked.c.amount_total,
            *_row_columns(scope),
        ).select_from(ranked.join(Deal, Deal.id == ranked.c.id))
    )
    stmt = stmt.where(ranked.c.position > start, ranked.c.position <= start + PAGE_SIZE)
    return stmt.order_by(ranked.c.position)


def export_select(scope: Scope, state: IndexState, choices: ChoiceOptions) -> sa.Select:
    """Every deal of the index's current state, in its order (no page, no cap)."""
    order = sort_order(scope, state, choices)
    stmt = with_labels(filtered(scope, state, *_row_columns(scope)))
    return stmt.order_by(*order.order_by())
