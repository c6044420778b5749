"""deals.registered_until (migration 0008) says exactly what the registration count says.

"Registered deals" reads the deal's registered_until (through the partial index
ix_deals_account_registered); the rows still show the correlated count. These
tests hold the two to the same answer through every kind of registration write
and across expiry days, and run every index shape that reads the partial index.
"""

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from extensions import db
from models import Deal, DealRegistration, RegistrationRequest, SharedDeal, User
from services import deal_index, registration_queries, registration_requests, registrations
from services.deal_index import COLUMNS, Scope, parse_query
from tests.databases import sqlite_plan

TODAY = date.today()
DAYS = [TODAY + timedelta(days=n) for n in (-1, 0, 1, 9, 10, 11, 400)]


def registered_by_column(account_id, day):
    return set(db.session.scalars(registration_queries.registered_deal_ids(account_id, day)))


def registered_by_count(account_id, day):
    count = registration_queries.active_count_for_deal(day)
    return set(
        db.session.scalars(sa.select(Deal.id).where(Deal.account_id == account_id, count > 0))
    )


def assert_column_agrees_with_count(demo):
    for account in (demo.brightside, demo.northwind, demo.harbor):
        for day in DAYS:
            assert registered_by_column(account.id, day) == registered_by_count(account.id, day), (
                account.name,
                day,
            )


def test_registered_until_follows_every_registration_write(db_session, demo):
    shared = demo.acme_shared
    assert_column_agrees_with_count(demo)  # the demo data, as loaded

    # A registration with an expiry, then one without: the later wins, then "forever".
    ten_days = registrations.add(shared, demo.rita, TODAY + timedelta(days=10), TODAY)
    assert_column_agrees_with_count(demo)
    forever = registrations.add(shared, demo.rita, None, TODAY)
    deals = [db_session.get(Deal, i) for i in (shared.partner_deal_id, shared.vendor_deal_id)]
    for deal in deals:
        db_session.refresh(deal)
        assert deal.registered_until == date(9999, 12, 31)  # both sides of the shared deal
    assert_column_agrees_with_count(demo)

    # Deregistered: the other registrations decide again.
    registrations.deregister(shared, demo.rita, forever, TODAY)
    assert_column_agrees_with_count(demo)
    for deal in deals:
        db_session.refresh(deal)
        assert deal.registered_until >= TODAY + timedelta(days=10)

    # Re-dated, moved to another shared deal, removed: written straight, as a fix would be.
    ten_days = db_session.get(DealRegistration, ten_days)
    ten_days.expires_on = TODAY + timedelta(days=400)
    db_session.flush()
    assert_column_agrees_with_count(demo)
    other = db_session.scalar(sa.select(SharedDeal).where(SharedDeal.id != shared.id))
    ten_days.shared_deal_id = other.id
    db_session.flush()
    assert_column_agrees_with_count(demo)
    db_session.delete(ten_days)
    db_session.flush()
    assert_column_agrees_with_count(demo)

    for registration in db_session.scalars(
        sa.select(DealRegistration).where(DealRegistration.deregistered_at.is_(None))
    ):
        registrations.deregister(
            db_session.get(SharedDeal, registration.shared_deal_id), demo.rita, registration.id
        )
    assert_column_agrees_with_count(demo)
    assert (
        db_session.scalar(sa.select(sa.func.count()).where(Deal.registered_until.is_not(None))) == 0
    )


def index_rows(user, query, today):
    choices = deal_index.index_reference(user).choices
    state = parse_query(query, choices).state
    page = deal_index.index_page(Scope.of(user, today), state, choices)
    everything = db.session.execute(
        deal_index.export_select(Scope.of(user, today), state, choices)
    ).all()
    return page, everything


SORTS = [key for key, column in COLUMNS.items() if column.sortable]


@pytest.mark.parametrize("sort", SORTS + [f"-{key}" for key in SORTS])
def test_every_sort_of_registered_deals_reads_the_same_deals(demo, sort):
    """Each sort shape reads the partial index (forced on SQLite): same deals, same order."""
    for user in (demo.alice, demo.rita):
        for day in (TODAY, TODAY + timedelta(days=400)):
            page, everything = index_rows(user, f"f=active_registrations:gt:0&sort={sort}", day)
            expected = registered_by_count(user.account_id, day)
            assert {row.id for row in everything} == expected
            assert [row.id for row in page.rows] == [row.id for row in everything][:25]
            assert page.matched == len(expected)
            assert all(row.active_registrations > 0 for row in page.rows)


@pytest.mark.parametrize(
    "query",
    [
        "f=active_registrations:gt:0&q=acme",
        "f=active_registrations:gt:0&f=amount:gt:1",
        "f=active_registrations:eq:1&sort=-amount",
        "f=active_registrations:between:1..3&f=close_date:next_days:3650",
        "f=active_registrations:gt:0&f=active_registrations:lt:5",
    ],
)
def test_registered_deals_with_other_conditions(demo, query):
    page, everything = index_rows(demo.rita, query, TODAY)
    assert [row.id for row in page.rows] == [row.id for row in everything][:25]
    assert page.matched == len(everything) > 0


