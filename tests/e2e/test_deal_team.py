"""Flow 2: edit the deal team in the "Shared deal" card, with the mouse, the keyboard, or no JS."""

import re

from playwright.sync_api import expect

from tests.e2e.deal_helpers import acme_url


def card(page):
    return page.locator("#shared-deal-card")


def team_field(page):
    return page.locator("#shared-team")


def open_team_dialog(page):
    page.get_by_text("Deal team", exact=True).hover()
    button = page.get_by_role("button", name="Edit deal team")
    expect(button).to_be_visible()
    button.click()
    dialog = page.get_by_role("dialog", name="Edit deal team")
    expect(dialog).to_be_visible()
    return dialog


def test_partner_adds_a_member_and_the_card_shows_both_parties(
    page, live_server, fresh_app, log_in, browser
):
    log_in("alice@brightside.example")
    page.goto(acme_url(live_server, fresh_app))
    expect(page.get_by_role("heading", level=1)).to_have_text("Acme Corp website relaunch")
    dialog = open_team_dialog(page)
    # Only Alice's own account's users, labelled with their full names; members ticked.
    expect(dialog.get_by_role("checkbox")).to_have_count(3)
    expect(dialog.get_by_label("Alice Martin")).to_be_checked()
    expect(dialog.get_by_label("Bob Nguyen")).not_to_be_checked()
    expect(dialog.get_by_label("Rita Okafor")).to_have_count(0)
    dialog.get_by_label("Bob Nguyen").check()
    dialog.get_by_role("button", name="Save").click()
    expect(dialog).to_be_hidden()
    members = team_field(page).get_by_role("listitem")
    expect(members).to_have_count(3)
    expect(members.filter(has_text="Bob Nguyen")).to_contain_text("Brightside Agency")
    expect(members.filter(has_text="Rita Okafor")).to_contain_text("Northwind Cloud")
    expect(page.get_by_role("button", name="Edit deal team")).to_be_focused()
    expect(page.locator("#activity")).to_contain_text("added Bob Nguyen to the deal team")
    page.reload()
    expect(team_field(page)).to_contain_text("Bob Nguyen")

    # Bob was told: his notifications list the change, linking to the deal.
    bob = browser.new_context().new_page()
    log_in("bob@brightside.example", bob)
    bob.goto(f"{live_server}/notifications")
    expect(bob.get_by_role("main")).to_contain_text("added Bob Nguyen to the deal team")
    bob.context.close()


def test_vendor_sees_partner_members_but_edits_only_its_own(page, live_server, fresh_app, log_in):
    log_in("rita@northwind.example")
    page.goto(acme_url(live_server, fresh_app, "Northwind Cloud"))
    dialog = open_team_dialog(page)
    expect(dialog.get_by_role("checkbox")).to_have_count(2)
    expect(dialog.get_by_label("Alice Martin")).to_have_count(0)
    dialog.get_by_label("Victor Lindqvist").check()
    dialog.get_by_role("button", name="Save").click()
    expect(dialog).to_be_hidden()
    expect(team_field(page)).to_contain_text("Victor Lindqvist")
    expect(team_field(page)).to_contain_text("Alice Martin")


def test_escape_and_cancel_close_without_change(page, live_server, fresh_app, log_in):
    log_in("alice@brightside.example")
    page.goto(acme_url(live_server, fresh_app))
    for close in ("Escape", "Cancel"):
        dialog = open_team_dialog(page)
        dialog.get_by_label("Carol Diaz").check()
        if close == "Escape":
            page.keyboard.press("Escape")
        else:
            dialog.get_by_role("button", name="Cancel").click()
        expect(dialog).to_be_hidden()
        expect(page.get_by_role("button", name="Edit deal team")).to_be_focused()
        expect(team_field(page)).not_to_contain_text("Carol Diaz")
    dialog = open_team_dialog(page)
    expect(dialog.get_by_label("Carol Diaz")).not_to_be_checked()


def test_keyboard_only(page, live_server, fresh_app, log_in):
    log_in("alice@brightside.example")
    page.goto(acme_url(live_server, fresh_app))
    edit = page.get_by_role("button", name="Edit deal team")
    page.locator("body").focus()
    for _ in range(80):  # Tab through the page until the team's Edit button has focus
        page.keyboard.press("Tab")
        if edit.evaluate("el => el === document.activeElement"):
            break
    expect(edit).to_be_focused()
    expect(edit).to_have_css("opacity", "1")  # focusing the field reveals its Edit button
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog", name="Edit deal team")
    expect(dialog).to_be_visible()
    bob = dialog.get_by_label("Bob Nguyen")
    for _ in range(10):
        if bob.evaluate("el => el === document.activeElement"):
            break
        page.keyboard.press("Tab")
    page.keyboard.press("Space")
    expect(bob).to_be_checked()
    save = dialog.get_by_role("button", name="Save")
    for _ in range(10):
        if save.evaluate("el => el === document.activeElement"):
            break
        page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    expect(dialog).to_be_hidden()
    expect(team_field(page)).to_contain_text("Bob Nguyen")
    expect(page.get_by_role("button", name="Edit deal team")).to_be_focused()


def test_team_edit_without_javascript(no_js_page, live_server, fresh_app, log_in):
    page = no_js_page
    log_in("alice@brightside.example", page)
    page.goto(acme_url(live_server, fresh_app))
    page.get_by_role("link", name="Edit deal team").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Edit deal team")
    page.get_by_label("Carol Diaz").check()
    page.get_by_label("Alice Martin").uncheck()
    page.get_by_role("button", name="Save").click()
    expect(page).to_have_url(re.compile(r"/deals/\d+#shared-deal-card$"))
    expect(team_field(page)).to_contain_text("Carol Diaz")
    expect(team_field(page)).not_to_contain_text("Alice Martin")
    expect(team_field(page)).to_contain_text("Rita Okafor")
