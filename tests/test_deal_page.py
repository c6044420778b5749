"""The deal page: your own deals only; another account's id is a 404 like a missing one.

Plain form posts redirect back (303) or answer 400/403/409 with the form and its
message; htmx gets 200 fragments, with the message in them on bad input.
"""

import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from models import Activity, Deal, DealRegistration, DealTeamMember, Product, SharedDeal, Stage
from services import activity as activity_service
from services import deal_fields, values
from tests.html import (
    alerts,
    button,
    buttons,
    by_label,
    checked,
    controls,
    field,
    field_value,
    fields,
    heading,
    headings,
    is_fragment,
    labels,
    link,
    links,
    list_items,
    page,
    region,
    table_rows,
    text,
    value,
)

HX = {"HX-Request": "true"}


def url(deal, path=""):
    deal_id = deal if isinstance(deal, int) else deal.id
    return f"/deals/{deal_id}{path}"


def vendor_deal(db_session, shared):
    return db_session.get(Deal, shared.vendor_deal_id)


def team_ids(db_session, shared):
    return set(
        db_session.scalars(
            sa.select(DealTeamMember.user_id).where(DealTeamMember.shared_deal_id == shared.id)
        )
    )


def product_id(db_session, name):
    return db_session.scalar(sa.select(Product.id).where(Product.name == name))


def registration_id(db_session, shared):
    return db_session.scalar(
        sa.select(DealRegistration.id).where(DealRegistration.shared_deal_id == shared.id)
    )


def team(scope):
    """The deal team's members by name, each with the account badge shown next to it."""
    return {
        text(member.select_one(".member-name")): member.select_one(".badge")
        for member in field(scope, "Deal team").find_all("li")
    }


def activity_entries(scope):
    """The activity entries listed in `scope` ("Rita Okafor changed …"), newest first."""
    return [entry for entry in list_items(scope) if entry != "Show more"]


def stage(db_session, account, pipeline_name, stage_name):
    from models import Pipeline

    return db_session.scalar(
        sa.select(Stage)
        .join(Pipeline, Pipeline.id == Stage.pipeline_id)
        .where(
            Pipeline.account_id == account.id,
            Pipeline.name == pipeline_name,
            Stage.name == stage_name,
        )
    )


# ------------------------------------------------------------------ the page


def test_deal_page_shows_the_deal(client, login_as, demo):
    login_as(demo.alice)
    doc = page(client.get(url(demo.acme)))
    assert heading(doc, 1) == "Acme Corp website relaunch"
    about = region(doc, "About this deal")
    assert field_value(about, "Pipeline") == "Sales pipeline"
    assert field_value(about, "Deal stage") == demo.acme.stage.name
    assert field_value(about, "Deal owner") == "Alice Martin"
    assert field_value(about, "Company") == demo.acme.company_name
    for label in ("Amount", "Close date", "Deal owner", "Company", "Pipeline", "Deal stage"):
        assert label in fields(about)
        # With JavaScript a button fetches the editor; without, a link opens it.
        assert button(about, f"Edit {label}") and link(about, f"Edit {label}")


def test_partner_sees_the_shared_deal_card(client, login_as, demo):
    login_as(demo.alice)
    doc = page(client.get(url(demo.acme)))
    card = region(doc, "Shared deal")
    assert field_value(card, "Vendor") == "Northwind Cloud"
    assert button(card, "Edit deal team") and link(card, "Edit deal team")
    members = team(card)
    assert sorted(members) == ["Alice Martin", "Rita Okafor"]
    assert text(members["Rita Okafor"]) == "Northwind Cloud"
    assert "vendor" in members["Rita Okafor"]["class"]
    assert text(members["Alice Martin"]) == "Brightside Agency"
    assert "partner" in members["Alice Martin"]["class"]
    assert field_value(card, "Product interest") == "Marketing Suite"
    assert button(card, "Edit product interest")
    registrations = region(card, "Deal registrations")
    assert [row["Status"] for row in table_rows(registrations.find("table"))] == ["Active"]
    assert buttons(registrations) == [] and controls(registrations) == []  # read-only
    assert field_value(card, "Next steps") == "Book a joint discovery call."
    assert "Activity" in headings(doc, 2) and activity_entries(region(doc, "Activity"))
    # The dialog lists only Alice's own account's users.
    dialog = region(card, "Edit deal team")
    assert dialog.name == "dialog"
    assert by_label(dialog, "Bob Nguyen")["type"] == "checkbox"
    assert "Rita Okafor" not in labels(dialog)


