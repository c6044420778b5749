"""Races on a shared deal's card: deal team, product interest, registrations, and the
page view that records expiries.

These writes carry only what each user changed, so several at the same moment must
all hold (tests/races.py): no change lost, nothing recorded twice, never a 5xx.
SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from extensions import db
from models import (
    Activity,
    DealRegistration,
    DealTeamMember,
    Product,
    ProductInterest,
    RegistrationRequest,
    SharedDeal,
    User,
)
from services import product_interest, registration_requests, registrations, team
from tests.races import (
    ROUNDS,
    Tally,
    acme_ids,
    activity_count,
    client_for,
    deal_of,
    demo_user,
    logged_in_clients,
    race,
)


@pytest.fixture(scope="module")
def acme(race_app):
    return acme_ids(race_app)


@pytest.fixture(scope="module")
def clients(race_app):
    return logged_in_clients(race_app)


# ---------------------------------------------------------------- deal team


def _team(app, shared_id):
    with app.app_context():
        return set(
            db.session.scalars(
                sa.select(User.email)
                .join(DealTeamMember, DealTeamMember.user_id == User.id)
                .where(DealTeamMember.shared_deal_id == shared_id)
            )
        )


def _set_team(app, acme, names):
    """Make the team exactly `names` (each party sets its own side)."""
    users = acme["users"]
    with app.app_context():
        shared = db.session.get(SharedDeal, acme["shared"])
        for actor, side in (("alice", ("alice", "bob", "carol")), ("rita", ("rita", "victor"))):
            wanted = {users[n] for n in names if n in side}
            current = team.member_ids_of(shared, demo_user(actor).account_id)
            team.apply_changes(shared, demo_user(actor), wanted - current, current - wanted)
            shared = db.session.get(SharedDeal, acme["shared"])


def _team_post(acme, name, showed, ticked):
    users = acme["users"]
    return {
        "members": [users[n] for n in ticked],
        "original_members": [users[n] for n in showed] or [""],
    }


# (team before, [(who, their side as shown, their side as ticked)], team after)
TEAM_ROUNDS = (
    (
        ("alice", "rita"),
        [
            ("alice", ("alice",), ("alice", "bob")),
            ("carol", ("alice",), ("alice", "carol")),
            ("rita", ("rita",), ("rita", "victor")),
        ],
        ("alice", "bob", "carol", "rita", "victor"),
    ),
    (
        ("alice", "bob", "rita", "victor"),
        [
            ("alice", ("alice", "bob"), ("alice",)),
            ("carol", ("alice", "bob"), ("alice", "bob", "carol")),
            ("rita", ("rita", "victor"), ("rita",)),
        ],
        ("alice", "carol", "rita"),
    ),
)


def test_team_saves_at_once_all_keep_their_changes(race_app, acme, clients):
    tally = Tally("team")
    domains = {n: ("northwind" if n in ("rita", "victor") else "brightside") for n in acme["users"]}
    for round_ in range(ROUNDS):
        before, saves, after = TEAM_ROUNDS[round_ % len(TEAM_ROUNDS)]
        _set_team(race_app, acme, before)
        history_before = activity_count(race_app, acme["shared"], "team")
        answers = race(
            [
                (
                    clients[who],
                    f"/deals/{deal_of(acme, who)}/team",
                    _team_post(acme, who, showed, ticked),
                )
                for who, showed, ticked in saves
            ]
        )
        tally.count(answers)
        tally.wins += sum(a.status == 303 for a in answers)
        if any(a.status != 303 for a in answers):
            tally.wrong(f"answers {[a.status for a in answers]}: every save 303")
        expected = {f"{n}@{domains[n]}.example" for n in after}
        stored = _team(race_app, acme["shared"])
        for email in expected - stored:
            tally.lose(f"{email} added")
        for email in stored - expected:
            tally.lose(f"{email} removed")
        recorded = activity_count(race_app, acme["shared"], "team") - history_before
        if recorded != len(saves):
            tally.duplicate(f"history: {recorded} team activities for {len(saves)} saves")
    tally.check()


# ---------------------------------------------------------------- product interest


def test_product_saves_at_once_all_keep_their_changes(race_app, acme, clients):
    tally = Tally("products")
    with race_app.app_context():
        shared = db.session.get(SharedDeal, acme["shared"])
        p = [product.id for product in product_interest.catalogue_for(shared)]
    assert len(p) >= 4
    saves = [  # (who, showed, chosen): alice swaps P0 for P1, bob adds P2, rita adds P3
        ("alice", {p[0]}, {p[1]}),
        ("bob", {p[0]}, {p[0], p[2]}),
        ("rita", {p[0]}, {p[0], p[3]}),
    ]
    for _ in range(ROUNDS):
        with race_app.app_context():
            shared = db.session.get(SharedDeal, acme["shared"])
            now = {x.id for x in product_interest.products_of(shared)}
            product_interest.apply_changes(shared, demo_user("alice"), {p[0]} - now, now - {p[0]})
        history_before = activity_count(race_app, acme["shared"], "products")
        answers = race(
            [
                (
                    clients[who],
                    f"/deals/{deal_of(acme, who)}/products",
                    {"products": sorted(chosen) or [""], "original_products": sorted(showed)},
                )
                for who, showed, chosen in saves
            ]
        )
        tally.count(answers)
        tally.wins += sum(a.status == 303 for a in answers)
        if any(a.status != 303 for a in answers):
            tally.wrong(f"answers {[a.status for a in answers]}: every save 303")
        with race_app.app_context():
            stored = set(
                db.session.scalars(
                    sa.select(Product.id)
                    .join(ProductInterest)
                    .where(ProductInterest.shared_deal_id == acme["shared"])
                )
            )
        for pid in {p[1], p[2], p[3]} - stored:
            tally.lose(f"product {pid} added")
        if p[0] in stored:
            tally.lose(f"product {p[0]} removed")
        recorded = activity_count(race_app, acme["shared"], "products") - history_before
        if recorded != len(saves):
            tally.duplicate(f"history: {recorded} product activities for {len(saves)} saves")
    tally.check()


# ---------------------------------------------------------------- registrations


def _registrations(app, shared_id):
    with app.app_context():
        return list(
            db.session.scalars(
                sa.select(DealRegistration).where(DealRegistration.shared_deal_id == shared_id)
            )
        )


def test_registrations_at_once_each_is_recorded_once(race_app, acme, clients):
    """Each vendor user's "Register" is one registration and one history line: none lost."""
    tally = Tally("registration add")
    url = f"/deals/{acme['vendor_deal']}/registrations"
    extra = client_for(race_app, "rita")  # rita in a second tab
    for round_ in range(ROUNDS):
        count_before = len(_registrations(race_app, acme["shared"]))
        history_before = activity_count(race_app, acme["shared"], "registration_added")
        answers = race(
            [
                (clients["rita"], url, {"expires_on": ""}),
                (clients["victor"], url, {"expires_on": f"2030-01-0{round_ % 9 + 1}"}),
                (extra, url, {"expires_on": ""}),
            ]
        )
        tally.count(answers)
        tally.wins += sum(a.status == 303 for a in answers)
        if any(a.status != 303 for a in answers):
            tally.wrong(f"answers {[a.status for a in answers]}: every one 303")
        added = len(_registrations(race_app, acme["shared"])) - count_before
        recorded = activity_count(race_app, acme["shared"], "registration_added") - history_before
        if added < 3:
            tally.lose(f"{3 - added} registration(s)")
        if added > 3 or recorded != added:
            tally.duplicate(f"{added} registrations, {recorded} history lines for 3 posts")
    tally.check()


