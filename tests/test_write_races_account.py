"""Races on what belongs to an account or a user: saved views, settings, creating shared
deals, notifications.

Several requests at the same moment (tests/races.py): one view per name (the others
hear "You already have a view named …"), a view changed and deleted at once ends
deleted with 404s for the late ones, every shared deal created is whole, nothing
answers 5xx. SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from extensions import db
from models import (
    AccountSettings,
    Activity,
    Deal,
    DealRegistration,
    DealTeamMember,
    Notification,
    Pipeline,
    SavedView,
    SharedDeal,
    Stage,
    User,
)
from services import saved_views, settings
from tests.races import ROUNDS, Tally, client_for, race, user_id

TAKEN = "You already have a view named"


@pytest.fixture(scope="module")
def tabs(race_app):
    """Three browser tabs of each user the races need: tabs["alice"][0..2]."""
    return {name: [client_for(race_app, name) for _ in range(3)] for name in ("alice", "rita")}


def _alice():
    return db.session.scalar(sa.select(User).where(User.email == "alice@brightside.example"))


def _views_named(app, owner_id, name):
    with app.app_context():
        return list(
            db.session.scalars(
                sa.select(SavedView.id).where(
                    SavedView.owner_id == owner_id, sa.func.lower(SavedView.name) == name.lower()
                )
            )
        )


def _new_view(app, name, query=""):
    with app.app_context():
        return saved_views.create(_alice(), name, "private", query).id


# ---------------------------------------------------------------- saved views


def test_save_view_with_one_name_at_once_makes_one_view(race_app, tabs):
    tally = Tally("saved view save")
    alice_id = user_id(race_app, "alice")
    for round_ in range(ROUNDS):
        names = [f"Race view {round_}", f"race VIEW {round_}", f"RACE view {round_}"]
        answers = race(
            [
                (tab, "/deals/views", {"name": name, "visibility": "private", "query": ""})
                for tab, name in zip(tabs["alice"], names, strict=True)
            ]
        )
        tally.count(answers)
        won = sum(a.status == 303 for a in answers)
        refused = sum(a.status == 422 and TAKEN in a.body for a in answers)
        tally.wins, tally.conflicts = tally.wins + won, tally.conflicts + refused
        if won != 1 or refused != 2:
            tally.wrong(f"answers {[a.status for a in answers]}: one 303, two 422 with {TAKEN!r}")
        made = len(_views_named(race_app, alice_id, names[0]))
        if made > 1:
            tally.duplicate(f"{made} views named {names[0]!r}")
        elif made < won:
            tally.lose("the saved view")
    tally.check()


def test_rename_two_views_to_one_name_at_once_keeps_names_unique(race_app, tabs):
    tally = Tally("saved view rename")
    alice_id = user_id(race_app, "alice")
    for round_ in range(ROUNDS):
        first, second = (
            _new_view(race_app, f"First {round_}"),
            _new_view(race_app, f"Second {round_}"),
        )
        target = f"Renamed {round_}"
        answers = race(
            [
                (tabs["alice"][0], f"/deals/views/{first}/rename", {"name": target}),
                (tabs["alice"][1], f"/deals/views/{second}/rename", {"name": target.upper()}),
            ]
        )
        tally.count(answers)
        won = sum(a.status == 303 for a in answers)
        refused = sum(a.status == 422 and TAKEN in a.body for a in answers)
        tally.wins, tally.conflicts = tally.wins + won, tally.conflicts + refused
        if won != 1 or refused != 1:
            tally.wrong(f"answers {[a.status for a in answers]}: one 303, one 422 with {TAKEN!r}")
        made = len(_views_named(race_app, alice_id, target))
        if made != 1:
            (tally.duplicate if made > 1 else tally.lose)(f"{made} views named {target!r}")
    tally.check()


def test_change_and_delete_one_view_at_once(race_app, tabs):
    """Rename, "Save changes" and delete at once: the view ends deleted, whichever came
    first; a change that came after the delete is a 404, never a 500 or a resurrection."""
    tally = Tally("saved view rename+update+delete")
    alice_id = user_id(race_app, "alice")
    for round_ in range(ROUNDS):
        view = _new_view(race_app, f"Doomed {round_}")
        answers = race(
            [
                (tabs["alice"][0], f"/deals/views/{view}/rename", {"name": f"Saved {round_}"}),
                (tabs["alice"][1], f"/deals/views/{view}", {"query": "q=race"}),
                (tabs["alice"][2], f"/deals/views/{view}/delete", {}),
            ]
        )
        tally.count(answers)
        tally.wins += sum(a.status == 303 for a in answers)
        if answers[2].status != 303 or any(a.status not in (303, 404) for a in answers[:2]):
            tally.wrong(f"answers {[a.status for a in answers]}: delete 303, the others 303/404")
        with race_app.app_context():
            if db.session.get(SavedView, view) is not None:
                tally.wrong("the deleted view is still there")
        if _views_named(race_app, alice_id, f"Saved {round_}"):
            tally.duplicate("a renamed copy of the deleted view")
    tally.check()


def test_delete_one_view_from_three_tabs_at_once(race_app, tabs):
    tally = Tally("saved view delete")
    for round_ in range(ROUNDS):
        view = _new_view(race_app, f"Deleted thrice {round_}")
        url = f"/deals/views/{view}/delete"
        answers = race([(tab, url, {}) for tab in tabs["alice"]])
        tally.count(answers)
        statuses = sorted(a.status for a in answers)
        tally.wins += statuses.count(303)
        if statuses != [303, 404, 404]:
            tally.wrong(f"answers {statuses}: one 303 (“View deleted”), then 404s")
    tally.check()


# ---------------------------------------------------------------- settings


def _northwind(app):
    with app.app_context():
        rita = db.session.scalar(sa.select(User).where(User.email == "rita@northwind.example"))
        pipelines = [p.id for p in settings.pipelines_of(rita.account_id)]
        return rita.account_id, pipelines


@pytest.mark.parametrize("never_set", [False, True], ids=["set", "never-set"])
def test_settings_saved_at_once(race_app, tabs, never_set):
    """Two admins' tabs save the referred pipeline at once: each is a whole save, the last
    one stays (the form shows no value to conflict with); one settings row, never a 500.
    `never_set`: the account's settings row does not exist yet, both saves create it."""
    tally = Tally(f"settings referred pipeline ({'never set' if never_set else 'set'})")
    account_id, pipelines = _northwind(race_app)
    chosen = [pipelines[i % len(pipelines)] for i in range(3)]
    url = "/settings/partners/shared-deals"
    for _ in range(ROUNDS):
        if never_set:
            with race_app.app_context():
                db.session.execute(
                    sa.delete(AccountSettings).where(AccountSettings.account_id == account_id)
                )
                db.session.commit()
        answers = race(
            [(tab, url, {"pipeline": pid}) for tab, pid in zip(tabs["rita"], chosen, strict=True)]
        )
        tally.count(answers)
        tally.wins += sum(a.status == 303 for a in answers)
        if any(a.status != 303 for a in answers):
            tally.wrong(f"answers {[a.status for a in answers]}: every save 303")
        with race_app.app_context():
            rows = list(
                db.session.scalars(
                    sa.select(AccountSettings.referred_pipeline_id).where(
                        AccountSettings.account_id == account_id
                    )
                )
            )
        if rows == [] or rows[0] not in chosen:
            tally.lose(f"every save: settings {rows}")
    with race_app.app_context():  # as the demo had it, for the other races
        partner_deals = db.session.scalar(
            sa.select(Pipeline.id).where(
                Pipeline.account_id == account_id, Pipeline.name == "Partner deals"
            )
        )
    tally.check()
    answers = race([(tabs["rita"][0], url, {"pipeline": partner_deals})])
    assert answers[0].status == 303


