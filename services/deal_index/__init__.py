"""The deals index: what can be filtered, sorted and shown, its state, and its SQL.

Everything a user can filter or sort by is named in one allow-list (`registry`,
`columns`). The parser looks names up in it and refuses anything else with a
message fit to show; it never turns user input into an attribute or a column name.

The query string is the state. One condition is one `f` parameter,
`<property>:<operator>:<value>`, for example `f=amount:between:1000..5000` (the
value is empty for operators that take none, `f=owner:is_me:`);
`q` is the search, `sort` the sort key (`-` in front for descending), `cols`
the shown columns, `page` the page and `view` the current view tab.

A page costs a constant number of statements: `index_reference` (choices, view
tabs, unread count) and `index_page` (rows, capped count, amount total);
the board (`board`) costs two: its columns' counts and totals, and their cards.
Building a statement may first count a filter's matches, once per filter (an
amount range's, a text filter's route: `search.filter_matching`).
A vendor with more than `choices.SUGGESTED_MAX` partners reads their names only on
the pages that ask for them (a "Shared with" filter or its menu): one statement more.
"""

from services.deal_index.board import (
    CARDS_PER_COLUMN,
    Board,
    BoardCard,
    BoardColumn,
    board,
    board_stages,
    card,
    more_cards,
    moved_card,
    stage_totals,
)
from services.deal_index.choices import ChoiceOptions
from services.deal_index.columns import COLUMNS
from services.deal_index.page import IndexPage, export_select, index_page
from services.deal_index.parsing import parse, parse_condition, parse_query, parse_search
from services.deal_index.reference import IndexReference, ViewTab, index_reference
from services.deal_index.registry import (
    COUNT_CAP,
    OPERATORS_BY_TYPE,
    PROPERTIES,
    TYPE_LABELS,
    FilterError,
    Scope,
)
from services.deal_index.state import Draft, IndexState, Parsed

__all__ = [
    "CARDS_PER_COLUMN",
    "Board",
    "BoardCard",
    "BoardColumn",
    "COLUMNS",
    "COUNT_CAP",
    "OPERATORS_BY_TYPE",
    "PROPERTIES",
    "TYPE_LABELS",
    "ChoiceOptions",
    "Draft",
    "FilterError",
    "IndexPage",
    "IndexReference",
    "IndexState",
    "Parsed",
    "Scope",
    "ViewTab",
    "board",
    "board_stages",
    "card",
    "export_select",
    "index_page",
    "index_reference",
    "more_cards",
    "moved_card",
    "parse",
    "parse_condition",
    "parse_query",
    "parse_search",
    "stage_totals",
]
