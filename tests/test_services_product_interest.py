"""Product interest: the vendor's products only; both parties edit; changes merge; history."""

import pytest
import sqlalchemy as sa
from hypothesis import strategies as st

from models import Activity, Notification, Product
from services import product_interest
from services.errors import Forbidden, Invalid
from tests.changes import sequences_of_changes


def product(db_session, name):
    return db_session.scalar(sa.select(Product).where(Product.name == name))


def names(shared):
    return [p.name for p in product_interest.products_of(shared)]


def test_the_catalogue_is_the_vendors_products_in_order(demo):
    assert [p.name for p in product_interest.catalogue_for(demo.acme_shared)] == [
        "Marketing Suite",
        "Sales Suite",
        "Service Suite",
        "Content Suite",
        "Operations Suite",
    ]


@pytest.mark.parametrize("who", ["alice", "rita"])
def test_both_parties_may_edit_and_the_team_is_told(demo, db_session, who):
    actor = getattr(demo, who)
    sales = product(db_session, "Sales Suite")
    assert product_interest.apply_changes(demo.acme_shared, actor, {sales.id}, set())
    assert names(demo.acme_shared) == ["Marketing Suite", "Sales Suite"]
    row = db_session.scalar(sa.select(Activity).order_by(Activity.id.desc()))
    assert (row.action, row.before, row.after) == (
        "products",
        "Marketing Suite",
        "Marketing Suite, Sales Suite",
    )
    told = set(
        db_session.scalars(
            sa.select(Notification.user_id).where(Notification.activity_id == row.id)
        )
    )
    assert told == {demo.alice.id, demo.rita.id} - {actor.id}


def test_changes_merge_with_a_concurrent_edit(demo, db_session):
    marketing, sales, service = (
        product(db_session, n) for n in ("Marketing Suite", "Sales Suite", "Service Suite")
    )
    # Both forms showed {Marketing}. Rita adds Sales; Alice, unaware, swaps Marketing for Service.
    product_interest.apply_changes(demo.acme_shared, demo.rita, {sales.id}, set())
    product_interest.apply_changes(demo.acme_shared, demo.alice, {service.id}, {marketing.id})
    assert names(demo.acme_shared) == ["Sales Suite", "Service Suite"]


@pytest.mark.parametrize("bad", [987654, "other-vendor"])
def test_unknown_or_other_vendor_products_are_refused(demo, db_session, bad):
    if bad == "other-vendor":
        from services.accounts import create_account

        other = create_account("Contoso Software", "vendor")
        stray = Product(vendor_account_id=other.id, name="Contoso CRM")
        db_session.add(stray)
        db_session.commit()
        bad = stray.id
    before = db_session.scalar(sa.select(sa.func.count(Activity.id)))
    with pytest.raises(Invalid):
        product_interest.apply_changes(demo.acme_shared, demo.alice, {bad}, set())
    assert names(demo.acme_shared) == ["Marketing Suite"]
    assert db_session.scalar(sa.select(sa.func.count(Activity.id))) == before


def test_a_third_party_cannot_edit(demo, db_session):
    with pytest.raises(Forbidden):
        product_interest.apply_changes(demo.acme_shared, demo.hana, set(), set())


@sequences_of_changes(st.integers(0, 4))
def test_the_history_names_the_products_before_and_after_each_change(demo, db_session, changes):
    """Whatever is added and removed: a change's history line names the product interest
    as it was and as it is now, in catalogue order (worked out from one read under the
    lock, not read again after the write)."""
    shared = demo.acme_shared
    catalogue = [p.id for p in product_interest.catalogue_for(shared)]
    for actor_name, adding, removing in changes:
        added = {catalogue[i] for i in adding}
        removed = {catalogue[i] for i in removing - adding}
        before = ", ".join(names(shared)) or "none"
        if not product_interest.apply_changes(shared, getattr(demo, actor_name), added, removed):
            assert (", ".join(names(shared)) or "none") == before
            continue
        row = db_session.scalar(sa.select(Activity).order_by(Activity.id.desc()))
        assert (row.before, row.after) == (before, ", ".join(names(shared)) or "none")
