"""Creating a shared deal: one deal in each party's CRM, linked, registered, on record.

The creator's deal goes into the pipeline and stage they chose; the other
party's deal lands in the first stage of *that* party's referred deals pipeline
as it is set at creation time (changing the setting later moves nothing).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

import sqlalchemy as sa

from extensions import begin_write, db
from models import (
    Account,
    Deal,
    DealRegistration,
    DealTeamMember,
    Pipeline,
    SharedDeal,
    Stage,
    User,
)
from services import activity, settings
from services.errors import Invalid

NAME_MAX = 200
NOTE_MAX = 5000
AMOUNT_MAX = Decimal("999999999999.99")  # deals.amount is NUMERIC(14, 2)
CENT = Decimal("0.01")

# The messages shown next to the fields; tests and people read these words.
ENTER_NAME = "Enter the deal name."
NAME_TOO_LONG = f"Keep the deal name under {NAME_MAX} characters."
AMOUNT_NOT_A_NUMBER = "Enter the amount as a number, like 12500 or 12500.50."
AMOUNT_NEGATIVE = "The amount cannot be negative."
AMOUNT_TOO_LARGE = "That amount is too large."
BAD_DATE = "Enter a date like 2026-03-31."
CHOOSE_PARTNER = "Choose a partner from the list."
CHOOSE_VENDOR = "Choose the vendor from the list."
CHOOSE_PIPELINE = settings.CHOOSE_PIPELINE
EXPIRY_IN_THE_PAST = "The expiry date cannot be in the past."
NOTE_REQUIRED = {
    "intro_note": "Write an intro note for the vendor.",
    "pain_or_opportunity": "Describe the specific pain or opportunity.",
    "next_steps": "Give the next steps.",
}
NOTE_TOO_LONG = f"Keep it under {NOTE_MAX} characters."


def choose_stage_message(pipeline: Pipeline) -> str:
    """The message for a stage that is not one of `pipeline`'s stages."""
    return f"Choose a stage of the {pipeline.name} pipeline."


class InvalidSharedDeal(Invalid):
    """Several fields may be wrong at once: `errors` maps field name -> message."""

    def __init__(self, errors: dict[str, str]):
        field, message = next(iter(errors.items()))
        super().__init__(message, field)
        self.errors = errors


@dataclass
class NewSharedDeal:
    """What the creator typed, as text; `create` parses and checks every field.

    `other_party_id` is the partner account for a vendor user and the vendor
    account for a partner user. The shared notes count only for partner users;
    `registration_expires_on` only for vendor users.
    """

    name: str = ""
    amount: str = ""
    close_date: str = ""
    other_party_id: str = ""
    pipeline_id: str = ""
    stage_id: str = ""
    intro_note: str = ""
    pain_or_opportunity: str = ""
    next_steps: str = ""
    registration_expires_on: str = ""


def other_parties_for(user: User) -> list[Account]:
    """The accounts `user` may create a shared deal with: partners for a vendor, else vendors."""
    kind = "partner" if user.account.is_vendor else "vendor"
    return list(
        db.session.scalars(sa.select(Account).where(Account.kind == kind).order_by(Account.name))
    )


def stages_of(pipeline: Pipeline) -> list[Stage]:
    """The pipeline's stages, in order."""
    return list(
        db.session.scalars(
            sa.select(Stage)
            .where(Stage.pipeline_id == pipeline.id)
            .order_by(Stage.position, Stage.id)
        )
    )


def own_pipeline(user: User, pipeline_id) -> Pipeline | None:
    """The pipeline `pipeline_id` if it is one of the user's account's own, else None."""
    number = _parse_id(pipeline_id)
    if number is None:
        return None
    return db.session.scalar(
        sa.select(Pipeline).where(Pipeline.id == number, Pipeline.account_id == user.account_id)
    )


def default_owner_of(account: Account) -> User | None:
    """Who owns a deal that lands in `account` from the other party: its first active admin.

    Admins triage what comes in through the referred deals pipeline; the earliest
    one is a stable choice. Falls back to the first active user, then to nobody.
    """
    return db.session.scalar(
        sa.select(User)
        .where(User.account_id == account.id, User.active.is_(True))
        .order_by(sa.case((User.role == "admin", 0), else_=1), User.id)
        .limit(1)
    )


