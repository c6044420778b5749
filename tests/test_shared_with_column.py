"""deals.shared_with_account_id (migration 0020) says exactly what shared_deals says.

"Shared with" filters on the deal's own column, through the partial index
ix_deals_account_shared_with, and the rows name the party from it. These tests
hold the column to the shared deals through every kind of write (one row, many
in one statement, re-pointed, removed), and run the filter's shapes against the
shared deals themselves.
"""

from datetime import date

import pytest
import sqlalchemy as sa

from extensions import db
from models import Deal, SharedDeal
from services import deal_index
from services.deal_index import COLUMNS, Scope, parse_query
from services.deal_index.registry import SHARED_WITH_INDEX
from tests.databases import sqlite_plan

TODAY = date.today()


def by_column() -> dict[int, int]:
    """Every shared deal's deals by the column: {deal id: the other party's account}."""
    rows = db.session.execute(
        sa.select(Deal.id, Deal.shared_with_account_id).where(
            Deal.shared_with_account_id.is_not(None)
        )
    )
    return {deal_id: account_id for deal_id, account_id in rows}


def by_shared_deals() -> dict[int, int]:
    """The same, from the shared deals."""
    truth = {}
    for s in db.session.scalars(sa.select(SharedDeal)):
        truth[s.partner_deal_id] = s.vendor_account_id
        truth[s.vendor_deal_id] = s.partner_account_id
    return truth


def new_deal(like: Deal, name: str) -> Deal:
    """An unshared deal in `like`'s account, pipeline and stage."""
    deal = Deal(
        account_id=like.account_id,
        name=name,
        pipeline_id=like.pipeline_id,
        stage_id=like.stage_id,
        owner_id=like.owner_id,
    )
    db.session.add(deal)
    db.session.flush()
    return deal


def test_the_column_follows_every_shared_deal_write(db_session, demo):
    assert by_column() == by_shared_deals()  # the demo data, as loaded
    assert by_column()  # the demo shares deals
    partner_like = demo.acme
    vendor_like = db_session.get(Deal, demo.acme_shared.vendor_deal_id)
    partners = [new_deal(partner_like, f"Partner deal {n}") for n in range(3)]
    vendors = [new_deal(vendor_like, f"Vendor deal {n}") for n in range(4)]

    def shared(partner, vendor):
        return {
            "partner_account_id": partner.account_id,
            "vendor_account_id": vendor.account_id,
            "partner_deal_id": partner.id,
            "vendor_deal_id": vendor.id,
        }

    # One shared deal, then two made by one statement.
    db_session.execute(sa.insert(SharedDeal).values(shared(partners[0], vendors[0])))
    assert by_column() == by_shared_deals()
    assert by_column()[partners[0].id] == demo.northwind.id
    assert by_column()[vendors[0].id] == demo.brightside.id
    pair = [shared(partners[1], vendors[1]), shared(partners[2], vendors[2])]
    db_session.execute(sa.insert(SharedDeal).values(pair))
    assert by_column() == by_shared_deals()

    # Re-pointed to another vendor deal, then removed: written straight, as a fix would be.
    first = db_session.scalar(
        sa.select(SharedDeal).where(SharedDeal.partner_deal_id == partners[0].id)
    )
    first.vendor_deal_id = vendors[3].id
    db_session.flush()
    assert by_column() == by_shared_deals()
    assert vendors[0].id not in by_column()
    db_session.delete(first)
    db_session.flush()
    assert by_column() == by_shared_deals()
    assert partners[0].id not in by_column() and vendors[3].id not in by_column()

    # A note saved on a shared deal leaves its deals alone.
    second = db_session.scalar(
        sa.select(SharedDeal).where(SharedDeal.partner_deal_id == partners[1].id)
    )
    second.next_steps = "Call back"
    db_session.flush()
    assert by_column() == by_shared_deals()