def test_vendor_sees_the_same_shared_deal_from_its_own_deal(client, login_as, demo, db_session):
    login_as(demo.rita)
    doc = page(client.get(url(vendor_deal(db_session, demo.acme_shared))))
    card = region(doc, "Shared deal")
    assert field_value(card, "Partner") == "Brightside Agency"
    registrations = region(card, "Deal registrations")
    registered = db_session.get(DealRegistration, registration_id(db_session, demo.acme_shared))
    deregister = link(
        registrations,
        "Deregister the registration of " + values.format_date(registered.registered_at),
    )
    assert text(deregister) == "Deregister"
    assert button(registrations, "Add registration")
    assert by_label(registrations, "Expiry date (optional)")["type"] == "date"
    dialog = region(card, "Edit deal team")
    assert "Victor Lindqvist" in labels(dialog) and "Alice Martin" not in labels(dialog)


def test_an_unshared_deal_has_no_shared_card(client, login_as, demo):
    login_as(demo.alice)
    doc = page(client.get(url(demo.initech)))
    assert heading(doc, 1) == "Initech SEO audit"
    assert "Shared deal" not in headings(doc) and "Edit deal team" not in buttons(doc)
    assert "Shared with" not in text(doc)


def test_activity_is_bounded_with_show_more(client, login_as, demo, db_session):
    for n in range(45):
        activity_service.record(demo.acme_shared, demo.rita, "note", f"note number {n}")
    db_session.commit()
    login_as(demo.alice)
    activity = region(page(client.get(url(demo.acme))), "Activity")
    entries = activity_entries(activity)
    assert len(entries) == 20 and link(activity, "Show more")
    assert note_numbers(entries) == list(range(44, 24, -1))  # the newest twenty
    # htmx: the next twenty in place of "Show more", the first to take focus and say so.
    more = client.get(link(activity, "Show more")["hx-get"], headers=HX)
    assert more.status_code == 200
    doc = page(more)
    assert note_numbers(activity_entries(doc)) == list(range(24, 4, -1))
    first = doc.find("li")
    assert first["tabindex"] == "-1" and first["data-loaded-more"] == "20 older entries shown"
    assert len(doc.select("[data-loaded-more]")) == 1 and doc.find("h1") is None
    # Without JavaScript the same link is a page: the deal's older activity, and its own
    # "Show more" on to the oldest, which ends with the shared deal's creation.
    older = page(client.get(link(doc, "Show more")["href"]))
    assert heading(older, 1) == "Activity: Acme Corp website relaunch"
    last = activity_entries(older)
    assert note_numbers(last) == [4, 3, 2, 1, 0] and "created the shared deal" in last[-1]
    assert "Show more" not in links(older) and not older.select("[data-loaded-more]")


def test_activity_page_in_french(client, login_as, demo, db_session):
    for n in range(25):
        activity_service.record(demo.acme_shared, demo.rita, "note", f"note number {n}")
    db_session.commit()
    login_as(demo.alice)
    demo.alice.language = "fr"
    db_session.commit()
    activity = region(page(client.get(url(demo.acme))), "Activité")
    assert link(activity, "Afficher plus")
    more = page(client.get(link(activity, "Afficher plus")["hx-get"], headers=HX))
    assert more.find("li")["data-loaded-more"].endswith("entrées plus anciennes affichées")


def test_activity_rows_escape_what_people_typed(client, login_as, demo, db_session):
    """The rows are written with autoescape off (deal_page/_activity_items.html): every
    name, sentence and value a person typed still reaches the page escaped."""
    from models import Account

    demo.rita.full_name = "<b>Rita</b> & 'co'"
    db_session.get(Account, demo.northwind.id).name = "<i>North</i>"
    activity_service.record(
        demo.acme_shared,
        demo.rita,
        "note",
        "changed the next steps",
        before="<script>x()</script>",
        after="a & b",
    )
    activity_service.record(
        demo.acme_shared, demo.rita, "team", "shared the deal with <i>North</i>"
    )
    activity_service.record(demo.acme_shared, None, "field", "<u>not a known sentence</u>")
    db_session.commit()
    login_as(demo.alice)
    response = client.get(url(demo.acme))
    raw = response.get_data(as_text=True)
    for tag in ("<b>Rita", "<i>North", "<script>x", "<u>not"):
        assert tag not in raw, tag
    entries = activity_entries(region(page(response), "Activity"))
    assert entries[0].startswith("Shared Deals <u>not a known sentence</u>")
    assert entries[1].startswith("<b>Rita</b> & 'co' shared the deal with <i>North</i>")
    assert "<script>x()</script> changed to a & b" in entries[2]
    avatars = page(response).select(".timeline-item .avatar")
    assert [a.get_text() for a in avatars[:3]] == ["⏱", "<&", "<&"]


