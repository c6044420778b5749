"""No request a user can make ends in a 5xx: generated hostile input on every route.

Hypothesis draws a route from the app's url_map (its <id:…> and <key> parts filled
with real ids of the demo, or hostile ones), a method it accepts, who asks (a
vendor admin, a partner member, nobody), plain or htmx, and parameters named
after every form field and index parameter with hostile values: huge and
negative numbers, dates at the calendar's edges, 1e309, NaN, long and unicode
strings, NUL, repeated parameters, many filters. Every answer must be below 500,
and a normal request afterwards must still work.

The example budget is HOSTILE_EXAMPLES (default 150; CI runs the default, set it
to thousands for a long hunt).
"""

from __future__ import annotations

import os
import re
from urllib.parse import quote

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.datastructures import MultiDict

from models import DealRegistration, RegistrationRequest, SavedView
from services.deal_fields import FIELDS
from services.deal_index.columns import COLUMNS
from services.deal_index.registry import OPERATORS_BY_TYPE, PROPERTIES
from services.shared_notes import NOTES

EXAMPLES = int(os.environ.get("HOSTILE_EXAMPLES", "150"))

EDGE_VALUES = [
    "",
    " ",
    "0",
    "-1",
    "1",
    "2147483647",
    "2147483648",
    str(2**63),
    str(2**64),
    "9" * 40,
    "-9" * 20,
    "1e309",
    "-1e309",
    "1e-309",
    "NaN",
    "nan",
    "inf",
    "-Infinity",
    "0x10",
    "1_000",
    "١٢٣",  # Arabic-Indic digits
    "１２３",  # full-width digits
    "0001-01-01",
    "0000-00-00",
    "9999-12-31",
    "10000-01-01",
    "1899-12-31",
    "3000-01-01",
    "2026-02-30",
    "12/31/2026",
    "31/12/2026",
    "1,500.50",
    "1 500,50",
    "1500,50",
    "1.500,50",
    "999999999999.99",
    "1000000000000",
    "0.001",
    "\x00",
    "a\x00b",
    "\u202e\u200b",
    "é" * 300,
    "x" * 5000,
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    "%",
    "_",
    "\\",
    "-amount",
    "--amount",
    "all,mine",
    ",,,",
]
hostile_text = st.one_of(
    st.sampled_from(EDGE_VALUES),
    st.text(max_size=40),
    st.integers().map(str),
    st.dates().map(lambda d: f"{d.year:04d}-{d.month:02d}-{d.day:02d}"),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
)

OPERATOR_KEYS = sorted({op.key for ops in OPERATORS_BY_TYPE.values() for op in ops} | {"is_me"})
filters = st.builds(
    lambda p, o, v: f"{p}:{o}:{v}",
    st.sampled_from([*PROPERTIES, "nope", ""]),
    st.sampled_from([*OPERATOR_KEYS, "zz", ""]),
    hostile_text,
)

# Every name a form or the index reads, and some nobody reads.
PARAM_NAMES = sorted(
    {
        # index
        "q", "sort", "sort_by", "page", "view", "cols", "col", "property", "operator",
        "value", "value2", "remove", "clear", "apply", "layout", "before",
        # forms
        "email", "password", "remember", "next", "name", "amount", "close_date",
        "company", "owner", "stage", "pipeline", "original", "members",
        "original_members", "products", "original_products", "text", "expires_on",
        "message", "reason", "partner", "vendor", "other_party", "pipeline_id",
        "stage_id", "intro_note", "pain_or_opportunity", "next_steps",
        "registration_expires_on", "referred_pipeline", "visibility", "new_name",
        "query", "csrf_token", "language",
    }
    | set(FIELDS)
)  # fmt: skip
params = st.lists(
    st.one_of(
        st.tuples(st.sampled_from(PARAM_NAMES), hostile_text),
        st.tuples(st.just("f"), filters),
    ),
    max_size=12,
)
many_filters = st.lists(filters, min_size=15, max_size=40).map(lambda fs: [("f", f) for f in fs])


def routes(app):
    """(rule, methods) for every route a user can reach, static files aside."""
    found = []
    for rule in app.url_map.iter_rules():
        # Logging out is no hostile input (tests/test_sessions.py); it would end the session.
        if rule.endpoint in ("static", "auth.logout") or rule.rule.startswith("/bench"):
            continue
        methods = sorted(rule.methods & {"GET", "POST"})
        if methods:
            found.append((rule, methods))
    return sorted(found, key=lambda item: item[0].rule)


