"""Creating a shared deal (flow 6): one deal per party, in the right place, on record."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from models import (
    Account,
    Activity,
    Deal,
    DealRegistration,
    DealTeamMember,
    Notification,
    Pipeline,
    SharedDeal,
    Stage,
)
from services import activity, registration_queries, settings, shared_deals
from services.shared_deals import InvalidSharedDeal, NewSharedDeal

TODAY = date.today()


def pipeline(db_session, account, name):
    return db_session.scalar(
        sa.select(Pipeline).where(Pipeline.account_id == account.id, Pipeline.name == name)
    )


def stage(db_session, pipeline_, name):
    return db_session.scalar(
        sa.select(Stage).where(Stage.pipeline_id == pipeline_.id, Stage.name == name)
    )


def partner_input(db_session, demo, **changes):
    """Alice (Brightside) shares a deal with Northwind, in her Partner referrals › Contacted."""
    referrals = pipeline(db_session, demo.brightside, "Partner referrals")
    values = {
        "name": "Wonka Foods loyalty app",
        "amount": Decimal("48000"),
        "close_date": date(2026, 9, 30),
        "other_party_id": demo.northwind.id,
        "pipeline_id": referrals.id,
        "stage_id": stage(db_session, referrals, "Contacted").id,
        "intro_note": "Met their CMO at a conference.",
        "pain_or_opportunity": "Loyalty data lives in spreadsheets.",
        "next_steps": "Joint call next Tuesday.",
    }
    return NewSharedDeal(**{**values, **changes})


def vendor_input(db_session, demo, partner=None, **changes):
    """Rita (Northwind) registers a deal for a partner, in her Sales pipeline › Demo."""
    sales = pipeline(db_session, demo.northwind, "Sales pipeline")
    values = {
        "name": "Tyrell data platform",
        "amount": Decimal("125000.50"),
        "close_date": date(2026, 12, 15),
        "other_party_id": (partner or demo.harbor).id,
        "pipeline_id": sales.id,
        "stage_id": stage(db_session, sales, "Demo").id,
    }
    return NewSharedDeal(**{**values, **changes})


def counts(db_session):
    return {
        model.__name__: db_session.scalar(sa.select(sa.func.count()).select_from(model))
        for model in (
            Deal,
            SharedDeal,
            DealTeamMember,
            DealRegistration,
            Activity,
            Notification,
        )
    }


def deals_of(db_session, shared):
    return db_session.get(Deal, shared.partner_deal_id), db_session.get(Deal, shared.vendor_deal_id)


def registrations_of(db_session, shared):
    return list(
        db_session.scalars(
            sa.select(DealRegistration).where(DealRegistration.shared_deal_id == shared.id)
        )
    )


# --- created by a partner -------------------------------------------------------------


def test_partner_creates_a_shared_deal(demo, db_session):
    data = partner_input(db_session, demo)
    shared = shared_deals.create(demo.alice, data)

    partner_deal, vendor_deal = deals_of(db_session, shared)
    assert shared.partner_account_id == demo.brightside.id
    assert shared.vendor_account_id == demo.northwind.id
    # Alice's deal: where she chose, owned by her.
    assert partner_deal.account_id == demo.brightside.id
    assert partner_deal.pipeline_id == data.pipeline_id
    assert partner_deal.stage_id == data.stage_id
    assert partner_deal.owner_id == demo.alice.id
    assert (partner_deal.name, partner_deal.amount, partner_deal.close_date) == (
        "Wonka Foods loyalty app",
        Decimal("48000.00"),
        date(2026, 9, 30),
    )
    # Northwind's deal: first stage of Northwind's referred pipeline, owned by its admin.
    assert vendor_deal.account_id == demo.northwind.id
    partner_deals = pipeline(db_session, demo.northwind, "Partner deals")
    assert vendor_deal.pipeline_id == partner_deals.id
    assert vendor_deal.stage_id == stage(db_session, partner_deals, "Registered").id
    assert vendor_deal.owner_id == demo.rita.id
    assert (vendor_deal.name, vendor_deal.amount, vendor_deal.close_date) == (
        partner_deal.name,
        partner_deal.amount,
        partner_deal.close_date,
    )
    # The partner's notes are on the shared deal.
    assert shared.intro_note == "Met their CMO at a conference."
    assert shared.pain_or_opportunity == "Loyalty data lives in spreadsheets."
    assert shared.next_steps == "Joint call next Tuesday."
    assert shared.created_by_id == demo.alice.id


def test_a_partners_deal_starts_unregistered(demo, db_session):
    shared = shared_deals.create(demo.alice, partner_input(db_session, demo))
    assert registrations_of(db_session, shared) == []
    count = db_session.scalar(
        sa.select(registration_queries.active_count_for_deal(TODAY)).where(
            Deal.id == shared.partner_deal_id
        )
    )
    assert count == 0


def test_the_creator_is_on_the_team_alone(demo, db_session):
    shared = shared_deals.create(demo.alice, partner_input(db_session, demo))
    assert activity.team_user_ids(shared) == {demo.alice.id}
    member = db_session.scalar(
        sa.select(DealTeamMember).where(DealTeamMember.shared_deal_id == shared.id)
    )
    assert member.added_by_id == demo.alice.id


def test_creation_is_recorded_and_the_other_partys_owner_notified(demo, db_session):
    shared = shared_deals.create(demo.alice, partner_input(db_session, demo))
    (created,) = db_session.scalars(sa.select(Activity).where(Activity.shared_deal_id == shared.id))
    assert created.action == "created"
    assert created.actor_id == demo.alice.id
    assert "created the shared deal" in created.summary
    notified = set(
        db_session.scalars(
            sa.select(Notification.user_id).where(Notification.activity_id == created.id)
        )
    )
    assert notified == {demo.rita.id}  # the vendor deal's owner; never the actor


def test_partner_lands_in_the_vendors_referred_pipeline_as_set_now(demo, db_session):
    sales = pipeline(db_session, demo.northwind, "Sales pipeline")
    settings.set_referred_pipeline(demo.rita, sales.id)
    shared = shared_deals.create(demo.alice, partner_input(db_session, demo))
    vendor_deal = db_session.get(Deal, shared.vendor_deal_id)
    assert vendor_deal.pipeline_id == sales.id
    assert vendor_deal.stage_id == stage(db_session, sales, "Discovery").id


# --- created by a vendor rep ----------------------------------------------------------


def test_vendor_rep_creates_a_shared_deal_for_a_partner(demo, db_session):
    data = vendor_input(db_session, demo, partner=demo.harbor)
    shared = shared_deals.create(demo.victor, data)

    partner_deal, vendor_deal = deals_of(db_session, shared)
    assert vendor_deal.account_id == demo.northwind.id
    assert (vendor_deal.pipeline_id, vendor_deal.stage_id) == (
        data.pipeline_id,
        data.stage_id,
    )
    assert vendor_deal.owner_id == demo.victor.id
    assert vendor_deal.amount == Decimal("125000.50")
    # Harbor's deal: Harbor's referred pipeline is "Partner referrals"; its admin is Hana.
    referrals = pipeline(db_session, demo.harbor, "Partner referrals")
    assert partner_deal.account_id == demo.harbor.id
    assert partner_deal.pipeline_id == referrals.id
    assert partner_deal.stage_id == stage(db_session, referrals, "New referral").id
    assert partner_deal.owner_id == demo.hana.id
    assert activity.team_user_ids(shared) == {demo.victor.id}


def test_a_vendor_reps_deal_carries_their_registration(demo, db_session):
    shared = shared_deals.create(demo.victor, vendor_input(db_session, demo))
    (registration,) = registrations_of(db_session, shared)
    assert registration.registered_by_id == demo.victor.id
    assert registration.expires_on is None
    assert registration.status_on(TODAY) == "active"


def test_the_registration_may_expire(demo, db_session):
    expiry = TODAY + timedelta(days=30)
    shared = shared_deals.create(
        demo.rita, vendor_input(db_session, demo, registration_expires_on=expiry)
    )
    (registration,) = registrations_of(db_session, shared)
    assert registration.expires_on == expiry
    assert registration.status_on(expiry) == "active"
    assert registration.status_on(expiry + timedelta(days=1)) == "expired"
    created = db_session.scalar(sa.select(Activity).where(Activity.shared_deal_id == shared.id))
    assert created.summary == (
        f"created the shared deal and registered it for Harbor Digital (expires {expiry})"
    )


def test_vendor_side_ignores_the_partners_notes(demo, db_session):
    shared = shared_deals.create(
        demo.rita, vendor_input(db_session, demo, intro_note="sneaky", next_steps="sneaky")
    )
    assert (shared.intro_note, shared.next_steps) == ("", "")


def test_vendor_creation_notifies_the_partners_admin(demo, db_session):
    shared = shared_deals.create(demo.rita, vendor_input(db_session, demo, partner=demo.brightside))
    notified = set(
        db_session.scalars(
            sa.select(Notification.user_id)
            .join(Activity, Activity.id == Notification.activity_id)
            .where(Activity.shared_deal_id == shared.id)
        )
    )
    assert notified == {demo.alice.id}


def test_amount_and_dates_are_optional(demo, db_session):
    shared = shared_deals.create(
        demo.rita, vendor_input(db_session, demo, amount=None, close_date=None)
    )
    partner_deal, vendor_deal = deals_of(db_session, shared)
    assert partner_deal.amount is None and vendor_deal.close_date is None


# --- the referred pipeline setting ----------------------------------------------------


def test_changing_the_referred_pipeline_later_moves_nothing(demo, db_session):
    shared = shared_deals.create(demo.rita, vendor_input(db_session, demo, partner=demo.harbor))
    partner_deal = db_session.get(Deal, shared.partner_deal_id)
    where = (partner_deal.pipeline_id, partner_deal.stage_id)

    settings.set_referred_pipeline(
        demo.hana, pipeline(db_session, demo.harbor, "Sales pipeline").id
    )
    db_session.expire_all()
    partner_deal = db_session.get(Deal, shared.partner_deal_id)
    assert (partner_deal.pipeline_id, partner_deal.stage_id) == where

    # ...while the next one uses the new setting.
    later = shared_deals.create(
        demo.rita, vendor_input(db_session, demo, partner=demo.harbor, name="Later deal")
    )
    assert db_session.get(Deal, later.partner_deal_id).pipeline_id == (
        pipeline(db_session, demo.harbor, "Sales pipeline").id
    )


# --- one transaction ------------------------------------------------------------------


def test_a_failure_while_recording_leaves_nothing_behind(demo, db_session, monkeypatch):
    before = counts(db_session)
    original = activity.record

    def record_then_fail(*args, **kwargs):
        original(*args, **kwargs)
        raise RuntimeError("disk full")

    monkeypatch.setattr(activity, "record", record_then_fail)
    with pytest.raises(RuntimeError):
        shared_deals.create(demo.alice, partner_input(db_session, demo))
    db_session.rollback()
    assert counts(db_session) == before


def test_everything_is_committed_at_once(demo, db_session, monkeypatch):
    seen = []
    real_commit = db_session.commit

    def commit():
        seen.append(counts(db_session))
        real_commit()

    before = counts(db_session)
    monkeypatch.setattr(db_session, "commit", commit)
    shared_deals.create(demo.alice, partner_input(db_session, demo))
    assert len(seen) == 1
    (at_commit,) = seen
    assert {k: at_commit[k] - before[k] for k in before} == {
        "Deal": 2,
        "SharedDeal": 1,
        "DealTeamMember": 1,
        "DealRegistration": 0,  # a partner's shared deal starts unregistered
        "Activity": 1,
        "Notification": 1,
    }


# --- bad input changes nothing --------------------------------------------------------

# What the form cannot know: which accounts and pipelines are the creator's to pick.
# (Text that is not an amount, a date or an id never gets here: see test_shared_deals_create.)
BAD_PARTNER_INPUT = {
    "no vendor": ({"other_party_id": None}, "other_party", shared_deals.CHOOSE_VENDOR),
    "unknown vendor": ({"other_party_id": 987654}, "other_party", shared_deals.CHOOSE_VENDOR),
    "no pipeline": ({"pipeline_id": None}, "pipeline", shared_deals.CHOOSE_PIPELINE),
    "unknown pipeline": ({"pipeline_id": 987654}, "pipeline", shared_deals.CHOOSE_PIPELINE),
}


@pytest.mark.parametrize("case", BAD_PARTNER_INPUT, ids=list(BAD_PARTNER_INPUT))
def test_bad_partner_input_changes_nothing(demo, db_session, case):
    changes, field, message = BAD_PARTNER_INPUT[case]
    before = counts(db_session)
    with pytest.raises(InvalidSharedDeal) as error:
        shared_deals.create(demo.alice, partner_input(db_session, demo, **changes))
    assert error.value.errors[field] == message
    assert counts(db_session) == before


def test_a_partner_cannot_pick_a_partner(demo, db_session):
    for account in (demo.harbor, demo.brightside):
        with pytest.raises(InvalidSharedDeal) as error:
            shared_deals.create(
                demo.alice, partner_input(db_session, demo, other_party_id=account.id)
            )
        assert error.value.errors == {"other_party": shared_deals.CHOOSE_VENDOR}


@pytest.mark.parametrize("pick", ["vendor", "unknown", "none"])
def test_a_vendor_must_pick_a_partner(demo, db_session, pick):
    value = {"vendor": demo.northwind.id, "unknown": 987654, "none": None}
    before = counts(db_session)
    with pytest.raises(InvalidSharedDeal) as error:
        shared_deals.create(demo.rita, vendor_input(db_session, demo, other_party_id=value[pick]))
    assert error.value.errors == {"other_party": shared_deals.CHOOSE_PARTNER}
    assert counts(db_session) == before


def test_stage_must_belong_to_the_pipeline(demo, db_session):
    sales = pipeline(db_session, demo.brightside, "Sales pipeline")
    referrals = pipeline(db_session, demo.brightside, "Partner referrals")
    before = counts(db_session)
    with pytest.raises(InvalidSharedDeal) as error:
        shared_deals.create(
            demo.alice,
            partner_input(
                db_session,
                demo,
                pipeline_id=sales.id,
                stage_id=stage(db_session, referrals, "Contacted").id,
            ),
        )
    assert error.value.errors == {"stage": "Choose a stage of the Sales pipeline pipeline."}
    assert counts(db_session) == before


def test_pipeline_of_another_account_is_refused(demo, db_session):
    harbor_sales = pipeline(db_session, demo.harbor, "Sales pipeline")
    before = counts(db_session)
    with pytest.raises(InvalidSharedDeal) as error:
        shared_deals.create(
            demo.alice,
            partner_input(
                db_session,
                demo,
                pipeline_id=harbor_sales.id,
                stage_id=stage(db_session, harbor_sales, "Lead").id,
            ),
        )
    assert error.value.errors == {"pipeline": shared_deals.CHOOSE_PIPELINE}
    assert counts(db_session) == before


def test_registration_expiry_must_be_a_future_date(demo, db_session):
    before = counts(db_session)
    yesterday = TODAY - timedelta(days=1)
    with pytest.raises(InvalidSharedDeal) as error:
        shared_deals.create(
            demo.rita, vendor_input(db_session, demo, registration_expires_on=yesterday)
        )
    assert error.value.errors == {"registration_expires_on": shared_deals.EXPIRY_IN_THE_PAST}
    assert counts(db_session) == before


def test_every_wrong_field_is_reported_at_once(demo, db_session):
    with pytest.raises(InvalidSharedDeal) as error:
        shared_deals.create(demo.alice, NewSharedDeal(name="x", other_party_id=987654))
    assert set(error.value.errors) == {"other_party", "pipeline"}


def test_the_other_partys_deal_owner_falls_back_when_it_has_no_admin(demo, db_session):
    demo.hana.active = False
    db_session.commit()
    shared = shared_deals.create(demo.rita, vendor_input(db_session, demo, partner=demo.harbor))
    assert db_session.get(Deal, shared.partner_deal_id).owner_id is None
    assert shared_deals.default_owner_of(demo.brightside) == demo.alice


def test_a_partner_without_a_pipeline_cannot_receive_one(demo, db_session):
    empty = Account(name="Empty Partner", kind="partner")
    db_session.add(empty)
    db_session.commit()
    before = counts(db_session)
    with pytest.raises(InvalidSharedDeal) as error:
        shared_deals.create(demo.rita, vendor_input(db_session, demo, partner=empty))
    assert error.value.errors == {
        "other_party": "Empty Partner cannot receive shared deals: it has no pipeline."
    }
    assert counts(db_session) == before


def test_people_creating_at_the_same_moment_all_succeed(fresh_app):
    """Each thread reads first (as a view does), then all create at once: none is refused."""
    import threading

    from extensions import db
    from models import User

    emails = ("alice@brightside.example", "bob@brightside.example", "rita@northwind.example")
    emails += ("hana@harbor.example",)
    barrier = threading.Barrier(len(emails))
    failures = []

    def create_as(email):
        with fresh_app.app_context():
            try:
                user = db.session.scalar(sa.select(User).where(User.email == email))
                other = db.session.scalar(
                    sa.select(Account).where(
                        Account.kind == ("partner" if user.account.is_vendor else "vendor")
                    )
                )
                first = db.session.scalar(
                    sa.select(Pipeline)
                    .where(Pipeline.account_id == user.account_id)
                    .order_by(Pipeline.position)
                )
                first_stage = db.session.scalar(
                    sa.select(Stage).where(Stage.pipeline_id == first.id).order_by(Stage.position)
                )
                barrier.wait(timeout=10)
                shared_deals.create(
                    user,
                    NewSharedDeal(
                        name=f"Concurrent deal of {email}",
                        other_party_id=other.id,
                        pipeline_id=first.id,
                        stage_id=first_stage.id,
                        intro_note="a",
                        pain_or_opportunity="b",
                        next_steps="c",
                    ),
                )
            except Exception as error:  # any failure is the finding: reported below
                failures.append(f"{email}: {error!r}")
            finally:
                db.session.remove()

    threads = [threading.Thread(target=create_as, args=(email,)) for email in emails]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert failures == []
    with fresh_app.app_context():
        created = db.session.scalar(
            sa.select(sa.func.count(SharedDeal.id)).where(
                SharedDeal.partner_deal_id.in_(
                    sa.select(Deal.id).where(Deal.name.like("Concurrent deal of %"))
                )
            )
        )
        db.session.remove()
    assert created == len(emails)
