"""Sharing an existing deal over HTTP, and product interest on the create form."""

import pytest
import sqlalchemy as sa

from models import Deal, Product, SharedDeal
from services import product_interest, shared_deals
from tests.html import (
    alerts,
    button,
    by_label,
    checked,
    heading,
    labels,
    link,
    links,
    page,
    region,
    statuses,
)
from tests.test_services_sharing import unshared_vendor_deal
from tests.test_shared_deals_create import PRODUCTS, partner_form

NOTES = {"intro_note": "Met their CTO.", "pain_or_opportunity": "Slow.", "next_steps": "Call."}


def share_url(deal):
    return f"/deals/{deal.id}/share"


def product_id(db_session, name):
    return db_session.scalar(sa.select(Product.id).where(Product.name == name))


def shared_count(db_session):
    return db_session.scalar(sa.select(sa.func.count(SharedDeal.id)))


def test_an_unshared_deal_offers_sharing_by_side(client, login_as, demo, db_session):
    login_as(demo.alice)
    doc = page(client.get(f"/deals/{demo.initech.id}"))
    assert link(doc.find("main"), "Share with the vendor")["href"] == share_url(demo.initech)
    login_as(demo.rita)
    deal = unshared_vendor_deal(db_session, demo)
    assert link(page(client.get(f"/deals/{deal.id}")).find("main"), "Share with a partner")
    login_as(demo.alice)
    assert not any(  # a shared deal does not offer it
        name.startswith("Share with") for name in links(page(client.get(f"/deals/{demo.acme.id}")))
    )


def test_the_partners_share_form_asks_what_creation_asks(client, login_as, demo):
    login_as(demo.alice)
    doc = page(client.get(share_url(demo.initech)))
    assert heading(doc, 1) == "Share with the vendor"
    assert "Initech SEO audit" in doc.find("main").get_text()
    assert labels(button(doc, "Share with the vendor").find_parent("form")) == [
        "Vendor",
        *PRODUCTS,
        "Intro note",
        "Specific pain/opportunity defined",
        "Next steps",
    ]
    assert button(doc, "Share with the vendor")["type"] == "submit"


def test_the_vendors_share_form(client, login_as, demo, db_session):
    login_as(demo.victor)
    doc = page(client.get(share_url(unshared_vendor_deal(db_session, demo))))
    assert heading(doc, 1) == "Share with a partner"
    form = button(doc, "Share with a partner").find_parent("form")
    assert labels(form) == ["Partner", "Registration expires on", *PRODUCTS]


def test_partner_shares_without_javascript(client, login_as, demo, db_session):
    login_as(demo.bob)
    service = product_id(db_session, "Service Suite")
    data = {"vendor": demo.northwind.id, "products": [service], **NOTES}
    r = client.post(share_url(demo.initech), data=data)
    assert r.status_code == 303 and r.headers["Location"].endswith(f"/deals/{demo.initech.id}")
    doc = page(client.get(r.headers["Location"]))
    assert "Deal shared with Northwind Cloud." in statuses(doc)
    card = region(doc, "Shared deal")
    assert "Service Suite" in card.get_text()
    shared = shared_deals.shared_deal_of(demo.initech.id)
    assert [p.name for p in product_interest.products_of(shared)] == ["Service Suite"]


def test_vendor_shares_with_a_partner(client, login_as, demo, db_session):
    login_as(demo.rita)
    deal = unshared_vendor_deal(db_session, demo)
    r = client.post(share_url(deal), data={"partner": demo.harbor.id})
    assert r.status_code == 303
    shared = shared_deals.shared_deal_of(deal.id)
    assert shared.partner_account_id == demo.harbor.id


def test_bad_input_is_422_with_messages_and_changes_nothing(client, login_as, demo, db_session):
    login_as(demo.alice)
    before = shared_count(db_session)
    sales = product_id(db_session, "Sales Suite")
    r = client.post(share_url(demo.initech), data={"vendor": "", "products": [sales]})
    assert r.status_code == 422
    doc = page(r)
    assert alerts(doc) == ["Nothing was shared. Check the fields marked below."]
    assert "Choose the vendor from the list." in doc.get_text()
    assert "Write an intro note for the vendor." in doc.get_text()
    assert checked(doc, "products") == ["Sales Suite"]  # what was ticked stays ticked
    r = client.post(
        share_url(demo.initech), data={"vendor": demo.northwind.id, **NOTES, "products": ["987654"]}
    )
    assert r.status_code == 422 and "Choose products from the vendor" in r.text
    assert shared_count(db_session) == before


@pytest.mark.parametrize("method", ["get", "post"])
def test_an_already_shared_deal_says_so_and_changes_nothing(
    client, login_as, demo, db_session, method
):
    login_as(demo.alice)
    before = shared_count(db_session)
    data = {"vendor": demo.northwind.id, **NOTES}
    r = getattr(client, method)(share_url(demo.acme), data=data)
    assert r.status_code == 303 and r.headers["Location"].endswith(f"/deals/{demo.acme.id}")
    doc = page(client.get(r.headers["Location"]))
    assert "This deal is already shared: nothing was changed." in statuses(doc)
    assert shared_count(db_session) == before


@pytest.mark.parametrize("method", ["get", "post"])
def test_another_accounts_deal_is_404(client, login_as, demo, db_session, method):
    login_as(demo.hana)  # Harbor Digital; Initech is Brightside's
    before = shared_count(db_session)
    r = getattr(client, method)(
        share_url(demo.initech), data={"vendor": demo.northwind.id, **NOTES}
    )
    assert r.status_code == 404
    assert client.get("/deals/987654/share").status_code == 404
    assert shared_count(db_session) == before


def test_missing_csrf_token_is_400(client, login_as, demo, db_session, csrf_enabled):
    login_as(demo.alice)
    before = shared_count(db_session)
    r = client.post(share_url(demo.initech), data={"vendor": demo.northwind.id, **NOTES})
    assert r.status_code == 400
    assert shared_count(db_session) == before
    form = button(page(client.get(share_url(demo.initech))), "Share with the vendor").find_parent(
        "form"
    )
    assert form.find("input", attrs={"name": "csrf_token"})["value"]


def test_create_with_product_interest(client, login_as, demo, db_session):
    login_as(demo.alice)
    content = product_id(db_session, "Content Suite")
    r = client.post("/deals/new", data=partner_form(db_session, demo, products=[content]))
    assert r.status_code == 303
    deal_id = int(r.headers["Location"].rsplit("/", 1)[1])
    shared = shared_deals.shared_deal_of(deal_id)
    assert [p.name for p in product_interest.products_of(shared)] == ["Content Suite"]
    assert db_session.get(Deal, shared.vendor_deal_id).name == "Gringotts vault portal"


def test_create_keeps_the_ticked_products_after_an_error(client, login_as, demo, db_session):
    login_as(demo.alice)
    content = product_id(db_session, "Content Suite")
    r = client.post("/deals/new", data=partner_form(db_session, demo, products=[content], name=""))
    assert r.status_code == 422
    assert checked(page(r), "products") == ["Content Suite"]
    r = client.post("/deals/new", data=partner_form(db_session, demo, products=["x"]))
    assert r.status_code == 422
    assert "Choose products from the vendor" in r.text
    assert by_label(page(r), "Deal name")["value"] == "Gringotts vault portal"
