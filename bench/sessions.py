"""A Flask test client logged in without a password: the session Flask-Login's login
makes, without paying for a password hash. Shared by the in-process benches and the
tests (tests/conftest.py)."""

import sqlalchemy as sa
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


def log_in_as(app, client, email: str):
    """Log `client` in as the user with this email (in an app context); returns the client."""
    from extensions import db
    from models import User

    return log_in(app, client, db.session.scalar(sa.select(User).where(User.email == email)))
