"""Flows 4 and 5, and the deal's own fields: click-to-edit on the deal page."""

import re
from datetime import date, timedelta

from playwright.sync_api import expect

from tests.e2e.deal_helpers import acme_url

PRODUCTS = ["Marketing Suite", "Sales Suite", "Service Suite", "Content Suite", "Operations Suite"]


def product_dropdown(page):
    """The "Edit product interests" group of checkboxes and the button that opens it."""
    toggle = page.get_by_role("button", name="Edit product interest", exact=True)
    return toggle, page.get_by_role("group", name="Edit product interests")


def test_product_interest_is_edited_by_the_partner_then_the_vendor(
    page, live_server, fresh_app, log_in, browser
):
    log_in("alice@brightside.example")
    page.goto(acme_url(live_server, fresh_app))
    field = page.locator("#shared-products")
    toggle, group = product_dropdown(page)
    expect(group).to_be_hidden()
    page.get_by_text("Product interest", exact=True).hover()
    toggle.click()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    expect(group).to_be_visible()
    expect(group.get_by_role("checkbox")).to_have_count(len(PRODUCTS))
    expect(group.get_by_role("checkbox", name="Marketing Suite")).to_be_checked()
    # One plain click ticks one product; the others stay as they were.
    group.get_by_label("Sales Suite").click()
    expect(group.get_by_role("checkbox", name="Sales Suite")).to_be_checked()
    expect(group.get_by_role("checkbox", name="Marketing Suite")).to_be_checked()
    page.get_by_role("button", name="Edit product", exact=True).click()
    expect(field.get_by_role("listitem")).to_have_text(["Marketing Suite", "Sales Suite"])
    expect(group).to_be_hidden()
    expect(toggle).to_be_focused()
    expect(page.locator("#activity")).to_contain_text("changed the product interest")

    rita = browser.new_context().new_page()
    log_in("rita@northwind.example", rita)
    rita.goto(acme_url(live_server, fresh_app, "Northwind Cloud"))
    toggle, group = product_dropdown(rita)
    rita.get_by_text("Product interest", exact=True).hover()
    toggle.click()
    for name in ("Marketing Suite", "Sales Suite", "Service Suite"):
        group.get_by_label(name).click()
    rita.get_by_role("button", name="Edit product", exact=True).click()
    expect(rita.locator("#shared-products").get_by_role("listitem")).to_have_text(["Service Suite"])
    rita.context.close()


def test_product_dropdown_by_keyboard(page, live_server, fresh_app, log_in):
    log_in("alice@brightside.example")
    page.goto(acme_url(live_server, fresh_app))
    toggle, group = product_dropdown(page)
    toggle.focus()
    page.keyboard.press("Space")
    expect(toggle).to_have_attribute("aria-expanded", "true")
    page.keyboard.press("Tab")
    expect(group.get_by_role("checkbox", name="Marketing Suite")).to_be_focused()
    page.keyboard.press("Tab")
    sales = group.get_by_role("checkbox", name="Sales Suite")
    expect(sales).to_be_focused()
    page.keyboard.press("Space")
    expect(sales).to_be_checked()
    # Esc closes the list without saving and gives focus back to the button.
    page.keyboard.press("Escape")
    expect(group).to_be_hidden()
    expect(toggle).to_have_attribute("aria-expanded", "false")
    expect(toggle).to_be_focused()
    # Again, and this time save: Tab past the five products to "Edit product".
    page.keyboard.press("Space")
    expect(sales).not_to_be_checked()  # what Esc closed was not kept
    page.keyboard.press("Tab")
    page.keyboard.press("Space")  # Marketing Suite off
    for _ in PRODUCTS:
        page.keyboard.press("Tab")
    save = page.get_by_role("button", name="Edit product", exact=True)
    expect(save).to_be_focused()
    page.keyboard.press("Space")
    expect(page.locator("#shared-products")).to_contain_text("None yet")
    expect(toggle).to_be_focused()


def test_product_interest_without_javascript(no_js_page, live_server, fresh_app, log_in):
    page = no_js_page
    log_in("alice@brightside.example", page)
    page.goto(acme_url(live_server, fresh_app))
    page.get_by_role("link", name="Edit product interest").click()
    group = page.get_by_role("group", name="Edit product interests")
    group.get_by_label("Content Suite").check()
    group.get_by_label("Marketing Suite").uncheck()
    page.get_by_role("button", name="Edit product", exact=True).click()
    expect(page.locator("#shared-products").get_by_role("listitem")).to_have_text(["Content Suite"])


