"""The deals index: filters, search, sort, pages, saved views and the CSV export.

The URL is the state (see services/deal_index/). A plain request gets the
whole page; htmx gets the results fragment and the canonical URL to push. A
plain form submission that went well is redirected to its canonical URL, so
the address bar, reload and bookmarks show what the page shows.
"""

from __future__ import annotations

import functools
from dataclasses import replace
from datetime import date
from typing import NamedTuple

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)

from blueprints.access import signed_in_user
from blueprints.htmx import is_htmx, render_page_or_fragment
from catalog import gettext as _
from forms.views import RenameViewForm, SaveViewForm, UpdateViewForm
from i18n import current_language
from services import deal_index, export, saved_views
from services.deal_index import (
    COLUMNS,
    COUNT_CAP,
    OPERATORS_BY_TYPE,
    PROPERTIES,
    TYPE_LABELS,
    IndexState,
    Scope,
)
from services.errors import Forbidden, Invalid, NotFound

bp = Blueprint("deals", __name__)


class Named(NamedTuple):
    key: str
    label: str


@functools.cache
def _filter_names(language: str) -> dict:
    """The filter builder's property and operator names in `language` (the request's), as
    plain text: worked out once per language, not ~40 lazy labels on every page."""
    return {
        "properties_list": [Named(p.key, str(p.label)) for p in PROPERTIES.values()],
        "operator_groups": [
            (str(TYPE_LABELS[kind]), [Named(o.key, str(o.label)) for o in operators])
            for kind, operators in OPERATORS_BY_TYPE.items()
        ],
    }


@bp.context_processor
def filter_registry():
    """The registry's names, for the filter bar (on the page and in htmx fragments)."""
    return {
        **_filter_names(current_language()),
        "visibility_labels": saved_views.VISIBILITY_LABELS,
    }


def scope() -> Scope:
    return Scope.of(signed_in_user(), date.today())


def index_url(state: IndexState) -> str:
    query = state.query()
    return url_for("deals.index") + (f"?{query}" if query else "")


def _current_tab(reference: deal_index.IndexReference, key: str) -> deal_index.ViewTab:
    """The tab the state names; a view id the user may not see is a 404."""
    tab = reference.view(key or "all")
    if tab is None:
        abort(404)
    return tab


def render_index(reference, parsed, *, status: int = 200, view_error=None, **extra):
    """The index page (or its htmx fragment) for `parsed`: the table, or the board."""
    state = parsed.state
    results = board = None
    if state.board:
        board = deal_index.board(scope(), state, reference.choices)
    else:
        results = deal_index.index_page(scope(), state, reference.choices)
        state = replace(state, page=results.page)
    tab = _current_tab(reference, state.view)
    context = {
        "tab_changed": _differs_from(tab, state, reference.choices),
        "state": state,
        "results": results,
        "board": board,
        "reference": reference,
        "choices": reference.choices,
        "tab": tab,
        "own_view": tab.owner_id == signed_in_user().id,
        "errors": parsed.errors,
        "controls": _controls(parsed.draft),
        "view_error": view_error,
        "columns": [COLUMNS[key] for key in state.columns],
        "all_columns": COLUMNS.values(),
        "count_cap": COUNT_CAP,
        # The bell's count came with the reference statement: no query of its own.
        "unread_notification_count": lambda: reference.unread_notifications,
        **extra,
    }
    response = render_page_or_fragment(
        "deals/index.html", "deals/_results_fragment.html", status=status, **context
    )
    if is_htmx():
        response.headers["HX-Push-Url"] = index_url(state)
    return response


def _differs_from(tab: deal_index.ViewTab, state: IndexState, choices) -> bool:
    """Whether the list shown is no longer the tab's view (a filter, sort... changed)."""
    return deal_index.parse_query(tab.query, choices).state.saved_query() != state.saved_query()


def _controls(draft: deal_index.Draft) -> dict:
    """What the filter bar's Property / Operator / Value controls show."""
    prop = PROPERTIES.get(draft.property_key)
    op = prop.operator(draft.operator_key) if prop else None
    if prop and op is None:
        op = prop.operators[0]
    return {"prop": prop, "op": op, "values": draft.values}


