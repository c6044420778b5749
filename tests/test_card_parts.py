"""A part of the card after a change reads only the card's lists it shows
(blueprints/shared_card.py, `_PART_LISTS`): rendered from those lists alone, every part
is the same HTML as from the whole card, for either party, in each of its states."""

import pytest
import sqlalchemy as sa
from flask_login import login_user

from blueprints import shared_card as card_routes
from models import Deal, SharedDeal, User
from services import registration_requests, shared_card
from tests.test_registration_requests import unregistered

# Each part, and the states its routes render it in (the out-of-band parts with it).
PARTS = [
    ("card/_team_dialog.html", ["card/_team_field.html"], {}),
    ("card/_team_dialog.html", [], {"team_error": "No.", "team_ticked": [], "team_original": []}),
    ("card/_products.html", [], {}),
    ("card/_products.html", [], {"editing_products": True}),
    ("card/_products.html", [], {"products_error": "No.", "editing_products": True}),
    ("card/_registrations.html", [], {}),
    ("card/_registrations.html", [], {"request_error": "No."}),
    ("card/_registrations.html", [], {"decision_error": "No."}),
]


def sides(db_session):
    """(user, their deal's id, shared deal) for each party of each shared deal."""
    for shared in db_session.scalars(sa.select(SharedDeal).order_by(SharedDeal.id)):
        for account_id, deal_id in (
            (shared.partner_account_id, shared.partner_deal_id),
            (shared.vendor_account_id, shared.vendor_deal_id),
        ):
            user = db_session.scalar(
                sa.select(User).where(User.account_id == account_id).order_by(User.id).limit(1)
            )
            yield user, deal_id, shared


def render_both_ways(app, user, deal_id, shared, template, oob_parts, state, monkeypatch):
    with app.test_request_context(f"/deals/{deal_id}", headers={"HX-Request": "true"}):
        login_user(user)
        part = card_routes._card_part(deal_id, shared, template, oob_parts, **state)
        with monkeypatch.context() as whole:
            whole.setattr(card_routes, "_lists_of", lambda *_: shared_card.CARD_LISTS)
            from_whole_card = card_routes._card_part(deal_id, shared, template, oob_parts, **state)
    return part, from_whole_card


@pytest.mark.parametrize(("template", "oob_parts", "state"), PARTS)
def test_a_part_from_its_lists_is_the_part_from_the_whole_card(
    app, demo, db_session, monkeypatch, template, oob_parts, state
):
    # A new shared deal with an open request on a company another partner registered:
    # the vendor's registrations list the conflict (the demo has an open request too).
    shared = unregistered(db_session, demo)
    db_session.get(Deal, shared.partner_deal_id).company_name = "Wayne Enterprises"
    db_session.commit()
    registration_requests.request(shared, demo.alice, "Please")
    assert shared_card.card_for(demo.rita, shared).conflicts
    seen = 0
    for user, deal_id, shared in list(sides(db_session)):
        part, whole = render_both_ways(
            app, user, deal_id, shared, template, tuple(oob_parts), state, monkeypatch
        )
        assert part == whole, (user.email, deal_id, template)
        seen += 1
    assert seen >= 4
