"""Every page on a 390 px phone and on a desktop, by keyboard, and under axe-core (issue 11).

- every page and main state: no sideways scrolling, popovers and dialogs inside the
  viewport, and 0 axe-core violations of impact serious or critical;
- keyboard runs: where focus lands after Apply, a sort, Add registration, Deregister,
  and after failed log in, Create shared deal and Save view.

Set A11Y_SHOTS=/some/dir to save a screenshot of every state.
"""

import os
import re

import pytest
from playwright.sync_api import expect

from services.demo import DEMO_PASSWORD
from tests.e2e.a11y_helpers import (
    DESKTOP,
    PHONE,
    box_inside_viewport,
    page_width,
    serious_violations,
)
from tests.e2e.deal_helpers import acme_url
from tests.e2e.htmx_helpers import settled

SHOTS = os.environ.get("A11Y_SHOTS")


def check(page, name, label):
    """The page as it is now: no sideways scroll, no serious axe violation."""
    if SHOTS:
        os.makedirs(SHOTS, exist_ok=True)
        page.screenshot(path=os.path.join(SHOTS, f"{label}-{name}.png"), full_page=True)
    width = page.viewport_size["width"]
    assert page_width(page) <= width, f"{name}: the page is {page_width(page)} px wide"
    assert serious_violations(page) == [], name


def log_in_as(page, live_server, email):
    page.goto(f"{live_server}/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{live_server}/deals")


@pytest.mark.parametrize("label, viewport", [("phone", PHONE), ("desktop", DESKTOP)])
def test_every_page_fits_and_passes_axe(browser, live_server, fresh_app, label, viewport):
    context = browser.new_context(viewport=viewport)
    page = context.new_page()
    phone = label == "phone"

    page.goto(f"{live_server}/login")
    check(page, "login", label)
    page.get_by_label("Email").fill("rita@northwind.example")
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_contain_text("do not match")
    check(page, "login-error", label)
    log_in_as(page, live_server, "rita@northwind.example")

    check(page, "index", label)
    if phone:  # the top bar's links are behind "Menu"
        page.locator("summary", has_text="Menu").click()
        menu = page.get_by_role("navigation", name="Main (menu)")
        expect(menu.get_by_role("link", name="Deals")).to_be_visible()
        # Settings stays in the bar, as its gear, on phones too.
        expect(page.get_by_role("banner").get_by_role("link", name="Settings")).to_be_visible()
        assert box_inside_viewport(page, page.locator(".topbar-menu-panel"))
        check(page, "menu-open", label)
        page.keyboard.press("Escape")
        expect(menu).to_be_hidden()
    page.locator("summary", has_text="Filters").click()
    expect(page.get_by_label("Property")).to_be_visible()
    check(page, "index-filters", label)

    page.locator("summary", has_text="Save view").click()
    save = page.get_by_role("button", name="Save", exact=True)
    expect(save).to_be_visible()
    assert box_inside_viewport(page, page.locator("#view-save"))
    check(page, "save-view-open", label)
    page.keyboard.press("Escape")

    page.goto(acme_url(live_server, fresh_app, "Northwind Cloud"))
    check(page, "deal", label)
    page.get_by_role("button", name="Edit deal team").click()
    dialog = page.get_by_role("dialog", name="Edit deal team")
    expect(dialog).to_be_visible()
    assert box_inside_viewport(page, dialog)
    check(page, "team-dialog", label)
    dialog.get_by_role("button", name="Cancel").click()
    page.get_by_role("button", name="Edit product interest", exact=True).click()
    expect(page.get_by_role("group", name="Edit product interests")).to_be_visible()
    settled(page)
    check(page, "product-editor", label)

    page.goto(f"{live_server}/deals/new")
    check(page, "create", label)
    page.get_by_role("button", name="Create shared deal").click()
    expect(page.get_by_role("alert")).to_contain_text("Nothing was created")
    check(page, "create-errors", label)

    page.goto(f"{live_server}/settings/partners/shared-deals")
    check(page, "settings", label)
    page.goto(f"{live_server}/notifications")
    check(page, "notifications", label)
    context.close()


