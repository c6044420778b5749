"""The embedded database (password hashes) and the secret key are the app user's only."""

import os
import stat

import sqlalchemy as sa

import config
from extensions import db


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_first_start_creates_private_files_whatever_the_umask(make_app, tmp_path):
    instance = tmp_path / "instance"
    database = instance / "shared-deals.db"
    previous = os.umask(0)  # files made without an explicit mode would come out 0666
    try:
        app = make_app(
            {
                "TESTING": True,
                "SECRET_KEY": None,  # generated into the instance folder
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{database}",
                "AUTO_SETUP": True,  # migrate and seed, as on a real first start
            },
            instance_path=instance,
        )
        with app.app_context():
            db.session.execute(sa.text("UPDATE users SET full_name = full_name"))
            db.session.commit()  # a write: the -wal and -shm files exist now
            assert mode(instance) == 0o700
            assert mode(instance / "secret_key") == 0o600
            for suffix in ("", "-wal", "-shm"):
                assert mode(f"{database}{suffix}") == 0o600, suffix
            db.engine.dispose()
    finally:
        os.umask(previous)


def test_an_existing_database_file_is_left_as_it_is(tmp_path):
    database = tmp_path / "kept.db"
    database.write_bytes(b"")
    database.chmod(0o640)
    config.create_private_database_file(f"sqlite:///{database}")
    assert mode(database) == 0o640


def test_other_databases_are_not_touched(tmp_path):
    for url in (
        "sqlite://",
        "sqlite:///:memory:",
        f"sqlite:///file:{tmp_path / 'uri.db'}?mode=ro&uri=true",
        "postgresql+psycopg://postgres@127.0.0.1:1/x",
    ):
        config.create_private_database_file(url)
    assert list(tmp_path.iterdir()) == []
