"""Which language a page is in: the saved choice, else Accept-Language, else English."""

import re

from bs4 import BeautifulSoup

from services.demo import DEMO_PASSWORD

FRENCH = {"Accept-Language": "fr-FR,fr;q=0.9,en;q=0.5"}


def _lang(response) -> str:
    return BeautifulSoup(response.data, "lxml").html["lang"]


def test_login_page_follows_accept_language(client):
    assert _lang(client.get("/login")) == "en"
    r = client.get("/login", headers=FRENCH)
    assert _lang(r) == "fr"
    assert "Se connecter" in r.text and "Mot de passe" in r.text


def test_english_when_the_browser_asks_for_no_language_we_speak(client):
    r = client.get("/login", headers={"Accept-Language": "de-DE,ja;q=0.8"})
    assert _lang(r) == "en"


def test_the_saved_choice_wins_over_accept_language(client, login_as, demo, db_session):
    login_as(demo.alice)
    assert _lang(client.get("/deals", headers=FRENCH)) == "fr"
    client.post("/language", data={"language": "en", "next": "/deals"})
    r = client.get("/deals", headers=FRENCH)
    assert _lang(r) == "en"
    assert demo.alice.language == "en"


def test_the_language_switch_persists_across_logout_and_login(client, demo, db_session):
    client.post("/login", data={"email": "bob@brightside.example", "password": DEMO_PASSWORD})
    r = client.post("/language", data={"language": "fr", "next": "/deals"})
    assert r.status_code == 303 and r.headers["Location"] == "/deals"
    client.post("/logout")
    assert _lang(client.get("/login")) == "en"  # logged out: the browser's language again
    client.post("/login", data={"email": "bob@brightside.example", "password": DEMO_PASSWORD})
    r = client.get("/deals")  # no Accept-Language at all
    assert _lang(r) == "fr"
    assert "Transactions" in r.text and "Enregistrer la vue" in r.text


def test_an_unknown_language_is_not_saved(client, login_as, demo, db_session):
    login_as(demo.alice)
    client.post("/language", data={"language": "xx", "next": "/deals"})
    assert demo.alice.language is None


def test_the_switch_never_redirects_off_site(client, login_as, demo):
    login_as(demo.alice)
    r = client.post("/language", data={"language": "fr", "next": "https://evil.example/"})
    assert r.headers["Location"] == "/deals"


def test_every_page_in_french_has_no_english_ui_words(client, login_as, demo):
    login_as(demo.alice)
    pages = [
        "/deals",
        "/deals?f=active_registrations:gt:0",
        f"/deals/{demo.acme.id}",
        f"/deals/{demo.acme.id}/activity",
        "/deals/new",
        "/notifications",
        "/settings/partners/shared-deals",
    ]
    client.post("/language", data={"language": "fr", "next": "/deals"})
    english = re.compile(
        r"\b(Deals|Save|Cancel|Edit|Settings|Log out|Apply|Property|Operator|Value|Amount)\b"
    )
    for url in pages:
        r = client.get(url)
        assert r.status_code == 200, url
        soup = BeautifulSoup(r.data, "lxml")
        for hidden in soup(["script", "style", "datalist"]):
            hidden.decompose()
        text = soup.get_text(" ").replace("Shared Deals", "")  # the product's name
        # Data (deal, account, product, stage names) may be English; UI words may not.
        assert not english.search(text), (url, english.search(text))


def test_time_zone_user_then_account_then_utc(app, demo, db_session):
    from flask_babel import refresh
    from flask_login import login_user

    from i18n import current_timezone

    demo.alice.account.time_zone = "Europe/Paris"
    with app.test_request_context():
        login_user(demo.alice)
        refresh()  # the test's app context outlives each request context: drop the cache
        assert str(current_timezone()) == "Europe/Paris"
    demo.alice.time_zone = "America/New_York"
    with app.test_request_context():
        login_user(demo.alice)
        refresh()  # the test's app context outlives each request context: drop the cache
        assert str(current_timezone()) == "America/New_York"
    demo.alice.time_zone = demo.alice.account.time_zone = None
    with app.test_request_context():
        login_user(demo.alice)
        refresh()  # the test's app context outlives each request context: drop the cache
        assert str(current_timezone()) == "UTC"
    db_session.rollback()


