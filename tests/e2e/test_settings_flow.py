"""Flow 3: an admin changes the referred deals pipeline in a browser."""

from playwright.sync_api import expect


def change_referred_pipeline(page, live_server):
    page.get_by_role("link", name="Settings").click()
    expect(page.get_by_role("heading", name="Shared deals")).to_be_visible()
    select = page.get_by_label("Referred deals pipeline")
    expect(select).to_have_value(
        select.locator("option", has_text="Sales pipeline").get_attribute("value")
    )
    select.select_option(label="Partner referrals")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_contain_text("saved")
    selected = page.get_by_label("Referred deals pipeline").locator("option:checked")
    expect(selected).to_have_text("Partner referrals")


def test_admin_changes_the_referred_deals_pipeline(page, live_server, log_in):
    log_in("alice@brightside.example")
    change_referred_pipeline(page, live_server)
    page.reload()
    expect(page.get_by_label("Referred deals pipeline").locator("option:checked")).to_have_text(
        "Partner referrals"
    )


def test_it_works_with_javascript_off(no_js_page, live_server, log_in):
    log_in("alice@brightside.example", no_js_page)
    change_referred_pipeline(no_js_page, live_server)


def test_a_member_opens_settings_from_the_gear_and_sees_them_read_only(page, live_server, log_in):
    log_in("victor@northwind.example")
    page.get_by_role("banner").get_by_role("link", name="Settings").click()
    menu = page.get_by_role("navigation", name="Settings")
    expect(menu.get_by_role("heading", name="Partners")).to_be_visible()
    expect(menu.get_by_role("link", name="Shared deals")).to_have_attribute("aria-current", "page")
    expect(page.get_by_role("heading", name="Shared deals", level=1)).to_be_visible()
    select = page.get_by_label("Referred deals pipeline")
    expect(select).to_be_disabled()
    expect(page.get_by_text("Only account admins can change these settings.")).to_be_visible()
    expect(page.get_by_role("button", name="Save")).to_have_count(0)


def test_log_out(page, live_server, log_in):
    log_in("hana@harbor.example")
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("button", name="Log in")).to_be_visible()
    page.goto(f"{live_server}/deals")
    expect(page).to_have_url(f"{live_server}/login?next=/deals")
