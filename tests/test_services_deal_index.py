"""The filter registry and parser: every operator, bad input, literal text, unicode, expiry."""

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa
from werkzeug.datastructures import MultiDict

from extensions import db
from models import Deal, DealRegistration, Pipeline, RegistrationRequest, SharedDeal, Stage
from services import deal_index
from services.deal_index import PROPERTIES, Scope, parse, parse_query

TODAY = date(2026, 6, 15)


def scope_of(user, today=TODAY):
    return Scope(user.account_id, user.account.kind, user.id, today)


def rows(user, query, today=TODAY, *, check_choices=True):
    """The deals the index shows for `query` (all pages), in its order."""
    choices = deal_index.index_reference(user).choices
    parsed = parse_query(query, choices if check_choices else None)
    assert parsed.errors == [], parsed.errors
    stmt = deal_index.export_select(scope_of(user, today), parsed.state, choices)
    return db.session.execute(stmt).all()


def names(user, query, today=TODAY, **options):
    return [row.name for row in rows(user, query, today, **options)]


def brightside_deals(db_session, demo):
    return list(db_session.scalars(sa.select(Deal).where(Deal.account_id == demo.brightside.id)))


def add_deal(db_session, demo, name, company="", **values):
    """A Brightside deal in the Sales pipeline's first stage."""
    stage = db_session.scalar(
        sa.select(Stage)
        .join(Pipeline, Pipeline.id == Stage.pipeline_id)
        .where(Pipeline.account_id == demo.brightside.id, Pipeline.name == "Sales pipeline")
        .order_by(Stage.position)
    )
    deal = Deal(
        account_id=demo.brightside.id,
        name=name,
        company_name=company,
        pipeline_id=stage.pipeline_id,
        stage_id=stage.id,
        owner_id=demo.alice.id,
        **values,
    )
    db_session.add(deal)
    db_session.flush()
    return deal


# ---------------------------------------------------------------- text


def test_text_operators(db_session, demo):
    add_deal(db_session, demo, "Zeta rollout", company="")
    add_deal(db_session, demo, "ZETA ROLLOUT phase two", company="Zeta Corp")
    assert sorted(names(demo.alice, "f=name:contains:zeta rollout")) == [
        "ZETA ROLLOUT phase two",
        "Zeta rollout",
    ]
    assert names(demo.alice, "f=name:is:zeta rollout") == ["Zeta rollout"]
    not_containing = names(demo.alice, "f=name:not_contains:zeta")
    assert "Zeta rollout" not in not_containing
    assert len(not_containing) == len(brightside_deals(db_session, demo)) - 2
    assert "Zeta rollout" in names(demo.alice, "f=company:is_empty:")
    assert "ZETA ROLLOUT phase two" not in names(demo.alice, "f=company:is_empty:")
    assert names(demo.alice, "f=company:is_not_empty:&f=name:contains:zeta") == [
        "ZETA ROLLOUT phase two"
    ]


@pytest.mark.parametrize(
    "term",
    ["100%", "a_b", "back\\slash", "'; DROP TABLE deals; --", '"quoted"', "x OR 1=1"],
)
def test_text_is_matched_literally(db_session, demo, term):
    add_deal(db_session, demo, f"Deal {term} here")
    add_deal(db_session, demo, "Deal 100 percent aXb back slash here")  # wildcard bait
    query = deal_index.IndexState(
        conditions=(deal_index.parse_condition("name", "contains", [term]),)
    ).query()
    assert names(demo.alice, query) == [f"Deal {term} here"]
    assert db_session.scalar(sa.select(sa.func.count(Deal.id))) > 64  # nothing was dropped


