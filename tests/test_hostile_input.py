"""Hostile input, generated: every parameter of every route, as every role, never a 5xx.

Hypothesis draws a route from the app's url_map (its <id:...> and other path
arguments filled with real ids or junk), parameters named by the forms in
forms/ and by what the views read from the query string (the deals index's f=,
q=, sort=, page=, cols, view, ...), hostile values for them (huge and negative
integers, 2^31, 2^63, dates at the calendar's edges, 1e309, NaN, long and
unicode text, NUL, repeated parameters, many filters; now and then as a JSON
body or as files instead of a form), a role (vendor admin,
partner admin, partner member, logged out), GET or POST, plain or htmx. Every
answer must be below 500, and the next ordinary request of that user must work.

The budget is fixed: HOSTILE_EXAMPLES examples (default below, for CI); set
HOSTILE_EXAMPLES=2000 for a long hunt. CSRF is off in the test config, so
posts reach the handlers.
"""

from __future__ import annotations

import inspect
import io
import os
import re
import time
from collections import Counter
from datetime import date, timedelta
from urllib.parse import quote

import pytest
import sqlalchemy as sa
from flask_wtf import FlaskForm
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.datastructures import MultiDict
from wtforms.fields.core import UnboundField

import forms.auth
import forms.card
import forms.deal
import forms.settings
import forms.shared_deal
import forms.views
from models import DealRegistration, Notification, RegistrationRequest, SavedView, SharedDeal
from services import values
from services.deal_index import PROPERTIES
from services.deal_index.parsing import FORM_PARAMS
from services.deal_index.registry import OPERATORS_BY_TYPE
from services.shared_notes import NOTES
from tests.conftest import log_in

EXAMPLES = int(os.environ.get("HOSTILE_EXAMPLES", "100"))
# Routes left out: logging out ends the session every later example needs.
SKIPPED_ENDPOINTS = {"static", "auth.logout"}
ROLES = ("rita", "alice", "bob", None)  # vendor admin, partner admin, partner member, nobody

# What the views read from the query string besides the forms (blueprints/*.py).
QUERY_PARAMS = (
    "f",
    "q",
    "sort",
    "page",
    "cols",
    "view",
    "next",
    "before",
    "older_than",
    "pipeline",
    "stage",
    "layout",
    "offset",
    *FORM_PARAMS,
)


def _form_field_names() -> set[str]:
    names = set()
    for module in (forms.auth, forms.card, forms.deal, forms.settings, forms.shared_deal):
        for form in vars(module).values():
            if inspect.isclass(form) and issubclass(form, FlaskForm):
                names |= {n for n, a in inspect.getmembers(form) if isinstance(a, UnboundField)}
    for form in (forms.views.SaveViewForm, forms.views.RenameViewForm, forms.views.UpdateViewForm):
        names |= {n for n, a in inspect.getmembers(form) if isinstance(a, UnboundField)}
    return names


PARAM_NAMES = sorted(_form_field_names() | set(QUERY_PARAMS))

# ---------------------------------------------------------------- hostile values

EDGE_INTEGERS = [0, -1, 1, 2**31 - 1, 2**31, -(2**31), 2**63 - 1, 2**63, 2**64, 10**20, 10**400]
EDGE_DATES = [
    date.min,
    date.max,
    values.MIN_DATE,
    values.MIN_DATE - timedelta(days=1),
    values.MAX_DATE,
    values.MAX_DATE + timedelta(days=1),
    date(2024, 2, 29),
]
EDGE_TEXTS = [
    "1e309",
    "-1e309",
    "NaN",
    "nan",
    "inf",
    "-Infinity",
    "1e-400",
    "999999999999.99",
    "999999999999.995",
    "1000000000000",
    "1,000,000,000,000.00",
    "1 500,50",
    "0001-01-01",
    "9999-12-31",
    "0000-00-00",
    "2026-02-30",
    "2026-W01-1",
    "20261231",
    "12/31/9999",
    "31/12/0001",
    "a\x00b",
    "\x00",
    "‮💥\u202f\ufeff",
    "'; DROP TABLE deals;--",
    "%_\\",
    "..",
    ",,,",
    ":",
    "::",
    "-",
    "",
    " ",
]


def _lengths(size: int):
    return st.sampled_from(["x", "é", "💥", "1"]).map(lambda c: c * size)


hostile_text = st.one_of(
    st.sampled_from(EDGE_TEXTS),
    st.sampled_from(EDGE_INTEGERS).map(str),
    st.integers().map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
    st.sampled_from(EDGE_DATES).map(date.isoformat),
    st.dates().map(date.isoformat),
    st.dates().map(lambda d: d.strftime("%m/%d/%Y")),
    st.text(max_size=60),
    st.sampled_from([40, 41, 80, 81, 120, 121, 200, 201, 300, 301, 5000, 5001]).flatmap(_lengths),
)


