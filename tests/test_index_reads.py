"""The index page, read either of its two ways, gives the plain query's answer.

A list read in order off one index (a sort with no blanks, no search, no text filter)
is counted and summed by one read of its first COUNT_CAP + 1 matches and paged by
another (`page._walked_page_statement`); every other list numbers those matches
(`page._numbered_page_statement`). Either way, on
either database, the rows, the count and the total must be the plain query's: every
matching deal (`export_select`, no cap, no page) in the same order, counted up to the
cap + 1, summed over the first cap of them, on any page, past the end too. The cap is
lowered to 50 here, so that the search routes' 120 deals (`many_deals`) cross it.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services import deal_index
from services.deal_index import Scope, page, parse_query
from services.deal_index import query as index_query
from tests.test_search_routes import (  # noqa: F401 (many_deals: a fixture)
    CONDITIONS,
    SIXTY_EXAMPLES,
    TODAY,
    expected_page,
    many_deals,
    plain_matches,
)

CAP = 50  # a multiple of the page size, as COUNT_CAP is
SORTS = (
    "",
    "sort=name",
    "sort=-name",
    "sort=created_at",
    "sort=company",
    "sort=-amount",
    "sort=stage",
)


@SIXTY_EXAMPLES
@given(
    condition=st.sampled_from(CONDITIONS),  # the text ones: numbered
    sort=st.sampled_from(SORTS),
    asked=st.integers(min_value=1, max_value=4),
    walked=st.booleans(),
)
@pytest.mark.usefixtures("many_deals")
def test_either_read_gives_the_plain_querys_rows_count_and_total(
    demo, condition, sort, asked, walked
):
    user = demo.alice
    choices = deal_index.index_reference(user).choices
    query = "&".join(part for part in (condition, sort, f"page={asked}") if part)
    state = parse_query(query, choices).state
    scope = Scope(user.account_id, user.account.kind, user.id, TODAY)
    in_order = page.reads_in_order
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(page, "COUNT_CAP", CAP)
        # the walks where they apply, or the numbering for every list
        patch.setattr(page, "reads_in_order", lambda *state: walked and in_order(*state))
        index_query._statements.clear()
        shown = deal_index.index_page(scope, state, choices)
        index_query._statements.clear()
    found = plain_matches(user, "&".join(part for part in (condition, sort) if part))
    ids, matched, total, page_shown = expected_page(found, asked, cap=CAP)
    assert [row.id for row in shown.rows] == ids
    assert (shown.matched, shown.amount_total, shown.page) == (matched, total, page_shown)


@pytest.mark.parametrize(
    ("query", "in_order"),
    [
        ("", True),
        ("sort=name", True),
        ("f=stage:any_of:Qualified&f=close_date:next_days:30", True),
        ("f=active_registrations:gt:0", True),
        ("sort=-amount", False),  # blanks last: two branches
        ("sort=stage", False),  # a choice's order: a branch per stage
        ("sort=active_registrations", False),  # the few registered deals apart
        ("q=relaunch", False),  # a search tests each deal it reads
        ("f=name:contains:relaunch", False),  # so does a text filter
    ],
)
def test_which_lists_are_read_in_order(demo, query, in_order):
    user = demo.alice
    choices = deal_index.index_reference(user).choices
    state = parse_query(query, choices).state
    scope = Scope(user.account_id, user.account.kind, user.id, TODAY)
    assert page.reads_in_order(scope, state, choices) is in_order
