"""Helpers shared by the deal page browser tests."""

import sqlalchemy as sa


def deal_id(app, account_name, deal_name):
    """The id of `account_name`'s deal called `deal_name` in the live server's database."""
    from extensions import db
    from models import Account, Deal

    with app.app_context():
        return db.session.scalar(
            sa.select(Deal.id)
            .join(Account, Account.id == Deal.account_id)
            .where(Account.name == account_name, Deal.name == deal_name)
        )


def acme_url(live_server, app, side="Brightside Agency"):
    return f"{live_server}/deals/{deal_id(app, side, 'Acme Corp website relaunch')}"


def unshared_deal(app, account_name):
    """(id, name) of the first deal of `account_name` that no shared deal links."""
    from extensions import db
    from models import Account, Deal, SharedDeal

    linked = sa.union(sa.select(SharedDeal.partner_deal_id), sa.select(SharedDeal.vendor_deal_id))
    with app.app_context():
        row = db.session.execute(
            sa.select(Deal.id, Deal.name)
            .join(Account, Account.id == Deal.account_id)
            .where(Account.name == account_name, Deal.id.not_in(linked))
            .order_by(Deal.id)
            .limit(1)
        ).one()
        return row.id, row.name
