"""Flow 6 over HTTP: the "Create shared deal" form, for partner users and vendor reps."""

import pytest
import sqlalchemy as sa

from models import Deal, DealRegistration, Pipeline, SharedDeal, Stage
from tests.html import (
    alerts,
    button,
    by_label,
    description,
    heading,
    is_fragment,
    labels,
    link,
    options,
    page,
    selected,
    statuses,
    text,
    value,
)

URL = "/deals/new"
PRODUCTS = ["Marketing Suite", "Sales Suite", "Service Suite", "Content Suite", "Operations Suite"]


def pipeline(db_session, account, name):
    return db_session.scalar(
        sa.select(Pipeline).where(Pipeline.account_id == account.id, Pipeline.name == name)
    )


def first_stage(db_session, pipeline_):
    return db_session.scalar(
        sa.select(Stage).where(Stage.pipeline_id == pipeline_.id).order_by(Stage.position)
    )


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
    doc = page(client.get("/deals"))
    assert link(doc, "Create shared deal")["href"] == "/deals/new"


def test_partner_form_has_the_designs_labels(client, login_as, demo):
    login_as(demo.alice)
    r = client.get(URL)
    assert r.status_code == 200
    doc = page(r)
    assert heading(doc, 1) == "Create shared deal"
    assert labels(doc.find("main")) == [
        "Deal name",
        "Amount",
        "Close date",
        "Vendor",
        *PRODUCTS,
        "Pipeline",
        "Deal stage",
        "Intro note",
        "Specific pain/opportunity defined",
        "Next steps",
    ]
    vendor = by_label(doc, "Vendor")  # the one vendor, already chosen
    assert options(vendor) == ["Northwind Cloud"] == selected(vendor)
    assert vendor.find("option", selected=True)["value"] == str(demo.northwind.id)
    # Only Brightside's own pipelines, and the first one's stages.
    pipelines = options(by_label(doc, "Pipeline"))
    assert "Partner referrals" in pipelines and "Partner deals" not in pipelines
    stages = options(by_label(doc, "Deal stage"))
    assert "Discovery" in stages and "New referral" not in stages
    assert button(doc, "Create shared deal")["type"] == "submit"


def test_vendor_form_has_the_designs_labels(client, login_as, demo):
    login_as(demo.rita)
    doc = page(client.get(URL))
    assert labels(doc.find("main")) == [
        "Deal name",
        "Amount",
        "Close date",
        "Partner",
        "Registration expires on",
        *PRODUCTS,
        "Pipeline",
        "Deal stage",
    ]
    partners = options(by_label(doc, "Partner"))
    assert "Brightside Agency" in partners and "Harbor Digital" in partners
    assert "Northwind Cloud" not in partners
    assert "Intro note" not in text(doc)


def test_partner_creates_one_and_lands_on_its_page(client, login_as, demo, db_session):
    login_as(demo.alice)
    r = client.post(URL, data=partner_form(db_session, demo))
    assert r.status_code == 303
    deal_id = int(r.headers["Location"].rsplit("/", 1)[1])
    shared = db_session.scalar(sa.select(SharedDeal).where(SharedDeal.partner_deal_id == deal_id))
    assert shared is not None and shared.vendor_account_id == demo.northwind.id
    doc = page(client.get(r.headers["Location"]))
    assert heading(doc, 1) == "Gringotts vault portal"
    assert "Shared deal created." in statuses(doc)


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
    "text amount": ("partner", {"amount": "ten"}, "Enter an amount like 1,500.50 or 1500.50."),
    "NaN amount": ("partner", {"amount": "NaN"}, "Enter an amount like 1,500.50 or 1500.50."),
    "huge amount": ("partner", {"amount": "1e309"}, "Enter an amount like 1,500.50 or 1500.50."),
    "too large": ("partner", {"amount": "1000000000000"}, "The amount is at most"),
    "three decimals": ("partner", {"amount": "1.005"}, "Use at most two decimals"),
    "bad date": ("partner", {"close_date": "2026-13-01"}, "That day does not exist."),
    "not a date": ("partner", {"close_date": "next week"}, "Enter a date like 12/31/2026"),
    "date out of range": ("partner", {"close_date": "0001-01-01"}, "Enter a date between"),
    "long name": ("partner", {"name": "x" * 201}, "Keep the deal name under 200 characters."),
    "blank pain": (
        "partner",
        {"pain_or_opportunity": " "},
        "Describe the specific pain or opportunity.",
    ),
    "missing next steps": ("partner", {"next_steps": ""}, "Give the next steps."),
    "text pipeline": ("partner", {"pipeline": "abc"}, "Choose one of your account's pipelines."),
    "huge pipeline id": (
        "partner",
        {"pipeline": "99999999999999999999"},
        "Choose one of your account's pipelines.",
    ),
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
        "Choose one of your account's pipelines.",
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
    doc = page(r)
    assert alerts(doc)[0].startswith("Nothing was created.")
    # The message is the described field's own, read out with it.
    control = doc.find(["input", "select", "textarea"], attrs={"name": next(iter(changes))})
    assert message in description(control) and control["aria-invalid"] == "true"
    after = shared_deal_count(db_session), db_session.scalar(sa.select(sa.func.count(Deal.id)))
    assert after == before


