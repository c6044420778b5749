"""The request's language and time zone: what values are read and written in.

English only for now; the French issue plugs Flask-Babel's locale selector in here.
"""

from services import values


def current_language() -> str:
    """The language of this request's user ("en", "fr")."""
    return values.DEFAULT_LOCALE


def current_timezone():
    """The time zone moments are shown in for this request's user (None: UTC)."""
    return None
