"""Flow 6 over HTTP: the "Create shared deal" form, for partner users and vendor reps."""

import re

import pytest
import sqlalchemy as sa

from models import Deal, DealRegistration, Pipeline, SharedDeal, Stage

URL = "/deals/new"


def pipeline(db_session, account, name):
    return db_session.scalar(
        sa.select(Pipeline).where(Pipeline.account_id == account.id, Pipeline.name == name)
    )


def first_stage(db_session, pipeline_):
    return db_session.scalar(
        sa.select(Stage).where(Stage.pipeline_id == pipeline_.id).order_by(Stage.position)
    )


def labels(page):
    return re.findall(r'<label for="[^"]+">([^<]+)</label>', page)


def partner_form(db_session, demo, **changes):
    sales = pipeline(db_session, demo.brightside, "Sales pipeline")
    return {
        "name": "Gringotts vault portal",
        "amount": "32000",
        "close_date": "2026-10-01",
        "vendor": str(demo.northwind.id),
        "pipeline": str(sales.id),
        "stage": str(first_stage(db_session, sales).id),
        "intro_note": "Referred by a customer.",
        "pain_or_opportunity": "Their portal is slow.",
        "next_steps": "Scope workshop.",
        **changes,
    }


def vendor_form(db_session, demo, **changes):
    sales = pipeline(db_session, demo.northwind, "Sales pipeline")
    return {
        "name": "Oscorp renewal",
        "amount": "9000",
        "close_date": "2026-08-01",
        "partner": str(demo.harbor.id),
        "pipeline": str(sales.id),
        "stage": str(first_stage(db_session, sales).id),
        **changes,
    }


def shared_deal_count(db_session):
    return db_session.scalar(sa.select(sa.func.count(SharedDeal.id)))


def test_deals_index_has_the_create_button(client, login_as, demo):
    login_as(demo.bob)
    page = client.get("/deals").get_data(as_text=True)
    assert re.search(r'<a class="button primary" href="/deals/new">.*Create shared deal</a>', page)


def test_partner_form_has_the_designs_labels(client, login_as, demo):
    login_as(demo.alice)
    r = client.get(URL)
    assert r.status_code == 200
    page = r.get_data(as_text=True)
    assert "<h1>Create shared deal</h1>" in page
    assert labels(page) == [
        "Deal name",
        "Amount",
        "Close date",
        "Vendor",
        "Pipeline",
        "Deal stage",
        "Intro note",
        "Specific pain/opportunity defined",
        "Next steps",
    ]
    assert f'<option selected value="{demo.northwind.id}">Northwind Cloud</option>' in page
    # Only Brightside's own pipelines, and the first one's stages.
    assert ">Partner referrals</option>" in page and ">Partner deals</option>" not in page
    assert ">Discovery</option>" in page and ">New referral</option>" not in page
    assert '<button type="submit" class="primary">Create shared deal</button>' in page


def test_vendor_form_has_the_designs_labels(client, login_as, demo):
    login_as(demo.rita)
    page = client.get(URL).get_data(as_text=True)
    assert labels(page) == [
        "Deal name",
        "Amount",
        "Close date",
        "Partner",
        "Registration expires on",
        "Pipeline",
        "Deal stage",
    ]
    assert ">Brightside Agency</option>" in page and ">Harbor Digital</option>" in page
    assert ">Northwind Cloud</option>" not in page
    assert "Intro note" not in page


def test_partner_creates_one_and_lands_on_its_page(client, login_as, demo, db_session):
    login_as(demo.alice)
    r = client.post(URL, data=partner_form(db_session, demo))
    assert r.status_code == 303
    deal_id = int(r.headers["Location"].rsplit("/", 1)[1])
    shared = db_session.scalar(sa.select(SharedDeal).where(SharedDeal.partner_deal_id == deal_id))
    assert shared is not None and shared.vendor_account_id == demo.northwind.id
    page = client.get(r.headers["Location"]).get_data(as_text=True)
    assert "<h1>Gringotts vault portal</h1>" in page
    assert "Shared deal created." in page


def test_vendor_creates_one_for_a_partner(client, login_as, demo, db_session):
    login_as(demo.victor)
    r = client.post(URL, data=vendor_form(db_session, demo, registration_expires_on="2099-01-31"))
    assert r.status_code == 303
    deal_id = int(r.headers["Location"].rsplit("/", 1)[1])
    shared = db_session.scalar(sa.select(SharedDeal).where(SharedDeal.vendor_deal_id == deal_id))
    assert shared.partner_account_id == demo.harbor.id
    registration = db_session.scalar(
        sa.select(DealRegistration).where(DealRegistration.shared_deal_id == shared.id)
    )
    assert registration.registered_by_id == demo.victor.id
    assert registration.expires_on.isoformat() == "2099-01-31"


def test_posted_account_and_owner_fields_are_ignored(client, login_as, demo, db_session):
    login_as(demo.alice)
    r = client.post(
        URL,
        data=partner_form(
            db_session, demo, account_id=demo.harbor.id, owner_id=demo.hana.id, partner="1"
        ),
    )
    deal = db_session.get(Deal, int(r.headers["Location"].rsplit("/", 1)[1]))
    assert (deal.account_id, deal.owner_id) == (demo.brightside.id, demo.alice.id)