@bp.get("/deals")
def index():
    reference = deal_index.index_reference(signed_in_user(), deal_index.parse_search(request.args))
    parsed = deal_index.parse(request.args, reference.choices)
    tab = _current_tab(reference, parsed.state.view)
    if tab.query and not parsed.state.saved_query():
        # The address names a view and nothing else a view keeps.
        if set(request.args) <= {"view", "page"}:
            # Typed, bookmarked or linked ("/deals?view=requests"): open the view itself.
            view_state = deal_index.parse_query(tab.href_query(), reference.choices).state
            return redirect(index_url(replace(view_state, page=parsed.state.page)), code=303)
        # The form took every filter off the view: that is the "All deals" list, and its
        # address is /deals (so "/deals?view=…" alone always means the view).
        parsed.state = replace(parsed.state, view="")
    if parsed.needs_redirect and not is_htmx():
        return redirect(index_url(parsed.state), code=303)
    return render_index(
        reference,
        parsed,
        applied=parsed.applied and is_htmx(),
        from_form=parsed.from_form,
    )


@bp.get("/deals/filter-controls")
def filter_controls():
    """htmx: the Operator and Value controls that fit the chosen property."""
    reference = deal_index.index_reference(signed_in_user())
    draft = deal_index.Draft(
        property_key=request.args.get("property", ""),
        operator_key=request.args.get("operator", ""),
        values=[v for v in request.args.getlist("value") if v.strip()],
    )
    return render_template(
        "deals/_filter_controls.html", controls=_controls(draft), choices=reference.choices
    )


@bp.get("/deals/export.csv")
def export_csv():
    """Every deal of the current view (all pages), as CSV, streamed."""
    reference = deal_index.index_reference(signed_in_user())
    parsed = deal_index.parse(request.args, reference.choices)
    if parsed.errors:
        # Never export something other than what the view shows.
        abort(400, description=" ".join(parsed.errors))
    lines = export.csv_lines(scope(), parsed.state, reference.choices)
    filename = f"deals-{date.today().isoformat()}.csv"
    return Response(
        stream_with_context(lines),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


# ---------------------------------------------------------------- saved views


def _view_response(view) -> Response:
    query = "&".join(part for part in (f"view={view.id}", view.query) if part)
    return redirect(f"{url_for('deals.index')}?{query}", code=303)


def _form_state(reference, form, view_key: str = "") -> deal_index.Parsed:
    """The index state a view form was posted from: its hidden `query`, else the view's."""
    tab = reference.view(form.view.data or view_key)
    query = form.query.data if form.query.data is not None else (tab.query if tab else "")
    parsed = deal_index.parse_query(query, reference.choices)
    parsed.state = replace(parsed.state, view=tab.key if tab and tab.key != "all" else "")
    parsed.errors = []
    return parsed


def _refused(error: Forbidden):
    return render_template(
        "errors/error.html", status=403, title=_("Not allowed"), message=str(error)
    ), 403


def _view_form_again(form, error: Invalid, which: str, view_key: str = ""):
    reference = deal_index.index_reference(signed_in_user())
    parsed = _form_state(reference, form, view_key)
    return render_index(reference, parsed, status=422, view_error=(which, error), view_form=form)


@bp.post("/deals/views")
def create_view():
    form = SaveViewForm()
    try:
        view = saved_views.create(
            signed_in_user(), form.name.data, form.visibility.data, form.query.data or ""
        )
    except Invalid as error:
        return _view_form_again(form, error, "save")
    flash(_("View “%(name)s” saved.", name=view.name))
    return _view_response(view)


@bp.post("/deals/views/<id:view_id>")
def update_view(view_id):
    form = UpdateViewForm()
    try:
        view = saved_views.update_query(signed_in_user(), view_id, form.query.data or "")
    except NotFound:
        abort(404)
    except Forbidden as error:
        return _refused(error)
    except Invalid as error:
        flash(error.message)
        return redirect(url_for("deals.index", view=view_id), code=303)
    flash(_("View “%(name)s” updated.", name=view.name))
    return _view_response(view)


@bp.post("/deals/views/<id:view_id>/rename")
def rename_view(view_id):
    form = RenameViewForm()
    try:
        view = saved_views.rename(signed_in_user(), view_id, form.name.data, form.new_visibility())
    except NotFound:
        abort(404)
    except Forbidden as error:
        return _refused(error)
    except Invalid as error:
        return _view_form_again(form, error, "rename", str(view_id))
    flash(_("View renamed to “%(name)s”.", name=view.name))
    return _view_response(view)


@bp.post("/deals/views/<id:view_id>/delete")
def delete_view(view_id):
    try:
        name = saved_views.delete(signed_in_user(), view_id)
    except NotFound:
        abort(404)
    except Forbidden as error:
        return _refused(error)
    flash(_("View “%(name)s” deleted.", name=name))
    return redirect(url_for("deals.index"), code=303)