# ---------------------------------------------------------------- creating shared deals


def _form(who, round_, other_id, pipeline_id, stage_id):
    data = {
        "name": f"Race deal {who} {round_}",
        "amount": "1200",
        "close_date": "",
        "pipeline": pipeline_id,
        "stage": stage_id,
    }
    if who == "rita":
        return data | {"partner": other_id, "registration_expires_on": ""}
    return data | {
        "vendor": other_id,
        "intro_note": "Intro",
        "pain_or_opportunity": "Pain",
        "next_steps": "Next",
    }


def _first_pipeline_and_stage(account_id):
    pipeline = settings.pipelines_of(account_id)[0]
    stage = db.session.scalar(
        sa.select(Stage.id).where(Stage.pipeline_id == pipeline.id).order_by(Stage.position)
    )
    return pipeline.id, stage


def test_create_shared_deals_at_once_each_whole(race_app, tabs):
    """Alice, Bob and Rita create shared deals while Rita's other tab moves Northwind's
    referred pipeline: each deal is created once, whole, landing in a pipeline's own stage."""
    tally = Tally("create shared deal")
    bob = client_for(race_app, "bob")
    with race_app.app_context():
        alice, rita = (
            _alice(),
            db.session.scalar(sa.select(User).where(User.email.startswith("rita@"))),
        )
        vendor, partner = rita.account_id, alice.account_id
        partner_choice = _first_pipeline_and_stage(partner)
        vendor_choice = _first_pipeline_and_stage(vendor)
        northwind_pipelines = [p.id for p in settings.pipelines_of(vendor)]
    for round_ in range(ROUNDS):
        names = {"alice": f"Race deal alice {round_}", "bob": f"Race deal bob {round_}"}
        names["rita"] = f"Race deal rita {round_}"
        answers = race(
            [
                (tabs["alice"][0], "/deals/new", _form("alice", round_, vendor, *partner_choice)),
                (bob, "/deals/new", _form("bob", round_, vendor, *partner_choice)),
                (tabs["rita"][0], "/deals/new", _form("rita", round_, partner, *vendor_choice)),
                (
                    tabs["rita"][1],
                    "/settings/partners/shared-deals",
                    {"pipeline": northwind_pipelines[round_ % len(northwind_pipelines)]},
                ),
            ]
        )
        tally.count(answers)
        tally.wins += sum(a.status == 303 for a in answers)
        if any(a.status != 303 for a in answers):
            tally.wrong(f"answers {[a.status for a in answers]}: every post 303")
        with race_app.app_context():
            for name in names.values():
                _check_whole(tally, name)
    tally.check()


