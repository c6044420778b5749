"""Flow 1 in a browser: build the "Registered deals" filter, save it as a view, find it again.

Once with JavaScript (htmx swaps the results and pushes the URL) and once without
(plain GET forms, redirects to the canonical URL, form posts).
"""

import re
from datetime import date

import sqlalchemy as sa
from playwright.sync_api import expect

from extensions import db
from models import Account, Deal, DealRegistration, SharedDeal
from tests.e2e.a11y_helpers import serious_violations
from tests.e2e.htmx_helpers import wait_for_controls

FILTERED_URL = re.compile(r"/deals\?f=active_registrations:gt:0$")


def brightsides_registered_deals(app):
    """Brightside's deals with a registration active today, worked out row by row."""
    with app.app_context():
        brightside = db.session.scalar(
            sa.select(Account.id).where(Account.name == "Brightside Agency")
        )
        rows = db.session.execute(
            sa.select(Deal.name, DealRegistration)
            .join(SharedDeal, SharedDeal.partner_deal_id == Deal.id)
            .join(DealRegistration, DealRegistration.shared_deal_id == SharedDeal.id)
            .where(SharedDeal.partner_account_id == brightside)
        ).all()
        return sorted({name for name, reg in rows if reg.status_on(date.today()) == "active"})


def table_names(page):
    return sorted(page.locator("table.deals-table tbody tr td:first-child a").all_inner_texts())


def open_filters(page):
    """The filter builder sits behind the "Filters" button (a <details>)."""
    if not page.locator("details.filter-builder[open]").count():
        page.locator("summary", has_text="Filters").click()


def build_registered_filter(page, js: bool):
    open_filters(page)
    page.get_by_label("Property").select_option(label="Number of active deal registrations")
    if js:  # htmx brings the operators of that property: wait for them
        wait_for_controls(page, "data-property", "active_registrations")
    page.get_by_label("Operator").select_option(label="is greater than")
    if js:
        wait_for_controls(page, "data-operator", "gt")
    page.get_by_label("Value").fill("0")
    page.get_by_role("button", name="Apply").click()
    expect(page).to_have_url(FILTERED_URL)
    chips = page.get_by_role("list", name="Applied filters")
    expect(chips).to_contain_text("Number of active deal registrations is greater than 0")


def save_view(page, name):
    page.locator("summary", has_text="Save view").click()
    page.get_by_label("View name").fill(name)
    page.get_by_label("Only me").check()
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_role("status").first).to_contain_text(f"View “{name}” saved.")


def find_view_after_reload(page, live_server, name, expected):
    page.goto(f"{live_server}/deals")
    page.reload()
    tabs = page.get_by_role("navigation", name="Views")
    for built_in in ("All deals", "My deals", "Registered deals"):
        expect(tabs.get_by_role("link", name=built_in)).to_be_visible()
    tabs.get_by_role("link", name=name).click()
    expect(tabs.get_by_role("link", name=name)).to_have_attribute("aria-current", "page")
    expect(page.locator("table.deals-table tbody tr")).to_have_count(len(expected))
    assert table_names(page) == expected


def test_track_registered_deals(page, live_server, log_in, fresh_app):
    expected = brightsides_registered_deals(fresh_app)
    assert expected == ["Acme Corp website relaunch", "Stark Industries service desk rollout"]
    log_in("alice@brightside.example")
    expect(page.get_by_role("heading", name="Deals", level=1)).to_be_visible()
    expect(page.locator("table.deals-table tbody tr")).to_have_count(25)

    build_registered_filter(page, js=True)
    expect(page.locator("table.deals-table tbody tr")).to_have_count(2)
    assert table_names(page) == expected
    save_view(page, "Registered for us")
    find_view_after_reload(page, live_server, "Registered for us", expected)

    # Back and forward follow the URL.
    page.goto(f"{live_server}/deals")
    page.get_by_role("button", name="Amount").click()
    expect(page).to_have_url(re.compile(r"/deals\?sort=amount$"))
    expect(page.locator("th[aria-sort=ascending]")).to_have_text("Amount")
    page.go_back()
    expect(page).to_have_url(f"{live_server}/deals")
    expect(page.locator("th[aria-sort=descending]")).to_have_text("Create date")


