"""The deals index's state: the registry of what can be filtered, sorted and shown,
the parser of the index's query string, and the SQL each part stands for.

Everything a user can filter or sort by is named here, in one allow-list. The
parser looks names up in it and refuses anything else with a message fit to
show; it never turns user input into an attribute or a column name.

The query string is the state. One condition is one `f` parameter,
`<property>:<operator>:<value>`, for example `f=amount:between:1000..5000` (the
value is empty for operators that take none, `f=owner:is_me:`);
`q` is the search, `sort` the sort key (`-` in front for descending), `cols`
the shown columns, `page` the page and `view` the current view tab.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from urllib.parse import parse_qsl, urlencode

import sqlalchemy as sa

from models import (
    Account,
    Deal,
    DealRegistration,
    Pipeline,
    Product,
    ProductInterest,
    SharedDeal,
    Stage,
    User,
)
from services import registrations, search

PAGE_SIZE = 25
# Past this many matches the index says "1,000+": it never counts a large set exactly.
COUNT_CAP = 1000
LAST_PAGE = COUNT_CAP // PAGE_SIZE
MAX_CONDITIONS = 20
MAX_TEXT = 200
MAX_DAYS = 36_500
DEFAULT_SORT = "created_at"
DEFAULT_DESCENDING = True
# Parameters only the filter form sends: a request carrying any of them is not
# yet at its canonical address (plain browsers are redirected there).
FORM_PARAMS = ("property", "operator", "value", "remove", "clear", "sort_by", "col", "apply")


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


class FilterError(ValueError):
    """A condition the registry refuses; the message is fit to show the user."""


# ---------------------------------------------------------------- operators


@dataclass(frozen=True)
class Operator:
    key: str
    label: str
    # What the operator takes: "none", "one", "range" (two values), "days" or "many".
    takes: str


CONTAINS = Operator("contains", "contains", "one")
NOT_CONTAINS = Operator("not_contains", "does not contain", "one")
IS = Operator("is", "is", "one")
IS_EMPTY = Operator("is_empty", "is empty", "none")
IS_NOT_EMPTY = Operator("is_not_empty", "is not empty", "none")
EQUALS = Operator("eq", "is equal to", "one")
GREATER = Operator("gt", "is greater than", "one")
LESS = Operator("lt", "is less than", "one")
BETWEEN = Operator("between", "is between", "range")
KNOWN = Operator("known", "is known", "none")
UNKNOWN = Operator("unknown", "is unknown", "none")
BEFORE = Operator("before", "is before", "one")
AFTER = Operator("after", "is after", "one")
LAST_DAYS = Operator("last_days", "is in the last N days", "days")
NEXT_DAYS = Operator("next_days", "is in the next N days", "days")
ANY_OF = Operator("any_of", "is any of", "many")
NONE_OF = Operator("none_of", "is none of", "many")
IS_ME = Operator("is_me", "is me", "none")

OPERATORS_BY_TYPE = {
    "text": (CONTAINS, NOT_CONTAINS, IS, IS_EMPTY, IS_NOT_EMPTY),
    "number": (EQUALS, GREATER, LESS, BETWEEN, KNOWN, UNKNOWN),
    "date": (BEFORE, AFTER, BETWEEN, LAST_DAYS, NEXT_DAYS),
    "choice": (ANY_OF, NONE_OF),
}
TYPE_LABELS = {"text": "Text", "number": "Number", "date": "Date", "choice": "Choice"}


# ---------------------------------------------------------------- properties


@dataclass(frozen=True)
class Property:
    key: str
    label: str
    type: str  # "text", "number", "date" or "choice"
    # text, number, date: the SQL expression compared. choice: "is any of" ids.
    expression: Callable[[Scope], sa.ColumnElement] | None = None
    any_of: Callable[[Scope, tuple[int, ...]], sa.ColumnElement] | None = None
    extra_operators: tuple[Operator, ...] = ()
    whole_numbers: bool = False  # a count: values are whole numbers
    is_datetime: bool = False  # a timestamp compared with calendar days

    @property
    def operators(self) -> tuple[Operator, ...]:
        return OPERATORS_BY_TYPE[self.type] + self.extra_operators

    def operator(self, key: str) -> Operator | None:
        return next((op for op in self.operators if op.key == key), None)


def _shared_deal_of(scope: Scope):
    """The shared-deal column that points at a deal of this scope's side."""
    return (
        SharedDeal.vendor_deal_id if scope.account_kind == "vendor" else SharedDeal.partner_deal_id
    )


