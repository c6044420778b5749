"""Races on one deal's page: its fields, the shared notes, team, products, registrations.

Several users post at the same moment (tests/races.py). A write that starts from a
value the user saw (a field, a note) has one winner and conflicts for the others,
never two wins; a write that carries only its own changes (team, products) keeps
every one; nothing answers 5xx. SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from extensions import db
from models import (
    Activity,
    Deal,
    DealRegistration,
    DealTeamMember,
    Product,
    ProductInterest,
    SharedDeal,
    User,
)
from services import deal_fields, product_interest, registrations, shared_notes, team
from tests.races import (
    HTMX,
    ROUNDS,
    Tally,
    activity_count,
    client_for,
    conflict,
    race,
    saved,
)


@pytest.fixture(scope="module")
def acme(race_app):
    """Ids of the demo's Acme shared deal: partner deal, vendor deal, shared deal, users."""
    with race_app.app_context():
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


@pytest.fixture(scope="module")
def clients(race_app):
    return {
        name: client_for(race_app, name) for name in ("alice", "bob", "carol", "rita", "victor")
    }


def _user(name):
    return db.session.scalar(sa.select(User).where(User.email.startswith(name + "@")))


def _htmx_if(htmx):
    return HTMX if htmx else None


def _statuses(answers):
    return [f"{a.status}{' htmx saved' if a.trigger else ''}" for a in answers]


def _deal_of(acme, name):
    return acme["vendor_deal"] if name in ("rita", "victor") else acme["partner_deal"]


# ---------------------------------------------------------------- the deal's own fields


def _field_cases(app, acme):
    """Per field: (base value, [(form data, expected token)] for alice, bob and carol)."""
    users = acme["users"]
    with app.app_context():
        (p0, stages0), (p1, stages1), *_ = deal_fields.stages_by_pipeline(acme["partner_account"])
        s0 = [s.id for s in stages0]
        s1 = [s.id for s in stages1]
    assert len(s0) >= 4 and s1, "the demo's pipelines have the stages these races pick"
    return {
        "amount": (
            Decimal("1000"),
            [({"amount": f"{1000 + i}"}, f"{1000 + i}.00") for i in (1, 2, 3)],
        ),
        "close_date": (
            date(2027, 1, 1),
            [({"close_date": f"2027-02-0{i}"}, f"2027-02-0{i}") for i in (1, 2, 3)],
        ),
        "pipeline": (
            (p0.id, s0[0]),
            [
                ({"pipeline": p, "stage": s}, f"{p}:{s}")
                for p, s in ((p0.id, s0[1]), (p0.id, s0[2]), (p1.id, s1[0]))
            ],
        ),
        "stage": (s0[0], [({"stage": s}, str(s)) for s in s0[1:4]]),
        "owner": (
            None,
            [({"owner": users[n]}, str(users[n])) for n in ("alice", "bob", "carol")],
        ),
        "company": (
            "Base company",
            [({"company": f"Race company {i}"}, f"Race company {i}") for i in (1, 2, 3)],
        ),
    }


def _set_field(app, acme, key, value):
    """Put the field back to `value` (no check) and return its token: the round's `original`."""
    with app.app_context():
        alice = _user("alice")
        if key == "stage":  # the stages raced are those of the first pipeline
            pipeline = db.session.get(Deal, acme["partner_deal"]).pipeline_id
            first = deal_fields.stages_by_pipeline(acme["partner_account"])[0][0].id
            if pipeline != first:
                deal_fields.update(alice, acme["partner_deal"], "pipeline", (first, value), None)
        deal_fields.update(alice, acme["partner_deal"], key, value, None)
        return deal_fields.token(db.session.get(Deal, acme["partner_deal"]), key)


def _token(app, acme, key):
    with app.app_context():
        return deal_fields.token(db.session.get(Deal, acme["partner_deal"]), key)


