"""One deal's page."""

from flask import Blueprint, abort, render_template
from flask_login import current_user

from services import deals
from services.errors import NotFound

bp = Blueprint("deal_page", __name__)


@bp.get("/deals/<int:deal_id>")
def show(deal_id):
    try:
        deal = deals.get_deal_for(current_user, deal_id)
    except NotFound:
        abort(404)
    return render_template("deal_page/show.html", deal=deal)