def test_what_was_typed_is_kept_after_an_error(client, login_as, demo, db_session):
    login_as(demo.alice)
    doc = page(client.post(URL, data=partner_form(db_session, demo, amount="-1")))
    assert value(by_label(doc, "Deal name")) == "Gringotts vault portal"
    assert value(by_label(doc, "Amount")) == "-1"
    assert value(by_label(doc, "Intro note")) == "Referred by a customer."


def test_stage_options_follow_the_pipeline(client, login_as, demo, db_session):
    login_as(demo.alice)
    referrals = pipeline(db_session, demo.brightside, "Partner referrals")
    r = client.get(
        f"{URL}/stages", query_string={"pipeline": referrals.id}, headers={"HX-Request": "true"}
    )
    assert r.status_code == 200
    doc = page(r)
    # Only the stage field, which replaces the one in the form (outerHTML on #stage-field).
    assert is_fragment(doc)
    assert [node.get("id") for node in doc.body.find_all(recursive=False)] == ["stage-field"]
    stages = options(by_label(doc, "Deal stage"))
    assert "New referral" in stages and "Discovery" not in stages


@pytest.mark.parametrize("value", ["HARBOR", "abc", "", "99999999999999999999"])
def test_stage_options_of_a_foreign_pipeline_are_refused(client, login_as, demo, db_session, value):
    if value == "HARBOR":
        value = str(pipeline(db_session, demo.harbor, "Sales pipeline").id)
    login_as(demo.alice)
    r = client.get(f"{URL}/stages", query_string={"pipeline": value})
    assert r.status_code == 200  # htmx swaps 2xx only: the message must arrive
    stage = by_label(page(r), "Deal stage")
    assert description(stage) == "Choose one of your account's pipelines."
    assert options(stage) == []


def test_the_pipeline_select_asks_htmx_for_stage_options(client, login_as, demo):
    login_as(demo.alice)
    doc = page(client.get(URL))
    select = by_label(doc, "Pipeline")
    assert (select["hx-get"], select["hx-target"]) == ("/deals/new/stages", "#stage-field")
    assert doc.find(id="stage-field").find(id=by_label(doc, "Deal stage")["id"])


def test_missing_csrf_token_is_400(client, login_as, demo, db_session, csrf_enabled):
    login_as(demo.alice)
    before = shared_deal_count(db_session)
    r = client.post(URL, data=partner_form(db_session, demo))
    assert r.status_code == 400
    assert shared_deal_count(db_session) == before


def test_the_form_carries_a_csrf_token(client, login_as, demo, csrf_enabled):
    login_as(demo.alice)
    form = button(page(client.get(URL)), "Create shared deal").find_parent("form")
    assert form.find("input", attrs={"type": "hidden", "name": "csrf_token"})["value"]


def test_logged_out_users_are_sent_to_log_in(client):
    r = client.get(URL)
    assert r.status_code == 302 and "/login" in r.headers["Location"]