def test_search_is_live_as_you_type(page, live_server, log_in):
    log_in("alice@brightside.example")
    page.get_by_role("searchbox").press_sequentially("initech seo", delay=30)
    expect(page).to_have_url(re.compile(r"/deals\?q=initech\+seo$"))
    expect(page.locator("table.deals-table tbody tr")).to_have_count(1)
    expect(page.locator("table.deals-table tbody")).to_contain_text("Initech SEO audit")


def test_a_bad_value_gets_a_message_in_the_filter_bar(page, live_server, log_in):
    log_in("alice@brightside.example")
    open_filters(page)
    page.get_by_label("Property").select_option(label="Close date")
    wait_for_controls(page, "data-property", "close_date")
    page.get_by_label("Operator").select_option(label="is in the last N days")
    wait_for_controls(page, "data-operator", "last_days")
    page.get_by_label("Value").fill("0")
    page.get_by_role("button", name="Apply").click()
    expect(page.get_by_role("alert")).to_contain_text("give a number of days")
    expect(page.locator("table.deals-table tbody tr")).to_have_count(25)


def test_track_registered_deals_without_javascript(no_js_page, live_server, log_in, fresh_app):
    page = no_js_page
    expected = brightsides_registered_deals(fresh_app)
    log_in("alice@brightside.example", page)
    build_registered_filter(page, js=False)
    assert table_names(page) == expected
    save_view(page, "Registered, no JS")
    find_view_after_reload(page, live_server, "Registered, no JS", expected)

    # Sort, page and search through plain GET forms too.
    page.goto(f"{live_server}/deals")
    page.get_by_role("button", name="Next ›").click()
    expect(page).to_have_url(re.compile(r"/deals\?page=2$"))
    page.get_by_role("searchbox").fill("Initech SEO")
    page.get_by_role("searchbox").press("Enter")
    expect(page).to_have_url(re.compile(r"/deals\?q=Initech\+SEO$"))
    expect(page.locator("table.deals-table tbody tr")).to_have_count(1)


def test_the_vendor_filters_by_partner_with_and_without_javascript(
    page, no_js_page, live_server, log_in, monkeypatch
):
    """Past SUGGESTED_MAX choices (a vendor's 1,000 partners) the page carries none of
    them: choosing "Shared with" brings them (htmx); without JavaScript Apply does."""
    from services.deal_index import choices

    monkeypatch.setattr(choices, "SUGGESTED_MAX", 1)
    chip = "Shared with is any of Harbor Digital"

    log_in("rita@northwind.example")
    expect(page.locator("#filter-choices option", has_text="Harbor Digital")).to_have_count(0)
    open_filters(page)
    page.get_by_label("Property").select_option(label="Shared with")
    wait_for_controls(page, "data-property", "shared_with")
    page.get_by_label("Value").select_option(label="Harbor Digital")
    assert serious_violations(page) == []
    page.get_by_role("button", name="Apply").click()
    expect(page.get_by_role("list", name="Applied filters")).to_contain_text(chip)

    log_in("rita@northwind.example", no_js_page)
    open_filters(no_js_page)
    no_js_page.get_by_label("Property").select_option(label="Shared with")
    no_js_page.get_by_label("Operator").select_option(label="is any of")
    no_js_page.get_by_role("button", name="Apply").click()
    expect(no_js_page.get_by_role("alert")).to_contain_text("Enter a value")
    no_js_page.get_by_label("Value").select_option(label="Harbor Digital")
    no_js_page.get_by_role("button", name="Apply").click()
    expect(no_js_page.get_by_role("list", name="Applied filters")).to_contain_text(chip)
