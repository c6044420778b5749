"""What the deal page and its saves cost: SQL statements and bytes (issue 12), never time.

The page is four statements whoever looks (the user, the deal with its shared deal and
the bell, the card, the Activity); a save answers htmx with the parts it changed and the
history rows it added, out of band, in at most 4 KB: never the whole card or history.
"""

import re

import pytest
import sqlalchemy as sa

from extensions import db
from models import DealRegistration, Product, RegistrationRequest, utcnow
from tests.html import page
from tests.test_deals_index import counted_statements

HX = {"HX-Request": "true"}
SAVE_LIMIT = 4 * 1024


def statements_of(client, db_session, url):
    # As in production, each request loads its user: forget the test's loaded rows.
    db_session.expunge_all()
    with counted_statements() as statements:
        response = client.get(url)
    assert response.status_code == 200
    return statements


@pytest.mark.parametrize("side", ["partner", "vendor"])
def test_the_deal_page_costs_four_statements(client, login_as, demo, db_session, side):
    shared = demo.acme_shared
    # An open request: the vendor's card then also looks for conflicting registrations.
    db_session.add(
        RegistrationRequest(
            shared_deal_id=shared.id, requested_by_id=demo.alice.id, message="Please register"
        )
    )
    db_session.flush()
    user, deal_id = (
        (demo.alice, shared.partner_deal_id)
        if side == "partner"
        else (demo.rita, shared.vendor_deal_id)
    )
    login_as(user)
    client.get(f"/deals/{deal_id}")  # warm up whatever is loaded once per process
    statements = statements_of(client, db_session, f"/deals/{deal_id}")
    assert any("FROM users" in s for s in statements)
    assert len(statements) <= 4, statements
    doc = page(client.get(f"/deals/{deal_id}"))
    assert doc.find(id="shared-deal-card") and doc.find(id="activity-list")
    assert doc.find(id="shared-registrations").find(string=re.compile("Please register"))


@pytest.mark.parametrize("side", ["partner", "vendor"])
def test_users_and_their_accounts_are_joined_flat(client, login_as, demo, db_session, side):
    """A deal's owner and an activity's actor come by an outer join, their account by a
    second one (models.User.account, innerjoin="unnested"): SQLite cannot flatten
    `LEFT OUTER JOIN (users JOIN accounts)` and built every user with their account
    first (1,000 partners, 3,000 users: 6-15 ms a statement)."""
    shared = demo.acme_shared
    user, deal_id = (
        (demo.alice, shared.partner_deal_id)
        if side == "partner"
        else (demo.rita, shared.vendor_deal_id)
    )
    login_as(user)
    sent = []

    def keep(conn, cursor, statement, parameters, context, executemany):
        sent.append((statement, parameters))

    sa.event.listen(db.engine, "before_cursor_execute", keep)
    try:
        assert client.get(f"/deals/{deal_id}").status_code == 200
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", keep)
    with_users = [(s, p) for s, p in sent if re.search(r"OUTER JOIN \(?users", s)]
    assert len(with_users) >= 2  # the deal's owner, the activities' actors
    for statement, _ in with_users:
        assert not re.search(r"JOIN \(users", statement), statement
    if db_session.get_bind().dialect.name == "sqlite":
        for statement, parameters in with_users:
            plan = db_session.connection().exec_driver_sql(
                f"EXPLAIN QUERY PLAN {statement}", parameters
            )
            steps = [row[3] for row in plan]
            assert not any(s.startswith(("SCAN accounts", "MATERIALIZE")) for s in steps), steps


def test_an_unshared_deal_page_costs_two_statements(client, login_as, demo, db_session):
    login_as(demo.alice)
    client.get(f"/deals/{demo.initech.id}")
    statements = statements_of(client, db_session, f"/deals/{demo.initech.id}")
    assert len(statements) == 2, statements


