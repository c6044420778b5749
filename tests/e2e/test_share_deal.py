"""Flow 6, end: an unshared deal is shared later from its page, by either party."""

import re

from playwright.sync_api import expect

from tests.e2e.deal_helpers import deal_id, unshared_deal


def test_partner_shares_an_existing_deal_and_the_vendor_finds_it(
    page, live_server, fresh_app, log_in, browser
):
    log_in("bob@brightside.example")
    url = f"{live_server}/deals/{deal_id(fresh_app, 'Brightside Agency', 'Initech SEO audit')}"
    page.goto(url)
    page.get_by_role("link", name="Share with the vendor").click()
    expect(page.get_by_role("heading", name="Share with the vendor", level=1)).to_be_visible()
    expect(page.get_by_label("Vendor")).to_have_text(re.compile("Northwind Cloud"))
    page.get_by_role("group", name="Product interest").get_by_label("Content Suite").check()
    page.get_by_label("Intro note").fill("Their SEO agency left.")
    page.get_by_label("Specific pain/opportunity defined").fill("Traffic is down 30%.")
    page.get_by_label("Next steps").fill("Audit workshop.")
    page.get_by_role("button", name="Share with the vendor").click()

    expect(page).to_have_url(url)
    expect(page.get_by_role("status")).to_contain_text("Deal shared with Northwind Cloud.")
    card = page.get_by_role("region", name="Shared deal")
    expect(card.locator("#shared-products").get_by_role("listitem")).to_have_text(["Content Suite"])
    expect(page.locator("#activity")).to_contain_text("shared the deal with Northwind Cloud")
    expect(page.get_by_role("link", name="Share with the vendor")).to_have_count(0)

    rita = browser.new_context().new_page()
    log_in("rita@northwind.example", rita)
    rita.goto(f"{live_server}/deals/{deal_id(fresh_app, 'Northwind Cloud', 'Initech SEO audit')}")
    expect(rita.get_by_role("region", name="Shared deal")).to_contain_text("Brightside Agency")
    expect(rita.get_by_text("Their SEO agency left.")).to_be_visible()
    rita.context.close()


def test_vendor_shares_with_a_partner_without_javascript(
    no_js_page, live_server, fresh_app, log_in
):
    page = no_js_page
    log_in("victor@northwind.example", page)
    deal, name = unshared_deal(fresh_app, "Northwind Cloud")
    deal_url = f"{live_server}/deals/{deal}"
    page.goto(deal_url)
    page.get_by_role("link", name="Share with a partner").click()
    page.get_by_label("Partner").select_option(label="Harbor Digital")
    page.get_by_role("button", name="Share with a partner").click()
    expect(page).to_have_url(deal_url)
    expect(page.get_by_role("region", name="Shared deal")).to_contain_text("Harbor Digital")
    expect(page.get_by_role("heading", name=name, level=1)).to_be_visible()
