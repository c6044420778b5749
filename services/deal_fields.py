"""A deal's own fields (Deal name, Amount, Close date, Pipeline, Deal stage, Deal owner,
Company), edited one at a time by the users of the deal's account.

On a shared deal, name, amount and close date are *shared properties*: an edit
by either party changes both deals in one transaction. Pipeline, stage, owner
and company stay each party's own. Every change to either deal of a shared deal
is written to its Activity (before -> after) and notifies the team; changes to
an unshared deal write no history.

No lost edits: every edit form carries the value it started from (`token`). When the
stored value changed meanwhile, `update` raises `Conflict` with the current value and
overwrites nothing; the user sees what is there now and decides.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import NamedTuple

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from catalog import gettext as _
from catalog import lazy_gettext as _l
from extensions import db
from models import Deal, Pipeline, SharedDeal, Stage, User
from services import accounts, activity, activity_text, settings, values
from services.changes import answering, writing
from services.errors import Conflict, Invalid, NotFound
from services.rows import update_rows

MAX_COMPANY = 200
MAX_NAME = 200
# What both deals of a shared deal always agree on.
SHARED_KEYS = frozenset({"name", "amount", "close_date"})


@dataclass(frozen=True)
class Field:
    key: str
    label: str


FIELDS = {
    f.key: f
    for f in (
        Field("name", _l("Deal name")),
        Field("amount", _l("Amount")),
        Field("close_date", _l("Close date")),
        Field("pipeline", _l("Pipeline")),
        Field("stage", _l("Deal stage")),
        Field("owner", _l("Deal owner")),
        Field("company", _l("Company")),
    )
}


def field(key: str) -> Field | None:
    """The editable field called `key`, or None: the allow-list of what a form may change."""
    return FIELDS.get(key)


def display(deal: Deal, key: str, locale=values.DEFAULT_LOCALE) -> str:
    """The field's value as the page shows it (plain text). Needs the deal's labels loaded."""
    if key == "name":
        return deal.name
    if key == "amount":
        return values.format_amount(deal.amount, locale)
    if key == "close_date":
        return values.format_date(deal.close_date, locale)
    if key == "pipeline":
        return deal.pipeline.name
    if key == "stage":
        return deal.stage.name
    if key == "owner":
        return deal.owner.full_name if deal.owner else values.MISSING
    return deal.company_name or values.MISSING


def token(deal: Deal, key: str) -> str:
    """The stored value as the edit form remembers it, to notice a concurrent change."""
    if key == "name":
        return deal.name
    if key == "amount":
        return values.canonical_amount(deal.amount)
    if key == "close_date":
        return values.canonical_date(deal.close_date)
    if key == "pipeline":
        return f"{deal.pipeline_id}:{deal.stage_id}"
    if key == "stage":
        return str(deal.stage_id)
    if key == "owner":
        return str(deal.owner_id or "")
    return deal.company_name or ""


@dataclass
class EditorChoices:
    """What a field's editor offers: the account's pipelines with their stages, or its users."""

    stages_by_pipeline: list[tuple[Pipeline, list[Stage]]] = dataclasses.field(default_factory=list)
    owners: list[User] = dataclasses.field(default_factory=list)


def editor_choices(deal: Deal, key: str) -> EditorChoices:
    """The options the editor of `key` shows (none for the free-text fields)."""
    if key in ("pipeline", "stage"):
        return EditorChoices(stages_by_pipeline=stages_by_pipeline(deal.account_id))
    if key == "owner":
        return EditorChoices(owners=accounts.active_users_of(deal.account_id))
    return EditorChoices()


def stages_by_pipeline(account_id: int) -> list[tuple[Pipeline, list[Stage]]]:
    """The account's pipelines with their stages, in order: what the selects offer."""
    pipelines = settings.pipelines_of(account_id)
    stages = db.session.scalars(
        sa.select(Stage)
        .where(Stage.pipeline_id.in_([p.id for p in pipelines]))
        .order_by(Stage.pipeline_id, Stage.position, Stage.id)
    )
    grouped: dict[int, list[Stage]] = {p.id: [] for p in pipelines}
    for stage in stages:
        grouped[stage.pipeline_id].append(stage)
    return [(p, grouped[p.id]) for p in pipelines]


