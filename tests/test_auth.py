"""Logging in and out, sessions and cookies, and the login wall around every page."""

import json
import re
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

import pytest
import sqlalchemy as sa

from models import User
from services.demo import DEMO_PASSWORD
from tests.html import button, buttons, by_label, description, heading, link, page, text


def log_in(client, email, password=DEMO_PASSWORD, **extra):
    return client.post("/login", data={"email": email, "password": password, **extra})


def test_login_page_has_the_labelled_fields(client):
    doc = page(client.get("/login"))
    assert heading(doc, 1) == "Log in to Shared Deals"
    assert by_label(doc, "Email")["name"] == "email"
    assert by_label(doc, "Password")["type"] == "password"
    assert by_label(doc, "Keep me logged in for 30 days")["type"] == "checkbox"
    assert button(doc, "Log in")["type"] == "submit"


def test_demo_user_logs_in_and_lands_on_deals(client):
    r = log_in(client, "alice@brightside.example")
    assert r.status_code == 303
    assert r.headers["Location"].endswith("/deals")
    assert "Alice Martin" in text(page(client.get("/deals")).find("header"))


def test_email_is_case_insensitive(client):
    assert log_in(client, "  Alice@Brightside.EXAMPLE ").status_code == 303


@pytest.mark.parametrize(
    "email, password",
    [("alice@brightside.example", "wrong password"), ("nobody@example.com", DEMO_PASSWORD)],
)
def test_bad_credentials_get_one_message_and_no_session(client, email, password):
    r = log_in(client, email, password)
    assert r.status_code == 422
    assert "do not match an account" in description(by_label(page(r), "Password"))
    assert client.get("/deals").status_code == 302


def test_empty_form_says_what_is_missing(client):
    doc = page(log_in(client, "", ""))
    assert description(by_label(doc, "Email")) == "Enter your email."
    assert description(by_label(doc, "Password")) == "Enter your password."
    assert by_label(doc, "Email")["aria-invalid"] == "true"


def test_inactive_user_cannot_log_in(client, demo, db_session):
    demo.bob.active = False
    db_session.commit()
    assert log_in(client, "bob@brightside.example").status_code == 422


def test_password_is_stored_as_argon2id(demo):
    assert demo.alice.password_hash.startswith("$argon2id$")
    assert DEMO_PASSWORD not in demo.alice.password_hash


def test_login_starts_a_fresh_session(app, client):
    with client.session_transaction() as session:
        session["planted"] = "by an attacker"
    log_in(client, "alice@brightside.example")
    with client.session_transaction() as session:
        assert "planted" not in session
        assert session["_user_id"]


