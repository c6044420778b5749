"""Reading the deals index's query string: `parse`, `parse_query`, `parse_condition`.

Never trusts it: every name is looked up in the registry, every value parsed
into its type, and what is wrong comes back as a message fit to show. The text
of a single value (an amount, a count, a date, a number of days), read and
written, is the last section here: the one place it is done for the filters.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from decimal import Decimal, InvalidOperation
from urllib.parse import parse_qsl

from catalog import gettext as _
from i18n import current_language
from services import values
from services.deal_index.choices import ChoiceOptions
from services.deal_index.columns import COLUMNS, DEFAULT_COLUMNS, DEFAULT_DESCENDING, DEFAULT_SORT
from services.deal_index.conditions import Condition
from services.deal_index.registry import (
    LAST_PAGE,
    PROPERTIES,
    FilterError,
    Operator,
    Property,
    not_a_choice,
)
from services.deal_index.state import LAYOUTS, Draft, IndexState, Parsed
from services.errors import Invalid
from services.values import parse_canonical_date, parse_id

MAX_CONDITIONS = 20
MAX_TEXT = 200
MAX_DAYS = 36_500
# Parameters only the filter form sends: a request carrying any of them is not
# yet at its canonical address (plain browsers are redirected there).
FORM_PARAMS = (
    "property",
    "operator",
    "value",
    "remove",
    "clear",
    "sort_by",
    "col",
    "apply",
    "board_pipeline",
)


def parse(args: Mapping, choices: ChoiceOptions | None = None) -> Parsed:
    """Parse the index's query string (a werkzeug MultiDict) into a valid state.

    Never raises for user input: what is wrong is left out and explained in
    `errors`, so the index shows the rest unchanged. With `choices` (the
    account's stages, owners, ...) choice values may be names and must exist;
    without, they must be ids (SQL scoping keeps foreign ids matching nothing).
    """
    getlist = args.getlist
    errors: list[str] = []
    raw_conditions = getlist("f")
    too_many = len(raw_conditions) > MAX_CONDITIONS
    # Read no further than the limit: the work stays bounded whatever is sent.
    raw_conditions = raw_conditions[:MAX_CONDITIONS]
    conditions: dict[str, Condition] = {}  # by `param`: de-duplicated in linear time
    for raw in raw_conditions:
        try:
            condition = parse_condition(*_split_param(raw), choices=choices)
        except FilterError as error:
            errors.append(str(error))
            continue
        conditions.setdefault(condition.param, condition)
    conditions = list(conditions.values())

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
    if args.get("apply") and not draft.property_key:
        errors.append(_("Choose a property, an operator and a value, then Apply."))
    if draft.property_key:
        try:
            condition = parse_condition(
                draft.property_key,
                draft.operator_key,
                draft.values,
                choices=choices,
                from_form=True,
                boxes=len(getlist("value")),
            )
        except FilterError as error:
            errors.append(str(error))
        else:
            applied = True
            if all(c.param != condition.param for c in conditions):
                conditions.append(condition)
    if too_many or len(conditions) > MAX_CONDITIONS:
        errors.append(_("At most %(count)s filters at a time.", count=MAX_CONDITIONS))
        conditions = conditions[:MAX_CONDITIONS]

    search_term = parse_search(args)
    if len(" ".join((args.get("q") or "").split())) > MAX_TEXT:
        errors.append(_("Search looks at the first %(num)s characters only.", num=MAX_TEXT))

    sort, descending = _parse_sort(args.get("sort_by") or args.get("sort") or "")
    layout = (args.get("layout") or "").strip()
    layout = layout if layout in LAYOUTS else "table"
    pipeline = None
    if layout == "board":
        # The board's pipeline picker ("board_pipeline") wins over the carried state.
        pipeline, error = _parse_pipeline(
            args.get("board_pipeline") or args.get("pipeline"), choices
        )
        errors.extend(error)
    state = IndexState(
        conditions=tuple(conditions),
        search=search_term,
        sort=sort,
        descending=descending,
        columns=_parse_columns(args),
        page=_parse_page(args.get("page")),
        view=_parse_view(args.get("view")),
        layout=layout,
        pipeline=pipeline,
    )
    return Parsed(
        state=state,
        errors=errors,
        draft=draft if errors and draft.property_key else Draft(),
        applied=applied,
        from_form=any(name in args for name in FORM_PARAMS),
    )


def parse_search(args: Mapping) -> str:
    """The search of `args` (`q`) as the state keeps it: spaces collapsed, MAX_TEXT long."""
    return " ".join((args.get("q") or "").split())[:MAX_TEXT]


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
    boxes: int = 1,
) -> Condition:
    """One condition, validated against the registry. Raises FilterError.

    `boxes`: how many value boxes the form had (two for "is between" with JavaScript).
    """
    prop = PROPERTIES.get(property_key)
    if prop is None:
        raise FilterError(_("Choose a property from the list."))
    if not operator_key:
        raise FilterError(_("Choose an operator for %(property)s.", property=prop.label))
    op = prop.operator(operator_key)
    if op is None:
        allowed = ", ".join(_("“%(operator)s”", operator=o.label) for o in prop.operators)
        raise FilterError(
            _(
                "%(property)s cannot be filtered that way; use %(operators)s.",
                property=prop.label,
                operators=allowed,
            )
        )
    if op.takes == "none":
        return _condition(prop, op)
    text = ", ".join(values) if op.takes == "many" else " ".join(values)
    if not text.strip():
        raise FilterError(
            _(
                "Enter a value for “%(property)s %(operator)s”.",
                property=prop.label,
                operator=op.label,
            )
        )
    if len(text) > MAX_TEXT:
        raise FilterError(_("A value is at most %(num)s characters.", num=MAX_TEXT))
    if op.takes == "many":
        return _condition(prop, op, _parse_choices(prop, values, choices, from_form))
    if op.takes == "days":
        return _condition(prop, op, (_parse_days(prop, text),))
    typed = from_form  # typed in the user's language (URLs and views are language-neutral)
    if op.takes == "range":
        if boxes == 2 and len(values) != 2:
            raise FilterError(_("%(property)s: fill in both boxes.", property=prop.label))
        parts = values if len(values) == 2 else _split_range(prop, text)
        low, high = (_parse_value(prop, part, typed) for part in parts)
        if low > high:
            raise FilterError(
                _(
                    "%(property)s: the first value must not be after the second.",
                    property=prop.label,
                )
            )
        return _condition(prop, op, (low, high))
    if prop.type == "text":
        return _condition(prop, op, (text.strip(),))
    return _condition(prop, op, (_parse_value(prop, text, typed),))


def _condition(prop: Property, op: Operator, values: tuple = ()) -> Condition:
    """The condition with its values' text, as the query string and the chip write them."""
    return Condition(
        prop,
        op,
        values,
        texts=tuple(_param_text(v) for v in values),
        shown=tuple(_display_text(v) for v in values),
    )


def _split_param(raw: str) -> tuple[str, str, list[str]]:
    parts = raw.split(":", 2)
    property_key = parts[0]
    operator_key = parts[1] if len(parts) > 1 else ""
    values = [parts[2]] if len(parts) > 2 else []
    return property_key, operator_key, values


# "1000..5000", "1000 and 5000", "1000 to 5000", "1000 et 5000", "1000 à 5000", "1000 – 5000".
_RANGE_SEPARATORS = re.compile(r"\s*\.\.\s*|\s+(?:and|to|et|à)\s+|\s*–\s*|\s+-\s+", re.IGNORECASE)


def _split_range(prop: Property, text: str) -> list[str]:
    parts = _RANGE_SEPARATORS.split(text.strip())
    if len(parts) != 2 or not all(parts):
        example = "2026-01-01..2026-03-31" if prop.type == "date" else "1000..5000"
        raise FilterError(
            _(
                "%(property)s: give two values, like %(example)s.",
                property=prop.label,
                example=example,
            )
        )
    return parts


def _parse_choices(
    prop: Property, values: list[str], choices: ChoiceOptions | None, from_form: bool
) -> tuple[int, ...]:
    tokens = [t.strip() for v in values for t in v.split(",") if t.strip()]
    if choices is not None:
        return choices.resolve(prop, tokens)
    if from_form and not all(t.isdigit() for t in tokens):
        raise FilterError(_("%(property)s: choose from the list.", property=prop.label))
    ids: dict[int, None] = {}  # ordered and de-duplicated in linear time
    for token in tokens:
        number = parse_id(token)
        if number is None:
            raise not_a_choice(prop, token)
        ids[number] = None
    return tuple(ids)


def _parse_sort(raw: str) -> tuple[str, bool]:
    descending = raw.startswith("-")
    key = raw.lstrip("-")
    if key not in COLUMNS or not COLUMNS[key].sortable:
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
    if raw in ("all", "mine", "registered", "requests") or (raw.isdigit() and len(raw) <= 18):
        return raw
    return ""


def _parse_pipeline(raw, choices: ChoiceOptions | None) -> tuple[int | None, list[str]]:
    """The board's pipeline id, and what is wrong with it (then the default: None)."""
    if raw is None or not str(raw).strip():
        return None, []
    pipeline = parse_id(str(raw).strip())
    if choices is not None and pipeline not in {c.id for c in choices.get("pipeline")}:
        pipeline = None
    if pipeline is None:
        return None, [_("Choose one of your pipelines for the board.")]
    return pipeline, []


def _int_or_none(raw) -> int | None:
    try:
        return int(str(raw).strip())
    except (TypeError, ValueError):
        return None


# ---------------------------------------------------------------- the text of one value


_NUMBER = re.compile(r"-?(\d{1,3}(,\d{3})+|\d+)(\.\d+)?")


def _parse_value(prop: Property, text: str, typed: bool = False) -> date | int | Decimal:
    """One value of a date or number property.

    `typed`: from the filter form, where an amount or a date may also be written
    the user's language's way ("1 500,50", "31/12/2026"); the query string's
    `f=` is language-neutral.
    """
    text = text.strip()
    if prop.type == "date":
        return _parse_date(prop, text, typed)
    if prop.whole_numbers:
        return _parse_count(prop, text)
    return _parse_amount(prop, text, typed)


def _problem(prop: Property, error: Invalid) -> FilterError:
    return FilterError(_("%(property)s: %(problem)s", property=prop.label, problem=error.message))


def _parse_date(prop: Property, text: str, typed: bool) -> date:
    """An ISO date within what both databases accept (services/values.py): 2026-03-31;
    typed in the form, also the language's numeric form (31/12/2026 in French)."""
    try:
        if typed:
            return values.parse_date(text, current_language())
        parsed = parse_canonical_date(text)
    except Invalid as error:
        raise _problem(prop, error) from None
    if parsed is None:
        raise FilterError(
            _(
                "%(property)s needs a date like %(example)s.",
                property=prop.label,
                example="2026-03-31",
            )
        )
    return parsed


def _parse_count(prop: Property, text: str) -> int:
    """A whole number of at most six digits: 0, 2."""
    if not re.fullmatch(r"\d{1,6}", text):
        raise FilterError(_("%(property)s needs a whole number, like 0 or 2.", property=prop.label))
    return int(text)


def _parse_amount(prop: Property, text: str, typed: bool) -> Decimal:
    """A number: in `f=`, with optional thousands commas and decimals (25000, 1,500.50, -3);
    typed in the form, what a number box sends (1500.5) or the language's way, strictly
    ("1,500.50" in English, "1 500,50" in French; "1500,50" is refused in English)."""
    if typed and not _TYPED_NEUTRAL.fullmatch(text):
        language = current_language()
        try:
            amount = values.parse_amount(text, language)
        except Invalid:
            amount = None
        if amount is None:
            raise _needs_a_number(prop, values.amount_example(language))
        return amount
    if not _NUMBER.fullmatch(text) or len(text) > 20:
        raise _needs_a_number(prop, "1500.50")
    try:
        return Decimal(text.replace(",", ""))
    except InvalidOperation:  # pragma: no cover - the pattern already refused it
        raise _needs_a_number(prop, "1500.50") from None


# What a number box sends whatever the language; at most two decimals, so that
# "1.500" (a thousand and a half, in French) is not read as 1.5.
_TYPED_NEUTRAL = re.compile(r"-?\d{1,15}(\.\d{1,2})?")


def _needs_a_number(prop: Property, example: str) -> FilterError:
    return FilterError(
        _("%(property)s needs a number, like %(example)s.", property=prop.label, example=example)
    )


def _parse_days(prop: Property, text: str) -> int:
    """A number of days, 1 to MAX_DAYS."""
    text = text.strip()
    if not re.fullmatch(r"\d{1,5}", text) or not 1 <= int(text) <= MAX_DAYS:
        raise FilterError(_("%(property)s: give a number of days, like 30.", property=prop.label))
    return int(text)


def _param_text(value) -> str:
    """A value as the query string writes it: 1500.5, 2026-03-31."""
    if isinstance(value, Decimal):
        return format(value.normalize(), "f") if value == value.to_integral() else str(value)
    return str(value)


def _display_text(value) -> str:
    """A value as a chip shows it, the user's language's way: 1,500.50 / 1 500,50, 25,000,
    Mar 31, 2026 / 31 mars 2026."""
    language = current_language()
    if isinstance(value, Decimal):
        if value == value.to_integral():
            return values.format_count(int(value), language)
        return values.format_amount(value, language)
    if isinstance(value, int):
        return values.format_count(value, language)
    if isinstance(value, date):
        return values.format_date(value, language)
    return str(value)
