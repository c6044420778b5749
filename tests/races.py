"""Racing real requests: logged-in test clients, one thread each, released by a barrier.

Each thread's request runs in its own app context, so in its own database session
and connection, exactly as under a multi-threaded or multi-process server; the
database is a real one with real commits (file SQLite, or PostgreSQL when
DATABASE_URL is set). `race_app` in tests/conftest.py provides it.

A race answers the responses in the order the posts were given. The tests count
what they see per route (`Tally`) and assert the counts at the end, so a failing
run says how many rounds went wrong, not only the first.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field

import sqlalchemy as sa
from flask import Flask
from flask_login.utils import _create_identifier

from extensions import db
from models import Activity, Deal, SharedDeal, User

# Rounds per route; RACE_ROUNDS=50 for a longer hunt.
ROUNDS = int(os.environ.get("RACE_ROUNDS", "3"))
CONFLICT_WORDS = "while you were editing"
HTMX = {"HX-Request": "true"}


def saved(answer: Answer) -> bool:
    """A change saved: 303 back to the page (plain post), or htmx's fragment with its cue."""
    return answer.status == 303 or (answer.status == 200 and bool(answer.trigger))


def conflict(answer: Answer) -> bool:
    """Refused for someone else's change: 409 (plain), or htmx's 200 fragment saying so."""
    return answer.status in (409, 200) and not answer.trigger and CONFLICT_WORDS in answer.body


@dataclass
class Answer:
    status: int
    body: str
    location: str = ""
    trigger: str = ""  # HX-Trigger: an htmx request's change was saved


@dataclass
class Tally:
    """What one route's races saw: the report's line, and what the test asserts."""

    route: str
    rounds: int = 0
    wins: int = 0
    conflicts: int = 0
    lost: int = 0
    duplicates: int = 0
    server_errors: int = 0
    problems: list[str] = field(default_factory=list)

    def count(self, answers: list[Answer]) -> None:
        self.rounds += 1
        for answer in answers:
            if answer.status >= 500:
                self.server_errors += 1
                self.problems.append(f"round {self.rounds}: {answer.status} {answer.body[:300]}")

    def lose(self, what: str) -> None:
        self.lost += 1
        self.problems.append(f"round {self.rounds}: lost {what}")

    def duplicate(self, what: str) -> None:
        self.duplicates += 1
        self.problems.append(f"round {self.rounds}: duplicate {what}")

    def wrong(self, what: str) -> None:
        self.problems.append(f"round {self.rounds}: {what}")

    def line(self) -> str:
        return (
            f"{self.route}: {self.rounds} rounds, {self.wins} won, {self.conflicts} conflicts, "
            f"{self.lost} lost, {self.duplicates} duplicates, {self.server_errors} 5xx"
        )

    def check(self) -> None:
        print(self.line())  # shown with -s: the figures of the report
        assert not self.problems, "\n".join([self.line(), *self.problems[:20]])


def user_id(app: Flask, email_prefix: str) -> int:
    with app.app_context():
        return db.session.scalar(
            sa.select(User.id).where(User.email.startswith(email_prefix + "@"))
        )


def client_for(app: Flask, email_prefix: str):
    """A test client logged in as the demo user `email_prefix` (alice, rita, ...)."""
    client = app.test_client()
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.email.startswith(email_prefix + "@")))
        user_key = user.get_id()
    with app.test_request_context(environ_base=client.environ_base):
        identifier = _create_identifier()
    with client.session_transaction() as session:
        session["_user_id"] = user_key
        session["_fresh"] = True
        session["_id"] = identifier
    return client


def race(posts: list[tuple]) -> list[Answer]:
    """Send every (client, url, data[, headers]) at once; the answers in the same order.

    data None: a GET (a page view that writes, like recording expiries).
    """
    barrier = threading.Barrier(len(posts))
    answers: list[Answer | None] = [None] * len(posts)
    errors: list[BaseException] = []

    def send(index, client, url, data, headers=None):
        try:
            barrier.wait(timeout=30)
        except BaseException as error:  # noqa: BLE001 - reported by the main thread
            errors.append(error)
            return
        try:
            if data is None:
                response = client.get(url, headers=headers or {})
            else:
                response = client.post(url, data=data, headers=headers or {})
        except Exception as error:  # noqa: BLE001
            # TESTING propagates a view's exception; a server would answer 500.
            answers[index] = Answer(500, f"{type(error).__name__}: {error}")
            return
        answers[index] = Answer(
            response.status_code,
            response.get_data(as_text=True),
            response.headers.get("Location", ""),
            response.headers.get("HX-Trigger", ""),
        )

    threads = [
        threading.Thread(target=send, args=(index, *post)) for index, post in enumerate(posts)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=90)
    assert not errors, errors
    assert all(answer is not None for answer in answers), "a request did not finish"
    return answers


def activity_count(app: Flask, shared_id: int, action: str) -> int:
    with app.app_context():
        return db.session.scalar(
            sa.select(sa.func.count(Activity.id)).where(
                Activity.shared_deal_id == shared_id, Activity.action == action
            )
        )


# ---------------------------------------------------------------- the demo's Acme shared deal


def acme_ids(app: Flask) -> dict:
    """Ids of the demo's Acme shared deal: partner deal, vendor deal, shared deal, users."""
    with app.app_context():
        shared = db.session.scalar(
            sa.select(SharedDeal)
            .join(Deal, Deal.id == SharedDeal.partner_deal_id)
            .where(Deal.name == "Acme Corp website relaunch")
        )
        users = {u.email.split("@")[0]: u.id for u in db.session.scalars(sa.select(User))}
        return {
            "partner_deal": shared.partner_deal_id,
            "vendor_deal": shared.vendor_deal_id,
            "shared": shared.id,
            "users": users,
            "partner_account": shared.partner_account_id,
        }


def deal_of(acme: dict, name: str) -> int:
    """The Acme deal the user `name` sees (each party has its own deal of the shared deal)."""
    return acme["vendor_deal"] if name in ("rita", "victor") else acme["partner_deal"]


def demo_user(name: str) -> User:
    """The demo user `name` (alice, rita, ...), in the current app context."""
    return db.session.scalar(sa.select(User).where(User.email.startswith(name + "@")))


def logged_in_clients(app: Flask) -> dict:
    """One logged-in test client per demo user the deal races use."""
    return {name: client_for(app, name) for name in ("alice", "bob", "carol", "rita", "victor")}