def test_registered_deals_board_reads_the_same_deals(db_session, demo):
    choices = deal_index.index_reference(demo.rita).choices
    for pipeline in choices.get("pipeline"):
        query = f"f=active_registrations:gt:0&layout=board&pipeline={pipeline.id}"
        state = parse_query(query, choices).state
        board = deal_index.board(Scope.of(demo.rita, TODAY), state, choices)
        in_pipeline = set(
            db_session.scalars(sa.select(Deal.id).where(Deal.pipeline_id == pipeline.id))
        )
        expected = registered_by_count(demo.rita.account_id, TODAY) & in_pipeline
        assert board.count == len(expected)
        assert {card.id for column in board.columns for card in column.cards} == expected


def test_sqlite_is_told_to_read_the_partial_index(db_session, demo):
    if db_session.get_bind().dialect.name != "sqlite":
        pytest.skip("INDEXED BY is SQLite's; PostgreSQL's planner has real statistics")
    choices = deal_index.index_reference(demo.alice).choices
    state = parse_query("f=active_registrations:gt:0&sort=-amount", choices).state
    stmt = deal_index.export_select(Scope.of(demo.alice, TODAY), state, choices)
    sql, plan = sqlite_plan(db_session, stmt)
    assert f"deals INDEXED BY {registration_queries.REGISTERED_INDEX}" in sql
    assert any(registration_queries.REGISTERED_INDEX in step for step in plan)


def open_by_column(account_id):
    open_now = registration_queries.has_open_request()
    return set(
        db.session.scalars(sa.select(Deal.id).where(Deal.account_id == account_id, open_now))
    )


def open_by_count(account_id):
    count = registration_queries.open_request_count_for_deal()
    return set(
        db.session.scalars(sa.select(Deal.id).where(Deal.account_id == account_id, count > 0))
    )


def assert_open_column_agrees_with_count(demo):
    for account in (demo.brightside, demo.northwind, demo.harbor):
        assert open_by_column(account.id) == open_by_count(account.id), account.name


def test_open_request_since_follows_every_request_write(db_session, demo):
    """Migration 0017's triggers: both deals of a shared deal carry its open request."""
    assert_open_column_agrees_with_count(demo)  # the demo data, as loaded
    assert open_by_column(demo.northwind.id)  # the demo has open requests
    free = db_session.scalars(  # no active registration, no open request: may be asked for
        sa.select(SharedDeal)
        .where(
            SharedDeal.id.not_in(
                sa.select(DealRegistration.shared_deal_id).where(
                    registration_queries.active_condition(TODAY)
                )
            ),
            SharedDeal.id.not_in(
                sa.select(RegistrationRequest.shared_deal_id).where(
                    RegistrationRequest.status == "requested"
                )
            ),
        )
        .order_by(SharedDeal.id)
    ).all()
    shared, other = free[:2]
    ours = {shared.partner_deal_id, shared.vendor_deal_id}
    partner = db_session.get(User, db_session.get(Deal, shared.partner_deal_id).owner_id)

    request_id = registration_requests.request(shared, partner, "Please", TODAY)
    assert_open_column_agrees_with_count(demo)
    assert ours <= open_by_column(demo.northwind.id) | open_by_column(partner.account_id)
    registration_requests.decline(shared, demo.rita, request_id, "No")
    assert_open_column_agrees_with_count(demo)
    assert not ours & (open_by_column(demo.northwind.id) | open_by_column(partner.account_id))
    again = registration_requests.request(shared, partner, "Again", TODAY)
    assert_open_column_agrees_with_count(demo)
    registration_requests.approve(shared, demo.rita, again, None, TODAY)
    assert_open_column_agrees_with_count(demo)

    # Re-opened, moved to another shared deal, removed: written straight, as a fix would be.
    again = db_session.get(RegistrationRequest, again)
    again.status = "requested"
    db_session.flush()
    assert_open_column_agrees_with_count(demo)
    again.shared_deal_id = other.id
    db_session.flush()
    assert_open_column_agrees_with_count(demo)
    db_session.delete(again)
    db_session.flush()
    assert_open_column_agrees_with_count(demo)


@pytest.mark.parametrize("sort", SORTS + [f"-{key}" for key in SORTS])
def test_every_sort_of_registration_requests_reads_the_same_deals(demo, sort):
    """Each sort shape reads the open requests' partial index (forced on SQLite)."""
    for user in (demo.alice, demo.rita):
        page, everything = index_rows(user, f"f=open_requests:gt:0&sort={sort}", TODAY)
        expected = open_by_count(user.account_id)
        assert {row.id for row in everything} == expected
        assert [row.id for row in page.rows] == [row.id for row in everything][:25]
        assert page.matched == len(expected)


def test_sqlite_is_told_to_read_the_open_requests_partial_index(db_session, demo):
    """ "Registration requests" reads the few deals with an open request off their own
    partial index: not a walk of the sort's index through every deal of the vendor."""
    if db_session.get_bind().dialect.name != "sqlite":
        pytest.skip("INDEXED BY is SQLite's; PostgreSQL's planner has real statistics")
    choices = deal_index.index_reference(demo.rita).choices
    state = parse_query("f=open_requests:gt:0", choices).state
    stmt = deal_index.export_select(Scope.of(demo.rita, TODAY), state, choices)
    sql, plan = sqlite_plan(db_session, stmt)
    assert f"deals INDEXED BY {registration_queries.OPEN_REQUEST_INDEX}" in sql
    assert any(registration_queries.OPEN_REQUEST_INDEX in step for step in plan), plan
