"""Flows 4 and 5 in a browser, as DESIGN.md words them: a shared property edited by one
party reaches the other (who is notified); a partner asks for a registration, a vendor
rep approves it, and the deal is among the partner's "Registered deals"; "Deregister"
asks first, also without JavaScript.
"""

import re

import sqlalchemy as sa
from playwright.sync_api import expect

from extensions import db
from models import Deal, SharedDeal
from tests.e2e.deal_helpers import acme_url

BELL = re.compile(r"^Notifications, (\d+) unread$")


def _unread(page) -> int:
    return int(BELL.match(page.get_by_role("link", name=BELL).get_attribute("aria-label"))[1])


def _deal_ids(app, name):
    """(partner deal id, vendor deal id) of the demo's shared deal `name`."""
    with app.app_context():
        return db.session.execute(
            sa.select(SharedDeal.partner_deal_id, SharedDeal.vendor_deal_id)
            .join(Deal, Deal.id == SharedDeal.partner_deal_id)
            .where(Deal.name == name)
        ).one()


def test_alice_edits_the_amount_and_rita_sees_it_and_is_notified(
    page, live_server, fresh_app, log_in, browser
):
    rita = page
    log_in("rita@northwind.example", rita)
    rita.goto(acme_url(live_server, fresh_app, "Northwind Cloud"))
    unread_before = _unread(rita)

    alice = browser.new_context().new_page()
    log_in("alice@brightside.example", alice)
    alice.goto(acme_url(live_server, fresh_app))
    row = alice.locator("#field-amount")
    alice.get_by_role("button", name="Edit Amount").click()
    alice.get_by_label("Amount", exact=True).fill("250,000")
    row.get_by_role("button", name="Save").click()
    expect(row).to_contain_text("250,000.00")
    expect(alice.locator("#deal-header")).to_contain_text("250,000.00")
    newest = alice.locator("#activity-list > li").first
    expect(newest).to_contain_text("changed the amount")
    expect(newest.locator(".after")).to_have_text("250,000.00")
    alice.context.close()

    rita.reload()
    expect(rita.locator("#field-amount")).to_contain_text("250,000.00")
    expect(rita.locator("#shared-other-stage")).to_be_visible()  # "Their stage"
    assert _unread(rita) == unread_before + 1
    rita.get_by_role("link", name=BELL).click()
    newest = rita.get_by_role("list", name="Notifications, newest first").get_by_role("listitem")
    expect(newest.first).to_contain_text("Alice Martin")
    expect(newest.first).to_contain_text("changed the amount")
    expect(newest.first).to_contain_text("Acme Corp website relaunch")


def test_the_deal_name_edited_without_javascript_reaches_the_other_party(
    no_js_page, live_server, fresh_app, log_in, browser
):
    page = no_js_page
    log_in("rita@northwind.example", page)
    page.goto(acme_url(live_server, fresh_app, "Northwind Cloud"))
    page.get_by_role("link", name="Edit Deal name").click()
    page.get_by_label("Deal name", exact=True).fill("   ")
    page.locator("#field-name").get_by_role("button", name="Save").click()
    expect(page.locator("#field-name")).to_contain_text("Enter the deal name")
    page.get_by_label("Deal name", exact=True).fill("Acme Corp relaunch, phase 2")
    page.locator("#field-name").get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Acme Corp relaunch, phase 2")

    alice = browser.new_context().new_page()
    log_in("alice@brightside.example", alice)
    alice.goto(f"{live_server}/deals?q=phase+2")
    alice.get_by_role("link", name="Acme Corp relaunch, phase 2").click()
    expect(alice.get_by_role("heading", level=1)).to_have_text("Acme Corp relaunch, phase 2")
    expect(alice.locator("#activity-list > li").first).to_contain_text(
        "Rita Okafor changed the deal name"
    )
    alice.context.close()


def test_partner_requests_vendor_approves_and_it_is_a_registered_deal(
    page, live_server, fresh_app, log_in, browser
):
    # Harbor's Cyberdyne deal in the demo: its last request was declined; Hana asks again.
    partner_deal, vendor_deal = _deal_ids(fresh_app, "Cyberdyne analytics rollout")
    log_in("hana@harbor.example", page)
    page.goto(f"{live_server}/deals/{partner_deal}")
    section = page.locator("#shared-registrations")
    expect(section).to_contain_text("Not registered.")
    page.get_by_label("Message (optional)").fill("Their board signs off in March.")
    page.get_by_role("button", name="Request registration").click()
    expect(section).to_contain_text("Registration requested; waiting for the vendor.")
    expect(section.get_by_role("button", name="Request registration")).to_have_count(0)
    expect(page.locator("#activity")).to_contain_text("requested a registration")

    rita = browser.new_context().new_page()
    log_in("rita@northwind.example", rita)
    rita.get_by_role("link", name="Registration requests").click()
    expect(rita).to_have_url(re.compile(r"view=requests"))
    rita.get_by_role("link", name="Cyberdyne analytics rollout").click()
    expect(rita).to_have_url(re.compile(rf"/deals/{vendor_deal}$"))
    registrations = rita.locator("#shared-registrations")
    expect(registrations).to_contain_text("Their board signs off in March.")
    registrations.get_by_role("button", name="Approve").click()
    expect(registrations).to_contain_text("1 active")
    expect(registrations.get_by_role("button", name="Approve")).to_have_count(0)
    rita.context.close()

    page.goto(f"{live_server}/deals")
    page.get_by_role("link", name="Registered deals").click()
    expect(page.get_by_role("link", name="Cyberdyne analytics rollout")).to_be_visible()
    page.goto(f"{live_server}/notifications")
    expect(page.locator("main")).to_contain_text("approved the registration request")


def test_deregister_without_javascript_asks_on_a_page(no_js_page, live_server, fresh_app, log_in):
    page = no_js_page
    log_in("victor@northwind.example", page)
    page.goto(acme_url(live_server, fresh_app, "Northwind Cloud"))
    section = page.locator("#shared-registrations")
    expect(section).to_contain_text("1 active")
    section.get_by_role("link", name=re.compile("^Deregister the registration")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Deregister this registration?")
    page.get_by_role("link", name="Cancel").click()
    expect(section).to_contain_text("1 active")
    section.get_by_role("link", name=re.compile("^Deregister the registration")).click()
    page.get_by_role("button", name="Deregister", exact=True).click()
    expect(section).to_contain_text("0 active")
    expect(section).to_contain_text("Deregistered")
