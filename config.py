"""Configuration: safe defaults, everything overridable from the environment."""

import os
import secrets
from datetime import timedelta
from pathlib import Path


def instance_secret_key(instance_path: str) -> str:
    """Return the key kept in the instance folder, generating it on first use."""
    path = Path(instance_path) / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        # O_EXCL: two workers starting together must not overwrite each other's key.
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_hex(32))
    return path.read_text().strip()


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
        "WTF_CSRF_TIME_LIMIT": None,  # the token lives as long as the session
        # Behind a TLS-terminating proxy, trust one hop of X-Forwarded-* headers.
        "TRUST_PROXY": os.environ.get("TRUST_PROXY") == "1",
    }
