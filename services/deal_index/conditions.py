"""One applied filter, `Condition`: its `f` parameter, its words, and its SQL on Deal.

A condition is made by `parsing.parse_condition`, which also writes the text of
its values; the SQL of each property type is built here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

import sqlalchemy as sa
from flask_babel import gettext as _

from models import Deal
from services import search
from services.deal_index.choices import ChoiceOptions
from services.deal_index.registry import (
    ANY_OF,
    BEFORE,
    BETWEEN,
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
            return f"{start} “{self.shown[0]}”"
        return f"{start} {self.shown[0]}"

    def where(self, scope: Scope) -> sa.ColumnElement:
        """The SQL condition on Deal."""
        builder = _CONDITION_BUILDERS[self.prop.type]
        return builder(self, scope)


def _text_condition(c: Condition, scope: Scope):
    column = c.prop.expression(scope)
    if c.op is IS_EMPTY:
        return sa.or_(column.is_(None), column == "")
    if c.op is IS_NOT_EMPTY:
        return sa.and_(column.is_not(None), column != "")
    value = search.escape_like(c.values[0])
    if c.op is IS:
        return column.ilike(value, escape="\\")
    contains = column.ilike(f"%{value}%", escape="\\")
    return contains if c.op is CONTAINS else sa.not_(sa.func.coalesce(contains, False))


def _number_condition(c: Condition, scope: Scope):
    expression = c.prop.expression(scope)
    if c.op is KNOWN:
        return expression.is_not(None)
    if c.op is UNKNOWN:
        return expression.is_(None)
    if c.op is BETWEEN:
        condition = expression.between(*c.values)
    else:
        compare = {"eq": expression.__eq__, "gt": expression.__gt__, "lt": expression.__lt__}
        condition = compare[c.op.key](c.values[0])
    if c.prop.nonzero_ids is not None and _needs_nonzero(c):
        # Only deals with an active registration (an open request) can match: let the
        # database start from those few instead of counting for every deal of the account.
        nonzero = Deal.id.in_(c.prop.nonzero_ids(scope))
        if c.op is GREATER and c.values[0] == 0:
            return nonzero  # "Registered deals", "Registration requests": the set is the answer
        condition = sa.and_(nonzero, condition)
    return condition


def _needs_nonzero(c: Condition) -> bool:
    low = c.values[0]
    return (c.op is GREATER and low >= 0) or (c.op in (EQUALS, BETWEEN) and low >= 1)


def _date_condition(c: Condition, scope: Scope):
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


def _choice_condition(c: Condition, scope: Scope):
    if c.op is IS_ME:
        return Deal.owner_id == scope.user_id
    matches = c.prop.any_of(scope, c.values)
    return matches if c.op is ANY_OF else sa.not_(matches)


_CONDITION_BUILDERS = {
    "text": _text_condition,
    "number": _number_condition,
    "date": _date_condition,
    "choice": _choice_condition,
}
