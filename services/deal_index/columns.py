"""What the deals index can show and sort by: its columns, and the default ones."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import sqlalchemy as sa

from catalog import lazy_gettext as _l
from models import Deal
from services.deal_index.choices import Choice, by_name
from services.deal_index.registry import Scope

DEFAULT_SORT = "created_at"
DEFAULT_DESCENDING = True


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    # The sort key: an expression over Deal, or for a choice column the Deal column
    # whose choices give the order (see `query.sort_order`).
    sort_key: Callable[[Scope], sa.ColumnElement] | None = None
    choice_column: sa.ColumnElement | None = None
    # The choices in sort order, from the account's choices as loaded.
    choice_order: Callable[[list[Choice]], list[Choice]] = list
    # Where the sort key can be anything but 0 (a few deals): the rest sort as 0 by id.
    nonzero_ids: Callable[[Scope], sa.Select] | None = None
    numeric: bool = False
    nullable: bool = False  # blank values sort last, whichever the direction

    @property
    def sortable(self) -> bool:
        return self.sort_key is not None or self.choice_column is not None


def _by_label(choices: list[Choice]) -> list[Choice]:
    return sorted(choices, key=lambda c: (*by_name(c.label), c.id))


COLUMNS: dict[str, Column] = {
    c.key: c
    for c in (
        Column("name", _l("Deal name"), lambda s: Deal.name),
        Column("company", _l("Company"), lambda s: Deal.company_name),
        # Not sortable: its order would need every deal's other party, a sort of the account.
        Column("shared_with", _l("Shared with")),  # shown by `page._row_columns`
        # Owner, stage and pipeline sort by their choices' order (owner and pipeline by
        # name, stage in pipeline order), so each choice reads off the (account, column,
        # id) index instead of a sort of every deal.
        Column("owner", _l("Deal owner"), None, Deal.owner_id, _by_label, nullable=True),
        Column("stage", _l("Deal stage"), None, Deal.stage_id),
        Column("pipeline", _l("Pipeline"), None, Deal.pipeline_id, _by_label),
        Column("amount", _l("Amount"), lambda s: Deal.amount, numeric=True, nullable=True),
        Column("close_date", _l("Close date"), lambda s: Deal.close_date, nullable=True),
        Column(
            "active_registrations",
            _l("Number of active deal registrations"),
            Scope.active_registrations,
            nonzero_ids=Scope.registered_deal_ids,
            numeric=True,
        ),
        Column("created_at", _l("Create date"), lambda s: Deal.created_at),
    )
}
DEFAULT_COLUMNS = (
    "name",
    "company",
    "shared_with",
    "owner",
    "stage",
    "pipeline",
    "amount",
    "close_date",
    "active_registrations",
    "created_at",  # the default sort: its header shows the order
)