def test_deregistrations_at_once_deregister_once(race_app, acme, clients):
    tally = Tally("registration deregister")
    extra = client_for(race_app, "rita")
    for _ in range(ROUNDS):
        with race_app.app_context():
            shared = db.session.get(SharedDeal, acme["shared"])
            registration_id = registrations.add(shared, demo_user("rita"), None)
        history_before = activity_count(race_app, acme["shared"], "registration_deregistered")
        url = f"/deals/{acme['vendor_deal']}/registrations/{registration_id}/deregistration"
        answers = race([(clients["rita"], url, {}), (clients["victor"], url, {}), (extra, url, {})])
        tally.count(answers)
        tally.wins += sum(a.status == 303 for a in answers)
        if any(a.status != 303 for a in answers):
            tally.wrong(f"answers {[a.status for a in answers]}: every one 303 (done is done)")
        recorded = (
            activity_count(race_app, acme["shared"], "registration_deregistered") - history_before
        )
        with race_app.app_context():
            registration = db.session.get(DealRegistration, registration_id)
            if registration.deregistered_at is None:
                tally.lose("the deregistration")
        if recorded != 1:
            tally.duplicate(f"history: {recorded} deregistrations recorded for one")
    tally.check()


# ---------------------------------------------------------------- registration requests


def _unregister(app, acme):
    """Deregister every active registration and decide any open request: a clean start."""
    with app.app_context():
        shared = db.session.get(SharedDeal, acme["shared"])
        for made in _registrations(app, acme["shared"]):
            if made.deregistered_at is None:
                registrations.deregister(shared, demo_user("rita"), made.id)
                shared = db.session.get(SharedDeal, acme["shared"])
        for open_ in db.session.scalars(
            sa.select(RegistrationRequest).where(
                RegistrationRequest.shared_deal_id == acme["shared"],
                RegistrationRequest.status == "requested",
            )
        ):
            registration_requests.decline(shared, demo_user("rita"), open_.id, "reset")
            shared = db.session.get(SharedDeal, acme["shared"])


