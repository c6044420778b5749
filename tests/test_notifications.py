"""Flow 7: the bell's unread count and the notifications page."""

import re

import pytest
import sqlalchemy as sa
from flask import Response

from models import Notification, Pipeline, SharedDeal, Stage
from services import activity, notifications

BELL = "/notifications/bell"


def act(db_session, shared, actor, summary, before=None, after=None):
    """`actor` changes something on `shared`: the team hears of it (committed)."""
    recorded = activity.record(shared, actor, "notes", summary, before, after)
    db_session.commit()
    return recorded


def notification_of(db_session, user, recorded):
    return db_session.scalar(
        sa.select(Notification).where(
            Notification.user_id == user.id, Notification.activity_id == recorded.id
        )
    )


def unread(db_session, user):
    return db_session.scalar(
        sa.select(sa.func.count(Notification.id)).where(
            Notification.user_id == user.id, Notification.read_at.is_(None)
        )
    )


def summaries(page):
    return re.findall(r"<strong>[^<]+</strong> ([^<]+)</span>", page)


def test_the_bell_shows_the_unread_count_on_every_page(client, login_as, demo, db_session):
    login_as(demo.alice)
    count = unread(db_session, demo.alice)
    assert count > 0  # the demo data left Alice some
    page = client.get("/deals").get_data(as_text=True)
    link = re.search(r'<a id="notifications-link"[^>]*>', page).group(0)
    assert f'aria-label="Notifications, {count} unread"' in link
    assert 'href="/notifications"' in link
    assert f'<span class="count" data-count="{count}">{count}</span>' in page


def test_the_bell_fragment_polls_and_listens_for_changes(client, login_as, demo, db_session):
    login_as(demo.alice)
    r = client.get(BELL, headers={"HX-Request": "true"})
    assert r.status_code == 200
    fragment = r.get_data(as_text=True).strip()
    assert fragment.startswith('<a id="notifications-link"')
    assert 'hx-get="/notifications/bell"' in fragment
    assert 'hx-trigger="every 30s, notifications-changed from:body"' in fragment
    assert 'hx-swap="outerHTML"' in fragment
    assert f"Notifications, {unread(db_session, demo.alice)} unread" in fragment


def test_the_count_changes_after_another_users_action(client, login_as, demo, db_session):
    login_as(demo.alice)
    before = unread(db_session, demo.alice)
    assert f"Notifications, {before} unread" in client.get(BELL).get_data(as_text=True)

    # Rita registers a deal for Brightside: Alice (its admin) hears of it.
    sales = db_session.scalar(
        sa.select(Pipeline).where(
            Pipeline.account_id == demo.northwind.id, Pipeline.name == "Sales pipeline"
        )
    )
    stage = db_session.scalar(sa.select(Stage).where(Stage.pipeline_id == sales.id).limit(1))
    login_as(demo.rita)
    r = client.post(
        "/deals/new",
        data={
            "name": "Hooli chat widget",
            "partner": str(demo.brightside.id),
            "pipeline": str(sales.id),
            "stage": str(stage.id),
        },
    )
    assert r.status_code == 303
    login_as(demo.alice)
    assert f"Notifications, {before + 1} unread" in client.get(BELL).get_data(as_text=True)


def test_the_list_is_newest_first_with_who_what_which_deal(client, login_as, demo, db_session):
    act(db_session, demo.acme_shared, demo.rita, "changed the intro note", "old", "new")
    act(db_session, demo.acme_shared, demo.rita, "changed the next steps")
    login_as(demo.alice)
    page = client.get("/notifications").get_data(as_text=True)
    assert "<h1>Notifications</h1>" in page
    found = summaries(page)
    assert found[:2] == ["changed the next steps", "changed the intro note"]
    assert len(found) == notifications.page_for(demo.alice).items.__len__()
    first = page.index("changed the next steps")
    assert "<strong>Rita Okafor</strong>" in page[first - 200 : first]
    assert "Acme Corp website relaunch" in page[first : first + 600]
    assert '<span class="before">old</span>' in page
    assert re.search(r'<time class="notification-time" datetime="[^"]+Z"', page)


def test_unread_items_are_marked_as_such(client, login_as, demo, db_session):
    recorded = act(db_session, demo.acme_shared, demo.rita, "changed the next steps")
    login_as(demo.alice)
    page = client.get("/notifications").get_data(as_text=True)
    item = page[: page.index("changed the next steps")]
    item = item[item.rindex("<li") :]
    assert 'class="notification unread"' in item
    assert '<span class="visually-hidden">Unread: </span>' in item
    notification_of(db_session, demo.alice, recorded).read_at = notifications.utcnow()
    db_session.commit()
    page = client.get("/notifications").get_data(as_text=True)
    item = page[: page.index("changed the next steps")]
    item = item[item.rindex("<li") :]
    assert '<li class="notification">' in item and "Unread: " not in item


