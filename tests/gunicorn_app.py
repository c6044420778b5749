"""The app as tests/test_gunicorn.py serves it with gunicorn and the repository's config.

`create_app()` builds the real app with AUTO_SETUP on (as the embedded database does
in production: it migrates and seeds at start, so the master connects), in the
instance folder named by PROBE_INSTANCE_PATH, plus one route, `/probe`, that answers
which process this is, which process built the app, and whether the request's
database connection was opened by another process (`?hold=seconds`: after a pause).
"""

import gc
import os
import time

import sqlalchemy as sa
from flask import Flask, jsonify, request
from sqlalchemy.engine import Engine

# Every DBAPI connection opened in this process or an ancestor, with the opener's pid.
# Strong references: an inherited connection is recognised by identity, never by an
# address another object could reuse.
_opened: list[tuple[int, object]] = []


@sa.event.listens_for(Engine, "connect")
def _remember_opener(dbapi_connection, _record):
    _opened.append((os.getpid(), dbapi_connection))


def create_app() -> Flask:
    from app import create_app as create_real_app
    from blueprints.access import public
    from extensions import db

    app = create_real_app({"AUTO_SETUP": True}, instance_path=os.environ["PROBE_INSTANCE_PATH"])
    built_by = os.getpid()

    @app.get("/probe")
    @public
    def probe():
        # ?hold=seconds keeps this worker busy, so that a request sent meanwhile goes
        # to the other worker (a sync worker serves one request at a time).
        time.sleep(request.args.get("hold", 0.0, type=float))
        connection = db.session.connection().connection.dbapi_connection
        openers = [pid for pid, opened in _opened if opened is connection]
        accounts = db.session.scalar(sa.text("SELECT count(*) FROM accounts"))
        return jsonify(
            pid=os.getpid(),
            app_built_by=built_by,
            connection_opened_by=openers[0] if openers else None,
            frozen_objects=gc.get_freeze_count(),
            accounts=accounts,
        )

    return app