def test_sharing_one_deal_at_once_shares_it_once(race_app, tabs):
    """Alice (two tabs) and Bob press "Share with the vendor" on one unshared deal at once:
    it is shared once (one other deal, one shared deal, one history line); the late
    presses are sent back to the deal, told it is already shared."""
    tally = Tally("share an existing deal")
    bob = client_for(race_app, "bob")
    with race_app.app_context():
        alice = _alice()
        vendor = db.session.scalar(sa.select(User).where(User.email.startswith("rita@")))
        pipeline_id, stage_id = _first_pipeline_and_stage(alice.account_id)
        account_id, vendor_id = alice.account_id, vendor.account_id
    terms = {"vendor": vendor_id, "intro_note": "I", "pain_or_opportunity": "P", "next_steps": "N"}
    for round_ in range(ROUNDS):
        name = f"Race share {round_}"
        with race_app.app_context():
            deal = Deal(
                account_id=account_id, name=name, pipeline_id=pipeline_id, stage_id=stage_id
            )
            db.session.add(deal)
            db.session.commit()
            deal_id = deal.id
        url = f"/deals/{deal_id}/share"
        answers = race(
            [(tabs["alice"][2], url, terms), (bob, url, terms), (tabs["alice"][1], url, terms)]
        )
        tally.count(answers)
        tally.wins += sum(a.status == 303 for a in answers)
        if any(a.status != 303 for a in answers):
            tally.wrong(f"answers {[a.status for a in answers]}: every post 303 to the deal")
        with race_app.app_context():
            deals = db.session.scalar(sa.select(sa.func.count()).where(Deal.name == name))
            shared = list(
                db.session.scalars(
                    sa.select(SharedDeal).where(SharedDeal.partner_deal_id == deal_id)
                )
            )
            lines = (
                db.session.scalar(
                    sa.select(sa.func.count()).where(
                        Activity.shared_deal_id == shared[0].id, Activity.action == "shared"
                    )
                )
                if shared
                else 0
            )
            if len(shared) == 1:
                _check_parties(tally, name, shared[0])
        if not shared:
            tally.lose("the sharing")
        elif len(shared) > 1 or deals != 2 or lines != 1:
            tally.duplicate(f"{len(shared)} shared deals, {deals} deals, {lines} history lines")
    tally.check()


