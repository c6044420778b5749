"""One deal's page: its own fields, edited in place, and for a shared deal its Activity.

The "Shared deal" card's routes are in `blueprints/shared_card.py`; both render
the page through `render_deal_page`.

Every route resolves the deal through the current user's account: another
account's deal id is a 404 exactly like a missing one, for pages and htmx
fragments alike. Answers follow `blueprints.htmx`: after a change, a plain post
is redirected back to the deal page and htmx gets the fragment; bad input
re-renders the form with its message (400, 409 for a conflict with someone
else's change; 200 fragments for htmx).
"""

from __future__ import annotations

from flask import Blueprint, abort, g, redirect, render_template, request, url_for

from blueprints.access import signed_in_user
from blueprints.htmx import changed, is_htmx, respond
from forms.deal import FIELD_FORMS
from forms.fields import parse_id
from i18n import current_language
from services import deal_fields, deal_page, deals, shared_card
from services.errors import Conflict, Invalid, NotFound

bp = Blueprint("deal_page", __name__)


def own_deal(deal_id: int):
    """The user's own deal `deal_id`, labels loaded; 404 otherwise."""
    try:
        return deals.get_deal_for(signed_in_user(), deal_id)
    except NotFound:
        abort(404)


def own_shared_deal(deal_id: int):
    """(deal, shared deal) of the user's own deal; 404 when it is not theirs or not shared."""
    try:
        return shared_card.shared_deal_for(signed_in_user(), deal_id)
    except NotFound:
        abort(404)


def own_shared(deal_id: int, lock: bool = False):
    """The shared deal of the user's own deal `deal_id`, without the deal; 404 as above.
    `lock`: read under its lock, for a change (`shared_card.shared_deal_of`)."""
    try:
        return shared_card.shared_deal_of(signed_in_user(), deal_id, lock)
    except NotFound:
        abort(404)


def render_deal_page(
    deal_id: int, template: str = "deal_page/show.html", head=None, **state
) -> str:
    """The whole deal page (or a page built on it), with whichever editor `state` opens.

    Loaded afresh (a service's commit or rollback expires what a view held), in three
    statements after the user's: the head, the card, the Activity (services/deal_page.py).
    """
    if head is None:
        try:
            head = deal_page.head_for(signed_in_user(), deal_id)
        except NotFound:
            abort(404)
    deal, shared = head.deal, head.shared
    language = current_language()
    context = {
        "deal": deal,
        "fields": [_field_context(deal, key, language, state) for key in deal_fields.FIELDS],
        # The bell's count came with the head: no query of its own.
        "unread_notification_count": lambda: head.unread_notifications,
        **state,
    }
    if shared is not None:
        # The deal's open_request_since says whether a request is open (migration 0017's
        # triggers keep it on both deals): the conflicts are read only then.
        context["card"] = shared_card.card_for(
            signed_in_user(),
            shared,
            lists=shared_card.CARD_LISTS if deal.open_request_since else shared_card.NO_CONFLICTS,
        )
        context["activity_rows"], context["activity_more"] = shared_card.activity_for(shared)
    return render_template(template, **context)


def back_to(deal_id: int, anchor: str) -> str:
    """The deal page's address, at `anchor`: where a plain form post returns."""
    return url_for("deal_page.show", deal_id=deal_id, _anchor=anchor)


@bp.get("/deals/<id:deal_id>")
def show(deal_id):
    try:
        # The history learns of expired registrations when someone first looks.
        head = deal_page.head_recording_expiries(signed_in_user(), deal_id)
    except NotFound:
        abort(404)
    return render_deal_page(deal_id, head=head)


# ---------------------------------------------------------------- the deal's own fields


def _field_key(key: str) -> str:
    if deal_fields.field(key) is None:
        abort(404)
    return key


def _field_context(deal, key: str, language: str, state: dict) -> dict:
    """What one field row shows: its label and value, and its editor when `state` opens it."""
    context = {
        "key": key,
        "label": deal_fields.FIELDS[key].label,
        "text": deal_fields.display(deal, key, language),
        "editing": state.get("editing_field") == key,
    }
    if context["editing"]:
        form = state.get("form") or FIELD_FORMS[key].editing(deal, deal_fields.token(deal, key))
        context |= {
            "form": form,
            "choices": deal_fields.editor_choices(deal, key),
            "message": state.get("conflict") or state.get("error"),
            "conflict": bool(state.get("conflict")),
        }
    return context


def _field_html(deal_id: int, key: str, **state) -> str:
    return _render_field(own_deal(deal_id), key, **state)


def _render_field(deal, key: str, oob: bool = False, **state) -> str:
    field = _field_context(deal, key, current_language(), state)
    return render_template("deal_page/_field.html", deal=deal, field=field, oob=oob)


