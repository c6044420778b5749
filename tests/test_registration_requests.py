"""Registration requests: a partner asks, a vendor rep approves (registering the deal)
or declines with a reason; one open request at a time; only active registrations count."""

import threading
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from extensions import db
from models import Deal, DealRegistration, Notification, RegistrationRequest, SharedDeal, User
from services import registration_queries, registration_requests, shared_card, shared_deals
from services.errors import Forbidden, Invalid, NotFound
from tests.databases import sqlite_plan
from tests.html import page, text

TODAY = date.today()
HOOLI = "Hooli customer portal"


def shared_of(db_session, demo, name):
    deal = demo.deal(demo.brightside, name)
    return db_session.scalar(sa.select(SharedDeal).where(SharedDeal.partner_deal_id == deal.id))


def active_count(db_session, deal_id, today=TODAY):
    return db_session.scalar(
        sa.select(registration_queries.active_count_for_deal(today)).where(Deal.id == deal_id)
    )


def open_request(db_session, shared):
    return db_session.scalar(
        sa.select(RegistrationRequest).where(
            RegistrationRequest.shared_deal_id == shared.id,
            RegistrationRequest.status == "requested",
        )
    )


def unregistered(db_session, demo):
    """A fresh partner-created shared deal: unregistered, no request."""
    from tests.test_services_shared_deals import partner_input

    return shared_deals.create(demo.alice, partner_input(db_session, demo))


def test_the_demo_has_an_open_and_a_declined_request(db_session, demo):
    statuses = sorted(db_session.scalars(sa.select(RegistrationRequest.status)))
    assert statuses == ["declined", "requested"]
    assert open_request(db_session, shared_of(db_session, demo, HOOLI)) is not None


def test_request_then_approve_registers_the_deal(db_session, demo):
    shared = unregistered(db_session, demo)
    request_id = registration_requests.request(shared, demo.alice, "Please register")
    assert active_count(db_session, shared.partner_deal_id) == 0  # requested never counts
    registration_id = registration_requests.approve(
        shared, demo.rita, request_id, TODAY + timedelta(days=30)
    )
    db_session.expire_all()
    made = db_session.get(RegistrationRequest, request_id)
    assert (made.status, made.decided_by_id, made.registration_id) == (
        "approved",
        demo.rita.id,
        registration_id,
    )
    assert active_count(db_session, shared.partner_deal_id) == 1
    assert active_count(db_session, shared.vendor_deal_id) == 1
    # The registration stops counting the day after its expiry date.
    assert active_count(db_session, shared.partner_deal_id, TODAY + timedelta(days=31)) == 0
    told = set(db_session.scalars(sa.select(Notification.user_id)))
    assert demo.alice.id in told


def test_decline_needs_a_reason_and_never_counts(db_session, demo):
    shared = unregistered(db_session, demo)
    request_id = registration_requests.request(shared, demo.alice)
    with pytest.raises(Invalid):
        registration_requests.decline(shared, demo.rita, request_id, "   ")
    registration_requests.decline(shared, demo.rita, request_id, "Direct account")
    db_session.expire_all()
    made = db_session.get(RegistrationRequest, request_id)
    assert (made.status, made.decline_reason) == ("declined", "Direct account")
    assert active_count(db_session, shared.partner_deal_id) == 0
    # Decided: it cannot be approved any more, and a new request may be made.
    with pytest.raises(Invalid):
        registration_requests.approve(shared, demo.rita, made.id, None)
    registered = sa.select(sa.func.count(DealRegistration.id)).where(
        DealRegistration.shared_deal_id == shared.id
    )
    assert db_session.scalar(registered) == 0  # the refused approval wrote nothing
    again = registration_requests.request(shared, demo.alice)
    assert db_session.get(RegistrationRequest, again).status == "requested"


def test_one_open_request_at_a_time(db_session, demo):
    shared = unregistered(db_session, demo)
    registration_requests.request(shared, demo.alice)
    with pytest.raises(Invalid, match="already open"):
        registration_requests.request(shared, demo.bob)


def test_a_registered_deal_cannot_be_requested(db_session, demo):
    with pytest.raises(Invalid, match="already registered"):
        registration_requests.request(demo.acme_shared, demo.alice)