def note_numbers(entries):
    return [int(m.group(1)) for e in entries if (m := re.search(r"note number (\d+)\b", e))]


def test_viewing_records_an_expired_registration_once(client, login_as, demo, db_session):
    globex = demo.deal(demo.brightside, "Globex CRM migration")
    login_as(demo.bob)
    entries = activity_entries(region(page(client.get(url(globex))), "Activity"))
    assert any(re.search(r"registration #\d+ expired", entry) for entry in entries)
    client.get(url(globex))
    assert (
        db_session.scalar(
            sa.select(sa.func.count(Activity.id)).where(Activity.action == "registration_expired")
        )
        == 1
    )


# ------------------------------------------------------------------ access


def all_routes(db_session, demo):
    reg = registration_id(db_session, demo.acme_shared)
    return [
        ("get", ""),
        ("get", "/fields/amount"),
        ("get", "/fields/amount/edit"),
        ("post", "/fields/amount"),
        ("get", "/team/edit"),
        ("post", "/team"),
        ("get", "/products"),
        ("get", "/products/edit"),
        ("post", "/products"),
        ("get", "/notes/next_steps"),
        ("get", "/notes/next_steps/edit"),
        ("post", "/notes/next_steps"),
        ("post", "/registrations"),
        ("post", f"/registrations/{reg}/deregistration"),
        ("get", "/activity"),
    ]


@pytest.mark.parametrize("who", ["rita", "hana"])
def test_every_route_of_another_accounts_deal_is_404(client, login_as, demo, db_session, who):
    # Rita is party to the shared deal, but reaches it only through her own deal id.
    login_as(getattr(demo, who))
    data = {"amount": "1", "members": [demo.hana.id], "products": [], "text": "x"}
    for method, path in all_routes(db_session, demo):
        for headers in ({}, HX):
            r = getattr(client, method)(url(demo.acme, path), data=data, headers=headers)
            assert r.status_code == 404, (method, path, headers)
    assert db_session.get(Deal, demo.acme.id).amount != Decimal("1")
    assert team_ids(db_session, demo.acme_shared) == {demo.alice.id, demo.rita.id}


def test_every_route_of_a_missing_deal_is_404(client, login_as, demo, db_session):
    login_as(demo.alice)
    for method, path in all_routes(db_session, demo):
        assert getattr(client, method)(url(987654, path)).status_code == 404, path


def test_shared_routes_of_an_unshared_deal_are_404(client, login_as, demo, db_session):
    login_as(demo.alice)
    for method, path in all_routes(db_session, demo)[4:]:
        assert getattr(client, method)(url(demo.initech, path)).status_code == 404, path


def test_unknown_field_or_note_is_404(client, login_as, demo):
    login_as(demo.alice)
    assert client.get(url(demo.acme, "/fields/account_id/edit")).status_code == 404
    assert client.post(url(demo.acme, "/fields/owner_id"), data={"x": "1"}).status_code == 404
    assert (
        client.post(url(demo.acme, "/notes/partner_deal_id"), data={"text": "3"}).status_code == 404
    )


def test_missing_csrf_token_is_400_and_changes_nothing(
    client, login_as, demo, db_session, csrf_enabled
):
    login_as(demo.alice)
    for method, path in all_routes(db_session, demo):
        if method == "post":
            r = client.post(url(demo.acme, path), data={"members": [demo.bob.id]})
            assert r.status_code == 400, path
    assert team_ids(db_session, demo.acme_shared) == {demo.alice.id, demo.rita.id}


def test_page_states_are_not_cached_and_vary_on_htmx(client, login_as, demo):
    login_as(demo.alice)
    r = client.get(url(demo.acme, "/fields/amount/edit"), headers=HX)
    assert "HX-Request" in r.headers["Vary"]


# ------------------------------------------------------------------ the deal's own fields


