"""The choices of the index's choice properties (stages, pipelines, owners, ...).

`choice_options_select` lists them for one account in SQL; `ChoiceOptions`
holds them as loaded, gives their labels and resolves what a user typed.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import NamedTuple

import sqlalchemy as sa

from extensions import db
from models import Account, Pipeline, Product, Stage, User
from services.deal_index.registry import Property, not_a_choice
from services.values import parse_id

# The page's datalist (typed choices without JavaScript) suggests a property's choices
# only up to this many: a vendor's 1,000 partners would be 26 KB on every full page.
# Past it the Value control lists them when that property is chosen (htmx, or Apply).
SUGGESTED_MAX = 50


def by_name(label: str) -> tuple[str, str]:
    """The order of names in every choice list: case aside, then as written. The same
    on every database, whatever its collation."""
    return (label.casefold(), label)


class Choice(NamedTuple):
    """One choice: a tuple, made ~1,000 at a time (a vendor's partners) on every index page."""

    id: int
    label: str
    group: str = ""  # a stage's pipeline

    @property
    def full_label(self) -> str:
        return f"{self.label} ({self.group})" if self.group else self.label


@dataclass
class ChoiceOptions:
    """What each choice property can be, for one account: property key -> choices.

    A property with more than SUGGESTED_MAX choices (a vendor's partners) may come as a
    loader instead, run the first time its choices are asked for: most pages never do.
    """

    by_property: dict[str, list[Choice]] = field(default_factory=dict)
    # A loader reads all of a property's choices, or with ids only those (`by_ids`).
    loaders: dict[str, Callable[..., list[Choice]]] = field(default_factory=dict)
    # Of a property left to load, the choices read by id so far.
    read_by_id: dict[str, dict[int, Choice]] = field(default_factory=dict)

    def get(self, key: str) -> list[Choice]:
        if key in self.loaders:
            self.by_property[key] = self.loaders.pop(key)()
        return self.by_property.get(key, [])

    def load_when_asked(self, key: str, loader: Callable[..., list[Choice]]) -> None:
        """If `key` came cut off (more than SUGGESTED_MAX: `choice_options_select` brings
        SUGGESTED_MAX + 1), keep `loader` to read them all the first time they are asked
        for, or the few a filter names (`loader(ids)`)."""
        if len(self.by_property.get(key, [])) > SUGGESTED_MAX:
            self.by_property[key] = []
            self.loaders[key] = loader

    def by_ids(self, key: str, ids: Iterable[int]) -> dict[int, Choice]:
        """The choices of `key` among `ids`, by id. While `key` is left to load, only
        these are read (a filter on one partner needs its name, not the thousand others);
        more than SUGGESTED_MAX of them, and all are read."""
        ids = list(ids)
        if key in self.loaders:
            read = self.read_by_id.setdefault(key, {})
            missing = tuple(i for i in dict.fromkeys(ids) if i not in read)
            if len(missing) <= SUGGESTED_MAX:
                if missing:
                    read.update((c.id, c) for c in self.loaders[key](missing))
                return {i: read[i] for i in ids if i in read}
        wanted = set(ids)
        return {c.id: c for c in self.get(key) if c.id in wanted}

    def suggested(self, key: str) -> list[Choice]:
        """The choices the page's datalist offers: all of them, or none past SUGGESTED_MAX."""
        if key in self.loaders:
            return []  # left to load: more than SUGGESTED_MAX
        choices = self.get(key)
        return choices if len(choices) <= SUGGESTED_MAX else []

    def labels(self, key: str, ids: Iterable[int]) -> list[str]:
        ids = list(ids)
        known = self.by_ids(key, ids)
        # A name two choices share gets its group: "Qualified" in two pipelines. (A
        # property left to load has no groups: accounts.)
        label_uses = Counter(c.label for c in self.by_property.get(key, []))
        out = []
        for choice_id in ids:
            choice = known.get(choice_id)
            if choice is None:
                out.append(f"#{choice_id}")
            elif label_uses[choice.label] > 1:
                out.append(choice.full_label)  # "Qualified" in two pipelines
            else:
                out.append(choice.label)
        return out

    def resolve(self, prop: Property, tokens: Iterable[str]) -> tuple[int, ...]:
        """Ids for what the user gave: ids, or names typed without JavaScript.

        A token that is one of the choices' ids is that choice (the form sends ids);
        any other is a name, which matches every choice of that name ("Closed won" in
        each pipeline), case aside.
        """
        tokens = list(tokens)
        numbers = [parse_id(t) for t in tokens]  # None: not a number any row can have
        known = self.by_ids(prop.key, [n for n in numbers if n is not None])
        by_text: dict[str, list[int]] | None = None  # the names, made if a token needs them
        ids: dict[int, None] = {}  # ordered, de-duplicated: linear in what was sent
        for token, number in zip(tokens, numbers, strict=True):
            if number in known:
                ids[number] = None
                continue
            if by_text is None:
                by_text = {}
                for c in self.get(prop.key):
                    for key in {c.label.casefold(), c.full_label.casefold()}:
                        by_text.setdefault(key, []).append(c.id)
            found = by_text.get(token.casefold())
            if not found:
                raise not_a_choice(prop, token)
            ids.update(dict.fromkeys(found))
        return tuple(ids)


def choice_options_select(account_kind: str, account_id) -> tuple[sa.Select, ...]:
    """SELECTs listing the choices of every choice property for an account (of the other
    side's accounts, at most SUGGESTED_MAX + 1: `other_side_choices` reads them all).

    `account_id` is a value or a bind parameter. Columns: kind (the property
    key), id, label, grouping, sort1, sort2 — the shape reference.index_reference
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

    other_side = (
        sa.select(Account.id, Account.name)
        .where(_other_side(account_kind))
        .limit(SUGGESTED_MAX + 1)
        .subquery("other_side")
    )
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
        # The other side's accounts: a vendor may have thousands of partners. At most
        # SUGGESTED_MAX + 1 come here; past SUGGESTED_MAX they are read when asked for
        # (`other_side_choices`).
        sa.select(
            *row("shared_with", other_side.c.id, other_side.c.name, sa.null(), 0, 0)
        ).select_from(other_side),
    )


def _other_side(account_kind: str):
    """The accounts an account of `account_kind` shares deals with: a vendor's partners,
    a partner's vendor."""
    return Account.kind == ("partner" if account_kind == "vendor" else "vendor")


def other_side_choices(account_kind: str, ids: tuple[int, ...] | None = None) -> list[Choice]:
    """Every account of the other side (or those of `ids`), as "Shared with" choices, by
    name (case aside)."""
    stmt = sa.select(Account.id, Account.name).where(_other_side(account_kind))
    if ids is not None:
        stmt = stmt.where(Account.id.in_(ids))
    rows = db.session.execute(stmt).all()
    return [Choice(id_, name) for id_, name in sorted(rows, key=lambda r: (*by_name(r[1]), r[0]))]
