"""Saved views of the deals index: named filters owned by a user.

A view is visible to its owner, and to everyone in the owner's account when
its visibility is "account" (that rule in SQL: services/saved_view_queries.py).
Only the owner renames, updates or deletes it.
A view that is not visible to the caller does not exist for them (NotFound).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from flask_babel import force_locale

from catalog import gettext as _
from catalog import lazy_gettext as _l
from extensions import db
from i18n import LANGUAGES
from models import VIEW_VISIBILITIES, SavedView, User
from services.changes import lock_row, writing
from services.deal_index import parse_query
from services.deal_index.reference import BUILT_IN_TABS, VENDOR_TABS
from services.errors import Forbidden, Invalid, NotFound
from services.saved_view_queries import visible_condition

MAX_NAME = 80
UNIQUE_NAME_INDEX = "uq_saved_views_owner_name"  # models.SavedView
MAX_QUERY = 2000
VISIBILITY_LABELS = {"private": _l("Only me"), "account": _l("Everyone in my account")}


def get_visible(user: User, view_id: int) -> SavedView:
    """The view if `user` may see it; NotFound otherwise (as if it did not exist)."""
    view = db.session.scalar(
        sa.select(SavedView).where(
            SavedView.id == view_id, visible_condition(user.account_id, user.id)
        )
    )
    if view is None:
        raise NotFound(f"No view {view_id}.")
    return view


def _get_own(user: User, view_id: int) -> SavedView:
    """The owner's view, read under its write lock (call it inside `writing()`): a view
    deleted meanwhile is NotFound, not a change that matches no row."""
    view = lock_row(SavedView, view_id, visible_condition(user.account_id, user.id))
    if view is None:
        raise NotFound(f"No view {view_id}.")
    if view.owner_id != user.id:
        raise Forbidden(_("Only the view's owner can change it. Use “Save as new” instead."))
    return view


def normalize_query(query: str) -> str:
    """The canonical form of an index query string: filters, search, sort, columns.

    Invalid conditions are dropped, page and view are left out.
    """
    if len(query or "") > MAX_QUERY:
        raise Invalid(_("These filters are too long to save."), field="query")
    return parse_query(query).state.saved_query()


def _duplicate_name(name: str) -> Invalid:
    return Invalid(_("You already have a view named “%(name)s”.", name=name), field="name")


def _name_is_taken(user: User, name: str, except_id: int | None) -> bool:
    return (
        db.session.scalar(
            sa.select(SavedView.id).where(
                SavedView.owner_id == user.id,
                sa.func.lower(SavedView.name) == name.lower(),
                SavedView.id != (except_id or 0),
            )
        )
        is not None
    )


def _clean_name(user: User, name: str, *, except_id: int | None = None) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise Invalid(_("Enter a name for the view."), field="name")
    if len(name) > MAX_NAME:
        raise Invalid(_("A view name is at most %(num)s characters.", num=MAX_NAME), field="name")
    built_in = _built_in_name(name)
    if built_in:
        raise Invalid(
            _("“%(name)s” is a built-in view. Choose another name.", name=built_in), field="name"
        )
    if _name_is_taken(user, name, except_id):
        raise _duplicate_name(name)
    return name


def _folded(name: str) -> str:
    return unicodedata.normalize("NFKC", name).casefold()


def _built_in_name(name: str) -> str | None:
    """The built-in view `name` would repeat, as written in the language it matched.

    Every built-in view (the vendor's "Registration requests" too) in every language
    the UI speaks: a view keeps its name when its owner or a colleague switches.
    """
    folded = _folded(name)
    for language in LANGUAGES:
        with force_locale(language):
            for tab in (*BUILT_IN_TABS, *VENDOR_TABS):
                if _folded(str(tab.name)) == folded:
                    return str(tab.name)
    return None


@contextmanager
def _named(name: str) -> Iterator[None]:
    """Around a write: the unique index on (owner, lower(name)) refusing it means a
    same-named view was saved in the meantime (two "Save view" at once): the pre-check's
    message."""
    try:
        yield
    except sa.exc.IntegrityError as error:
        if UNIQUE_NAME_INDEX not in str(error.orig):
            raise
        raise _duplicate_name(name) from error


def _keep_as_saved(view: SavedView) -> None:
    """Inside the write: write `view` now and take it out of the session, so that the
    commit does not expire it (see `_as_saved`)."""
    db.session.flush()
    db.session.expunge(view)


def _as_saved(view: SavedView) -> SavedView:
    """After the commit: `view` back in the session as the write left it. Its fields stay
    readable without a reload, even when another tab deletes the view right after."""
    db.session.add(view)
    return view


def _clean_visibility(visibility: str) -> str:
    if visibility not in VIEW_VISIBILITIES:
        raise Invalid(_("Choose who can see the view."), field="visibility")
    return visibility


def create(user: User, name: str, visibility: str, query: str) -> SavedView:
    """Save the index's current `query` as a new view of `user`. Commits."""
    view = SavedView(
        account_id=user.account_id,
        owner_id=user.id,
        name=_clean_name(user, name),
        visibility=_clean_visibility(visibility),
        query=normalize_query(query),
    )
    with _named(view.name), writing():
        db.session.add(view)
        _keep_as_saved(view)
    return _as_saved(view)


def update_query(user: User, view_id: int, query: str) -> SavedView:
    """Save changes: the owner's view now keeps `query`. Commits."""
    query = normalize_query(query)
    with writing():
        view = _get_own(user, view_id)
        view.query = query
        _keep_as_saved(view)
    return _as_saved(view)


def rename(user: User, view_id: int, name: str, visibility: str | None = None) -> SavedView:
    """Rename the owner's view (and change who sees it, when given). Commits."""
    visibility = _clean_visibility(visibility) if visibility else None
    with _named(" ".join((name or "").split())), writing():
        view = _get_own(user, view_id)
        view.name = _clean_name(user, name, except_id=view.id)
        if visibility:
            view.visibility = visibility
        _keep_as_saved(view)
    return _as_saved(view)


def delete(user: User, view_id: int) -> str:
    """Delete the owner's view; returns its name. Commits."""
    with writing():
        view = _get_own(user, view_id)
        name = view.name
        db.session.delete(view)
    return name
