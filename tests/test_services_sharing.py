"""Sharing an existing deal (flow 6, end) and product interest at creation."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from models import (
    Activity,
    Deal,
    DealRegistration,
    DealTeamMember,
    Notification,
    Product,
    SharedDeal,
)
from services import product_interest, registration_queries, settings, shared_deals
from services.errors import NotFound
from services.shared_deals import AlreadyShared, InvalidSharedDeal, SharingTerms
from tests.test_services_shared_deals import partner_input, vendor_input

TODAY = date.today()


def product_ids(db_session, *names):
    return frozenset(db_session.scalars(sa.select(Product.id).where(Product.name.in_(names))))


def unshared_vendor_deal(db_session, demo):
    """A deal of Northwind's own CRM that no shared deal links."""
    linked = sa.select(SharedDeal.vendor_deal_id)
    return db_session.scalar(
        sa.select(Deal)
        .where(Deal.account_id == demo.northwind.id, Deal.id.not_in(linked))
        .order_by(Deal.id)
        .limit(1)
    )


def partner_terms(demo, **changes):
    values = {
        "other_party_id": demo.northwind.id,
        "intro_note": "Met their CTO.",
        "pain_or_opportunity": "Slow audits.",
        "next_steps": "Demo next week.",
        **changes,
    }
    return SharingTerms(**values)


def counts(db_session):
    return {
        model.__name__: db_session.scalar(sa.select(sa.func.count()).select_from(model))
        for model in (Deal, SharedDeal, DealRegistration, Activity, Notification)
    }


def team_of(db_session, shared):
    return db_session.scalars(
        sa.select(DealTeamMember.user_id).where(DealTeamMember.shared_deal_id == shared.id)
    ).all()


def is_registered(db_session, shared):
    """Whether the partner's deal is among its "Registered deals" today."""
    ids = registration_queries.registered_deal_ids(shared.partner_account_id, TODAY)
    return shared.partner_deal_id in set(db_session.scalars(ids))


def test_create_saves_the_product_interest(db_session, demo):
    wanted = product_ids(db_session, "Sales Suite", "Content Suite")
    shared = shared_deals.create(demo.alice, partner_input(db_session, demo, product_ids=wanted))
    assert {p.id for p in product_interest.products_of(shared)} == wanted


def test_create_refuses_another_vendors_products(db_session, demo):
    before = counts(db_session)
    with pytest.raises(InvalidSharedDeal) as error:
        shared_deals.create(demo.rita, vendor_input(db_session, demo, product_ids={987654}))
    assert error.value.errors == {"products": product_interest.CHOOSE_PRODUCTS}
    assert counts(db_session) == before


def test_partner_shares_an_existing_deal_with_the_vendor(db_session, demo):
    deal = demo.initech
    name, amount, close_date = deal.name, deal.amount, deal.close_date
    landing = settings.referred_pipeline_for(demo.northwind)
    wanted = product_ids(db_session, "Service Suite")
    shared = shared_deals.share(demo.bob, deal.id, partner_terms(demo, product_ids=wanted))

    assert shared.partner_deal_id == deal.id and shared.partner_account_id == demo.brightside.id
    vendor_deal = db_session.get(Deal, shared.vendor_deal_id)
    assert vendor_deal.account_id == demo.northwind.id
    assert (vendor_deal.name, vendor_deal.amount, vendor_deal.close_date) == (
        name,
        amount,
        close_date,
    )
    assert vendor_deal.pipeline_id == landing.id
    assert vendor_deal.stage_id == shared_deals.stages_of(landing)[0].id
    assert shared.intro_note == "Met their CTO." and shared.next_steps == "Demo next week."
    assert {p.id for p in product_interest.products_of(shared)} == wanted
    assert team_of(db_session, shared) == [demo.bob.id]
    # A partner's deal starts unregistered: a vendor rep registers it.
    assert (
        db_session.scalars(
            sa.select(DealRegistration).where(DealRegistration.shared_deal_id == shared.id)
        ).all()
        == []
    )
    assert not is_registered(db_session, shared)
    row = db_session.scalar(sa.select(Activity).where(Activity.shared_deal_id == shared.id))
    assert row.action == "shared" and row.actor_id == demo.bob.id
    assert "Northwind Cloud" in row.summary
    notified = set(
        db_session.scalars(
            sa.select(Notification.user_id).where(Notification.activity_id == row.id)
        )
    )
    assert vendor_deal.owner_id in notified and demo.bob.id not in notified


