"""Flow 7: the bell's unread count and the notifications page."""

import re

import pytest
import sqlalchemy as sa

from models import Notification, Pipeline, SharedDeal, Stage
from services import activity, notifications
from tests.html import (
    button,
    buttons,
    heading,
    is_fragment,
    link,
    links,
    page,
    region,
    statuses,
    text,
)

HTMX_HEADERS = {"HX-Request": "true"}
BELL = "/notifications/bell"


def act(db_session, shared, actor, summary, before=None, after=None):
    """`actor` changes something on `shared`: the team hears of it (committed)."""
    recorded = activity.record(shared, actor, "notes", summary, before, after)
    db_session.commit()
    return recorded


def notification_of(db_session, user, recorded: int):
    return db_session.scalar(
        sa.select(Notification).where(
            Notification.user_id == user.id, Notification.activity_id == recorded
        )
    )


def unread(db_session, user):
    return db_session.scalar(
        sa.select(sa.func.count(Notification.id)).where(
            Notification.user_id == user.id, Notification.read_at.is_(None)
        )
    )


def listed(doc):
    """The notifications listed, newest first, each as its reader meets it: who did what,
    on which deal, the change, whether it is unread, and where its button posts."""
    items = []
    for item in region(doc, "Notifications, newest first").find_all("li"):
        line = item.select_one(".notification-text")
        change = item.select_one(".notification-change")
        items.append(
            {
                "who": text(line.find("strong")),
                "what": " ".join("".join(line.find_all(string=True, recursive=False)).split()),
                "deal": text(item.select_one(".notification-deal")),
                "change": text(change) if change else "",
                "unread": text(line).startswith("Unread: "),
                "unread_style": "unread" in item["class"],
                "form": item.find("form"),
                "time": item.find("time"),
            }
        )
    return items


def summaries(doc):
    """What happened, per listed notification, newest first ("changed the next steps")."""
    return [item["what"] for item in listed(doc)]


def bell(doc):
    """The bell: the link to the notifications page, named with the unread count."""
    return doc.find(id="notifications-link")


def test_the_bell_shows_the_unread_count_on_every_page(client, login_as, demo, db_session):
    login_as(demo.alice)
    count = unread(db_session, demo.alice)
    assert count > 0  # the demo data left Alice some
    doc = page(client.get("/deals"))
    assert link(doc, f"Notifications, {count} unread")["href"] == "/notifications"
    assert text(bell(doc)) == str(count)  # the number on the bell
    assert bell(doc).find(attrs={"data-count": str(count)})


@pytest.mark.parametrize("where", ["/deals", "/deals?layout=board", "acme", BELL])
def test_the_bell_counts_up_to_99_then_says_more(client, login_as, demo, db_session, where):
    """Past 99 unread the bell says "99+" (visible and in its name) on every page, and stops
    counting there; the notifications page still says how many."""
    for n in range(100 - unread(db_session, demo.alice)):
        activity.record(demo.acme_shared, demo.rita, "notes", f"note {n}")
    db_session.commit()
    login_as(demo.alice)
    path = f"/deals/{demo.acme.id}" if where == "acme" else where
    doc = page(client.get(path))
    assert link(doc, "Notifications, more than 99 unread") and text(bell(doc)) == "99+"
    assert unread(db_session, demo.alice) == 100
    activity.record(demo.acme_shared, demo.rita, "notes", "one more")
    db_session.commit()
    doc = page(client.get(path))
    assert link(doc, "Notifications, more than 99 unread") and text(bell(doc)) == "99+"
    # It counted no further than 100 (the walk every page pays is bounded).
    assert notifications.unread_for_bell(demo.alice) == 100
    notifications_page = page(client.get("/notifications"))
    assert notifications_page.find(string=re.compile(r"^\s*101 unread\s*$"))
    login_as(demo.rita)  # her own changes: no notification, and her count is exact
    count = unread(db_session, demo.rita)
    assert 0 < count < 100
    assert link(page(client.get(BELL)), f"Notifications, {count} unread")


def test_the_bell_fragment_polls_and_listens_for_changes(client, login_as, demo, db_session):
    login_as(demo.alice)
    r = client.get(BELL, headers={"HX-Request": "true"})
    assert r.status_code == 200
    doc = page(r)
    # Only the bell itself, which replaces itself (outerHTML) on each poll.
    assert is_fragment(doc) and [node.name for node in doc.body.find_all(recursive=False)] == ["a"]
    fresh = bell(doc)
    assert fresh["hx-get"] == "/notifications/bell"
    assert fresh["hx-trigger"] == "every 30s, notifications-changed from:body"
    assert fresh["hx-swap"] == "outerHTML"
    assert links(doc) == [f"Notifications, {unread(db_session, demo.alice)} unread"]


def test_the_count_changes_after_another_users_action(client, login_as, demo, db_session):
    login_as(demo.alice)
    before = unread(db_session, demo.alice)
    assert links(page(client.get(BELL))) == [f"Notifications, {before} unread"]

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
    assert links(page(client.get(BELL))) == [f"Notifications, {before + 1} unread"]