def test_only_partners_request_and_only_vendors_decide(db_session, demo):
    shared = unregistered(db_session, demo)
    with pytest.raises(Forbidden):
        registration_requests.request(shared, demo.rita)
    request_id = registration_requests.request(shared, demo.alice)
    with pytest.raises(Forbidden):
        registration_requests.approve(shared, demo.alice, request_id, None)
    with pytest.raises(Forbidden):
        registration_requests.decline(shared, demo.bob, request_id, "no")
    other = shared_of(db_session, demo, HOOLI)
    with pytest.raises(NotFound):  # a request of another shared deal
        registration_requests.approve(other, demo.rita, request_id, None)


def test_the_conflict_warning_lists_other_partners_on_the_same_company(db_session, demo):
    shared = unregistered(db_session, demo)
    partner_deal = db_session.get(Deal, shared.partner_deal_id)
    wayne = db_session.scalar(sa.select(Deal).where(Deal.name == "Wayne Enterprises content hub"))
    partner_deal.company_name = " wayne  ENTERPRISES"
    db_session.commit()
    assert wayne.company_name.replace(" ", "").lower() == "wayneenterprises"
    # The vendor sees them while a request is open.
    assert shared_card.card_for(demo.rita, shared).conflicts == []
    registration_requests.request(shared, demo.alice)
    (conflict,) = shared_card.card_for(demo.rita, shared).conflicts
    assert conflict.partner == "Harbor Digital"
    assert shared_card.card_for(demo.alice, shared).conflicts == []  # the vendor's only
    # The same partner's own deals are no conflict.
    partner_deal.company_name = "Acme Corp"
    db_session.commit()
    assert shared_card.card_for(demo.rita, shared).conflicts == []


def test_the_vendor_view_lists_open_requests(client, login_as, demo, db_session):
    login_as(demo.rita)
    doc = page(client.get("/deals?view=requests&f=open_requests:gt:0"))
    names = text(doc.find("table"))
    assert HOOLI in names and "Acme Corp website relaunch" not in names
    assert "Registration requests" in text(doc.select_one(".view-tabs"))
    login_as(demo.alice)
    assert "Registration requests" not in text(page(client.get("/deals")).select_one(".view-tabs"))


def test_request_and_approve_over_http(client, login_as, demo, db_session):
    shared = unregistered(db_session, demo)
    partner_id, vendor_id = shared.partner_deal_id, shared.vendor_deal_id
    login_as(demo.alice)
    r = client.post(f"/deals/{partner_id}/registration-requests", data={"message": "please"})
    assert r.status_code == 303
    again = client.post(f"/deals/{partner_id}/registration-requests", data={"message": ""})
    assert again.status_code == 400 and "already open" in again.get_data(as_text=True)
    made = open_request(db_session, shared)
    # A partner cannot approve; another account's user gets a 404.
    url = f"/deals/{partner_id}/registration-requests/{made.id}/approval"
    assert client.post(url, data={}).status_code == 403
    login_as(demo.hana)
    assert client.post(url, data={}).status_code == 404
    login_as(demo.rita)
    card = page(client.get(f"/deals/{vendor_id}"))
    assert "Approve" in text(card) and "Decline" in text(card)
    url = f"/deals/{vendor_id}/registration-requests/{made.id}/decline"
    bad = client.post(url, data={"reason": ""})
    assert bad.status_code == 400 and "Give a reason" in bad.get_data(as_text=True)
    approve = f"/deals/{vendor_id}/registration-requests/{made.id}/approval"
    assert client.post(approve, data={"expires_on": "2000-01-01"}).status_code == 400
    assert client.post(approve, data={"expires_on": ""}).status_code == 303
    db_session.expire_all()
    assert active_count(db_session, partner_id) == 1
    login_as(demo.alice)
    registered = page(client.get("/deals?view=registered&f=active_registrations:gt:0"))
    assert shared_deal_name(db_session, partner_id) in text(registered.find("table"))


def shared_deal_name(db_session, deal_id):
    return db_session.get(Deal, deal_id).name


def test_deregister_asks_first(client, login_as, demo, db_session):
    login_as(demo.rita)
    vendor_id = demo.acme_shared.vendor_deal_id
    registration = db_session.scalar(
        sa.select(DealRegistration).where(DealRegistration.shared_deal_id == demo.acme_shared.id)
    )
    url = f"/deals/{vendor_id}/registrations/{registration.id}/deregistration"
    confirm = page(client.get(url))
    assert "Deregister this registration?" in text(confirm)
    assert registration.deregistered_at is None
    assert client.post(url).status_code == 303
    db_session.expire_all()
    assert db_session.get(DealRegistration, registration.id).deregistered_at is not None
    login_as(demo.alice)
    assert (
        client.get(
            f"/deals/{demo.acme.id}/registrations/{registration.id}/deregistration"
        ).status_code
        == 403
    )


