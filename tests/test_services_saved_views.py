"""Saved views: who sees them, who changes them, what they keep."""

import pytest
import sqlalchemy as sa

from models import SavedView
from services import deal_index, saved_views
from services.errors import Forbidden, Invalid, NotFound

REGISTERED = "f=active_registrations:gt:0"


def tab_names(user):
    return [tab.name for tab in deal_index.index_reference(user).views]


def test_a_private_view_is_its_owners_only(demo):
    view = saved_views.create(demo.alice, "Registered by me", "private", REGISTERED)
    assert tab_names(demo.alice)[-1] == "Registered by me"
    assert "Registered by me" not in tab_names(demo.bob)
    with pytest.raises(NotFound):
        saved_views.get_visible(demo.bob, view.id)
    for change in (
        lambda: saved_views.update_query(demo.bob, view.id, ""),
        lambda: saved_views.rename(demo.bob, view.id, "Mine now"),
        lambda: saved_views.delete(demo.bob, view.id),
    ):
        with pytest.raises(NotFound):
            change()


def test_a_shared_view_is_seen_by_the_account_and_changed_by_its_owner_only(demo, db_session):
    view = saved_views.create(demo.alice, "Team pipeline", "account", "sort=-amount")
    assert "Team pipeline" in tab_names(demo.bob)
    assert saved_views.get_visible(demo.carol, view.id).query == "sort=-amount"
    with pytest.raises(Forbidden):
        saved_views.update_query(demo.bob, view.id, REGISTERED)
    with pytest.raises(Forbidden):
        saved_views.rename(demo.bob, view.id, "Bob's now")
    with pytest.raises(Forbidden):
        saved_views.delete(demo.bob, view.id)
    db_session.refresh(view)
    assert (view.name, view.query) == ("Team pipeline", "sort=-amount")
    # Bob keeps his own copy instead ("Save as new").
    copy = saved_views.create(demo.bob, "Team pipeline", "private", view.query)
    assert copy.owner_id == demo.bob.id


@pytest.mark.parametrize("who", ["rita", "hana"])
def test_other_accounts_never_see_a_view(demo, who):
    view = saved_views.create(demo.alice, "Everyone here", "account", REGISTERED)
    user = getattr(demo, who)
    assert "Everyone here" not in tab_names(user)
    with pytest.raises(NotFound):
        saved_views.get_visible(user, view.id)
    with pytest.raises(NotFound):
        saved_views.delete(user, view.id)


def test_the_owner_renames_updates_and_deletes(demo, db_session):
    view = saved_views.create(demo.alice, "Big ones", "private", "f=amount:gt:100000")
    saved_views.update_query(demo.alice, view.id, "f=amount:gt:250000&sort=-amount&page=3")
    saved_views.rename(demo.alice, view.id, "  Really   big ones ", "account")
    db_session.refresh(view)
    assert (view.name, view.visibility) == ("Really big ones", "account")
    assert view.query == "f=amount:gt:250000&sort=-amount"  # no page: a view is not a page
    assert saved_views.delete(demo.alice, view.id) == "Really big ones"
    assert db_session.get(SavedView, view.id) is None


def test_built_in_tabs_come_first_then_own_then_shared(demo):
    saved_views.create(demo.bob, "Bob's shared", "account", "")
    saved_views.create(demo.alice, "Alice's own", "private", "")
    assert tab_names(demo.alice) == [
        "All deals",
        "My deals",
        "Registered deals",
        "Alice's own",
        "Bob's shared",
    ]


def test_the_saved_query_is_normalized(demo):
    query = "f=bogus:x:1&f=amount:gt:1,000&q=%20acme%20&view=12&page=2&sort=nope"
    view = saved_views.create(demo.alice, "Clean", "private", query)
    assert view.query == "q=acme&f=amount:gt:1000"


