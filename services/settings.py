"""Account settings: the referred deals pipeline."""

import sqlalchemy as sa

from catalog import gettext as _
from catalog import lazy_gettext as _l
from extensions import db
from models import Account, AccountSettings, Pipeline, User
from services.changes import upsert, writing
from services.errors import Forbidden, Invalid

CHOOSE_PIPELINE = _l("Choose one of your account's pipelines.")


def pipelines_of(account_id: int) -> list[Pipeline]:
    """The account's own pipelines, in display order."""
    return list(
        db.session.scalars(
            sa.select(Pipeline)
            .where(Pipeline.account_id == account_id)
            .order_by(Pipeline.position, Pipeline.id)
        )
    )


def referred_pipeline_for(account: Account) -> Pipeline:
    """The pipeline where shared deals created by the other party land for `account`.

    Falls back to the account's first pipeline when the setting was never made.
    """
    settings = db.session.get(AccountSettings, account.id)
    if settings is not None and settings.referred_pipeline_id is not None:
        pipeline = db.session.get(Pipeline, settings.referred_pipeline_id)
        if pipeline is not None:
            return pipeline
    pipelines = pipelines_of(account.id)
    if not pipelines:
        raise Invalid(
            _("%(account)s has no pipeline to receive shared deals.", account=account.name)
        )
    return pipelines[0]


def set_referred_pipeline(actor: User, pipeline_id: int) -> Pipeline:
    """Make `pipeline_id` the actor's account's referred deals pipeline (admins only). Commits.

    Existing deals stay where they are: only deals created afterwards use it.
    """
    if not actor.is_admin:
        raise Forbidden(_("Only account admins may change the referred deals pipeline."))
    account_id = actor.account_id
    with writing():
        pipeline = db.session.scalar(
            sa.select(Pipeline).where(Pipeline.id == pipeline_id, Pipeline.account_id == account_id)
        )
        if pipeline is None:
            raise Invalid(CHOOSE_PIPELINE, "pipeline")
        # Two saves at once (or the account's first): one row, the last save's value.
        upsert(AccountSettings, {"account_id": account_id}, {"referred_pipeline_id": pipeline.id})
    return pipeline
