"""Error pages that do not need the database, with the security headers, and HSTS.

When the database is down the 503 page (and any 500 page) must still render:
it cannot load the logged-in user, so it shows no top bar.
"""

import pytest
from flask_login.utils import _create_identifier
from sqlalchemy.engine import make_url

from extensions import login_manager
from tests import databases


def assert_security_headers(response):
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Cache-Control"] == "no-store"


def log_in_without_the_database(app, client, session_id="1:some-token"):
    # What a browser that logged in before the database went down sends back.
    with app.test_request_context(environ_base=client.environ_base):
        identifier = _create_identifier()
    with client.session_transaction() as session:
        session.update({"_user_id": session_id, "_fresh": True, "_id": identifier})


@pytest.fixture
def unreachable_app(make_app, database_url, tmp_path):
    """The app on a database that cannot be reached: no server, or no such folder."""
    if make_url(database_url).get_backend_name() == "postgresql":
        url = "postgresql+psycopg://postgres@127.0.0.1:1/down"  # nothing listens on port 1
    else:
        url = f"sqlite:///{tmp_path / 'no-such-folder' / 'down.db'}"
    return make_app(databases.test_config(url))


def test_database_down_gives_a_503_page_with_the_security_headers(unreachable_app):
    client = unreachable_app.test_client()
    log_in_without_the_database(unreachable_app, client)
    r = client.get("/deals")
    assert r.status_code == 503
    assert r.mimetype == "text/html"
    page = r.get_data(as_text=True)
    assert page.startswith("<!doctype html>")
    assert "Temporarily unavailable" in page and "Please try again" in page
    assert "Log out" not in page  # no top bar: it would need the user
    assert r.headers["Retry-After"] == "30"
    assert_security_headers(r)


def test_login_page_shows_and_login_gets_a_503_with_the_database_down(unreachable_app):
    client = unreachable_app.test_client()
    assert client.get("/login").status_code == 200
    r = client.post("/login", data={"email": "alice@brightside.example", "password": "x" * 12})
    assert r.status_code == 503 and "Temporarily unavailable" in r.get_data(as_text=True)
    assert_security_headers(r)


def test_500_page_does_not_load_the_user(app, client, login_as, demo, monkeypatch):
    def broken_user_loader(session_id):
        raise RuntimeError("the user cannot be loaded")

    login_as(demo.alice)
    monkeypatch.setattr(login_manager, "_user_callback", broken_user_loader)
    monkeypatch.setitem(app.config, "PROPAGATE_EXCEPTIONS", False)
    r = client.get("/deals")
    assert r.status_code == 500
    page = r.get_data(as_text=True)
    assert "Something went wrong" in page and "Alice Martin" not in page
    assert_security_headers(r)


def test_hsts_over_https_only(client):
    assert "Strict-Transport-Security" not in client.get("/login").headers
    r = client.get("/login", base_url="https://localhost")
    assert r.headers["Strict-Transport-Security"] == "max-age=31536000"


def test_hsts_behind_a_trusted_proxy_only(make_app, database_url, client):
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.5"}
    # Without TRUST_PROXY the header is anyone's to send: no HSTS on plain HTTP.
    assert "Strict-Transport-Security" not in client.get("/login", headers=forwarded).headers
    proxied = make_app({**databases.test_config(database_url), "TRUST_PROXY": True})
    r = proxied.test_client().get("/login", headers=forwarded)
    assert r.headers["Strict-Transport-Security"] == "max-age=31536000"
    assert "Secure" in r.headers["Set-Cookie"]
    assert "Strict-Transport-Security" not in proxied.test_client().get("/login").headers
