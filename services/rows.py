"""Writing rows with the table's own statements, built once per model and columns.

The unit of work's flush of one new or changed object (what changed, in what order,
the statement built and keyed, the identity map refreshed) cost more than the row's
statement itself, and building and keying a statement on every save cost about as
much as running it. So the saves write rows here, with bind parameters; the locks,
the transaction and the history are services/changes.py's.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable

import sqlalchemy as sa

from extensions import db


def insert_row(model, values: dict) -> int:
    """INSERT one row of `model` with `values` (columns by name); returns its id."""
    return db.session.execute(_insert_returning_id(model), values).scalar_one()


def insert_rows(model, rows: list[dict]) -> None:
    """INSERT `rows` of `model` (each the same columns by name), in one executemany."""
    db.session.execute(_insert(model), rows)


def update_shared_row(statement: sa.Update, row_id: int, shared_id: int, values: dict):
    """Run `statement` (from `shared_row_update`) on the row `row_id` of the shared deal
    `shared_id` with `values`; its RETURNING row, or None when no row matched."""
    parameters = {"row_id": row_id, "shared_id": shared_id, **_new(values)}
    return db.session.execute(statement, parameters).first()


def shared_row_update(model, columns: Iterable[str], *conditions) -> sa.Update:
    """UPDATE `columns` of `model`'s row `row_id` if it belongs to the shared deal `shared_id`
    and meets `conditions` (for `update_shared_row`; its caller builds it once)."""
    table = model.__table__
    return (
        sa.update(table)
        .where(*_shared_row(model), *conditions)
        .values({column: _new_value(table, column) for column in columns})
    )


def shared_row_exists(model, row_id: int, shared_id: int) -> bool:
    """Whether `model` has a row `row_id` of the shared deal `shared_id`."""
    key = {"row_id": row_id, "shared_id": shared_id}
    return db.session.scalar(_shared_row_id(model), key) is not None


def update_rows(model, row_ids: Iterable[int], values: dict) -> None:
    """UPDATE the rows `row_ids` of `model` to `values` (columns by name; a column's
    onupdate, such as updated_at, applies), in one statement.

    One statement, not an executemany of one a row: the deals' statement-level triggers
    (the board's counts) run once for all of them, and SQLAlchemy's executemany costs more
    (PostgreSQL, 1,000,000 deals, in-process, alternated: a shared amount's save of two
    deals 7.60 -> 6.92 ms, a board move 8.70 -> 8.29). Lock the rows first, in id order,
    as the edits do (`deal_fields._lock`).

    No object of the session changes: a caller that set the values on loaded objects
    expires them first (nothing left to flush), or says they hold them
    (`set_committed_value`)."""
    parameters = {"row_ids": sorted(row_ids), **_new(values)}
    db.session.execute(_update_by_ids(model, tuple(values)), parameters)


@functools.cache
def _insert(model) -> sa.Insert:
    # The table's INSERT: the model's, given parameters, is the session's bulk insert.
    return sa.insert(model.__table__)


@functools.cache
def _insert_returning_id(model) -> sa.Insert:
    return _insert(model).returning(model.__table__.c.id)


@functools.cache
def _update_by_ids(model, columns: tuple[str, ...]) -> sa.Update:
    table = model.__table__
    row_ids = sa.bindparam("row_ids", expanding=True, type_=sa.Integer)
    return (
        sa.update(table)
        .where(table.c.id.in_(row_ids))
        .values({column: _new_value(table, column) for column in columns})
    )


@functools.cache
def _shared_row_id(model) -> sa.Select:
    return sa.select(model.__table__.c.id).where(*_shared_row(model))


def _shared_row(model) -> tuple:
    table = model.__table__
    return (
        table.c.id == _row_id(),
        table.c.shared_deal_id == sa.bindparam("shared_id", type_=sa.Integer),
    )


def _row_id():
    return sa.bindparam("row_id", type_=sa.Integer)


def _new_value(table, column: str):
    # Not the column's own name: SQLAlchemy keeps that for the SET clause's parameters.
    return sa.bindparam(f"new_{column}", type_=table.c[column].type)


def _new(values: dict) -> dict:
    return {f"new_{column}": value for column, value in values.items()}