edge_dates = st.one_of(st.sampled_from(EDGE_DATES), st.sampled_from(EDGE_DATES), st.dates()).map(
    date.isoformat
)
edge_numbers = st.one_of(
    st.sampled_from(EDGE_INTEGERS).map(str),
    st.sampled_from(EDGE_TEXTS[:11]),
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
)
# Values that fit a property's type, at its edges: they get past the first checks.
TYPED_VALUES = {"date": edge_dates, "number": edge_numbers, "choice": edge_numbers}


@st.composite
def conditions(draw) -> str:
    """One `f=` value: mostly a real property, one of its operators, an edge value of its type."""
    prop = draw(st.sampled_from([*PROPERTIES.values(), None]))
    all_operators = [o.key for ops in OPERATORS_BY_TYPE.values() for o in ops]
    own_operators = [o.key for o in prop.operators] if prop else []
    op = draw(
        st.sampled_from(own_operators)
        if own_operators and draw(st.booleans())
        else st.sampled_from([*all_operators, "zz", ""])
    )
    one = (
        st.one_of(TYPED_VALUES.get(prop.type, hostile_text), hostile_text) if prop else hostile_text
    )
    value = draw(
        st.one_of(
            one,
            st.tuples(one, one).map("..".join),
            st.lists(one, max_size=5).map(",".join),
        )
    )
    return f"{prop.key if prop else draw(st.sampled_from(['nope', '']))}:{op}:{value}"


def _path_values(ids: dict):
    """Text for a path argument: a real id of the user's (or another's), or junk."""
    real = st.sampled_from(ids["ids"]).map(str)
    keys = st.sampled_from([*ids["keys"], "nonsense"])
    return st.one_of(real, real, keys, hostile_text.filter(lambda t: "/" not in t and t))


# What a JSON body carries that a form cannot: numbers, booleans, null, lists, objects.
json_values = st.one_of(
    st.integers(),
    st.floats(allow_nan=False),
    st.booleans(),
    st.none(),
    st.lists(st.one_of(st.integers(), hostile_text), max_size=3),
    st.dictionaries(hostile_text, st.integers(), max_size=2),
    hostile_text,
)


@st.composite
def hostile_requests(draw, ids: dict, rules: list):
    index_routes = [r for r in rules if r[0].rule.startswith("/deals") and "<" not in r[0].rule]
    rule, method = draw(st.one_of(st.sampled_from(rules), st.sampled_from(index_routes)))
    path = rule.rule
    for argument in rule.arguments:
        text = draw(_path_values(ids))
        path = re.sub(rf"<(?:[a-z]+:)?{argument}>", quote(text, safe="") or "x", path)
    pairs = draw(st.lists(st.tuples(st.sampled_from(PARAM_NAMES), hostile_text), max_size=10))
    repeated = draw(st.lists(st.sampled_from(PARAM_NAMES), max_size=3))
    pairs += [(name, draw(hostile_text)) for name in repeated for _ in range(3)]
    pairs += [("f", c) for c in draw(st.lists(conditions(), max_size=30))]
    return {
        "method": method,
        "path": path,
        "pairs": pairs,
        "htmx": draw(st.booleans()),
        "role": draw(st.sampled_from(ROLES)),
        # Mostly a form; sometimes the same fields as files, or JSON that no form can send.
        "body": draw(st.sampled_from(["form", "form", "form", "form", "json", "file"])),
        "json": {name: draw(json_values) for name, _ in pairs},
    }


# ---------------------------------------------------------------- the test


def _rules(app) -> list:
    return [
        (rule, method)
        for rule in app.url_map.iter_rules()
        if rule.endpoint not in SKIPPED_ENDPOINTS
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"})
    ]


def _ids(demo, db_session) -> dict:
    """Real ids of each kind: the roles' own, the other party's, and other accounts'."""
    view = SavedView(
        account_id=demo.alice.account_id,
        owner_id=demo.alice.id,
        name="Hostile",
        visibility="account",
        query="",
    )
    db_session.add(view)
    db_session.commit()
    shared = demo.acme_shared
    found = [
        shared.partner_deal_id,
        shared.vendor_deal_id,
        demo.initech.id,
        view.id,
        *db_session.scalars(sa.select(SharedDeal.vendor_deal_id).limit(3)),
        *db_session.scalars(sa.select(DealRegistration.id).limit(3)),
        *db_session.scalars(sa.select(Notification.id).limit(3)),
        *db_session.scalars(sa.select(RegistrationRequest.id).limit(3)),
    ]
    keys = ["name", "amount", "close_date", "stage", "pipeline", *NOTES]
    return {"ids": sorted(set(found)), "keys": keys}


