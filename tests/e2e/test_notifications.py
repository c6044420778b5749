"""Flow 7 in a browser: another user acts, the bell counts it, the list opens the deal."""

import re

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

BELL = re.compile(r"^Notifications, (\d+) unread$")


def bell(page):
    return page.get_by_role("link", name=BELL)


def unread_count(page) -> int:
    return int(BELL.match(bell(page).get_attribute("aria-label")).group(1))


def rita_registers_a_deal_for_brightside(app, name):
    """Rita creates a shared deal for Brightside, in the live app's database."""
    from extensions import db
    from models import Account, Pipeline, Stage, User
    from services import shared_deals

    with app.app_context():
        rita = db.session.scalar(sa.select(User).where(User.email == "rita@northwind.example"))
        brightside = db.session.scalar(
            sa.select(Account).where(Account.name == "Brightside Agency")
        )
        sales = db.session.scalar(
            sa.select(Pipeline).where(
                Pipeline.account_id == rita.account_id, Pipeline.name == "Sales pipeline"
            )
        )
        stage = db.session.scalar(sa.select(Stage).where(Stage.pipeline_id == sales.id).limit(1))
        shared_deals.create(
            rita,
            shared_deals.NewSharedDeal(
                name=name,
                other_party_id=brightside.id,
                pipeline_id=sales.id,
                stage_id=stage.id,
            ),
        )
        db.session.remove()


def open_the_newest(page, name):
    page.get_by_role("link", name=BELL).click()
    expect(page.get_by_role("heading", name="Notifications", level=1)).to_be_visible()
    newest = (
        page.get_by_role("list", name="Notifications, newest first").get_by_role("listitem").first
    )
    expect(newest).to_contain_text("Rita Okafor")
    expect(newest).to_contain_text("created the shared deal and registered it for Brightside")
    expect(newest).to_contain_text(name)
    expect(newest).to_contain_text("Unread")
    newest.get_by_role("button").click()
    expect(page.get_by_role("heading", name=name, level=1)).to_be_visible()


def test_the_bell_counts_another_users_action_without_a_reload(
    page, fresh_app, live_server, log_in
):
    fresh_app.config["NOTIFICATIONS_POLL_SECONDS"] = 1  # the real page polls every 30 s
    log_in("alice@brightside.example")
    expect(bell(page)).to_be_visible()
    before = unread_count(page)
    page.evaluate("window.__no_reload = true")

    rita_registers_a_deal_for_brightside(fresh_app, "Soylent green pilot")
    expect(bell(page)).to_have_attribute("aria-label", f"Notifications, {before + 1} unread")
    expect(page.locator("#notifications-link .count")).to_have_text(str(before + 1))
    assert page.evaluate("window.__no_reload") is True  # same page: it was not reloaded

    open_the_newest(page, "Soylent green pilot")
    expect(page).to_have_url(re.compile(rf"{live_server}/deals/\d+$"))
    expect(bell(page)).to_have_attribute("aria-label", f"Notifications, {before} unread")


def test_notifications_with_javascript_off(no_js_page, fresh_app, live_server, log_in):
    page = no_js_page
    log_in("alice@brightside.example", page)
    before = unread_count(page)
    rita_registers_a_deal_for_brightside(fresh_app, "Vandelay import tracker")
    page.reload()
    assert unread_count(page) == before + 1

    open_the_newest(page, "Vandelay import tracker")
    assert unread_count(page) == before

    page.get_by_role("link", name=BELL).click()
    page.get_by_role("button", name="Mark all as read").click()
    expect(page.get_by_role("status")).to_contain_text("as read")
    expect(page.get_by_text("You're all caught up.")).to_be_visible()
    assert unread_count(page) == 0


@pytest.mark.parametrize("js", [True, False], ids=["js", "no-js"])
def test_an_item_opens_with_the_keyboard(browser, fresh_app, live_server, log_in, js):
    context = browser.new_context(java_script_enabled=js)
    try:
        page = context.new_page()
        log_in("alice@brightside.example", page)
        rita_registers_a_deal_for_brightside(fresh_app, "Krusty Krab ordering kiosk")
        page.goto(f"{live_server}/notifications")
        item = page.get_by_role("button", name=re.compile("Krusty Krab ordering kiosk"))
        expect(item).to_have_accessible_name(re.compile(r"^Unread: Rita Okafor created"))
        item.focus()
        page.keyboard.press("Enter")
        expect(page.get_by_role("heading", name="Krusty Krab ordering kiosk")).to_be_visible()
    finally:
        context.close()
