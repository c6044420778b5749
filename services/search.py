"""Free-text search over deal name and company name.

The contract: `matching(term)` returns a SQL condition on `Deal` that is true for
deals whose name or company contains `term`, case-insensitively, with every
character (%, _, \\, quotes) matched literally.
"""

import sqlalchemy as sa

from models import Deal


def _escape_like(term: str) -> str:
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def matching(term: str):
    """A condition on Deal: name or company contains `term` (case-insensitive, literal)."""
    pattern = f"%{_escape_like(term)}%"
    return sa.or_(
        Deal.name.ilike(pattern, escape="\\"),
        Deal.company_name.ilike(pattern, escape="\\"),
    )