@pytest.mark.parametrize("key", list(deal_fields.FIELDS))
def test_same_field_at_once_one_wins_the_others_conflict(race_app, acme, clients, key):
    base, cases = _field_cases(race_app, acme)[key]
    tally = Tally(f"field {key}")
    url = f"/deals/{acme['partner_deal']}/fields/{key}"
    names = ("alice", "bob", "carol")
    for round_ in range(ROUNDS):
        original = _set_field(race_app, acme, key, base)
        # One of the three, in turn, edits in place (htmx); the others post plain forms.
        answers = race(
            [
                (clients[n], url, {**data, "original": original}, _htmx_if(i == round_ % 3))
                for i, (n, (data, _)) in enumerate(zip(names, cases, strict=True))
            ]
        )
        tally.count(answers)
        won = [i for i, a in enumerate(answers) if saved(a)]
        refused = [a for a in answers if conflict(a)]
        tally.wins += len(won)
        tally.conflicts += len(refused)
        if len(won) != 1 or len(refused) != len(answers) - 1:
            tally.wrong(f"answers {_statuses(answers)}: one saved, the others a conflict")
        stored = _token(race_app, acme, key)
        for i in won:  # a change answered 303 must be the one stored
            if cases[i][1] != stored:
                tally.lose(f"{names[i]}'s change, answered 303 (stored {stored!r})")
    tally.check()


# ---------------------------------------------------------------- shared notes


@pytest.mark.parametrize("key", list(shared_notes.NOTES))
def test_same_note_at_once_one_wins_the_others_conflict(race_app, acme, clients, key):
    tally = Tally(f"note {key}")
    names = ("alice", "bob", "rita")  # both parties edit the notes
    for round_ in range(ROUNDS):
        with race_app.app_context():
            shared = db.session.get(SharedDeal, acme["shared"])
            shared_notes.update(shared, _user("alice"), key, f"Base note {round_}", None)
        notes_before = activity_count(race_app, acme["shared"], "note")
        texts = [f"{name}'s {key}, round {round_}" for name in names]
        answers = race(
            [
                (
                    clients[n],
                    f"/deals/{_deal_of(acme, n)}/notes/{key}",
                    {"text": text, "original": f"Base note {round_}"},
                    _htmx_if(i == round_ % 3),
                )
                for i, (n, text) in enumerate(zip(names, texts, strict=True))
            ]
        )
        tally.count(answers)
        won = [i for i, a in enumerate(answers) if saved(a)]
        refused = [a for a in answers if conflict(a)]
        tally.wins += len(won)
        tally.conflicts += len(refused)
        if len(won) != 1 or len(refused) != len(answers) - 1:
            tally.wrong(f"answers {_statuses(answers)}: one saved, the others a conflict")
        with race_app.app_context():
            stored = getattr(db.session.get(SharedDeal, acme["shared"]), key)
        for i in won:
            if texts[i] != stored:
                tally.lose(f"{names[i]}'s note, answered 303")
        recorded = activity_count(race_app, acme["shared"], "note") - notes_before
        if recorded != len(won):
            tally.duplicate(f"history: {recorded} note activities for {len(won)} change(s)")
    tally.check()


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
            current = team.member_ids_of(shared, _user(actor).account_id)
            team.apply_changes(shared, _user(actor), wanted - current, current - wanted)
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
                    f"/deals/{_deal_of(acme, who)}/team",
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
            product_interest.apply_changes(shared, _user("alice"), {p[0]} - now, now - {p[0]})
        history_before = activity_count(race_app, acme["shared"], "products")
        answers = race(
            [
                (
                    clients[who],
                    f"/deals/{_deal_of(acme, who)}/products",
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
            registration_id = registrations.add(shared, _user("rita"), None).id
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


def test_two_users_same_field_same_original_never_both_win(race_app, acme, clients):
    """Issue 8's lost update: on PostgreSQL both got 303 and one change was gone, because
    the row lock's result was not read (the stale object was compared). One 303, one 409."""
    tally = Tally("field amount, two users")
    url = f"/deals/{acme['partner_deal']}/fields/amount"
    for _ in range(ROUNDS):
        original = _set_field(race_app, acme, "amount", Decimal("500"))
        # Both opened the editor: the page's own read of the deal is in each session.
        answers = race(
            [
                (clients["alice"], url, {"amount": "501", "original": original}),
                (clients["bob"], url, {"amount": "502", "original": original}),
            ]
        )
        tally.count(answers)
        statuses = sorted(a.status for a in answers)
        tally.wins += statuses.count(303)
        tally.conflicts += statuses.count(409)
        if statuses != [303, 409]:
            tally.wrong(f"answers {statuses}: one 303 and one 409")
        stored = _token(race_app, acme, "amount")
        for answer, sent in zip(answers, ("501.00", "502.00"), strict=True):
            if answer.status == 303 and stored != sent:
                tally.lose(f"{sent}, answered 303")
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
            [(clients[n], f"/deals/{_deal_of(acme, n)}", None) for n in ("alice", "bob", "rita")]
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