class _Chosen(NamedTuple):
    """A pipeline or stage edit's new pipeline and stage, and the deal's current ones."""

    pipeline: Pipeline
    stage: Stage
    current_pipeline: Pipeline | None
    current_stage: Stage | None

    def before(self, key: str) -> str | None:
        """The history's words for the current value (`_history_text`'s), if both loaded."""
        if self.current_pipeline is None or self.current_stage is None:
            return None
        return _place_text(key, self.current_pipeline.name, self.current_stage.name)


def _pipeline_and_stage(deal: Deal, pipeline_id: int, stage_id: int) -> _Chosen:
    """The deal's account's pipeline `pipeline_id` and its stage `stage_id`, in one statement;
    Invalid, saying which is wrong, when either is not one of the account's.

    The same statement reads the deal's current pipeline and stage: the history's
    "before" is not queried apart (a board move on a shared deal: 11 statements, not 12).
    """
    parameters = {
        "account_id": deal.account_id,
        "pipeline_id": pipeline_id,
        "stage_id": stage_id,
        "current_pipeline_id": deal.pipeline_id,
        "current_stage_id": deal.stage_id,
    }
    row = db.session.execute(_pipeline_and_stage_statement(), parameters).first()
    if row is not None:
        return _Chosen(*row)
    if all(p.id != pipeline_id for p in settings.pipelines_of(deal.account_id)):
        raise Invalid(_("Choose one of your account's pipelines."), "pipeline")
    raise Invalid(_("Choose a deal stage of the chosen pipeline."), "stage")


@functools.cache
def _pipeline_and_stage_statement() -> sa.Select:
    # Built once (bind parameters): every stage edit and board move runs it.
    current_pipeline, current_stage = aliased(Pipeline), aliased(Stage)
    current_pipeline_id = sa.bindparam("current_pipeline_id", type_=sa.Integer)
    current_stage_id = sa.bindparam("current_stage_id", type_=sa.Integer)
    return (
        sa.select(Pipeline, Stage, current_pipeline, current_stage)
        .join(Stage, Stage.pipeline_id == Pipeline.id)
        .outerjoin(current_pipeline, current_pipeline.id == current_pipeline_id)
        .outerjoin(current_stage, current_stage.id == current_stage_id)
        .where(
            Pipeline.account_id == sa.bindparam("account_id", type_=sa.Integer),
            Pipeline.id == sa.bindparam("pipeline_id", type_=sa.Integer),
            Stage.id == sa.bindparam("stage_id", type_=sa.Integer),
        )
    )


def _chosen(deal: Deal, key: str, value) -> _Chosen | None:
    """For a pipeline or stage edit, the new pipeline and stage, checked (Invalid if not
    the account's), and the current ones; None for the other fields."""
    if key == "pipeline":
        return _pipeline_and_stage(deal, *value)
    if key == "stage":
        return _pipeline_and_stage(deal, deal.pipeline_id, value)
    return None


def _apply(deal: Deal, key: str, value, chosen: _Chosen | None) -> None:
    """Check `value` against the account's own choices and set it on `deal` (no commit).

    `chosen`: for a pipeline or stage, `_chosen`'s answer (checked already)."""
    if key == "name":
        deal.name = value
    elif key == "amount":
        deal.amount = value
    elif key == "close_date":
        deal.close_date = value
    elif key == "company":
        deal.company_name = value
    elif key in ("pipeline", "stage"):
        pipeline, stage = chosen.pipeline, chosen.stage
        deal.pipeline_id, deal.stage_id = pipeline.id, stage.id
        # Held by the deal, the two stay in the session's identity map: the history's
        # words for them (_display_fresh) are read from there, not queried again.
        deal.pipeline, deal.stage = pipeline, stage
    elif key == "owner":
        if value is not None and value not in {
            u.id for u in accounts.active_users_of(deal.account_id)
        }:
            raise Invalid(_("Choose an active user of your account."), "owner")
        deal.owner_id = value


