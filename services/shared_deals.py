"""Creating a shared deal, or sharing an existing deal: one deal in each party's CRM,
linked, registered, on record.

The creator's deal goes into the pipeline and stage they chose; the other
party's deal lands in the first stage of *that* party's referred deals pipeline
as it is set at creation time (changing the setting later moves nothing).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import sqlalchemy as sa

from catalog import gettext as _
from catalog import lazy_gettext as _l
from extensions import db
from models import (
    Account,
    Deal,
    DealRegistration,
    DealTeamMember,
    Pipeline,
    Product,
    ProductInterest,
    SharedDeal,
    Stage,
    User,
)
from services import activity, product_interest, settings
from services.changes import lock_row, writing
from services.errors import Invalid, NotFound

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
ALREADY_SHARED = _l("This deal is already shared: nothing was changed.")


def choose_stage_message(pipeline: Pipeline) -> str:
    """The message for a stage that is not one of `pipeline`'s stages."""
    return _("Choose a stage of the %(pipeline)s pipeline.", pipeline=pipeline.name)


class AlreadyShared(Exception):
    """The deal to share is already part of a shared deal."""

    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


class InvalidSharedDeal(Invalid):
    """Several fields may be wrong at once: `errors` maps field name -> message."""

    def __init__(self, errors: dict[str, str]):
        field, message = next(iter(errors.items()))
        super().__init__(message, field)
        self.errors = errors


@dataclass(kw_only=True)
class SharingTerms:
    """What sharing a deal asks besides the deal itself, typed (the form checked each field).

    `other_party_id` is the partner account for a vendor user and the vendor
    account for a partner user; `product_ids` are products of the vendor's
    catalogue. The shared notes count only for partner users;
    `registration_expires_on` only for vendor users.
    """

    other_party_id: int | None = None
    product_ids: frozenset[int] = frozenset()
    intro_note: str = ""
    pain_or_opportunity: str = ""
    next_steps: str = ""
    registration_expires_on: date | None = None


@dataclass(kw_only=True)
class NewSharedDeal(SharingTerms):
    """A new shared deal: the deal as the creator entered it, and the sharing terms."""

    name: str
    amount: Decimal | None = None
    close_date: date | None = None
    pipeline_id: int | None = None
    stage_id: int | None = None


@dataclass
class _Sharing:
    """The sharing terms once checked: who, where their deal lands, and what is shared."""

    other: Account
    landing_stage: Stage
    notes: dict[str, str]
    expires_on: date | None
    product_ids: frozenset[int]


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


def products_offered(user: User) -> list[Product]:
    """The products the user may pick as product interest: the vendor's catalogue.

    For a vendor user, their own; for a partner user, every vendor's (the
    service checks the chosen ones belong to the chosen vendor).
    """
    vendor_ids = (
        [user.account_id]
        if user.account.is_vendor
        else [account.id for account in other_parties_for(user)]
    )
    return product_interest.catalogue_of(vendor_ids)


def create(creator: User, data: NewSharedDeal, today: date | None = None) -> SharedDeal:
    """Create a shared deal for `creator` and commit; the creator's own deal is `result`'s side.

    Writes, in one transaction: the creator's deal (their pipeline and stage,
    owned by them), what `_link` writes for any sharing (the other party's deal,
    the SharedDeal, the product interest, the team, and a vendor rep's active
    registration for the partner; a partner's deal starts unregistered: its users
    request a registration, services/registration_requests.py), and the
    "created" activity with its notifications (the other party's deal owner
    hears of it too).

    Raises InvalidSharedDeal (nothing written) when any field is wrong.
    """
    errors: dict[str, str] = {}
    sharing = _check_terms(creator, data, today or date.today(), errors)
    pipeline = own_pipeline(creator, data.pipeline_id)
    stage = None
    if pipeline is None:
        errors["pipeline"] = CHOOSE_PIPELINE
    else:
        stage = _stage_of(pipeline, data.stage_id)
        if stage is None:
            errors["stage"] = choose_stage_message(pipeline)
    if errors:
        raise InvalidSharedDeal(errors)
    with writing():
        _land_again(sharing)
        own_deal = _new_deal(creator.account_id, data, stage, creator)
        db.session.flush()
        shared, other_owner = _link(creator, own_deal, sharing)
        if creator.account.is_vendor:
            summary = f"created the shared deal and {_registered_for(sharing)}"
        else:
            summary = "created the shared deal"
        activity.record(shared, creator, "created", summary, also_notify=_ids_of(other_owner))
        return shared