def test_the_list_is_newest_first_with_who_what_which_deal(client, login_as, demo, db_session):
    act(db_session, demo.acme_shared, demo.rita, "changed the intro note", "old", "new")
    act(db_session, demo.acme_shared, demo.rita, "changed the next steps")
    login_as(demo.alice)
    doc = page(client.get("/notifications"))
    assert heading(doc, 1) == "Notifications"
    found = listed(doc)
    assert [item["what"] for item in found[:2]] == [
        "changed the next steps",
        "changed the intro note",
    ]
    assert len(found) == notifications.page_for(demo.alice).items.__len__()
    first, second = found[:2]
    assert (first["who"], first["deal"]) == ("Rita Okafor", "Acme Corp website relaunch")
    assert second["change"] == "old changed to new"  # the arrow is read as "changed to"
    assert first["time"]["datetime"].endswith("Z") and text(first["time"])


def test_unread_items_are_marked_as_such(client, login_as, demo, db_session):
    recorded = act(db_session, demo.acme_shared, demo.rita, "changed the next steps")
    login_as(demo.alice)
    item = listed(page(client.get("/notifications")))[0]
    assert item["what"] == "changed the next steps"
    assert item["unread"] and item["unread_style"]  # read out, and shown
    notification_of(db_session, demo.alice, recorded).read_at = notifications.utcnow()
    db_session.commit()
    item = listed(page(client.get("/notifications")))[0]
    assert item["what"] == "changed the next steps"
    assert not item["unread"] and not item["unread_style"]


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
    form = listed(page(client.get("/notifications")))[0]["form"]
    assert (form["method"], form["action"]) == ("post", f"/notifications/{mine.id}/open")
    assert form.find("button")["type"] == "submit"
    assert client.get(f"/notifications/{mine.id}/open").status_code == 405  # GET changes nothing


def test_mark_all_as_read(client, login_as, demo, db_session):
    act(db_session, demo.acme_shared, demo.alice, "changed the intro note")  # Rita hears of it
    rita_before = unread(db_session, demo.rita)
    login_as(demo.alice)
    assert button(page(client.get("/notifications")), "Mark all as read")
    r = client.post("/notifications/read")
    assert r.status_code == 303 and r.headers["Location"] == "/notifications"
    assert unread(db_session, demo.alice) == 0
    assert unread(db_session, demo.rita) == rita_before  # nobody else's
    doc = page(client.get("/notifications"))
    assert any(message.startswith("Marked ") for message in statuses(doc))
    assert "You're all caught up." in text(doc.find("main"))
    assert "Mark all as read" not in buttons(doc)
    assert link(doc, "Notifications, 0 unread")
    assert not any(item["unread"] for item in listed(doc))


def test_htmx_changes_tell_the_bell_to_refresh(client, login_as, demo):
    login_as(demo.alice)
    r = client.post(
        f"/deals/{demo.acme.id}/fields/amount", data={"amount": "1200"}, headers=HTMX_HEADERS
    )
    assert r.status_code == 200 and r.headers["HX-Trigger"] == "notifications-changed"
    # Reads and plain form posts do not need it (a plain post loads a whole new page).
    assert "HX-Trigger" not in client.get(BELL, headers=HTMX_HEADERS).headers
    r = client.post(f"/deals/{demo.acme.id}/fields/amount", data={"amount": "1300"})
    assert r.status_code == 303 and "HX-Trigger" not in r.headers


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
    assert "changed the intro note" not in text(page(client.get("/notifications")).find("main"))


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
    doc = page(client.get("/notifications"))
    assert len(summaries(doc)) == notifications.PAGE_SIZE
    assert summaries(doc)[0] == f"edit number {notifications.PAGE_SIZE + 2}"
    older = link(region(doc, "More notifications"), "Older notifications")["href"]
    assert re.fullmatch(r"/notifications\?older_than=\d+", older)
    doc2 = page(client.get(older))
    assert len(summaries(doc2)) == total - notifications.PAGE_SIZE
    assert summaries(doc2)[0] == "edit number 2"
    assert links(region(doc2, "More notifications")) == ["Newest"]


@pytest.mark.parametrize("value", ["0", "-5", "abc", str(2**70)])
def test_odd_paging_values_show_the_first_page(client, login_as, demo, value):
    login_as(demo.alice)
    r = client.get("/notifications", query_string={"older_than": value})
    assert r.status_code == 200
    assert heading(page(r), 1) == "Notifications"


def test_a_user_without_notifications_sees_an_empty_state(client, login_as, demo, db_session):
    login_as(demo.hana)
    client.post("/notifications/read")
    db_session.execute(sa.delete(Notification).where(Notification.user_id == demo.hana.id))
    db_session.commit()
    main = page(client.get("/notifications")).find("main")
    assert "No notifications yet." in text(main) and not main.find("li")


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
            other_party_id=demo.northwind.id,
            pipeline_id=referrals.id,
            stage_id=stage.id,
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
        # A demo-sized table is cheaper to scan; with scans priced out, an index on the
        # user must serve. On a table this small the planner may price the unique
        # (user_id, activity_id) index level with the partial one: either is a lookup.
        db_session.execute(sa.text("SET LOCAL enable_seqscan = off"))
        plan = " ".join(row[0] for row in db_session.execute(sa.text(f"EXPLAIN {compiled}")))
        assert "Index" in plan and "Seq Scan" not in plan, plan
        assert "ix_notifications_user_unread" in plan or "Index Cond: (user_id =" in plan, plan
    assert notifications.unread_count(demo.alice) == unread(db_session, demo.alice)
