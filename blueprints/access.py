"""Who may reach which view: every view needs a login, except those marked `public`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import current_app, request
from flask_login import current_user
from werkzeug.routing import BaseConverter, ValidationError

from extensions import login_manager
from services.values import MAX_ID

if TYPE_CHECKING:
    from models import User


def public(view):
    """Mark a view reachable without logging in (the login page, the bench's floors)."""
    view.public = True
    return view


def signed_in_user() -> User:
    """The signed-in user itself, for the views to hand to the services.

    Flask-Login's `current_user` is a proxy: it looks the user up again on every
    attribute read (~12 Python calls), and a service reads several.
    """
    return current_user._get_current_object()


def require_login():
    """before_request: a logged-out request for a non-public view goes to the login page."""
    view = current_app.view_functions.get(request.endpoint)
    if request.endpoint == "static" or getattr(view, "public", False):
        return None
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    return None


class IdConverter(BaseConverter):
    """`<id:name>` in a route: an id that can exist (1..MAX_ID); any other number is a 404."""

    regex = r"\d{1,20}"

    def to_python(self, value: str) -> int:
        number = int(value)
        if not 1 <= number <= MAX_ID:
            raise ValidationError()
        return number

    def to_url(self, value) -> str:
        return str(int(value))