def test_the_page_records_an_expiry_once_then_costs_four_again(client, login_as, demo, db_session):
    from datetime import date, timedelta

    shared = demo.acme_shared
    db_session.add(
        DealRegistration(
            shared_deal_id=shared.id,
            registered_by_id=demo.rita.id,
            expires_on=date.today() - timedelta(days=1),
        )
    )
    db_session.flush()
    login_as(demo.alice)
    first = page(client.get(f"/deals/{demo.acme.id}"))
    assert first.find(id="activity-list").find(string=re.compile("expired"))
    assert len(statements_of(client, db_session, f"/deals/{demo.acme.id}")) <= 4


def _products(db_session, demo):
    return list(
        db_session.scalars(
            sa.select(Product.id)
            .where(Product.vendor_account_id == demo.northwind.id)
            .order_by(Product.position)
        )
    )


def _saves(demo, db_session):
    """(who, deal id, path, form, the ids the answer swaps in) for each save on the page."""
    shared = demo.acme_shared
    partner, vendor = shared.partner_deal_id, shared.vendor_deal_id
    products = _products(db_session, demo)
    return {
        "name": (
            demo.alice,
            partner,
            "fields/name",
            {"name": "Acme relaunch, phase 2"},
            ["field-name", "deal-header"],
        ),
        "amount": (
            demo.alice,
            partner,
            "fields/amount",
            {"amount": "98765"},
            ["field-amount", "deal-header"],
        ),
        "close date": (
            demo.alice,
            partner,
            "fields/close_date",
            {"close_date": "2031-03-01"},
            ["field-close_date"],
        ),
        "company": (
            demo.alice,
            partner,
            "fields/company",
            {"company": "Acme Holdings"},
            ["field-company", "deal-header"],
        ),
        "owner": (
            demo.alice,
            partner,
            "fields/owner",
            {"owner": str(demo.bob.id)},
            ["field-owner"],
        ),
        "team": (
            demo.alice,
            partner,
            "team",
            {"members": [demo.alice.id, demo.bob.id], "original_members": [demo.alice.id]},
            ["team-dialog", "shared-team"],
        ),
        "products": (
            demo.alice,
            partner,
            "products",
            {"products": products, "original_products": [""]},
            ["shared-products"],
        ),
        "note": (
            demo.alice,
            partner,
            "notes/next_steps",
            {"text": "Call Tuesday."},
            ["note-next_steps"],
        ),
        "request": (
            demo.alice,
            partner,
            "registration-requests",
            {"message": "Please"},
            ["shared-registrations"],
        ),
        "registration": (demo.rita, vendor, "registrations", {}, ["shared-registrations"]),
    }


SAVES = [
    "name",
    "amount",
    "close date",
    "company",
    "owner",
    "team",
    "products",
    "note",
    "request",
    "registration",
]


def _post_save(client, login_as, demo, db_session, save):
    """`save`'s POST (htmx) as its user: (response, ids of the parts it swaps, its SQL)."""
    user, deal_id, path, form, swapped = _saves(demo, db_session)[save]
    if save == "request":  # a partner asks only while the deal is not registered
        db_session.execute(
            sa.update(DealRegistration)
            .where(DealRegistration.shared_deal_id == demo.acme_shared.id)
            .values(deregistered_at=utcnow())
        )
    login_as(user)
    # As in production, the request loads its own rows: forget the test's.
    db_session.expunge_all()
    with counted_statements() as statements:
        response = client.post(f"/deals/{deal_id}/{path}", data=form, headers=HX)
    return response, swapped, [" ".join(s.split()) for s in statements]