def create(creator: User, data: NewSharedDeal, today: date | None = None) -> SharedDeal:
    """Create a shared deal for `creator` and commit; the creator's own deal is `result`'s side.

    Writes, in one transaction: the creator's deal (their pipeline and stage,
    owned by them), the other party's deal (first stage of that party's referred
    deals pipeline, owned by its first admin), the SharedDeal with the partner's
    notes, the creator on the deal team, an active registration for the partner
    (by the vendor rep who creates it, or with no registering user when the
    partner creates it: "registered automatically"), and the "created" activity
    with its notifications (the other party's deal owner hears of it too).

    Raises InvalidSharedDeal (nothing written) when any field is wrong.
    """
    today = today or date.today()
    begin_write()
    creator_is_vendor = creator.account.is_vendor
    errors: dict[str, str] = {}

    name = (data.name or "").strip()
    if not name:
        errors["name"] = ENTER_NAME
    elif len(name) > NAME_MAX:
        errors["name"] = NAME_TOO_LONG

    amount = _parse_amount(data.amount, errors)
    close_date = _parse_date(data.close_date, "close_date", errors)

    other = _other_party(creator, data.other_party_id)
    if other is None:
        errors["other_party"] = CHOOSE_PARTNER if creator_is_vendor else CHOOSE_VENDOR

    pipeline = own_pipeline(creator, data.pipeline_id)
    stage = None
    if pipeline is None:
        errors["pipeline"] = CHOOSE_PIPELINE
    else:
        stage = _stage_of(pipeline, data.stage_id)
        if stage is None:
            errors["stage"] = choose_stage_message(pipeline)

    notes = {"intro_note": "", "pain_or_opportunity": "", "next_steps": ""}
    expires_on = None
    if creator_is_vendor:
        expires_on = _parse_date(data.registration_expires_on, "registration_expires_on", errors)
        if expires_on is not None and expires_on < today:
            errors["registration_expires_on"] = EXPIRY_IN_THE_PAST
    else:
        for field in notes:
            text = (getattr(data, field) or "").strip()
            if not text:
                errors[field] = NOTE_REQUIRED[field]
            elif len(text) > NOTE_MAX:
                errors[field] = NOTE_TOO_LONG
            notes[field] = text

    landing_stage = _landing_stage_in(other) if other is not None else None
    if other is not None and landing_stage is None:
        errors["other_party"] = f"{other.name} cannot receive shared deals: it has no pipeline."

    if errors:
        db.session.rollback()
        raise InvalidSharedDeal(errors)

    landing_pipeline = settings.referred_pipeline_for(other)
    other_owner = default_owner_of(other)

    def new_deal(account_id, deal_pipeline, deal_stage, owner):
        deal = Deal(
            account_id=account_id,
            name=name,
            amount=amount,
            close_date=close_date,
            pipeline_id=deal_pipeline.id,
            stage_id=deal_stage.id,
            owner_id=owner.id if owner else None,
        )
        db.session.add(deal)
        return deal

    own_deal = new_deal(creator.account_id, pipeline, stage, creator)
    other_deal = new_deal(other.id, landing_pipeline, landing_stage, other_owner)
    db.session.flush()
    partner_deal, vendor_deal = (
        (other_deal, own_deal) if creator_is_vendor else (own_deal, other_deal)
    )
    shared = SharedDeal(
        partner_account_id=partner_deal.account_id,
        vendor_account_id=vendor_deal.account_id,
        partner_deal_id=partner_deal.id,
        vendor_deal_id=vendor_deal.id,
        created_by_id=creator.id,
        **notes,
    )
    db.session.add(shared)
    db.session.flush()
    db.session.add(
        DealTeamMember(shared_deal_id=shared.id, user_id=creator.id, added_by_id=creator.id)
    )
    db.session.add(
        DealRegistration(
            shared_deal_id=shared.id,
            # A partner's own deal is registered by the system, not by a vendor rep.
            registered_by_id=creator.id if creator_is_vendor else None,
            expires_on=expires_on,
        )
    )
    db.session.flush()
    if creator_is_vendor:
        expiry = f"expires {expires_on.isoformat()}" if expires_on else "no expiry"
        summary = f"created the shared deal and registered it for {other.name} ({expiry})"
    else:
        summary = "created the shared deal (registered automatically)"
    activity.record(
        shared,
        creator,
        "created",
        summary,
        also_notify=[other_owner.id] if other_owner else (),
    )
    db.session.commit()
    return shared


def own_deal_id(shared: SharedDeal, user: User) -> int:
    """The id of the user's own account's deal of `shared`."""
    if shared.partner_account_id == user.account_id:
        return shared.partner_deal_id
    return shared.vendor_deal_id


def _landing_stage_in(account: Account) -> Stage | None:
    """The first stage of the account's referred deals pipeline, if it has one."""
    try:
        pipeline = settings.referred_pipeline_for(account)
    except Invalid:
        return None
    stages = stages_of(pipeline)
    return stages[0] if stages else None


def _parse_id(value) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    text = (value or "").strip() if isinstance(value, str) else ""
    if not text.isascii() or not text.isdigit() or len(text) > 18:
        return None
    return int(text)


def _parse_amount(value: str, errors: dict[str, str]) -> Decimal | None:
    text = (value or "").strip()
    if not text:
        return None
    try:
        amount = Decimal(text)
    except InvalidOperation:
        errors["amount"] = AMOUNT_NOT_A_NUMBER
        return None
    if not amount.is_finite():
        errors["amount"] = AMOUNT_NOT_A_NUMBER
        return None
    if amount < 0:
        errors["amount"] = AMOUNT_NEGATIVE
        return None
    amount = amount.quantize(CENT, rounding=ROUND_HALF_UP)
    if amount > AMOUNT_MAX:
        errors["amount"] = AMOUNT_TOO_LARGE
        return None
    return amount


def _parse_date(value: str, field: str, errors: dict[str, str]) -> date | None:
    text = (value or "").strip()
    if not text:
        return None
    try:
        # Only the ISO form a date input sends: YYYY-MM-DD.
        if len(text) != 10:
            raise ValueError(text)
        return date.fromisoformat(text)
    except ValueError:
        errors[field] = BAD_DATE
        return None


def _other_party(creator: User, account_id) -> Account | None:
    number = _parse_id(account_id)
    if number is None:
        return None
    account = db.session.get(Account, number)
    wanted = "partner" if creator.account.is_vendor else "vendor"
    if account is None or account.kind != wanted or account.id == creator.account_id:
        return None
    return account


def _stage_of(pipeline: Pipeline, stage_id) -> Stage | None:
    number = _parse_id(stage_id)
    if number is None:
        return None
    return db.session.scalar(
        sa.select(Stage).where(Stage.id == number, Stage.pipeline_id == pipeline.id)
    )
