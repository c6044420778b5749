"""The board's column counts and totals, read from `deal_counts` instead of every deal.

`deal_counts` (migration 0010, models.DealCount) holds signed deltas per (account,
pipeline, stage, owner), inserted by triggers on `deals` in the same transaction as
every write that changes a count or a total: the sums of a key's rows are the exact
count and amount total of its deals at every commit. A board whose filters name only
what those rows are keyed by (owner, stage, pipeline: "My deals", an owner filter,
no filter at all) and no search reads a few rows per column here; any other filter
keeps the exact aggregate over the filtered deals (`deal_index.board.stage_totals`).

Rows only ever get inserted by writes, so concurrent writes never wait on each
other here. `fold` replaces an account's rows by one per key; a board read that
finds more than FOLD_AFTER rows to add up beyond those folds them.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.sql import visitors

from extensions import db
from models import Deal, DealCount
from services.changes import writing

# Extra rows (beyond one per key) a board may add up before it folds them.
FOLD_AFTER = 200
# pg_try_advisory_xact_lock(FOLD_LOCK, account id): one fold of an account at a time.
FOLD_LOCK = 10010

# The properties whose conditions the counts answer, and the columns their SQL reads.
COUNTED_PROPERTIES = frozenset({"owner", "stage", "pipeline"})
_COUNTED_COLUMNS = {"owner_id", "stage_id", "pipeline_id"}


def counts_answer(condition_keys: Iterable[str], search: str) -> bool:
    """Whether the counts answer a board filtered by these properties and this search."""
    return not search and set(condition_keys) <= COUNTED_PROPERTIES


def on_counts(condition: sa.ColumnElement) -> sa.ColumnElement:
    """A condition on Deal's owner, stage or pipeline, said of DealCount's rows instead.

    The same SQL the deals index filters with (one place for what "is me" or "is
    none of" means); "no owner" is owner 0 here, which no "is any of" names.
    """

    def swap(element):
        # The ORM's columns are annotated copies of the table's: compare table and name.
        if isinstance(element, sa.Column) and element.table is Deal.__table__:
            if element.name not in _COUNTED_COLUMNS:
                raise ValueError(f"deal_counts has no {element.name}")
            return DealCount.__table__.c[element.name]
        return None

    return visitors.replacement_traverse(condition, {}, swap)


def totals_statement(account_id: int, stage_ids: list[int], where: Iterable) -> sa.Select:
    """Per stage: deal count, amount total in cents, and the rows beyond one per key."""
    return (
        sa.select(
            DealCount.stage_id,
            sa.func.sum(DealCount.deal_count),
            sa.func.sum(DealCount.amount_cents),
            (sa.func.count() - sa.func.count(sa.distinct(DealCount.owner_id))).label("extra"),
        )
        .where(DealCount.account_id == account_id, DealCount.stage_id.in_(stage_ids), *where)
        .group_by(DealCount.stage_id)
    )


def stage_totals(statement: sa.Select, account_id: int) -> dict[int, tuple[int, Decimal]]:
    """Stage id -> (deal count, total amount) from `totals_statement`; folds when due."""
    out, extra = {}, 0
    for stage_id, count, cents, more in db.session.connection().execute(statement):
        out[stage_id] = (int(count or 0), Decimal(int(cents or 0)).scaleb(-2))
        extra += more
    if extra > FOLD_AFTER:
        # Best effort: a fold that cannot have the database now (SQLite busy past its
        # timeout) has changed nothing; the counts above are exact, a later read folds.
        with contextlib.suppress(sa.exc.OperationalError):
            fold(account_id)
    return out


def cents(amount) -> sa.ColumnElement:
    """An amount in whole cents, as the triggers write it (0 for no amount)."""
    return sa.cast(sa.func.round(sa.func.coalesce(amount, 0) * 100), sa.BigInteger)


_KEY = (DealCount.account_id, DealCount.pipeline_id, DealCount.stage_id, DealCount.owner_id)
_COLUMNS = [c.key for c in (*_KEY, DealCount.deal_count, DealCount.amount_cents)]


def fold(account_id: int) -> None:
    """Replace the account's rows by one per key, their sums (none for a key at 0). Commits.

    Concurrent writes go on inserting meanwhile: a fold moves only the rows it read.
    On PostgreSQL one statement deletes them and inserts their sums (a row another
    fold deleted first is skipped, never summed twice), and a fold already running
    for the account makes this one a no-op; on SQLite the writer's lock orders it all.
    """
    with writing():
        connection = db.session.connection()
        if connection.dialect.name == "postgresql":
            locked = connection.scalar(
                sa.select(sa.func.pg_try_advisory_xact_lock(FOLD_LOCK, account_id))
            )
            if not locked:
                return
            gone = (
                sa.delete(DealCount)
                .where(DealCount.account_id == account_id)
                .returning(*_KEY, DealCount.deal_count, DealCount.amount_cents)
                .cte("gone")
            )
            connection.execute(sa.insert(DealCount).from_select(_COLUMNS, _sums(gone)))
            return
        last = connection.scalar(
            sa.select(sa.func.max(DealCount.id)).where(DealCount.account_id == account_id)
        )
        if last is None:
            return
        mine = DealCount.account_id == account_id, DealCount.id <= last
        rows = sa.select(DealCount).where(*mine).subquery()
        connection.execute(sa.insert(DealCount).from_select(_COLUMNS, _sums(rows)))
        connection.execute(sa.delete(DealCount).where(*mine))


def _sums(rows) -> sa.Select:
    key = [rows.c[c.key] for c in _KEY]
    count, amount = sa.func.sum(rows.c.deal_count), sa.func.sum(rows.c.amount_cents)
    return sa.select(*key, count, amount).group_by(*key).having(sa.or_(count != 0, amount != 0))


def from_deals() -> sa.Select:
    """What the counts must add up to: one row per key, GROUP BY over the deals."""
    owner = sa.func.coalesce(Deal.owner_id, 0)
    return sa.select(
        Deal.account_id,
        Deal.pipeline_id,
        Deal.stage_id,
        owner,
        sa.func.count(),
        sa.func.sum(cents(Deal.amount)),
    ).group_by(Deal.account_id, Deal.pipeline_id, Deal.stage_id, owner)


def rebuild(connection) -> None:
    """Count every deal again (after a bulk load that ran without the triggers). No commit."""
    connection.execute(sa.delete(DealCount))
    connection.execute(sa.insert(DealCount).from_select(_COLUMNS, from_deals()))
