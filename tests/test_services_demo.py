"""The demo data contract of DESIGN.md and the foundation issue."""

from datetime import date

import sqlalchemy as sa

from models import (
    Account,
    Deal,
    DealRegistration,
    DealTeamMember,
    Pipeline,
    Product,
    ProductInterest,
    SharedDeal,
    User,
)
from services import settings
from services.demo import DEMO_PASSWORD
from services.passwords import verify_password


def names(rows):
    return sorted(rows)


def test_accounts_and_users(db_session):
    accounts = {a.name: a.kind for a in db_session.scalars(sa.select(Account))}
    assert accounts == {
        "Northwind Cloud": "vendor",
        "Brightside Agency": "partner",
        "Harbor Digital": "partner",
    }
    users = {
        (u.full_name, u.email, u.role, u.account.name) for u in db_session.scalars(sa.select(User))
    }
    assert users == {
        ("Rita Okafor", "rita@northwind.example", "admin", "Northwind Cloud"),
        ("Victor Lindqvist", "victor@northwind.example", "member", "Northwind Cloud"),
        ("Alice Martin", "alice@brightside.example", "admin", "Brightside Agency"),
        ("Bob Nguyen", "bob@brightside.example", "member", "Brightside Agency"),
        ("Carol Diaz", "carol@brightside.example", "member", "Brightside Agency"),
        ("Hana Sato", "hana@harbor.example", "admin", "Harbor Digital"),
    }


def test_every_demo_user_has_the_demo_password(db_session):
    for user in db_session.scalars(sa.select(User)):
        assert verify_password(user.password_hash, DEMO_PASSWORD), user.email


def test_products(db_session, demo):
    products = db_session.scalars(
        sa.select(Product.name).where(Product.vendor_account_id == demo.northwind.id)
    )
    assert names(products) == names(
        ["Marketing Suite", "Sales Suite", "Service Suite", "Content Suite", "Operations Suite"]
    )


def test_every_account_has_two_pipelines_with_stages(db_session):
    for account in db_session.scalars(sa.select(Account)):
        pipelines = settings.pipelines_of(account.id)
        assert len(pipelines) >= 2, account.name
        for pipeline in pipelines:
            stages = db_session.scalar(
                sa.text("SELECT count(*) FROM stages WHERE pipeline_id = :p"), {"p": pipeline.id}
            )
            assert stages >= 4, pipeline.name


def test_brightside_pipelines_and_referred_pipeline(demo, db_session):
    pipelines = [p.name for p in settings.pipelines_of(demo.brightside.id)]
    assert pipelines == ["Sales pipeline", "Partner referrals"]
    assert settings.referred_pipeline_for(demo.brightside).name == "Sales pipeline"


def test_brightside_has_at_least_60_varied_deals(demo, db_session):
    deals = list(db_session.scalars(sa.select(Deal).where(Deal.account_id == demo.brightside.id)))
    assert len(deals) >= 60
    assert len({d.stage_id for d in deals}) >= 5
    assert len({d.owner_id for d in deals}) == 3
    assert len({d.amount for d in deals}) >= 30
    assert len({d.close_date for d in deals}) >= 30


def test_acme_is_shared_registered_and_staffed(demo, db_session):
    shared = demo.acme_shared
    assert shared is not None and shared.vendor_account_id == demo.northwind.id
    pipeline = db_session.get(Pipeline, demo.acme.pipeline_id)
    assert pipeline.name == "Sales pipeline"
    registrations = list(
        db_session.scalars(
            sa.select(DealRegistration).where(DealRegistration.shared_deal_id == shared.id)
        )
    )
    assert [r.status_on(date.today()) for r in registrations] == ["active"]
    team = db_session.scalars(
        sa.select(User.full_name)
        .join(DealTeamMember, DealTeamMember.user_id == User.id)
        .where(DealTeamMember.shared_deal_id == shared.id)
    )
    assert names(team) == ["Alice Martin", "Rita Okafor"]
    interest = db_session.scalars(
        sa.select(Product.name)
        .join(ProductInterest, ProductInterest.product_id == Product.id)
        .where(ProductInterest.shared_deal_id == shared.id)
    )
    assert list(interest) == ["Marketing Suite"]


def test_initech_is_not_shared(demo, db_session):
    assert demo.initech is not None
    assert not db_session.scalar(
        sa.select(SharedDeal.id).where(SharedDeal.partner_deal_id == demo.initech.id)
    )


def test_registration_statuses_are_all_present(db_session):
    today = date.today()
    statuses = {r.status_on(today) for r in db_session.scalars(sa.select(DealRegistration))}
    assert statuses == {"active", "expired", "deregistered"}


def test_harbor_has_deals_and_shared_deals(demo, db_session):
    assert (
        db_session.scalar(
            sa.select(sa.func.count(Deal.id)).where(Deal.account_id == demo.harbor.id)
        )
        >= 10
    )
    assert (
        db_session.scalar(
            sa.select(sa.func.count(SharedDeal.id)).where(
                SharedDeal.partner_account_id == demo.harbor.id
            )
        )
        >= 2
    )
