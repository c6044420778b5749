"""The deal team: own account only, active users only, both sides visible, change-set merge."""

import pytest
import sqlalchemy as sa
from hypothesis import strategies as st

from models import Activity, DealTeamMember, Notification
from services import accounts, activity, team
from services.errors import Forbidden, Invalid
from tests.changes import sequences_of_changes


def member_ids(db_session, shared):
    return set(
        db_session.scalars(
            sa.select(DealTeamMember.user_id).where(DealTeamMember.shared_deal_id == shared.id)
        )
    )


def activity_count(db_session, shared):
    return db_session.scalar(
        sa.select(sa.func.count(Activity.id)).where(Activity.shared_deal_id == shared.id)
    )


def test_candidates_are_the_active_users_of_your_own_account(demo, db_session):
    demo.carol.active = False
    db_session.commit()
    assert [u.full_name for u in accounts.active_users_of(demo.alice.account_id)] == [
        "Alice Martin",
        "Bob Nguyen",
    ]
    assert [u.full_name for u in accounts.active_users_of(demo.rita.account_id)] == [
        "Rita Okafor",
        "Victor Lindqvist",
    ]


def test_both_parties_see_every_member_with_their_account(demo):
    members = team.members_of(demo.acme_shared)
    assert [(m.full_name, m.account_name, m.account_kind) for m in members] == [
        ("Alice Martin", "Brightside Agency", "partner"),
        ("Rita Okafor", "Northwind Cloud", "vendor"),
    ]


def test_adding_a_member_of_your_account(demo, db_session):
    assert team.apply_changes(demo.acme_shared, demo.alice, {demo.bob.id}, set()) is True
    assert member_ids(db_session, demo.acme_shared) == {demo.alice.id, demo.bob.id, demo.rita.id}
    row = db_session.scalar(
        sa.select(Activity)
        .where(Activity.shared_deal_id == demo.acme_shared.id)
        .order_by(Activity.id.desc())
    )
    assert row.summary == "added Bob Nguyen to the deal team"
    assert row.before == "Alice Martin, Rita Okafor"
    assert row.after == "Alice Martin, Bob Nguyen, Rita Okafor"


@pytest.mark.parametrize("who", ["rita", "hana"])
def test_a_user_of_another_account_is_refused(demo, db_session, who):
    before = activity_count(db_session, demo.acme_shared)
    with pytest.raises(Invalid):
        team.apply_changes(demo.acme_shared, demo.alice, {getattr(demo, who).id}, set())
    assert member_ids(db_session, demo.acme_shared) == {demo.alice.id, demo.rita.id}
    assert activity_count(db_session, demo.acme_shared) == before


def test_the_other_partys_members_cannot_be_removed(demo, db_session):
    with pytest.raises(Invalid):
        team.apply_changes(demo.acme_shared, demo.alice, set(), {demo.rita.id})
    assert demo.rita.id in member_ids(db_session, demo.acme_shared)


def test_an_inactive_or_missing_user_is_refused_and_nothing_changes(demo, db_session):
    demo.carol.active = False
    db_session.commit()
    for bad in ({demo.carol.id}, {987654}, {demo.bob.id, 987654}):
        with pytest.raises(Invalid):
            team.apply_changes(demo.acme_shared, demo.alice, bad, set())
    assert member_ids(db_session, demo.acme_shared) == {demo.alice.id, demo.rita.id}


def test_a_deactivated_member_can_still_be_removed(demo, db_session):
    team.apply_changes(demo.acme_shared, demo.alice, {demo.carol.id}, set())
    demo.carol.active = False
    db_session.commit()
    assert team.apply_changes(demo.acme_shared, demo.alice, set(), {demo.carol.id})
    assert demo.carol.id not in member_ids(db_session, demo.acme_shared)


def test_a_third_party_cannot_touch_the_team(demo, db_session):
    with pytest.raises(Forbidden):
        team.apply_changes(demo.acme_shared, demo.hana, {demo.hana.id}, set())


