"""Shared Deals: the application factory (`flask --app app run` finds `create_app`)."""

import fcntl
import inspect
import sys
from pathlib import Path

import click
import sqlalchemy as sa
from flask import Flask, abort, g, redirect, render_template, request, url_for
from flask_wtf.csrf import CSRFError
from werkzeug.middleware.proxy_fix import ProxyFix

import config
import models  # noqa: F401 - registers the tables with the metadata
from blueprints.templating import Environment
from catalog import gettext as _
from catalog import lazy_gettext as _l
from extensions import babel, csrf, db, limiter, login_manager, migrate
from i18n import compile_catalogs, select_locale, select_timezone
from services import accounts

# Scripts only from our own origin; no inline script or eval anywhere.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; form-action 'self'; object-src 'none'; "
    "base-uri 'none'; frame-ancestors 'none'"
)
# Over HTTPS only (RFC 6797): browsers then refuse plain HTTP to this host for a year.
STRICT_TRANSPORT_SECURITY = "max-age=31536000"
# The database cannot be reached (down, restarting, out of connections, locked).
DATABASE_UNAVAILABLE = (sa.exc.OperationalError, sa.exc.InterfaceError, sa.exc.TimeoutError)
SETUP_COMMANDS = {"seed-demo", "db"}
# Bytes of query string a request may carry: 20 filters of everyday length take under 2 KB.
MAX_QUERY_STRING = 8 * 1024
HTMX_VERSION = "2.0.11"  # static/htmx-<version>.min.js


class App(Flask):
    """Flask, with the templates' environment (`blueprints.templating.Environment`), and
    its hooks' check in one step."""

    jinja_environment = Environment

    def ensure_sync(self, func):
        """Flask's own, with a plain function's or method's answer found in one call.

        Flask asks it of every hook, context processor and view on every request (19
        times for a board), and `inspect.iscoroutinefunction` is five Python calls each
        time. Anything else (a partial, a callable object) goes to Flask's.
        """
        code = getattr(func, "__code__", None)  # a method answers with its function's
        if code is not None and not code.co_flags & inspect.CO_COROUTINE:
            return func
        return super().ensure_sync(func)


def create_app(config_overrides: dict | None = None, instance_path: str | None = None) -> Flask:
    """Build the app: config, extensions, blueprints, CLI, error pages."""
    app = App(__name__, instance_path=instance_path, instance_relative_config=True)
    config.make_instance_folder(app.instance_path)
    app.config.from_mapping(config.load(app.instance_path))
    app.config.setdefault("HTMX_VERSION", HTMX_VERSION)
    app.config.from_mapping(config_overrides or {})
    if not app.config["SECRET_KEY"]:
        app.config["SECRET_KEY"] = config.instance_secret_key(app.instance_path)
    config.create_private_database_file(app.config["SQLALCHEMY_DATABASE_URI"])
    app.wsgi_app = SecureCookiesOverHttps(app.wsgi_app)
    if app.config["TRUST_PROXY"]:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)

    db.init_app(app)
    migrate.init_app(app, db, directory=str(Path(__file__).parent / "migrations"))
    csrf.init_app(app)
    compile_catalogs(Path(__file__).parent / "translations")  # the .mo files are not committed
    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone)
    limiter.init_app(app)
    login_manager.init_app(app)
    login_manager.session_protection = "strong"
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please log in to see that page.")
    login_manager.user_loader(accounts.load_user)

    from blueprints import (
        access,
        auth,
        board,
        deal_page,
        deals,
        notifications,
        settings,
        shared_card,
        shared_deals,
        templating,
    )
    from blueprints.htmx import htmx_redirect_to_login

    app.url_map.converters["id"] = access.IdConverter
    for blueprint in (
        auth,
        deals,
        board,
        deal_page,
        shared_card,
        settings,
        shared_deals,
        notifications,
    ):
        app.register_blueprint(blueprint.bp)
    login_manager.unauthorized_handler(htmx_redirect_to_login)
    templating.register(app)
    # Input bounds first: before the login check loads a user, before any query or lock.
    _register_hooks(app)
    app.before_request(access.require_login)

    import cli

    cli.register(app)
    _register_error_pages(app)

    if app.config["AUTO_SETUP"] and not _running_setup_command():
        _setup_embedded_database(app)
    return app