class Edit(NamedTuple):
    """What an edit did: whether the value changed, and the deal's name and the field's
    stored value (its `token`) as they were before it."""

    changed: bool
    name: str
    before: str


def update(user: User, deal_id: int, key: str, value, original: str | None) -> bool:
    """Set one field of the user's own deal to `value` (typed, from the field's form). Commits.

    `original` is the `token` the edit form started from: if the stored value is no
    longer that, raises `Conflict` (with the current value) and writes nothing.
    Raises `Invalid` for a value that is not one of the account's own choices, and
    NotFound for a deal that is not the user's. Returns whether the value changed.

    On a shared deal the shared deal's row is locked first, then the deals in id
    order, so both parties' edits run one after the other without deadlock.
    """
    with editing(user, deal_id, key, value, original) as edit:
        return edit.changed


@contextmanager
def editing(user: User, deal_id: int, key: str, value, original: str | None) -> Iterator[Edit]:
    """`update`, with a with block for reading what the edit changed.

    What the block reads sees the edit: a field save's answer, a board move's card and
    column counts. On PostgreSQL it comes from the same transaction, before the commit,
    not from a second one after it, and an exception in the block rolls the edit back;
    on SQLite the edit has committed (`changes.answering`). Raises as `update` does,
    when the block is entered. The block only reads: a write there is refused.
    """
    if field(key) is None:
        raise Invalid(_("That field cannot be edited."))
    with answering():  # PostgreSQL: the commit at the block's end; a write there refused
        with writing():
            edit = _edit(user, deal_id, key, value, original)
        yield edit


def _edit(user: User, deal_id: int, key: str, value, original: str | None) -> Edit:
    """`editing`'s work inside its transaction: lock, check, write, record."""
    shared, deals = _lock(deal_id, key)
    deal = deals.get(deal_id)
    if deal is None or deal.account_id != user.account_id:
        raise NotFound(f"No deal {deal_id} in this account.")
    current = token(deal, key)
    if original is not None and original != current:
        raise Conflict(FIELDS[key].label, _display_fresh(deal, key))
    name = deal.name
    chosen = _chosen(deal, key, value)
    before = None  # the history's words: a shared deal's only (an unshared one has none)
    if shared is not None:
        before = (chosen and chosen.before(key)) or _history_text(deal, key)
    _apply(deal, key, value, chosen)
    if token(deal, key) == current:
        return Edit(False, name, current)
    after = _history_text(deal, key) if shared is not None else None
    # Every locked deal takes the new value: a shared property's both deals agree.
    _write(deals, {column: getattr(deal, column) for column in _COLUMNS[key]})
    if shared is not None:
        activity.record(shared, user, *_history_words(key), before, after)
    return Edit(True, name, current)


# The deal's columns each field sets (`_apply`).
_COLUMNS = {
    "name": ("name",),
    "amount": ("amount",),
    "close_date": ("close_date",),
    "company": ("company_name",),
    "pipeline": ("pipeline_id", "stage_id"),
    "stage": ("pipeline_id", "stage_id"),
    "owner": ("owner_id",),
}


def _write(deals: dict[int, Deal], new: dict) -> None:
    """UPDATE the `deals` to the `new` column values (rows.update_rows).

    The objects are expired first, which drops what `_apply` set on them (the statement
    writes it), so the session has nothing to flush: the unit of work's flush of a
    changed Deal cost more than its UPDATE. They load again when next read.
    """
    for locked in deals.values():
        db.session.expire(locked)
    update_rows(Deal, deals, new)  # updated_at by its column's onupdate


