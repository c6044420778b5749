"""The deals index's state: what it shows, written as its canonical query string.

`parsing` reads a query string into this state; `IndexState.query` writes it
back, defaults left out, so one state has one address.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import cached_property
from urllib.parse import urlencode

from services.deal_index.columns import DEFAULT_COLUMNS, DEFAULT_DESCENDING, DEFAULT_SORT
from services.deal_index.conditions import Condition

LAYOUTS = ("table", "board")


@dataclass(frozen=True)
class IndexState:
    """Everything the deals index shows, as parsed from (and written to) its query string."""

    conditions: tuple[Condition, ...] = ()
    search: str = ""
    sort: str = DEFAULT_SORT
    descending: bool = DEFAULT_DESCENDING
    columns: tuple[str, ...] = DEFAULT_COLUMNS
    page: int = 1
    view: str = ""
    layout: str = "table"  # "table" or "board" (LAYOUTS)
    pipeline: int | None = None  # the board's pipeline; None: the account's first

    @property
    def board(self) -> bool:
        return self.layout == "board"

    @property
    def sort_param(self) -> str:
        return ("-" if self.descending else "") + self.sort

    def params(self, *, page: bool = True, view: bool = True) -> list[tuple[str, str]]:
        """The canonical query parameters; defaults are left out."""
        out: list[tuple[str, str]] = []
        if view and self.view:
            out.append(("view", self.view))
        if self.search:
            out.append(("q", self.search))
        out += [("f", c.param) for c in self.conditions]
        if (self.sort, self.descending) != (DEFAULT_SORT, DEFAULT_DESCENDING):
            out.append(("sort", self.sort_param))
        if self.columns != DEFAULT_COLUMNS:
            out.append(("cols", ",".join(self.columns)))
        if self.board:
            out.append(("layout", self.layout))
            if self.pipeline is not None:
                out.append(("pipeline", str(self.pipeline)))
        elif page and self.page > 1:
            out.append(("page", str(self.page)))  # the board has no pages
        return out

    def query(self, *, page: bool = True, view: bool = True) -> str:
        """The canonical query string (no leading "?")."""
        written = self._written.get((page, view))
        if written is None:
            # ":" and "," stay readable: f=active_registrations:gt:0, f=stage:any_of:3,5
            written = urlencode(self.params(page=page, view=view), safe=":,")
            self._written[page, view] = written
        return written

    @cached_property
    def _written(self) -> dict[tuple[bool, bool], str]:
        """`query`'s strings, written once: a board page links its state ~20 times."""
        return {}

    def saved_query(self) -> str:
        """What a saved view keeps: filters, search, sort, columns, layout and pipeline."""
        return self.query(page=False, view=False)

    def layout_query(self, layout: str) -> str:
        """The query string of this state shown as `layout` ("table" or "board"), first page."""
        return replace(self, layout=layout, page=1).query()

    def toggled_sort(self, column: str) -> str:
        """The `sort` a click on `column`'s header asks for: reversed if already sorted by it."""
        if column == self.sort:
            return ("" if self.descending else "-") + column
        return column


@dataclass
class Draft:
    """The condition being built in the filter bar, kept to show again with its error."""

    property_key: str = ""
    operator_key: str = ""
    values: list[str] = field(default_factory=list)

    @property
    def value_text(self) -> str:
        return ", ".join(self.values)


@dataclass
class Parsed:
    state: IndexState
    errors: list[str] = field(default_factory=list)
    draft: Draft = field(default_factory=Draft)
    applied: bool = False  # the filter bar's condition was added
    from_form: bool = False  # the request came from the filter form, not a canonical link

    @property
    def needs_redirect(self) -> bool:
        """A plain form submission that went well: show it at its canonical address."""
        return self.from_form and not self.errors