def _in_column(column) -> Callable[[Scope, tuple[int, ...]], sa.ColumnElement]:
    # Never NULL (a deal without owner is simply not "any of"), so NOT gives "none of".
    return lambda scope, ids: sa.and_(column.is_not(None), column.in_(ids))


def _with_products(scope: Scope, ids: tuple[int, ...]):
    return sa.exists(
        sa.select(1)
        .select_from(ProductInterest)
        .join(SharedDeal, SharedDeal.id == ProductInterest.shared_deal_id)
        .where(_shared_deal_of(scope) == Deal.id, ProductInterest.product_id.in_(ids))
    )


def _shared_with(scope: Scope, ids: tuple[int, ...]):
    other_party = (
        SharedDeal.partner_account_id
        if scope.account_kind == "vendor"
        else SharedDeal.vendor_account_id
    )
    return sa.exists(sa.select(1).where(_shared_deal_of(scope) == Deal.id, other_party.in_(ids)))


def _active_registrations(scope: Scope):
    return registrations.active_count_for_deal(scope.today)


PROPERTIES: dict[str, Property] = {
    p.key: p
    for p in (
        Property("name", "Deal name", "text", expression=lambda s: Deal.name),
        Property("company", "Company", "text", expression=lambda s: Deal.company_name),
        Property("amount", "Amount", "number", expression=lambda s: Deal.amount),
        Property(
            "active_registrations",
            "Number of active deal registrations",
            "number",
            expression=_active_registrations,
            whole_numbers=True,
        ),
        Property("close_date", "Close date", "date", expression=lambda s: Deal.close_date),
        Property(
            "created_at",
            "Create date",
            "date",
            expression=lambda s: Deal.created_at,
            is_datetime=True,
        ),
        Property("stage", "Deal stage", "choice", any_of=_in_column(Deal.stage_id)),
        Property("pipeline", "Pipeline", "choice", any_of=_in_column(Deal.pipeline_id)),
        Property(
            "owner",
            "Deal owner",
            "choice",
            any_of=_in_column(Deal.owner_id),
            extra_operators=(IS_ME,),
        ),
        Property("product_interest", "Product interest", "choice", any_of=_with_products),
        Property("shared_with", "Shared with", "choice", any_of=_shared_with),
    )
}
CHOICE_PROPERTIES = tuple(key for key, p in PROPERTIES.items() if p.type == "choice")


# ---------------------------------------------------------------- columns and sorting


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    # The sort key: an expression over Deal, or for a choice column the Deal column
    # whose choices give the order (see `ranked`).
    sort_key: Callable[[Scope], sa.ColumnElement] | None = None
    choice_column: sa.ColumnElement | None = None
    # The choices in sort order, from the account's choices as loaded.
    choice_order: Callable[[list[Choice]], list[Choice]] = list
    # Where the sort key can be anything but 0 (a few deals): the rest sort as 0 by id.
    nonzero_ids: Callable[[Scope], sa.Select] | None = None
    numeric: bool = False
    nullable: bool = False  # blank values sort last, whichever the direction


def _by_label(choices: list[Choice]) -> list[Choice]:
    return sorted(choices, key=lambda c: (c.label.casefold(), c.id))


COLUMNS: dict[str, Column] = {
    c.key: c
    for c in (
        Column("name", "Deal name", lambda s: Deal.name),
        # Owner, stage and pipeline sort by their choices' order (owner and pipeline by
        # name, stage in pipeline order), so each choice reads off the (account, column,
        # id) index instead of a sort of every deal.
        Column("owner", "Deal owner", None, Deal.owner_id, _by_label, nullable=True),
        Column("stage", "Deal stage", None, Deal.stage_id),
        Column("pipeline", "Pipeline", None, Deal.pipeline_id, _by_label),
        Column("amount", "Amount", lambda s: Deal.amount, numeric=True, nullable=True),
        Column("close_date", "Close date", lambda s: Deal.close_date, nullable=True),
        Column(
            "active_registrations",
            "Number of active deal registrations",
            _active_registrations,
            nonzero_ids=lambda s: _registered_deal_ids(s),
            numeric=True,
        ),
        Column("created_at", "Create date", lambda s: Deal.created_at),
        Column("company", "Company", lambda s: Deal.company_name),
    )
}
DEFAULT_COLUMNS = (
    "name",
    "owner",
    "stage",
    "pipeline",
    "amount",
    "close_date",
    "active_registrations",
    "created_at",
)


