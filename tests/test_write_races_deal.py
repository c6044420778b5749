"""Races on one deal's own fields and its shared notes.

Several users post the same field (or note) at the same moment, each from the value
their editor showed (tests/races.py): one change wins, the others hear that someone
else changed it (409, or htmx's fragment saying so), never two wins and a lost
change, never a 5xx. SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
import sqlalchemy as sa

from extensions import db
from models import Deal, SharedDeal
from services import deal_fields, shared_notes
from tests.races import (
    HTMX,
    ROUNDS,
    Tally,
    acme_ids,
    activity_count,
    conflict,
    deal_of,
    demo_user,
    logged_in_clients,
    race,
    saved,
)
from tests.test_board_counts import (
    exact_amount_counts,
    exact_counts,
    kept_amount_counts,
    kept_counts,
)


@pytest.fixture(scope="module")
def acme(race_app):
    return acme_ids(race_app)


@pytest.fixture(scope="module")
def clients(race_app):
    return logged_in_clients(race_app)


def _htmx_if(htmx):
    return HTMX if htmx else None


def _statuses(answers):
    return [f"{a.status}{' htmx saved' if a.trigger else ''}" for a in answers]


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
        "name": (
            "Acme Corp website relaunch",
            [({"name": f"Acme relaunch {i}"}, f"Acme relaunch {i}") for i in (1, 2, 3)],
        ),
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
        alice = demo_user("alice")
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
    # Leave the field at its base: the name's is the demo's, which other race modules
    # find the Acme deal by (tests/races.acme_ids), whatever order they run in.
    _set_field(race_app, acme, key, base)
    tally.check()


# ---------------------------------------------------------------- shared notes


@pytest.mark.parametrize("key", list(shared_notes.NOTES))
def test_same_note_at_once_one_wins_the_others_conflict(race_app, acme, clients, key):
    tally = Tally(f"note {key}")
    names = ("alice", "bob", "rita")  # both parties edit the notes
    for round_ in range(ROUNDS):
        with race_app.app_context():
            shared = db.session.get(SharedDeal, acme["shared"])
            shared_notes.update(shared, demo_user("alice"), key, f"Base note {round_}", None)
        notes_before = activity_count(race_app, acme["shared"], "note")
        texts = [f"{name}'s {key}, round {round_}" for name in names]
        answers = race(
            [
                (
                    clients[n],
                    f"/deals/{deal_of(acme, n)}/notes/{key}",
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


def test_both_parties_edit_a_shared_amount_at_once(race_app, acme, clients):
    """The amount is shared: Alice (partner) and Rita (vendor) edit it on their own deals
    from the same value. One wins on both deals; the other is told, not overwritten."""
    tally = Tally("shared amount, both parties")
    for round_ in range(ROUNDS):
        original = _set_field(race_app, acme, "amount", Decimal("700"))
        sent = {"alice": f"{710 + round_}", "rita": f"{720 + round_}"}
        answers = race(
            [
                (
                    clients[n],
                    f"/deals/{deal_of(acme, n)}/fields/amount",
                    {"amount": sent[n], "original": original},
                )
                for n in ("alice", "rita")
            ]
        )
        tally.count(answers)
        statuses = sorted(a.status for a in answers)
        tally.wins += statuses.count(303)
        tally.conflicts += statuses.count(409)
        if statuses != [303, 409]:
            tally.wrong(f"answers {statuses}: one 303 and one 409")
        with race_app.app_context():
            amounts = {
                db.session.get(Deal, acme[side]).amount for side in ("partner_deal", "vendor_deal")
            }
        if len(amounts) != 1:
            tally.wrong(f"the two deals disagree: {amounts}")
        for answer, n in zip(answers, ("alice", "rita"), strict=True):
            if answer.status == 303 and amounts != {Decimal(sent[n])}:
                tally.lose(f"{n}'s {sent[n]}, answered 303 (stored {amounts})")
    tally.check()


def test_board_moves_at_once_one_wins_the_others_conflict(race_app, acme, clients):
    """Three people drag the same card to different columns of a board that showed the
    same stage: one move stands, the others are told; one history line."""
    base, cases = _field_cases(race_app, acme)["stage"]
    tally = Tally("board move")
    url = f"/deals/{acme['partner_deal']}/move"
    names = ("alice", "bob", "carol")
    for round_ in range(ROUNDS):
        original = _set_field(race_app, acme, "stage", base)
        lines_before = activity_count(race_app, acme["shared"], "stage")
        answers = race(
            [
                (
                    clients[n],
                    url,
                    {**data, "original": original, "query": "layout=board"},
                    _htmx_if(i == round_ % 3),
                )
                for i, (n, (data, _)) in enumerate(zip(names, cases, strict=True))
            ]
        )
        tally.count(answers)
        won = [i for i, a in enumerate(answers) if saved(a)]
        refused = [a for a in answers if a.status == 409 or conflict(a)]
        tally.wins += len(won)
        tally.conflicts += len(refused)
        if len(won) != 1 or len(refused) != len(answers) - 1:
            tally.wrong(f"answers {_statuses(answers)}: one moved, the others a conflict")
        stored = _token(race_app, acme, "stage")
        for i in won:
            if cases[i][1] != stored:
                tally.lose(f"{names[i]}'s move, answered as saved (stored {stored!r})")
        recorded = activity_count(race_app, acme["shared"], "stage") - lines_before
        if recorded != len(won):
            tally.duplicate(f"history: {recorded} stage lines for {len(won)} move(s)")
    tally.check()


# ---------------------------------------------------------------- the board's counts


def _counts_exact(app) -> str | None:
    """None when deal_counts and deal_amount_counts add up to the deals
    (tests/test_board_counts), else the gap."""
    with app.app_context():
        pairs = (kept_counts(), exact_counts()), (kept_amount_counts(), exact_amount_counts())
    for kept, exact in pairs:
        if kept != exact:
            wrong = {k: (kept.get(k), exact.get(k)) for k in kept.keys() | exact.keys()}
            gap = {k: v for k, v in wrong.items() if v[0] != v[1]}
            return f"counts (kept, exact) differ: {gap}"
    return None


def _two_deals_of(app, owner: str) -> tuple[list[int], list[int]]:
    """Two unshared deals of `owner`'s in their account's first pipeline, and its stages."""
    with app.app_context():
        user = demo_user(owner)
        (pipeline, stages), *_ = deal_fields.stages_by_pipeline(user.account_id)
        deals = db.session.scalars(
            sa.select(Deal.id)
            .where(
                Deal.owner_id == user.id,
                Deal.pipeline_id == pipeline.id,
                Deal.id.not_in(sa.select(SharedDeal.partner_deal_id)),
            )
            .order_by(Deal.id)
            .limit(2)
        ).all()
    assert len(deals) == 2 and len(stages) >= 2
    return list(deals), [s.id for s in stages]


def test_moves_across_each_other_keep_the_counts(race_app, clients):
    """Two moves at once, A -> B and B -> A, of two deals of the same owner: each touches
    both columns' counts of that owner. Both moves stand, no 5xx, and the counts still
    equal a GROUP BY over the deals (insert-only deltas: no row for them to deadlock on)."""
    tally = Tally("board moves A->B and B->A")
    (first, second), stages = _two_deals_of(race_app, "alice")
    for round_ in range(ROUNDS):
        a, b = stages[round_ % 2], stages[2 + round_ % 2] if len(stages) > 3 else stages[1]
        with race_app.app_context():
            alice = demo_user("alice")
            deal_fields.update(alice, first, "stage", a, None)
            deal_fields.update(alice, second, "stage", b, None)
        answers = race(
            [
                (
                    clients[n],
                    f"/deals/{deal}/move",
                    {"stage": to, "original": str(start), "query": "layout=board"},
                    _htmx_if(i == round_ % 2),
                )
                for i, (n, deal, start, to) in enumerate(
                    (("alice", first, a, b), ("bob", second, b, a))
                )
            ]
        )
        tally.count(answers)
        won = [a for a in answers if saved(a)]
        tally.wins += len(won)
        if len(won) != 2:
            tally.wrong(f"answers {_statuses(answers)}: both moves saved")
        gap = _counts_exact(race_app)
        if gap:
            tally.lose(gap)
    tally.check()


def test_shared_amounts_of_two_deals_from_both_sides_keep_the_counts(race_app, clients):
    """Alice (partner) and Rita (vendor) edit the amounts of two different shared deals
    at once: each edit writes both parties' deals, in opposite account orders. Both
    stand, no 5xx, and the counts equal a GROUP BY over the deals."""
    tally = Tally("shared amounts, two deals, both sides")
    with race_app.app_context():
        pairs = db.session.execute(
            sa.select(SharedDeal.partner_deal_id, SharedDeal.vendor_deal_id)
            .join(Deal, Deal.id == SharedDeal.partner_deal_id)
            .where(Deal.account_id == demo_user("alice").account_id)
            .order_by(SharedDeal.id)
            .limit(2)
        ).all()
    assert len(pairs) == 2, "the demo has two shared deals of Brightside's"
    (alices, _), (_, ritas) = pairs
    for round_ in range(ROUNDS):
        answers = race(
            [
                (clients["alice"], f"/deals/{alices}/fields/amount", {"amount": f"{800 + round_}"}),
                (clients["rita"], f"/deals/{ritas}/fields/amount", {"amount": f"{900 + round_}"}),
            ]
        )
        tally.count(answers)
        won = [a for a in answers if saved(a)]
        tally.wins += len(won)
        if len(won) != 2:
            tally.wrong(f"answers {_statuses(answers)}: both saved")
        gap = _counts_exact(race_app)
        if gap:
            tally.lose(gap)
    tally.check()
