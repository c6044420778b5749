"""Free-text search over deal name and company name.

The contract: `matching(term)` returns a SQL condition on `Deal` that is true for
deals whose name or company contains `term`, case-insensitively, with every
character (%, _, \\, quotes) matched literally.

The condition is always the same LIKE, so both databases give the same answer;
what changes is how the database finds the candidates, through the trigram
indexes of migration 0002:

- PostgreSQL: `ILIKE '%term%'` on each column is served by its pg_trgm GIN index
  (the planner picks it when it pays).
- SQLite: LIKE cannot use an index, so for terms of 3 characters or more (one
  trigram at least) the deals are first narrowed to the rowids the FTS5 trigram
  table `deals_fts` matches for the term as a phrase, and the LIKE rechecks those
  few. FTS5 folds case for all of Unicode while SQLite's LIKE folds ASCII only, so
  the index finds a superset and the recheck keeps the answer exact. Shorter terms
  have no trigram: they fall back to the LIKE alone (a scan, bounded by the page).
"""

import sqlalchemy as sa

from extensions import db
from models import SEARCH_INDEX_TABLE, Deal

TRIGRAM = 3  # FTS5's trigram tokenizer matches nothing shorter

_fts = sa.table(SEARCH_INDEX_TABLE, sa.column("rowid"))


def escape_like(term: str) -> str:
    """`term` for a LIKE pattern with escape character backslash: wildcards match literally."""
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _fts_phrase(term: str) -> str:
    """`term` as one FTS5 string: inside double quotes everything is literal but `"`."""
    return '"' + term.replace('"', '""') + '"'


def _contains(term: str):
    pattern = f"%{escape_like(term)}%"
    return sa.or_(
        Deal.name.ilike(pattern, escape="\\"),
        Deal.company_name.ilike(pattern, escape="\\"),
    )


def matching(term: str):
    """A condition on Deal: name or company contains `term` (case-insensitive, literal)."""
    contains = _contains(term)
    if len(term) < TRIGRAM or db.session.get_bind().dialect.name != "sqlite":
        return contains
    candidates = sa.select(_fts.c.rowid).where(
        sa.literal_column(SEARCH_INDEX_TABLE).op("MATCH")(_fts_phrase(term))
    )
    return sa.and_(Deal.id.in_(candidates), contains)


def rebuild_index(connection) -> None:
    """Re-read every deal into the SQLite FTS table (after a load that bypassed its triggers)."""
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql(
            f"INSERT INTO {SEARCH_INDEX_TABLE}({SEARCH_INDEX_TABLE}) VALUES ('rebuild')"  # noqa: S608
        )