# ---------------------------------------------------------------- conditions


@dataclass(frozen=True)
class Condition:
    """One applied filter: a property, an operator and its parsed value(s)."""

    prop: Property
    op: Operator
    values: tuple = ()

    @property
    def param(self) -> str:
        """The condition as its `f` parameter: `<property>:<operator>:<value>`."""
        head = f"{self.prop.key}:{self.op.key}"
        if self.op.takes == "none":
            return f"{head}:"  # the contract: an operator without a value has an empty one
        if self.op.takes == "range":
            return f"{head}:{_format(self.values[0])}..{_format(self.values[1])}"
        if self.op.takes == "many":
            return f"{head}:{','.join(str(v) for v in self.values)}"
        return f"{head}:{_format(self.values[0])}"

    def describe(self, choices: ChoiceOptions | None = None) -> str:
        """Words for the chip: "Amount is between 1,000 and 5,000"."""
        start = f"{self.prop.label} {self.op.label}"
        if self.op.takes == "none":
            return start
        if self.op.takes == "days":
            return f"{self.prop.label} is in the {self.op.key.split('_')[0]} {self.values[0]} days"
        if self.op.takes == "many":
            names = (choices or ChoiceOptions()).labels(self.prop.key, self.values)
            return f"{start} {', '.join(names)}"
        shown = [_display(v) for v in self.values]
        if self.op.takes == "range":
            return f"{start} {shown[0]} and {shown[1]}"
        if self.prop.type == "text":
            return f"{start} “{shown[0]}”"
        return f"{start} {shown[0]}"

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
    if c.prop.key == "active_registrations" and _needs_a_registration(c):
        # Only deals with an active registration can match: let the database start
        # from those few instead of counting for every deal of the account.
        registered = Deal.id.in_(_registered_deal_ids(scope))
        if c.op is GREATER and c.values[0] == 0:
            return registered  # "Registered deals": the set is the answer, no count needed
        condition = sa.and_(registered, condition)
    return condition


def _registered_deal_ids(scope: Scope):
    """SELECT of this scope's deal ids with at least one registration active today."""
    own_account = (
        SharedDeal.vendor_account_id
        if scope.account_kind == "vendor"
        else SharedDeal.partner_account_id
    )
    return (
        sa.select(_shared_deal_of(scope))
        .join(DealRegistration, DealRegistration.shared_deal_id == SharedDeal.id)
        .where(own_account == scope.account_id, registrations.active_condition(scope.today))
    )


def _needs_a_registration(c: Condition) -> bool:
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


# ---------------------------------------------------------------- choices


@dataclass(frozen=True)
class Choice:
    id: int
    label: str
    group: str = ""  # a stage's pipeline

    @property
    def full_label(self) -> str:
        return f"{self.label} ({self.group})" if self.group else self.label


@dataclass
class ChoiceOptions:
    """What each choice property can be, for one account: property key -> choices."""

    by_property: dict[str, list[Choice]] = field(default_factory=dict)

    def get(self, key: str) -> list[Choice]:
        return self.by_property.get(key, [])

    def labels(self, key: str, ids: Iterable[int]) -> list[str]:
        known = {c.id: c for c in self.get(key)}
        all_labels = [c.label for c in self.get(key)]
        out = []
        for choice_id in ids:
            choice = known.get(choice_id)
            if choice is None:
                out.append(f"#{choice_id}")
            elif all_labels.count(choice.label) > 1:
                out.append(choice.full_label)  # "Qualified" in two pipelines
            else:
                out.append(choice.label)
        return out

    def resolve(self, prop: Property, tokens: Iterable[str]) -> tuple[int, ...]:
        """Ids for what the user gave: ids, or names typed without JavaScript.

        A name matches every choice of that name ("Closed won" in each pipeline).
        """
        choices = self.get(prop.key)
        ids: list[int] = []
        for token in tokens:
            folded = token.casefold()
            found = [
                c.id
                for c in choices
                if token == str(c.id) or folded in (c.label.casefold(), c.full_label.casefold())
            ]
            if not found:
                raise FilterError(f"{prop.label}: “{token}” is not one of the choices.")
            ids.extend(i for i in found if i not in ids)
        return tuple(ids)


