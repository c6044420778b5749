"""The board's column counts and totals, read from kept counts instead of every deal.

`deal_counts` (migration 0010, models.DealCount) holds signed deltas per (account,
pipeline, stage, owner), inserted by triggers on `deals` in the same transaction as
every write that changes a count or a total: the sums of a key's rows are the exact
count and amount total of its deals at every commit. A board whose filters name only
what those rows are keyed by (owner, stage, pipeline: "My deals", an owner filter,
no filter at all) and no search reads a few rows per column here.

`deal_amount_counts` (migration 0012, models.DealAmountCount) holds the same per
(account, pipeline, stage, amount band). A board filtered by one amount range (and
by stage or pipeline) adds up the bands the range covers whole there, and counts
the deals of the two bands at its edges from the index (`amount_totals_statement`).
Any other filter keeps the exact aggregate over the filtered deals
(`deal_index.board.stage_totals`).

Rows only ever get inserted by writes, so concurrent writes never wait on each
other here. `fold` replaces an account's rows by one per key; a board read that
finds more than FOLD_AFTER rows to add up beyond those folds them.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.sql import visitors

from extensions import db
from models import BUCKET_SQL, Deal, DealAmountCount, DealCount
from services.changes import writing

# Extra rows (beyond one per key) a board may add up before it folds them.
FOLD_AFTER = 200
# pg_try_advisory_xact_lock(FOLD_LOCK, account id): one fold of an account at a time.
FOLD_LOCK = 10010

# The properties whose conditions the counts answer, and the columns their SQL reads.
COUNTED_PROPERTIES = frozenset({"owner", "stage", "pipeline"})
_COUNTED_COLUMNS = {"owner_id", "stage_id", "pipeline_id"}
# With one amount range, the amount counts answer these (they have no owner).
AMOUNT_PROPERTIES = frozenset({"stage", "pipeline"})


def counts_answer(condition_keys: Iterable[str], search: str) -> bool:
    """Whether the counts answer a board filtered by these properties and this search."""
    return not search and set(condition_keys) <= COUNTED_PROPERTIES


def on_counts(condition: sa.ColumnElement, counts=DealCount) -> sa.ColumnElement:
    """A condition on Deal's owner, stage or pipeline, said of `counts`' rows instead.

    The same SQL the deals index filters with (one place for what "is me" or "is
    none of" means); "no owner" is owner 0 here, which no "is any of" names.
    """

    def swap(element):
        # The ORM's columns are annotated copies of the table's: compare table and name.
        if isinstance(element, sa.Column) and element.table is Deal.__table__:
            table = counts.__table__
            if element.name not in _COUNTED_COLUMNS or element.name not in table.c:
                raise ValueError(f"{table.name} has no {element.name}")
            return table.c[element.name]
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


def stage_totals(
    statement: sa.Select, account_id: int, may_fold: bool = True
) -> dict[int, tuple[int, Decimal]]:
    """Stage id -> (deal count, total amount) from `totals_statement`; folds when due.

    `may_fold=False` never folds: for a read inside a write's transaction, which a fold
    (its own `writing()`) would commit early or, failing, roll back with it."""
    out, extra = {}, 0
    for stage_id, count, cents, more in db.session.connection().execute(statement):
        out[stage_id] = (int(count or 0), Decimal(int(cents or 0)).scaleb(-2))
        extra += more
    if may_fold and extra > FOLD_AFTER:
        # Best effort: a fold that cannot have the database now (SQLite busy past its
        # timeout) has changed nothing; the counts above are exact, a later read folds.
        with contextlib.suppress(sa.exc.OperationalError):
            fold(account_id)
    return out


def cents(amount) -> sa.ColumnElement:
    """An amount in whole cents, as the triggers write it (0 for no amount)."""
    return sa.cast(sa.func.round(sa.func.coalesce(amount, 0) * 100), sa.BigInteger)


# ---------------------------------------------------------------- amount bands


def bucket(cents: int) -> int:
    """The band of an amount in whole cents, as migration 0012's triggers compute it.

    Below 100 cents, the cents; else the number of digits times 100 plus the first
    two digits (12,345 cents: 512). Bands follow the amounts' order.
    """
    if cents < 100:
        return cents
    digits = str(cents)
    return len(digits) * 100 + int(digits[:2])


def band(bucket_: int) -> tuple[int, int]:
    """The cents a band holds: [start, end)."""
    if bucket_ < 100:
        return bucket_, bucket_ + 1
    digits, lead = divmod(bucket_, 100)
    scale = 10 ** (digits - 2)
    return lead * scale, (lead + 1) * scale


def bucket_of(amount: str = "deals.amount") -> sa.ColumnElement:
    """`bucket` in SQL, of a non-null amount column: BUCKET_SQL, the indexed expression."""
    return sa.literal_column(BUCKET_SQL.format(amount=amount))


@dataclass(frozen=True)
class AmountRange:
    """The whole cents an amount condition keeps: low..high, both kept; None: unbounded."""

    low: int | None
    high: int | None

    @property
    def bands(self) -> tuple[int | None, int | None]:
        """The bands holding its two ends (None: unbounded)."""
        return (
            bucket(self.low) if self.low is not None else None,
            bucket(self.high) if self.high is not None else None,
        )

    @classmethod
    def of(cls, condition) -> AmountRange | None:
        """The range of a condition on the amount; None when it is not one range of
        amounts ("is empty", or "equals": the index answers that one alone)."""
        if condition.prop.key != "amount":
            return None
        values = [Decimal(v) * 100 for v in condition.values]
        key = condition.op.key
        if key == "gt":
            return cls(math.floor(values[0]) + 1, None)
        if key == "lt":
            return cls(None, math.ceil(values[0]) - 1)
        if key == "between":
            return cls(math.ceil(values[0]), math.floor(values[1]))
        if key == "known":
            return cls(None, None)
        return None


def edge_shares(kept: AmountRange) -> dict[int, float]:
    """Band -> the share of its cents `kept` covers, for the one or two bands holding
    its ends (one when both ends fall in the same band)."""
    low, high = kept.bands
    share = {}
    for edge in {low, high} - {None}:
        start, end = band(edge)
        first = start if low != edge else max(kept.low, start)
        last = end - 1 if high != edge else min(kept.high, end - 1)
        share[edge] = max(0, last - first + 1) / (end - start)
    return share


def deals_in_range(account_id: int, kept: AmountRange) -> sa.ScalarSelect:
    """Scalar subquery: about how many of the account's deals `kept` holds, for choosing
    a plan: the bands inside it, and of each end's band the share of its cents it
    covers (as though its deals were spread evenly over them)."""
    counts = DealAmountCount
    low, high = kept.bands
    share = edge_shares(kept)
    weight = (
        sa.case(
            *((counts.bucket == edge, sa.literal(part)) for edge, part in share.items()),
            else_=sa.literal(1.0),
        )
        if share
        else sa.literal(1.0)
    )
    bounds = [
        counts.bucket >= low if low is not None else None,
        counts.bucket <= high if high is not None else None,
    ]
    return (
        sa.select(sa.func.coalesce(sa.func.sum(counts.deal_count * weight), 0))
        .where(counts.account_id == account_id, *(b for b in bounds if b is not None))
        .scalar_subquery()
    )


def amount_range(conditions, search: str) -> tuple[object, AmountRange] | None:
    """(the amount condition, its range) when the amount counts answer these filters:
    no search, one amount range, and otherwise only stage or pipeline conditions."""
    if search:
        return None
    amounts = [c for c in conditions if c.prop.key == "amount"]
    others = {c.prop.key for c in conditions if c.prop.key != "amount"}
    if len(amounts) != 1 or not others <= AMOUNT_PROPERTIES:
        return None
    found = AmountRange.of(amounts[0])
    return (amounts[0], found) if found else None


def amount_totals_statement(
    account_id: int,
    stage_ids: list[int],
    kept: AmountRange,
    amount_where: sa.ColumnElement,
    where: list[sa.ColumnElement],
) -> sa.Select:
    """Per stage, like `totals_statement`, for deals whose amount is in `kept`.

    The bands strictly inside the range are added up from deal_amount_counts. Of a
    band holding one of its ends, the fewer side is read from `deals`, a stage at a
    time off the expression index models.BUCKET_INDEX (account, stage, band, amount):
    the deals the amount condition `amount_where` keeps, when the range covers at most
    half of the band's cents; else the band's kept sums less the deals it leaves out.
    "Greater than 500,000" starts its band: it reads the deals of exactly 500,000, not
    the band's thousands. `where`: the other conditions, on Deal (stage, pipeline).
    """
    counts = DealAmountCount
    # Of each end's band: True to count it whole here and take away what is left out.
    less_left_out = {edge: part > 0.5 for edge, part in edge_shares(kept).items()}
    low, high = kept.bands
    bands = []
    if low is not None:
        bands.append(counts.bucket >= low if less_left_out[low] else counts.bucket > low)
    if high is not None:
        bands.append(counts.bucket <= high if less_left_out[high] else counts.bucket < high)
    whole = sa.select(
        counts.stage_id.label("stage_id"),
        sa.func.sum(counts.deal_count).label("n"),
        sa.func.sum(counts.amount_cents).label("c"),
        (sa.func.count() - sa.func.count(sa.distinct(counts.bucket))).label("extra"),
    ).where(
        counts.account_id == account_id,
        counts.stage_id.in_(stage_ids),
        *bands,
        *(on_counts(w, counts) for w in where),
    )
    branches = [whole.group_by(counts.stage_id)]
    for edge, left_out in sorted(less_left_out.items()):
        # For a deal in the band (its amount known), NOT is the condition's complement.
        n, c = sa.func.count(), sa.func.sum(cents(Deal.amount))
        at_edge = sa.select(
            Deal.stage_id.label("stage_id"),
            (-n if left_out else n).label("n"),
            (-c if left_out else c).label("c"),
            sa.literal(0).label("extra"),
        ).where(
            Deal.account_id == account_id,
            Deal.stage_id.in_(stage_ids),
            bucket_of() == edge,
            sa.not_(amount_where) if left_out else amount_where,
            *where,
        )
        branches.append(at_edge.group_by(Deal.stage_id))
    if len(branches) == 1:
        return branches[0]
    both = sa.union_all(*branches).subquery("both")
    return sa.select(
        both.c.stage_id, sa.func.sum(both.c.n), sa.func.sum(both.c.c), sa.func.sum(both.c.extra)
    ).group_by(both.c.stage_id)


# ---------------------------------------------------------------- keeping the counts


@dataclass(frozen=True)
class _Kept:
    """One table of kept counts: its key columns and the same key read from the deals."""

    model: type
    key_name: str  # the key's last column: owner_id, bucket

    @property
    def key(self) -> tuple:
        m = self.model
        return (m.account_id, m.pipeline_id, m.stage_id, getattr(m, self.key_name))

    @property
    def columns(self) -> list[str]:
        return [c.key for c in (*self.key, self.model.deal_count, self.model.amount_cents)]

    def from_deals(self) -> sa.Select:
        """What its rows must add up to: one row per key, GROUP BY over the deals."""
        if self.key_name == "owner_id":
            last, only = sa.func.coalesce(Deal.owner_id, 0), ()
        else:
            last, only = bucket_of(), (Deal.amount.is_not(None),)
        key = (Deal.account_id, Deal.pipeline_id, Deal.stage_id, last)
        count, total = sa.func.count(), sa.func.sum(cents(Deal.amount))
        return sa.select(*key, count, total).where(*only).group_by(*key)


KEPT = (_Kept(DealCount, "owner_id"), _Kept(DealAmountCount, "bucket"))


def fold(account_id: int) -> None:
    """Replace the account's rows by one per key, their sums (none for a key at 0), in
    both tables of counts. Commits.

    Concurrent writes go on inserting meanwhile: a fold moves only the rows it read.
    On PostgreSQL one statement a table deletes them and inserts their sums (a row
    another fold deleted first is skipped, never summed twice), and a fold already
    running for the account makes this one a no-op; on SQLite the writer's lock
    orders it all.
    """
    with writing():
        connection = db.session.connection()
        if connection.dialect.name == "postgresql":
            locked = connection.scalar(
                sa.select(sa.func.pg_try_advisory_xact_lock(FOLD_LOCK, account_id))
            )
            if not locked:
                return
            for kept in KEPT:
                m = kept.model
                gone = (
                    sa.delete(m)
                    .where(m.account_id == account_id)
                    .returning(*kept.key, m.deal_count, m.amount_cents)
                    .cte("gone")
                )
                connection.execute(sa.insert(m).from_select(kept.columns, _sums(kept, gone)))
            return
        for kept in KEPT:
            m = kept.model
            last = connection.scalar(sa.select(sa.func.max(m.id)).where(m.account_id == account_id))
            if last is None:
                continue
            mine = m.account_id == account_id, m.id <= last
            rows = sa.select(m).where(*mine).subquery()
            connection.execute(sa.insert(m).from_select(kept.columns, _sums(kept, rows)))
            connection.execute(sa.delete(m).where(*mine))


def _sums(kept: _Kept, rows) -> sa.Select:
    key = [rows.c[c.key] for c in kept.key]
    count, amount = sa.func.sum(rows.c.deal_count), sa.func.sum(rows.c.amount_cents)
    return sa.select(*key, count, amount).group_by(*key).having(sa.or_(count != 0, amount != 0))


def rebuild(connection) -> None:
    """Count every deal again (after a bulk load that ran without the triggers). No commit."""
    for kept in KEPT:
        connection.execute(sa.delete(kept.model))
        connection.execute(sa.insert(kept.model).from_select(kept.columns, kept.from_deals()))
