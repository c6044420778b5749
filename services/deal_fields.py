"""A deal's own fields (Amount, Close date, Pipeline, Deal stage, Deal owner, Company),
edited one at a time by the users of the deal's account.

No lost edits: every edit form carries the value it started from (`token`). When the
stored value changed meanwhile, `update` raises `Conflict` with the current value and
overwrites nothing; the user sees what is there now and decides.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

import sqlalchemy as sa

from extensions import begin_write, db
from models import Account, Deal, Pipeline, Stage, User
from services import accounts, settings
from services.errors import Invalid

MAX_AMOUNT = Decimal("999999999999.99")  # Numeric(14, 2)
MAX_COMPANY = 200


class Conflict(Exception):
    """The stored value changed since the form was shown; nothing was written."""

    def __init__(self, label: str, current: str):
        super().__init__(f"{label} was changed to {current} while you were editing.")
        self.message = (
            f"Someone else changed {label} to “{current}” while you were editing. "
            "Your change was not saved: check the value and save again to replace it."
        )
        self.current = current


@dataclass(frozen=True)
class Field:
    key: str
    label: str


FIELDS = {
    f.key: f
    for f in (
        Field("amount", "Amount"),
        Field("close_date", "Close date"),
        Field("pipeline", "Pipeline"),
        Field("stage", "Deal stage"),
        Field("owner", "Deal owner"),
        Field("company", "Company"),
    )
}


def field(key: str) -> Field | None:
    """The editable field called `key`, or None: the allow-list of what a form may change."""
    return FIELDS.get(key)


def format_amount(amount: Decimal | None) -> str:
    return f"{amount:,.2f}" if amount is not None else "—"


def display(deal: Deal, key: str) -> str:
    """The field's value as the page shows it (plain text). Needs the deal's labels loaded."""
    if key == "amount":
        return format_amount(deal.amount)
    if key == "close_date":
        return deal.close_date.strftime("%-d %b %Y") if deal.close_date else "—"
    if key == "pipeline":
        return deal.pipeline.name
    if key == "stage":
        return deal.stage.name
    if key == "owner":
        return deal.owner.full_name if deal.owner else "—"
    return deal.company_name or "—"


def token(deal: Deal, key: str) -> str:
    """The stored value as the edit form remembers it, to notice a concurrent change."""
    if key == "amount":
        return "" if deal.amount is None else f"{deal.amount:.2f}"
    if key == "close_date":
        return deal.close_date.isoformat() if deal.close_date else ""
    if key == "pipeline":
        return f"{deal.pipeline_id}:{deal.stage_id}"
    if key == "stage":
        return str(deal.stage_id)
    if key == "owner":
        return str(deal.owner_id or "")
    return deal.company_name or ""


def stages_by_pipeline(deal: Deal) -> list[tuple[Pipeline, list[Stage]]]:
    """The account's pipelines with their stages, in order: what the selects offer."""
    pipelines = _pipelines_of(deal)
    stages = db.session.scalars(
        sa.select(Stage)
        .where(Stage.pipeline_id.in_([p.id for p in pipelines]))
        .order_by(Stage.pipeline_id, Stage.position, Stage.id)
    )
    grouped: dict[int, list[Stage]] = {p.id: [] for p in pipelines}
    for stage in stages:
        grouped[stage.pipeline_id].append(stage)
    return [(p, grouped[p.id]) for p in pipelines]


def _pipelines_of(deal: Deal) -> list[Pipeline]:
    # The account is in the session already (it is the current user's).
    return settings.pipelines_of(db.session.get(Account, deal.account_id))


def owner_choices(deal: Deal) -> list[User]:
    """Who may own the deal: the active users of its account."""
    return accounts.active_users_of(deal.account_id)


def _parse_amount(raw: str) -> Decimal | None:
    text = (raw or "").strip().replace(",", "").replace(" ", "")
    if not text:
        return None
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise Invalid("Enter an amount as a number, like 12500 or 12,500.00.", "amount") from None
    if not amount.is_finite() or amount < 0 or amount > MAX_AMOUNT:
        raise Invalid("Enter an amount between 0 and 999,999,999,999.99.", "amount")
    if amount != amount.quantize(Decimal("0.01")):
        raise Invalid("Use at most two decimals.", "amount")
    return amount.quantize(Decimal("0.01"))


