"""The deals index."""

from flask import Blueprint, render_template
from flask_login import current_user

from services import deals

bp = Blueprint("deals", __name__)


@bp.get("/deals")
def index():
    rows = deals.latest_deals(current_user.account)
    return render_template("deals/index.html", deals=rows)
