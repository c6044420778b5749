"""Several "Save view" with one name at the same moment make one view; the others get
the message. Real commits on a database of the test's own (SQLite, or PostgreSQL when
DATABASE_URL is set); the threads are released together by a barrier.
"""

import threading

import sqlalchemy as sa

from extensions import db
from models import SavedView, User
from services import saved_views
from services.errors import Invalid

SAVES = 4


def test_simultaneous_saves_with_one_name_make_one_view(fresh_app):
    with fresh_app.app_context():
        alice_id = db.session.scalar(
            sa.select(User.id).where(User.email == "alice@brightside.example")
        )
    barrier = threading.Barrier(SAVES)
    created, refused, errors = [], [], []

    def save(name):
        try:
            with fresh_app.app_context():
                alice = db.session.get(User, alice_id)
                db.session.rollback()  # start the write from a clean, not-yet-begun session
                barrier.wait(timeout=30)
                try:
                    created.append(saved_views.create(alice, name, "private", "").id)
                except Invalid as error:
                    refused.append(error.message)
                db.session.remove()
        except Exception as error:  # noqa: BLE001 - reported by the main thread
            errors.append(error)

    names = ["Pipeline review", "pipeline review", "PIPELINE REVIEW", "Pipeline Review"]
    threads = [threading.Thread(target=save, args=(name,)) for name in names[:SAVES]]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    assert len(created) == 1 and len(refused) == SAVES - 1
    assert all(message.startswith("You already have a view named “") for message in refused)
    with fresh_app.app_context():
        views = db.session.scalars(
            sa.select(SavedView.name).where(
                SavedView.owner_id == alice_id, sa.func.lower(SavedView.name) == "pipeline review"
            )
        ).all()
    assert len(views) == 1
