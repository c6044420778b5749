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
