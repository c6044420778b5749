"""The deal page: your own deals only; another account's id is a 404 like a missing one.

Plain form posts redirect back (303) or answer 400/403/409 with the form and its
message; htmx gets 200 fragments, with the message in them on bad input.
"""

from datetime import date, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from models import Activity, Deal, DealRegistration, DealTeamMember, Product, SharedDeal, Stage
from services import activity as activity_service
from services import deal_fields

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
    page = client.get(url(demo.acme)).get_data(as_text=True)
    assert "<h1>Acme Corp website relaunch</h1>" in page
    assert "<dt>Deal stage</dt>" in page and "<dt>Pipeline</dt>\n  <dd>Sales pipeline</dd>" in page
    for label in ("Amount", "Close date", "Deal owner", "Company"):
        assert f"<dt>{label}</dt>" in page
        assert f'aria-label="Edit {label}"' in page


def test_partner_sees_the_shared_deal_card(client, login_as, demo):
    login_as(demo.alice)
    page = client.get(url(demo.acme)).get_data(as_text=True)
    assert '<h2 id="shared-deal-heading">Shared deal</h2>' in page
    assert "<dt>Vendor</dt>\n      <dd>Northwind Cloud</dd>" in page
    assert "<dt>Deal team</dt>" in page and 'aria-label="Edit deal team"' in page
    assert '<span class="badge vendor">Northwind Cloud</span>' in page  # Rita's badge
    assert '<span class="badge partner">Brightside Agency</span>' in page  # Alice's
    assert "<dt>Product interest</dt>" in page and "Marketing Suite" in page
    assert 'aria-label="Edit product interest"' in page
    assert "Deal registrations" in page and ">Active</span>" in page
    assert "Add registration" not in page and "Deregister" not in page  # read-only
    assert "Book a joint discovery call." in page
    assert '<h2 id="activity-heading">Activity</h2>' in page
    # The dialog lists only Alice's own account's users.
    dialog = page[page.index('<dialog id="team-dialog"') :]
    assert 'aria-labelledby="team-dialog-title"' in page
    assert ">Bob Nguyen</label>" in dialog and ">Rita Okafor</label>" not in dialog


def test_vendor_sees_the_same_shared_deal_from_its_own_deal(client, login_as, demo, db_session):
    login_as(demo.rita)
    page = client.get(url(vendor_deal(db_session, demo.acme_shared))).get_data(as_text=True)
    assert "<dt>Partner</dt>\n      <dd>Brightside Agency</dd>" in page
    assert "Add registration" in page and ">Deregister</button>" in page
    dialog = page[page.index('<dialog id="team-dialog"') :]
    assert ">Victor Lindqvist</label>" in dialog and ">Alice Martin</label>" not in dialog


def test_an_unshared_deal_has_no_shared_card(client, login_as, demo):
    login_as(demo.alice)
    page = client.get(url(demo.initech)).get_data(as_text=True)
    assert "<h1>Initech SEO audit</h1>" in page and "Shared deal" not in page


def test_activity_is_bounded_with_show_more(client, login_as, demo, db_session):
    for n in range(55):
        activity_service.record(demo.acme_shared, demo.rita, "note", f"note number {n}")
    db_session.commit()
    login_as(demo.alice)
    page = client.get(url(demo.acme)).get_data(as_text=True)
    assert "note number 54" in page and "note number 5<" in page and "note number 4<" not in page
    assert page.count('class="timeline-item') == 50 and "Show more" in page
    oldest_shown = db_session.scalar(
        sa.select(Activity.id)
        .where(Activity.shared_deal_id == demo.acme_shared.id)
        .order_by(Activity.id.desc())
        .offset(49)
        .limit(1)
    )
    more = client.get(url(demo.acme, f"/activity?before={oldest_shown}"), headers=HX)
    text = more.get_data(as_text=True)
    assert (
        more.status_code == 200 and "note number 4<" in text and "created the shared deal" in text
    )
    assert "Show more" not in text