def test_changes_merge_with_what_others_did_meanwhile(demo, db_session):
    # Alice and Bob both opened the dialog showing {Alice}. Bob saves first: he adds Carol.
    team.apply_changes(demo.acme_shared, demo.bob, {demo.carol.id}, set())
    # Alice then adds Bob: Carol must stay, because Alice did not untick her.
    team.apply_changes(demo.acme_shared, demo.alice, {demo.bob.id}, set())
    assert member_ids(db_session, demo.acme_shared) == {
        demo.alice.id,
        demo.bob.id,
        demo.carol.id,
        demo.rita.id,
    }
    # One removes Carol while the other, unaware, adds Bob again: both intents hold.
    team.apply_changes(demo.acme_shared, demo.alice, set(), {demo.carol.id})
    assert team.apply_changes(demo.acme_shared, demo.bob, {demo.bob.id}, set()) is False
    assert member_ids(db_session, demo.acme_shared) == {demo.alice.id, demo.bob.id, demo.rita.id}


def test_duplicate_add_and_missing_removal_change_nothing(demo, db_session):
    before = activity_count(db_session, demo.acme_shared)
    assert team.apply_changes(demo.acme_shared, demo.alice, {demo.alice.id}, set()) is False
    assert team.apply_changes(demo.acme_shared, demo.alice, set(), {demo.bob.id}) is False
    assert activity_count(db_session, demo.acme_shared) == before


def test_added_member_is_notified_and_removed_member_hears_of_it(demo, db_session):
    team.apply_changes(demo.acme_shared, demo.alice, {demo.bob.id}, set())
    added = db_session.scalar(sa.select(sa.func.max(Activity.id)))
    notified = set(
        db_session.scalars(sa.select(Notification.user_id).where(Notification.activity_id == added))
    )
    assert notified == {demo.bob.id, demo.rita.id}  # never the actor
    team.apply_changes(demo.acme_shared, demo.alice, set(), {demo.bob.id})
    removed = db_session.scalar(sa.select(sa.func.max(Activity.id)))
    notified = set(
        db_session.scalars(
            sa.select(Notification.user_id).where(Notification.activity_id == removed)
        )
    )
    assert notified == {demo.bob.id, demo.rita.id}


def test_a_failure_after_the_change_leaves_nothing_written(demo, db_session, monkeypatch):
    before_activities = activity_count(db_session, demo.acme_shared)
    before_notes = db_session.scalar(sa.select(sa.func.count(Notification.id)))
    real_record = activity.record

    def record_then_fail(*args, **kwargs):
        real_record(*args, **kwargs)  # the activity and notifications are written...
        db_session.flush()
        raise RuntimeError("disk full")  # ...then the transaction fails

    monkeypatch.setattr(activity, "record", record_then_fail)
    with pytest.raises(RuntimeError):
        team.apply_changes(demo.acme_shared, demo.alice, {demo.bob.id}, set())
    assert member_ids(db_session, demo.acme_shared) == {demo.alice.id, demo.rita.id}
    assert activity_count(db_session, demo.acme_shared) == before_activities
    assert db_session.scalar(sa.select(sa.func.count(Notification.id))) == before_notes


def test_a_user_cannot_be_both_added_and_removed(demo):
    with pytest.raises(Invalid):
        team.apply_changes(demo.acme_shared, demo.alice, {demo.bob.id}, {demo.bob.id})


def _team_names(shared) -> str:
    return ", ".join(m.full_name for m in team.members_of(shared)) or "nobody"


@sequences_of_changes(st.sampled_from(["alice", "bob", "rita", "victor"]))
def test_the_history_says_the_team_before_and_after_each_change(demo, db_session, changes):
    """Whatever a user adds and removes: a change's history line names the team as it
    was and as it is now (the service works out "after" without reading the team again)."""
    shared = demo.acme_shared
    for actor_name, adding, removing in changes:
        actor = getattr(demo, actor_name)
        own = {"alice": {"alice", "bob"}, "rita": {"rita", "victor"}}[actor_name]
        added = {getattr(demo, n).id for n in adding & own}
        removed = {getattr(demo, n).id for n in (removing & own) - adding}
        before = _team_names(shared)
        if not team.apply_changes(shared, actor, added, removed):
            assert _team_names(shared) == before
            continue
        row = db_session.scalar(
            sa.select(Activity)
            .where(Activity.shared_deal_id == shared.id)
            .order_by(Activity.id.desc())
        )
        assert (row.before, row.after) == (before, _team_names(shared))