def test_unicode_text(db_session, demo):
    add_deal(db_session, demo, "Zürich Straße relaunch", company="Société Générale")
    add_deal(db_session, demo, "東京 website")
    assert names(demo.alice, "f=name:contains:ürich Straße") == ["Zürich Straße relaunch"]
    assert names(demo.alice, "f=company:contains:Société") == ["Zürich Straße relaunch"]
    assert names(demo.alice, "f=name:contains:東京") == ["東京 website"]
    parsed = parse(MultiDict({"property": "name", "operator": "contains", "value": "ß"}))
    assert parsed.state.conditions[0].param == "name:contains:ß"
    assert parsed.state.conditions[0].describe() == "Deal name contains “ß”"


# ---------------------------------------------------------------- numbers


def test_number_operators(db_session, demo):
    add_deal(db_session, demo, "Tiny one", amount=Decimal("7.50"))
    add_deal(db_session, demo, "Unpriced one", amount=None)
    assert names(demo.alice, "f=amount:eq:7.5") == ["Tiny one"]
    assert names(demo.alice, "f=amount:lt:8") == ["Tiny one"]
    assert names(demo.alice, "f=amount:between:7..7.50") == ["Tiny one"]
    assert names(demo.alice, "f=amount:unknown:") == ["Unpriced one"]
    known = names(demo.alice, "f=amount:known:")
    assert "Unpriced one" not in known and "Tiny one" in known
    amounts = [d.amount for d in brightside_deals(db_session, demo) if d.amount is not None]
    over = names(demo.alice, "f=amount:gt:100000")
    assert len(over) == sum(1 for a in amounts if a > 100000) > 0


def test_number_formats_from_the_filter_bar():
    def first(value, operator="between"):
        args = MultiDict({"property": "amount", "operator": operator, "value": value})
        return parse(args).state.conditions[0]

    assert first("1,000 and 5,000").param == "amount:between:1000..5000"
    assert first("1000 to 5000.5").describe() == "Amount is between 1,000 and 5,000.50"
    assert first("-5 - 5").values == (Decimal(-5), Decimal(5))
    two_inputs = MultiDict(
        [("property", "amount"), ("operator", "between"), ("value", "10"), ("value", "20")]
    )
    assert parse(two_inputs).state.conditions[0].param == "amount:between:10..20"
    assert first("2.5", "gt").param == "amount:gt:2.5"


def test_registered_deals_are_those_with_an_active_registration(demo):
    assert sorted(names(demo.alice, "f=active_registrations:gt:0", date.today())) == [
        "Acme Corp website relaunch",
        "Stark Industries service desk rollout",
    ]
    assert names(demo.alice, "f=active_registrations:eq:1", date.today()) == names(
        demo.alice, "f=active_registrations:gt:0", date.today()
    )
    no_registration = names(demo.alice, "f=active_registrations:lt:1", date.today())
    assert "Globex CRM migration" in no_registration  # expired
    assert "Umbrella marketing automation" in no_registration  # deregistered
    assert "Acme Corp website relaunch" not in no_registration
    # The vendor filters its own deals the same way (its side of the shared deals).
    vendor = names(demo.rita, "f=active_registrations:between:1..3", date.today())
    assert sorted(vendor) == [
        "Acme Corp website relaunch",
        "Stark Industries service desk rollout",
        "Wayne Enterprises content hub",
    ]


def test_a_registration_counts_through_its_expiry_date_and_not_after(db_session, demo):
    deal = demo.initech  # not shared: share it, with one registration expiring on TODAY
    from models import SharedDeal

    vendor_deal = db_session.scalar(
        sa.select(Deal).where(Deal.account_id == demo.northwind.id).order_by(Deal.id.desc())
    )
    shared = SharedDeal(
        partner_account_id=demo.brightside.id,
        vendor_account_id=demo.northwind.id,
        partner_deal_id=deal.id,
        vendor_deal_id=vendor_deal.id,
    )
    db_session.add(shared)
    db_session.flush()
    db_session.add(DealRegistration(shared_deal_id=shared.id, expires_on=TODAY))
    db_session.add(DealRegistration(shared_deal_id=shared.id, expires_on=TODAY - timedelta(days=1)))
    db_session.flush()
    registered = "f=active_registrations:gt:0"
    assert "Initech SEO audit" in names(demo.alice, registered, TODAY)  # expires today: counts
    assert "Initech SEO audit" in names(demo.alice, "f=active_registrations:eq:1", TODAY)
    assert "Initech SEO audit" not in names(demo.alice, registered, TODAY + timedelta(days=1))
    choices = deal_index.index_reference(demo.alice).choices
    page = deal_index.index_page(scope_of(demo.alice), parse_query("q=Initech SEO").state, choices)
    assert [(r.name, r.active_registrations) for r in page.rows] == [("Initech SEO audit", 1)]


