"""Free-text search over deal name and company name, and the text filters on either.

The contract: `matching(term)` returns a SQL condition on `Deal` that is true for
deals whose name or company contains `term`, case-insensitively, with every
character (%, _, \\, quotes) matched literally; `matching(term, Deal.name)` the
same on the name alone (the "Deal name contains" filter), and with `whole=True`
the name that is `term` ("Deal name is").

The condition is always the same LIKE, so both databases give the same answer;
what changes is how the database finds the candidates, through the trigram
indexes of migration 0002:

- PostgreSQL: `ILIKE '%term%'`, as LIKE over the lower-cased names (migration 0015),
  on each column is served by its pg_trgm GIN index
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

  A filter on one column (`filter_matching`) takes the same routes, remembered per
  term and column: the FTS phrase is limited to that column (`name : "term"`), and
  the route is chosen by the same bounded count, run on its own when the filter's
  statement is built (the reference statement probes only the search's term). "is"
  always starts from the FTS matches: the walk would stop early only if many deals
  had exactly that name.
"""

import threading
from collections import OrderedDict

import sqlalchemy as sa

from extensions import db, on_sqlite
from models import FOLDED_NAMES, SEARCH_INDEX_TABLE, Deal

TRIGRAM = 3  # FTS5's trigram tokenizer matches nothing shorter

_fts = sa.table(SEARCH_INDEX_TABLE, sa.column("rowid"))
# PostgreSQL: lower(name) and lower(company_name), kept by the database (migration 0015).
FOLDED_COLUMNS = dict(zip((Deal.name, Deal.company_name), FOLDED_NAMES, strict=True))

# The LIKE walk reads (COUNT_CAP + 1) * deals / matches rows; the FTS route costs about
# 3.3 times a row read per match (1,000,000 deals per partner: "relaunch", 125,010
# matches, 408 ms by FTS; its LIKE walk, 16,000 rows, 16 ms). So the LIKE alone is
# cheaper once matches**2 >= FTS_VS_WALK * deals, FTS_VS_WALK = 1,001 / 3.3.
FTS_VS_WALK = 303
# The bounded count reads at most this many FTS matches (≈ 25 ms, once per term and
# process); a term with that many is common up to 3,000,000 deals.
PROBE_CAP = 30_000
ROUTES_KEPT = 1024  # terms whose route is remembered, per process
# (term, FTS column or None for both) -> whether it takes the LIKE walk.
_common: OrderedDict[tuple[str, str | None], bool] = OrderedDict()
_common_lock = threading.Lock()


def escape_like(term: str) -> str:
    """`term` for a LIKE pattern with escape character backslash: wildcards match literally."""
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _fts_column(column) -> str | None:
    """The name `deals_fts` knows `column` by (deals.name, deals.company_name), else None."""
    return next((c.key for c in (Deal.name, Deal.company_name) if column is c), None)


def _fts_phrase(term: str, column=None) -> str:
    """`term` as one FTS5 string (inside double quotes everything is literal but `"`),
    in `column` only if given."""
    phrase = '"' + term.replace('"', '""') + '"'
    return f"{_fts_column(column)} : {phrase}" if column is not None else phrase


def ilike(column, pattern: str):
    """`column` matches the LIKE `pattern` (escape character backslash), case-insensitively.

    On SQLite a plain LIKE: it folds ASCII case and nothing else, exactly as
    `lower(column) LIKE lower(pattern)` does (SQLite's lower() is ASCII-only without
    ICU), without a lower() call per row, which cost as much as the walk itself
    (a common word over name and company at 1,000,000 deals: 92 -> 37 ms).

    On PostgreSQL the name and the company are compared lower-cased, as stored by
    the database (migration 0015), with LIKE against the lower-cased pattern: what
    ILIKE does, without lower-casing every row it tests. Any other column: ILIKE.

    SQLite is given the pattern as `? || ''`, not a bare parameter: a bare one makes it
    prepare the statement again at every run, to see whether the pattern's start could
    use an index (it never can here: the pattern starts with % or is matched by FTS
    first). The deals index's statement with "Deal name contains", 1,000,000 deals:
    9.1 / 9.3 -> 8.7 / 8.7 ms.
    """
    if on_sqlite():
        return column.like(sa.literal(pattern, sa.Text).concat(""), escape="\\")
    folded = FOLDED_COLUMNS.get(column)
    if folded is None:
        return column.ilike(pattern, escape="\\")
    lowered = sa.func.lower(sa.literal(pattern, sa.Text))
    return sa.literal_column(f"deals.{folded}", sa.Text).like(lowered, escape="\\")