def choice_options_select(account_kind: str, account_id) -> tuple[sa.Select, ...]:
    """SELECTs listing every choice of every choice property for an account.

    `account_id` is a value or a bind parameter. Columns: kind (the property
    key), id, label, grouping, sort1, sort2 — the shape deals.index_reference
    unions with the saved views.
    """
    text, integer = sa.Text, sa.Integer

    def row(kind, id_, label, grouping, sort1, sort2):
        return (
            sa.literal(kind, text).label("kind"),
            sa.cast(id_, integer).label("id"),
            sa.cast(label, text).label("label"),
            sa.cast(grouping, text).label("grouping"),
            sa.cast(sort1, integer).label("sort1"),
            sa.cast(sort2, integer).label("sort2"),
        )

    other_kind = "partner" if account_kind == "vendor" else "vendor"
    vendors = (
        sa.select(Account.id).where(Account.kind == "vendor").scalar_subquery()
        if account_kind != "vendor"
        else None
    )
    product_owner = (
        Product.vendor_account_id == account_id
        if vendors is None
        else Product.vendor_account_id.in_(vendors)
    )
    return (
        sa.select(
            *row("stage", Stage.id, Stage.name, Pipeline.name, Pipeline.position, Stage.position)
        )
        .join(Pipeline, Pipeline.id == Stage.pipeline_id)
        .where(Pipeline.account_id == account_id),
        sa.select(
            *row("pipeline", Pipeline.id, Pipeline.name, sa.null(), Pipeline.position, 0)
        ).where(Pipeline.account_id == account_id),
        sa.select(*row("owner", User.id, User.full_name, sa.null(), 0, 0)).where(
            User.account_id == account_id
        ),
        sa.select(
            *row("product_interest", Product.id, Product.name, sa.null(), Product.position, 0)
        ).where(product_owner),
        sa.select(*row("shared_with", Account.id, Account.name, sa.null(), 0, 0)).where(
            Account.kind == other_kind
        ),
    )


# ---------------------------------------------------------------- state


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
        if page and self.page > 1:
            out.append(("page", str(self.page)))
        return out

    def query(self, *, page: bool = True, view: bool = True) -> str:
        """The canonical query string (no leading "?")."""
        # ":" and "," stay readable: f=active_registrations:gt:0, f=stage:any_of:3,5
        return urlencode(self.params(page=page, view=view), safe=":,")

    def saved_query(self) -> str:
        """What a saved view keeps: filters, search, sort and columns."""
        return self.query(page=False, view=False)

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


def parse(args: Mapping, choices: ChoiceOptions | None = None) -> Parsed:
    """Parse the index's query string (a werkzeug MultiDict) into a valid state.

    Never raises for user input: what is wrong is left out and explained in
    `errors`, so the index shows the rest unchanged. With `choices` (the
    account's stages, owners, ...) choice values may be names and must exist;
    without, they must be ids (SQL scoping keeps foreign ids matching nothing).
    """
    getlist = args.getlist
    errors: list[str] = []
    conditions: list[Condition] = []
    for raw in getlist("f"):
        try:
            condition = parse_condition(*_split_param(raw), choices=choices)
        except FilterError as error:
            errors.append(str(error))
            continue
        if condition.param not in {c.param for c in conditions}:
            conditions.append(condition)

    remove = _int_or_none(args.get("remove"))
    if remove is not None:
        conditions = [c for i, c in enumerate(conditions) if i != remove]
    if args.get("clear"):
        conditions = []

    draft = Draft(
        property_key=(args.get("property") or "").strip(),
        operator_key=(args.get("operator") or "").strip(),
        values=[v.strip() for v in getlist("value") if v.strip()],
    )
    applied = False
    if draft.property_key:
        try:
            condition = parse_condition(
                draft.property_key,
                draft.operator_key,
                draft.values,
                choices=choices,
                from_form=True,
            )
        except FilterError as error:
            errors.append(str(error))
        else:
            applied = True
            if condition.param not in {c.param for c in conditions}:
                conditions.append(condition)
    if len(conditions) > MAX_CONDITIONS:
        errors.append(f"At most {MAX_CONDITIONS} filters at a time.")
        conditions = conditions[:MAX_CONDITIONS]

    search_term = " ".join((args.get("q") or "").split())
    if len(search_term) > MAX_TEXT:
        errors.append(f"Search looks at the first {MAX_TEXT} characters only.")
        search_term = search_term[:MAX_TEXT]

    sort, descending = _parse_sort(args.get("sort_by") or args.get("sort") or "")
    state = IndexState(
        conditions=tuple(conditions),
        search=search_term,
        sort=sort,
        descending=descending,
        columns=_parse_columns(args),
        page=_parse_page(args.get("page")),
        view=_parse_view(args.get("view")),
    )
    return Parsed(
        state=state,
        errors=errors,
        draft=draft if errors and draft.property_key else Draft(),
        applied=applied,
        from_form=any(name in args for name in FORM_PARAMS),
    )


