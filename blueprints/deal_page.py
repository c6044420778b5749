"""One deal's page: its own fields, and for a shared deal the "Shared deal" card and Activity.

Every route resolves the deal through the current user's account (`deals.get_deal_for`):
another account's deal id is a 404 exactly like a missing one, for pages and htmx
fragments alike. Only the posted fields each form names are read.

Responses, decided once for all the routes here:
- a plain (non-htmx) POST redirects back to the deal page (303) on success; bad input
  re-renders the page with the form and the message, status 400 (409 for a conflict
  with someone else's change, 403 for an action the user's side may not take);
- an htmx request gets the re-rendered fragment, status 200, on success AND on bad
  input (the form again, with the message): htmx 2 does not swap 4xx bodies. Ids that
  are not numbers or not yours stay 400/404 for htmx too, as they never come from our
  own forms.
"""

from __future__ import annotations

from datetime import date

from flask import Blueprint, abort, make_response, redirect, render_template, request, url_for
from flask_login import current_user

from blueprints.htmx import is_htmx
from services import deal_fields, deals, product_interest, registrations, shared_card, team
from services import shared_notes as notes
from services.deal_fields import Conflict
from services.errors import Forbidden, Invalid, NotFound

bp = Blueprint("deal_page", __name__)

FIELD_KEYS = tuple(deal_fields.FIELDS)


# ---------------------------------------------------------------- resolving and rendering


def _deal(deal_id: int):
    try:
        return deals.get_deal_for(current_user, deal_id)
    except NotFound:
        abort(404)


def _shared(deal_id: int):
    """(deal, shared deal) of the user's own deal; 404 when it is not theirs or not shared."""
    try:
        return shared_card.shared_deal_for(current_user, deal_id)
    except NotFound:
        abort(404)


def _ids(name: str) -> set[int]:
    """The posted ids under `name`; 400 when one is not a whole number."""
    try:
        return {int(value) for value in request.form.getlist(name)}
    except ValueError:
        abort(400, description="Those ids are not valid.")


def _respond(body: str, status: int = 200):
    response = make_response(body, status)
    response.vary.add("HX-Request")
    return response


def _page(deal, status: int = 200, template: str = "deal_page/show.html", **state):
    """The whole deal page, with whichever editor `state` opens."""
    deal = _deal(deal.id)  # loaded afresh: a service's rollback expires what we held
    shared = shared_card.shared_deal_of(deal)
    context = {"deal": deal, "field_keys": FIELD_KEYS, "fields": deal_fields, **state}
    if shared is not None:
        context.update(_card_context(shared, **state))
        context["activity_rows"], context["activity_more"] = shared_card.activity_for(shared)
    return _respond(render_template(template, **context), status)


def _card_context(shared, **state):
    card = shared_card.card_for(current_user, shared)
    own_member_ids = {m.user_id for m in card.members if m.account_id == current_user.account_id}
    candidates = team.candidates_for(current_user)
    candidate_ids = {u.id for u in candidates}
    # Deactivated members of our own account stay listed (ticked) so they can be removed.
    inactive_members = [m for m in card.members if m.user_id in own_member_ids - candidate_ids]
    return {
        "card": card,
        "team_candidates": candidates,
        "team_inactive_members": inactive_members,
        "team_ticked": state.get("team_ticked", own_member_ids),
        "team_original": state.get("team_original", own_member_ids),
        "catalogue": product_interest.catalogue_for(shared),
        "notes": notes.NOTES,
        "today": date.today(),
        "active_registrations": sum(1 for r in card.registrations if r.status == "active"),
    }


def _fragment(deal, shared, template: str, with_activity: bool = False, **state):
    """An htmx fragment of the card (and, after a change, the Activity list out of band)."""
    deal = _deal(deal.id)
    context = {"deal": deal, "fields": deal_fields, **_card_context(shared, **state), **state}
    body = render_template(template, **context)
    if with_activity:
        rows, more = shared_card.activity_for(shared)
        body += render_template(
            "deal_page/_activity.html",
            deal=deal,
            activity_rows=rows,
            activity_more=more,
            oob=True,
        )
    return _respond(body)


def _back_to(deal, anchor: str):
    return redirect(url_for("deal_page.show", deal_id=deal.id, _anchor=anchor), code=303)


# ---------------------------------------------------------------- the page


@bp.get("/deals/<int:deal_id>")
def show(deal_id):
    deal = _deal(deal_id)
    shared = shared_card.shared_deal_of(deal)
    if shared is not None:
        # The history learns of expired registrations when someone first looks.
        registrations.record_expiries(shared)
        deal = _deal(deal_id)
    return _page(deal)