def _like(term: str, column=None, *, whole: bool = False):
    """The LIKE itself: `column` (name or company when None) contains `term`, or is it."""
    pattern = escape_like(term) if whole else f"%{escape_like(term)}%"
    columns = (Deal.name, Deal.company_name) if column is None else (column,)
    return sa.or_(*(ilike(c, pattern) for c in columns))


def _has_routes(term: str, column=None) -> bool:
    return (
        len(term) >= TRIGRAM and (column is None or _fts_column(column) is not None) and on_sqlite()
    )


def needs_probe(term: str, column=None) -> bool:
    """Whether `term`'s route is still to be chosen: bring `bounded_matches` along."""
    return _has_routes(term, column) and is_common(term, column) is None


def is_common(term: str, column=None) -> bool | None:
    """Whether `term` (in `column`, else name or company) takes the LIKE walk (True), the
    FTS route (False), or not known yet."""
    with _common_lock:
        return _common.get((term, _fts_column(column)))


def remember_matches(term: str, matches: int, deals: int, column=None) -> None:
    """Choose `term`'s route from its FTS matches (counted up to PROBE_CAP) and the deals."""
    common = matches >= PROBE_CAP or matches * matches >= FTS_VS_WALK * deals
    key = (term, _fts_column(column))
    with _common_lock:
        _common[key] = common
        _common.move_to_end(key)
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


def probe_phrase(term: str, column=None) -> str:
    """The value of `bounded_matches`'s phrase for `term` (in `column` only, if given)."""
    return _fts_phrase(term, column)


def _probe(term: str, column) -> None:
    """Count `term`'s FTS matches in `column` (up to PROBE_CAP) and choose its route."""
    count = bounded_matches(sa.literal(probe_phrase(term, column), sa.Text))
    matches, deals = db.session.execute(sa.select(count, deals_estimate())).one()
    remember_matches(term, matches, deals or 0, column)


def starts_from_matches(term: str, column=None, *, whole: bool = False) -> bool:
    """Whether `matching(term, column, whole=whole)` narrows to the FTS matches first
    (SQLite: a rare term, or "is").

    The deals must then be read by primary key from those matches (`NOT INDEXED`):
    SQLite's planner may otherwise walk an index of the account and test every deal.
    """
    return _has_routes(term, column) and (whole or not is_common(term, column))


def matching(term: str, column=None, *, whole: bool = False):
    """A condition on Deal: name or company (or `column` alone, if given) contains
    `term`, or with `whole` is `term` (case-insensitive, literal)."""
    like = _like(term, column, whole=whole)
    if not starts_from_matches(term, column, whole=whole):
        return like
    candidates = sa.select(_fts.c.rowid).where(
        sa.literal_column(SEARCH_INDEX_TABLE).op("MATCH")(_fts_phrase(term, column))
    )
    return sa.and_(Deal.id.in_(candidates), like)


def filter_starts_from_matches(term: str, column, *, whole: bool = False) -> bool:
    """`starts_from_matches` for a filter on `column`: its route chosen first if need be.

    The reference statement probes only the search's term, so a filter's term is
    counted here, by a statement of its own (once per term, column and process; the
    index keeps the filter's statement, `query.statement`).
    """
    if not whole and needs_probe(term, column):
        _probe(term, column)
    return starts_from_matches(term, column, whole=whole)


def filter_matching(term: str, column, *, whole: bool = False):
    """`matching` for a filter on `column` ("contains", or "is" with `whole`), its route
    chosen first if need be (`filter_starts_from_matches`)."""
    filter_starts_from_matches(term, column, whole=whole)
    return matching(term, column, whole=whole)


def rebuild_index(connection) -> None:
    """Re-read every deal into the SQLite FTS table (after a load that bypassed its triggers)."""
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql(
            f"INSERT INTO {SEARCH_INDEX_TABLE}({SEARCH_INDEX_TABLE}) VALUES ('rebuild')"  # noqa: S608
        )
