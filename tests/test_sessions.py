"""Revocable sessions: logging out, a new password or deactivation ends every session.

A session (and a remember-me cookie) carries the user's session token; a new token
makes every cookie issued before it worthless, even replayed byte for byte.
"""

import pytest

from services import accounts
from services.demo import DEMO_PASSWORD


def log_in(client, email, **extra):
    return client.post("/login", data={"email": email, "password": DEMO_PASSWORD, **extra})


def cookie(client, name):
    found = client.get_cookie(name)
    assert found is not None, f"no {name} cookie"
    return found.value


def sees_deals(client) -> bool:
    r = client.get("/deals")
    if r.status_code == 302:
        assert "/login" in r.headers["Location"]
        return False
    assert r.status_code == 200
    return True


def test_session_cookie_replayed_after_logout_gets_the_login_page(client, login_as, demo):
    login_as(demo.alice)
    assert sees_deals(client)
    stolen = cookie(client, "session")
    assert client.post("/logout").status_code == 303
    client.set_cookie("session", stolen)
    assert not sees_deals(client)
    assert client.post("/deals/views", data={"name": "x", "visibility": "private"}).status_code == (
        302
    )


def test_remember_cookie_replayed_after_logout_gets_the_login_page(app, client):
    assert log_in(client, "alice@brightside.example", remember="y").status_code == 303
    remembered = cookie(client, "remember_token")
    # The cookie alone logs a browser in (no session cookie needed)...
    other_browser = app.test_client()
    other_browser.set_cookie("remember_token", remembered)
    assert sees_deals(other_browser)
    # ...until the user logs out anywhere.
    client.post("/logout")
    replay = app.test_client()
    replay.set_cookie("remember_token", remembered)
    assert not sees_deals(replay)


def test_logout_deletes_the_remember_cookie(client):
    log_in(client, "alice@brightside.example", remember="y")
    r = client.post("/logout")
    cleared = [c for c in r.headers.getlist("Set-Cookie") if c.startswith("remember_token=")]
    assert cleared and "Expires=Thu, 01 Jan 1970" in cleared[0]
    assert client.get_cookie("remember_token") is None


def test_logout_ends_the_users_sessions_on_every_browser(app, client, login_as, demo):
    laptop, phone = client, app.test_client()
    login_as(demo.alice)
    with phone.session_transaction() as session, laptop.session_transaction() as laptop_session:
        session.update(laptop_session)
    assert sees_deals(phone)
    laptop.post("/logout")
    assert not sees_deals(phone)


def test_logging_in_again_after_logout_works(client, login_as, demo):
    login_as(demo.alice)
    client.post("/logout")
    assert log_in(client, "alice@brightside.example").status_code == 303
    assert sees_deals(client)


def test_other_users_sessions_survive_a_logout(app, client, login_as, demo):
    login_as(demo.bob)
    bob = app.test_client()
    with bob.session_transaction() as session, client.session_transaction() as bobs:
        session.update(bobs)
    login_as(demo.alice)
    client.post("/logout")
    assert sees_deals(bob)


@pytest.mark.parametrize(
    "end_it",
    [
        lambda user: accounts.set_password(user, "a brand new password"),
        accounts.deactivate,
    ],
    ids=["password change", "deactivation"],
)
def test_a_new_password_or_deactivation_ends_the_sessions(client, login_as, demo, end_it):
    login_as(demo.carol)
    assert sees_deals(client)
    end_it(demo.carol)
    assert not sees_deals(client)


def test_set_password_changes_the_password(client, demo):
    accounts.set_password(demo.carol, "a brand new password")
    assert log_in(client, "carol@brightside.example").status_code == 422
    r = client.post(
        "/login", data={"email": "carol@brightside.example", "password": "a brand new password"}
    )
    assert r.status_code == 303


def test_set_password_refuses_a_short_one(demo):
    before = (demo.carol.password_hash, demo.carol.session_token)
    with pytest.raises(accounts.Invalid, match="at least 10 characters"):
        accounts.set_password(demo.carol, "short")
    assert (demo.carol.password_hash, demo.carol.session_token) == before


def test_deactivated_user_cannot_log_in(client, demo):
    accounts.deactivate(demo.carol)
    assert log_in(client, "carol@brightside.example").status_code == 422


@pytest.mark.parametrize(
    "session_id",
    ["{id}", "{id}:", "{id}:not-the-token", "{id}:{token}x", ":{token}", "x:{token}", ""],
)
def test_a_session_id_without_the_current_token_loads_no_user(demo, session_id):
    user = demo.alice
    assert accounts.load_user(user.get_id()) is user
    assert accounts.load_user(session_id.format(id=user.id, token=user.session_token)) is None


def test_every_user_has_a_token_of_their_own(demo):
    tokens = [u.session_token for u in (demo.alice, demo.bob, demo.carol, demo.rita)]
    assert len(set(tokens)) == 4 and all(len(t) >= 40 for t in tokens)