# ---------------------------------------------------------------- the deal's own fields


def _field_key(key: str) -> str:
    if deal_fields.field(key) is None:
        abort(404)
    return key


def _field_state(deal, key, **extra):
    state = {"original": deal_fields.token(deal, key), "values": {}, "error": None}
    state.update(extra)
    return {"editing_field": key, "field_state": state}


def _render_field(deal, key, status=200, **state):
    if is_htmx():
        body = render_template(
            "deal_page/_field.html", deal=deal, key=key, fields=deal_fields, **state
        )
        return _respond(body)
    return _page(deal, status=status, **state)


@bp.get("/deals/<int:deal_id>/fields/<key>")
def field_view(deal_id, key):
    """The field in its view state (htmx "Cancel"); a plain request goes to the page."""
    deal, key = _deal(deal_id), _field_key(key)
    if not is_htmx():
        return _back_to(deal, f"field-{key}")
    return _render_field(deal, key)


@bp.get("/deals/<int:deal_id>/fields/<key>/edit")
def field_edit(deal_id, key):
    """The field's editor: a fragment for htmx, the page with the editor open otherwise."""
    deal, key = _deal(deal_id), _field_key(key)
    return _render_field(deal, key, **_field_state(deal, key))


@bp.post("/deals/<int:deal_id>/fields/<key>")
def field_save(deal_id, key):
    deal, key = _deal(deal_id), _field_key(key)
    posted = {name: request.form.get(name, "") for name in ("amount", "close_date", "company")}
    posted |= {name: request.form.get(name) for name in ("pipeline", "stage", "owner")}
    original = request.form.get("original")
    try:
        deal_fields.update(current_user, deal, key, posted, original)
    except Conflict as conflict:
        deal = _deal(deal_id)
        state = _field_state(deal, key, values=posted, conflict=conflict.message)
        return _render_field(deal, key, status=409, **state)
    except Invalid as error:
        deal = _deal(deal_id)
        state = _field_state(deal, key, values=posted, error=error.message, original=original)
        return _render_field(deal, key, status=400, **state)
    if not is_htmx():
        return _back_to(deal, f"field-{key}")
    deal = _deal(deal_id)
    response = _render_field(deal, key)
    if key in ("pipeline", "stage"):
        # Pipeline and stage change together: the other row is refreshed out of band.
        other = "stage" if key == "pipeline" else "pipeline"
        response.data += render_template(
            "deal_page/_field.html", deal=deal, key=other, fields=deal_fields, oob=True
        ).encode()
    return response


# ---------------------------------------------------------------- deal team


@bp.get("/deals/<int:deal_id>/team/edit")
def team_edit(deal_id):
    """The "Edit deal team" form as a page of its own (the dialog, with JavaScript off)."""
    deal, shared = _shared(deal_id)
    return _page(deal, template="deal_page/team_edit.html")


@bp.post("/deals/<int:deal_id>/team")
def team_save(deal_id):
    """Apply what this user changed: added = members - original, removed = original - members."""
    deal, shared = _shared(deal_id)
    ticked, original = _ids("members"), _ids("original_members")
    try:
        team.apply_changes(shared, current_user, ticked - original, original - ticked)
    except Invalid as error:
        state = {"team_error": error.message, "team_ticked": ticked, "team_original": original}
        if is_htmx():
            return _fragment(deal, shared, "deal_page/_shared_card.html", **state)
        return _page(deal, status=400, template="deal_page/team_edit.html", **state)
    if not is_htmx():
        return _back_to(deal, "shared-deal-card")
    return _fragment(deal, shared, "deal_page/_shared_card.html", with_activity=True)


# ---------------------------------------------------------------- product interest


@bp.get("/deals/<int:deal_id>/products")
def products_view(deal_id):
    deal, shared = _shared(deal_id)
    if not is_htmx():
        return _back_to(deal, "shared-products")
    return _fragment(deal, shared, "deal_page/_products.html")


@bp.get("/deals/<int:deal_id>/products/edit")
def products_edit(deal_id):
    deal, shared = _shared(deal_id)
    if is_htmx():
        return _fragment(deal, shared, "deal_page/_products.html", editing_products=True)
    return _page(deal, editing_products=True)


