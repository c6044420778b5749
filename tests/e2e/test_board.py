"""Flow 8 in a browser: the deals index as a board.

Switch to Board, read its columns (counts and totals equal to the table's filtered
set), move a card by dragging it, by keyboard ("Move to stage"), and with
JavaScript off (the same menu as a plain form). Screenshots of the desktop and a
390 px phone go to /work/shots/board/ when that folder can be made.
"""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import sqlalchemy as sa
from playwright.sync_api import expect

from extensions import db
from models import Account, Deal, Pipeline, Stage
from tests.e2e.a11y_helpers import serious_violations
from tests.e2e.htmx_helpers import settled

SHOTS = Path("/work/shots/board")
PHONE = {"width": 390, "height": 844}


def shoot(page, name):
    try:
        SHOTS.mkdir(parents=True, exist_ok=True)
    except OSError:
        return
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def sales_stages(app):
    """Brightside's Sales pipeline stages, in order: (id, name)."""
    with app.app_context():
        return db.session.execute(
            sa.select(Stage.id, Stage.name)
            .join(Pipeline, Pipeline.id == Stage.pipeline_id)
            .join(Account, Account.id == Pipeline.account_id)
            .where(Account.name == "Brightside Agency", Pipeline.name == "Sales pipeline")
            .order_by(Stage.position)
        ).all()


def expected_columns(app, owner_email=None):
    """Stage name -> (count, total) of Brightside's Sales pipeline deals, in Python."""
    from models import User

    with app.app_context():
        stmt = (
            sa.select(Stage.name, Deal.amount, Deal.owner_id)
            .join(Deal, Deal.stage_id == Stage.id)
            .join(Pipeline, Pipeline.id == Stage.pipeline_id)
            .join(Account, Account.id == Deal.account_id)
            .where(Account.name == "Brightside Agency", Pipeline.name == "Sales pipeline")
        )
        owner = (
            db.session.scalar(sa.select(User.id).where(User.email == owner_email))
            if owner_email
            else None
        )
        out: dict[str, list] = {}
        for name, amount, owner_id in db.session.execute(stmt):
            if owner is not None and owner_id != owner:
                continue
            count, total = out.get(name, (0, Decimal(0)))
            out[name] = (count + 1, total + (amount or 0))
        return out


def stage_of(app, deal_name):
    with app.app_context():
        return db.session.scalar(
            sa.select(Stage.name)
            .join(Deal, Deal.stage_id == Stage.id)
            .where(Deal.name == deal_name)
        )


def column(page, stage_name):
    return page.locator("section.board-column").filter(
        has=page.get_by_role("heading", name=stage_name, exact=True)
    )


def check_headers(page, expected):
    for name, (count, total) in expected.items():
        header = column(page, name).locator(".board-column-stats")
        label = "deal" if count == 1 else "deals"
        expect(header).to_contain_text(f"{count} {label}")
        expect(header).to_contain_text(f"{total:,.2f}")


def test_switch_to_board_columns_and_counts(page, log_in, live_server, fresh_app):
    log_in("alice@brightside.example")
    page.get_by_role("link", name="Board").click()
    expect(page).to_have_url(re.compile(r"/deals\?layout=board$"))
    stages = [name for _, name in sales_stages(fresh_app)]
    expect(page.locator("section.board-column h2")).to_have_text(stages)
    check_headers(page, expected_columns(fresh_app))
    shoot(page, "desktop-board")

    # The filters apply to the board: "My deals" keeps the layout.
    page.goto(f"{live_server}/deals?view=mine&f=owner:is_me:&layout=board")
    check_headers(page, expected_columns(fresh_app, "alice@brightside.example"))
    # Back to the table, same filters.
    page.get_by_role("link", name="Table").click()
    expect(page).to_have_url(re.compile(r"/deals\?view=mine&f=owner:is_me:$"))
    expect(page.locator("table.deals-table")).to_be_visible()
    expect(page.locator("section.board-column")).to_have_count(0)


def test_pipeline_picker(page, log_in, live_server):
    log_in("alice@brightside.example")
    page.goto(f"{live_server}/deals?layout=board")
    page.get_by_role("combobox", name="Pipeline", exact=True).select_option(
        label="Partner referrals"
    )
    expect(page).to_have_url(re.compile(r"layout=board&pipeline=\d+$"))
    expect(page.get_by_role("region", name="Board: Partner referrals")).to_be_visible()