def test_each_links_to_the_users_own_deal(client, login_as, demo, db_session):
    by_rita = act(db_session, demo.acme_shared, demo.rita, "changed the next steps")
    by_alice = act(db_session, demo.acme_shared, demo.alice, "changed the intro note")

    login_as(demo.alice)
    mine = notification_of(db_session, demo.alice, by_rita)
    r = client.post(f"/notifications/{mine.id}/open")
    assert r.status_code == 303
    assert r.headers["Location"] == f"/deals/{demo.acme_shared.partner_deal_id}"

    login_as(demo.rita)
    hers = notification_of(db_session, demo.rita, by_alice)
    r = client.post(f"/notifications/{hers.id}/open")
    assert r.headers["Location"] == f"/deals/{demo.acme_shared.vendor_deal_id}"
    assert client.get(r.headers["Location"]).status_code == 200


def test_opening_one_marks_only_it_read(client, login_as, demo, db_session):
    first = act(db_session, demo.acme_shared, demo.rita, "changed the intro note")
    second = act(db_session, demo.acme_shared, demo.rita, "changed the next steps")
    login_as(demo.alice)
    before = unread(db_session, demo.alice)
    opened = notification_of(db_session, demo.alice, first)
    client.post(f"/notifications/{opened.id}/open")
    db_session.expire_all()
    assert opened.read_at is not None
    assert notification_of(db_session, demo.alice, second).read_at is None
    assert unread(db_session, demo.alice) == before - 1
    # Opening it again is harmless and keeps the first read time.
    read_at = opened.read_at
    assert client.post(f"/notifications/{opened.id}/open").status_code == 303
    db_session.expire_all()
    assert opened.read_at == read_at


def test_the_page_offers_one_post_form_per_item(client, login_as, demo, db_session):
    recorded = act(db_session, demo.acme_shared, demo.rita, "changed the next steps")
    mine = notification_of(db_session, demo.alice, recorded)
    login_as(demo.alice)
    page = client.get("/notifications").get_data(as_text=True)
    assert f'<form method="post" action="/notifications/{mine.id}/open">' in page
    assert client.get(f"/notifications/{mine.id}/open").status_code == 405  # GET changes nothing


def test_mark_all_as_read(client, login_as, demo, db_session):
    act(db_session, demo.acme_shared, demo.alice, "changed the intro note")  # Rita hears of it
    rita_before = unread(db_session, demo.rita)
    login_as(demo.alice)
    assert "Mark all as read</button>" in client.get("/notifications").get_data(as_text=True)
    r = client.post("/notifications/read")
    assert r.status_code == 303 and r.headers["Location"] == "/notifications"
    assert unread(db_session, demo.alice) == 0
    assert unread(db_session, demo.rita) == rita_before  # nobody else's
    page = client.get("/notifications").get_data(as_text=True)
    assert "Marked " in page and "You're all caught up." in page
    assert "Mark all as read</button>" not in page
    assert 'aria-label="Notifications, 0 unread"' in page


def test_htmx_actions_tell_the_bell_to_refresh(client, login_as, demo):
    login_as(demo.alice)
    r = client.post("/notifications/read", headers={"HX-Request": "true"})
    assert r.status_code == 204 and r.headers["HX-Redirect"] == "/notifications"
    assert r.headers["HX-Trigger"] == "notifications-changed"
    # Reads and plain form posts do not need it.
    assert "HX-Trigger" not in client.get(BELL, headers={"HX-Request": "true"}).headers
    assert "HX-Trigger" not in client.post("/notifications/read").headers


@pytest.mark.parametrize(
    ("existing", "expected"),
    [
        ("team-changed", "team-changed, notifications-changed"),
        (
            '{"team-changed": {"id": 1}}',
            '{"team-changed": {"id": 1}, "notifications-changed": null}',
        ),
        ("notifications-changed", "notifications-changed"),
    ],
)
def test_the_refresh_event_joins_other_triggers(app, existing, expected):
    from blueprints.notifications import announce_own_changes

    with app.test_request_context("/x", method="POST", headers={"HX-Request": "true"}):
        response = announce_own_changes(Response(headers={"HX-Trigger": existing}))
    assert response.headers["HX-Trigger"] == expected


def test_another_users_notification_is_404(client, login_as, demo, db_session):
    recorded = act(db_session, demo.acme_shared, demo.alice, "changed the intro note")
    ritas = notification_of(db_session, demo.rita, recorded)
    login_as(demo.hana)
    assert client.post(f"/notifications/{ritas.id}/open").status_code == 404
    login_as(demo.bob)
    assert client.post(f"/notifications/{ritas.id}/open").status_code == 404
    assert client.post("/notifications/987654/open").status_code == 404
    assert client.post(f"/notifications/{2**40}/open").status_code == 404
    db_session.expire_all()
    assert ritas.read_at is None
    assert "changed the intro note" not in client.get("/notifications").get_data(as_text=True)