@bp.post("/deals/<int:deal_id>/products")
def products_save(deal_id):
    deal, shared = _shared(deal_id)
    selected = _ids("products")
    # The form says what it showed; without that, the selection is the whole new set.
    if "original_products" in request.form:
        original = _ids("original_products")
    else:
        original = {p.id for p in product_interest.products_of(shared)}
    try:
        changed = product_interest.apply_changes(
            shared, current_user, selected - original, original - selected
        )
    except Invalid as error:
        state = {"editing_products": True, "products_error": error.message}
        if is_htmx():
            return _fragment(deal, shared, "deal_page/_products.html", **state)
        return _page(deal, status=400, **state)
    if not is_htmx():
        return _back_to(deal, "shared-products")
    return _fragment(deal, shared, "deal_page/_products.html", with_activity=changed)


# ---------------------------------------------------------------- shared notes


def _note_key(key: str) -> str:
    if notes.note(key) is None:
        abort(404)
    return key


@bp.get("/deals/<int:deal_id>/notes/<key>")
def note_view(deal_id, key):
    deal, shared = _shared(deal_id)
    key = _note_key(key)
    if not is_htmx():
        return _back_to(deal, f"note-{key}")
    return _fragment(deal, shared, "deal_page/_note.html", note_key=key)


@bp.get("/deals/<int:deal_id>/notes/<key>/edit")
def note_edit(deal_id, key):
    deal, shared = _shared(deal_id)
    key = _note_key(key)
    state = {"editing_note": key, "note_original": getattr(shared, key)}
    if is_htmx():
        return _fragment(deal, shared, "deal_page/_note.html", note_key=key, **state)
    return _page(deal, **state)


@bp.post("/deals/<int:deal_id>/notes/<key>")
def note_save(deal_id, key):
    deal, shared = _shared(deal_id)
    key = _note_key(key)
    text, original = request.form.get("text", ""), request.form.get("original")
    try:
        changed = notes.update(shared, current_user, key, text, original)
    except (Conflict, Invalid) as error:
        status = 409 if isinstance(error, Conflict) else 400
        deal, shared = _shared(deal_id)
        state = {
            "editing_note": key,
            "note_text": text,
            "note_error": error.message,
            # After a conflict the form starts again from what is stored now.
            "note_original": getattr(shared, key) if status == 409 else original,
        }
        if is_htmx():
            return _fragment(deal, shared, "deal_page/_note.html", note_key=key, **state)
        return _page(deal, status=status, **state)
    if not is_htmx():
        return _back_to(deal, f"note-{key}")
    return _fragment(deal, shared, "deal_page/_note.html", note_key=key, with_activity=changed)


# ---------------------------------------------------------------- registrations (vendor side)


def _parse_expiry(raw: str) -> date | None:
    raw = (raw or "").strip()
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise Invalid("Enter the expiry date like 2026-12-31.", "expires_on") from None


@bp.post("/deals/<int:deal_id>/registrations")
def registration_add(deal_id):
    deal, shared = _shared(deal_id)
    try:
        registrations.add(shared, current_user, _parse_expiry(request.form.get("expires_on")))
    except Forbidden:
        abort(403)
    except Invalid as error:
        state = {"registration_error": error.message}
        if is_htmx():
            return _fragment(deal, shared, "deal_page/_registrations.html", **state)
        return _page(deal, status=400, **state)
    if not is_htmx():
        return _back_to(deal, "shared-registrations")
    return _fragment(deal, shared, "deal_page/_registrations.html", with_activity=True)


@bp.post("/deals/<int:deal_id>/registrations/<int:registration_id>/deregistration")
def registration_deregister(deal_id, registration_id):
    deal, shared = _shared(deal_id)
    try:
        changed = registrations.deregister(shared, current_user, registration_id)
    except Forbidden:
        abort(403)
    except NotFound:
        abort(404)
    if not is_htmx():
        return _back_to(deal, "shared-registrations")
    return _fragment(deal, shared, "deal_page/_registrations.html", with_activity=changed)


# ---------------------------------------------------------------- activity


@bp.get("/deals/<int:deal_id>/activity")
def activity(deal_id):
    """Older activity: the next rows before `before` (htmx appends them; a page otherwise)."""
    deal, shared = _shared(deal_id)
    before = request.args.get("before", type=int)
    rows, more = shared_card.activity_for(shared, before_id=before)
    context = {"deal": deal, "activity_rows": rows, "activity_more": more}
    if is_htmx():
        return _respond(render_template("deal_page/_activity_items.html", **context))
    return _respond(render_template("deal_page/activity.html", **context))