def test_move_by_drag(page, log_in, live_server, fresh_app):
    log_in("alice@brightside.example")
    page.goto(f"{live_server}/deals?layout=board")
    (_, first), (_, second) = sales_stages(fresh_app)[:2]
    card = column(page, first).locator(".board-card").first
    name = card.locator(".board-card-name").inner_text()
    before = expected_columns(fresh_app)
    # Dropped on the column's header (anywhere on the column will do).
    card.drag_to(column(page, second).locator(".board-column-header"))
    expect(column(page, second).locator(".board-card-name", has_text=name)).to_be_visible()
    settled(page)
    assert stage_of(fresh_app, name) == second
    after = expected_columns(fresh_app)
    assert after[first][0] == before[first][0] - 1
    assert after[second][0] == before[second][0] + 1
    check_headers(page, after)


def test_move_by_keyboard(page, log_in, live_server, fresh_app):
    log_in("alice@brightside.example")
    page.goto(f"{live_server}/deals?layout=board")
    stages = sales_stages(fresh_app)
    card = column(page, stages[0][1]).locator(".board-card").first
    name = card.locator(".board-card-name").inner_text()
    card_id = card.get_attribute("data-deal-id")
    opener = card.get_by_role("link", name=f"Move to stage: {name}")
    # "Move to stage" opens the board's menu in the card; Esc closes it, focus back.
    opener.focus()
    page.keyboard.press("Enter")
    menu = page.get_by_role("combobox", name=f"Move to stage: {name}")
    expect(menu).to_be_focused()
    page.keyboard.press("Escape")
    expect(menu).to_have_count(0)
    expect(opener).to_be_focused()
    page.keyboard.press("Enter")
    expect(menu).to_be_focused()
    assert serious_violations(page) == []  # the board, a card's menu open
    menu.select_option(label=stages[2][1])
    page.keyboard.press("Tab")
    expect(page.locator(":focus")).to_have_text("Move")
    page.keyboard.press("Enter")
    moved = column(page, stages[2][1]).locator(".board-card-name", has_text=name)
    expect(moved).to_be_visible()
    expect(column(page, stages[0][1]).locator(".board-card-name", has_text=name)).to_have_count(0)
    # Focus follows the card to its new column; screen readers hear where it went.
    expect(
        column(page, stages[2][1]).get_by_role("link", name=f"Move to stage: {name}")
    ).to_be_focused()
    expect(page.get_by_role("status").filter(has_text="moved to")).to_have_text(
        f"“{name}” moved to {stages[2][1]}."
    )
    assert stage_of(fresh_app, name) == stages[2][1]
    check_headers(page, expected_columns(fresh_app))
    assert serious_violations(page) == []  # after the out-of-band swaps
    # The card can move again from its new column (its menu starts there).
    page.keyboard.press("Enter")
    expect(menu).to_have_value(str(stages[2][0]))
    # The card's move page (JavaScript off's way) passes axe too.
    page.goto(f"{live_server}/deals/{card_id}/move?layout=board")
    expect(page.get_by_label(f"Move to stage: {name}")).to_have_value(str(stages[2][0]))
    assert serious_violations(page) == []


def test_move_without_javascript(no_js_page, log_in, live_server, fresh_app):
    page = log_in("alice@brightside.example", no_js_page)
    page.goto(f"{live_server}/deals?layout=board")
    stages = sales_stages(fresh_app)
    card = column(page, stages[1][1]).locator(".board-card").first
    name = card.locator(".board-card-name").inner_text()
    # The card's "Move to stage" is a link to its menu as a form.
    card.get_by_role("link", name=f"Move to stage: {name}").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(name)
    page.get_by_label(f"Move to stage: {name}").select_option(label=stages[3][1])
    page.get_by_role("button", name="Move").click()
    # Post-redirect-get: back on the board, the card in its new column.
    expect(page).to_have_url(re.compile(r"/deals\?layout=board$"))
    expect(column(page, stages[3][1]).locator(".board-card-name", has_text=name)).to_be_visible()
    assert stage_of(fresh_app, name) == stages[3][1]
    check_headers(page, expected_columns(fresh_app))


def test_board_on_a_phone(browser, live_server, log_in, fresh_app):
    context = browser.new_context(viewport=PHONE)
    page = log_in("alice@brightside.example", context.new_page())
    page.goto(f"{live_server}/deals?layout=board")
    board = page.get_by_role("region", name="Board: Sales pipeline")
    expect(board).to_be_visible()
    # The columns scroll inside their own box; the board box itself fits the screen.
    box = board.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    assert board.evaluate("b => b.scrollWidth > b.clientWidth")
    # ... and the page does not scroll sideways.
    assert page.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]
    shoot(page, "phone-board")
    context.close()
