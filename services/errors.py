"""Errors services raise; views turn them into messages or status codes."""

from catalog import gettext as _


class NotFound(Exception):
    """The record does not exist or is not the caller's: both look the same."""


class Forbidden(Exception):
    """The caller may see the record but not do this to it."""


class Invalid(ValueError):
    """Input that breaks a rule; the message is fit to show the user."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class Conflict(Exception):
    """The stored value changed since the form was shown; nothing was written.

    `current` is the value now stored, as the user reads it.
    """

    def __init__(self, label: str, current: str):
        super().__init__(f"{label} was changed to {current} while you were editing.")
        self.message = _(
            "Someone else changed %(field)s to “%(value)s” while you were editing. "
            "Your change was not saved: check the value and save again to replace it.",
            field=label,
            value=current,
        )
        self.current = current
