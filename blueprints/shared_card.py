"""The "Shared deal" card on a deal's page: deal team, product interest, shared notes,
deal registrations.

Each route reads the shared deal of the user's own deal (404 for another account's
deal or an unshared one; the deal itself is not read: the card's parts link to it by
its id), validates its form, calls one service, and answers as `blueprints.htmx`
decides: after a change, htmx gets the changed part of the card (and the history rows
the change added, out of band), a plain post goes back to the deal page; bad input
shows the form again with its message. A change goes through `_changing`: the shared
deal is found under its lock, and on PostgreSQL htmx's answer is read before the commit
(`services.changes.answering`), not in a second transaction after it.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from flask import Blueprint, abort, redirect, render_template

from blueprints.access import signed_in_user
from blueprints.deal_page import (
    back_to,
    mark_activity,
    new_activity_html,
    own_shared,
    own_shared_deal,
    render_deal_page,
)
from blueprints.htmx import changed, is_htmx, respond
from forms.card import (
    ApproveForm,
    DeclineForm,
    NoteForm,
    ProductsForm,
    RegistrationForm,
    RegistrationRequestForm,
    TeamForm,
)
from models import SharedDeal
from services import (
    product_interest,
    registration_requests,
    registrations,
    shared_card,
    shared_notes,
    team,
)
from services.changes import answering
from services.errors import Conflict, Forbidden, Invalid, NotFound

bp = Blueprint("card", __name__)
bp.before_request(mark_activity)


# What a part's template reads of the card, when it is less than the whole card.
_PART_CARDS = {"card/_note.html": shared_card.notes_card}
# The lists of the card (shared_card.CARD_LISTS) that each part shows: a change's answer
# reads only its parts' (tests/test_card_parts.py renders each part both ways). Only the
# registrations show the conflicts with an open request (see card_for).
_PART_LISTS = {
    "card/_team_dialog.html": {"member", "candidate"},
    "card/_team_field.html": {"member"},
    "card/_products.html": {"product", "catalogue"},
    "card/_registrations.html": {"registration", "request", "conflict"},
}


@dataclass(frozen=True)
class DealLink:
    """What a part of the card reads of the deal: its id, for the part's links and forms."""

    id: int


def _card_part(
    deal_id: int,
    shared: SharedDeal,
    template: str,
    with_activity: bool = False,
    oob_parts=(),
    conflicts: bool = True,
    **state,
) -> str:
    """A part of the card for htmx, and `oob_parts` out of band (other places showing what
    changed); after a change, the history rows it added too (out of band).
    `conflicts=False`: no request is open, so no registration conflicts with one.

    `shared` is the route's: a service's commit keeps it loaded as saved (extensions.py),
    a rollback expires it and it is read again."""
    deal = DealLink(deal_id)
    if oob_parts or template not in _PART_CARDS:
        lists = _lists_of(template, *oob_parts)
        if not conflicts:
            lists -= {"conflict"}
        card = shared_card.card_for(signed_in_user(), shared, lists=lists)
    else:
        card = _PART_CARDS[template](signed_in_user(), shared)
    body = render_template(template, deal=deal, card=card, **state)
    for part in oob_parts:
        body += render_template(part, deal=deal, card=card, oob=True)
    if with_activity:
        body += new_activity_html(deal, shared)
    return body


@functools.cache
def _lists_of(*templates: str) -> frozenset[str]:
    """The card's lists that `templates` show; for a template not in _PART_LISTS, all of
    them but the conflicts (the registrations' alone)."""
    if any(template not in _PART_LISTS for template in templates):
        return shared_card.NO_CONFLICTS
    return frozenset().union(*(_PART_LISTS[template] for template in templates))


def _refused(
    deal_id: int,
    shared: SharedDeal,
    template: str,
    status: int,
    page: str = "deal_page/show.html",
    **state,
):
    """Bad input: the card part with its message (htmx), or the page with it (plain)."""
    return respond(
        lambda: _card_part(deal_id, shared, template, **state),
        lambda: render_deal_page(deal_id, template=page, **state),
        status,
    )


@contextmanager
def _changing(deal_id: int) -> Iterator[SharedDeal]:
    """A change of the card: the shared deal of the user's deal, found under its lock (404
    otherwise), and the change with its answer in one transaction (`answering`)."""
    with answering():
        yield own_shared(deal_id, lock=True)


