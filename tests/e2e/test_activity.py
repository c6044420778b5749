"""The Activity's "Show more": in place with JavaScript (focus and announcement), a page
without it."""

import re

import sqlalchemy as sa
from playwright.sync_api import expect

from tests.e2e.a11y_helpers import serious_violations
from tests.e2e.deal_helpers import acme_url

NOTES = 30  # a first page of 20, then the 10 older notes and the demo's own history


def long_history(app):
    from extensions import db
    from models import SharedDeal, User
    from services import activity

    with app.app_context():
        rita = db.session.scalar(sa.select(User).where(User.email == "rita@northwind.example"))
        shared = db.session.scalars(sa.select(SharedDeal).order_by(SharedDeal.id)).first()
        for n in range(NOTES):
            activity.record(shared, rita, "note", f"note number {n}")
        db.session.commit()


def test_show_more_in_place_focuses_the_first_older_entry(page, live_server, fresh_app, log_in):
    long_history(fresh_app)
    log_in("alice@brightside.example")
    page.goto(acme_url(live_server, fresh_app))
    entries = page.locator("#activity-list > li.timeline-item")
    expect(entries).to_have_count(20)
    expect(entries.first).to_contain_text(f"note number {NOTES - 1}")
    page.locator("#activity").get_by_role("link", name="Show more").click()
    # The next rows in place of the link, the first of them focused and announced.
    expect(entries.nth(20)).to_be_focused()
    expect(entries.nth(20)).to_contain_text(f"note number {NOTES - 21}")
    expect(page.locator("#live-status")).to_have_text(re.compile(r"^\d+ older entries shown$"))
    expect(page.locator("#activity-list > li").last).to_contain_text("created the shared deal")
    expect(page.locator("#activity").get_by_role("link", name="Show more")).to_have_count(0)
    assert page.url == acme_url(live_server, fresh_app)  # still the deal page
    assert serious_violations(page) == []


def test_show_more_without_javascript_opens_the_older_activity(
    no_js_page, live_server, fresh_app, log_in
):
    long_history(fresh_app)
    page = no_js_page
    log_in("alice@brightside.example", page)
    page.goto(acme_url(live_server, fresh_app))
    page.locator("#activity").get_by_role("link", name="Show more").click()
    page.wait_for_url(re.compile(r"/deals/\d+/activity\?before=\d+$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Activity: Acme Corp website relaunch"
    )
    items = page.locator("#activity li.timeline-item")
    expect(items.first).to_contain_text(f"note number {NOTES - 21}")
    expect(items.last).to_contain_text("created the shared deal")
    page.get_by_role("navigation", name="Breadcrumb").get_by_role(
        "link", name=re.compile("Acme")
    ).click()
    expect(page.locator("#activity-list > li.timeline-item")).to_have_count(20)


def test_every_kind_of_entry_sets_its_avatar_beside_its_words(page, live_server, fresh_app, log_in):
    """Each entry's avatar sits left of its text, whatever its action: an entry's class
    names its action, and "field" (a deal field's change) once took the form fields'
    column layout, putting the avatar on a line of its own."""
    from extensions import db
    from models import SharedDeal, User
    from services import activity

    with fresh_app.app_context():
        rita = db.session.scalar(sa.select(User).where(User.email == "rita@northwind.example"))
        shared = db.session.scalars(sa.select(SharedDeal).order_by(SharedDeal.id)).first()
        for action in ("field", "stage", "pipeline", "note", "team", "products"):
            activity.record(shared, rita, action, f"an entry of kind {action}", "before", "after")
        db.session.commit()
    log_in("alice@brightside.example")
    page.goto(acme_url(live_server, fresh_app))
    entries = page.locator("#activity-list > li.timeline-item")
    expect(entries.first).to_contain_text("an entry of kind products")
    for n in range(6):
        avatar = entries.nth(n).locator(".avatar").bounding_box()
        words = entries.nth(n).locator(".timeline-body").bounding_box()
        assert avatar["x"] + avatar["width"] <= words["x"], entries.nth(n).inner_text()
        assert abs(avatar["y"] - words["y"]) < avatar["height"], entries.nth(n).inner_text()
