"""Accounts and users: creation, login, and the sessions a user can end."""

import functools
import hmac

import sqlalchemy as sa

from catalog import gettext as _
from extensions import begin_write, db
from models import (
    ACCOUNT_KINDS,
    ROLES,
    Account,
    AccountSettings,
    Pipeline,
    Stage,
    User,
    new_session_token,
)
from services.errors import Invalid
from services.passwords import hash_password, needs_rehash, verify_password

DEFAULT_STAGES = (
    "Appointment scheduled",
    "Qualified to buy",
    "Presentation scheduled",
    "Decision maker bought-in",
    "Contract sent",
    "Closed won",
    "Closed lost",
)
MIN_PASSWORD_LENGTH = 10


def normalize_email(email: str) -> str:
    """Emails compare case-insensitively; we store them lower-cased."""
    return (email or "").strip().lower()


def add_pipeline(account: Account, name: str, stage_names, position: int = 0) -> Pipeline:
    """Add a pipeline with its ordered stages to `account` (no commit)."""
    pipeline = Pipeline(account_id=account.id, name=name, position=position)
    db.session.add(pipeline)
    db.session.flush()
    for index, stage_name in enumerate(stage_names):
        db.session.add(Stage(pipeline_id=pipeline.id, name=stage_name, position=index))
    db.session.flush()
    return pipeline


def create_account(name: str, kind: str) -> Account:
    """Create an account with a default "Sales pipeline" that also receives referred deals."""
    name = (name or "").strip()
    if not name:
        raise Invalid(_("Give the account a name."), "name")
    if kind not in ACCOUNT_KINDS:
        raise Invalid(_("Kind must be partner or vendor."), "kind")
    if db.session.scalar(sa.select(Account.id).where(Account.name == name)):
        raise Invalid(_("An account named %(name)s already exists.", name=repr(name)), "name")
    account = Account(name=name, kind=kind)
    db.session.add(account)
    db.session.flush()
    pipeline = add_pipeline(account, "Sales pipeline", DEFAULT_STAGES)
    db.session.add(AccountSettings(account_id=account.id, referred_pipeline_id=pipeline.id))
    db.session.commit()
    return account


def create_user(
    account: Account, email: str, full_name: str, password: str, role: str = "member"
) -> User:
    """Create a user of `account`; the password is stored only as an argon2id hash."""
    email = normalize_email(email)
    if "@" not in email:
        raise Invalid(_("Enter a valid email address."), "email")
    if not (full_name or "").strip():
        raise Invalid(_("Enter the user's full name."), "full_name")
    if role not in ROLES:
        raise Invalid(_("Role must be admin or member."), "role")
    _check_password(password)
    if db.session.scalar(sa.select(User.id).where(User.email == email)):
        raise Invalid(_("A user with the email %(email)s already exists.", email=email), "email")
    user = User(
        account_id=account.id,
        email=email,
        full_name=full_name.strip(),
        password_hash=hash_password(password),
        role=role,
    )
    db.session.add(user)
    db.session.commit()
    return user


def _check_password(password: str) -> None:
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise Invalid(
            _("Use a password of at least %(num)s characters.", num=MIN_PASSWORD_LENGTH), "password"
        )


def active_users_of(account_id: int) -> list[User]:
    """The account's active users, by name: who can own its deals or join a deal team."""
    return list(
        db.session.scalars(
            sa.select(User)
            .where(User.account_id == account_id, User.active.is_(True))
            .order_by(User.full_name, User.id)
        )
    )


def account_by_name(name: str) -> Account | None:
    """The account called `name`, if any."""
    return db.session.scalar(sa.select(Account).where(Account.name == name))


def user_by_email(email: str) -> User | None:
    """The user with this email (any case), if any."""
    return db.session.scalar(sa.select(User).where(User.email == normalize_email(email)))


def authenticate(email: str, password: str) -> User | None:
    """The active user with these credentials, or None (same work either way)."""
    user = user_by_email(email)
    if not verify_password(user.password_hash if user else None, password):
        return None
    if user is None or not user.active:
        return None
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
        db.session.commit()
    return user


def load_user(session_id: str) -> User | None:
    """The user behind a session id ("<user id>:<session token>", see User.get_id).

    None when the user is gone or inactive, or the token is no longer theirs:
    a session or remember-me cookie from before the last end_sessions.
    """
    user_id, _, token = (session_id or "").partition(":")
    try:
        user_id = int(user_id)
    except (TypeError, ValueError):
        return None
    user = db.session.execute(_user_statement(), {"user_id": user_id}).scalar_one_or_none()
    if user is None or not user.active or not user.session_token or not token:
        return None
    # Constant time: the comparison must not tell how much of a guessed token was right.
    if not hmac.compare_digest(user.session_token.encode(), token.encode()):
        return None
    return user


@functools.cache
def _user_statement() -> sa.Select:
    """`load_user`'s statement (the user with their account), built once: `session.get`
    builds and cache-keys a new one at every request (51 of its 364 Python calls)."""
    return sa.select(User).where(User.id == sa.bindparam("user_id", type_=sa.Integer))


def end_sessions(user: User) -> None:
    """End every session of `user`, on every browser, remember-me included. Commits.

    Sessions live in signed cookies, not on the server: the one thing to change
    is the token that each of them carries.
    """
    begin_write()
    user.session_token = new_session_token()
    db.session.commit()


def set_password(user: User, password: str) -> None:
    """Give `user` a new password and end all their sessions. Commits."""
    _check_password(password)
    password_hash = hash_password(password)  # before the write lock: argon2 takes a while
    begin_write()
    user.password_hash = password_hash
    user.session_token = new_session_token()
    db.session.commit()


def deactivate(user: User) -> None:
    """Stop `user` from logging in and end all their sessions. Commits."""
    begin_write()
    user.active = False
    user.session_token = new_session_token()
    db.session.commit()


def set_language(user: User, language: str | None) -> None:
    """Save the UI language `user` chose ("en", "fr"; None: follow the browser). Commits."""
    begin_write()
    user.language = language
    db.session.commit()