def _lock(deal_id: int, key: str) -> tuple[SharedDeal | None, dict[int, Deal]]:
    """Lock the deal's shared deal, if any, then the deal, and for a shared property the
    other party's deal too, in id order: (the shared deal, the locked deals by id).

    One statement (`_lock_statement`), where it was one a row.
    """
    rows = db.session.execute(_lock_statement(key in SHARED_KEYS), {"deal_id": deal_id}).all()
    shared = rows[0][1] if rows else None
    return shared, {deal.id: deal for deal, _ in rows}


@functools.cache
def _lock_statement(both_deals: bool) -> sa.Select:
    """`_lock`'s statement, built once for each: the shared deal holding `deal_id`, locked
    first (a WITH the database runs before it reads the deals: MATERIALIZED, so it is
    not folded into the query), then the deals, ordered by id and locked in that order (a
    lock taken after the sort), each row with the shared deal (or none).

    The order is every edit's, so two parties' edits of a shared property run one after
    the other without deadlock; the rows are refreshed from the database (changes.locking).
    On SQLite, FOR UPDATE is not written (the write transaction is the lock).
    """
    deal_id = sa.bindparam("deal_id", type_=sa.Integer)
    found = (
        sa.select(SharedDeal)
        .where(SharedDeal.holds_deal(deal_id))
        .with_for_update()
        .cte("locked_shared_deal")
        .prefix_with("MATERIALIZED")
    )
    shared = aliased(SharedDeal, found)
    wanted = Deal.id == deal_id
    if both_deals:
        # The other party's deal by a subquery each, not by the join: ids the index finds
        # (an OR over the joined row made PostgreSQL read every deal).
        wanted = Deal.id.in_(
            [deal_id]
            + [
                sa.select(side).scalar_subquery()
                for side in (found.c.partner_deal_id, found.c.vendor_deal_id)
            ]
        )
    return (
        sa.select(Deal, shared)
        .outerjoin(shared, sa.true())
        .where(wanted)
        .order_by(Deal.id)
        .with_for_update(of=Deal.__table__)
        .execution_options(populate_existing=True)
    )


# A move on the deal page or the board says where the deal went ("Sales pipeline ›
# Qualified"); the card shows the other party's current stage.
_SHARED_HISTORY = {"pipeline": "changed the pipeline", "stage": "changed the deal stage"}


# The other fields' words. History is stored in English and said again in the
# reader's language when shown (services/activity_text.py): never a lazy label here.
_FIELD_HISTORY = {
    "name": "changed the deal name",
    "amount": activity_text.AMOUNT_CHANGED,
    "close_date": activity_text.CLOSE_DATE_CHANGED,
    "owner": "changed the deal owner",
    "company": "changed the company",
}


def _history_words(key: str) -> tuple[str, str]:
    """The activity's action and summary for a change of the field `key`."""
    if key in _SHARED_HISTORY:
        return key, _SHARED_HISTORY[key]
    return "field", _FIELD_HISTORY[key]


def _history_text(deal: Deal, key: str) -> str:
    """The field's value as the history writes it; the pipeline with its stage."""
    if key == "pipeline":
        return _place_text(key, _display_fresh(deal, "pipeline"), _display_fresh(deal, "stage"))
    return _display_fresh(deal, key)


def _place_text(key: str, pipeline: str, stage: str) -> str:
    """A pipeline or stage edit's words in the history: "Sales pipeline › Qualified" for a
    pipeline, the stage alone for a stage."""
    return f"{pipeline} › {stage}" if key == "pipeline" else stage


def _display_fresh(deal: Deal, key: str) -> str:
    """The display value of `key`, reading labels by id (the deal's relationships may be stale)."""
    if key == "pipeline":
        return db.session.get(Pipeline, deal.pipeline_id).name
    if key == "stage":
        return db.session.get(Stage, deal.stage_id).name
    if key == "owner":
        owner = db.session.get(User, deal.owner_id) if deal.owner_id else None
        return owner.full_name if owner else values.MISSING
    return display(deal, key)
