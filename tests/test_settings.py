"""Settings › Partners › Shared deals: the referred deals pipeline."""

import pytest
import sqlalchemy as sa

from models import Deal, Pipeline
from services import settings
from services.errors import Forbidden, Invalid
from tests.html import (
    button,
    by_label,
    description,
    heading,
    headings,
    link,
    links,
    options,
    page,
    selected,
    statuses,
)

URL = "/settings/partners/shared-deals"


def pipeline(db_session, account, name):
    return db_session.scalar(
        sa.select(Pipeline).where(Pipeline.account_id == account.id, Pipeline.name == name)
    )


def test_admin_sees_the_form(client, login_as, demo):
    login_as(demo.alice)
    doc = page(client.get(URL))
    assert heading(doc, 1) == "Shared deals"
    pipeline_select = by_label(doc, "Referred deals pipeline")
    assert options(pipeline_select) == ["Sales pipeline", "Partner referrals"]
    assert selected(pipeline_select) == ["Sales pipeline"]
    assert "Existing deals stay where they are." in description(pipeline_select)
    assert button(doc, "Save")


def test_form_lists_only_the_accounts_own_pipelines(client, login_as, demo, db_session):
    login_as(demo.alice)
    pipelines = options(by_label(page(client.get(URL)), "Referred deals pipeline"))
    assert "Partner deals" not in pipelines  # Northwind's pipeline


def test_settings_link_redirects_to_the_form(client, login_as, demo):
    login_as(demo.alice)
    assert client.get("/settings/").headers["Location"].endswith(URL)


def test_members_see_the_setting_read_only(client, login_as, demo):
    login_as(demo.bob)
    r = client.get(URL)
    assert r.status_code == 200
    doc = page(r)
    pipeline_select = by_label(doc, "Referred deals pipeline")
    assert pipeline_select.has_attr("disabled")
    assert selected(pipeline_select) == ["Sales pipeline"]
    assert "Only account admins can change these settings." in description(pipeline_select)
    assert not doc.find("main").find("form") and not doc.find("main").find("button")


def test_a_members_post_is_refused_and_changes_nothing(client, login_as, demo, db_session):
    login_as(demo.bob)
    target = pipeline(db_session, demo.brightside, "Partner referrals")
    r = client.post(URL, data={"pipeline": target.id})
    assert r.status_code == 403
    assert settings.referred_pipeline_for(demo.brightside).name == "Sales pipeline"


@pytest.mark.parametrize("user", ["alice", "bob", "rita", "victor"])
def test_every_user_has_the_settings_gear(client, login_as, demo, user):
    login_as(getattr(demo, user))
    doc = page(client.get("/deals"))
    gear = link(doc.find("header"), "Settings")
    assert gear.find("svg") and gear.get_text(strip=True) == ""  # an icon, named "Settings"
    assert gear["href"] == URL and client.get(gear["href"]).status_code == 200


def test_the_settings_menu_has_partners_then_shared_deals(client, login_as, demo):
    login_as(demo.alice)
    menu = page(client.get(URL)).find("nav", attrs={"aria-label": "Settings"})
    assert headings(menu) == ["Partners"]
    assert links(menu) == ["Shared deals"]
    assert menu.find("a")["aria-current"] == "page"


def test_admin_saves_and_sees_it_saved(client, login_as, demo, db_session):
    login_as(demo.alice)
    target = pipeline(db_session, demo.brightside, "Partner referrals")
    r = client.post(URL, data={"pipeline": target.id})
    assert r.status_code == 303 and r.headers["Location"].endswith(URL)
    doc = page(client.get(URL))
    assert any("saved" in message for message in statuses(doc))
    pipeline_select = by_label(doc, "Referred deals pipeline")
    assert selected(pipeline_select) == ["Partner referrals"]
    assert pipeline_select.find("option", selected=True)["value"] == str(target.id)
    assert settings.referred_pipeline_for(demo.brightside).id == target.id


def test_changing_the_setting_moves_no_deal(client, login_as, demo, db_session):
    before = dict(db_session.execute(sa.select(Deal.id, Deal.pipeline_id)).all())
    login_as(demo.alice)
    client.post(
        URL, data={"pipeline": pipeline(db_session, demo.brightside, "Partner referrals").id}
    )
    assert dict(db_session.execute(sa.select(Deal.id, Deal.pipeline_id)).all()) == before


@pytest.mark.parametrize("value", ["foreign", "999999", "abc", "", "1.5"])
def test_bad_pipeline_is_rejected_and_changes_nothing(client, login_as, demo, db_session, value):
    if value == "foreign":
        value = str(pipeline(db_session, demo.northwind, "Sales pipeline").id)
    login_as(demo.alice)
    r = client.post(URL, data={"pipeline": value})
    assert r.status_code == 422
    pipeline_select = by_label(page(r), "Referred deals pipeline")
    assert "Choose one of your account's pipelines." in description(pipeline_select)
    assert pipeline_select["aria-invalid"] == "true"
    assert settings.referred_pipeline_for(demo.brightside).name == "Sales pipeline"


def test_missing_field_is_rejected(client, login_as, demo):
    login_as(demo.alice)
    r = client.post(URL, data={})
    assert r.status_code == 422
    assert settings.referred_pipeline_for(demo.brightside).name == "Sales pipeline"


def test_missing_csrf_token_is_400(client, login_as, demo, db_session, csrf_enabled):
    login_as(demo.alice)
    target = pipeline(db_session, demo.brightside, "Partner referrals")
    r = client.post(URL, data={"pipeline": target.id})
    assert r.status_code == 400
    assert settings.referred_pipeline_for(demo.brightside).name == "Sales pipeline"


def test_vendor_admin_has_the_setting_too(client, login_as, demo):
    login_as(demo.rita)
    pipeline_select = by_label(page(client.get(URL)), "Referred deals pipeline")
    assert options(pipeline_select) == ["Sales pipeline", "Partner deals"]
    assert selected(pipeline_select) == ["Partner deals"]
    assert pipeline_select.find("option", selected=True)  # chosen, not the browser's default


def test_service_refuses_members_and_foreign_pipelines(demo, db_session):
    with pytest.raises(Forbidden):
        settings.set_referred_pipeline(
            demo.bob, pipeline(db_session, demo.brightside, "Partner referrals").id
        )
    with pytest.raises(Invalid):
        settings.set_referred_pipeline(
            demo.alice, pipeline(db_session, demo.harbor, "Sales pipeline").id
        )


def test_referred_pipeline_falls_back_to_the_first_pipeline(demo, db_session):
    from models import AccountSettings

    db_session.delete(db_session.get(AccountSettings, demo.harbor.id))
    db_session.commit()
    assert settings.referred_pipeline_for(demo.harbor).name == "Sales pipeline"