def share(sharer: User, deal_id: int, terms: SharingTerms, today: date | None = None) -> SharedDeal:
    """Share the sharer's existing, unshared deal `deal_id` with the other party. Commits.

    Writes what `_link` writes (the other party's deal with this deal's name,
    amount and close date in their referred deals pipeline, the SharedDeal, the
    product interest, the sharer on the team, and for a vendor rep the
    partner's registration; a partner's deal starts unregistered), and the
    "shared" activity with its notifications.

    Raises NotFound for another account's deal or a missing one, AlreadyShared
    for a deal already shared, InvalidSharedDeal for bad terms; nothing is
    written in any of those cases.
    """
    errors: dict[str, str] = {}
    sharing = _check_terms(sharer, terms, today or date.today(), errors)
    if errors:
        raise InvalidSharedDeal(errors)
    with writing():
        own_deal = lock_row(Deal, deal_id, Deal.account_id == sharer.account_id)
        if own_deal is None:
            raise NotFound(f"No deal {deal_id} in this account.")
        if shared_deal_of(own_deal.id) is not None:
            raise AlreadyShared(ALREADY_SHARED)
        _land_again(sharing)
        shared, other_owner = _link(sharer, own_deal, sharing)
        if sharer.account.is_vendor:
            summary = f"shared the deal and {_registered_for(sharing)}"
        else:
            summary = f"shared the deal with {sharing.other.name}"
        activity.record(shared, sharer, "shared", summary, also_notify=_ids_of(other_owner))
        return shared


def shared_deal_of(deal_id: int) -> SharedDeal | None:
    """The shared deal the deal `deal_id` belongs to (on either side), if any."""
    return db.session.scalar(sa.select(SharedDeal).where(SharedDeal.holds_deal(deal_id)))


def _check_terms(
    creator: User, terms: SharingTerms, today: date, errors: dict[str, str]
) -> _Sharing | None:
    """Check the sharing terms, adding each wrong field's message to `errors`."""
    creator_is_vendor = creator.account.is_vendor
    other = _other_party(creator, terms.other_party_id)
    if other is None:
        errors["other_party"] = CHOOSE_PARTNER if creator_is_vendor else CHOOSE_VENDOR
    expires_on = terms.registration_expires_on if creator_is_vendor else None
    if expires_on is not None and expires_on < today:
        errors["registration_expires_on"] = EXPIRY_IN_THE_PAST
    notes = {
        key: "" if creator_is_vendor else getattr(terms, key)
        for key in ("intro_note", "pain_or_opportunity", "next_steps")
    }
    landing_stage = _landing_stage_in(other) if other is not None else None
    if other is not None and landing_stage is None:
        errors["other_party"] = cannot_receive(other)
    product_ids = frozenset(terms.product_ids)
    vendor = creator.account if creator_is_vendor else other
    if product_ids and vendor is not None:
        catalogue = {p.id for p in product_interest.catalogue_of([vendor.id])}
        if not product_ids <= catalogue:
            errors["products"] = product_interest.CHOOSE_PRODUCTS
    if errors:
        return None
    return _Sharing(other, landing_stage, notes, expires_on, product_ids)


def cannot_receive(account: Account) -> str:
    """The message for an other party with no pipeline to land a shared deal in."""
    return _("%(account)s cannot receive shared deals: it has no pipeline.", account=account.name)


def _land_again(sharing: _Sharing) -> None:
    """Inside the write, read the landing stage again: the other party may have changed
    its referred deals pipeline since (the deal must land in that pipeline's stage)."""
    landing_stage = _landing_stage_in(sharing.other)
    if landing_stage is None:
        raise InvalidSharedDeal({"other_party": cannot_receive(sharing.other)})
    sharing.landing_stage = landing_stage


def _new_deal(account_id: int, values, stage: Stage, owner: User | None) -> Deal:
    """A new deal of `account_id` in `stage`, with `values`' name, amount and close date."""
    deal = Deal(
        account_id=account_id,
        name=values.name,
        amount=values.amount,
        close_date=values.close_date,
        pipeline_id=stage.pipeline_id,
        stage_id=stage.id,
        owner_id=owner.id if owner else None,
    )
    db.session.add(deal)
    return deal


def _link(creator: User, own_deal: Deal, sharing: _Sharing) -> tuple[SharedDeal, User | None]:
    """Inside a write: link `own_deal` with a new deal of the other party. No commit.

    Writes the other party's deal (`own_deal`'s name, amount and close date, in
    the first stage of their referred deals pipeline, owned by its first admin),
    the SharedDeal with the partner's notes, the product interest, the creator
    on the deal team, and, when a vendor rep shares, the partner's active
    registration. Returns the shared deal and the other deal's owner.
    """
    creator_is_vendor = creator.account.is_vendor
    other = sharing.other
    other_owner = default_owner_of(other)
    # The shared properties start as the creator's deal has them.
    other_deal = _new_deal(other.id, own_deal, sharing.landing_stage, other_owner)
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
        **sharing.notes,
    )
    db.session.add(shared)
    db.session.flush()
    db.session.add(
        DealTeamMember(shared_deal_id=shared.id, user_id=creator.id, added_by_id=creator.id)
    )
    db.session.add_all(
        ProductInterest(shared_deal_id=shared.id, product_id=product_id)
        for product_id in sorted(sharing.product_ids)
    )
    if creator_is_vendor:
        db.session.add(
            DealRegistration(
                shared_deal_id=shared.id,
                registered_by_id=creator.id,
                expires_on=sharing.expires_on,
            )
        )
    db.session.flush()
    return shared, other_owner


def _registered_for(sharing: _Sharing) -> str:
    expires_on = sharing.expires_on
    expiry = f"expires {expires_on.isoformat()}" if expires_on else "no expiry"
    return f"registered it for {sharing.other.name} ({expiry})"


def _ids_of(user: User | None) -> list[int]:
    return [user.id] if user else []


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
