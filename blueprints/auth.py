"""Log in and log out."""

import math
import time
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_user, logout_user

from blueprints.access import public
from catalog import gettext as _
from catalog import ngettext
from extensions import limiter
from forms.auth import LanguageForm, LoginForm
from services import accounts

bp = Blueprint("auth", __name__)


def _safe_next(target: str | None) -> str:
    # Only same-site paths: never an open redirect to another host.
    if target:
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and target.startswith("/") and "\\" not in target:
            return target
    return url_for("deals.index")


def _failed(response) -> bool:
    # Only failed attempts use up the budget; a 429 or a successful login does not.
    return response.status_code == 422


def _email_typed() -> str:
    # Per account: the key is stored, so the form caps it.
    return "email:" + LoginForm.email_typed()


@bp.route("/login", methods=["GET", "POST"])
@public
@limiter.limit(
    lambda: current_app.config["LOGIN_FAILURES_PER_ADDRESS"], methods=["POST"], deduct_when=_failed
)
@limiter.limit(
    lambda: current_app.config["LOGIN_FAILURES_PER_ACCOUNT"],
    key_func=_email_typed,
    methods=["POST"],
    deduct_when=_failed,
)
def login():
    form = LoginForm()
    if form.validate_on_submit():
        user = accounts.authenticate(form.email.data, form.password.data)
        if user is not None:
            next_url = _safe_next(request.args.get("next"))
            chosen = session.get("language")  # picked on the login page, before logging in
            session.clear()  # a fresh session: nothing from before the login survives
            login_user(user, remember=form.remember.data)
            if chosen and user.language is None:
                accounts.set_language(user, chosen)
            return redirect(next_url, code=303)
        form.password.errors.append(_("That email and password do not match an account."))
    return render_template("auth/login.html", form=form), 200 if not form.errors else 422


@bp.errorhandler(429)
def too_many_failed_logins(error):
    # Checked before the password (no argon2 spent); the form keeps the email typed.
    breached = limiter.current_limit
    reset_time = breached.window[0] if breached else time.time() + 60
    seconds = max(1, math.ceil(reset_time - time.time()))
    message = ngettext(
        "Too many failed login attempts. Try again in %(num)d second.",
        "Too many failed login attempts. Try again in %(num)d seconds.",
        seconds,
    )
    page = render_template("auth/login.html", form=LoginForm(), throttle_message=message)
    return page, 429, {"Retry-After": str(seconds)}


@bp.post("/logout")
def logout():
    # Ends every session of the user (see accounts.end_sessions), remember-me included.
    accounts.end_sessions(current_user)
    session.clear()
    logout_user()  # after clear(): it flags the remember-me cookie for deletion
    flash(_("You are logged out."))
    return redirect(url_for("auth.login"), code=303)


@bp.post("/language")
@public
def change_language():
    """The language switch (user menu, login page): saved on the user, or in the session."""
    form = LanguageForm()
    if form.validate_on_submit():
        if current_user.is_authenticated:
            accounts.set_language(current_user, form.language.data)
        else:
            session["language"] = form.language.data
    return redirect(_safe_next(form.next.data), code=303)