@pytest.mark.parametrize("save", SAVES)
def test_a_save_answers_with_what_changed_in_4_kb(client, login_as, demo, db_session, save):
    response, swapped, _ = _post_save(client, login_as, demo, db_session, save)
    assert response.status_code == 200
    body = response.get_data()
    assert len(body) <= SAVE_LIMIT, len(body)
    doc = page(body)
    for element_id in swapped:
        assert doc.find(id=element_id), element_id
    # The history rows the save recorded, on top of the list; never the whole history.
    (new_rows,) = doc.find_all(attrs={"hx-swap-oob": "afterbegin:#activity-list"})
    assert 1 <= len(new_rows.find_all("li")) <= 2
    assert doc.find(id="activity") is None and doc.find(id="shared-deal-card") is None


@pytest.mark.parametrize("save", SAVES)
def test_a_save_reads_its_user_once_and_notifies_in_one_statement(
    client, login_as, demo, db_session, save
):
    """The commit keeps the signed-in user loaded (the answer would read it again), and the
    notifications are one INSERT … SELECT of the team (not a read of it, then an insert);
    on PostgreSQL the same statement inserts the activity row (a WITH whose parts write)."""
    response, _, statements = _post_save(client, login_as, demo, db_session, save)
    assert response.status_code == 200 and 'role="alert"' not in response.text, response.text
    user_reads = [s for s in statements if re.search(r"FROM users .*WHERE users\.id = ", s)]
    # The login's (and for the owner, the new owner's name, for the history).
    assert len(user_reads) == (2 if save == "owner" else 1), user_reads
    team_reads = [s for s in statements if s.startswith("SELECT deal_team_members.user_id")]
    assert team_reads == []
    notifying = [s for s in statements if "INSERT INTO notifications" in s]
    assert len(notifying) == 1 and "FROM deal_team_members" in notifying[0], notifying
    recording = [s for s in statements if "INSERT INTO activities" in s]
    if db_session.get_bind().dialect.name == "postgresql":
        assert recording == notifying, statements
    else:
        assert len(recording) == 1 and recording != notifying, statements


@pytest.mark.parametrize("save", ["name", "amount", "owner"])
def test_a_field_save_finds_and_locks_its_shared_deal_and_deals_in_one_statement(
    client, login_as, demo, db_session, save
):
    """The shared deal, then the deal (and for a shared property, name or amount, the other
    party's deal): one statement, not one a row. The answer reads the deal as saved."""
    response, _, statements = _post_save(client, login_as, demo, db_session, save)
    assert response.status_code == 200 and 'role="alert"' not in response.text, response.text
    shared_reads = [s for s in statements if "FROM shared_deals" in s]
    assert len(shared_reads) == 1, statements
    (lock,) = shared_reads
    assert "FROM deals" in lock
    if db_session.get_bind().dialect.name == "postgresql":
        assert lock.count("FOR UPDATE") == 2, lock  # the shared deal's, then the deals'
    before_write = statements[: next(i for i, s in enumerate(statements) if s.startswith("UPDATE"))]
    assert not [s for s in before_write if s.startswith("SELECT deals.")], before_write


@pytest.mark.parametrize("save", ["team", "products", "note", "request", "registration"])
def test_a_card_save_reads_its_shared_deal_once_under_its_lock_on_postgresql(
    client, login_as, demo, db_session, save
):
    """A save of the card reads the shared deal of the user's deal (no deal row: the card's
    parts need only its id); on PostgreSQL under its lock, once: the service's lock of it
    sends nothing, and the answer, read in the same transaction, reuses it as saved. On
    SQLite the service takes its lock (the database's) after its checks, as before."""
    response, _, statements = _post_save(client, login_as, demo, db_session, save)
    assert response.status_code == 200 and 'role="alert"' not in response.text, response.text
    assert not [s for s in statements if s.startswith("SELECT deals.")], statements
    shared_reads = [s for s in statements if s.startswith("SELECT shared_deals.")]
    if db_session.get_bind().dialect.name == "postgresql":
        assert len(shared_reads) == 1 and shared_reads[0].endswith("FOR UPDATE"), shared_reads
    else:
        assert len(shared_reads) == 2, shared_reads  # the route's read, the service's lock


