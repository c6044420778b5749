"""Errors services raise; views turn them into messages or status codes."""


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