def test_keyboard_on_the_index(browser, live_server, fresh_app):
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    log_in_as(page, live_server, "alice@brightside.example")
    focused_id = "document.activeElement && document.activeElement.id"

    # Apply with nothing chosen says so.
    page.locator("summary", has_text="Filters").focus()
    page.keyboard.press("Enter")
    page.get_by_role("button", name="Apply").focus()
    page.keyboard.press("Enter")
    expect(page.locator("#filter-feedback")).to_contain_text("Choose a property")

    # "is between" with one box filled: the message speaks of the two boxes.
    page.get_by_label("Property").select_option(label="Amount")
    expect(page.locator("#filter-controls")).to_have_attribute("data-property", "amount")
    settled(page)
    page.get_by_label("Operator").select_option(label="is between")
    expect(page.locator("#filter-controls")).to_have_attribute("data-operator", "between")
    settled(page)
    page.locator("#filter-value").fill("1000")
    page.get_by_role("button", name="Apply").focus()
    page.keyboard.press("Enter")
    expect(page.locator("#filter-feedback")).to_contain_text("fill in both boxes")

    # Apply by keyboard: focus goes to the results; the count is announced.
    page.get_by_label("Second value").fill("200000")
    page.get_by_role("button", name="Apply").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("list", name="Applied filters")).to_contain_text("Amount is between")
    settled(page)
    assert page.evaluate(focused_id) == "results-heading"
    expect(page.locator("#live-status")).to_have_text(re.compile(r"of \d+ deals"))
    expect(page.locator("#filter-count")).to_contain_text("1")
    # The list is no longer "All deals": the tab says so, and offers Reset.
    tabs = page.get_by_role("navigation", name="Views")
    expect(tabs.get_by_role("link", name=re.compile("All deals"))).to_contain_text("changed")
    expect(page.get_by_role("link", name="Reset")).to_be_visible()

    # A sort by keyboard: focus stays on that column's (new) header button.
    page.locator("th", has_text="Deal owner").get_by_role("button").focus()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"sort=owner"))
    settled(page)
    focused = page.locator(":focus")
    expect(focused).to_have_text("Deal owner")
    expect(page.locator("th[aria-sort=ascending]")).to_have_text("Deal owner")

    # Save view: a built-in view's name is refused; focus lands on the name.
    page.locator("summary", has_text="Save view").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_label("View name")).to_be_focused()  # opening focuses the first field
    page.get_by_label("View name").fill("my deals")
    page.get_by_role("button", name="Save", exact=True).focus()
    page.keyboard.press("Enter")
    expect(page.locator("#view-name-error")).to_contain_text("“My deals” is a built-in view")
    expect(page.get_by_label("View name")).to_be_focused()
    assert box_inside_viewport(page, page.locator("#view-save"))

    # Esc closes the panel and gives focus back to its button; so does a click outside.
    page.keyboard.press("Escape")
    expect(page.locator("#view-save")).to_be_hidden()
    expect(page.locator("summary", has_text="Save view")).to_be_focused()
    page.locator("summary", has_text="Save view").click()
    expect(page.locator("#view-save")).to_be_visible()
    page.get_by_role("heading", name="Deals", level=1).click()
    expect(page.locator("#view-save")).to_be_hidden()
    context.close()


def test_keyboard_on_the_deal_page(browser, live_server, fresh_app):
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    log_in_as(page, live_server, "rita@northwind.example")
    page.goto(acme_url(live_server, fresh_app, "Northwind Cloud"))
    registrations = page.locator("#shared-registrations")
    before = registrations.locator("tbody tr").count()

    add = page.get_by_role("button", name="Add registration")
    add.focus()
    page.keyboard.press("Enter")
    expect(registrations.locator("tbody tr")).to_have_count(before + 1)
    settled(page)
    expect(page.get_by_role("button", name="Add registration")).to_be_focused()

    # Deregister asks first: a modal dialog, Cancel focused; Esc returns to the link.
    deregister = registrations.get_by_role("link", name=re.compile("^Deregister")).first
    deregister.focus()
    page.keyboard.press("Enter")
    confirm = page.get_by_role("dialog", name="Deregister this registration?")
    expect(confirm).to_be_visible()
    expect(confirm.get_by_role("link", name="Cancel")).to_be_focused()
    page.keyboard.press("Escape")
    expect(confirm).to_be_hidden()
    expect(deregister).to_be_focused()
    page.keyboard.press("Enter")
    confirm.get_by_role("button", name="Deregister").focus()
    page.keyboard.press("Enter")
    expect(registrations.locator(".status-pill.deregistered")).not_to_have_count(0)

    # An inline amount edit: the header shows the new amount at once (out of band).
    page.get_by_role("button", name="Edit Amount").click()
    page.locator("#field-amount-input").fill("123456.7")
    page.locator("#field-amount-input").press("Enter")
    expect(page.locator("#field-amount")).to_contain_text("123,456.70")
    expect(page.locator("#deal-header")).to_contain_text("123,456.70")
    expect(page.get_by_role("button", name="Edit Amount")).to_be_focused()
    context.close()


def test_failed_forms_focus_the_first_invalid_field(page, live_server, log_in):
    page.goto(f"{live_server}/login")
    page.get_by_label("Email").fill("alice@brightside.example")
    page.get_by_label("Password").fill("wrong")
    page.get_by_label("Password").press("Enter")
    expect(page.get_by_role("alert")).to_contain_text("do not match")
    expect(page.get_by_label("Password")).to_be_focused()

    log_in("alice@brightside.example")
    page.goto(f"{live_server}/deals/new")
    page.get_by_role("button", name="Create shared deal").click()
    summary = page.locator("#error-summary")
    expect(summary).to_contain_text("Nothing was created")
    expect(summary.get_by_role("link").first).to_be_visible()
    expect(page.get_by_label("Deal name")).to_be_focused()
