"""Login throttling: failed logins are counted per client address and per email typed.

The budgets are lowered here (3 per account, 5 per address) to keep the test quick;
the defaults are 10 and 50 a minute.
"""

import pytest

from services.demo import DEMO_PASSWORD

PER_ACCOUNT = 3
PER_ADDRESS = 5
WRONG = "wrong password"


@pytest.fixture(autouse=True)
def small_budgets(app, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_FAILURES_PER_ACCOUNT", f"{PER_ACCOUNT} per minute")
    monkeypatch.setitem(app.config, "LOGIN_FAILURES_PER_ADDRESS", f"{PER_ADDRESS} per minute")


def attempt(client, email, password=WRONG, address="192.0.2.10"):
    return client.post(
        "/login",
        data={"email": email, "password": password},
        environ_base={"REMOTE_ADDR": address},
    )


def fail(client, email, times, address="192.0.2.10"):
    for _ in range(times):
        assert attempt(client, email, address=address).status_code == 422


def test_defaults_are_10_per_account_and_50_per_address():
    import config

    defaults = config.load("/nonexistent")
    assert defaults["LOGIN_FAILURES_PER_ACCOUNT"] == "10 per minute"
    assert defaults["LOGIN_FAILURES_PER_ADDRESS"] == "50 per minute"
    assert defaults["RATELIMIT_STORAGE_URI"] == "memory://"


def test_too_many_failures_for_an_account_get_a_429_on_the_login_page(client):
    fail(client, "alice@brightside.example", PER_ACCOUNT)
    # Even the right password waits now: that is what stops the guessing.
    r = attempt(client, "Alice@Brightside.example", DEMO_PASSWORD)
    assert r.status_code == 429
    page = r.get_data(as_text=True)
    assert "Too many failed login attempts. Try again in" in page
    assert 'role="alert"' in page and ">Log in</button>" in page
    assert 'value="Alice@Brightside.example"' in page  # the email typed is kept
    assert 1 <= int(r.headers["Retry-After"]) <= 60
    assert "script-src 'self'" in r.headers["Content-Security-Policy"]
    assert client.get("/deals").status_code == 302  # not logged in
    assert client.get("/login").status_code == 200  # the page itself is never throttled


def test_a_locked_account_does_not_lock_out_others_behind_the_same_address(client):
    fail(client, "alice@brightside.example", PER_ACCOUNT)
    assert attempt(client, "alice@brightside.example", DEMO_PASSWORD).status_code == 429
    assert attempt(client, "bob@brightside.example").status_code == 422
    assert attempt(client, "bob@brightside.example", DEMO_PASSWORD).status_code == 303


def test_an_invalid_form_still_counts_against_the_email_typed(client):
    # The throttle reads the email before the form validates: no password is a failure too.
    for _ in range(PER_ACCOUNT):
        assert attempt(client, " Alice@Brightside.example ", password="").status_code == 422
    assert attempt(client, "alice@brightside.example", DEMO_PASSWORD).status_code == 429
    assert attempt(client, "bob@brightside.example", DEMO_PASSWORD).status_code == 303


def test_a_successful_login_does_not_use_up_the_budget(app, client):
    fail(client, "alice@brightside.example", PER_ACCOUNT - 1)
    for _ in range(PER_ACCOUNT + 1):
        browser = app.test_client()
        assert attempt(browser, "alice@brightside.example", DEMO_PASSWORD).status_code == 303
    fail(client, "alice@brightside.example", 1)
    assert attempt(client, "alice@brightside.example").status_code == 429


def test_rejected_attempts_do_not_use_up_the_address_budget(client):
    fail(client, "alice@brightside.example", PER_ACCOUNT)
    for _ in range(PER_ADDRESS + 2):
        assert attempt(client, "alice@brightside.example").status_code == 429
    assert attempt(client, "bob@brightside.example", DEMO_PASSWORD).status_code == 303


def test_too_many_failures_from_one_address_get_a_429_for_every_account(app, client):
    for number in range(PER_ADDRESS):
        fail(client, f"guess{number}@example.com", 1)
    r = attempt(client, "bob@brightside.example", DEMO_PASSWORD)
    assert r.status_code == 429 and "Retry-After" in r.headers
    # Another address is not concerned.
    other = app.test_client()
    r = attempt(other, "bob@brightside.example", DEMO_PASSWORD, address="198.51.100.7")
    assert r.status_code == 303


def test_the_client_address_comes_from_the_proxy_only_when_trusted(client):
    # Without TRUST_PROXY, X-Forwarded-For is the client's to invent: it changes nothing.
    for number in range(PER_ADDRESS):
        r = client.post(
            "/login",
            data={"email": f"guess{number}@example.com", "password": WRONG},
            headers={"X-Forwarded-For": f"203.0.113.{number}"},
        )
        assert r.status_code == 422
    r = client.post(
        "/login",
        data={"email": "bob@brightside.example", "password": DEMO_PASSWORD},
        headers={"X-Forwarded-For": "203.0.113.99"},
    )
    assert r.status_code == 429