def parse_query(query: str, choices: ChoiceOptions | None = None) -> Parsed:
    """`parse` for a query string kept as text (a saved view's)."""
    from werkzeug.datastructures import MultiDict

    return parse(MultiDict(parse_qsl(query or "", keep_blank_values=True)), choices)


def parse_condition(
    property_key: str,
    operator_key: str,
    values: list[str],
    *,
    choices: ChoiceOptions | None = None,
    from_form: bool = False,
) -> Condition:
    """One condition, validated against the registry. Raises FilterError."""
    prop = PROPERTIES.get(property_key)
    if prop is None:
        raise FilterError("Choose a property from the list.")
    if not operator_key:
        raise FilterError(f"Choose an operator for {prop.label}.")
    op = prop.operator(operator_key)
    if op is None:
        allowed = ", ".join(f"“{o.label}”" for o in prop.operators)
        raise FilterError(f"{prop.label} cannot be filtered that way; use {allowed}.")
    if op.takes == "none":
        return Condition(prop, op)
    text = ", ".join(values) if op.takes == "many" else " ".join(values)
    if not text.strip():
        raise FilterError(f"Enter a value for “{prop.label} {op.label}”.")
    if len(text) > MAX_TEXT:
        raise FilterError(f"A value is at most {MAX_TEXT} characters.")
    if op.takes == "many":
        return Condition(prop, op, _parse_choices(prop, values, choices, from_form))
    if op.takes == "days":
        return Condition(prop, op, (_parse_days(prop, text),))
    if op.takes == "range":
        parts = values if len(values) == 2 else _split_range(prop, text)
        low, high = (_parse_scalar(prop, part) for part in parts)
        if low > high:
            raise FilterError(f"{prop.label}: the first value must not be after the second.")
        return Condition(prop, op, (low, high))
    if prop.type == "text":
        return Condition(prop, op, (text.strip(),))
    return Condition(prop, op, (_parse_scalar(prop, text),))


def _split_param(raw: str) -> tuple[str, str, list[str]]:
    parts = raw.split(":", 2)
    property_key = parts[0]
    operator_key = parts[1] if len(parts) > 1 else ""
    values = [parts[2]] if len(parts) > 2 else []
    return property_key, operator_key, values


_RANGE_SEPARATORS = re.compile(r"\s*\.\.\s*|\s+and\s+|\s+to\s+|\s*–\s*|\s+-\s+", re.IGNORECASE)


def _split_range(prop: Property, text: str) -> list[str]:
    parts = _RANGE_SEPARATORS.split(text.strip())
    if len(parts) != 2 or not all(parts):
        example = "2026-01-01..2026-03-31" if prop.type == "date" else "1000..5000"
        raise FilterError(f"{prop.label}: give two values, like {example}.")
    return parts


_NUMBER = re.compile(r"-?(\d{1,3}(,\d{3})+|\d+)(\.\d+)?")


def _parse_scalar(prop: Property, text: str):
    text = text.strip()
    if prop.type == "date":
        try:
            return date.fromisoformat(text)
        except ValueError:
            raise FilterError(f"{prop.label} needs a date like 2026-03-31.") from None
    if prop.whole_numbers:
        if not re.fullmatch(r"\d{1,6}", text):
            raise FilterError(f"{prop.label} needs a whole number, like 0 or 2.")
        return int(text)
    if not _NUMBER.fullmatch(text) or len(text) > 20:
        raise FilterError(f"{prop.label} needs a number, like 25000 or 1,500.50.")
    try:
        return Decimal(text.replace(",", ""))
    except InvalidOperation:  # pragma: no cover - the pattern already refused it
        raise FilterError(f"{prop.label} needs a number.") from None


def _parse_days(prop: Property, text: str) -> int:
    text = text.strip()
    if not re.fullmatch(r"\d{1,5}", text) or not 1 <= int(text) <= MAX_DAYS:
        raise FilterError(f"{prop.label}: give a number of days, like 30.")
    return int(text)


