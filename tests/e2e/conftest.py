"""Browser tests: Playwright driving Debian's Chromium against a live server on 127.0.0.1."""

import shutil
import threading

import pytest
from werkzeug.serving import make_server

from services.demo import DEMO_PASSWORD

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def pytest_collection_modifyitems(items):
    for item in items:
        if "/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)
            if CHROMIUM is None:
                item.add_marker(
                    pytest.mark.skip(reason="no Chromium installed (apt-get install chromium)")
                )


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    # Debian's Chromium, never a downloaded one; flags keep it off the network.
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ],
    }


@pytest.fixture
def live_server(fresh_app):
    """The app served on a free port of 127.0.0.1, on its own database."""
    server = make_server("127.0.0.1", 0, fresh_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)


@pytest.fixture
def log_in(page, live_server):
    """Log in through the login form, as a person would."""

    def login(email, target_page=None):
        p = target_page or page
        p.goto(f"{live_server}/login")
        p.get_by_label("Email").fill(email)
        p.get_by_label("Password").fill(DEMO_PASSWORD)
        p.get_by_role("button", name="Log in").click()
        p.wait_for_url(f"{live_server}/deals")
        return p

    return login


@pytest.fixture
def no_js_page(browser, live_server):
    """A page in a browser context with JavaScript disabled."""
    context = browser.new_context(java_script_enabled=False)
    yield context.new_page()
    context.close()