def test_vendor_shares_an_existing_deal_and_registers_it(db_session, demo):
    deal = unshared_vendor_deal(db_session, demo)
    expires = TODAY + timedelta(days=30)
    terms = SharingTerms(
        other_party_id=demo.harbor.id,
        registration_expires_on=expires,
        intro_note="ignored on the vendor side",
    )
    shared = shared_deals.share(demo.rita, deal.id, terms)
    assert shared.vendor_deal_id == deal.id and shared.partner_account_id == demo.harbor.id
    partner_deal = db_session.get(Deal, shared.partner_deal_id)
    assert partner_deal.account_id == demo.harbor.id
    assert partner_deal.pipeline_id == settings.referred_pipeline_for(demo.harbor).id
    assert shared.intro_note == ""
    registration = db_session.scalar(
        sa.select(DealRegistration).where(DealRegistration.shared_deal_id == shared.id)
    )
    assert registration.registered_by_id == demo.rita.id and registration.expires_on == expires
    assert is_registered(db_session, shared)
    row = db_session.scalar(sa.select(Activity).where(Activity.shared_deal_id == shared.id))
    assert row.action == "shared" and "registered it for Harbor Digital" in row.summary


def test_a_deal_already_shared_is_refused_and_nothing_changes(db_session, demo):
    before = counts(db_session)
    with pytest.raises(AlreadyShared):
        shared_deals.share(demo.alice, demo.acme.id, partner_terms(demo))
    assert counts(db_session) == before


def test_sharing_twice_is_refused_the_second_time(db_session, demo):
    shared_deals.share(demo.alice, demo.initech.id, partner_terms(demo))
    before = counts(db_session)
    with pytest.raises(AlreadyShared):
        shared_deals.share(demo.bob, demo.initech.id, partner_terms(demo))
    assert counts(db_session) == before


def test_another_accounts_deal_is_not_found(db_session, demo):
    before = counts(db_session)
    with pytest.raises(NotFound):
        shared_deals.share(demo.hana, demo.initech.id, partner_terms(demo))  # Harbor's user
    with pytest.raises(NotFound):
        shared_deals.share(demo.alice, 987654, partner_terms(demo))
    assert counts(db_session) == before


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"other_party_id": None}, "other_party"),
        ({"other_party_id": 987654}, "other_party"),
        ({"product_ids": frozenset({987654})}, "products"),
    ],
)
def test_bad_terms_change_nothing(db_session, demo, changes, field):
    before = counts(db_session)
    with pytest.raises(InvalidSharedDeal) as error:
        shared_deals.share(demo.alice, demo.initech.id, partner_terms(demo, **changes))
    assert field in error.value.errors
    assert counts(db_session) == before
    assert shared_deals.shared_deal_of(demo.initech.id) is None


def test_a_vendor_cannot_share_with_the_vendor(db_session, demo):
    deal = unshared_vendor_deal(db_session, demo)
    with pytest.raises(InvalidSharedDeal) as error:
        shared_deals.share(demo.rita, deal.id, SharingTerms(other_party_id=demo.northwind.id))
    assert error.value.errors == {"other_party": shared_deals.CHOOSE_PARTNER}


def test_an_expiry_in_the_past_is_refused(db_session, demo):
    deal = unshared_vendor_deal(db_session, demo)
    terms = SharingTerms(
        other_party_id=demo.harbor.id, registration_expires_on=TODAY - timedelta(days=1)
    )
    with pytest.raises(InvalidSharedDeal) as error:
        shared_deals.share(demo.rita, deal.id, terms)
    assert error.value.errors == {"registration_expires_on": shared_deals.EXPIRY_IN_THE_PAST}


def test_amount_kept_exactly(db_session, demo):
    demo.initech.amount = Decimal("1234.56")
    db_session.flush()
    shared = shared_deals.share(demo.alice, demo.initech.id, partner_terms(demo))
    assert db_session.get(Deal, shared.vendor_deal_id).amount == Decimal("1234.56")
