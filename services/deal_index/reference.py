"""What the deals index page needs besides its rows, in one statement.

The filter choices of the user's account, the view tabs (built-in and saved)
and the top bar's unread count come back together from `index_reference`.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import sqlalchemy as sa

from catalog import lazy_gettext as _l
from extensions import db
from models import User
from services import notifications, search
from services.deal_index.choices import (
    Choice,
    ChoiceOptions,
    by_name,
    choice_options_select,
    other_side_choices,
)
from services.deal_index.registry import CHOICE_PROPERTIES
from services.saved_view_queries import visible_views_select


@dataclass(frozen=True)
class ViewTab:
    key: str  # "all", "mine", "registered" (the built-in views), or a saved view's id
    name: str
    query: str  # the view's saved query string
    owner_id: int | None = None  # None for the built-in views
    visibility: str = ""

    @property
    def built_in(self) -> bool:
        return self.owner_id is None

    def href_query(self) -> str:
        """The query string of the tab's link: the view's state, marked with its key."""
        parts = [f"view={self.key}"] if self.key != "all" else []
        if self.query:
            parts.append(self.query)
        return "&".join(parts)


# Every account's first tabs: index states written as query strings.
BUILT_IN_TABS = (
    ViewTab("all", _l("All deals"), ""),
    ViewTab("mine", _l("My deals"), "f=owner:is_me:"),
    ViewTab("registered", _l("Registered deals"), "f=active_registrations:gt:0"),
)
# The vendor's reps also have the partners' open requests to decide on.
VENDOR_TABS = (ViewTab("requests", _l("Registration requests"), "f=open_requests:gt:0"),)


@dataclass
class IndexReference:
    """What the index page needs besides its rows: filter choices, view tabs, the bell."""

    choices: ChoiceOptions
    views: list[ViewTab] = field(default_factory=list)
    unread_notifications: int = 0

    def view(self, key: str) -> ViewTab | None:
        return next((v for v in self.views if v.key == key), None)


@functools.cache
def _reference_statement(account_kind: str, probe: bool = False) -> sa.Select:
    """The reference statement for accounts of one kind, built once (bind parameters).

    Building and cache-keying a statement this size costs more than running it.
    With `probe`, it also brings the search term's bounded FTS match count and the
    deals' estimate (`search.bounded_matches`), from which its route is chosen.
    """
    account_id = sa.bindparam("account_id", type_=sa.Integer)
    user_id = sa.bindparam("user_id", type_=sa.Integer)
    null_int, null_text = sa.cast(sa.null(), sa.Integer), sa.cast(sa.null(), sa.Text)
    choice_rows = [
        select.add_columns(
            null_int.label("owner_id"), null_text.label("visibility"), null_text.label("query")
        )
        for select in choice_options_select(account_kind, account_id)
    ]
    views = visible_views_select(account_id, user_id).subquery("views")
    view_rows = sa.select(
        sa.literal("view", sa.Text).label("kind"),
        views.c.id,
        sa.cast(views.c.name, sa.Text).label("label"),
        null_text.label("grouping"),
        sa.case((views.c.owner_id == user_id, 0), else_=1).label("sort1"),
        sa.cast(0, sa.Integer).label("sort2"),
        views.c.owner_id,
        sa.cast(views.c.visibility, sa.Text).label("visibility"),
        views.c.query,
    )
    # The top bar's unread count rides along, so the page stays at three statements.
    unread_row = sa.select(
        sa.literal("unread", sa.Text).label("kind"),
        notifications.bell_count(user_id).label("id"),
        *(null_text.label(name) for name in ("label", "grouping")),
        *(null_int.label(name) for name in ("sort1", "sort2", "owner_id")),
        *(null_text.label(name) for name in ("visibility", "query")),
    )
    rows = [*choice_rows, view_rows, unread_row]
    if probe:
        rows.append(
            sa.select(
                sa.literal("search_matches", sa.Text).label("kind"),
                search.bounded_matches(sa.bindparam("phrase", type_=sa.Text)).label("id"),
                *(null_text.label(name) for name in ("label", "grouping")),
                search.deals_estimate().label("sort1"),
                *(null_int.label(name) for name in ("sort2", "owner_id")),
                *(null_text.label(name) for name in ("visibility", "query")),
            )
        )
    # Unordered: `index_reference` sorts the rows, by name the same on every database
    # (PostgreSQL's strcoll sort was most of this statement's time for 1,000 partners).
    return sa.select(sa.union_all(*rows).subquery("reference"))


def _order(row) -> tuple:
    """Where a choice or a view comes in its list: by its positions, then its label
    (`by_name`) and its id. Read by position (kind, id, label, grouping, sort1, sort2…):
    a Row's names cost more."""
    return (row[4] or 0, row[5] or 0, *by_name(row[2] or ""), row[1] or 0)


def index_reference(user: User, search_term: str = "") -> IndexReference:
    """The filter choices of the user's account, the view tabs and the bell, in one statement.

    `search_term` (the index's search, as parsed): if its route is not chosen yet, the
    same statement counts its matches and `search.remember_matches` chooses it.
    """
    probe = search.needs_probe(search_term)
    params = {"account_id": user.account_id, "user_id": user.id}
    if probe:
        params["phrase"] = search.probe_phrase(search_term)
    rows = db.session.connection().execute(_reference_statement(user.account.kind, probe), params)
    choices = ChoiceOptions({key: [] for key in CHOICE_PROPERTIES})
    tabs = list(BUILT_IN_TABS) + (list(VENDOR_TABS) if user.account.kind == "vendor" else [])
    unread = 0
    # Unpacked by position: a Row's attribute names cost more than the rest of the loop.
    for kind, id_, label, grouping, sort1, _, owner_id, visibility, query in sorted(
        rows, key=_order
    ):
        if kind == "unread":
            unread = id_
        elif kind == "search_matches":
            search.remember_matches(search_term, id_, sort1 or 0)
        elif kind == "view":
            tabs.append(ViewTab(str(id_), label, query, owner_id, visibility))
        else:
            choices.by_property[kind].append(Choice(id_, label, grouping or ""))
    # A vendor's many partners: read them all only if this request asks (a partner filter).
    choices.load_when_asked("shared_with", functools.partial(other_side_choices, user.account.kind))
    return IndexReference(choices, tabs, unread)