BAD = {
    "missing name": ("partner", {"name": ""}, "Enter the deal name."),
    "negative amount": ("partner", {"amount": "-100"}, "The amount cannot be negative."),
    "text amount": (
        "partner",
        {"amount": "ten"},
        "Enter the amount as a number, like 12500 or 12500.50.",
    ),
    "bad date": ("partner", {"close_date": "2026-13-01"}, "Enter a date like 2026-03-31."),
    "partner picks a partner": (
        "partner",
        {"vendor": "HARBOR"},
        "Choose the vendor from the list.",
    ),
    "vendor picks the vendor": (
        "vendor",
        {"partner": "NORTHWIND"},
        "Choose a partner from the list.",
    ),
    "unknown partner": ("vendor", {"partner": "987654"}, "Choose a partner from the list."),
    "missing intro note": ("partner", {"intro_note": ""}, "Write an intro note for the vendor."),
    "stage of another pipeline": (
        "partner",
        {"stage": "REFERRALS_STAGE"},
        "Choose a stage of the Sales pipeline pipeline.",
    ),
    "pipeline of another account": (
        "partner",
        {"pipeline": "HARBOR_PIPELINE"},
        "Choose one of your account&#39;s pipelines.",
    ),
    "past expiry": (
        "vendor",
        {"registration_expires_on": "2001-01-01"},
        "The expiry date cannot be in the past.",
    ),
}


@pytest.mark.parametrize("case", BAD, ids=list(BAD))
def test_bad_input_is_422_with_a_message_and_changes_nothing(
    client, login_as, demo, db_session, case
):
    side, changes, message = BAD[case]
    placeholders = {
        "HARBOR": str(demo.harbor.id),
        "NORTHWIND": str(demo.northwind.id),
        "REFERRALS_STAGE": str(
            first_stage(db_session, pipeline(db_session, demo.brightside, "Partner referrals")).id
        ),
        "HARBOR_PIPELINE": str(pipeline(db_session, demo.harbor, "Sales pipeline").id),
    }
    changes = {k: placeholders.get(v, v) for k, v in changes.items()}
    user, form = (
        (demo.alice, partner_form(db_session, demo, **changes))
        if side == "partner"
        else (demo.rita, vendor_form(db_session, demo, **changes))
    )
    before = shared_deal_count(db_session), db_session.scalar(sa.select(sa.func.count(Deal.id)))
    login_as(user)
    r = client.post(URL, data=form)
    assert r.status_code == 422
    page = r.get_data(as_text=True)
    assert 'role="alert">Nothing was created.' in page
    field = next(iter(changes))
    assert re.search(rf'<p class="field-error" id="{field}-error">{re.escape(message)}</p>', page)
    assert f'aria-describedby="{field}-error"' in page or f"{field}-help {field}-error" in page
    after = shared_deal_count(db_session), db_session.scalar(sa.select(sa.func.count(Deal.id)))
    assert after == before


def test_what_was_typed_is_kept_after_an_error(client, login_as, demo, db_session):
    login_as(demo.alice)
    page = client.post(URL, data=partner_form(db_session, demo, amount="-1")).get_data(as_text=True)
    assert 'value="Gringotts vault portal"' in page
    assert "Referred by a customer.</textarea>" in page


def test_stage_options_follow_the_pipeline(client, login_as, demo, db_session):
    login_as(demo.alice)
    referrals = pipeline(db_session, demo.brightside, "Partner referrals")
    r = client.get(
        f"{URL}/stages", query_string={"pipeline": referrals.id}, headers={"HX-Request": "true"}
    )
    assert r.status_code == 200
    fragment = r.get_data(as_text=True)
    assert fragment.lstrip().startswith('<div class="field" id="stage-field">')
    assert ">New referral</option>" in fragment and ">Discovery</option>" not in fragment


@pytest.mark.parametrize("value", ["HARBOR", "abc", "", "99999999999999999999"])
def test_stage_options_of_a_foreign_pipeline_are_refused(client, login_as, demo, db_session, value):
    if value == "HARBOR":
        value = str(pipeline(db_session, demo.harbor, "Sales pipeline").id)
    login_as(demo.alice)
    r = client.get(f"{URL}/stages", query_string={"pipeline": value})
    assert r.status_code == 200  # htmx swaps 2xx only: the message must arrive
    fragment = r.get_data(as_text=True)
    assert "Choose one of your account&#39;s pipelines." in fragment
    assert "<option" not in fragment


def test_the_pipeline_select_asks_htmx_for_stage_options(client, login_as, demo):
    login_as(demo.alice)
    page = client.get(URL).get_data(as_text=True)
    select = re.search(r'<select [^>]*id="pipeline"[^>]*>', page).group(0)
    assert 'hx-get="/deals/new/stages"' in select and 'hx-target="#stage-field"' in select


def test_missing_csrf_token_is_400(client, login_as, demo, db_session, csrf_enabled):
    login_as(demo.alice)
    before = shared_deal_count(db_session)
    r = client.post(URL, data=partner_form(db_session, demo))
    assert r.status_code == 400
    assert shared_deal_count(db_session) == before


def test_the_form_carries_a_csrf_token(client, login_as, demo, csrf_enabled):
    login_as(demo.alice)
    page = client.get(URL).get_data(as_text=True)
    assert re.search(r'<input id="csrf_token" name="csrf_token" type="hidden" value="[^"]+">', page)


def test_logged_out_users_are_sent_to_log_in(client):
    r = client.get(URL)
    assert r.status_code == 302 and "/login" in r.headers["Location"]