# ---------------------------------------------------------------- dates


def test_date_operators(db_session, demo):
    add_deal(db_session, demo, "Closes today", close_date=TODAY)
    add_deal(db_session, demo, "Closes in ten days", close_date=TODAY + timedelta(days=10))
    add_deal(db_session, demo, "Closed ten days ago", close_date=TODAY - timedelta(days=10))
    mine = {"Closes today", "Closes in ten days", "Closed ten days ago"}

    def only_mine(query):
        return sorted(set(names(demo.alice, query)) & mine)

    assert only_mine("f=close_date:last_days:10") == ["Closed ten days ago", "Closes today"]
    assert only_mine("f=close_date:next_days:9") == ["Closes today"]
    assert only_mine(f"f=close_date:before:{TODAY}") == ["Closed ten days ago"]
    assert only_mine(f"f=close_date:after:{TODAY}") == ["Closes in ten days"]
    between = f"f=close_date:between:{TODAY}..{TODAY + timedelta(days=10)}"
    assert only_mine(between) == ["Closes in ten days", "Closes today"]


def test_create_date_compares_whole_days(db_session, demo):
    def at(day, clock):
        return datetime.combine(day, clock).replace(microsecond=0)

    add_deal(db_session, demo, "Created late today", created_at=at(TODAY, datetime.max.time()))
    add_deal(db_session, demo, "Created at midnight", created_at=at(TODAY, datetime.min.time()))
    yesterday = TODAY - timedelta(days=1)
    add_deal(db_session, demo, "Created yesterday", created_at=at(yesterday, datetime.max.time()))
    mine = {"Created late today", "Created at midnight", "Created yesterday"}

    def only_mine(query):
        return sorted(set(names(demo.alice, query)) & mine)

    assert only_mine(f"f=created_at:between:{TODAY}..{TODAY}") == [
        "Created at midnight",
        "Created late today",
    ]
    assert only_mine(f"f=created_at:after:{yesterday}") == only_mine(
        f"f=created_at:between:{TODAY}..{TODAY}"
    )
    assert only_mine(f"f=created_at:before:{TODAY}") == ["Created yesterday"]
    assert only_mine("f=created_at:last_days:1") == sorted(mine)


# ---------------------------------------------------------------- choices


def test_choice_operators(db_session, demo):
    options = deal_index.index_reference(demo.alice).choices
    sales = next(c.id for c in options.get("pipeline") if c.label == "Sales pipeline")
    in_sales = names(demo.alice, f"f=pipeline:any_of:{sales}")
    not_in_sales = names(demo.alice, f"f=pipeline:none_of:{sales}")
    assert sorted(in_sales + not_in_sales) == sorted(
        d.name for d in brightside_deals(db_session, demo)
    )
    assert "Acme Corp website relaunch" in in_sales

    alices = {d.id for d in brightside_deals(db_session, demo) if d.owner_id == demo.alice.id}
    mine = {row.id for row in rows(demo.alice, "f=owner:is_me:")}
    assert mine == alices and mine
    assert {row.id for row in rows(demo.alice, f"f=owner:any_of:{demo.alice.id}")} == alices
    others = {row.id for row in rows(demo.alice, f"f=owner:none_of:{demo.alice.id}")}
    assert not others & alices and len(others) == 64 - len(alices)
    assert {row.id for row in rows(demo.bob, "f=owner:is_me:")} & alices == set()

    products = names(demo.alice, "f=product_interest:any_of:Marketing Suite")
    assert sorted(products) == ["Acme Corp website relaunch", "Umbrella marketing automation"]
    northwind = demo.northwind.id
    shared = names(demo.alice, f"f=shared_with:any_of:{northwind}")
    assert len(shared) == 5 and "Initech SEO audit" not in shared
    assert "Initech SEO audit" in names(demo.alice, f"f=shared_with:none_of:{northwind}")