def test_language_switches_at_once_keep_one_choice(race_app, tabs):
    """Alice switches the language in three tabs at once: each answers 303, and the
    saved choice is one of those she made (the last to commit), never a 5xx."""
    tally = Tally("change language")
    choices = ("fr", "en", "fr")
    for round_ in range(ROUNDS):
        picks = choices[round_ % 3 :] + choices[: round_ % 3]
        answers = race(
            [
                (tab, "/language", {"language": pick, "next": "/deals"})
                for tab, pick in zip(tabs["alice"], picks, strict=True)
            ]
        )
        tally.count(answers)
        tally.wins += sum(a.status == 303 for a in answers)
        if any(a.status != 303 for a in answers):
            tally.wrong(f"answers {[a.status for a in answers]}: every post 303")
        with race_app.app_context():
            saved = _alice().language
        if saved not in picks:
            tally.lose(f"the choice: {saved!r} saved, {picks} chosen")
    with race_app.app_context():
        alice = _alice()
        alice.language = None
        db.session.commit()
    tally.check()


def _check_whole(tally: Tally, name: str) -> None:
    deals = list(db.session.scalars(sa.select(Deal).where(Deal.name == name)))
    if len(deals) != 2:
        (tally.duplicate if len(deals) > 2 else tally.lose)(f"{len(deals)} deals named {name!r}")
        return
    for deal in deals:
        if db.session.get(Stage, deal.stage_id).pipeline_id != deal.pipeline_id:
            tally.wrong(f"{name!r}: a deal in a stage of another pipeline")
    shared = db.session.scalar(
        sa.select(SharedDeal).where(SharedDeal.partner_deal_id.in_([d.id for d in deals]))
    )
    counts = [
        db.session.scalar(sa.select(sa.func.count()).where(column == shared.id))
        for column in (
            DealTeamMember.shared_deal_id,
            DealRegistration.shared_deal_id,
            Activity.shared_deal_id,
        )
    ]
    # A vendor's new deal is registered; a partner's starts unregistered (it asks later).
    registered = 1 if "rita" in name else 0
    if counts != [1, registered, 1]:
        tally.wrong(f"{name!r}: team, registrations, activity {counts}, not [1, {registered}, 1]")
    _check_parties(tally, name, shared)


def _check_parties(tally: Tally, name: str, shared: SharedDeal) -> None:
    """Both deals of `shared` hold the other party ("Shared with" reads it: migration 0020)."""
    held = {
        deal.id: deal.shared_with_account_id
        for deal in db.session.scalars(
            sa.select(Deal).where(Deal.id.in_([shared.partner_deal_id, shared.vendor_deal_id]))
        )
    }
    wanted = {
        shared.partner_deal_id: shared.vendor_account_id,
        shared.vendor_deal_id: shared.partner_account_id,
    }
    if held != wanted:
        tally.wrong(f"{name!r}: the deals hold the parties {held}, not {wanted}")


