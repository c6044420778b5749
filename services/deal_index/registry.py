"""What the deals index can filter by: its scope, limits, operators and properties.

The allow-list: the parser looks a property and its operator up here and
refuses anything else; each property names the SQL expression it compares.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa

from catalog import gettext as _
from catalog import lazy_gettext as _l
from models import Account, Deal, ProductInterest, SharedDeal, User
from services import registration_queries

PAGE_SIZE = 25
# Past this many matches the index says "1,000+": it never counts a large set exactly.
COUNT_CAP = 1000
LAST_PAGE = COUNT_CAP // PAGE_SIZE


@dataclass(frozen=True)
class Scope:
    """Whose deals, seen by whom, on which day: every condition is built for one scope."""

    account_id: int
    account_kind: str
    user_id: int
    today: date

    @classmethod
    def of(cls, user: User, today: date) -> Scope:
        return cls(user.account_id, user.account.kind, user.id, today)

    def registered_deal_ids(self) -> sa.Select:
        """SELECT of the scope's deal ids with a registration active today."""
        return registration_queries.registered_deal_ids(self.account_id, self.today)

    def has_active_registration(self) -> sa.ColumnElement:
        """A condition on Deal: at least one registration active today."""
        return registration_queries.has_active_registration(self.today)

    def has_open_request(self) -> sa.ColumnElement:
        """A condition on Deal: its shared deal has an open registration request."""
        return registration_queries.has_open_request()

    def active_registrations(self) -> sa.ColumnElement:
        """A deal's number of registrations active today (a correlated subquery)."""
        return registration_queries.active_count_for_deal(self.today)


class FilterError(ValueError):
    """A condition the registry refuses; the message is fit to show the user."""


def not_a_choice(prop: Property, token: str) -> FilterError:
    """The refusal of a choice value that names none of the property's choices."""
    return FilterError(
        _(
            "%(property)s: “%(value)s” is not one of the choices.",
            property=prop.label,
            value=token[:40],
        )
    )


# ---------------------------------------------------------------- operators


@dataclass(frozen=True)
class Operator:
    key: str
    label: str
    # What the operator takes: "none", "one", "range" (two values), "days" or "many".
    takes: str


CONTAINS = Operator("contains", _l("contains"), "one")
NOT_CONTAINS = Operator("not_contains", _l("does not contain"), "one")
IS = Operator("is", _l("is"), "one")
IS_EMPTY = Operator("is_empty", _l("is empty"), "none")
IS_NOT_EMPTY = Operator("is_not_empty", _l("is not empty"), "none")
EQUALS = Operator("eq", _l("is equal to"), "one")
GREATER = Operator("gt", _l("is greater than"), "one")
LESS = Operator("lt", _l("is less than"), "one")
BETWEEN = Operator("between", _l("is between"), "range")
KNOWN = Operator("known", _l("is known"), "none")
UNKNOWN = Operator("unknown", _l("is unknown"), "none")
BEFORE = Operator("before", _l("is before"), "one")
AFTER = Operator("after", _l("is after"), "one")
LAST_DAYS = Operator("last_days", _l("is in the last N days"), "days")
NEXT_DAYS = Operator("next_days", _l("is in the next N days"), "days")
ANY_OF = Operator("any_of", _l("is any of"), "many")
NONE_OF = Operator("none_of", _l("is none of"), "many")
IS_ME = Operator("is_me", _l("is me"), "none")

OPERATORS_BY_TYPE = {
    "text": (CONTAINS, NOT_CONTAINS, IS, IS_EMPTY, IS_NOT_EMPTY),
    "number": (EQUALS, GREATER, LESS, BETWEEN, KNOWN, UNKNOWN),
    "date": (BEFORE, AFTER, BETWEEN, LAST_DAYS, NEXT_DAYS),
    "choice": (ANY_OF, NONE_OF),
}
_BLANK_TESTS = (KNOWN, UNKNOWN, IS_EMPTY, IS_NOT_EMPTY)
TYPE_LABELS = {
    "text": _l("Text"),
    "number": _l("Number"),
    "date": _l("Date"),
    "choice": _l("Choice"),
}


# ---------------------------------------------------------------- properties


# SQLite's table hint to read a condition's few deals by primary key, from the ids
# its subquery lists, rather than walk the sort's index through every deal of the
# account testing each against them ("Registration requests": 2,500 open requests
# among a vendor's 1,000,000 deals, 152 -> 26 ms for the statement).
BY_PRIMARY_KEY = "NOT INDEXED"