def test_edit_shows_the_editor_only_after_edit(client, login_as, demo):
    login_as(demo.alice)
    assert "Amount" not in controls(page(client.get(url(demo.acme))))
    fragment = page(client.get(url(demo.acme, "/fields/amount/edit"), headers=HX))
    # The editor replaces the field's row: same root id, and nothing of the page around it.
    assert is_fragment(fragment) and fragment.find(id="field-amount")
    assert by_label(fragment, "Amount")["name"] == "amount"
    assert fragment.select_one('input[type="hidden"][name="original"]')
    # Without JavaScript the same URL is the whole page with the editor open.
    doc = page(client.get(url(demo.acme, "/fields/amount/edit")))
    assert heading(doc, 1) == "Acme Corp website relaunch" and by_label(doc, "Amount")
    view = page(client.get(url(demo.acme, "/fields/amount"), headers=HX))
    assert view.find(id="field-amount") and "Amount" in fields(view)
    assert "Amount" not in controls(view)


def save(client, deal, key, data, headers=None):
    original = deal_fields.token(deal, key)
    return client.post(
        url(deal, f"/fields/{key}"), data={"original": original, **data}, headers=headers or {}
    )


def test_saving_an_amount(client, login_as, demo, db_session):
    login_as(demo.alice)
    r = save(client, demo.acme, "amount", {"amount": "12,500.50"})
    assert r.status_code == 303 and r.headers["Location"].endswith(
        f"/deals/{demo.acme.id}#field-amount"
    )
    assert db_session.get(Deal, demo.acme.id).amount == Decimal("12500.50")


def test_saving_with_htmx_returns_the_view_state(client, login_as, demo, db_session):
    login_as(demo.alice)
    r = save(client, demo.acme, "company", {"company": "Acme Holdings"}, HX)
    assert r.status_code == 200
    doc = page(r)
    assert is_fragment(doc) and field_value(doc, "Company") == "Acme Holdings"
    assert "Company" not in controls(doc)  # back to the view state
    assert db_session.get(Deal, demo.acme.id).company_name == "Acme Holdings"


def test_fields_outside_the_form_are_ignored(client, login_as, demo, db_session):
    login_as(demo.alice)
    save(
        client,
        demo.acme,
        "amount",
        {"amount": "10", "name": "Hacked", "account_id": demo.harbor.id, "owner": demo.bob.id},
    )
    deal = db_session.get(Deal, demo.acme.id)
    assert (deal.amount, deal.name, deal.account_id, deal.owner_id) == (
        Decimal("10.00"),
        "Acme Corp website relaunch",
        demo.brightside.id,
        demo.alice.id,
    )


@pytest.mark.parametrize(
    "key,value,message",
    [
        ("amount", "12abc", "Enter an amount like 1,500.50 or 1500.50."),
        ("amount", "-5", "The amount cannot be negative."),
        ("amount", "1.234", "Use at most two decimals, like 1,500.50."),
        ("amount", "1e309", "Enter an amount like 1,500.50 or 1500.50."),
        ("amount", "1500,50", "Enter an amount like 1,500.50 or 1500.50."),
        ("close_date", "31/12/2026", "That day does not exist."),
        ("close_date", "soon", "Enter a date like 12/31/2026 or 2026-12-31."),
        ("close_date", "9999-12-31", "Enter a date between 1900 and 2999."),
        ("owner", "99999999999999999999", "Choose an active user of your account."),
        ("owner", "rita", "Choose an active user of your account."),
        ("stage", "abc", "Choose a deal stage."),
    ],
)
def test_bad_values_get_a_message_and_change_nothing(
    client, login_as, demo, db_session, key, value, message
):
    login_as(demo.alice)
    before = deal_fields.token(demo.acme, key)
    r = save(client, demo.acme, key, {key: value})
    assert r.status_code == 400 and message in " ".join(alerts(page(r)))
    r = save(client, demo.acme, key, {key: value}, HX)
    assert r.status_code == 200 and message in " ".join(alerts(page(r)))
    assert deal_fields.token(db_session.get(Deal, demo.acme.id), key) == before


def test_owner_must_be_an_active_user_of_the_account(client, login_as, demo, db_session):
    login_as(demo.alice)
    assert save(client, demo.acme, "owner", {"owner": demo.rita.id}).status_code == 400
    demo.carol.active = False
    db_session.commit()
    assert save(client, demo.acme, "owner", {"owner": demo.carol.id}).status_code == 400
    assert save(client, demo.acme, "owner", {"owner": demo.bob.id}).status_code == 303
    assert db_session.get(Deal, demo.acme.id).owner_id == demo.bob.id