def test_two_partner_users_request_at_once_one_request(fresh_app):
    with fresh_app.app_context():
        users = {u.email.split("@")[0]: u.id for u in db.session.scalars(sa.select(User))}
        shared_id = db.session.scalar(
            sa.select(SharedDeal.id)
            .join(Deal, Deal.id == SharedDeal.partner_deal_id)
            .where(Deal.name == "Umbrella marketing automation")
        )
    barrier = threading.Barrier(2)
    outcomes, errors = [], []

    def ask(who):
        try:
            with fresh_app.app_context():
                actor = db.session.get(User, users[who])
                shared = db.session.get(SharedDeal, shared_id)
                db.session.rollback()
                barrier.wait(timeout=30)
                try:
                    registration_requests.request(shared, actor)
                    outcomes.append("requested")
                except Invalid as error:
                    outcomes.append(error.message)
                db.session.remove()
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=ask, args=(who,)) for who in ("alice", "carol")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    assert sorted(outcomes) == sorted(["requested", registration_requests.ALREADY_OPEN])
    with fresh_app.app_context():
        count = db.session.scalar(
            sa.select(sa.func.count(RegistrationRequest.id)).where(
                RegistrationRequest.shared_deal_id == shared_id
            )
        )
    assert count == 1


# sqlite_stat1 as a sampled ANALYZE (analysis_limit 1000) leaves it at 1,000,000 deals (the
# bench's seed): a company's registered deals and a vendor's shared deals both look like
# 1,001 rows.
BENCH_STATISTICS = {
    ("deal_registrations", "ix_deal_registrations_active"): "10395 1 1 1",
    ("deals", "ix_deals_account_amount"): "2325090 1001 20 1",
    ("deals", "ix_deals_account_close_date"): "2105280 1001 1001 1",
    ("deals", "ix_deals_account_created"): "1772928 1001 2 1 1 1 1 1 1 1",
    ("deals", "ix_deals_account_name"): "2120400 1001 1 1",
    ("deals", "ix_deals_account_open_request"): "2 1 1 1 1 1",
    ("deals", "ix_deals_account_owner"): "2407072 1001 1001 1",
    ("deals", "ix_deals_account_pipeline"): "2424324 1001 1001 1",
    ("deals", "ix_deals_account_registered"): "30636 1001 2 1 1 1",
    ("deals", "ix_deals_account_stage"): "2352352 1001 1001 1",
    ("deals", "ix_deals_account_stage_board"): "2125464 1001 1001 2 2 1",
    ("deals", "ix_deals_account_stage_bucket"): "2453100 1001 1001 21 14",
    ("deals", "ix_deals_registered_company_key"): "34704 1001",
    ("deals", "sqlite_autoindex_deals_1"): "2591714 1001 1",
    ("shared_deals", "ix_shared_deals_parties"): "21576 1001 1001 1 1",
    ("shared_deals", "ix_shared_deals_vendor_account"): "20416 1001",
    ("shared_deals", "sqlite_autoindex_shared_deals_1"): "22080 1",
    ("shared_deals", "sqlite_autoindex_shared_deals_2"): "20280 1",
}


def test_sqlite_finds_conflicts_from_the_companys_registered_deals(db_session, demo):
    """SQLite starts from the company's registered deals (the company key's index), not
    from every shared deal of the vendor, whatever its sampled statistics say (1,000,000
    deals: 15-22 ms walking the vendor's shared deals, 8 ms from the company)."""
    if db_session.get_bind().dialect.name != "sqlite":
        pytest.skip("EXPLAIN QUERY PLAN is SQLite's; PostgreSQL plans from its own statistics")
    connection = db_session.connection()
    connection.exec_driver_sql("ANALYZE")
    for (table, index), stat in BENCH_STATISTICS.items():
        connection.exec_driver_sql(
            "INSERT OR REPLACE INTO sqlite_stat1 (tbl, idx, stat) VALUES (?, ?, ?)",
            (table, index, stat),
        )
    connection.exec_driver_sql("ANALYZE sqlite_schema")  # the planner reads them again
    shared = demo.acme_shared
    stmt = registration_requests.conflicts_select(
        shared.vendor_account_id, shared.partner_account_id, shared.partner_deal_id, date.today()
    )
    _sql, plan = sqlite_plan(db_session, stmt)
    assert any(step.endswith("ix_deals_registered_company_key (<expr>=?)") for step in plan), plan
    assert not any("ix_shared_deals_vendor_account" in step for step in plan), plan
