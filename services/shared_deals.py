"""Creating a shared deal: one deal in each party's CRM, linked, registered, on record.

The creator's deal goes into the pipeline and stage they chose; the other
party's deal lands in the first stage of *that* party's referred deals pipeline
as it is set at creation time (changing the setting later moves nothing).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from extensions import db
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
from services.changes import writing
from services.errors import Invalid

NAME_MAX = 200
NOTE_MAX = 5000

# The messages shown next to the fields; tests and people read these words.
ENTER_NAME = _l("Enter the deal name.")
NAME_TOO_LONG = _l("Keep the deal name under %(num)s characters.", num=NAME_MAX)
CHOOSE_PARTNER = _l("Choose a partner from the list.")
CHOOSE_VENDOR = _l("Choose the vendor from the list.")
CHOOSE_PIPELINE = settings.CHOOSE_PIPELINE
CHOOSE_STAGE = _l("Choose a deal stage.")
EXPIRY_IN_THE_PAST = _l("The expiry date cannot be in the past.")
NOTE_REQUIRED = {
    "intro_note": _l("Write an intro note for the vendor."),
    "pain_or_opportunity": _l("Describe the specific pain or opportunity."),
    "next_steps": _l("Give the next steps."),
}
NOTE_TOO_LONG = _l("Keep it under %(num)s characters.", num=NOTE_MAX)


def choose_stage_message(pipeline: Pipeline) -> str:
    """The message for a stage that is not one of `pipeline`'s stages."""
    return _("Choose a stage of the %(pipeline)s pipeline.", pipeline=pipeline.name)


class InvalidSharedDeal(Invalid):
    """Several fields may be wrong at once: `errors` maps field name -> message."""

    def __init__(self, errors: dict[str, str]):
        field, message = next(iter(errors.items()))
        super().__init__(message, field)
        self.errors = errors


@dataclass
class NewSharedDeal:
    """What the creator entered, typed (the form read and checked each field).

    `other_party_id` is the partner account for a vendor user and the vendor
    account for a partner user. The shared notes count only for partner users;
    `registration_expires_on` only for vendor users.
    """

    name: str
    amount: Decimal | None = None
    close_date: date | None = None
    other_party_id: int | None = None
    pipeline_id: int | None = None
    stage_id: int | None = None
    intro_note: str = ""
    pain_or_opportunity: str = ""
    next_steps: str = ""
    registration_expires_on: date | None = None


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


def own_pipeline(user: User, pipeline_id: int | None) -> Pipeline | None:
    """The pipeline `pipeline_id` if it is one of the user's account's own, else None."""
    if pipeline_id is None:
        return None
    return db.session.scalar(
        sa.select(Pipeline).where(
            Pipeline.id == pipeline_id, Pipeline.account_id == user.account_id
        )
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
    creator_is_vendor = creator.account.is_vendor
    errors: dict[str, str] = {}
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
    expires_on = data.registration_expires_on if creator_is_vendor else None
    if expires_on is not None and expires_on < today:
        errors["registration_expires_on"] = EXPIRY_IN_THE_PAST
    notes = {
        key: "" if creator_is_vendor else getattr(data, key)
        for key in ("intro_note", "pain_or_opportunity", "next_steps")
    }
    landing_stage = _landing_stage_in(other) if other is not None else None
    if other is not None and landing_stage is None:
        errors["other_party"] = f"{other.name} cannot receive shared deals: it has no pipeline."
    if errors:
        raise InvalidSharedDeal(errors)
    with writing():
        return _create(creator, data, other, pipeline, stage, landing_stage, notes, expires_on)


def _create(creator, data, other, pipeline, stage, landing_stage, notes, expires_on) -> SharedDeal:
    creator_is_vendor = creator.account.is_vendor
    name, amount, close_date = data.name, data.amount, data.close_date
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
    return shared


def _landing_stage_in(account: Account) -> Stage | None:
    """The first stage of the account's referred deals pipeline, if it has one."""
    try:
        pipeline = settings.referred_pipeline_for(account)
    except Invalid:
        return None
    stages = stages_of(pipeline)
    return stages[0] if stages else None


def _other_party(creator: User, account_id: int | None) -> Account | None:
    if account_id is None:
        return None
    account = db.session.get(Account, account_id)
    wanted = "partner" if creator.account.is_vendor else "vendor"
    if account is None or account.kind != wanted or account.id == creator.account_id:
        return None
    return account


def _stage_of(pipeline: Pipeline, stage_id: int | None) -> Stage | None:
    if stage_id is None:
        return None
    return db.session.scalar(
        sa.select(Stage).where(Stage.id == stage_id, Stage.pipeline_id == pipeline.id)
    )
