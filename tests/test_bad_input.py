"""No request a user can make ends in a 500: every route, fed junk, as both parties."""

import pytest
import sqlalchemy as sa

from models import DealRegistration, Notification, RegistrationRequest, SavedView
from tests.html import page, text

# NUL is refused before any view runs (see the last test): leave it out to reach the views.
NASTY_TEXT = "'; DROP TABLE deals;-- %_\\ \u202e💥\x01\x7f" + "x" * 300

QUERY = {
    "f": [
        "amount:gt:abc",
        "nope:eq:1",
        "close_date:between:2026-13-01..x",
        "owner:any_of:a,b,99999999999999999999",
        "name:contains:" + NASTY_TEXT,
        "active_registrations:between:5..1",
        "created_at:last_days:99999999999",
        "::",
    ],
    "page": "-5",
    "sort": "-nope",
    "q": NASTY_TEXT,
    "view": "99999999999999999999",
    "cols": "nope",
    "property": "zzz",
    "operator": "zzz",
    "value": NASTY_TEXT,
    "before": "abc",
    "pipeline": "abc",
    "next": "//evil.example",
}

FORM = {
    "members": ["abc", "-1", "99999999999999999999"],
    "original_members": ["x", "1"],
    "products": ["abc", "-3"],
    "original_products": ["zz"],
    "value": NASTY_TEXT,
    "original": NASTY_TEXT,
    "text": NASTY_TEXT,
    "expires_on": "2026-02-30",
    "name": NASTY_TEXT * 20,
    "visibility": "world",
    "query": "f=zzz:zz:" + NASTY_TEXT,
    "amount": "-1e309",
    "close_date": "31/12/2026",
    "partner": "abc",
    "vendor": "-1",
    "pipeline": "abc",
    "stage": "99999999999999999999",
    "owner": "1.5",
    "intro_note": NASTY_TEXT,
    "email": NASTY_TEXT,
    "password": NASTY_TEXT,
}


def _ids(demo, db_session, user):
    own_deal = (
        demo.acme.id if user.account_id == demo.brightside.id else demo.acme_shared.vendor_deal_id
    )
    registration = db_session.scalar(
        sa.select(DealRegistration.id).where(DealRegistration.shared_deal_id == demo.acme_shared.id)
    )
    notification = db_session.scalar(
        sa.select(Notification.id).where(Notification.user_id == user.id).limit(1)
    )
    view = SavedView(
        account_id=user.account_id, owner_id=user.id, name="Mine", visibility="private", query=""
    )
    db_session.add(view)
    db_session.commit()
    return {
        "deal_id": [own_deal, demo.initech.id, 2**31 - 1],
        "registration_id": [registration, 2**31 - 1],
        "notification_id": [notification or 1, 2**31 - 1],
        "view_id": [view.id, 2**31 - 1],
        "request_id": [
            db_session.scalar(sa.select(RegistrationRequest.id).limit(1)) or 1,
            2**31 - 1,
        ],
        "key": ["amount", "stage", "owner", "intro_note", "nonsense"],
        "filename": ["app.css"],
    }


def _urls(app, ids):
    for rule in app.url_map.iter_rules():
        if rule.endpoint in {"static", "auth.logout"}:
            continue
        combos = [{}]
        for argument in rule.arguments:
            combos = [{**c, argument: v} for c in combos for v in ids[argument]]
        for values in combos:
            url = rule.build(values, append_unknown=False)[1]
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                yield method, url


@pytest.mark.parametrize("who", ["alice", "bob", "rita"])
def test_no_route_answers_junk_with_a_500(app, client, login_as, demo, db_session, who):
    user = login_as(getattr(demo, who))
    statuses = {}
    for method, url in _urls(app, _ids(demo, db_session, user)):
        for headers in ({}, {"HX-Request": "true"}):
            if method == "GET":
                response = client.get(url, query_string=QUERY, headers=headers)
            else:
                response = client.post(url, data=FORM, headers=headers)
            assert response.status_code < 500, (method, url, headers, response.status_code)
            statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
    assert sum(statuses.values()) > 100
    # The junk reached the views, not only a guard in front of them.
    assert statuses.get(200, 0) > 20 and statuses.get(404, 0) > 20


def test_nul_characters_are_refused_with_a_message(client, login_as, demo):
    login_as(demo.alice)
    r = client.get("/deals", query_string={"f": ["amount:gt:1", "name:contains:a\x00b"]})
    assert r.status_code == 400
    assert "NUL" in text(page(r).find("main"))
    r = client.post("/settings/partners/shared-deals", data={"pipeline": "1\x00"})
    assert r.status_code == 400
