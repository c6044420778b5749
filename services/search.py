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

  The FTS route costs in proportion to the term's matches (SQLite reads and sorts
  them all), the LIKE alone in proportion to the deals it walks in the index's
  order before it has the page's capped count. So on SQLite the route is chosen
  per term (`remember_matches`, from a bounded count of the FTS matches that the
  index's reference statement brings along, `bounded_matches`): a common word
  walks the sort's index with the LIKE alone, a rare one starts from the FTS
  matches. Both routes are the same LIKE, so they give the same rows.
"""

import threading
from collections import OrderedDict

import sqlalchemy as sa

from extensions import db
from models import SEARCH_INDEX_TABLE, Deal

TRIGRAM = 3  # FTS5's trigram tokenizer matches nothing shorter

_fts = sa.table(SEARCH_INDEX_TABLE, sa.column("rowid"))

# The LIKE walk reads (COUNT_CAP + 1) * deals / matches rows; the FTS route costs about
# 3.3 times a row read per match (1,000,000 deals per partner: "relaunch", 125,010
# matches, 408 ms by FTS; its LIKE walk, 16,000 rows, 16 ms). So the LIKE alone is
# cheaper once matches**2 >= FTS_VS_WALK * deals, FTS_VS_WALK = 1,001 / 3.3.
FTS_VS_WALK = 303
# The bounded count reads at most this many FTS matches (≈ 25 ms, once per term and
# process); a term with that many is common up to 3,000,000 deals.
PROBE_CAP = 30_000
ROUTES_KEPT = 1024  # terms whose route is remembered, per process
_common: OrderedDict[str, bool] = OrderedDict()
_common_lock = threading.Lock()


def escape_like(term: str) -> str:
    """`term` for a LIKE pattern with escape character backslash: wildcards match literally."""
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _fts_phrase(term: str) -> str:
    """`term` as one FTS5 string: inside double quotes everything is literal but `"`."""
    return '"' + term.replace('"', '""') + '"'


def ilike(column, pattern: str):
    """`column` matches the LIKE `pattern` (escape character backslash), case-insensitively.

    On SQLite a plain LIKE: it folds ASCII case and nothing else, exactly as
    `lower(column) LIKE lower(pattern)` does (SQLite's lower() is ASCII-only without
    ICU), without a lower() call per row, which cost as much as the walk itself
    (a common word over name and company at 1,000,000 deals: 92 -> 37 ms).
    Elsewhere ILIKE.
    """
    if db.session.get_bind().dialect.name == "sqlite":
        return column.like(pattern, escape="\\")
    return column.ilike(pattern, escape="\\")


def _contains(term: str):
    pattern = f"%{escape_like(term)}%"
    return sa.or_(ilike(Deal.name, pattern), ilike(Deal.company_name, pattern))


def _has_routes(term: str) -> bool:
    return len(term) >= TRIGRAM and db.session.get_bind().dialect.name == "sqlite"


def needs_probe(term: str) -> bool:
    """Whether `term`'s route is still to be chosen: bring `bounded_matches` along."""
    return _has_routes(term) and is_common(term) is None


def is_common(term: str) -> bool | None:
    """Whether `term` takes the LIKE walk (True), the FTS route (False), or not known yet."""
    with _common_lock:
        return _common.get(term)


def remember_matches(term: str, matches: int, deals: int) -> None:
    """Choose `term`'s route from its FTS matches (counted up to PROBE_CAP) and the deals."""
    common = matches >= PROBE_CAP or matches * matches >= FTS_VS_WALK * deals
    with _common_lock:
        _common[term] = common
        _common.move_to_end(term)
        while len(_common) > ROUTES_KEPT:
            _common.popitem(last=False)


def bounded_matches(phrase: sa.BindParameter):
    """Scalar subquery: how many deals' FTS entries match `phrase` (up to PROBE_CAP)."""
    found = (
        sa.select(_fts.c.rowid)
        .where(sa.literal_column(SEARCH_INDEX_TABLE).op("MATCH")(phrase))
        .limit(PROBE_CAP)
        .subquery("probe")
    )
    return sa.select(sa.func.count()).select_from(found).scalar_subquery()


def deals_estimate():
    """Scalar subquery: about how many deals there are (the highest id: one index step)."""
    return sa.select(sa.func.max(Deal.id)).scalar_subquery()


def probe_phrase(term: str) -> str:
    """The value of `bounded_matches`'s phrase for `term`."""
    return _fts_phrase(term)


def starts_from_matches(term: str) -> bool:
    """Whether `matching(term)` narrows to the FTS matches first (SQLite, a rare term).

    The deals must then be read by primary key from those matches (`NOT INDEXED`):
    SQLite's planner may otherwise walk an index of the account and test every deal.
    """
    return _has_routes(term) and not is_common(term)


def matching(term: str):
    """A condition on Deal: name or company contains `term` (case-insensitive, literal)."""
    contains = _contains(term)
    if not starts_from_matches(term):
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
