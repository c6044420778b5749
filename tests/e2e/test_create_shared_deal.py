"""Flow 6 in a browser: either party creates a shared deal; the other finds it in its CRM."""

import re

import pytest
from playwright.sync_api import expect


def open_the_form(page):
    page.get_by_role("link", name="Create shared deal").click()
    expect(page.get_by_role("heading", name="Create shared deal", level=1)).to_be_visible()


def choose_pipeline(page, label, js=True):
    """Pick a pipeline; with JavaScript on, wait until htmx has swapped in its stages."""
    select = page.get_by_label("Pipeline")
    if js:
        with page.expect_response(re.compile(r"/deals/new/stages\?")):
            select.select_option(label=label)
        expect(page.locator("#pipeline.htmx-request")).to_have_count(0)
    else:
        select.select_option(label=label)


def field_value(page, label):
    """The value shown next to a field label of the deal page's description list."""
    return page.locator("dt", has_text=re.compile(rf"^\s*{label}\s*$")).locator(
        "xpath=following-sibling::dd[1]"
    )


def test_partner_creates_a_shared_deal_and_lands_on_it(page, live_server, log_in):
    log_in("alice@brightside.example")
    open_the_form(page)
    page.get_by_label("Deal name").fill("Wonka Foods loyalty app")
    page.get_by_label("Amount").fill("48000")
    page.get_by_label("Close date").fill("2026-09-30")
    expect(page.get_by_label("Vendor")).to_have_text(re.compile("Northwind Cloud"))
    # Changing the pipeline brings that pipeline's stages, without a page load.
    stage = page.get_by_label("Deal stage")
    expect(stage.locator("option", has_text="Discovery")).to_have_count(1)
    choose_pipeline(page, "Partner referrals")
    expect(stage.locator("option", has_text="New referral")).to_have_count(1)
    expect(stage.locator("option", has_text="Discovery")).to_have_count(0)
    page.get_by_label("Deal stage").select_option(label="Contacted")
    page.get_by_label("Intro note").fill("Met their CMO at a conference.")
    page.get_by_label("Specific pain/opportunity defined").fill("Loyalty data in spreadsheets.")
    page.get_by_label("Next steps").fill("Joint call next Tuesday.")
    page.get_by_role("button", name="Create shared deal").click()

    expect(page).to_have_url(re.compile(rf"{live_server}/deals/\d+$"))
    expect(page.get_by_role("heading", name="Wonka Foods loyalty app", level=1)).to_be_visible()
    expect(field_value(page, "Pipeline")).to_contain_text("Partner referrals")
    expect(field_value(page, "Deal stage")).to_contain_text("Contacted")


def test_partner_with_javascript_off_gets_the_stage_checked(no_js_page, live_server, log_in):
    page = no_js_page
    log_in("alice@brightside.example", page)
    open_the_form(page)
    page.get_by_label("Deal name").fill("Nakatomi lobby kiosk")
    # No script: the stage list still shows the Sales pipeline's stages.
    page.get_by_label("Pipeline").select_option(label="Partner referrals")
    expect(page.get_by_label("Deal stage").locator("option", has_text="Discovery")).to_have_count(1)
    page.get_by_label("Intro note").fill("Walk-in lead.")
    page.get_by_label("Specific pain/opportunity defined").fill("Queue at reception.")
    page.get_by_label("Next steps").fill("Site visit.")
    page.get_by_role("button", name="Create shared deal").click()

    expect(page.get_by_role("alert")).to_contain_text("Nothing was created")
    expect(
        page.get_by_text("Choose a stage of the Partner referrals pipeline.", exact=True)
    ).to_be_visible()
    expect(page.get_by_label("Deal name")).to_have_value("Nakatomi lobby kiosk")
    page.get_by_label("Deal stage").select_option(label="Contacted")
    page.get_by_role("button", name="Create shared deal").click()
    expect(page.get_by_role("heading", name="Nakatomi lobby kiosk", level=1)).to_be_visible()


def test_bad_input_is_explained_next_to_the_fields(page, live_server, log_in):
    log_in("bob@brightside.example")
    open_the_form(page)
    page.get_by_label("Amount").fill("-10")
    page.get_by_role("button", name="Create shared deal").click()
    expect(page.get_by_label("Deal name")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_text("Enter the deal name.", exact=True)).to_be_visible()
    expect(page.get_by_text("The amount cannot be negative.", exact=True)).to_be_visible()
    expect(page.get_by_text("Write an intro note for the vendor.", exact=True)).to_be_visible()


def vendor_creates_for_harbor(page, live_server, log_in, name, js):
    log_in("rita@northwind.example", page)
    open_the_form(page)
    page.get_by_label("Deal name").fill(name)
    page.get_by_label("Amount").fill("125000")
    page.get_by_label("Partner").select_option(label="Harbor Digital")
    page.get_by_label("Registration expires on").fill("2099-06-30")
    choose_pipeline(page, "Sales pipeline", js)
    page.get_by_label("Deal stage").select_option(label="Demo")
    page.get_by_role("button", name="Create shared deal").click()
    expect(page.get_by_role("heading", name=name, level=1)).to_be_visible()
    expect(field_value(page, "Deal stage")).to_contain_text("Demo")


def hana_finds_it_in_her_referred_pipeline(browser, live_server, log_in, name, js):
    context = browser.new_context(java_script_enabled=js)
    try:
        page = context.new_page()
        log_in("hana@harbor.example", page)
        page.get_by_role("link", name=name).first.click()
        expect(page.get_by_role("heading", name=name, level=1)).to_be_visible()
        expect(field_value(page, "Pipeline")).to_contain_text("Partner referrals")
        expect(field_value(page, "Deal stage")).to_contain_text("New referral")
        expect(field_value(page, "Deal owner")).to_contain_text("Hana Sato")
    finally:
        context.close()


@pytest.mark.parametrize("js", [True, False], ids=["js", "no-js"])
def test_vendor_creates_one_for_harbor_and_hana_sees_it(browser, live_server, log_in, js):
    name = f"Tyrell data platform ({'js' if js else 'no js'})"
    context = browser.new_context(java_script_enabled=js)
    try:
        vendor_creates_for_harbor(context.new_page(), live_server, log_in, name, js)
    finally:
        context.close()
    hana_finds_it_in_her_referred_pipeline(browser, live_server, log_in, name, js)


def test_partner_creates_one_with_product_interest(page, live_server, log_in):
    log_in("alice@brightside.example")
    open_the_form(page)
    page.get_by_label("Deal name").fill("Soylent CRM rollout")
    interest = page.get_by_role("group", name="Product interest")
    interest.get_by_label("Sales Suite").check()
    interest.get_by_label("Service Suite").check()
    page.get_by_label("Intro note").fill("Referred by a customer.")
    page.get_by_label("Specific pain/opportunity defined").fill("Leads get lost.")
    page.get_by_label("Next steps").fill("Discovery call.")
    page.get_by_role("button", name="Create shared deal").click()

    expect(page.get_by_role("heading", name="Soylent CRM rollout", level=1)).to_be_visible()
    products = page.locator("#shared-products").get_by_role("listitem")
    expect(products).to_have_text(["Sales Suite", "Service Suite"])