@pytest.mark.parametrize("url", ["/notifications/read", "/notifications/OPEN"])
def test_missing_csrf_token_is_400(client, login_as, demo, db_session, csrf_enabled, url):
    recorded = act(db_session, demo.acme_shared, demo.rita, "changed the next steps")
    mine = notification_of(db_session, demo.alice, recorded)
    login_as(demo.alice)
    before = unread(db_session, demo.alice)
    r = client.post(url.replace("OPEN", f"{mine.id}/open"))
    assert r.status_code == 400
    assert unread(db_session, demo.alice) == before


def test_the_list_is_bounded_with_older_pages(client, login_as, demo, db_session):
    for number in range(notifications.PAGE_SIZE + 3):
        activity.record(demo.acme_shared, demo.rita, "notes", f"edit number {number}")
    db_session.commit()
    total = db_session.scalar(
        sa.select(sa.func.count(Notification.id)).where(Notification.user_id == demo.alice.id)
    )
    login_as(demo.alice)
    page = client.get("/notifications").get_data(as_text=True)
    assert len(summaries(page)) == notifications.PAGE_SIZE
    assert summaries(page)[0] == f"edit number {notifications.PAGE_SIZE + 2}"
    older = re.search(r'href="(/notifications\?older_than=\d+)">Older notifications</a>', page)
    page2 = client.get(older.group(1)).get_data(as_text=True)
    assert len(summaries(page2)) == total - notifications.PAGE_SIZE
    assert summaries(page2)[0] == "edit number 2"
    assert "Older notifications" not in page2 and ">Newest</a>" in page2


@pytest.mark.parametrize("value", ["0", "-5", "abc", str(2**70)])
def test_odd_paging_values_show_the_first_page(client, login_as, demo, value):
    login_as(demo.alice)
    r = client.get("/notifications", query_string={"older_than": value})
    assert r.status_code == 200
    assert "<h1>Notifications</h1>" in r.get_data(as_text=True)


def test_a_user_without_notifications_sees_an_empty_state(client, login_as, demo, db_session):
    login_as(demo.hana)
    client.post("/notifications/read")
    db_session.execute(sa.delete(Notification).where(Notification.user_id == demo.hana.id))
    db_session.commit()
    page = client.get("/notifications").get_data(as_text=True)
    assert "No notifications yet." in page


def test_notifications_follow_the_side_of_a_new_shared_deal(demo, db_session):
    """The vendor's admin hears of a partner's new shared deal, and lands on the vendor's deal."""
    from services import shared_deals

    referrals = db_session.scalar(
        sa.select(Pipeline).where(
            Pipeline.account_id == demo.harbor.id, Pipeline.name == "Sales pipeline"
        )
    )
    stage = db_session.scalar(sa.select(Stage).where(Stage.pipeline_id == referrals.id).limit(1))
    shared = shared_deals.create(
        demo.hana,
        shared_deals.NewSharedDeal(
            name="Blue Sun rebrand",
            other_party_id=str(demo.northwind.id),
            pipeline_id=str(referrals.id),
            stage_id=str(stage.id),
            intro_note="x",
            pain_or_opportunity="y",
            next_steps="z",
        ),
    )
    (item, *_) = notifications.page_for(demo.rita).items
    assert (item.actor_name, item.deal_name) == ("Hana Sato", "Blue Sun rebrand")
    assert item.deal_id == db_session.get(SharedDeal, shared.id).vendor_deal_id
    assert notifications.open_notification(demo.rita, item.id) == shared.vendor_deal_id


def test_the_unread_count_uses_the_index(db_session, demo):
    statement = sa.select(sa.func.count(Notification.id)).where(
        Notification.user_id == demo.alice.id, Notification.read_at.is_(None)
    )
    bind = db_session.get_bind()
    compiled = statement.compile(bind, compile_kwargs={"literal_binds": True})
    if bind.dialect.name == "sqlite":
        rows = db_session.execute(sa.text(f"EXPLAIN QUERY PLAN {compiled}"))
        plan = " ".join(str(row[-1]) for row in rows)
        assert "COVERING INDEX ix_notifications_user_unread" in plan
    else:
        # A demo-sized table is cheaper to scan; with scans priced out, the index must serve.
        db_session.execute(sa.text("SET LOCAL enable_seqscan = off"))
        plan = " ".join(row[0] for row in db_session.execute(sa.text(f"EXPLAIN {compiled}")))
        assert "ix_notifications_user_unread" in plan
    assert notifications.unread_count(demo.alice) == unread(db_session, demo.alice)