def _parse_choices(
    prop: Property, values: list[str], choices: ChoiceOptions | None, from_form: bool
) -> tuple[int, ...]:
    tokens = [t.strip() for v in values for t in v.split(",") if t.strip()]
    if choices is not None:
        return choices.resolve(prop, tokens)
    if from_form and not all(t.isdigit() for t in tokens):
        raise FilterError(f"{prop.label}: choose from the list.")
    ids: list[int] = []
    for token in tokens:
        if not token.isdigit() or len(token) > 18:
            raise FilterError(f"{prop.label}: “{token}” is not one of the choices.")
        if int(token) not in ids:
            ids.append(int(token))
    return tuple(ids)


def _parse_sort(raw: str) -> tuple[str, bool]:
    descending = raw.startswith("-")
    key = raw.lstrip("-")
    if key not in COLUMNS:
        return DEFAULT_SORT, DEFAULT_DESCENDING
    return key, descending


def _parse_columns(args: Mapping) -> tuple[str, ...]:
    # The column picker's checkboxes ("col") win over the carried state ("cols").
    if "col" in args:
        wanted = set(args.getlist("col"))
    elif args.get("cols"):
        wanted = set(args.get("cols").split(","))
    else:
        return DEFAULT_COLUMNS
    wanted.add("name")  # the deal name links to the deal: always shown
    return tuple(key for key in COLUMNS if key in wanted)


def _parse_page(raw) -> int:
    page = _int_or_none(raw)
    if page is None or page < 1:
        return 1
    return min(page, LAST_PAGE)


def _parse_view(raw) -> str:
    raw = (raw or "").strip()
    if raw in ("all", "mine", "registered") or (raw.isdigit() and len(raw) <= 18):
        return raw
    return ""


def _int_or_none(raw) -> int | None:
    try:
        return int(str(raw).strip())
    except (TypeError, ValueError):
        return None


def _format(value) -> str:
    if isinstance(value, Decimal):
        return format(value.normalize(), "f") if value == value.to_integral() else str(value)
    return str(value)


def _display(value) -> str:
    if isinstance(value, Decimal):
        return f"{value:,.0f}" if value == value.to_integral() else f"{value:,.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


# ---------------------------------------------------------------- query building


def filtered(scope: Scope, state: IndexState, *columns) -> sa.Select:
    """SELECT `columns` FROM the scope's deals matching every condition and the search."""
    stmt = sa.select(*columns).select_from(Deal).where(Deal.account_id == scope.account_id)
    for condition in state.conditions:
        stmt = stmt.where(condition.where(scope))
    if state.search:
        stmt = stmt.where(search.matching(state.search))
    return stmt


def with_labels(stmt: sa.Select) -> sa.Select:
    """Join the owner, stage and pipeline names a deal row shows."""
    return (
        stmt.outerjoin(User, User.id == Deal.owner_id)
        .join(Stage, Stage.id == Deal.stage_id)
        .join(Pipeline, Pipeline.id == Deal.pipeline_id)
    )


@dataclass(frozen=True)
class SortOrder:
    """The order of the index: blanks last, then the sort key, then the deal id."""

    key: sa.ColumnElement
    descending: bool
    nullable: bool
    # Sorting by a choice column: that column, and its choice ids in sort order.
    choice_column: sa.ColumnElement | None = None
    choice_ids: tuple[int, ...] = ()
    nonzero_ids: sa.Select | None = None

    def direct(self, expression):
        return expression.desc() if self.descending else expression.asc()

    def blank(self):
        """1 for a deal whose sort key is blank, else 0 (blanks go last)."""
        return sa.case((self.key.is_(None), 1), else_=0)

    def order_by(self) -> list:
        """ORDER BY terms over Deal giving the index's order."""
        terms = [self.blank()] if self.nullable else []
        return [*terms, self.direct(self.key), self.direct(Deal.id)]


def sort_order(scope: Scope, state: IndexState, choices: ChoiceOptions) -> SortOrder:
    """How the index is sorted for `state`; choice columns need the account's `choices`."""
    column = COLUMNS[state.sort]
    if column.choice_column is None:
        nonzero = column.nonzero_ids(scope) if column.nonzero_ids else None
        return SortOrder(
            column.sort_key(scope), state.descending, column.nullable, nonzero_ids=nonzero
        )
    ids = tuple(c.id for c in column.choice_order(choices.get(state.sort)))
    # The choice's position in the order; NULL (blank, last) for no choice.
    rank = (
        sa.case(
            {choice_id: position for position, choice_id in enumerate(ids)},
            value=column.choice_column,
        )
        if ids
        else sa.null()
    )
    return SortOrder(rank, state.descending, True, column.choice_column, ids)