def _changed(
    deal_id: int,
    shared: SharedDeal,
    template: str,
    anchor: str,
    with_activity: bool = True,
    conflicts: bool = True,
    **state,
):
    """After a change: htmx gets the card's part (rendered now, inside the route's
    `_changing` block), a plain post a 303 back to the deal page."""
    return changed(
        lambda: _card_part(deal_id, shared, template, with_activity, conflicts=conflicts, **state),
        back_to(deal_id, anchor),
    )


# ---------------------------------------------------------------- deal team


@bp.get("/deals/<id:deal_id>/team/edit")
def team_edit(deal_id):
    """The "Edit deal team" form as a page of its own (the dialog, with JavaScript off)."""
    own_shared(deal_id)
    return render_deal_page(deal_id, template="card/team_edit.html")


@bp.post("/deals/<id:deal_id>/team")
def team_save(deal_id):
    """Apply what this user changed: added = members - original, removed = original - members."""
    form = TeamForm()
    try:
        with _changing(deal_id) as shared:
            if not form.validate_on_submit():
                raise Invalid(team.NOT_YOUR_USERS, "members")
            team.apply_changes(shared, signed_in_user(), form.added(), form.removed())
            # The dialog comes back closed (htmx swaps it), the team row out of band.
            return _changed(
                deal_id,
                shared,
                "card/_team_dialog.html",
                "shared-deal-card",
                oob_parts=["card/_team_field.html"],
            )
    except Invalid as error:
        state = {
            "team_error": error.message,
            "team_ticked": form.members.data,
            "team_original": form.original_members.data,
        }
        return _refused(
            deal_id, shared, "card/_team_dialog.html", 400, "card/team_edit.html", **state
        )


# ---------------------------------------------------------------- product interest


@bp.get("/deals/<id:deal_id>/products")
def products_view(deal_id):
    shared = own_shared(deal_id)
    if not is_htmx():
        return redirect(back_to(deal_id, "shared-products"))
    return _card_part(deal_id, shared, "card/_products.html")


@bp.get("/deals/<id:deal_id>/products/edit")
def products_edit(deal_id):
    shared = own_shared(deal_id)
    return respond(
        lambda: _card_part(deal_id, shared, "card/_products.html", editing_products=True),
        lambda: render_deal_page(deal_id, editing_products=True),
    )


@bp.post("/deals/<id:deal_id>/products")
def products_save(deal_id):
    form = ProductsForm()
    try:
        with _changing(deal_id) as shared:
            if not form.validate_on_submit():
                raise Invalid(product_interest.CHOOSE_PRODUCTS, "products")
            added, removed = form.changes(
                lambda: {p.id for p in product_interest.products_of(shared)}
            )
            changed_any = product_interest.apply_changes(shared, signed_in_user(), added, removed)
            return _changed(deal_id, shared, "card/_products.html", "shared-products", changed_any)
    except Invalid as error:
        state = {"editing_products": True, "products_error": error.message}
        return _refused(deal_id, shared, "card/_products.html", 400, **state)


# ---------------------------------------------------------------- shared notes


def _note_key(key: str) -> str:
    if shared_notes.note(key) is None:
        abort(404)
    return key


@bp.get("/deals/<id:deal_id>/notes/<key>")
def note_view(deal_id, key):
    shared = own_shared(deal_id)
    key = _note_key(key)
    if not is_htmx():
        return redirect(back_to(deal_id, f"note-{key}"))
    return _card_part(deal_id, shared, "card/_note.html", note_key=key)


@bp.get("/deals/<id:deal_id>/notes/<key>/edit")
def note_edit(deal_id, key):
    shared = own_shared(deal_id)
    key = _note_key(key)
    state = {"editing_note": key, "note_original": getattr(shared, key)}
    return respond(
        lambda: _card_part(deal_id, shared, "card/_note.html", note_key=key, **state),
        lambda: render_deal_page(deal_id, **state),
    )


@bp.post("/deals/<id:deal_id>/notes/<key>")
def note_save(deal_id, key):
    key = _note_key(key)
    form = NoteForm()
    try:
        with _changing(deal_id) as shared:
            if not form.validate_on_submit():
                raise Invalid(" ".join(map(str, form.text.errors)), key)
            changed_any = shared_notes.update(
                shared, signed_in_user(), key, form.text.data, form.original_value()
            )
            return _changed(
                deal_id, shared, "card/_note.html", f"note-{key}", changed_any, note_key=key
            )
    except (Conflict, Invalid) as error:
        status = 409 if isinstance(error, Conflict) else 400
        state = {
            "editing_note": key,
            "note_text": form.text.data,
            "note_error": error.message,
            # After a conflict the form starts again from what is stored now.
            "note_original": getattr(shared, key) if status == 409 else form.original_value(),
        }
        return _refused(deal_id, shared, "card/_note.html", status, note_key=key, **state)