def test_stage_must_belong_to_the_chosen_pipeline(client, login_as, demo, db_session):
    login_as(demo.alice)
    referral = stage(db_session, demo.brightside, "Partner referrals", "Contacted")
    sales = stage(db_session, demo.brightside, "Sales pipeline", "Negotiation")
    foreign = stage(db_session, demo.harbor, "Partner referrals", "Working")
    # A stage of another pipeline, with or without the pipeline editor: refused.
    r = save(client, demo.acme, "stage", {"stage": referral.id})
    assert r.status_code == 400
    assert alerts(page(r)) == ["Choose a deal stage of the chosen pipeline."]
    r = save(client, demo.acme, "pipeline", {"pipeline": sales.pipeline_id, "stage": referral.id})
    assert r.status_code == 400
    r = save(client, demo.acme, "pipeline", {"pipeline": foreign.pipeline_id, "stage": foreign.id})
    assert r.status_code == 400
    assert alerts(page(r)) == ["Choose one of your account's pipelines."]
    deal = db_session.get(Deal, demo.acme.id)
    assert (deal.pipeline_id, deal.stage_id) != (referral.pipeline_id, referral.id)
    # The pipeline and one of its stages together: saved.
    r = save(
        client, demo.acme, "pipeline", {"pipeline": referral.pipeline_id, "stage": referral.id}
    )
    assert r.status_code == 303
    assert (
        save(client, db_session.get(Deal, demo.acme.id), "stage", {"stage": sales.id}).status_code
        == 400
    )
    deal = db_session.get(Deal, demo.acme.id)
    assert (deal.pipeline_id, deal.stage_id) == (referral.pipeline_id, referral.id)


def test_no_lost_edits_a_conflict_shows_the_current_value(client, login_as, demo, db_session):
    login_as(demo.alice)
    stale = deal_fields.token(demo.acme, "amount")
    # Bob saves first.
    db_session.get(Deal, demo.acme.id).amount = Decimal("777.00")
    db_session.commit()
    r = client.post(url(demo.acme, "/fields/amount"), data={"original": stale, "amount": "5"})
    doc = page(r)
    assert r.status_code == 409
    assert "Someone else changed Amount to “777.00”" in " ".join(alerts(doc))
    assert value(by_label(doc, "Amount")) == "5"  # what Alice typed, to keep or drop
    assert db_session.get(Deal, demo.acme.id).amount == Decimal("777.00")
    # htmx: the same message in a 200 fragment; the form now starts from the current value.
    r = client.post(
        url(demo.acme, "/fields/amount"), data={"original": stale, "amount": "5"}, headers=HX
    )
    doc = page(r)
    assert r.status_code == 200 and "Someone else changed Amount" in " ".join(alerts(doc))
    assert doc.select_one('input[type="hidden"][name="original"]')["value"] == "777.00"
    # Saving again from the current value replaces it.
    r = client.post(url(demo.acme, "/fields/amount"), data={"original": "777.00", "amount": "5"})
    assert r.status_code == 303 and db_session.get(Deal, demo.acme.id).amount == Decimal("5.00")


# ------------------------------------------------------------------ deal team


def test_team_save_applies_what_this_user_changed(client, login_as, demo, db_session):
    login_as(demo.alice)
    # Alice's dialog showed {Alice}; meanwhile Bob added Carol. Alice ticks Bob and saves.
    db_session.add(DealTeamMember(shared_deal_id=demo.acme_shared.id, user_id=demo.carol.id))
    db_session.commit()
    r = client.post(
        url(demo.acme, "/team"),
        data={"members": [demo.alice.id, demo.bob.id], "original_members": [demo.alice.id]},
    )
    assert r.status_code == 303 and r.headers["Location"].endswith("#shared-deal-card")
    assert team_ids(db_session, demo.acme_shared) == {
        demo.alice.id,
        demo.bob.id,
        demo.carol.id,
        demo.rita.id,
    }


def test_team_save_with_htmx_returns_the_dialog_and_the_team(client, login_as, demo, db_session):
    login_as(demo.alice)
    r = client.post(
        url(demo.acme, "/team"),
        data={"members": [demo.alice.id, demo.bob.id], "original_members": [demo.alice.id]},
        headers=HX,
    )
    doc = page(r)
    assert r.status_code == 200 and is_fragment(doc)
    # The dialog comes back closed, its form ticked as saved; the team row out of band.
    dialog = doc.find(id="team-dialog")
    assert not dialog.has_attr("open") and not dialog.has_attr("data-show-modal")
    assert sorted(checked(dialog, "members")) == ["Alice Martin", "Bob Nguyen"]
    row = doc.find(id="shared-team")
    assert row["hx-swap-oob"] == "true"
    assert sorted(team(row)) == ["Alice Martin", "Bob Nguyen", "Rita Okafor"]
    assert doc.find(id="shared-deal-card") is None
    # Only the change's own history row comes along, put at the top of the Activity list.
    (added,) = doc.select('[hx-swap-oob="afterbegin:#activity-list"]')
    assert len(activity_entries(added)) == 1
    assert "added Bob Nguyen to the deal team" in activity_entries(added)[0]
    # Not the whole card (~9 KB) nor the 50-row history: see test_deal_page_cost.py.


