"""Configuration: safe defaults, everything overridable from the environment."""

import contextlib
import os
import secrets
from datetime import timedelta
from pathlib import Path


def instance_secret_key(instance_path: str) -> str:
    """Return the key kept in the instance folder, generating it on first use."""
    path = Path(instance_path) / "secret_key"
    if not path.exists():
        make_instance_folder(instance_path)
        # O_EXCL: two workers starting together must not overwrite each other's key.
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_hex(32))
    return path.read_text().strip()


def make_instance_folder(instance_path: str) -> None:
    """Create the instance folder readable by the app's user only (it holds the key and data)."""
    Path(instance_path).mkdir(mode=0o700, parents=True, exist_ok=True)


def create_private_database_file(database_url: str) -> None:
    """Create an SQLite database file 0600 before SQLite does (it would make it 0644).

    The file holds the password hashes. SQLite gives its -wal and -shm files the
    database file's permissions, so they are private too. An existing file is left
    as it is; so is any other database.
    """
    from sqlalchemy.engine import make_url

    url = make_url(database_url)
    path = url.database
    if url.get_backend_name() != "sqlite" or not path or path == ":memory:":
        return
    if path.startswith("file:") or url.query.get("uri"):
        return  # SQLite URI filenames: their options are SQLite's to read
    # Already there, or no such folder (SQLite reports that on connecting): nothing to do.
    with contextlib.suppress(FileExistsError, FileNotFoundError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def _database_url(instance_path: str) -> str:
    url = os.environ.get("DATABASE_URL")
    if url:
        # Hosting providers hand out postgres:// URLs; SQLAlchemy wants the driver named.
        for prefix in ("postgres://", "postgresql://"):
            if url.startswith(prefix):
                return "postgresql+psycopg://" + url[len(prefix) :]
        return url
    return "sqlite:///" + str(Path(instance_path) / "shared-deals.db")


def load(instance_path: str) -> dict:
    """The configuration for an app whose instance folder is `instance_path`."""
    embedded = not os.environ.get("DATABASE_URL")
    return {
        # Without SECRET_KEY in the environment, create_app uses instance_secret_key().
        "SECRET_KEY": os.environ.get("SECRET_KEY"),
        "SQLALCHEMY_DATABASE_URI": _database_url(instance_path),
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        # The embedded default migrates itself and loads demo data on first start.
        "AUTO_SETUP": embedded and os.environ.get("SHARED_DEALS_AUTO_SETUP", "1") == "1",
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_DURATION": timedelta(days=30),
        "PERMANENT_SESSION_LIFETIME": timedelta(days=30),
        # No form posts more (three 5,000-character notes, in any script, are ~140 KB):
        # a bigger body is refused (413) before it is read into memory.
        "MAX_CONTENT_LENGTH": 512 * 1024,
        "WTF_CSRF_TIME_LIMIT": None,  # the token lives as long as the session
        # Behind a TLS-terminating proxy, trust one hop of X-Forwarded-* headers.
        "TRUST_PROXY": os.environ.get("TRUST_PROXY") == "1",
        # Failed logins allowed, per client address and per email typed (blueprints/auth.py).
        "LOGIN_FAILURES_PER_ADDRESS": os.environ.get("LOGIN_FAILURES_PER_ADDRESS", "50 per minute"),
        "LOGIN_FAILURES_PER_ACCOUNT": os.environ.get("LOGIN_FAILURES_PER_ACCOUNT", "10 per minute"),
        # Flask-Limiter's counters: memory:// is per process (each gunicorn worker counts
        # alone); a redis:// URL shares them between workers and servers.
        "RATELIMIT_STORAGE_URI": os.environ.get("RATELIMIT_STORAGE_URI", "memory://"),
        "RATELIMIT_STRATEGY": "moving-window",
        "RATELIMIT_KEY_PREFIX": "shared-deals",
        # Redis unreachable: count in memory meanwhile, rather than fail every login.
        "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
    }
