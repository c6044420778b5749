"""The flows in French (a browser whose locale is fr-FR), and amounts typed per language.

Set SCREENSHOTS_DIR to also save each page in French, desktop and 390 px wide.
"""

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from services.demo import DEMO_PASSWORD
from tests.e2e.deal_helpers import acme_url
from tests.e2e.htmx_helpers import wait_for_controls

SHOTS = os.environ.get("SCREENSHOTS_DIR")


@pytest.fixture
def fr_page(browser, live_server):
    context = browser.new_context(locale="fr-FR")
    yield context.new_page()
    context.close()


def connect(page, live_server, email):
    page.goto(f"{live_server}/login")
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Mot de passe").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(f"{live_server}/deals")


def shoot(page, name):
    if not SHOTS:
        return
    folder = Path(SHOTS)
    folder.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.screenshot(path=str(folder / f"{name}-desktop.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=str(folder / f"{name}-phone.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})


def test_flow_1_registered_deals_in_french(fr_page, live_server):
    page = fr_page
    connect(page, live_server, "alice@brightside.example")
    shoot(page, "login-then-deals")
    expect(page.get_by_role("heading", name="Transactions")).to_be_visible()
    page.locator("details.filter-builder > summary").click()  # "Filtres"
    page.get_by_label("Propriété").select_option(
        label="Nombre d'enregistrements de transactions actives"
    )
    wait_for_controls(page, "data-property", "active_registrations")
    page.get_by_label("Opérateur").select_option(label="est supérieur à")
    wait_for_controls(page, "data-operator", "gt")
    page.get_by_label("Valeur").fill("0")
    page.get_by_role("button", name="Appliquer").click()
    expect(page).to_have_url(re.compile(r"/deals\?f=active_registrations:gt:0$"))
    expect(page.get_by_role("list", name="Filtres appliqués")).to_contain_text(
        "Nombre d'enregistrements de transactions actives est supérieur à 0"
    )
    page.locator("summary", has_text="Enregistrer la vue").click()
    page.get_by_label("Nom de la vue").fill("Mes enregistrées")
    page.get_by_label("Moi uniquement").check()
    page.get_by_role("button", name="Enregistrer", exact=True).click()
    expect(page.get_by_role("status").first).to_contain_text(
        "Vue « Mes enregistrées » enregistrée."
    )
    shoot(page, "deals-filtered")


def test_flow_2_deal_team_in_french(fr_page, live_server, fresh_app):
    page = fr_page
    connect(page, live_server, "alice@brightside.example")
    page.goto(acme_url(live_server, fresh_app))
    expect(page.get_by_text("Équipe de transaction", exact=True)).to_be_visible()
    shoot(page, "deal-page")
    page.get_by_role("button", name="Modifier l'équipe de transaction").click()
    dialog = page.get_by_role("dialog", name="Modifier l'équipe de transaction")
    expect(dialog).to_be_visible()
    dialog.get_by_label("Bob Nguyen").check()
    shoot(page, "deal-team-dialog")
    dialog.get_by_role("button", name="Enregistrer").click()
    expect(dialog).to_be_hidden()
    expect(page.locator("#shared-team")).to_contain_text("Bob Nguyen")
    expect(page.locator("#activity")).to_contain_text(
        "a ajouté Bob Nguyen à l'équipe de transaction"
    )


def test_flow_3_settings_in_french(fr_page, live_server):
    page = fr_page
    connect(page, live_server, "alice@brightside.example")
    page.get_by_role("link", name="Paramètres").click()
    expect(page.get_by_label("Pipeline des transactions référencées")).to_be_visible()
    shoot(page, "settings")
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.get_by_role("status").first).to_contain_text("Paramètres enregistrés")
    page.goto(f"{live_server}/notifications")
    shoot(page, "notifications")
    page.goto(f"{live_server}/deals/new")
    shoot(page, "create-shared-deal")


def edit_amount(page, text):
    page.get_by_role("button", name=re.compile(r"^(Modifier Montant|Edit Amount)$")).click()
    box = page.locator("#field-amount-input")
    box.fill(text)
    box.press("Enter")


def test_amounts_are_typed_and_shown_per_language(fr_page, live_server, fresh_app):
    page = fr_page
    connect(page, live_server, "alice@brightside.example")
    page.goto(acme_url(live_server, fresh_app))
    edit_amount(page, "1 500,50")
    amount = page.locator("#field-amount dd").first
    expect(amount).to_have_text(re.compile(r"^1[\s\u202f\u00a0]500,50$"))
    # Same person, in English: the same amount the English way; a French comma is refused.
    page.locator(".user-menu summary").click()
    page.get_by_role("button", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.goto(acme_url(live_server, fresh_app))
    expect(page.locator("#field-amount dd").first).to_have_text("1,500.50")
    edit_amount(page, "1500,50")
    expect(page.get_by_role("alert")).to_contain_text("Enter an amount like 1,500.50")
    page.goto(acme_url(live_server, fresh_app))
    expect(page.locator("#field-amount dd").first).to_have_text("1,500.50")


def test_the_language_chosen_in_the_user_menu_persists_across_logins(page, live_server, log_in):
    log_in("bob@brightside.example")  # an English browser
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.locator(".user-menu summary").click()
    page.get_by_role("button", name="Français").click()
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    page.get_by_role("button", name="Se déconnecter").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")  # logged out: the browser's
    log_in("bob@brightside.example")
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    expect(page.get_by_role("heading", name="Transactions")).to_be_visible()