def test_session_cookie_is_httponly_and_samesite_lax(client):
    r = log_in(client, "alice@brightside.example")
    cookie = next(c for c in r.headers.getlist("Set-Cookie") if c.startswith("session="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # plain HTTP in tests


def test_cookies_are_secure_over_https(client):
    r = client.post(
        "/login",
        data={"email": "alice@brightside.example", "password": DEMO_PASSWORD, "remember": "y"},
        base_url="https://localhost",
    )
    cookies = r.headers.getlist("Set-Cookie")
    assert cookies and all("Secure" in c for c in cookies)


def test_remember_me_lasts_30_days_at_most(client):
    r = log_in(client, "alice@brightside.example", remember="y")
    remember = next(c for c in r.headers.getlist("Set-Cookie") if c.startswith("remember_token="))
    expires = parsedate_to_datetime(re.search(r"Expires=([^;]+)", remember).group(1))
    lifetime = expires - datetime.now(UTC)
    assert timedelta(days=29) < lifetime <= timedelta(days=30)
    assert "HttpOnly" in remember


def test_logout_is_a_post_and_ends_the_session(client, login_as, demo):
    login_as(demo.alice)
    assert client.get("/logout").status_code == 405
    assert client.get("/deals").status_code == 200
    r = client.post("/logout")
    assert r.status_code == 303
    assert client.get("/deals").status_code == 302


def test_logout_without_csrf_token_is_refused(client, login_as, demo, csrf_enabled):
    login_as(demo.alice)
    assert client.post("/logout").status_code == 400
    assert client.get("/deals").status_code == 200


def test_next_parameter_cannot_redirect_off_site(client):
    r = client.post(
        "/login?next=https://evil.example/",
        data={"email": "alice@brightside.example", "password": DEMO_PASSWORD},
    )
    assert r.headers["Location"] == "/deals"


def test_next_parameter_returns_to_the_page_asked_for(client):
    r = client.post(
        "/login?next=/settings/partners/shared-deals",
        data={"email": "alice@brightside.example", "password": DEMO_PASSWORD},
    )
    assert r.headers["Location"] == "/settings/partners/shared-deals"


def _routes(app):
    for rule in app.url_map.iter_rules():
        # The public ones: logging in, and choosing the language before logging in.
        if rule.endpoint in {"static", "auth.login", "auth.change_language"}:
            continue
        values = {arg: 1 for arg in rule.arguments}
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield method, rule.build(values)[1]


def test_every_route_but_login_needs_a_login(app, client):
    routes = list(_routes(app))
    assert len(routes) >= 5
    for method, url in routes:
        r = client.open(url, method=method)
        assert r.status_code == 302, (method, url)
        assert "/login" in r.headers["Location"], (method, url)


def test_htmx_request_when_logged_out_gets_hx_redirect(app, client):
    for method, url in _routes(app):
        r = client.open(url, method=method, headers={"HX-Request": "true"})
        assert r.status_code == 401, (method, url)
        assert r.headers["HX-Redirect"].startswith("/login"), (method, url)


def test_users_cannot_register_themselves(app):
    paths = {rule.rule for rule in app.url_map.iter_rules()}
    assert not {p for p in paths if "register" in p or "signup" in p}


def test_security_headers_on_every_response(client):
    for url in ("/login", "/static/app.css", "/no-such-page"):
        r = client.get(url)
        csp = r.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp
        assert "unsafe-eval" not in csp
        for directive in ("object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'"):
            assert directive in csp
        assert r.headers["X-Content-Type-Options"] == "nosniff"
        assert r.headers["Referrer-Policy"] in {"same-origin", "strict-origin-when-cross-origin"}


def test_layout_configures_htmx_safely(client, login_as, demo):
    login_as(demo.alice)
    doc = page(client.get("/deals"))
    config = json.loads(doc.find("meta", attrs={"name": "htmx-config"})["content"])
    safe = {"selfRequestsOnly": True, "allowEval": False, "allowScriptTags": False}
    assert {key: config.get(key) for key in safe} == safe
    assert config["historyCacheSize"] == 0
    # Every htmx request carries the CSRF token, from the body down.
    assert json.loads(doc.body["hx-headers"])["X-CSRFToken"]
    assert any(s["src"].startswith("/static/htmx-2.0.") for s in doc.find_all("script", src=True))


def test_top_bar_shows_settings_to_every_user(client, login_as, demo):
    login_as(demo.alice)
    assert link(page(client.get("/deals")), "Settings")["href"] == "/settings/partners/shared-deals"
    login_as(demo.bob)  # a member: the settings are shown read-only
    top_bar = page(client.get("/deals")).find("header")
    assert link(top_bar, "Settings")["href"] == "/settings/partners/shared-deals"
    assert "Bob Nguyen" in text(top_bar) and "Log out" in buttons(top_bar)


def test_deleted_user_session_is_logged_out(client, login_as, demo, db_session):
    login_as(demo.carol)
    db_session.execute(sa.update(User).where(User.id == demo.carol.id).values(active=False))
    db_session.commit()
    assert client.get("/deals").status_code == 302


def test_the_views_hand_the_services_the_signed_in_user_itself(client, login_as, demo):
    from flask_login import current_user

    from blueprints.access import signed_in_user

    login_as(demo.alice)
    with client:  # keeps the request's context after the request
        assert client.get("/deals").status_code == 200
        user = signed_in_user()
        assert type(user) is User and user is current_user._get_current_object()
        assert user.email == "alice@brightside.example"
