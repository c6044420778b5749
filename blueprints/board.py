"""The deals index's board (`?layout=board`): "Show more" of a column, and moving a card.

The board itself is a rendering of the index (`blueprints.deals.render_index`).
A move is the deal page's stage edit — the same form (`StageForm`, with the
stage the card showed as `original`) and the same service
(`deal_fields.editing`): the same tenancy (404), the same conflict rule and
the same checks. After a move a plain post returns to the board (303); htmx
gets only what changed (the card, the two column headers, an announcement).
A refused move shows its message on the card (htmx) or on the card's move
page (`GET /deals/<id>/move`, the menu as a form without JavaScript).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal

from flask import Blueprint, abort, make_response, render_template, request, url_for

from blueprints.access import signed_in_user
from blueprints.deal_page import own_deal
from blueprints.deals import index_url, scope
from blueprints.htmx import changed, is_htmx, respond
from catalog import gettext as _
from forms.deal import MoveForm
from services import deal_fields, deal_index
from services.deal_index.choices import Choice
from services.errors import Conflict, Invalid, NotFound
from services.values import parse_id

bp = Blueprint("board", __name__)


def _board_state(reference, query: str) -> deal_index.Parsed:
    """The board a form or link came from, from its query string (always the board)."""
    parsed = deal_index.parse_query(query, reference.choices)
    parsed.state = replace(parsed.state, layout="board", page=1)
    parsed.errors = []
    return parsed


@bp.get("/deals/board/more")
def more():
    """A column's next cards: htmx appends them; a plain request gets them as a page."""
    reference = deal_index.index_reference(signed_in_user())
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


@bp.get("/deals/<id:deal_id>/move")
def move_page(deal_id):
    """Without JavaScript, a card's "Move to stage": its menu as a form (posted below)."""
    deal = own_deal(deal_id)  # another account's deal: 404
    reference = deal_index.index_reference(signed_in_user())
    parsed = _board_state(reference, request.query_string.decode())
    return _move_page(reference, parsed.state, deal)


@bp.post("/deals/<id:deal_id>/move")
def move(deal_id):
    """Move a card to another stage of its pipeline: the deal's stage edit.

    The deal is found (or not: 404) by the edit itself, under its lock: no read before.
    What htmx is answered is read in the edit's with block: on PostgreSQL in the edit's
    own transaction, not in a second one after it (changes.answering).
    """
    form = MoveForm()
    reference = deal_index.index_reference(signed_in_user())
    state = _board_state(reference, form.query.data or "").state
    if not form.validate_on_submit():
        message = next(iter(form.stage.errors), None) or _("Choose a deal stage.")
        return _refused(reference, state, deal_id, message, 400)
    after = form.value()
    try:
        with deal_fields.editing(
            signed_in_user(), deal_id, "stage", after, form.original_value()
        ) as edit:
            answer = is_htmx() and _moved(
                reference, state, deal_id, edit, after, form.shown_cards()
            )
    except NotFound:
        abort(404)
    except Conflict as conflict:
        return _refused(reference, state, deal_id, conflict.message, 409)
    except Invalid as error:
        return _refused(reference, state, deal_id, error.message, 400)
    return changed(
        lambda: render_template("deals/_board_moved.html", state=state, deal_id=deal_id, **answer),
        index_url(state),
    )


def _refused(reference, state, deal_id: int, message: str, status: int):
    """A refused move: htmx gets the card where it is with the message; a plain post the
    move page with it."""
    deal = own_deal(deal_id)  # another account's deal: 404, whatever was posted
    return respond(
        lambda: _card_html(state, deal.id, message),
        lambda: _move_page(reference, state, deal, message, status),
        status,
    )


@dataclass(frozen=True)
class _Header:
    stage: Choice
    count: int
    total: Decimal


def _moved(reference, state, deal_id: int, edit: deal_fields.Edit, after: int, shown: int) -> dict:
    """What htmx is shown after a move (`deals/_board_moved.html`): the announcement, and
    out of band the card and both column headers.

    Not the board: the card leaves its column, takes its place in the new one, and
    the two headers are recounted over the whole filtered set (a few kB, not 150).
    A move that changed nothing, or to a column not shown, shows the card where it is.
    """
    account = scope()
    stages = {s.id: s for s in deal_index.board_stages(state, reference.choices)}
    if not edit.changed or after not in stages:
        return {"card": deal_index.card(account, deal_id), "headers": []}
    card, next_id = deal_index.moved_card(account, state, reference.choices, deal_id, after, shown)
    shown = [i for i in (int(edit.before), after) if i in stages]
    # Inside the edit's block (on PostgreSQL its transaction): no fold of the counts
    # here, which writes; the board's next read folds.
    totals = deal_index.stage_totals(account, state, shown, may_fold=False)
    return {
        "card": card,
        "next_id": next_id,
        "headers": [_Header(stages[i], *totals.get(i, (0, Decimal(0)))) for i in shown],
        "announcement": _(
            "“%(name)s” moved to %(stage)s.", name=edit.name, stage=stages[after].label
        ),
    }


def _card_html(state, deal_id: int, message: str | None = None) -> str:
    """htmx: the card again where it is (its current stage), with the refused move's message."""
    return render_template(
        "deals/_board_moved.html",
        state=state,
        deal_id=deal_id,
        card=deal_index.card(scope(), deal_id),
        error=message,
        headers=[],
    )


def _move_page(reference, state, deal, error: str | None = None, status: int = 200):
    """The move page: the card's stage menu as a form, its pipeline's stages, and any message."""
    stages = deal_index.board_stages(replace(state, pipeline=deal.pipeline_id), reference.choices)
    context = {
        "card": deal_index.card(scope(), deal.id),  # as it is now (a refused move may be stale)
        "stages": stages,
        "query": state.query(),
        "action": url_for("board.move", deal_id=deal.id),
        "index_href": index_url(state),
        "error": error,
        "unread_notification_count": lambda: reference.unread_notifications,
    }
    return make_response(render_template("deals/move.html", **context), status)