def test_choices_come_in_the_same_order_on_every_database(db_session, demo):
    """By name, case aside (then as written): "amy" before "Bob" on SQLite and PostgreSQL."""
    from models import User

    for name in ("bob zed", "Amy Lowe", "amy lowe", "Émile Roux"):
        db_session.add(
            User(
                account_id=demo.alice.account_id,
                email=f"{name.replace(' ', '.').lower()}.{len(name)}{name[0]}@example.com",
                full_name=name,
                password_hash="x",
            )
        )
    db_session.commit()
    owners = [c.label for c in deal_index.index_reference(demo.alice).choices.get("owner")]
    mine = [n for n in owners if n in {"bob zed", "Amy Lowe", "amy lowe", "Émile Roux"}]
    assert mine == ["Amy Lowe", "amy lowe", "bob zed", "Émile Roux"]
    assert owners == sorted(owners, key=lambda n: (n.casefold(), n))


def add_partners(db_session, number):
    from models import Account

    for n in range(number):
        db_session.add(Account(name=f"Partner {n:03d}", kind="partner"))
    db_session.commit()


def test_a_vendors_many_partners_are_read_only_when_asked_for(db_session, demo):
    """Past SUGGESTED_MAX partners, the reference leaves them out; the first question about
    them reads all of them (by name, case aside), and names typed still resolve."""
    from services.deal_index.choices import SUGGESTED_MAX

    add_partners(db_session, SUGGESTED_MAX + 10)
    choices = deal_index.index_reference(demo.rita).choices
    assert "shared_with" in choices.loaders and choices.by_property["shared_with"] == []
    assert choices.suggested("shared_with") == []  # the datalist: none, and nothing read
    assert "shared_with" in choices.loaders
    partners = choices.get("shared_with")
    assert "shared_with" not in choices.loaders
    assert len(partners) == SUGGESTED_MAX + 12  # and Brightside, Harbor
    assert [c.label for c in partners] == sorted(
        (c.label for c in partners), key=lambda n: (n.casefold(), n)
    )
    ids = {row.id for row in rows(demo.rita, "f=shared_with:any_of:Brightside Agency")}
    assert ids and ids == {
        row.id for row in rows(demo.rita, f"f=shared_with:any_of:{demo.brightside.id}")
    }
    # Ids alone (what the form sends) read only those partners, and leave the rest to load.
    choices = deal_index.index_reference(demo.rita).choices
    state = parse_query(f"f=shared_with:any_of:{demo.harbor.id},{demo.brightside.id}", choices)
    assert state.state.conditions[0].values == (demo.harbor.id, demo.brightside.id)
    assert "shared_with" in choices.loaders
    assert set(choices.read_by_id["shared_with"]) == {demo.harbor.id, demo.brightside.id}
    assert choices.labels("shared_with", (demo.brightside.id,)) == ["Brightside Agency"]
    assert "shared_with" in choices.loaders
    # An id that is no partner's is refused, as before, after reading them all.
    unknown = parse_query("f=shared_with:any_of:987654", choices)
    assert unknown.errors and not unknown.state.conditions
    assert "shared_with" not in choices.loaders
    # A partner's side (one vendor) and a vendor with few partners read them at once.
    assert deal_index.index_reference(demo.alice).choices.loaders == {}