def test_a_save_that_changes_nothing_sends_no_history(client, login_as, demo, db_session):
    login_as(demo.alice)
    r = client.post(
        url(demo.acme, "/team"),
        data={"members": [demo.alice.id], "original_members": [demo.alice.id]},
        headers=HX,
    )
    assert r.status_code == 200
    assert not page(r).select("[hx-swap-oob*=activity]")


@pytest.mark.parametrize("who", ["rita", "hana", "inactive", "missing"])
def test_team_save_refuses_users_outside_your_account(client, login_as, demo, db_session, who):
    if who == "inactive":
        demo.carol.active = False
        db_session.commit()
        bad = demo.carol.id
    else:
        bad = 987654 if who == "missing" else getattr(demo, who).id
    login_as(demo.alice)
    data = {"members": [demo.alice.id, demo.bob.id, bad], "original_members": [demo.alice.id]}
    r = client.post(url(demo.acme, "/team"), data=data)
    assert r.status_code == 400
    assert alerts(page(r)) == ["Choose active users of your own account."]
    r = client.post(url(demo.acme, "/team"), data=data, headers=HX)
    dialog = region(page(r), "Edit deal team")
    assert r.status_code == 200 and alerts(dialog) == ["Choose active users of your own account."]
    assert dialog.has_attr("data-show-modal")  # the dialog opens again with the message
    assert team_ids(db_session, demo.acme_shared) == {demo.alice.id, demo.rita.id}


def test_partner_cannot_remove_the_vendors_member(client, login_as, demo, db_session):
    login_as(demo.alice)
    r = client.post(
        url(demo.acme, "/team"),
        data={"members": [demo.alice.id], "original_members": [demo.alice.id, demo.rita.id]},
    )
    assert r.status_code == 400
    assert team_ids(db_session, demo.acme_shared) == {demo.alice.id, demo.rita.id}


@pytest.mark.parametrize("field", ["members", "original_members"])
def test_team_ids_that_are_not_numbers_are_400(client, login_as, demo, db_session, field):
    login_as(demo.alice)
    r = client.post(url(demo.acme, "/team"), data={field: ["abc"]})
    assert r.status_code == 400
    assert team_ids(db_session, demo.acme_shared) == {demo.alice.id, demo.rita.id}


def test_team_page_without_javascript(client, login_as, demo):
    login_as(demo.alice)
    doc = page(client.get(url(demo.acme, "/team/edit")))
    assert heading(doc, 1) == "Edit deal team"
    form = region(doc, "Edit deal team")
    assert labels(form) == ["Alice Martin", "Bob Nguyen", "Carol Diaz"]
    assert checked(form, "members") == ["Alice Martin"]
    assert [i["value"] for i in form.select('input[name="original_members"]')] == [
        str(demo.alice.id)
    ]
    assert button(form, "Save") and link(form, "Cancel")


# ------------------------------------------------------------------ product interest


def test_product_interest_is_saved_by_either_party(client, login_as, demo, db_session):
    sales = product_id(db_session, "Sales Suite")
    marketing = product_id(db_session, "Marketing Suite")
    login_as(demo.alice)
    r = client.post(
        url(demo.acme, "/products"),
        data={"products": [marketing, sales], "original_products": [marketing]},
        headers=HX,
    )
    assert r.status_code == 200
    assert sorted(list_items(field(page(r), "Product interest"))) == [
        "Marketing Suite",
        "Sales Suite",
    ]
    login_as(demo.rita)
    r = client.post(
        url(vendor_deal(db_session, demo.acme_shared), "/products"),
        data={"products": [sales], "original_products": [marketing, sales]},
    )
    assert r.status_code == 303
    from services import product_interest

    assert [p.name for p in product_interest.products_of(demo.acme_shared)] == ["Sales Suite"]


