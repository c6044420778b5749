"""The unit of change (services/changes.py): a row locked once per transaction, and a change
answered in its own transaction on PostgreSQL (`answering`); on SQLite the change commits
first, as it always did (its one writer's lock is held for the write alone)."""

import pytest
import sqlalchemy as sa

from extensions import begin_write, db
from models import Deal, SharedDeal
from services import activity, changes, deal_fields, shared_card, shared_notes
from tests.test_deals_index import counted_statements


def on_postgresql(db_session) -> bool:
    return db_session.get_bind().dialect.name == "postgresql"


def test_a_row_is_locked_once_per_transaction(demo, db_session):
    shared_id = demo.acme_shared.id
    db_session.commit()
    with counted_statements() as statements:
        first = changes.lock_row(SharedDeal, shared_id)
        again = changes.lock_row(SharedDeal, shared_id)
    assert again is first and len(statements) == 1, statements
    db_session.commit()  # the transaction, and what it locked, ends
    with counted_statements() as statements:
        changes.lock_row(SharedDeal, shared_id)
    assert len(statements) == 1, statements


def test_an_answer_reads_the_change_in_its_transaction_on_postgresql(demo, db_session):
    shared = demo.acme_shared
    db_session.commit()
    commits = []
    session = db.session()  # the Session itself: events are not the scoped proxy's

    def committed(session):
        commits.append(session)

    sa.event.listen(session, "after_commit", committed)
    try:
        with changes.answering():
            begin_write()  # on SQLite this commits the reads before: not the change's commit
            commits.clear()
            assert shared_notes.update(shared, demo.alice, "next_steps", "Call back", None)
            # PostgreSQL: the service's commit waits for the block's end; SQLite: not.
            assert (commits == []) == on_postgresql(db_session)
            written = len(commits)
            text = db.session.scalar(
                sa.select(SharedDeal.next_steps).where(SharedDeal.id == shared.id)
            )
            assert text == "Call back"
        assert len(commits) == written + 1  # the block's: the change's, or the reads'
    finally:
        sa.event.remove(session, "after_commit", committed)


def test_a_failed_answer_takes_its_change_back_on_postgresql(demo, db_session):
    shared = demo.acme_shared
    before = shared.next_steps
    db_session.commit()
    with pytest.raises(LookupError), changes.answering():
        shared_notes.update(shared, demo.alice, "next_steps", "Call back", None)
        raise LookupError("rendering the answer failed")
    db_session.expire_all()
    stored = db_session.get(SharedDeal, shared.id).next_steps
    assert stored == (before if on_postgresql(db_session) else "Call back")


def test_an_answer_may_not_write(demo, db_session):
    """A second write inside `answering` would commit, or roll back, with the change: it
    is refused (on PostgreSQL, with the change)."""
    shared = demo.acme_shared
    before = (shared.next_steps, shared.pain_or_opportunity)
    db_session.commit()
    with pytest.raises(RuntimeError), changes.answering():
        shared_notes.update(shared, demo.alice, "next_steps", "Call back", None)
        shared_notes.update(shared, demo.alice, "pain_or_opportunity", "Slow site", None)
    db_session.expire_all()
    stored = db_session.get(SharedDeal, shared.id)
    first = before[0] if on_postgresql(db_session) else "Call back"
    assert (stored.next_steps, stored.pain_or_opportunity) == (first, before[1])


def test_an_edits_answer_may_not_write_either(demo, db_session):
    """`deal_fields.editing` answers as `answering` does: a write in its block is refused
    (on PostgreSQL, the edit with it)."""
    deal = demo.acme
    name = deal.name
    db_session.commit()
    editing = deal_fields.editing(demo.alice, deal.id, "name", "Renamed", None)
    with pytest.raises(RuntimeError), editing as edit:
        assert edit.changed
        shared_notes.update(demo.acme_shared, demo.alice, "next_steps", "Call", None)
    db_session.expire_all()
    stored = db_session.get(Deal, deal.id).name
    assert stored == (name if on_postgresql(db_session) else "Renamed")


def test_a_change_answers_with_the_history_rows_it_wrote_as_a_read_gives_them(demo, db_session):
    """The answer's new history rows are made from what `record` wrote (no read back): they
    are the rows the page reads, and only the shared deal's own, newest first."""
    shared = demo.acme_shared
    other = db_session.scalar(sa.select(SharedDeal).where(SharedDeal.id != shared.id).limit(1))
    db_session.commit()
    mark = shared_card.activity_mark()
    activity.record(shared, demo.alice, "notes", "x" * 400, "before", "after")
    activity.record(other, demo.alice, "notes", "on another deal")
    activity.record(shared, None, "registration", "expired")
    written = shared_card.activity_after(shared, mark)
    db_session.commit()
    read, _ = shared_card.activity_for(shared, limit=2)
    assert written == [tuple(row) for row in read]
    assert [row.actor_name for row in written] == [None, demo.alice.full_name]
    assert written[1].summary.endswith("…")  # cut to its column, as stored
    assert shared_card.activity_after(shared, shared_card.activity_mark()) == []


def test_a_rolled_back_change_answers_with_none_of_its_history_rows(demo, db_session):
    shared = demo.acme_shared
    db_session.commit()
    mark = shared_card.activity_mark()
    activity.record(shared, demo.alice, "notes", "kept")
    db_session.commit()
    activity.record(shared, demo.alice, "notes", "taken back")
    db_session.rollback()
    assert [row.summary for row in shared_card.activity_after(shared, mark)] == ["kept"]
    activity.record(shared, demo.alice, "notes", "after")
    assert [row.summary for row in shared_card.activity_after(shared, mark)] == ["after", "kept"]