def test_vendor_registers_and_deregisters_partner_reads(
    page, live_server, fresh_app, log_in, browser
):
    log_in("rita@northwind.example")
    page.goto(acme_url(live_server, fresh_app, "Northwind Cloud"))
    section = page.locator("#shared-registrations")
    expect(section).to_contain_text("1 active")
    expiry = date.today() + timedelta(days=60)
    page.get_by_label("Expiry date (optional)").fill(expiry.isoformat())
    page.get_by_role("button", name="Add registration").click()
    expect(section).to_contain_text("2 active")
    expect(section.get_by_role("row")).to_have_count(3)
    expect(section).to_contain_text(f"{expiry:%b} {expiry.day}, {expiry.year}")
    section.get_by_role("link", name=re.compile("^Deregister")).first.click()
    # A confirmation first: Cancel (or Esc) changes nothing, and focus returns.
    dialog = page.get_by_role("dialog", name="Deregister this registration?")
    expect(dialog).to_be_visible()
    dialog.get_by_role("link", name="Cancel").click()
    expect(dialog).to_be_hidden()
    expect(section).to_contain_text("2 active")
    section.get_by_role("link", name=re.compile("^Deregister")).first.click()
    expect(dialog).to_be_visible()
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    section.get_by_role("link", name=re.compile("^Deregister")).first.click()
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name="Deregister").click()
    expect(section).to_contain_text("1 active")
    expect(section).to_contain_text("Deregistered")
    expect(page.locator("#activity")).to_contain_text("deregistered the deal")

    alice = browser.new_context().new_page()
    log_in("alice@brightside.example", alice)
    alice.goto(acme_url(live_server, fresh_app))
    registrations = alice.locator("#shared-registrations")
    expect(registrations).to_contain_text("1 active")
    expect(registrations).to_contain_text("Deregistered")
    expect(registrations.get_by_role("button")).to_have_count(0)
    alice.context.close()


def test_a_past_expiry_gets_a_message(page, live_server, fresh_app, log_in):
    log_in("victor@northwind.example")
    page.goto(acme_url(live_server, fresh_app, "Northwind Cloud"))
    field = page.get_by_label("Expiry date (optional)")
    # The date picker's min stops a person; a typed-in past date still gets a clear message.
    field.evaluate("el => el.removeAttribute('min')")
    field.fill((date.today() - timedelta(days=2)).isoformat())
    page.get_by_role("button", name="Add registration").click()
    expect(page.get_by_role("alert")).to_have_text("The expiry date cannot be in the past.")
    expect(page.locator("#shared-registrations")).to_contain_text("1 active")


def test_inline_edit_of_the_amount_and_escape_cancels(page, live_server, fresh_app, log_in):
    log_in("alice@brightside.example")
    page.goto(acme_url(live_server, fresh_app))
    row = page.locator("#field-amount")
    expect(row.get_by_role("textbox")).to_have_count(0)  # plain text until Edit
    page.get_by_text("Amount", exact=True).hover()
    page.get_by_role("button", name="Edit Amount").click()
    box = page.get_by_label("Amount", exact=True)
    expect(box).to_be_focused()
    box.fill("42,000")
    page.keyboard.press("Escape")
    expect(row.get_by_role("textbox")).to_have_count(0)
    expect(page.get_by_role("button", name="Edit Amount")).to_be_focused()
    page.get_by_role("button", name="Edit Amount").click()
    page.get_by_label("Amount", exact=True).fill("42,000")
    row.get_by_role("button", name="Save").click()
    expect(row.locator("dd").first).to_have_text("42,000.00")


def test_pipeline_editor_offers_the_chosen_pipelines_stages(page, live_server, fresh_app, log_in):
    log_in("alice@brightside.example")
    page.goto(acme_url(live_server, fresh_app))
    page.get_by_text("Pipeline", exact=True).hover()
    page.get_by_role("button", name="Edit Pipeline").click()
    page.get_by_label("Pipeline", exact=True).select_option(label="Partner referrals")
    stage = page.locator("#field-pipeline").get_by_label("Deal stage")
    expect(stage.locator("option:checked")).to_have_text("New referral")
    stage.select_option(label="Contacted")
    page.locator("#field-pipeline").get_by_role("button", name="Save").click()
    expect(page.locator("#field-pipeline dd").first).to_have_text("Partner referrals")
    expect(page.locator("#field-stage dd").first).to_have_text("Contacted")


def test_conflict_is_shown_not_overwritten(page, live_server, fresh_app, log_in, browser):
    log_in("alice@brightside.example")
    page.goto(acme_url(live_server, fresh_app))
    page.get_by_text("Company", exact=True).hover()
    page.get_by_role("button", name="Edit Company").click()
    page.get_by_label("Company", exact=True).fill("Acme (Alice)")

    bob = browser.new_context().new_page()
    log_in("bob@brightside.example", bob)
    bob.goto(acme_url(live_server, fresh_app))
    bob.get_by_text("Company", exact=True).hover()
    bob.get_by_role("button", name="Edit Company").click()
    bob.get_by_label("Company", exact=True).fill("Acme (Bob)")
    bob.locator("#field-company").get_by_role("button", name="Save").click()
    expect(bob.locator("#field-company dd").first).to_have_text("Acme (Bob)")
    bob.context.close()

    page.locator("#field-company").get_by_role("button", name="Save").click()
    expect(page.get_by_role("alert")).to_contain_text(
        "Someone else changed Company to “Acme (Bob)”"
    )
    page.reload()
    expect(page.locator("#field-company dd").first).to_have_text("Acme (Bob)")