def test_the_vendor_filters_by_partner_and_by_open_request(db_session, demo):
    """ "Shared with" and "Open registration requests" from the vendor's side: the deals
    shared with that partner (with an open request), and their complements."""
    vendor_deals = {
        d.id: d
        for d in db_session.scalars(sa.select(Deal).where(Deal.account_id == demo.northwind.id))
    }
    by_partner = {
        shared.vendor_deal_id: shared.partner_account_id
        for shared in db_session.scalars(sa.select(SharedDeal))
    }
    ids = {row.id for row in rows(demo.rita, f"f=shared_with:any_of:{demo.brightside.id}")}
    assert ids == {d for d, partner in by_partner.items() if partner == demo.brightside.id}
    others = {row.id for row in rows(demo.rita, f"f=shared_with:none_of:{demo.brightside.id}")}
    assert others == set(vendor_deals) - ids
    both = f"{demo.brightside.id},{demo.harbor.id}"
    assert {row.id for row in rows(demo.rita, f"f=shared_with:any_of:{both}")} == set(by_partner)

    open_ids = set(
        db_session.scalars(
            sa.select(SharedDeal.vendor_deal_id)
            .join(RegistrationRequest, RegistrationRequest.shared_deal_id == SharedDeal.id)
            .where(RegistrationRequest.status == "requested")
        )
    )
    assert open_ids
    assert {row.id for row in rows(demo.rita, "f=open_requests:gt:0")} == open_ids
    assert {row.id for row in rows(demo.rita, "f=open_requests:eq:1")} == open_ids
    assert {row.id for row in rows(demo.rita, "f=open_requests:lt:1")} == set(
        vendor_deals
    ) - open_ids
    # The partner's side of the same requests.
    partner_open = {row.id for row in rows(demo.alice, "f=open_requests:gt:0")}
    assert partner_open == set(
        db_session.scalars(
            sa.select(SharedDeal.partner_deal_id)
            .join(RegistrationRequest, RegistrationRequest.shared_deal_id == SharedDeal.id)
            .where(
                RegistrationRequest.status == "requested",
                SharedDeal.partner_account_id == demo.brightside.id,
            )
        )
    )


def test_choices_typed_by_name_become_ids(demo):
    options = deal_index.index_reference(demo.alice).choices
    args = MultiDict({"property": "stage", "operator": "any_of", "value": "closed won, Discovery"})
    parsed = parse(args, options)
    assert parsed.errors == []
    condition = parsed.state.conditions[0]
    # "Closed won" is a stage of both pipelines: both are meant.
    assert len(condition.values) == 3
    assert condition.describe(options) == (
        "Deal stage is any of Closed won (Sales pipeline), Closed won (Partner referrals), "
        "Discovery"
    )


def test_another_accounts_choice_ids_are_refused_or_match_nothing(demo):
    query = f"f=owner:any_of:{demo.hana.id}"
    parsed = parse_query(query, deal_index.index_reference(demo.alice).choices)
    assert parsed.errors and parsed.state.conditions == ()
    # Without the choices at hand (a hand-made URL), the account scope still holds.
    assert names(demo.alice, query, check_choices=False) == []


# ---------------------------------------------------------------- every operator, and bad input