def test_product_editor_words(client, login_as, demo):
    login_as(demo.alice)
    doc = page(client.get(url(demo.acme, "/products/edit"), headers=HX))
    group = doc.find("fieldset")
    assert text(group.find("legend")) == "Edit product interests"
    assert labels(group) == [
        "Marketing Suite",
        "Sales Suite",
        "Service Suite",
        "Content Suite",
        "Operations Suite",
    ]
    assert checked(group, "products") == ["Marketing Suite"]
    assert not doc.find("select")  # no multi-select, no Ctrl-click
    assert button(doc, "Edit product")["type"] == "submit"


def test_product_interest_is_a_dropdown_of_checkboxes_on_the_card(
    client, login_as, demo, db_session
):
    login_as(demo.alice)
    card = region(page(client.get(url(demo.acme))), "Shared deal")
    toggle = button(card, "Edit product interest")
    # A disclosure button controlling the closed list of real checkboxes (JavaScript opens it).
    assert toggle["aria-expanded"] == "false"
    dropdown = card.find(id=toggle["aria-controls"])
    assert dropdown.has_attr("hidden")
    assert text(dropdown.find("legend")) == "Edit product interests"
    assert checked(dropdown, "products") == ["Marketing Suite"]
    form = dropdown.find("form")
    assert [i["value"] for i in form.select('input[name="original_products"]')] == [
        "",
        str(product_id(db_session, "Marketing Suite")),
    ]
    # Without JavaScript, the Edit link opens the page with the checkboxes on it.
    edit_link = link(card, "Edit product interest")
    doc = page(client.get(edit_link["href"].split("#")[0]))
    editor = region(doc, "Shared deal").find(id="products-dropdown")
    assert not editor.has_attr("hidden") and checked(editor, "products") == ["Marketing Suite"]
    assert button(editor, "Edit product") and link(editor, "Cancel")


@pytest.mark.parametrize("bad", ["987654", "abc"])
def test_unknown_products_are_refused(client, login_as, demo, db_session, bad):
    login_as(demo.alice)
    r = client.post(url(demo.acme, "/products"), data={"products": [bad]})
    assert r.status_code == 400
    r = client.post(url(demo.acme, "/products"), data={"products": [bad]}, headers=HX)
    assert r.status_code == 200 and "Choose products from the vendor" in r.text
    from services import product_interest

    assert [p.name for p in product_interest.products_of(demo.acme_shared)] == ["Marketing Suite"]


# ------------------------------------------------------------------ registrations


def test_vendor_adds_and_deregisters_a_registration(client, login_as, demo, db_session):
    login_as(demo.rita)
    deal = vendor_deal(db_session, demo.acme_shared)
    expiry = (date.today() + timedelta(days=30)).isoformat()
    r = client.post(url(deal, "/registrations"), data={"expires_on": expiry}, headers=HX)
    registrations = region(page(r), "Deal registrations")
    assert r.status_code == 200 and "2 active" in text(registrations)
    assert [row["Status"] for row in table_rows(registrations.find("table"))] == [
        "Active",
        "Active",
    ]
    reg = registration_id(db_session, demo.acme_shared)
    r = client.post(url(deal, f"/registrations/{reg}/deregistration"))
    assert r.status_code == 303
    assert db_session.get(DealRegistration, reg).deregistered_at is not None