def test_deregistering_answers_in_4_kb(client, login_as, demo, db_session):
    shared = demo.acme_shared
    login_as(demo.rita)
    added = client.post(f"/deals/{shared.vendor_deal_id}/registrations", data={}, headers=HX)
    registration_id = max(
        map(int, re.findall(r"registrations/(\d+)/deregistration", added.get_data(as_text=True)))
    )
    response = client.post(
        f"/deals/{shared.vendor_deal_id}/registrations/{registration_id}/deregistration",
        headers=HX,
    )
    assert len(response.get_data()) <= SAVE_LIMIT
    doc = page(response)
    assert doc.find(id="shared-registrations")
    assert doc.find(attrs={"hx-swap-oob": "afterbegin:#activity-list"}).find("li")


def test_the_team_dialog_comes_back_open_with_its_message(client, login_as, demo):
    login_as(demo.alice)
    response = client.post(
        f"/deals/{demo.acme.id}/team",
        data={"members": [demo.rita.id], "original_members": [demo.alice.id]},
        headers=HX,
    )
    doc = page(response)
    dialog = doc.find(id="team-dialog")
    assert dialog.has_attr("data-show-modal") and dialog.find(attrs={"role": "alert"})
    assert len(response.get_data()) <= SAVE_LIMIT


def test_a_conflicting_amount_shows_the_current_value_in_4_kb(client, login_as, demo):
    login_as(demo.alice)
    response = client.post(
        f"/deals/{demo.acme.id}/fields/amount",
        data={"amount": "5", "original": "1"},
        headers=HX,
    )
    assert len(response.get_data()) <= SAVE_LIMIT
    doc = page(response)
    assert doc.find(id="field-amount-error")["class"] == ["conflict"]


def test_a_note_reads_only_itself_of_the_card(client, login_as, demo, db_session):
    """A note's view, edit and save render the note alone: they never load the whole card
    (its one statement over team, products, registrations and requests)."""
    login_as(demo.alice)
    base = f"/deals/{demo.acme_shared.partner_deal_id}/notes/next_steps"
    client.get(base, headers=HX)  # warm up whatever is loaded once per process
    for method, url, data in (
        ("get", base, None),
        ("get", f"{base}/edit", None),
        ("post", base, {"text": "Call them on Monday", "original": demo.acme_shared.next_steps}),
    ):
        db_session.expunge_all()
        with counted_statements() as statements:
            response = getattr(client, method)(url, data=data, headers=HX)
        assert response.status_code == 200, response.text[:300]
        assert not any("card.kind" in s for s in statements), statements
        assert "note-next_steps" in response.text


@pytest.mark.parametrize("save", ["name", "amount", "close date"])
def test_a_field_saves_header_names_the_other_party_without_reading_it(
    client, login_as, demo, db_session, save
):
    """The header sent back out of band says "Shared with <party>": the name comes with
    the deal (its shared_with_account_id), not from a statement of its own."""
    response, _, statements = _post_save(client, login_as, demo, db_session, save)
    assert response.status_code == 200 and 'role="alert"' not in response.text, response.text
    header = page(response.get_data()).find(class_="shared-badge")
    assert header is not None and "Shared with" in header.get_text()
    assert not [s for s in statements if s.startswith("SELECT accounts.name FROM accounts")]