def test_every_operator_of_the_registry_builds_sql_that_runs(demo):
    sample = {
        "text": ["x"],
        "number": ["1"],
        "date": ["2026-01-01"],
    }
    for prop in PROPERTIES.values():
        for op in prop.operators:
            if op.takes == "none":
                values = []
            elif op.takes == "days":
                values = ["7"]
            elif op.takes == "range":
                values = ["2026-01-01..2026-02-01"] if prop.type == "date" else ["1..2"]
            elif op.takes == "many":
                values = ["1"]
            else:
                values = sample[prop.type]
            condition = deal_index.parse_condition(prop.key, op.key, values)
            again = parse_query(f"f={condition.param}").state.conditions
            assert again == (condition,), condition.param
            query = deal_index.IndexState(conditions=(condition,)).query()
            rows(demo.alice, query, check_choices=False)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"property": "password_hash", "operator": "is", "value": "x"}, "Choose a property"),
        ({"property": "__class__", "operator": "is", "value": "x"}, "Choose a property"),
        ({"property": "amount", "operator": "contains", "value": "1"}, "cannot be filtered"),
        ({"property": "amount", "operator": "", "value": "1"}, "Choose an operator"),
        ({"property": "amount", "operator": "gt", "value": "lots"}, "needs a number"),
        ({"property": "amount", "operator": "gt", "value": "NaN"}, "needs a number"),
        ({"property": "amount", "operator": "gt", "value": "1e9"}, "needs a number"),
        ({"property": "amount", "operator": "gt", "value": ""}, "Enter a value"),
        ({"property": "amount", "operator": "between", "value": "5"}, "two values"),
        ({"property": "amount", "operator": "between", "value": "9..1"}, "must not be after"),
        ({"property": "active_registrations", "operator": "gt", "value": "0.5"}, "whole number"),
        ({"property": "close_date", "operator": "before", "value": "next week"}, "a date"),
        ({"property": "close_date", "operator": "before", "value": "31/12/2026"}, "not exist"),
        ({"property": "amount", "operator": "gt", "value": "1500,50"}, "like 1,500.50"),
        ({"property": "amount", "operator": "gt", "value": "1.500"}, "needs a number"),
        ({"property": "close_date", "operator": "after", "value": "2026-02-30"}, "does not exist"),
        ({"property": "close_date", "operator": "last_days", "value": "-3"}, "number of days"),
        ({"property": "created_at", "operator": "next_days", "value": "0"}, "number of days"),
        ({"property": "stage", "operator": "any_of", "value": "Nope"}, "not one of the choices"),
        ({"property": "owner", "operator": "is", "value": "Alice"}, "cannot be filtered"),
        ({"property": "name", "operator": "contains", "value": "x" * 201}, "at most 200"),
    ],
)
def test_bad_conditions_get_a_message_and_change_nothing(demo, args, message):
    options = deal_index.index_reference(demo.alice).choices
    before = [("f", "amount:gt:1000"), ("sort", "amount")]
    parsed = parse(MultiDict(before + list(args.items())), options)
    assert len(parsed.errors) == 1 and message in parsed.errors[0], parsed.errors
    # The state is what it was before the bad condition: unchanged, not unfiltered.
    assert parsed.state.query() == "f=amount:gt:1000&sort=amount"
    assert parsed.draft.property_key == args["property"]  # kept to show again
    assert not parsed.needs_redirect


@pytest.mark.parametrize(
    "raw", ["", "amount", "amount:", "nope:is:x", "amount:zz:1", "stage:any_of:1;2", ":::"]
)
def test_bad_conditions_in_the_url_are_left_out(raw):
    parsed = parse(MultiDict([("f", raw), ("f", "name:contains:acme")]))
    assert [c.param for c in parsed.state.conditions] == ["name:contains:acme"]
    assert len(parsed.errors) == 1


def test_canonical_query_round_trips():
    query = (
        "view=12&q=acme+corp&f=amount:between:1000..5000&f=owner:is_me:"
        "&f=name:contains:a:b&sort=-amount&cols=name,amount&page=3"
    )
    state = parse_query(query).state
    assert state.query() == query
    assert parse_query(state.query()).state == state
    assert state.saved_query() == (
        "q=acme+corp&f=amount:between:1000..5000&f=owner:is_me:&f=name:contains:a:b"
        "&sort=-amount&cols=name,amount"
    )


def test_is_me_accepts_the_contracts_spellings():
    for raw in ("owner:is_me", "owner:is_me:", "owner:is_me:me"):
        assert parse(MultiDict({"f": raw})).state.conditions[0].param == "owner:is_me:"