def _requests(app, shared_id, status=None):
    with app.app_context():
        query = sa.select(RegistrationRequest).where(
            RegistrationRequest.shared_deal_id == shared_id
        )
        if status:
            query = query.where(RegistrationRequest.status == status)
        return list(db.session.scalars(query))


def test_registration_requests_at_once_open_one(race_app, acme, clients):
    """Three partner tabs press "Request registration" at once: one request, two refusals."""
    tally = Tally("registration request")
    url = f"/deals/{acme['partner_deal']}/registration-requests"
    extra = client_for(race_app, "alice")
    for round_ in range(ROUNDS):
        _unregister(race_app, acme)
        history_before = activity_count(race_app, acme["shared"], "registration_requested")
        answers = race(
            [
                (clients["alice"], url, {"message": f"round {round_} from alice"}),
                (clients["bob"], url, {"message": ""}),
                (extra, url, {"message": "second tab"}),
            ]
        )
        tally.count(answers)
        tally.wins += sum(a.status == 303 for a in answers)
        refused = [a for a in answers if a.status == 400 and "already open" in a.body]
        if sum(a.status == 303 for a in answers) != 1 or len(refused) != 2:
            tally.wrong(f"answers {[a.status for a in answers]}: one 303, two 400 'already open'")
        opened = len(_requests(race_app, acme["shared"], "requested"))
        recorded = activity_count(race_app, acme["shared"], "registration_requested")
        if opened == 0:
            tally.lose("the request")
        if opened > 1 or recorded - history_before != 1:
            tally.duplicate(f"{opened} open requests, {recorded - history_before} history lines")
    tally.check()


def test_approve_and_decline_at_once_decide_once(race_app, acme, clients):
    """Rita approves while Victor declines the same request: one decision stands, whole."""
    tally = Tally("registration approve/decline")
    extra = client_for(race_app, "rita")
    for _ in range(ROUNDS):
        _unregister(race_app, acme)
        with race_app.app_context():
            shared = db.session.get(SharedDeal, acme["shared"])
            request_id = registration_requests.request(shared, demo_user("alice"), "please")
        base = f"/deals/{acme['vendor_deal']}/registration-requests/{request_id}"
        registered_before = len(_registrations(race_app, acme["shared"]))
        answers = race(
            [
                (clients["rita"], base + "/approval", {"expires_on": ""}),
                (clients["victor"], base + "/decline", {"reason": "Another partner has it"}),
                (extra, base + "/approval", {"expires_on": "2031-01-01"}),
            ]
        )
        tally.count(answers)
        tally.wins += sum(a.status == 303 for a in answers)
        refused = [
            a for a in answers if a.status == 400 and "already approved or declined" in a.body
        ]
        if sum(a.status == 303 for a in answers) != 1 or len(refused) != 2:
            tally.wrong(f"answers {[a.status for a in answers]}: one 303, two 400 'already'")
        with race_app.app_context():
            decided = db.session.get(RegistrationRequest, request_id)
            status, registration_id = decided.status, decided.registration_id
        made = len(_registrations(race_app, acme["shared"])) - registered_before
        if status == "requested":
            tally.lose("the decision")
        elif status == "approved" and (made != 1 or registration_id is None):
            tally.duplicate(f"approved with {made} registrations made")
        elif status == "declined" and made != 0:
            tally.duplicate(f"declined, yet {made} registrations made")
    tally.check()


# ---------------------------------------------------------------- a page view that writes


def test_page_views_at_once_record_an_expiry_once(race_app, acme, clients):
    """The first views after a registration expired write its "expired" line: once."""
    tally = Tally("deal page view (records expiries)")
    for round_ in range(ROUNDS):
        with race_app.app_context():
            expired = DealRegistration(
                shared_deal_id=acme["shared"],
                registered_by_id=acme["users"]["rita"],
                expires_on=date.today() - timedelta(days=round_ + 1),
            )
            db.session.add(expired)
            db.session.commit()
            summary = f"registration #{expired.id} expired"
        answers = race(
            [(clients[n], f"/deals/{deal_of(acme, n)}", None) for n in ("alice", "bob", "rita")]
        )
        tally.count(answers)
        tally.wins += sum(a.status == 200 for a in answers)
        if any(a.status != 200 for a in answers):
            tally.wrong(f"answers {[a.status for a in answers]}: every page 200")
        with race_app.app_context():
            recorded = db.session.scalar(
                sa.select(sa.func.count(Activity.id)).where(
                    Activity.shared_deal_id == acme["shared"], Activity.summary == summary
                )
            )
        if recorded == 0:
            tally.lose(summary)
        elif recorded > 1:
            tally.duplicate(f"{recorded} × {summary!r}")
    tally.check()
