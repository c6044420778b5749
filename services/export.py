"""The deals index as CSV: every deal of the current view, streamed in batches.

Rows are fetched `BATCH` at a time (a server-side cursor on PostgreSQL, SQLite's
stepping cursor) and written out as they come, so 100,000 deals never sit in
memory at once. Text cells are neutralised against spreadsheet formula injection.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from extensions import db
from services.deal_index import COLUMNS, ChoiceOptions, IndexState, Scope, export_select

BATCH = 1000
# A cell starting with one of these is a formula to a spreadsheet (OWASP "CSV injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(text: str) -> str:
    """`text` made inert for spreadsheets: a leading ' when it would start a formula."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _cell(row, key: str) -> str:
    value = row._mapping[key]
    if value is None:
        return ""
    if key == "created_at":
        return value.date().isoformat()
    if key == "close_date":
        return value.isoformat()
    if key in ("amount", "active_registrations"):
        return str(value)  # numbers: nothing to neutralise, and a negative stays a number
    return neutralise(str(value))


def csv_lines(scope: Scope, state: IndexState, choices: ChoiceOptions) -> Iterator[str]:
    """The CSV text of the view `state`, in chunks: a header line, then one chunk per batch."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    columns = state.columns

    def flush() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    writer.writerow([COLUMNS[key].label for key in columns])
    yield flush()
    result = db.session.execute(
        export_select(scope, state, choices).execution_options(yield_per=BATCH)
    )
    for batch in result.partitions():
        writer.writerows([_cell(row, key) for key in columns] for row in batch)
        yield flush()
