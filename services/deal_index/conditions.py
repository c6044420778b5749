"""One applied filter, `Condition`: its `f` parameter, its words, and its SQL on Deal.

A condition is made by `parsing.parse_condition`, which also writes the text of
its values; the SQL of each property type is built here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

import sqlalchemy as sa
from sqlalchemy.sql import operators

from catalog import gettext as _
from extensions import db, on_sqlite
from models import Deal
from services import board_counts, search
from services.deal_index.choices import ChoiceOptions
from services.deal_index.registry import (
    ANY_OF,
    BEFORE,
    BETWEEN,
    BY_PRIMARY_KEY,
    CONTAINS,
    EQUALS,
    GREATER,
    IS,
    IS_EMPTY,
    IS_ME,
    IS_NOT_EMPTY,
    KNOWN,
    LAST_DAYS,
    NEXT_DAYS,
    UNKNOWN,
    Operator,
    Property,
    Scope,
)

# How the `f` parameter joins the texts of an operator's values.
_JOINERS = {"range": "..", "many": ","}


@dataclass(frozen=True)
class Condition:
    """One applied filter: a property, an operator and its parsed value(s).

    `texts` are the values as the query string writes them (1500.5), `shown` as
    a chip shows them (1,500.50).
    """

    prop: Property
    op: Operator
    values: tuple = ()
    texts: tuple[str, ...] = field(default=(), compare=False, repr=False)
    shown: tuple[str, ...] = field(default=(), compare=False, repr=False)

    @property
    def param(self) -> str:
        """The condition as its `f` parameter: `<property>:<operator>:<value>`.

        An operator without a value has an empty one: `owner:is_me:`.
        """
        value = _JOINERS.get(self.op.takes, "").join(self.texts)
        return f"{self.prop.key}:{self.op.key}:{value}"

    def describe(self, choices: ChoiceOptions | None = None) -> str:
        """Words for the chip: "Amount is between 1,000 and 5,000"."""
        start = _("%(property)s %(operator)s", property=self.prop.label, operator=self.op.label)
        if self.op.takes == "none":
            return start
        if self.op.takes == "days":
            words = (
                _("%(property)s is in the last %(num)s days")
                if self.op.key == "last_days"
                else _("%(property)s is in the next %(num)s days")
            )
            return words % {"property": self.prop.label, "num": self.values[0]}
        if self.op.takes == "many":
            names = (choices or ChoiceOptions()).labels(self.prop.key, self.values)
            return f"{start} {', '.join(names)}"
        if self.op.takes == "range":
            return _(
                "%(condition)s %(low)s and %(high)s",
                condition=start,
                low=self.shown[0],
                high=self.shown[1],
            )
        if self.prop.type == "text":
            return _("%(condition)s “%(value)s”", condition=start, value=self.shown[0])
        return f"{start} {self.shown[0]}"

    def where(self, scope: Scope, sort: str = "") -> sa.ColumnElement:
        """The SQL condition on Deal, for a list sorted by column `sort`."""
        builder = _CONDITION_BUILDERS[self.prop.type]
        return builder(self, scope, sort)

    def sqlite_hint(self, scope: Scope) -> str | None:
        """How SQLite must read the matches, when its planner would not choose it.

        With statistics sampled by `ANALYZE` under `analysis_limit`, or none at all,
        SQLite's planner would rather walk the sort's index through every deal of the
        account, testing each against the condition. So a condition only a registered
        deal (a deal with an open request) can meet reads those few deals (the
        property's nonzero_hint: the registered deals' partial index, the open
        requests' one); "shared with any of" reads the shared deals' index (the
        property's any_of_hint); a text filter that starts from its FTS matches reads
        them by primary key.
        """
        if self.prop.nonzero_hint and _needs_nonzero(self):
            return self.prop.nonzero_hint
        if (
            self.prop.type == "text"
            and self.op in (CONTAINS, IS)
            and search.filter_starts_from_matches(
                self.values[0], self.prop.expression(scope), whole=self.op is IS
            )
        ):
            return BY_PRIMARY_KEY  # a rare text: its FTS matches, as the search's (search.py)
        if self.op is ANY_OF:
            return self.prop.any_of_hint
        return None


def _text_condition(c: Condition, scope: Scope, _sort: str = ""):
    column = c.prop.expression(scope)
    if c.op is IS_EMPTY:
        return sa.or_(column.is_(None), column == "")
    if c.op is IS_NOT_EMPTY:
        return sa.and_(column.is_not(None), column != "")
    if c.op in (CONTAINS, IS):
        # The search's LIKE and its routes on SQLite (FTS matches for a rare term).
        return search.filter_matching(c.values[0], column, whole=c.op is IS)
    # "does not contain" matches most deals: the sort's index with the LIKE stops early,
    # and the FTS matches (a superset) could not say which deals to leave out.
    contains = search.ilike(column, f"%{search.escape_like(c.values[0])}%")
    return sa.not_(sa.func.coalesce(contains, False))


def _number_condition(c: Condition, scope: Scope, sort: str = ""):
    expression = c.prop.expression(scope)
    if c.op is KNOWN:
        return expression.is_not(None)
    if c.op is UNKNOWN:
        return expression.is_(None)
    if c.op is BETWEEN:
        if sort != c.prop.key and on_sqlite() and not _few_in_range(c, scope):
            # As for a wide date range: SQLite takes any two-sided range for a narrow
            # one, reads it all off the amount's index and sorts it ("between 100,000
            # and 700,000" at 100,000 deals: 155 ms for the table, 1 s for the board's
            # columns). Behind a unary plus the sort's index drives, stopping at the cap.
            expression = _no_index(expression)
        condition = expression.between(*c.values)
    else:
        compare = {"eq": expression.__eq__, "gt": expression.__gt__, "lt": expression.__lt__}
        condition = compare[c.op.key](c.values[0])
    if c.prop.nonzero_where is not None and _needs_nonzero(c):
        # Only deals with an active registration (an open request) can match: let the
        # database start from those few instead of counting for every deal of the account.
        nonzero = c.prop.nonzero_where(scope)
        if c.op is GREATER and c.values[0] == 0:
            return nonzero  # "Registered deals", "Registration requests": the set is the answer
        condition = sa.and_(nonzero, condition)
    return condition


# Reading m deals off an index and sorting them costs about 17 index entries walked
# per deal, squared in m: the walk reads (COUNT_CAP + 1) * deals / m entries to fill
# a page, each tested against the condition (measured with one partner's 1,000 deals
# among 1,000,000 read by key: 12.8 ms, the walk 221 ms). So the index wins while
# m * m < KEY_VS_WALK * deals; past KEY_CAP the walk is kept without counting further.
KEY_VS_WALK = 17
KEY_CAP = 5_000


def _few(matches: int, deals: int | None) -> bool:
    """Whether reading `matches` deals and sorting them beats walking the sort's index."""
    return matches < KEY_CAP and matches * matches < KEY_VS_WALK * (deals or 0)


def _few_in_range(c: Condition, scope: Scope) -> bool:
    """Whether an amount range holds few enough deals to read them off the amount's index.

    From the board's counts per amount band (`board_counts.deals_in_range`), when the
    statement is built (the index keeps it per filter state: `query.statement`); any
    other number range: no.
    """
    kept = board_counts.AmountRange.of(c)
    if kept is None:
        return False
    estimate = board_counts.deals_in_range(scope.account_id, kept)
    return _few(*db.session.execute(sa.select(estimate, search.deals_estimate())).one())


def _needs_nonzero(c: Condition) -> bool:
    low = c.values[0]
    return (c.op is GREATER and low >= 0) or (c.op in (EQUALS, BETWEEN) and low >= 1)


# From this many days on, a date range holds enough deals that reading them off the
# sort's index (stopping at COUNT_CAP + 1) beats reading the range and sorting it all.
WIDE_DATE_RANGE_DAYS = 14


def _date_condition(c: Condition, scope: Scope, sort: str = ""):
    column = c.prop.expression(scope)
    if c.op is LAST_DAYS:
        first, last = scope.today - timedelta(days=c.values[0]), scope.today
    elif c.op is NEXT_DAYS:
        first, last = scope.today, scope.today + timedelta(days=c.values[0])
    elif c.op is BETWEEN:
        first, last = c.values
    elif c.op is BEFORE:
        first, last = None, c.values[0] - timedelta(days=1)
    else:  # AFTER
        first, last = c.values[0] + timedelta(days=1), None
    wide = first is None or last is None or (last - first).days + 1 >= WIDE_DATE_RANGE_DAYS
    if wide and sort != c.prop.key and on_sqlite():
        # SQLite would read the whole range off the date's index and sort it (without
        # sqlite_stat4 it cannot tell a wide range from a narrow one): 75,000 deals for
        # "close date in the next 30 days" at 1,000,000. Behind a unary plus the column
        # is no index's, so the sort's index drives, stopping at the page's cap.
        column = _no_index(column)
    conditions = []
    if c.prop.is_datetime:
        # A timestamp is on day d when d 00:00 <= t < (d + 1) 00:00.
        if first is not None:
            conditions.append(column >= datetime.combine(first, time.min))
        if last is not None:
            conditions.append(column < datetime.combine(last + timedelta(days=1), time.min))
    else:
        if first is not None:
            conditions.append(column >= first)
        if last is not None:
            conditions.append(column <= last)
    return sa.and_(*conditions)


def _no_index(column):
    """`+column`: the same value, which SQLite will not look up in an index."""
    return sa.UnaryExpression(column, operator=operators.custom_op("+"), type_=column.type)


def _choice_condition(c: Condition, scope: Scope, _sort: str = ""):
    if c.op is IS_ME:
        return Deal.owner_id == scope.user_id
    matches = c.prop.any_of(scope, c.values)
    # A deal without a value is none of them: its IN is NULL, which NOT leaves NULL.
    return matches if c.op is ANY_OF else sa.not_(sa.func.coalesce(matches, False))


_CONDITION_BUILDERS = {
    "text": _text_condition,
    "number": _number_condition,
    "date": _date_condition,
    "choice": _choice_condition,
}