def _parse_date(raw: str) -> date | None:
    text = (raw or "").strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise Invalid("Enter a date like 2026-12-31.", "close_date") from None


def _parse_id(raw: str | None, message: str, field_name: str) -> int:
    try:
        return int((raw or "").strip())
    except ValueError:
        raise Invalid(message, field_name) from None


def _stage_in(pipeline_id: int, stage_id: int) -> Stage | None:
    return db.session.scalar(
        sa.select(Stage).where(Stage.id == stage_id, Stage.pipeline_id == pipeline_id)
    )


def _apply(deal: Deal, key: str, form: dict) -> None:
    """Validate the posted value(s) for `key` and set them on `deal` (no commit)."""
    if key == "amount":
        deal.amount = _parse_amount(form.get("amount"))
    elif key == "close_date":
        deal.close_date = _parse_date(form.get("close_date"))
    elif key == "company":
        company = (form.get("company") or "").strip()
        if len(company) > MAX_COMPANY:
            raise Invalid(f"Use at most {MAX_COMPANY} characters.", "company")
        deal.company_name = company
    elif key in ("pipeline", "stage"):
        pipeline_id = deal.pipeline_id
        if key == "pipeline":
            pipeline_id = _parse_id(form.get("pipeline"), "Choose a pipeline.", "pipeline")
            if pipeline_id not in {p.id for p in _pipelines_of(deal)}:
                raise Invalid("Choose one of your account's pipelines.", "pipeline")
        stage_id = _parse_id(form.get("stage"), "Choose a deal stage.", "stage")
        if _stage_in(pipeline_id, stage_id) is None:
            raise Invalid("Choose a deal stage of the chosen pipeline.", "stage")
        deal.pipeline_id, deal.stage_id = pipeline_id, stage_id
    elif key == "owner":
        raw = (form.get("owner") or "").strip()
        if not raw:
            deal.owner_id = None
            return
        owner_id = _parse_id(raw, "Choose an active user of your account.", "owner")
        if owner_id not in {u.id for u in owner_choices(deal)}:
            raise Invalid("Choose an active user of your account.", "owner")
        deal.owner_id = owner_id
    else:  # pragma: no cover - callers look keys up with field() first
        raise Invalid("That field cannot be edited.")


def update(user: User, deal: Deal, key: str, form: dict, original: str | None) -> bool:
    """Change one field of the user's own deal from the posted `form`. Commits.

    `original` is the `token` the edit form started from: if the stored value is no
    longer that, raises `Conflict` (with the current value) and writes nothing.
    Raises `Invalid` for a bad value (nothing written). Returns whether it changed.
    """
    if field(key) is None:
        raise Invalid("That field cannot be edited.")
    deal_id, account_id = deal.id, user.account_id
    try:
        begin_write()
        if deal.account_id != account_id:
            raise Invalid("That field cannot be edited.")
        # Read the deal again inside the write transaction: the copy we hold may be stale.
        db.session.execute(
            sa.select(Deal)
            .where(Deal.id == deal_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        current = token(deal, key)
        if original is not None and original != current:
            raise Conflict(FIELDS[key].label, _display_fresh(deal, key))
        _apply(deal, key, form)
        changed = token(deal, key) != current
        if changed:
            db.session.commit()
        else:
            db.session.rollback()
    except Exception:
        db.session.rollback()
        raise
    return changed


def _display_fresh(deal: Deal, key: str) -> str:
    """The display value of `key`, reading labels by id (the deal's relationships may be stale)."""
    if key == "pipeline":
        return db.session.get(Pipeline, deal.pipeline_id).name
    if key == "stage":
        return db.session.get(Stage, deal.stage_id).name
    if key == "owner":
        owner = db.session.get(User, deal.owner_id) if deal.owner_id else None
        return owner.full_name if owner else "—"
    return display(deal, key)
