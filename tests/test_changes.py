"""The unit of change (services/changes.py): a row locked once per transaction, and a change
answered in its own transaction (`answering`)."""

import pytest
import sqlalchemy as sa

from extensions import begin_write, db
from models import SharedDeal
from services import changes, shared_notes
from tests.test_deals_index import counted_statements


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


def test_an_answer_reads_the_change_before_it_commits(demo, db_session):
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
            assert commits == []  # the service's commit waits for the block's end
            text = db.session.scalar(
                sa.select(SharedDeal.next_steps).where(SharedDeal.id == shared.id)
            )
            assert text == "Call back"
        assert len(commits) == 1
    finally:
        sa.event.remove(session, "after_commit", committed)


def test_a_failed_answer_takes_its_change_back(demo, db_session):
    shared = demo.acme_shared
    before = shared.next_steps
    db_session.commit()
    with pytest.raises(LookupError), changes.answering():
        shared_notes.update(shared, demo.alice, "next_steps", "Call back", None)
        raise LookupError("rendering the answer failed")
    db_session.expire_all()
    assert db_session.get(SharedDeal, shared.id).next_steps == before


def test_an_answer_may_not_write(demo, db_session):
    """A second write inside `answering` would commit, or roll back, with the change: it
    is refused, and the change with it."""
    shared = demo.acme_shared
    before = shared.next_steps
    db_session.commit()
    with pytest.raises(RuntimeError), changes.answering():
        shared_notes.update(shared, demo.alice, "next_steps", "Call back", None)
        shared_notes.update(shared, demo.alice, "pain_or_opportunity", "Slow site", None)
    db_session.expire_all()
    assert db_session.get(SharedDeal, shared.id).next_steps == before


def test_an_edits_answer_may_not_write_either(demo, db_session):
    """`deal_fields.editing` answers as `answering` does: a write in its block is refused,
    and the edit is rolled back with it."""
    from models import Deal
    from services import deal_fields

    deal = demo.acme
    name = deal.name
    db_session.commit()
    editing = deal_fields.editing(demo.alice, deal.id, "name", "Renamed", None)
    with pytest.raises(RuntimeError), editing as edit:
        assert edit.changed
        shared_notes.update(demo.acme_shared, demo.alice, "next_steps", "Call", None)
    db_session.expire_all()
    assert db_session.get(Deal, deal.id).name == name