def test_the_card_shows_the_newest_registrations_and_the_page_all(
    client, login_as, demo, db_session
):
    """A deal registered again and again: the card shows the two newest registrations
    and requests, and every active registration besides, and links to the page of all; a
    save's answer stays small."""
    from services import registration_requests, registrations, shared_card

    shared = demo.acme_shared
    demo_active = registration_id(db_session, shared)
    ended = []
    for _ in range(5):
        ended.append(registrations.add(shared, demo.rita, None))
        registrations.deregister(shared, demo.rita, ended[-1])
    for n in range(4):  # declined requests need an unregistered deal: deregister, then ask
        registrations.deregister(shared, demo.rita, demo_active)
        request_id = registration_requests.request(shared, demo.alice, f"ask {n}")
        registration_requests.decline(shared, demo.rita, request_id, f"no {n}")
        demo_active = registrations.add(shared, demo.rita, None)
    total = db_session.scalar(
        sa.select(sa.func.count(DealRegistration.id)).where(
            DealRegistration.shared_deal_id == shared.id
        )
    )
    assert total == 10  # the demo's, five ended, four added after asking

    login_as(demo.rita)
    section = region(page(client.get(url(vendor_deal(db_session, shared)))), "Deal registrations")
    rows = table_rows(section.find("table"))
    assert [row["Status"] for row in rows] == ["Active", "Deregistered"]
    assert "1 active" in text(section)
    requests = section.select(".request-list li")
    assert [r.select_one(".request-message").get_text() for r in requests] == [
        "“ask 3”",
        "“ask 2”",
    ]
    history = link(section, "All registrations and requests")["href"]
    doc = page(client.get(history))
    assert heading(doc, 1) == "Deal registrations: Acme Corp website relaunch"
    assert len(table_rows(doc.find("table"))) == total
    assert len(doc.select(".request-list li")) == 4
    assert "Deregister" not in buttons(doc) + links(doc)  # read-only: actions are on the card

    # Every active registration stays on the card, however many ended after it.
    card = shared_card.card_for(demo.rita, shared)
    assert card.active_registrations == 1 and card.registrations_total == total
    for _ in range(4):
        registrations.deregister(shared, demo.rita, registrations.add(shared, demo.rita, None))
    card = shared_card.card_for(demo.rita, shared)
    assert [r.id for r in card.registrations if r.status == "active"] == [demo_active]
    assert len(card.registrations) == shared_card.CARD_HISTORY + 1  # the newest two, and it

    # A registration save answers with the bounded card: within 4 KB.
    added = client.post(url(vendor_deal(db_session, shared), "/registrations"), headers=HX)
    assert added.status_code == 200 and len(added.get_data()) <= 4 * 1024, len(added.get_data())

    # The partner reads the page too; another partner's user does not find it.
    login_as(demo.alice)
    assert heading(page(client.get(url(demo.acme, "/registrations"))), 1).startswith(
        "Deal registrations:"
    )
    login_as(demo.hana)
    assert client.get(url(demo.acme, "/registrations")).status_code == 404


def test_a_deal_with_few_registrations_has_no_history_link(client, login_as, demo):
    login_as(demo.rita)
    doc = page(client.get(url(demo.acme_shared.vendor_deal_id)))
    assert "All registrations and requests" not in links(region(doc, "Deal registrations"))


def test_partner_cannot_change_registrations(client, login_as, demo, db_session):
    login_as(demo.alice)
    reg = registration_id(db_session, demo.acme_shared)
    assert client.post(url(demo.acme, "/registrations"), data={}).status_code == 403
    assert client.post(url(demo.acme, f"/registrations/{reg}/deregistration")).status_code == 403
    assert db_session.get(DealRegistration, reg).deregistered_at is None


def test_registration_checks(client, login_as, demo, db_session):
    login_as(demo.rita)
    deal = vendor_deal(db_session, demo.acme_shared)
    yesterday = (date.today() - timedelta(days=1)).isoformat()
    r = client.post(url(deal, "/registrations"), data={"expires_on": yesterday})
    assert r.status_code == 400
    assert alerts(page(r)) == ["The expiry date cannot be in the past."]
    r = client.post(url(deal, "/registrations"), data={"expires_on": "soon"})
    assert r.status_code == 400
    other = db_session.scalar(
        sa.select(DealRegistration.id).where(DealRegistration.shared_deal_id != demo.acme_shared.id)
    )
    assert client.post(url(deal, f"/registrations/{other}/deregistration")).status_code == 404
    assert client.post(url(deal, "/registrations/987654/deregistration")).status_code == 404


# ------------------------------------------------------------------ shared notes


def test_notes_are_edited_by_both_parties_with_history(client, login_as, demo, db_session):
    login_as(demo.rita)
    deal = vendor_deal(db_session, demo.acme_shared)
    r = client.post(
        url(deal, "/notes/next_steps"),
        data={"text": "Demo on Tuesday.", "original": "Book a joint discovery call."},
        headers=HX,
    )
    doc = page(r)
    assert r.status_code == 200 and field_value(doc, "Next steps") == "Demo on Tuesday."
    (added,) = doc.select('[hx-swap-oob="afterbegin:#activity-list"]')
    assert "changed the next steps" in activity_entries(added)[0]
    row = db_session.scalar(sa.select(Activity).order_by(Activity.id.desc()))
    assert (row.before, row.after) == ("Book a joint discovery call.", "Demo on Tuesday.")
    # Alice, still looking at the old text, does not overwrite Rita's.
    login_as(demo.alice)
    r = client.post(
        url(demo.acme, "/notes/next_steps"),
        data={"text": "Send a proposal.", "original": "Book a joint discovery call."},
    )
    assert r.status_code == 409
    assert "Someone else changed Next steps" in " ".join(alerts(page(r)))
    assert db_session.get(SharedDeal, demo.acme_shared.id).next_steps == "Demo on Tuesday."
