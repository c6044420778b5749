"""A Flask test client logged in without a password: the session Flask-Login's login
makes, without paying for a password hash. Shared by the in-process benches and the
tests (tests/conftest.py)."""

from flask_login.utils import _create_identifier


def log_in(app, client, user):
    """Log `client` in as `user`; returns the client."""
    with app.test_request_context(environ_base=client.environ_base):
        identifier = _create_identifier()
    with client.session_transaction() as session:
        session["_user_id"] = user.get_id()
        session["_fresh"] = True
        session["_id"] = identifier
    return client
