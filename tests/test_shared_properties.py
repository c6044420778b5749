"""Shared properties: name, amount and close date are the same on both deals of a
shared deal; every change to either deal of a shared deal is in its Activity."""

import threading
from datetime import date
from decimal import Decimal

import pytest
import sqlalchemy as sa

from extensions import db
from models import Activity, Deal, Notification, SharedDeal, User
from services import deal_fields, values
from services.errors import Conflict
from tests.html import field_value, page, region, text

HX = {"HX-Request": "true"}


def both(db_session, shared):
    db_session.expire_all()
    return db_session.get(Deal, shared.partner_deal_id), db_session.get(Deal, shared.vendor_deal_id)


def activities(db_session, shared):
    return db_session.scalars(
        sa.select(Activity).where(Activity.shared_deal_id == shared.id).order_by(Activity.id)
    ).all()


def test_the_demo_pairs_agree(db_session):
    for shared in db_session.scalars(sa.select(SharedDeal)):
        partner, vendor = both(db_session, shared)
        assert (partner.name, partner.amount, partner.close_date) == (
            vendor.name,
            vendor.amount,
            vendor.close_date,
        )


@pytest.mark.parametrize(
    ("key", "value", "column"),
    [
        ("name", "Acme Corp replatforming", "name"),
        ("amount", Decimal("123456.78"), "amount"),
        ("close_date", date(2027, 3, 31), "close_date"),
    ],
)
@pytest.mark.parametrize("who", ["alice", "rita"])
def test_a_shared_property_changes_both_deals_and_is_recorded(
    demo, db_session, key, value, column, who
):
    shared = demo.acme_shared
    actor = getattr(demo, who)
    own = shared.deal_id_of(actor.account_id)
    deal = db_session.get(Deal, own)
    before = deal_fields.display(deal, key)
    count = len(activities(db_session, shared))
    updated = [d.updated_at for d in both(db_session, shared)]
    deal = db_session.get(Deal, own)
    assert deal_fields.update(actor, own, key, value, deal_fields.token(deal, key)) is True
    partner, vendor = both(db_session, shared)
    assert getattr(partner, column) == getattr(vendor, column) == value
    assert partner.updated_at > updated[0] and vendor.updated_at > updated[1]
    rows = activities(db_session, shared)
    assert len(rows) == count + 1
    assert (rows[-1].actor_id, rows[-1].before) == (actor.id, before)
    assert rows[-1].after == deal_fields.display(db_session.get(Deal, own), key)
    told = set(
        db_session.scalars(
            sa.select(Notification.user_id).where(Notification.activity_id == rows[-1].id)
        )
    )
    assert told and actor.id not in told


def test_own_properties_stay_each_partys_own_but_are_recorded(demo, db_session):
    shared = demo.acme_shared
    partner, vendor = both(db_session, shared)
    count = len(activities(db_session, shared))
    assert deal_fields.update(
        demo.alice, partner.id, "company", "Acme Holdings", deal_fields.token(partner, "company")
    )
    partner, vendor = both(db_session, shared)
    assert partner.company_name == "Acme Holdings" != vendor.company_name
    rows = activities(db_session, shared)
    assert len(rows) == count + 1 and rows[-1].after == "Acme Holdings"
    assert "company" in rows[-1].summary


def test_a_pipeline_move_is_recorded_with_both_stages(demo, db_session):
    """The history says where the deal was and where it went: "pipeline › stage" both ways
    (the old pair read in the statement that checks the new one)."""
    shared = demo.acme_shared
    partner, _ = both(db_session, shared)
    pipelines = deal_fields.stages_by_pipeline(partner.account_id)
    ((now, now_stages),) = [(p, st) for p, st in pipelines if p.id == partner.pipeline_id]
    was = f"{now.name} › {next(st for st in now_stages if st.id == partner.stage_id).name}"
    pipeline, stages = next((p, st) for p, st in pipelines if p.id != partner.pipeline_id)
    token = deal_fields.token(partner, "pipeline")
    assert deal_fields.update(
        demo.alice, partner.id, "pipeline", (pipeline.id, stages[-1].id), token
    )
    row = activities(db_session, shared)[-1]
    assert (row.summary, row.before) == ("changed the pipeline", was)
    assert row.after == f"{pipeline.name} › {stages[-1].name}"


def test_a_stale_original_is_a_conflict_and_changes_neither_deal(demo, db_session):
    shared = demo.acme_shared
    partner, vendor = both(db_session, shared)
    stale = deal_fields.token(vendor, "amount")
    deal_fields.update(demo.alice, partner.id, "amount", Decimal("1000"), stale)
    count = len(activities(db_session, shared))
    with pytest.raises(Conflict):
        deal_fields.update(demo.rita, vendor.id, "amount", Decimal("2000"), stale)
    partner, vendor = both(db_session, shared)
    assert partner.amount == vendor.amount == Decimal("1000")
    assert len(activities(db_session, shared)) == count


def test_an_unchanged_value_writes_nothing(demo, db_session):
    shared = demo.acme_shared
    partner, _ = both(db_session, shared)
    count = len(activities(db_session, shared))
    token = deal_fields.token(partner, "amount")
    assert deal_fields.update(demo.alice, partner.id, "amount", partner.amount, token) is False
    assert len(activities(db_session, shared)) == count