def test_sort_page_columns_and_view_never_fail():
    state = parse(
        MultiDict({"sort": "-password", "page": "-4", "cols": "x,amount", "view": "<script>"})
    ).state
    assert (state.sort, state.descending, state.page, state.view) == ("created_at", True, 1, "")
    assert state.columns == ("name", "amount")
    assert parse(MultiDict({"page": "99999999999999999999"})).state.page == 40
    assert parse(MultiDict({"page": "two"})).state.page == 1
    assert parse(MultiDict({"sort": "amount", "sort_by": "-name"})).state.sort_param == "-name"


def test_removing_and_clearing_conditions():
    base = [("f", "amount:gt:1"), ("f", "name:contains:a"), ("f", "amount:gt:1")]
    assert parse(MultiDict(base)).state.query() == "f=amount:gt:1&f=name:contains:a"
    removed = parse(MultiDict([*base, ("remove", "0")]))
    assert removed.state.query() == "f=name:contains:a" and removed.needs_redirect
    assert parse(MultiDict([*base, ("clear", "1")])).state.conditions == ()


def test_apply_with_nothing_chosen_says_so():
    parsed = parse(MultiDict([("apply", "1"), ("property", ""), ("value", "")]))
    assert parsed.errors == ["Choose a property, an operator and a value, then Apply."]
    assert parsed.state.conditions == ()


def test_between_with_one_of_its_two_boxes_filled_speaks_of_the_boxes():
    two_boxes = MultiDict(
        [("property", "amount"), ("operator", "between"), ("value", "1000"), ("value", "")]
    )
    assert parse(two_boxes).errors == ["Amount: fill in both boxes."]
    # Without JavaScript there is one text box: the message gives the written form.
    one_box = MultiDict([("property", "amount"), ("operator", "between"), ("value", "1000")])
    assert "1000..5000" in parse(one_box).errors[0]


def test_a_wide_date_range_finds_the_same_deals_whichever_index_reads_it(db_session, demo):
    """On SQLite a range of WIDE_DATE_RANGE_DAYS or more is read off the sort's index
    (the column behind a unary plus); the deals, their order and count stay the same."""
    from services.deal_index.conditions import WIDE_DATE_RANGE_DAYS

    for days in (0, 5, 13, 14, 20, 40):
        add_deal(
            db_session, demo, f"Closes in {days} days", close_date=TODAY + timedelta(days=days)
        )
    wide, narrow = f"next_days:{WIDE_DATE_RANGE_DAYS}", f"next_days:{WIDE_DATE_RANGE_DAYS - 2}"
    by_close = names(demo.alice, f"f=close_date:{wide}&sort=close_date")
    by_created = names(demo.alice, f"f=close_date:{wide}&sort=name")
    assert (
        sorted(by_close)
        == sorted(by_created)
        == sorted(
            ["Closes in 0 days", "Closes in 5 days", "Closes in 13 days", "Closes in 14 days"]
        )
    )
    assert sorted(names(demo.alice, f"f=close_date:{narrow}")) == sorted(by_close[:2])
    after = f"f=close_date:after:{TODAY}"
    assert sorted(names(demo.alice, after)) == sorted(names(demo.alice, f"{after}&sort=close_date"))
    assert {"Closes in 40 days", "Closes in 5 days"} <= set(names(demo.alice, after))

    def sql(query):
        choices = deal_index.index_reference(demo.alice).choices
        stmt = deal_index.export_select(scope_of(demo.alice), parse_query(query).state, choices)
        return str(stmt.compile(db_session.get_bind()))

    sqlite = db_session.get_bind().dialect.name == "sqlite"
    assert ("(+ deals.close_date)" in sql(f"f=close_date:{wide}")) is sqlite
    assert "(+ deals.close_date)" not in sql(f"f=close_date:{narrow}")
    assert "(+ deals.close_date)" not in sql(f"f=close_date:{wide}&sort=close_date")
