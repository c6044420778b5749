"""Logging in and out, sessions and cookies, and the login wall around every page."""

import re
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

import pytest
import sqlalchemy as sa

from models import User
from services.demo import DEMO_PASSWORD


def log_in(client, email, password=DEMO_PASSWORD, **extra):
    return client.post("/login", data={"email": email, "password": password, **extra})


def test_login_page_has_the_labelled_fields(client):
    page = client.get("/login").get_data(as_text=True)
    assert re.search(r'<label for="email">Email</label>', page)
    assert re.search(r'<label for="password">Password</label>', page)
    assert ">Log in</button>" in page


def test_demo_user_logs_in_and_lands_on_deals(client):
    r = log_in(client, "alice@brightside.example")
    assert r.status_code == 303
    assert r.headers["Location"].endswith("/deals")
    assert "Alice Martin" in client.get("/deals").get_data(as_text=True)


def test_email_is_case_insensitive(client):
    assert log_in(client, "  Alice@Brightside.EXAMPLE ").status_code == 303


@pytest.mark.parametrize(
    "email, password",
    [("alice@brightside.example", "wrong password"), ("nobody@example.com", DEMO_PASSWORD)],
)
def test_bad_credentials_get_one_message_and_no_session(client, email, password):
    r = log_in(client, email, password)
    assert r.status_code == 422
    assert "do not match an account" in r.get_data(as_text=True)
    assert client.get("/deals").status_code == 302


def test_empty_form_says_what_is_missing(client):
    page = log_in(client, "", "").get_data(as_text=True)
    assert "Enter your email." in page and "Enter your password." in page


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
        if rule.endpoint in {"static", "auth.login"}:
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
    page = client.get("/deals").get_data(as_text=True)
    for setting in (
        '"selfRequestsOnly": true',
        '"allowEval": false',
        '"allowScriptTags": false',
        '"historyCacheSize": 0',
    ):
        assert setting in page
    assert re.search(r'<body hx-headers=\'\{"X-CSRFToken": "[^"]+"\}\'>', page)
    assert "/static/htmx-2.0." in page


def test_top_bar_shows_settings_to_admins_only(client, login_as, demo):
    login_as(demo.alice)
    assert ">Settings</a>" in client.get("/deals").get_data(as_text=True)
    login_as(demo.bob)
    page = client.get("/deals").get_data(as_text=True)
    assert ">Settings</a>" not in page
    assert "Bob Nguyen" in page and ">Log out</button>" in page


def test_deleted_user_session_is_logged_out(client, login_as, demo, db_session):
    login_as(demo.carol)
    db_session.execute(sa.update(User).where(User.id == demo.carol.id).values(active=False))
    db_session.commit()
    assert client.get("/deals").status_code == 302
