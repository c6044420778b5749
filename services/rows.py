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


def update_rows(model, row_ids: Iterable[int], values: dict) -> None:
    """UPDATE the rows `row_ids` of `model` to `values` (columns by name; a column's
    onupdate, such as updated_at, applies), in id order, in one executemany.

    No object of the session changes: a caller that set the values on loaded objects
    expires them first (nothing left to flush), or says they hold them
    (`set_committed_value`)."""
    parameters = {f"new_{column}": value for column, value in values.items()}
    rows = [{"row_id": row_id, **parameters} for row_id in sorted(row_ids)]
    db.session.execute(_update_by_id(model, tuple(values)), rows)


@functools.cache
def _insert(model) -> sa.Insert:
    # The table's INSERT: the model's, given parameters, is the session's bulk insert.
    return sa.insert(model.__table__)


@functools.cache
def _insert_returning_id(model) -> sa.Insert:
    return _insert(model).returning(model.__table__.c.id)


@functools.cache
def _update_by_id(model, columns: tuple[str, ...]) -> sa.Update:
    table = model.__table__
    return (
        sa.update(table)
        .where(table.c.id == sa.bindparam("row_id", type_=sa.Integer))
        .values(
            {
                column: sa.bindparam(f"new_{column}", type_=table.c[column].type)
                for column in columns
            }
        )
    )
