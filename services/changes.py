"""The unit of change: the one way a write service starts, locks, commits and rolls back.

    with shared_deal_change(shared, actor) as change:
        ...                              # read what is locked, validate, write
        change.record("team", "added …")  # history + notifications, same transaction

- `writing()` is the write transaction itself: on SQLite it begins as a writer
  (BEGIN IMMEDIATE, one writer at a time, waiting its turn instead of failing
  later); on success it commits, on any exception it rolls back and re-raises.
  A service validates its input *before* it enters, so the lock is held for
  the write alone.
- `lock_row()` (`lock_where()`) reads a row under its write lock, once per transaction
  (a row locked already, `locked()`, comes back without a statement); `upsert()`
  creates-or-updates a row in one statement (for rows two requests might both create);
  services/rows.py writes rows with the table's own statements.
- `answering()` makes a change and the answer read after it one transaction on
  PostgreSQL: a route opens it, locks the shared deal as it finds it
  (`shared_card.shared_deal_of(lock=True)`), calls its service, and renders the answer
  before the commit. On SQLite the change commits first, as it always did.
- `shared_deal_change` adds a row lock on the shared deal (fetched, so what is
  compared is what is stored now, on PostgreSQL as on SQLite) and the party
  check: only the two parties of a shared deal may change it.
- A deal's own fields lock their rows themselves (`services/deal_fields.update`):
  the shared deal first, then both deals of a shared property, in id order.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from catalog import lazy_gettext as _l
from extensions import LOCKED_ROWS, begin_write, commit_keeping_the_actor, db, on_sqlite
from models import Activity, SharedDeal, User
from services import activity
from services.errors import Forbidden, NotFound

NOT_A_PARTY = _l("Only the two parties of a shared deal may change it.")


# session.info: an `answering()` block is open ("open"), and its change has been written
# ("written": its commit waits for the block's end) or written and committed ("committed",
# SQLite's).
_ANSWERING = "answering"


@contextmanager
def writing() -> Iterator[None]:
    """A write transaction: begun as a writer, committed on success, rolled back on error.

    Inside `answering()`, on PostgreSQL the commit is the block's, at its end; a second
    write there is refused (RuntimeError): it would commit, or roll back, with the change."""
    info = db.session.info
    answering_state = info.get(_ANSWERING)
    if answering_state in ("written", "committed"):
        raise RuntimeError("A write while answering a change: it would share its transaction.")
    try:
        begin_write()
        yield
        if answering_state and not on_sqlite():
            info[_ANSWERING] = "written"
        else:
            commit_keeping_the_actor()
            if answering_state:
                info[_ANSWERING] = "committed"
    except BaseException:
        db.session.rollback()
        raise


@contextmanager
def answering() -> Iterator[None]:
    """A change and the answer read after it, in one transaction on PostgreSQL.

    There the service's `writing()` inside leaves its commit to this block's end, so what
    the block reads after the change (the card's part, the history rows it added) comes
    from the same transaction: no second BEGIN … COMMIT, and an exception rolls it all
    back. On SQLite the change commits as it always did and the answer is read after: its
    one writer locks the whole database, and a writer that waits for it sleeps (1, 2, 5,
    10 ms …), so its lock is held for the write alone. On both, what the block reads after
    the change must not write (see `writing`).
    """
    info = db.session.info
    info[_ANSWERING] = "open"
    try:
        yield
        commit_keeping_the_actor(ending_reads=info.get(_ANSWERING) != "written")
    except BaseException:
        db.session.rollback()
        raise
    finally:
        info.pop(_ANSWERING, None)


def lock_row(model, row_id: int, *conditions):
    """SELECT … FOR UPDATE the row and return it refreshed from the database (None if gone,
    or if it does not meet `conditions`, e.g. who may see it).

    Fetching it matters: on PostgreSQL the lock only protects the comparison if
    the values compared are the ones read under it, and a row deleted meanwhile
    is None here rather than an UPDATE or DELETE that matches nothing (a 500).
    """
    if conditions:
        return lock_where(model, model.id == row_id, *conditions)
    if (model, row_id) in db.session.info.get(LOCKED_ROWS, ()):
        # Locked earlier in this transaction (`locked`), and read under that lock: as it
        # was loaded then, without a statement. Nothing but this session changes it since.
        return db.session.get(model, row_id)
    return locked(db.session.scalar(_lock_by_id(model), {"row_id": row_id}))


def locked(row):
    """Remember that `row` (None: nothing) is locked in the session's transaction, so that a
    `lock_row` of it later in the same transaction sends no statement; returns `row`."""
    if row is not None:
        db.session.info.setdefault(LOCKED_ROWS, set()).add((type(row), row.id))
    return row


def lock_where(model, *conditions):
    """`lock_row` for the one row that meets `conditions` (a unique key other than the id)."""
    return db.session.scalar(locking(sa.select(model).where(*conditions)))


def locking(statement: sa.Select) -> sa.Select:
    """`statement` as `lock_where` runs it: FOR UPDATE, its rows refreshed from the database."""
    return statement.with_for_update().execution_options(populate_existing=True)


@functools.cache
def _lock_by_id(model) -> sa.Select:
    # Built once per model (a bind parameter): building and cache-keying a statement on
    # every save cost about as much as running it.
    return locking(sa.select(model).where(model.id == sa.bindparam("row_id", type_=sa.Integer)))


def insert_on_conflict(model, for_sqlite: bool | None = None):
    """An INSERT into `model` that can say ON CONFLICT: the database's own dialect of it
    (`for_sqlite`: SQLite's or PostgreSQL's, for a statement built once per database;
    by default the request's database's)."""
    if for_sqlite is None:
        for_sqlite = on_sqlite()
    return (sqlite.insert if for_sqlite else postgresql.insert)(model)


def upsert(model, key: dict, values: dict) -> None:
    """INSERT the row `key` + `values`, or UPDATE `values` where a row with `key` exists.

    One statement: two saves at once cannot both find no row and both insert it.
    """
    db.session.execute(
        insert_on_conflict(model)
        .values({**key, **values})
        .on_conflict_do_update(index_elements=list(key), set_=values)
    )


@dataclass
class SharedDealChange:
    """A change in progress to a shared deal, by `actor` (None: the system)."""

    shared: SharedDeal
    actor: User | None

    def record(
        self,
        action: str,
        summary: str,
        before: str | None = None,
        after: str | None = None,
        also_notify: Iterable[int] = (),
    ) -> Activity:
        """Write the activity row and the team's notifications of this change."""
        return activity.record(self.shared, self.actor, action, summary, before, after, also_notify)


@contextmanager
def shared_deal_change(shared: SharedDeal, actor: User | None) -> Iterator[SharedDealChange]:
    """Lock `shared`, check the actor is a party, yield the change; commit or roll back.

    Concurrent changes of the same shared deal run one after the other (SQLite:
    one writer; PostgreSQL: the row lock). Raises Forbidden for an actor of
    neither party, NotFound if the shared deal is gone.
    """
    shared_id = shared.id
    with writing():
        locked = lock_row(SharedDeal, shared_id)
        if locked is None:
            raise NotFound(f"No shared deal {shared_id}.")
        if actor is not None and not locked.is_party(actor.account_id):
            raise Forbidden(NOT_A_PARTY)
        yield SharedDealChange(locked, actor)
