"""Screenshots of every page and main state in one language, to look for words left untranslated.

    python tools/screenshots.py /tmp/shots            # French (fr-FR browser, Français chosen)
    python tools/screenshots.py /tmp/shots --lang en  # English

Serves the app on a free port of 127.0.0.1 with a fresh SQLite demo database in a
temporary instance folder, drives Debian's Chromium (/usr/bin/chromium) through
Playwright, and writes <state>-desktop.png (1280 px) and <state>-phone.png (390 px).
Not a test: it asserts nothing; look at the pictures.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

VIEWPORTS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}
WORDS = {
    "fr": {
        "locale": "fr-FR",
        "language": "Français",
        "email": "E-mail",
        "password": "Mot de passe",
        "log_in": "Se connecter",
        "filters": "Filtres",
        "save_view": "Enregistrer la vue",
        "edit_team": "Modifier l'équipe de transaction",
        "cancel": "Annuler",
        "edit_products": "Modifier l'intérêt du produit",
        "deregister": "Annuler l'enregistrement",
        "decline": "Refuser",
        "create": "Créer une transaction partagée",
    },
    "en": {
        "locale": "en-US",
        "language": "English",
        "email": "Email",
        "password": "Password",
        "log_in": "Log in",
        "filters": "Filters",
        "save_view": "Save view",
        "edit_team": "Edit deal team",
        "cancel": "Cancel",
        "edit_products": "Edit product interest",
        "deregister": "Deregister",
        "decline": "Decline",
        "create": "Create shared deal",
    },
}


def serve(instance: str) -> tuple[str, object]:
    os.environ.pop("DATABASE_URL", None)  # the embedded SQLite database, with demo data
    from werkzeug.serving import make_server

    from app import create_app

    app = create_app({"SECRET_KEY": "screenshots"}, instance_path=instance)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_port}", server


from services.demo import DEMO_PASSWORD  # noqa: E402 (after the path is set)


class Shooter:
    def __init__(self, browser, base: str, out: Path, lang: str, viewport: str):
        self.w, self.lang = WORDS[lang], lang
        self.base, self.out, self.viewport = base, out, viewport
        self.context = browser.new_context(
            locale=self.w["locale"], viewport=VIEWPORTS[viewport], reduced_motion="reduce"
        )
        self.page = self.context.new_page()

    def shot(self, name: str) -> None:
        self.page.wait_for_load_state("networkidle")
        path = self.out / f"{name}-{self.viewport}.png"
        self.page.screenshot(path=str(path), full_page=True)
        print(path)

    def go(self, path: str) -> None:
        self.page.goto(self.base + path)

    def log_in(self, email: str) -> None:
        page, w = self.page, self.w
        self.context.clear_cookies()
        self.go("/login")
        page.get_by_label(w["email"]).fill(email)
        page.get_by_label(w["password"]).fill(DEMO_PASSWORD)
        page.get_by_role("button", name=w["log_in"]).click()
        page.wait_for_url(f"{self.base}/deals")
        # The user's saved choice, as the user menu sets it.
        self.page.evaluate(
            """language => fetch('/language', {method: 'POST', headers: {'X-CSRFToken':
                 JSON.parse(document.body.getAttribute('hx-headers'))['X-CSRFToken'],
                 'Content-Type': 'application/x-www-form-urlencoded'},
                 body: 'language=' + language + '&next=/deals'})""",
            self.lang,
        )
        self.go("/deals")

    def open_deal(self, name: str) -> None:
        self.go(f"/deals?q={name.split()[0]}")
        self.page.get_by_role("link", name=name, exact=True).first.click()
        self.page.wait_for_load_state("networkidle")

    def summary(self, text: str) -> None:
        self.page.locator("summary", has_text=text).first.click()

    def run(self) -> None:
        page, w = self.page, self.w
        self.go("/login")
        self.shot("01-login")
        page.get_by_label(w["email"]).fill("alice@brightside.example")
        page.get_by_label(w["password"]).fill("wrong password")
        page.get_by_role("button", name=w["log_in"]).click()
        self.shot("02-login-error")

        self.log_in("alice@brightside.example")
        self.shot("03-deals-table")
        self.summary(w["filters"])
        self.shot("04-deals-filters-open")
        self.go("/deals?f=active_registrations:gt:0&property=amount&operator=gt&value=1,500")
        self.shot("05-deals-filter-error")
        self.go("/deals?view=registered&f=active_registrations:gt:0")
        self.summary(w["save_view"])
        self.shot("06-deals-save-view")
        self.go("/deals?layout=board")
        self.shot("07-deals-board")
        if self.viewport == "phone":
            self.go("/deals")
            self.summary("Menu")
            self.shot("08-phone-menu")

        self.open_deal("Acme Corp website relaunch")
        self.shot("10-deal-partner")
        page.get_by_role("button", name=w["edit_team"]).click()
        self.shot("11-team-dialog")
        page.get_by_role("dialog").get_by_role("button", name=w["cancel"]).click()
        page.get_by_role("button", name=w["edit_products"], exact=True).click()
        self.shot("12-product-interest")
        self.go("/deals/new")
        self.shot("13-create-shared-deal-partner")
        self.go("/settings/partners/shared-deals")
        self.shot("14-settings-admin")
        self.go("/notifications")
        self.shot("15-notifications")
        self.go("/deals/999999999")
        self.shot("16-not-found")

        self.log_in("rita@northwind.example")
        self.go("/deals?view=requests")
        self.shot("20-registration-requests")
        self.open_deal("Hooli customer portal")
        self.shot("21-request-decision")
        page.get_by_role("button", name=w["decline"], exact=True).click()  # no reason: refused
        self.shot("22-request-decline-error")
        self.open_deal("Acme Corp website relaunch")
        self.shot("23-deal-vendor-registrations")
        page.get_by_role("link", name=w["deregister"]).first.click()
        self.shot("24-deregister-confirm")
        self.go("/deals/new")
        self.shot("25-create-shared-deal-vendor")

        self.log_in("bob@brightside.example")
        self.go("/settings/partners/shared-deals")
        self.shot("30-settings-member")
        # A member's save is refused: the 403 page.
        page.evaluate(
            """() => { const f = document.createElement('form'); f.method = 'post';
                 f.action = '/settings/partners/shared-deals';
                 const t = document.createElement('input'); t.name = 'csrf_token';
                 t.value = JSON.parse(document.body.getAttribute('hx-headers'))['X-CSRFToken'];
                 f.append(t); document.body.append(f); f.submit(); }"""
        )
        page.wait_for_load_state()
        self.shot("31-forbidden")
        self.context.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--lang", choices=sorted(WORDS), default="fr")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    from playwright.sync_api import sync_playwright

    instance = tempfile.mkdtemp(prefix="shots-")
    try:
        base, server = serve(instance)
        with sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path=shutil.which("chromium") or "/usr/bin/chromium",
                # The browser's own language: date boxes show jj/mm/aaaa, not mm/dd/yyyy.
                args=["--no-sandbox", "--disable-gpu", "--no-first-run", f"--lang={args.lang}"],
            )
            for viewport in VIEWPORTS:
                Shooter(browser, base, args.out, args.lang, viewport).run()
            browser.close()
        server.shutdown()
    finally:
        shutil.rmtree(instance, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