def _field(deal_id: int, key: str, status: int = 200, **state):
    """The field row (htmx), or the page with it (plain), in view or edit state."""
    return respond(
        lambda: _field_html(deal_id, key, **state),
        lambda: render_deal_page(deal_id, **state),
        status,
    )


def _header_html(head) -> str:
    """Out of band after an edit: the page header (it shows name, stage, amount) and, on a
    shared deal, the history rows the change just recorded."""
    body = render_template(
        "deal_page/_header.html",
        deal=head.deal,
        oob=True,
        other_party_name=head.other_party_name,
    )
    if head.shared is not None:
        body += new_activity_html(head.deal, head.shared)
    return body


@bp.before_request
def mark_activity():
    """Before an htmx change: where the history stands, so the answer sends only what the
    change adds to it (`new_activity_html`), not the whole list again."""
    if request.method == "POST" and is_htmx():
        g.activity_mark = shared_card.activity_mark()


def new_activity_html(deal, shared) -> str:
    """Out of band after a change: the history rows it recorded, put at the top of the
    Activity list (the whole list when no mark was taken)."""
    mark = g.get("activity_mark")
    if mark is None:
        rows, more = shared_card.activity_for(shared)
        return render_template(
            "deal_page/_activity.html", deal=deal, activity_rows=rows, activity_more=more, oob=True
        )
    rows = shared_card.activity_after(shared, mark)
    return render_template("deal_page/_activity_new.html", deal=deal, activity_rows=rows)


@bp.get("/deals/<id:deal_id>/fields/<key>")
def field_view(deal_id, key):
    """The field in its view state (htmx "Cancel"); a plain request goes to the page."""
    deal, key = own_deal(deal_id), _field_key(key)
    if not is_htmx():
        return redirect(back_to(deal.id, f"field-{key}"))
    return _field(deal.id, key)


@bp.get("/deals/<id:deal_id>/fields/<key>/edit")
def field_edit(deal_id, key):
    """The field's editor: a fragment for htmx, the page with the editor open otherwise."""
    deal, key = own_deal(deal_id), _field_key(key)
    return _field(deal.id, key, editing_field=key)


@bp.post("/deals/<id:deal_id>/fields/<key>")
def field_save(deal_id, key):
    # The deal is found (or not: 404) by the save itself, under its lock: no read before.
    key = _field_key(key)
    form = FIELD_FORMS[key]()
    if not form.validate_on_submit():
        return _field(deal_id, key, 400, editing_field=key, form=form)
    try:
        with deal_fields.editing(
            signed_in_user(), deal_id, key, form.value(), form.original_value()
        ):
            # htmx's answer, read and rendered here: on PostgreSQL in the save's own
            # transaction, not in a second one after its commit (changes.answering).
            body = _saved_row(deal_id, key) if is_htmx() else ""
    except NotFound:
        abort(404)
    except Conflict as conflict:
        # The editor starts again from what is stored now, keeping what this user typed.
        form.original.data = deal_fields.token(own_deal(deal_id), key)
        return _field(deal_id, key, 409, editing_field=key, form=form, conflict=conflict.message)
    except Invalid as error:
        return _field(deal_id, key, 400, editing_field=key, form=form, error=error.message)

    return changed(lambda: body, back_to(deal_id, f"field-{key}"))


def _saved_row(deal_id: int, key: str) -> str:
    """htmx, after a field's save: the row, the header and the history rows it added."""
    head = deal_page.head_for(signed_in_user(), deal_id, page=False)  # as saved, labels too
    body = _render_field(head.deal, key)
    if key in ("pipeline", "stage"):
        # Pipeline and stage change together: the other row is refreshed out of band.
        other = "stage" if key == "pipeline" else "pipeline"
        body += _render_field(head.deal, other, oob=True)
    return body + _header_html(head)


# ---------------------------------------------------------------- registration history


@bp.get("/deals/<id:deal_id>/registrations")
def registration_history(deal_id):
    """Every registration and request of the deal's shared deal (the card shows the newest)."""
    deal, shared = own_shared_deal(deal_id)
    card = shared_card.card_for(
        signed_in_user(), shared, shown=shared_card.EVERY_ROW, lists=shared_card.NO_CONFLICTS
    )
    return render_template("deal_page/registrations.html", deal=deal, card=card)


# ---------------------------------------------------------------- activity


@bp.get("/deals/<id:deal_id>/activity")
def activity(deal_id):
    """Older activity: the next rows before `before` (htmx appends them; a page otherwise)."""
    deal, shared = own_shared_deal(deal_id)
    rows, more = shared_card.activity_for(shared, before_id=parse_id(request.args.get("before")))
    context = {"deal": deal, "activity_rows": rows, "activity_more": more}
    return respond(
        lambda: render_template("deal_page/_activity_items.html", loaded_more=True, **context),
        lambda: render_template("deal_page/activity.html", **context),
    )