def test_french_quotes_a_request_message_and_offers_partners_in_french(client, login_as, demo):
    login_as(demo.rita)
    client.post("/language", data={"language": "fr", "next": "/deals"})
    hooli = demo.deal(demo.northwind, "Hooli customer portal")
    soup = BeautifulSoup(client.get(f"/deals/{hooli.id}").data, "lxml")
    message = soup.find(class_="request-message")
    assert message.get_text() == "«\u00a0They sign next quarter; please register us.\u00a0»"
    soup = BeautifulSoup(client.get("/deals/new").data, "lxml")
    assert soup.find(id="partner").find("option").get_text() == "Choisissez un partenaire…"
    client.post("/language", data={"language": "en", "next": "/deals"})
    soup = BeautifulSoup(client.get(f"/deals/{hooli.id}").data, "lxml")
    assert soup.find(class_="request-message").get_text() == (
        "“They sign next quarter; please register us.”"
    )


def test_template_strings_translate_once_per_render_and_escape_their_values(app):
    # blueprints/templating._language_context binds _() and ngettext() to the catalog.
    from flask import render_template_string

    source = (
        "{{ _('Shared with %(account)s', account=name) }}|"
        "{{ ngettext('%(num)s deal', '%(num)s deals', 3) }}|{{ 1500|amount }}"
    )
    with app.test_request_context("/", headers=FRENCH):
        shown = render_template_string(source, name="<b>Acme</b>")
        plain = render_template_string("{{ _('Shared with %(account)s', account=name) }}", name=1)
    assert shown == "Partagée avec &lt;b&gt;Acme&lt;/b&gt;|3 transactions|1\u202f500,00"
    assert plain == "Partagée avec 1"


def test_wtforms_own_messages_follow_the_request_language(app):
    # forms.base.Form reads WTForms' catalog once per language, not once per request.
    from werkzeug.datastructures import MultiDict
    from wtforms import StringField
    from wtforms.validators import DataRequired

    from forms.base import Form

    class Probe(Form):
        name = StringField(validators=[DataRequired()])

    with app.test_request_context("/", headers=FRENCH):
        form = Probe(formdata=MultiDict({"name": ""}), meta={"csrf": False})
        assert not form.validate() and form.name.errors == ["Ce champ est requis."]


def test_the_warm_up_loads_both_catalogs_and_every_template(make_app, tmp_path):
    """What gunicorn's master loads before it forks (gunicorn.conf.py), for the workers to share."""
    import catalog
    from extensions import babel
    from i18n import LANGUAGES, warm_up

    fresh = make_app({"AUTO_SETUP": False, "SQLALCHEMY_DATABASE_URI": "sqlite://"}, tmp_path)
    with fresh.app_context():
        domain = babel.domain_instance
    domain.cache.clear()
    catalog._CATALOGS.clear()
    warm_up(fresh)
    assert {locale for locale, _domain in domain.cache} == set(LANGUAGES)
    assert {str(locale) for locale in catalog._CATALOGS} == set(LANGUAGES)
    compiled = {template.name for template in fresh.jinja_env.cache.values()}
    assert compiled == set(fresh.jinja_env.list_templates())


def test_the_catalog_follows_a_language_changed_within_a_request(app):
    """catalog keeps each language's catalog: force_locale and refresh still switch it."""
    from flask_babel import force_locale, refresh

    from catalog import gettext, lazy_gettext, ngettext

    label = lazy_gettext("Deals")
    with app.test_request_context("/", headers=FRENCH):
        assert (gettext("Deals"), str(label)) == ("Transactions", "Transactions")
        with force_locale("en"):
            assert (gettext("Deals"), str(label)) == ("Deals", "Deals")
            assert ngettext("%(num)s deal", "%(num)s deals", 2) == "2 deals"
        assert (gettext("Deals"), label.__html__()) == ("Transactions", "Transactions")
        assert ngettext("%(num)s deal", "%(num)s deals", 2) == "2 transactions"
        with force_locale("en"):
            refresh()  # the language saved mid-request (the language switch)
            assert gettext("Deals") == "Deals"


def test_the_request_locale_is_flask_babel_s(app):
    """catalog.request_locale reads the locale Flask-Babel chose; it is get_locale's."""
    from flask_babel import force_locale, get_locale

    from catalog import request_locale

    with app.test_request_context("/", headers=FRENCH):
        assert str(request_locale()) == "fr"  # before Flask-Babel chose it
        assert request_locale() is get_locale()
        with force_locale("en"):
            assert str(request_locale()) == "en"
        assert str(request_locale()) == "fr"
