"""Deal registrations: vendor-only changes, status by date, the active count, expiry history."""

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from models import Activity, Deal, DealRegistration, DealTeamMember, Notification
from services import registration_queries, registrations, shared_card
from services.errors import Forbidden, Invalid, NotFound

TODAY = date.today()


def count_for(db_session, deal, today=TODAY):
    return db_session.scalar(
        sa.select(registration_queries.active_count_for_deal(today)).where(Deal.id == deal.id)
    )


def test_the_count_follows_the_expiry_date_without_any_write(demo, db_session):
    shared = demo.acme_shared
    assert count_for(db_session, demo.acme) == 1
    registrations.add(shared, demo.rita, TODAY + timedelta(days=3))
    registrations.add(shared, demo.rita, None)
    assert count_for(db_session, demo.acme) == 3
    # On its expiry date a registration still counts; the day after it does not.
    assert count_for(db_session, demo.acme, TODAY + timedelta(days=3)) == 3
    assert count_for(db_session, demo.acme, TODAY + timedelta(days=4)) == 2
    # The vendor's deal counts the same registrations.
    vendor_deal = db_session.get(Deal, shared.vendor_deal_id)
    assert count_for(db_session, vendor_deal) == 3


def test_deregistered_registrations_stop_counting(demo, db_session):
    reg = registrations.add(demo.acme_shared, demo.rita, None)
    assert registrations.deregister(demo.acme_shared, demo.victor, reg) is True
    assert count_for(db_session, demo.acme) == 1
    assert registrations.deregister(demo.acme_shared, demo.rita, reg) is False
    card = shared_card.card_for(demo.rita, demo.acme_shared, TODAY)
    statuses = [r.status for r in card.registrations]
    assert sorted(statuses) == ["active", "deregistered"]
    row = db_session.scalar(sa.select(Activity).order_by(Activity.id.desc()))
    assert (row.action, row.before, row.after) == (
        "registration_deregistered",
        "active",
        "deregistered",
    )


@pytest.mark.parametrize("who", ["alice", "bob", "hana"])
def test_only_vendor_users_register_or_deregister(demo, db_session, who):
    reg_id = db_session.scalar(
        sa.select(DealRegistration.id).where(DealRegistration.shared_deal_id == demo.acme_shared.id)
    )
    with pytest.raises(Forbidden):
        registrations.add(demo.acme_shared, getattr(demo, who), None)
    with pytest.raises(Forbidden):
        registrations.deregister(demo.acme_shared, getattr(demo, who), reg_id)
    assert count_for(db_session, demo.acme) == 1


def test_an_expiry_in_the_past_is_refused(demo, db_session):
    with pytest.raises(Invalid):
        registrations.add(demo.acme_shared, demo.rita, TODAY - timedelta(days=1))
    assert count_for(db_session, demo.acme) == 1


def test_a_registration_of_another_shared_deal_is_not_found(demo, db_session):
    globex = demo.deal(demo.brightside, "Globex CRM migration")
    from services.shared_deals import shared_deal_of

    other = shared_deal_of(globex.id)
    reg_id = db_session.scalar(
        sa.select(DealRegistration.id).where(DealRegistration.shared_deal_id == other.id)
    )
    with pytest.raises(NotFound):
        registrations.deregister(demo.acme_shared, demo.rita, reg_id)


def test_adding_records_activity(demo, db_session):
    registrations.add(demo.acme_shared, demo.rita, date(2099, 1, 31), today=TODAY)
    row = db_session.scalar(sa.select(Activity).order_by(Activity.id.desc()))
    assert (row.actor_id, row.action, row.after) == (
        demo.rita.id,
        "registration_added",
        "expires 2099-01-31",
    )


def test_expiry_is_recorded_once_when_first_seen(demo, db_session):
    reg = registrations.add(demo.acme_shared, demo.rita, TODAY + timedelta(days=1))
    later = TODAY + timedelta(days=2)
    assert registrations.record_expiries(demo.acme_shared, TODAY) == 0
    assert registrations.record_expiries(demo.acme_shared, later) == 1
    assert registrations.record_expiries(demo.acme_shared, later) == 0
    rows = list(
        db_session.scalars(
            sa.select(Activity).where(
                Activity.shared_deal_id == demo.acme_shared.id,
                Activity.action == "registration_expired",
            )
        )
    )
    assert [(r.actor_id, r.summary) for r in rows] == [(None, f"registration #{reg} expired")]
    # Recorded by no one, it reaches the whole team, both parties (no actor left out).
    team = set(
        db_session.scalars(
            sa.select(DealTeamMember.user_id).where(
                DealTeamMember.shared_deal_id == demo.acme_shared.id
            )
        )
    )
    told = set(
        db_session.scalars(
            sa.select(Notification.user_id).where(Notification.activity_id == rows[0].id)
        )
    )
    assert told == team and len(team) >= 2