def shared_with_truth(user, parties) -> set[int]:
    """The user's deals shared with any of `parties`, from the shared deals."""
    mine = SharedDeal.deal_id_column(user.account.kind)
    other = SharedDeal.account_id_column("partner" if user.account.kind == "vendor" else "vendor")
    return set(
        db.session.scalars(
            sa.select(mine).where(
                SharedDeal.account_id_column(user.account.kind) == user.account_id,
                other.in_(parties),
            )
        )
    )


def index_rows(user, query):
    choices = deal_index.index_reference(user).choices
    state = parse_query(query, choices).state
    scope = Scope.of(user, TODAY)
    page = deal_index.index_page(scope, state, choices)
    everything = db.session.execute(deal_index.export_select(scope, state, choices)).all()
    return page, everything


SORTS = [key for key, column in COLUMNS.items() if column.sortable]


@pytest.mark.parametrize("sort", SORTS + [f"-{key}" for key in SORTS])
def test_every_sort_of_shared_with_reads_the_same_deals(demo, sort):
    """Each sort shape reads the shared deals' index (forced on SQLite): same deals, in
    the same order as the export, named after the party; "is none of" the others."""
    for user, parties in (
        (demo.rita, (demo.brightside.id, demo.harbor.id)),
        (demo.alice, (demo.northwind.id,)),
    ):
        ids = ",".join(map(str, parties))
        expected = shared_with_truth(user, parties)
        assert expected  # the demo shares deals both ways
        page, everything = index_rows(user, f"f=shared_with:any_of:{ids}&sort={sort}")
        assert {row.id for row in everything} == expected
        assert [row.id for row in page.rows] == [row.id for row in everything][:25]
        assert page.matched == len(expected)
        names = {demo.brightside.name, demo.harbor.name, demo.northwind.name}
        assert {row.shared_with for row in page.rows} <= names
        _, others = index_rows(user, f"f=shared_with:none_of:{ids}&sort={sort}")
        mine = set(db.session.scalars(sa.select(Deal.id).where(Deal.account_id == user.account_id)))
        assert {row.id for row in others} == mine - expected


def test_the_rows_name_the_party_each_deal_is_shared_with(demo):
    page, _ = index_rows(demo.rita, f"f=shared_with:any_of:{demo.brightside.id}")
    assert page.rows and {row.shared_with for row in page.rows} == {demo.brightside.name}
    page, _ = index_rows(demo.alice, "")
    truth = by_shared_deals()
    for row in page.rows:
        expected = (
            db.session.get(type(demo.northwind), truth[row.id]).name if row.id in truth else None
        )
        assert row.shared_with == expected


def test_sqlite_is_told_to_read_the_shared_with_partial_index(db_session, demo):
    """ "Shared with" a partner reads that partner's entries of the shared deals' index:
    not a walk of the sort's index through every deal of the vendor."""
    if db_session.get_bind().dialect.name != "sqlite":
        pytest.skip("INDEXED BY is SQLite's; PostgreSQL's planner has real statistics")
    choices = deal_index.index_reference(demo.rita).choices
    for query in (
        f"f=shared_with:any_of:{demo.brightside.id}",
        f"f=shared_with:any_of:{demo.brightside.id}&sort=-amount",
    ):
        state = parse_query(query, choices).state
        stmt = deal_index.export_select(Scope.of(demo.rita, TODAY), state, choices)
        sql, plan = sqlite_plan(db_session, stmt)
        assert f"deals INDEXED BY {SHARED_WITH_INDEX}" in sql
        assert any(SHARED_WITH_INDEX in step for step in plan), plan
    # "is none of" matches most deals: the sort's walk, no hint.
    state = parse_query(f"f=shared_with:none_of:{demo.brightside.id}", choices).state
    sql, _ = sqlite_plan(
        db_session, deal_index.export_select(Scope.of(demo.rita, TODAY), state, choices)
    )
    assert "INDEXED BY" not in sql