def test_open_requests_are_asked_with_the_status_written_in(client, login_as, demo):
    """Every statement of the vendor's deal page and registration answer that asks for an
    open request says "status = 'requested'" itself, as the partial index does: a bound
    status makes SQLite prepare the statement again at every run, and PostgreSQL's
    generic plan miss it."""
    seen = []

    def catch(conn, cursor, statement, parameters, context, executemany):
        if "registration_requests" in statement:
            seen.append((statement, parameters))

    login_as(demo.rita)
    sa.event.listen(db.engine, "before_cursor_execute", catch)
    vendor_deal = demo.acme_shared.vendor_deal_id
    try:
        assert client.get(f"/deals/{vendor_deal}").status_code == 200
        # The registrations' part asks (with the conflicts) whatever the deal's state.
        added = client.post(f"/deals/{vendor_deal}/registrations", headers={"HX-Request": "true"})
        assert added.status_code == 200
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", catch)
    asking = [(s, p) for s, p in seen if "registration_requests.status =" in s]
    assert asking, seen
    for statement, parameters in asking:
        assert "registration_requests.status = 'requested'" in statement
        values = parameters.values() if isinstance(parameters, dict) else parameters
        assert "requested" not in list(values)


def test_the_vendors_card_asks_for_an_open_request_before_reading_other_deals():
    """The conflicts list exists only while a request is open: that is tested with the
    partner deal's company, the key the conflicting deals are then read by, so with no
    open request the key is NULL and SQLite reads no other deal; and on the list itself,
    which PostgreSQL tests once before running it (asked only inside, it planned the whole
    list with parallel workers: 0.43 -> 11.5 ms at 1,000,000 deals)."""
    from services.shared_card import CARD_LISTS, _card_statement

    statement = _card_statement(CARD_LISTS)
    sql = " ".join(str(statement.compile(dialect=sa.dialects.sqlite.dialect())).split())
    start = sql.index("(SELECT lower(replace(deals_1.company_name")
    depth, end = 0, start
    while end == start or depth:  # to the parenthesis closing the subquery
        depth += {"(": 1, ")": -1}.get(sql[end], 0)
        end += 1
    company_key = sql[start:end]
    asked = (
        "FROM registration_requests WHERE registration_requests.shared_deal_id = ? AND "
        "registration_requests.status = 'requested'"
    )
    assert asked in company_key, company_key
    assert asked in sql[end:], sql[end:]  # the list's own WHERE, after its FROM


def test_the_vendors_page_reads_the_conflicts_only_while_a_request_is_open(
    client, login_as, demo, db_session
):
    """The vendor's deal page asks for the conflicting registrations only when the deal
    says a request is open (its open_request_since); its team save never does (the
    team's parts do not show them). The card stays one statement either way."""
    vendor_deal = demo.acme_shared.vendor_deal_id
    login_as(demo.rita)

    def card_statements(method, path, **kwargs):
        db_session.expunge_all()
        with counted_statements() as statements:
            assert getattr(client, method)(path, **kwargs).status_code == 200
        return [s for s in statements if "card.kind" in s]

    (card,) = card_statements("get", f"/deals/{vendor_deal}")
    assert "company_name" not in card  # the conflicts are read by the partner deal's company
    team = {"members": [demo.rita.id], "original_members": [demo.rita.id]}
    hx = {"HX-Request": "true"}
    (card,) = card_statements("post", f"/deals/{vendor_deal}/team", data=team, headers=hx)
    assert "company_name" not in card
    db_session.execute(
        sa.update(DealRegistration)
        .where(DealRegistration.shared_deal_id == demo.acme_shared.id)
        .values(deregistered_at=utcnow())
    )
    db_session.add(
        RegistrationRequest(shared_deal_id=demo.acme_shared.id, requested_by_id=demo.alice.id)
    )
    db_session.commit()
    (card,) = card_statements("get", f"/deals/{vendor_deal}")
    assert "company_name" in card
    # Deciding the open request leaves none open: its answer reads no conflicts either.
    request_id = db_session.scalar(
        sa.select(RegistrationRequest.id).where(
            RegistrationRequest.shared_deal_id == demo.acme_shared.id,
            RegistrationRequest.status == "requested",
        )
    )
    decline = f"/deals/{vendor_deal}/registration-requests/{request_id}/decline"
    (card,) = card_statements("post", decline, data={"reason": "Taken"}, headers=hx)
    assert "company_name" not in card