@pytest.mark.parametrize(
    ("name", "visibility", "message"),
    [
        ("", "private", "Enter a name"),
        ("   ", "private", "Enter a name"),
        ("x" * 81, "private", "at most 80"),
        ("Fine", "public", "Choose who can see"),
        ("Fine", "", "Choose who can see"),
    ],
)
def test_bad_names_and_visibilities_are_refused(demo, db_session, name, visibility, message):
    with pytest.raises(Invalid, match=message):
        saved_views.create(demo.alice, name, visibility, "")
    assert db_session.scalar(sa.select(sa.func.count(SavedView.id))) == 0


def test_names_are_unique_per_owner(demo):
    saved_views.create(demo.alice, "Hot", "private", "")
    with pytest.raises(Invalid, match="already have a view"):
        saved_views.create(demo.alice, "hot", "account", "")
    other = saved_views.create(demo.alice, "Cold", "private", "")
    with pytest.raises(Invalid, match="already have a view"):
        saved_views.rename(demo.alice, other.id, "HOT")
    saved_views.create(demo.bob, "Hot", "private", "")  # another owner may


@pytest.mark.parametrize(
    "name",
    [
        "All deals",
        "my deals",
        "  REGISTERED   deals ",
        "registration requests",  # the vendor's, reserved on both sides
        "Toutes les transactions",
        "MES TRANSACTIONS",
        "transactions ENREGISTRÉES",
        "demandes d'enregistrement",
        "Ｍｙ ｄｅａｌｓ",  # fullwidth: the same name once NFKC-normalized
        "transactions enregistre\u0301es",  # é as e + combining accent
    ],
)
def test_a_view_cannot_take_a_built_in_views_name(demo, db_session, name):
    with pytest.raises(Invalid, match="is a built-in view") as refused:
        saved_views.create(demo.alice, name, "private", "")
    assert refused.value.field == "name"
    mine = saved_views.create(demo.alice, "Mine", "private", "")
    with pytest.raises(Invalid, match="is a built-in view"):
        saved_views.rename(demo.alice, mine.id, name)
    assert db_session.scalar(sa.select(SavedView.name)) == "Mine"


@pytest.mark.parametrize("language", ["en", "fr"])
def test_the_refusal_names_the_built_in_view_as_written(demo, app, language):
    from flask_babel import force_locale

    with force_locale(language):
        with pytest.raises(Invalid) as english:
            saved_views.create(demo.alice, "registered DEALS", "private", "")
        with pytest.raises(Invalid) as french:
            saved_views.create(demo.rita, "mes transactions", "private", "")
    built_in = {"en": "is a built-in view", "fr": "est une vue intégrée"}[language]
    assert built_in in english.value.message and "Registered deals" in english.value.message
    assert built_in in french.value.message and "Mes transactions" in french.value.message


def test_an_overlong_query_is_refused(demo):
    with pytest.raises(Invalid, match="too long"):
        saved_views.create(demo.alice, "Long", "private", "q=" + "x" * 2100)


def test_the_database_keeps_names_unique_when_the_check_is_raced(demo, db_session, monkeypatch):
    # Another "Save view" committing between our check and our insert: the check sees
    # nothing, the unique index refuses the row, and the user gets the same message.
    saved_views.create(demo.alice, "Hot", "private", "")
    other = saved_views.create(demo.alice, "Cold", "private", "")
    monkeypatch.setattr(saved_views, "_name_is_taken", lambda *args: False)
    with pytest.raises(Invalid, match="You already have a view named “HOT”.") as raised:
        saved_views.create(demo.alice, "HOT", "account", "")
    assert raised.value.field == "name"
    with pytest.raises(Invalid, match="You already have a view named “hot”."):
        saved_views.rename(demo.alice, other.id, "hot")
    names = db_session.scalars(
        sa.select(SavedView.name).where(SavedView.owner_id == demo.alice.id).order_by("name")
    )
    assert list(names) == ["Cold", "Hot"]
    saved_views.create(demo.alice, "Warm", "private", "")  # the session is usable afterwards