def real_ids(db_session, demo):
    """Ids that name real rows, so that drawn requests get past the 404 to the forms."""
    ids = {
        demo.acme.id,
        demo.acme_shared.vendor_deal_id,
        demo.initech.id,
        *db_session.scalars(sa.select(DealRegistration.id).limit(3)),
        *db_session.scalars(sa.select(RegistrationRequest.id)),
        *db_session.scalars(sa.select(SavedView.id).limit(3)),
    }
    return sorted(ids)


def fill(rule, ids, draw_id, draw_key):
    """The rule's path with each <converter:name> replaced."""

    def part(match):
        converter = match.group(1) or ""
        if converter.startswith("id"):
            return str(draw_id())
        return quote(draw_key(), safe="")

    return re.sub(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>", part, rule.rule)


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_no_hostile_request_gets_a_5xx(app, client, login_as, demo, db_session):
    everyone = {"vendor admin": demo.rita, "partner member": demo.bob, "nobody": None}
    all_routes = routes(app)
    ids = real_ids(db_session, demo)
    keys = [*FIELDS, *NOTES, *COLUMNS, "x"]
    tried = []

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )
    @given(data=st.data())
    def check(data):
        rule, methods = data.draw(st.sampled_from(all_routes), label="route")
        method = data.draw(st.sampled_from(methods), label="method")
        path = fill(
            rule,
            ids,
            lambda: data.draw(
                st.one_of(st.sampled_from(ids), st.integers(min_value=0, max_value=2**70))
            ),
            lambda: data.draw(st.one_of(st.sampled_from(keys), hostile_text)),
        )
        pairs = data.draw(st.one_of(params, many_filters), label="params")
        who = data.draw(st.sampled_from(sorted(everyone)), label="who")
        htmx = data.draw(st.booleans(), label="htmx")
        if everyone[who] is None:
            with client.session_transaction() as session:
                session.clear()
        else:
            login_as(everyone[who])
        headers = {"HX-Request": "true"} if htmx else {}
        if method == "GET":
            response = client.get(path, query_string=MultiDict(pairs), headers=headers)
        else:
            response = client.post(path, data=MultiDict(pairs), headers=headers)
        tried.append(response.status_code)
        assert response.status_code < 500, (method, path, pairs, who, htmx)
        # The app still serves a normal request afterwards.
        follow = client.get("/deals")
        assert follow.status_code == (302 if everyone[who] is None else 200)

    check()
    assert len(tried) >= min(EXAMPLES, 50)


@pytest.mark.parametrize(
    "url",
    [
        "/deals?f=close_date:before:0001-01-01",
        "/deals?f=close_date:after:9999-12-31",
        "/deals?f=created_at:between:0001-01-01..9999-12-31",
        "/deals?f=amount:gt:1e309",
        "/deals?f=amount:between:1e309..NaN",
        "/deals?f=stage:any_of:99999999999999999999",
        "/deals?f=owner:any_of:2147483648",
        "/deals/99999999999999999999",
        "/deals/2147483648",
        "/deals/export.csv?f=close_date:before:0001-01-01",
        "/notifications?before=99999999999999999999",
    ],
)
def test_known_hostile_urls_answer_below_500(client, login_as, demo, url):
    login_as(demo.rita)
    assert client.get(url).status_code < 500
    login_as(demo.alice)
    assert client.get(url, headers={"HX-Request": "true"}).status_code < 500


def test_a_query_string_over_8_kb_is_refused_before_any_work(client, login_as, demo):
    login_as(demo.alice)
    response = client.get("/deals?q=" + "x" * (8 * 1024))
    assert response.status_code == 414 and "too long" in response.get_data(as_text=True)
    assert client.get("/deals?q=" + "x" * 100).status_code == 200


def test_a_body_over_the_limit_is_refused(client, login_as, demo):
    login_as(demo.alice)
    response = client.post(
        f"/deals/{demo.acme.id}/fields/company", data={"company": "x" * (300 * 1024)}
    )
    assert response.status_code == 413


def test_thousands_of_filters_are_cut_to_twenty_with_a_message(client, login_as, demo):
    login_as(demo.alice)
    many = "&".join(f"f=amount:gt:{n}" for n in range(400))  # under 8 KB
    response = client.get("/deals?" + many)
    assert response.status_code == 200
    assert "At most 20 filters at a time." in response.get_data(as_text=True)
