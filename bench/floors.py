"""The bench's two floors, served by the same app and gunicorn as the real pages.

Served only by the bench's own app, `bench.app:create_app()` (bench/run.py starts it),
and reachable without logging in:

- /bench/hello: bare Flask, a fixed string.
- /bench/row: one indexed single-row query (a deal by primary key) and a one-line template.

Every endpoint's p95 is reported as a multiple of the second one's.
"""

import sqlalchemy as sa
from flask import Blueprint, abort, render_template, request

from blueprints.access import public
from extensions import db
from models import Deal

bp = Blueprint("bench", __name__, url_prefix="/bench", template_folder="templates")


@bp.get("/hello")
@public
def hello():
    return "hello"


@bp.get("/row")
@public
def row():
    deal_id = request.args.get("id", 1, type=int)
    name = db.session.scalar(sa.select(Deal.name).where(Deal.id == deal_id))
    if name is None:
        abort(404)
    return render_template("bench/row.html", name=name)