def _register_hooks(app: Flask) -> None:
    @app.before_request
    def refuse_long_query_strings():
        # Measured as sent (percent-encoded), like the request line limits of proxies.
        if len(request.query_string) > MAX_QUERY_STRING:
            abort(414)

    @app.before_request
    def refuse_files_and_json():
        # Every form posts form fields. Flask-WTF would read a JSON body or an uploaded
        # file as the form too, handing numbers, lists or files to validators made for text.
        if request.is_json or request.files:
            abort(415)

    @app.before_request
    def refuse_nul_characters():
        # No form can type a NUL; databases refuse it in text (PostgreSQL, SQLite FTS5).
        values = [v for data in (request.args, request.form) for _, v in data.items(multi=True)]
        if any("\x00" in value for value in [*values, request.path]):
            abort(400, _("Text cannot contain NUL characters."))

    @app.after_request
    def security_headers(response):
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "same-origin"
        response.headers["X-Frame-Options"] = "DENY"
        if request.is_secure:  # behind a proxy, only with TRUST_PROXY=1 (X-Forwarded-Proto)
            response.headers["Strict-Transport-Security"] = STRICT_TRANSPORT_SECURITY
        if request.endpoint != "static":
            response.headers.setdefault("Cache-Control", "no-store")
        return response


class SecureCookiesOverHttps:
    """Over HTTPS, mark every cookie we set Secure (session and remember-me alike)."""

    def __init__(self, wsgi_app):
        self.wsgi_app = wsgi_app

    def __call__(self, environ, start_response):
        if environ.get("wsgi.url_scheme") != "https":
            return self.wsgi_app(environ, start_response)

        def secure_start_response(status, headers, exc_info=None):
            headers = [
                (name, value + "; Secure")
                if name.lower() == "set-cookie" and "; secure" not in value.lower()
                else (name, value)
                for name, value in headers
            ]
            return start_response(status, headers, exc_info)

        return self.wsgi_app(environ, secure_start_response)


def _register_error_pages(app: Flask) -> None:
    def page(status: int, title: str, message: str, template: str = "errors/error.html"):
        return render_template(template, status=status, title=title, message=message), status

    def server_page(status: int, title, message):
        # Lazy title and message: they are translated once the anonymous user below stands
        # in, so choosing the language never loads the user from a database that is down.
        # Without the database: no top bar, and no user loaded (Flask-Login's context
        # processor would load one for any template): an anonymous one stands in.
        if "_login_user" not in g:
            g._login_user = login_manager.anonymous_user()
        try:
            db.session.rollback()
        except sa.exc.SQLAlchemyError:
            app.logger.warning("Rollback failed after an error", exc_info=True)
        return page(status, title, message, template="errors/server_error.html")

    @app.errorhandler(CSRFError)
    def csrf_error(error):
        return page(
            400, _("Form expired"), _("The form was stale or incomplete. Reload and try again.")
        )

    @app.errorhandler(400)
    def bad_request(error):
        return page(400, _("Bad request"), getattr(error, "description", "") or _("Bad request."))

    @app.errorhandler(403)
    def forbidden(error):
        return page(403, _("Not allowed"), _("Only account admins can open this page."))

    @app.errorhandler(404)
    def not_found(error):
        return page(404, _("Not found"), _("There is nothing here, or it is not yours to see."))

    @app.errorhandler(405)
    def method_not_allowed(error):
        return page(405, _("Not allowed"), _("That action is not available here."))

    @app.errorhandler(413)
    def request_too_large(error):
        return page(413, _("Too much data"), _("The form sent more than this app accepts."))

    @app.errorhandler(415)
    def unsupported_body(error):
        return page(415, _("Bad request"), _("Send the form's fields: no files and no JSON."))

    @app.errorhandler(414)
    def query_string_too_long(error):
        return page(
            414,
            _("Address too long"),
            _(
                "The address holds more than %(size)s KB of filters and options. "
                "Remove some filters and try again.",
                size=MAX_QUERY_STRING // 1024,
            ),
        )

    @app.errorhandler(500)
    def server_error(error):
        return server_page(
            500, _l("Something went wrong"), _l("The error was logged. Please try again.")
        )

    def database_unavailable(error):
        app.logger.error("Database unavailable: %s", error, exc_info=error)
        body, status = server_page(
            503,
            _l("Temporarily unavailable"),
            _l("We cannot reach our data right now. Please try again."),
        )
        return body, status, {"Retry-After": "30"}

    for error_class in DATABASE_UNAVAILABLE:
        app.register_error_handler(error_class, database_unavailable)

    @app.get("/")
    def home():
        return redirect(url_for("deals.index"))


def _running_setup_command() -> bool:
    # `flask seed-demo` and `flask db …` manage the database themselves.
    return any(arg in SETUP_COMMANDS for arg in sys.argv[1:])


def _setup_embedded_database(app: Flask) -> None:
    """Migrate the embedded database, and load demo data into an empty one."""
    from flask_migrate import upgrade

    from services import demo

    lock_path = Path(app.instance_path) / "setup.lock"
    with app.app_context(), open(lock_path, "w") as lock:
        # Several workers may start at once; one migrates, the others wait.
        fcntl.flock(lock, fcntl.LOCK_EX)
        upgrade()
        if demo.is_empty():
            demo.seed()
            click.echo(demo.logins_text())