def test_an_unshared_deal_changes_alone_and_writes_no_history(demo, db_session):
    initech = demo.initech
    total = db_session.scalar(sa.select(sa.func.count(Activity.id)))
    deal_fields.update(demo.alice, initech.id, "name", "Initech audit", initech.name)
    db_session.expire_all()
    assert db_session.get(Deal, initech.id).name == "Initech audit"
    assert db_session.scalar(sa.select(sa.func.count(Activity.id))) == total


def test_alice_edits_the_amount_and_rita_sees_it(client, login_as, demo, db_session):
    login_as(demo.alice)
    acme = demo.acme
    r = client.post(
        f"/deals/{acme.id}/fields/amount",
        data={"amount": "88,000", "original": deal_fields.token(acme, "amount")},
        headers=HX,
    )
    assert r.status_code == 200
    doc = page(r)
    # The header and the Activity are refreshed out of band with the field.
    assert "88,000.00" in text(doc.select_one("#deal-header"))
    assert "changed the amount" in text(doc.select_one('[hx-swap-oob="afterbegin:#activity-list"]'))
    login_as(demo.rita)
    vendor_page = page(client.get(f"/deals/{demo.acme_shared.vendor_deal_id}"))
    assert field_value(vendor_page, "Amount") == "88,000.00"
    assert "changed the amount" in text(region(vendor_page, "Activity"))
    assert "changed the amount" in text(page(client.get("/notifications")).find("main"))


def test_a_french_reader_sees_the_changed_amount_and_date_in_french(
    client, login_as, demo, db_session
):
    """The history is written in English; its amounts and dates are said again."""
    login_as(demo.alice)
    acme = demo.acme
    before_amount = values.format_amount(acme.amount, "fr")
    before_date = values.format_date(acme.close_date, "fr")
    for key, typed in (("amount", "88,000"), ("close_date", "2027-03-05")):
        r = client.post(
            f"/deals/{acme.id}/fields/{key}",
            data={key: typed, "original": deal_fields.token(acme, key)},
            headers=HX,
        )
        assert r.status_code == 200
    login_as(demo.rita)
    db_session.get(User, demo.rita.id).language = "fr"
    db_session.commit()
    for doc in (
        region(page(client.get(f"/deals/{demo.acme_shared.vendor_deal_id}")), "Activité"),
        page(client.get("/notifications")).find("main"),
    ):
        said = text(doc).replace("\u202f", " ")
        before = before_amount.replace("\u202f", " ")
        assert f"{before} changé en 88 000,00" in said, said
        assert f"{before_date} changé en 5 mars 2027" in said, said
        assert "88,000.00" not in said and "Mar 5, 2027" not in said


def test_the_card_shows_the_other_partys_stage(client, login_as, demo, db_session):
    login_as(demo.alice)
    vendor = db_session.get(Deal, demo.acme_shared.vendor_deal_id)
    stage = db_session.get(type(vendor).stage.property.mapper.class_, vendor.stage_id)
    doc = page(client.get(f"/deals/{demo.acme.id}"))
    assert field_value(doc, "Their stage") == stage.name


def test_the_name_is_edited_like_any_field(client, login_as, demo, db_session):
    login_as(demo.alice)
    r = client.post(f"/deals/{demo.acme.id}/fields/name", data={"name": "  ", "original": ""})
    assert r.status_code == 400 and "Enter the deal name." in r.get_data(as_text=True)
    r = client.post(f"/deals/{demo.acme.id}/fields/name", data={"name": "x" * 201})
    assert r.status_code == 400
    db_session.expire_all()
    assert db_session.get(Deal, demo.acme.id).name == "Acme Corp website relaunch"


def race(app, users, ids, amounts, original):
    """Each party saves its amount in its own thread and session, released at once."""
    barrier = threading.Barrier(len(amounts))
    outcomes, errors = {}, []

    def save(who, amount):
        try:
            with app.app_context():
                actor = db.session.get(User, users[who])
                db.session.rollback()
                barrier.wait(timeout=30)
                try:
                    deal_fields.update(actor, ids[who], "amount", amount, original)
                    outcomes[who] = "saved"
                except Conflict:
                    outcomes[who] = "conflict"
                db.session.remove()
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=save, args=item) for item in amounts.items()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    return outcomes


def test_both_parties_edit_the_amount_at_once_one_wins(fresh_app):
    """Barrier-released threads, real commits: one saves, the other sees a conflict."""
    with fresh_app.app_context():
        users = {u.email.split("@")[0]: u.id for u in db.session.scalars(sa.select(User))}
        shared = db.session.scalar(
            sa.select(SharedDeal)
            .join(Deal, Deal.id == SharedDeal.partner_deal_id)
            .where(Deal.name == "Acme Corp website relaunch")
        )
        ids = {"alice": shared.partner_deal_id, "rita": shared.vendor_deal_id}
        original = deal_fields.token(db.session.get(Deal, shared.partner_deal_id), "amount")
        shared_id = shared.id
    for round_number in range(5):
        amounts = {"alice": Decimal(1000 + round_number), "rita": Decimal(2000 + round_number)}
        outcomes = race(fresh_app, users, ids, amounts, original)
        assert sorted(outcomes.values()) == ["conflict", "saved"]
        winner = next(who for who, outcome in outcomes.items() if outcome == "saved")
        with fresh_app.app_context():
            shared = db.session.get(SharedDeal, shared_id)
            partner = db.session.get(Deal, shared.partner_deal_id)
            vendor = db.session.get(Deal, shared.vendor_deal_id)
            assert partner.amount == vendor.amount == amounts[winner]
            original = deal_fields.token(partner, "amount")