# ---------------------------------------------------------------- registrations (vendor side)


@bp.post("/deals/<id:deal_id>/registrations")
def registration_add(deal_id):
    form = RegistrationForm()
    try:
        with _changing(deal_id) as shared:
            if not form.validate_on_submit():
                raise Invalid(" ".join(map(str, form.expires_on.errors)), "expires_on")
            registrations.add(shared, signed_in_user(), form.expires_on.data)
            return _changed(deal_id, shared, "card/_registrations.html", "shared-registrations")
    except Forbidden:
        abort(403)
    except Invalid as error:
        state = {"registration_error": error.message}
        return _refused(deal_id, shared, "card/_registrations.html", 400, **state)


@bp.post("/deals/<id:deal_id>/registrations/<id:registration_id>/deregistration")
def registration_deregister(deal_id, registration_id):
    try:
        with _changing(deal_id) as shared:
            changed_any = registrations.deregister(shared, signed_in_user(), registration_id)
            return _changed(
                deal_id,
                shared,
                "card/_registrations.html",
                "shared-registrations",
                with_activity=changed_any,
            )
    except Forbidden:
        abort(403)
    except NotFound:
        abort(404)


def _deregister_page(deal_id: int, registration_id: int):
    """The confirmation before deregistering: its own page (JS off) or the dialog's content."""
    deal, shared = own_shared_deal(deal_id)
    card = shared_card.card_for(signed_in_user(), shared)
    if not card.viewer_is_vendor:
        abort(403)
    row = next((r for r in card.registrations if r.id == registration_id), None)
    if row is None:
        abort(404)
    return render_template("card/deregister_confirm.html", deal=deal, card=card, registration=row)


@bp.get("/deals/<id:deal_id>/registrations/<id:registration_id>/deregistration")
def registration_deregister_confirm(deal_id, registration_id):
    """ "Deregister this registration?": asked before the deregistration is posted."""
    return _deregister_page(deal_id, registration_id)


# ---------------------------------------------------------------- registration requests


def _requests_refused(deal_id: int, shared: SharedDeal, status: int, **state):
    return _refused(deal_id, shared, "card/_registrations.html", status, **state)


@bp.post("/deals/<id:deal_id>/registration-requests")
def registration_request(deal_id):
    """A partner user asks the vendor to register the deal ("Request registration")."""
    form = RegistrationRequestForm()
    try:
        with _changing(deal_id) as shared:
            if not form.validate_on_submit():
                raise Invalid(" ".join(map(str, form.message.errors)), "message")
            registration_requests.request(shared, signed_in_user(), form.message.data or "")
            return _changed(deal_id, shared, "card/_registrations.html", "shared-registrations")
    except Forbidden:
        abort(403)
    except Invalid as error:
        return _requests_refused(deal_id, shared, 400, request_error=error.message)


def _decided(deal_id: int, shared: SharedDeal):
    """After an approval or a decline: the registrations, without the conflicts list. The
    request decided was the shared deal's one open request (uq_registration_requests_open),
    so none is open now and nothing conflicts with one: on PostgreSQL the conflicts' part
    of the card statement is planned at every run (shared_card.card_for)."""
    return _changed(
        deal_id, shared, "card/_registrations.html", "shared-registrations", conflicts=False
    )


@bp.post("/deals/<id:deal_id>/registration-requests/<id:request_id>/approval")
def registration_approve(deal_id, request_id):
    form = ApproveForm()
    try:
        with _changing(deal_id) as shared:
            if not form.validate_on_submit():
                raise Invalid(" ".join(map(str, form.expires_on.errors)), "expires_on")
            registration_requests.approve(
                shared, signed_in_user(), request_id, form.expires_on.data
            )
            return _decided(deal_id, shared)
    except Forbidden:
        abort(403)
    except NotFound:
        abort(404)
    except Invalid as error:
        return _requests_refused(deal_id, shared, 400, decision_error=error.message)


@bp.post("/deals/<id:deal_id>/registration-requests/<id:request_id>/decline")
def registration_decline(deal_id, request_id):
    form = DeclineForm()
    try:
        with _changing(deal_id) as shared:
            if not form.validate_on_submit():
                raise Invalid(" ".join(map(str, form.reason.errors)), "reason")
            registration_requests.decline(shared, signed_in_user(), request_id, form.reason.data)
            return _decided(deal_id, shared)
    except Forbidden:
        abort(403)
    except NotFound:
        abort(404)
    except Invalid as error:
        return _requests_refused(deal_id, shared, 400, decision_error=error.message)
