"""Product interest: the set of the vendor's products a shared deal is about.

Both parties may edit it. Like the deal team, a save carries what this user
changed (added and removed relative to what their form showed), applied to the
set as it is now, so two people saving together both keep their changes.
"""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa

from catalog import lazy_gettext as _l
from extensions import db
from models import Product, ProductInterest, SharedDeal, User
from services.changes import shared_deal_change
from services.errors import Invalid

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


def _names(shared: SharedDeal) -> str:
    return ", ".join(p.name for p in products_of(shared)) or "none"


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
        catalogue = {p.id for p in catalogue_for(shared)}
        if not (added | removed) <= catalogue or added & removed:
            raise Invalid(CHOOSE_PRODUCTS, "products")
        current = set(
            db.session.scalars(
                sa.select(ProductInterest.product_id).where(
                    ProductInterest.shared_deal_id == shared.id
                )
            )
        )
        to_add, to_remove = added - current, removed & current
        if not to_add and not to_remove:
            return False
        before = _names(shared)
        db.session.add_all(
            ProductInterest(shared_deal_id=shared.id, product_id=pid) for pid in sorted(to_add)
        )
        if to_remove:
            db.session.execute(
                sa.delete(ProductInterest).where(
                    ProductInterest.shared_deal_id == shared.id,
                    ProductInterest.product_id.in_(to_remove),
                )
            )
        db.session.flush()
        change.record(
            "products", "changed the product interest", before=before, after=_names(shared)
        )
    return True