def test_viewing_records_an_expired_registration_once(client, login_as, demo, db_session):
    globex = demo.deal(demo.brightside, "Globex CRM migration")
    login_as(demo.bob)
    assert "registration #" in client.get(url(globex)).get_data(as_text=True)
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
    assert client.post(url(demo.acme, "/fields/name"), data={"name": "x"}).status_code == 404
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
    assert 'name="amount"' not in client.get(url(demo.acme)).get_data(as_text=True)
    fragment = client.get(url(demo.acme, "/fields/amount/edit"), headers=HX).get_data(as_text=True)
    assert fragment.startswith('\n<div class="field-row editing" id="field-amount">') or (
        'id="field-amount"' in fragment and "<html" not in fragment
    )
    assert 'name="amount"' in fragment and 'name="original"' in fragment
    # Without JavaScript the same URL is the whole page with the editor open.
    page = client.get(url(demo.acme, "/fields/amount/edit")).get_data(as_text=True)
    assert "<h1>Acme Corp website relaunch</h1>" in page and 'name="amount"' in page
    view = client.get(url(demo.acme, "/fields/amount"), headers=HX).get_data(as_text=True)
    assert 'id="field-amount"' in view and 'name="amount"' not in view


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
    body = r.get_data(as_text=True)
    assert r.status_code == 200 and "<dd>Acme Holdings</dd>" in body and "<html" not in body
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
        ("amount", "12abc", "Enter an amount as a number"),
        ("amount", "-5", "Enter an amount between"),
        ("amount", "1.234", "at most two decimals"),
        ("close_date", "31/12/2026", "Enter a date like"),
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
    assert r.status_code == 400 and message in r.get_data(as_text=True)
    r = save(client, demo.acme, key, {key: value}, HX)
    assert r.status_code == 200 and message in r.get_data(as_text=True)
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
    assert r.status_code == 400 and "Choose a deal stage of the chosen pipeline." in r.text
    r = save(client, demo.acme, "pipeline", {"pipeline": sales.pipeline_id, "stage": referral.id})
    assert r.status_code == 400
    r = save(client, demo.acme, "pipeline", {"pipeline": foreign.pipeline_id, "stage": foreign.id})
    assert r.status_code == 400 and "Choose one of your account&#39;s pipelines." in r.text
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
    text = r.get_data(as_text=True)
    assert r.status_code == 409
    assert "Someone else changed Amount to “777.00”" in text and 'value="5"' in text
    assert db_session.get(Deal, demo.acme.id).amount == Decimal("777.00")
    # htmx: the same message in a 200 fragment; the form now starts from the current value.
    r = client.post(
        url(demo.acme, "/fields/amount"), data={"original": stale, "amount": "5"}, headers=HX
    )
    assert r.status_code == 200 and "Someone else changed Amount" in r.text
    assert 'name="original" value="777.00"' in r.text
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


def test_team_save_with_htmx_returns_the_card(client, login_as, demo, db_session):
    login_as(demo.alice)
    r = client.post(
        url(demo.acme, "/team"),
        data={"members": [demo.alice.id, demo.bob.id], "original_members": [demo.alice.id]},
        headers=HX,
    )
    body = r.get_data(as_text=True)
    assert r.status_code == 200 and body.count('id="shared-deal-card"') == 1
    assert '<span class="member-name">Bob Nguyen</span>' in body
    assert 'hx-swap-oob="true"' in body and "added Bob Nguyen to the deal team" in body


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
    assert r.status_code == 400 and "Choose active users of your own account." in r.text
    r = client.post(url(demo.acme, "/team"), data=data, headers=HX)
    assert r.status_code == 200 and "Choose active users of your own account." in r.text
    assert "data-show-modal" in r.text  # the dialog opens again with the message
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
    page = client.get(url(demo.acme, "/team/edit")).get_data(as_text=True)
    assert '<h1 id="team-page-title">Edit deal team</h1>' in page
    assert 'name="original_members"' in page and ">Carol Diaz</label>" in page


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
    assert r.status_code == 200 and r.text.count('class="chip"') == 2
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
    r = client.get(url(demo.acme, "/products/edit"), headers=HX)
    assert '<label for="products-input">Edit product interests</label>' in r.text
    assert "multiple" in r.text and ">Edit product</button>" in r.text


@pytest.mark.parametrize("bad", ["987654", "abc"])
def test_unknown_products_are_refused(client, login_as, demo, db_session, bad):
    login_as(demo.alice)
    r = client.post(url(demo.acme, "/products"), data={"products": [bad]})
    assert r.status_code == 400
    r = client.post(url(demo.acme, "/products"), data={"products": [bad]}, headers=HX)
    assert r.status_code == (200 if bad.isdigit() else 400)
    from services import product_interest

    assert [p.name for p in product_interest.products_of(demo.acme_shared)] == ["Marketing Suite"]


# ------------------------------------------------------------------ registrations


def test_vendor_adds_and_deregisters_a_registration(client, login_as, demo, db_session):
    login_as(demo.rita)
    deal = vendor_deal(db_session, demo.acme_shared)
    expiry = (date.today() + timedelta(days=30)).isoformat()
    r = client.post(url(deal, "/registrations"), data={"expires_on": expiry}, headers=HX)
    assert r.status_code == 200 and "2 active" in r.text
    reg = registration_id(db_session, demo.acme_shared)
    r = client.post(url(deal, f"/registrations/{reg}/deregistration"))
    assert r.status_code == 303
    assert db_session.get(DealRegistration, reg).deregistered_at is not None


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
    assert r.status_code == 400 and "The expiry date cannot be in the past." in r.text
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
    assert (
        r.status_code == 200 and "Demo on Tuesday." in r.text and "changed the next steps" in r.text
    )
    row = db_session.scalar(sa.select(Activity).order_by(Activity.id.desc()))
    assert (row.before, row.after) == ("Book a joint discovery call.", "Demo on Tuesday.")
    # Alice, still looking at the old text, does not overwrite Rita's.
    login_as(demo.alice)
    r = client.post(
        url(demo.acme, "/notes/next_steps"),
        data={"text": "Send a proposal.", "original": "Book a joint discovery call."},
    )
    assert r.status_code == 409 and "Someone else changed Next steps" in r.text
    assert db_session.get(SharedDeal, demo.acme_shared.id).next_steps == "Demo on Tuesday."
