"""Product interest: the set of the vendor's products a shared deal is about.

Both parties may edit it. Like the deal team, a save carries what this user
changed (added and removed relative to what their form showed), applied to the
set as it is now, so two people saving together both keep their changes.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable

import sqlalchemy as sa

from catalog import lazy_gettext as _l
from extensions import db
from models import Product, ProductInterest, SharedDeal, User
from services.changes import shared_deal_change
from services.errors import Invalid
from services.rows import insert_rows

CHOOSE_PRODUCTS = _l("Choose products from the vendor's catalogue.")


def catalogue_of(vendor_account_ids: Iterable[int]) -> list[Product]:
    """The products of these vendors, by vendor then in catalogue order."""
    return list(
        db.session.scalars(
            sa.select(Product)
            .where(Product.vendor_account_id.in_(list(vendor_account_ids)))
            .order_by(Product.vendor_account_id, Product.position, Product.name)
        )
    )


def catalogue_for(shared: SharedDeal) -> list[Product]:
    """The vendor's products, in catalogue order: what "Edit product interests" offers."""
    return catalogue_of([shared.vendor_account_id])


def products_of(shared: SharedDeal) -> list[Product]:
    """The products the shared deal is interested in, in catalogue order."""
    return list(
        db.session.scalars(
            sa.select(Product)
            .join(ProductInterest, ProductInterest.product_id == Product.id)
            .where(ProductInterest.shared_deal_id == shared.id)
            .order_by(Product.position, Product.name)
        )
    )


def _names(catalogue: list[sa.Row], ids: set[int]) -> str:
    """The products `ids`, named in catalogue order (as `products_of` lists them)."""
    return ", ".join(row.name for row in catalogue if row.id in ids) or "none"


def apply_changes(
    shared: SharedDeal, actor: User, added: Iterable[int], removed: Iterable[int]
) -> bool:
    """Add and remove products of interest, in one transaction. Commits.

    Every id must be a product of the shared deal's vendor (`Invalid` otherwise, and
    nothing changes). Adding a product already there or removing one already gone
    does nothing. Writes one activity row that notifies the team. Returns whether
    the product interest changed.
    """
    added, removed = set(added), set(removed)
    with shared_deal_change(shared, actor) as change:
        shared = change.shared
        # Under the lock, in one statement: the catalogue, and which of it the deal has.
        parameters = {"shared_id": shared.id, "vendor_account_id": shared.vendor_account_id}
        catalogue = db.session.execute(_catalogue_statement(), parameters).all()
        if not (added | removed) <= {row.id for row in catalogue} or added & removed:
            raise Invalid(CHOOSE_PRODUCTS, "products")
        current = {row.id for row in catalogue if row.interested}
        to_add, to_remove = added - current, removed & current
        if not to_add and not to_remove:
            return False
        if to_add:
            rows = [{"shared_deal_id": shared.id, "product_id": pid} for pid in sorted(to_add)]
            insert_rows(ProductInterest, rows)
        if to_remove:
            parameters = {"shared_id": shared.id, "product_ids": sorted(to_remove)}
            db.session.execute(_delete_statement(), parameters)
        change.record(
            "products",
            "changed the product interest",
            before=_names(catalogue, current),
            after=_names(catalogue, (current - to_remove) | to_add),
        )
    return True


# A save's statements, built once with bind parameters: building them cost about as much
# as running them.


@functools.cache
def _catalogue_statement() -> sa.Select:
    interested = sa.exists().where(
        ProductInterest.shared_deal_id == sa.bindparam("shared_id", type_=sa.Integer),
        ProductInterest.product_id == Product.id,
    )
    return (
        sa.select(Product.id, Product.name, interested.label("interested"))
        .where(Product.vendor_account_id == sa.bindparam("vendor_account_id", type_=sa.Integer))
        .order_by(Product.position, Product.name)
    )


@functools.cache
def _delete_statement() -> sa.Delete:
    return sa.delete(ProductInterest).where(
        ProductInterest.shared_deal_id == sa.bindparam("shared_id", type_=sa.Integer),
        ProductInterest.product_id.in_(
            sa.bindparam("product_ids", expanding=True, type_=sa.Integer)
        ),
    )
