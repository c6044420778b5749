"""The deals index's board (`?layout=board`): "Show more" of a column, and moving a card.

The board itself is a rendering of the index (`blueprints.deals.render_index`).
A move is the deal page's stage edit — the same form (`StageForm`, with the
stage the card showed as `original`) and the same service
(`deal_fields.update`): the same tenancy (404), the same conflict rule and
the same checks. After a move a plain post returns to the board (303); htmx
gets the board again. A refused move shows its message on the card.
"""

from __future__ import annotations

from dataclasses import replace

from flask import Blueprint, abort, render_template, request
from flask_babel import gettext as _
from flask_login import current_user

from blueprints.deal_page import own_deal
from blueprints.deals import filter_registry, index_url, render_index, scope
from blueprints.htmx import changed, respond
from forms.deal import MoveForm
from services import deal_fields, deal_index
from services.errors import Conflict, Invalid, NotFound
from services.values import parse_id

bp = Blueprint("board", __name__)
# A refused move shows the whole index again, filter bar included.
bp.context_processor(filter_registry)


def _board_state(reference, query: str) -> deal_index.Parsed:
    """The board a form or link came from, from its query string (always the board)."""
    parsed = deal_index.parse_query(query, reference.choices)
    parsed.state = replace(parsed.state, layout="board", page=1)
    parsed.errors = []
    return parsed


@bp.get("/deals/board/more")
def more():
    """A column's next cards: htmx appends them; a plain request gets them as a page."""
    reference = deal_index.index_reference(current_user)
    parsed = _board_state(reference, request.query_string.decode())
    stage_id = parse_id(request.args.get("stage") or "")
    offset = parse_id(request.args.get("offset") or "") or 0
    column = stage_id and deal_index.more_cards(
        scope(), parsed.state, reference.choices, stage_id, offset
    )
    if not column:
        abort(404)
    context = {
        "state": parsed.state,
        "column": column,
        "board_query": parsed.state.query(),
        "index_href": index_url(parsed.state),
        "choices": reference.choices,
        "stages": deal_index.board_stages(parsed.state, reference.choices),
        "unread_notification_count": lambda: reference.unread_notifications,
    }
    return respond(
        lambda: render_template("deals/_board_more.html", **context),
        lambda: render_template("deals/board_column.html", **context),
    )


@bp.post("/deals/<id:deal_id>/move")
def move(deal_id):
    """Move a card to another stage of its pipeline: the deal's stage edit."""
    deal = own_deal(deal_id)  # another account's deal: 404, before anything is read
    form = MoveForm()
    reference = deal_index.index_reference(current_user)
    parsed = _board_state(reference, form.query.data or "")
    status, message = 200, None
    if not form.validate_on_submit():
        status = 400
        message = next(iter(form.stage.errors), None) or _("Choose a deal stage.")
    else:
        try:
            deal_fields.update(current_user, deal.id, "stage", form.value(), form.original_value())
        except NotFound:
            abort(404)
        except Conflict as conflict:
            status, message = 409, conflict.message
        except Invalid as error:
            status, message = 400, error.message
    if message is None:
        return changed(lambda: _board_html(reference, parsed, deal.id), index_url(parsed.state))
    return respond(
        lambda: _board_html(reference, parsed, deal.id, message),
        lambda: render_index(
            reference, parsed, status=status, move_error=(deal.id, message), moved=deal.id
        ),
        status,
    )


def _board_html(reference, parsed, deal_id: int, message: str | None = None) -> str:
    """The board box alone (htmx swaps it), the moved card focused, its message if refused."""
    state = parsed.state
    return render_template(
        "deals/_board.html",
        state=state,
        board=deal_index.board(scope(), state, reference.choices),
        choices=reference.choices,
        move_error=(deal_id, message) if message else None,
        moved=deal_id,
    )
