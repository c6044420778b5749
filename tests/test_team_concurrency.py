"""Two people saving the same deal team at the same moment both keep their changes.

Real commits on a database of the test's own (file-backed SQLite, or PostgreSQL when
DATABASE_URL is set); the threads are released together by a barrier.
"""

import threading

import sqlalchemy as sa

from extensions import db
from models import Deal, DealTeamMember, SharedDeal, User
from services import team


def ids(app):
    with app.app_context():
        users = {u.email.split("@")[0]: u.id for u in db.session.scalars(sa.select(User))}
        acme = db.session.scalar(
            sa.select(SharedDeal)
            .join(Deal, Deal.id == SharedDeal.partner_deal_id)
            .where(Deal.name == "Acme Corp website relaunch")
        )
        return users, acme.id


def team_of(app, shared_id):
    with app.app_context():
        return set(
            db.session.scalars(
                sa.select(User.email)
                .join(DealTeamMember, DealTeamMember.user_id == User.id)
                .where(DealTeamMember.shared_deal_id == shared_id)
            )
        )


def run_together(app, shared_id, changes):
    """Each (actor id, added, removed) in its own thread and session, released at once."""
    barrier = threading.Barrier(len(changes))
    errors = []

    def save(actor_id, added, removed):
        try:
            with app.app_context():
                actor = db.session.get(User, actor_id)
                shared = db.session.get(SharedDeal, shared_id)
                db.session.rollback()  # start the write from a clean, not-yet-begun session
                barrier.wait(timeout=30)
                team.apply_changes(shared, actor, added, removed)
                db.session.remove()
        except Exception as error:  # noqa: BLE001 - reported by the main thread
            errors.append(error)

    threads = [threading.Thread(target=save, args=change) for change in changes]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors


def test_two_adds_at_once_both_stay(fresh_app):
    users, shared_id = ids(fresh_app)
    # Alice and Bob each opened the dialog showing {Alice}; each ticks someone else.
    run_together(
        fresh_app,
        shared_id,
        [
            (users["alice"], {users["bob"]}, set()),
            (users["bob"], {users["carol"]}, set()),
        ],
    )
    assert team_of(fresh_app, shared_id) == {
        "alice@brightside.example",
        "bob@brightside.example",
        "carol@brightside.example",
        "rita@northwind.example",
    }


def test_a_removal_and_an_add_at_once_both_hold(fresh_app):
    users, shared_id = ids(fresh_app)
    run_together(fresh_app, shared_id, [(users["alice"], {users["bob"]}, set())])
    # Carol removes Bob while Rita adds Victor, and Alice adds Carol: all three intents hold.
    run_together(
        fresh_app,
        shared_id,
        [
            (users["carol"], set(), {users["bob"]}),
            (users["rita"], {users["victor"]}, set()),
            (users["alice"], {users["carol"]}, set()),
        ],
    )
    assert team_of(fresh_app, shared_id) == {
        "alice@brightside.example",
        "carol@brightside.example",
        "rita@northwind.example",
        "victor@northwind.example",
    }


def test_the_same_add_twice_at_once_is_harmless(fresh_app):
    users, shared_id = ids(fresh_app)
    run_together(
        fresh_app,
        shared_id,
        [
            (users["alice"], {users["bob"]}, set()),
            (users["carol"], {users["bob"]}, set()),
        ],
    )
    assert "bob@brightside.example" in team_of(fresh_app, shared_id)