# ---------------------------------------------------------------- notifications


def _unread_of(app, uid):
    with app.app_context():
        return list(
            db.session.scalars(
                sa.select(Notification.id).where(
                    Notification.user_id == uid, Notification.read_at.is_(None)
                )
            )
        )


def _make_unread(app, uid):
    with app.app_context():
        db.session.execute(
            sa.update(Notification).where(Notification.user_id == uid).values(read_at=None)
        )
        db.session.commit()


def test_notifications_read_from_several_tabs_at_once(race_app, tabs):
    tally = Tally("notifications open + mark all read")
    alice_id = user_id(race_app, "alice")
    for _ in range(ROUNDS):
        _make_unread(race_app, alice_id)
        one = _unread_of(race_app, alice_id)[0]
        answers = race(
            [
                (tabs["alice"][0], f"/notifications/{one}/open", {}),
                (tabs["alice"][1], f"/notifications/{one}/open", {}),
                (tabs["alice"][2], "/notifications/read", {}),
            ]
        )
        tally.count(answers)
        tally.wins += sum(a.status == 303 for a in answers)
        if any(a.status != 303 for a in answers):
            tally.wrong(f"answers {[a.status for a in answers]}: every one 303")
        if left := _unread_of(race_app, alice_id):
            tally.lose(f"“mark all read”: {len(left)} still unread")
    tally.check()


# ---------------------------------------------------------------- logging in and out


def test_log_in_and_out_from_several_tabs_at_once(race_app):
    """Hana logs in from three browsers at once, then logs out of all three at once:
    every answer a redirect, and afterwards none of the three sessions works."""
    tally = Tally("log in + log out")
    credentials = {"email": "hana@harbor.example", "password": "shared-deals-demo"}
    for round_ in range(ROUNDS):
        browsers = [race_app.test_client() for _ in range(3)]
        if round_ == 0:  # the password check is slow on purpose (argon2): raced once
            logins = race([(browser, "/login", credentials) for browser in browsers])
        else:
            browsers = [client_for(race_app, "hana") for _ in range(3)]
            logins = []
        logged_in = [browser.get("/deals").status_code for browser in browsers]
        logouts = race([(browser, "/logout", {}) for browser in browsers])
        after = [browser.get("/deals").status_code for browser in browsers]
        tally.count(logins + logouts)
        tally.wins += sum(a.status == 303 for a in logins + logouts)
        # A tab whose session another tab's "Log out" already ended is sent to log in.
        out = [a.status == 303 or a.location.startswith("/login") for a in logouts]
        if any(a.status != 303 for a in logins) or logged_in != [200] * 3 or not all(out):
            statuses = [a.status for a in logins], logged_in, [a.status for a in logouts]
            tally.wrong(f"log in, then /deals, then log out: {statuses}")
        if after != [302] * 3:
            tally.lose(f"a log out: /deals answers {after} afterwards")
    tally.check()


# ---------------------------------------------------------------- nothing left out

RACED = {  # each POST route; a test in test_write_races_*.py races it
    "deal_page.field_save",
    "board.move",
    "card.note_save",
    "card.team_save",
    "card.products_save",
    "card.registration_add",
    "card.registration_deregister",
    "card.registration_request",
    "card.registration_approve",
    "card.registration_decline",
    "shared_deals.new",
    "shared_deals.share",
    "deals.create_view",
    "deals.rename_view",
    "deals.update_view",
    "deals.delete_view",
    "settings.shared_deals",
    "notifications.open_notification",
    "notifications.mark_all_read",
    "auth.login",
    "auth.logout",
    "auth.change_language",
}


def test_every_write_route_is_raced(race_app):
    """A new POST route fails this until a race test covers it and it is listed above."""
    posts = {r.endpoint for r in race_app.url_map.iter_rules() if "POST" in (r.methods or ())}
    assert posts == RACED