@dataclass(frozen=True)
class Property:
    key: str
    label: str
    type: str  # "text", "number", "date" or "choice"
    # text, number, date: the SQL expression compared. choice: "is any of" ids.
    expression: Callable[[Scope], sa.ColumnElement] | None = None
    any_of: Callable[[Scope, tuple[int, ...]], sa.ColumnElement] | None = None
    # choice: the table hint that makes SQLite read "is any of" off the index of the
    # few deals that can meet it, when its planner would walk the sort's index instead.
    any_of_hint: str | None = None
    extra_operators: tuple[Operator, ...] = ()
    whole_numbers: bool = False  # a count: values are whole numbers
    is_datetime: bool = False  # a timestamp compared with calendar days
    # Every deal has a value (a name, a count that is 0 at least): "is known",
    # "is empty" and their opposites would match all deals or none, so none is offered.
    always_valued: bool = False
    # A count that is 0 but for a few deals: a condition on Deal only those few meet
    # (filters start there) and how SQLite must be told to read that condition's deals,
    # if at all: a table hint, "INDEXED BY <index>" or BY_PRIMARY_KEY. (The sort starts
    # from those few deals' ids: the column's `nonzero_ids`, columns.py.)
    nonzero_where: Callable[[Scope], sa.ColumnElement] | None = None
    nonzero_hint: str | None = None

    @property
    def operators(self) -> tuple[Operator, ...]:
        offered = OPERATORS_BY_TYPE[self.type] + self.extra_operators
        if self.always_valued:
            offered = tuple(op for op in offered if op not in _BLANK_TESTS)
        return offered

    def operator(self, key: str) -> Operator | None:
        return next((op for op in self.operators if op.key == key), None)


def _shared_deal_of(scope: Scope):
    """The shared-deal column that points at a deal of this scope's side."""
    return (
        SharedDeal.vendor_deal_id if scope.account_kind == "vendor" else SharedDeal.partner_deal_id
    )


def _in_column(column) -> Callable[[Scope, tuple[int, ...]], sa.ColumnElement]:
    # NULL for a deal without a value ("none of" counts it: `conditions._choice_condition`).
    # A bare IN: SQLite reads `x IN (v)` as `x = v` on an index, but with `x IS NOT NULL`
    # beside it takes the range `x > NULL` and sorts what it read.
    return lambda scope, ids: column.in_(ids)


def _with_products(scope: Scope, ids: tuple[int, ...]):
    return sa.exists(
        sa.select(1)
        .select_from(ProductInterest)
        .join(SharedDeal, SharedDeal.id == ProductInterest.shared_deal_id)
        .where(_shared_deal_of(scope) == Deal.id, ProductInterest.product_id.in_(ids))
    )


# "Shared with": the shared deals by the other party (migration 0020).
SHARED_WITH_INDEX = "ix_deals_account_shared_with"


def shared_with_name() -> sa.ColumnElement:
    """The name of the party a deal is shared with; NULL for an unshared deal.

    A correlated subquery, one account by key: cheap for the rows of a page, never
    evaluated over the whole account. (The same on either side: the deal holds the
    other party's account.)
    """
    return (
        sa.select(Account.name).where(Account.id == Deal.shared_with_account_id).scalar_subquery()
    )


PROPERTIES: dict[str, Property] = {
    p.key: p
    for p in (
        Property(
            "name", _l("Deal name"), "text", expression=lambda s: Deal.name, always_valued=True
        ),
        Property("company", _l("Company"), "text", expression=lambda s: Deal.company_name),
        Property("amount", _l("Amount"), "number", expression=lambda s: Deal.amount),
        Property(
            "active_registrations",
            _l("Number of active deal registrations"),
            "number",
            expression=Scope.active_registrations,
            whole_numbers=True,
            always_valued=True,
            nonzero_where=Scope.has_active_registration,
            nonzero_hint=f"INDEXED BY {registration_queries.REGISTERED_INDEX}",
        ),
        Property(
            "open_requests",
            _l("Open registration requests"),
            "number",
            expression=lambda s: registration_queries.open_request_count(),
            whole_numbers=True,
            always_valued=True,
            nonzero_where=Scope.has_open_request,
            nonzero_hint=f"INDEXED BY {registration_queries.OPEN_REQUEST_INDEX}",
        ),
        Property("close_date", _l("Close date"), "date", expression=lambda s: Deal.close_date),
        Property(
            "created_at",
            _l("Create date"),
            "date",
            expression=lambda s: Deal.created_at,
            is_datetime=True,
        ),
        Property("stage", _l("Deal stage"), "choice", any_of=_in_column(Deal.stage_id)),
        Property("pipeline", _l("Pipeline"), "choice", any_of=_in_column(Deal.pipeline_id)),
        Property(
            "owner",
            _l("Deal owner"),
            "choice",
            any_of=_in_column(Deal.owner_id),
            extra_operators=(IS_ME,),
        ),
        Property("product_interest", _l("Product interest"), "choice", any_of=_with_products),
        Property(
            "shared_with",
            _l("Shared with"),
            "choice",
            # A vendor's partner holds a few of its deals: read them off their own
            # index, not the sort's walk through every deal of the vendor.
            any_of=_in_column(Deal.shared_with_account_id),
            any_of_hint=f"INDEXED BY {SHARED_WITH_INDEX}",
        ),
    )
}
CHOICE_PROPERTIES = tuple(key for key, p in PROPERTIES.items() if p.type == "choice")