@pytest.fixture
def tally():
    """What the hunt did, printed at the end (pytest -s): requests, statuses, slowest."""
    seen = {"statuses": Counter(), "slowest": (0.0, "")}
    yield seen
    statuses = seen["statuses"]
    slowest, what = seen["slowest"]
    print(
        f"\nhostile requests: {sum(statuses.values())}, statuses: {dict(sorted(statuses.items()))},"
        f" 5xx: {sum(n for s, n in statuses.items() if s >= 500)},"
        f" slowest: {slowest * 1000:.0f} ms ({what[:120]})"
    )


@st.composite
def index_requests(draw):
    """The deals index and its export, fed filters above all (most of the parameter surface)."""
    pairs = [("f", c) for c in draw(st.lists(conditions(), min_size=1, max_size=25))]
    pairs += draw(st.lists(st.tuples(st.sampled_from(QUERY_PARAMS), hostile_text), max_size=4))
    return {
        "method": "GET",
        "path": draw(st.sampled_from(["/deals", "/deals", "/deals/export.csv"])),
        "pairs": pairs,
        "htmx": draw(st.booleans()),
        "role": draw(st.sampled_from(ROLES[:3])),
    }


HUNT_SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.function_scoped_fixture,
        HealthCheck.data_too_large,
    ],
)


def _hunter(app, demo, tally):
    """send(req): one hostile request as its role, then that user's ordinary request."""
    clients = {role: log_in(app, app.test_client(), getattr(demo, role)) for role in ROLES if role}
    clients[None] = app.test_client()
    normal = {role: "/deals" for role in clients} | {None: "/login"}

    def send(req):
        client = clients[req["role"]]
        headers = {"HX-Request": "true"} if req["htmx"] else {}
        pairs = MultiDict(req["pairs"])
        started = time.perf_counter()
        body = req.get("body", "form")
        if req["method"] == "GET":
            response = client.get(req["path"], query_string=pairs, headers=headers)
        elif body == "json":
            response = client.post(req["path"], json=req["json"], headers=headers)
        elif body == "file":
            files = {name: (io.BytesIO(value.encode()), "x.txt") for name, value in pairs.items()}
            response = client.post(req["path"], data=files, headers=headers)
        else:
            response = client.post(req["path"], data=pairs, headers=headers)
        response.get_data()  # a streamed export is read to its end
        elapsed = time.perf_counter() - started
        tally["statuses"][response.status_code] += 1
        if elapsed > tally["slowest"][0]:
            tally["slowest"] = (elapsed, f"{req['method']} {req['path']} {req['pairs']}")
        assert response.status_code < 500, (req, response.status_code)
        # The user is still served: their next ordinary request works.
        assert client.get(normal[req["role"]]).status_code == 200, req

    return send


def test_no_hostile_request_gets_a_5xx(app, demo, db_session, tally):
    send = _hunter(app, demo, tally)
    hunt = HUNT_SETTINGS(given(hostile_requests(_ids(demo, db_session), _rules(app)))(send))
    hunt()
    statuses = tally["statuses"]
    # The junk reached the views, not only a guard in front of them.
    assert statuses[200] > 0 and statuses[404] > 0


def test_no_hostile_index_query_gets_a_5xx(app, demo, db_session, tally):
    hunt = HUNT_SETTINGS(given(index_requests())(_hunter(app, demo, tally)))
    hunt()
    assert tally["statuses"][200] > 0


@st.composite
def partner_filters(draw):
    """The vendor's "Shared with" past SUGGESTED_MAX partners: the partners are read by the
    ids a filter names (`ChoiceOptions.by_ids`), so every id reaches SQL."""
    partner_ids = st.one_of(
        st.sampled_from(EDGE_INTEGERS).map(str),
        edge_numbers,
        st.sampled_from(["4", "0004", "٤", "+4", " 4", "99999999999"]),
    )
    ids = draw(st.lists(partner_ids, min_size=1, max_size=4).map(",".join))
    op = draw(st.sampled_from(["any_of", "none_of"]))
    pairs = [("f", f"shared_with:{op}:{ids}")]
    pairs += draw(st.lists(st.tuples(st.just("f"), conditions()), max_size=2))
    return {
        "method": "GET",
        "path": "/deals",
        "pairs": pairs,
        "htmx": draw(st.booleans()),
        "role": "rita",
    }


def test_no_hostile_partner_filter_gets_a_5xx_past_many_partners(app, demo, db_session, tally):
    from models import Account
    from services.deal_index.choices import SUGGESTED_MAX

    for n in range(SUGGESTED_MAX + 5):
        db_session.add(Account(name=f"Partner {n:03d}", kind="partner"))
    db_session.commit()
    hunt = HUNT_SETTINGS(given(partner_filters())(_hunter(app, demo, tally)))
    hunt()
    assert tally["statuses"][200] > 0
