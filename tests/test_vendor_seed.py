"""The vendor-scale seed (`flask seed-demo --partners P --shared-deals N`) at a tiny size.

It makes what it says (the counts it reports are the rows in the database), the
rows are shared deals as the app makes them, and each party sees only its own.
"""

from datetime import date

import pytest
import sqlalchemy as sa

from models import (
    Account,
    Deal,
    DealRegistration,
    DealTeamMember,
    ProductInterest,
    RegistrationRequest,
    SharedDeal,
    User,
)
from services.passwords import verify_password
from services.registration_queries import active_condition
from tests.html import page
from tests.test_board_counts import assert_counts_exact
from tests.test_deals_index import deal_ids, summary
from tests.test_shared_with_column import by_column, by_shared_deals

PARTNERS, SHARED = 3, 50


def count(db_session, stmt):
    return db_session.scalar(sa.select(sa.func.count()).select_from(stmt.subquery()))


@pytest.fixture
def seeded(app, db_session, demo):
    before = {a.id for a in db_session.scalars(sa.select(Account))}
    result = app.test_cli_runner().invoke(
        args=["seed-demo", "--partners", str(PARTNERS), "--shared-deals", str(SHARED)]
    )
    assert result.exit_code == 0, result.output
    new = list(
        db_session.scalars(sa.select(Account).where(Account.id.not_in(before)).order_by(Account.id))
    )
    return new, result.output


def test_it_makes_what_it_says(db_session, demo, seeded):
    partners, output = seeded
    assert [p.kind for p in partners] == ["partner"] * PARTNERS
    ids = [p.id for p in partners]
    shared = sa.select(SharedDeal.id).where(SharedDeal.partner_account_id.in_(ids))
    counts = {
        "users": count(db_session, sa.select(User.id).where(User.account_id.in_(ids))),
        "shared deals": count(db_session, shared),
        "partner deals": count(db_session, sa.select(Deal.id).where(Deal.account_id.in_(ids))),
        "team members": count(
            db_session,
            sa.select(DealTeamMember.id).where(DealTeamMember.shared_deal_id.in_(shared)),
        ),
        "product interests": count(
            db_session,
            sa.select(ProductInterest.product_id).where(ProductInterest.shared_deal_id.in_(shared)),
        ),
        "registrations": count(
            db_session,
            sa.select(DealRegistration.id).where(DealRegistration.shared_deal_id.in_(shared)),
        ),
        "active registrations": count(
            db_session,
            sa.select(DealRegistration.id).where(
                DealRegistration.shared_deal_id.in_(shared), active_condition(date.today())
            ),
        ),
        "open requests": count(
            db_session,
            sa.select(RegistrationRequest.id).where(
                RegistrationRequest.shared_deal_id.in_(shared),
                RegistrationRequest.status == "requested",
            ),
        ),
    }
    # 50 over 3 partners; registrations on i mod 8 < 4, active on 0 and 1; an open request
    # on i mod 400 = 5.
    assert counts == {
        "users": 9,
        "shared deals": 50,
        "partner deals": 50,
        "team members": 100,
        "product interests": 25,
        "registrations": 26,
        "active registrations": 14,
        "open requests": 1,
    }
    assert "3 partner accounts, 9 users, 100 deals, 50 shared deals" in output
    assert "14 active registrations, 1 open requests" in output
    # Spread evenly, and every new user logs in with the demo password.
    per_partner = [
        count(db_session, sa.select(Deal.id).where(Deal.account_id == p.id)) for p in partners
    ]
    assert per_partner == [17, 17, 16]
    admin = db_session.scalar(sa.select(User).where(User.account_id == partners[0].id))
    assert admin.role == "admin" and verify_password(admin.password_hash, "shared-deals-demo")


def test_each_shared_deal_joins_a_partner_deal_and_the_vendors_deal(db_session, demo, seeded):
    partners, _ = seeded
    partner_deal, vendor_deal = sa.orm.aliased(Deal), sa.orm.aliased(Deal)
    rows = db_session.execute(
        sa.select(SharedDeal, partner_deal, vendor_deal)
        .join(partner_deal, partner_deal.id == SharedDeal.partner_deal_id)
        .join(vendor_deal, vendor_deal.id == SharedDeal.vendor_deal_id)
        .where(SharedDeal.partner_account_id.in_([p.id for p in partners]))
    ).all()
    assert len(rows) == SHARED
    users = {u.id: u for u in db_session.scalars(sa.select(User))}
    for shared, ours, theirs in rows:
        assert shared.vendor_account_id == demo.northwind.id == theirs.account_id
        assert ours.account_id == shared.partner_account_id
        assert (ours.name, ours.amount, ours.close_date) == (
            theirs.name,
            theirs.amount,
            theirs.close_date,
        )
        assert users[ours.owner_id].account_id == ours.account_id
        assert users[theirs.owner_id].account_id == demo.northwind.id
        team = set(
            db_session.scalars(
                sa.select(DealTeamMember.user_id).where(DealTeamMember.shared_deal_id == shared.id)
            )
        )
        assert team == {ours.owner_id, theirs.owner_id}
    # Each deal holds the party it is shared with ("Shared with" reads it).
    assert by_column() == by_shared_deals()


def test_each_partner_sees_only_its_own_deals(client, login_as, db_session, demo, seeded):
    partners, _ = seeded
    for partner in partners:
        user = db_session.scalar(sa.select(User).where(User.account_id == partner.id))
        own = set(db_session.scalars(sa.select(Deal.id).where(Deal.account_id == partner.id)))
        login_as(user)
        assert set(deal_ids(page(client.get("/deals")))) == own
        others = next(p for p in partners if p.id != partner.id)
        theirs = db_session.scalar(sa.select(Deal.id).where(Deal.account_id == others.id))
        assert client.get(f"/deals/{theirs}").status_code == 404


def test_the_vendor_sees_the_requests_and_filters_by_partner(client, login_as, demo, seeded):
    partners, _ = seeded
    login_as(demo.rita)
    requests = page(client.get("/deals?view=requests&f=open_requests:gt:0"))
    # The demo's open requests, and the one on shared deal i = 5 (the third partner's).
    assert len(deal_ids(requests)) >= 1
    one = page(client.get(f"/deals?f=shared_with:any_of:{partners[2].id}"))
    assert summary(one)[:3] == ["1–16", "of", "16"]


def test_the_boards_counts_add_up(db_session, demo, seeded):
    assert_counts_exact()


def test_postgresql_tables_are_vacuumed_after_the_load(db_session, seeded):
    """VACUUM (ANALYZE), not ANALYZE alone: the loaded pages are all-visible, so the
    index-only scans ("Shared with", the covering indexes) read no table row."""
    if db_session.get_bind().dialect.name != "postgresql":
        pytest.skip("VACUUM and the visibility map are PostgreSQL's")
    vacuumed = dict(
        db_session.execute(
            sa.text(
                "SELECT relname, last_vacuum IS NOT NULL FROM pg_stat_user_tables "
                "WHERE relname IN ('deals', 'shared_deals', 'deal_registrations', "
                "'deal_team_members', 'product_interests')"
            )
        ).all()
    )
    assert vacuumed == dict.fromkeys(vacuumed, True) and len(vacuumed) == 5, vacuumed
