"""The board over HTTP: the Table / Board switch, the columns, "Show more", and moving a
card with a plain form (post-redirect-get) or htmx; tenancy, CSRF and bad input."""

import re

import sqlalchemy as sa

from models import Activity, Deal, Pipeline, Stage
from tests.html import (
    alerts,
    by_label,
    heading,
    headings,
    is_fragment,
    link,
    links,
    options,
    page,
    region,
    selected,
    statuses,
    value,
)
from tests.test_deals_index import counted_statements

HX = {"HX-Request": "true"}


def stage(db_session, account, name, pipeline="Sales pipeline"):
    return db_session.scalar(
        sa.select(Stage)
        .join(Pipeline, Pipeline.id == Stage.pipeline_id)
        .where(Pipeline.account_id == account.id, Pipeline.name == pipeline, Stage.name == name)
    )


def first_stage(db_session, account, pipeline):
    return db_session.scalar(
        sa.select(Stage)
        .join(Pipeline, Pipeline.id == Stage.pipeline_id)
        .where(Pipeline.account_id == account.id, Pipeline.name == pipeline)
        .order_by(Stage.position)
    )


def stage_id_of(db_session, deal):
    return db_session.scalar(sa.select(Deal.stage_id).where(Deal.id == deal.id))


def board(doc):
    return doc.find(id="deals-board")


def column_headers(doc):
    """Stage name -> "N deals amount" as each column's header reads."""
    out = {}
    for section in board(doc).find_all("section"):
        out[heading(section)] = " ".join(section.find("p").get_text(" ").split())
    return out


def card_names(doc, stage_name):
    for section in board(doc).find_all("section"):
        if heading(section) == stage_name:
            return [a.get_text() for a in section.select(".board-card-name")]
    raise AssertionError(f"no column {stage_name}")


def move(client, deal, stage_id, original, query="layout=board", headers=None):
    return client.post(
        f"/deals/{deal.id}/move",
        data={"stage": str(stage_id), "original": str(original), "query": query},
        headers=headers or {},
    )


# ---------------------------------------------------------------- the board


def test_the_switch_and_the_board(client, login_as, demo):
    login_as(demo.alice)
    doc = page(client.get("/deals?f=owner:is_me:"))
    switch = doc.find("nav", attrs={"aria-label": "Layout"})
    assert links(switch) == ["Board"]
    assert link(switch, "Board")["href"] == "/deals?f=owner:is_me:&layout=board"
    assert board(doc).find("section") is None

    doc = page(client.get("/deals?f=owner:is_me:&layout=board"))
    assert doc.find("table", class_="deals-table") is None
    assert link(doc.find("nav", attrs={"aria-label": "Layout"}), "Table")["href"] == (
        "/deals?f=owner:is_me:"
    )
    assert headings(region(doc, "Board: Sales pipeline"), 2) == [
        "Discovery",
        "Qualified",
        "Proposal sent",
        "Negotiation",
        "Closed won",
        "Closed lost",
    ]
    assert selected(doc.find("select", attrs={"name": "board_pipeline"})) == ["Sales pipeline"]
    assert any("deals in this pipeline" in s for s in statuses(doc))
    # The saved view form keeps the layout.
    assert doc.find("input", attrs={"name": "query", "form": "view-save"})["value"] == (
        "f=owner:is_me:&layout=board"
    )


def test_the_fragment_carries_the_board_out_of_band(client, login_as, demo):
    login_as(demo.alice)
    r = client.get("/deals?layout=board", headers=HX)
    doc = page(r)
    assert is_fragment(doc)
    assert board(doc)["hx-swap-oob"] == "true" and board(doc).find("section")
    # Back to the table: the board is emptied.
    doc = page(client.get("/deals", headers=HX))
    assert board(doc)["hx-swap-oob"] == "true" and board(doc).find("section") is None


def test_the_pipeline_picker_goes_to_the_canonical_address(client, login_as, demo, db_session):
    login_as(demo.alice)
    referrals = db_session.scalar(
        sa.select(Pipeline.id).where(
            Pipeline.account_id == demo.brightside.id, Pipeline.name == "Partner referrals"
        )
    )
    r = client.get(f"/deals?layout=board&board_pipeline={referrals}")
    assert r.status_code == 303
    assert r.headers["Location"] == f"/deals?layout=board&pipeline={referrals}"
    doc = page(client.get(r.headers["Location"]))
    assert region(doc, "Board: Partner referrals")


def test_a_bad_pipeline_shows_the_first_with_a_message(client, login_as, demo, db_session):
    login_as(demo.alice)
    theirs = db_session.scalar(sa.select(Pipeline.id).where(Pipeline.account_id == demo.harbor.id))
    for bad in (str(theirs), "x", "99999999"):
        r = client.get(f"/deals?layout=board&pipeline={bad}")
        assert r.status_code == 200
        doc = page(r)
        assert "Choose one of your pipelines for the board." in doc.get_text()
        assert region(doc, "Board: Sales pipeline")


def test_show_more(client, login_as, demo, db_session):
    from tests.test_services_board import add_deals

    qualified = stage(db_session, demo.brightside, "Qualified")
    add_deals(db_session, demo, qualified, 30)
    login_as(demo.alice)
    doc = page(client.get("/deals?layout=board&sort=name"))
    assert len(card_names(doc, "Qualified")) == 20
    more = link(board(doc), "Show more (Qualified)")["href"]
    assert more == f"/deals/board/more?sort=name&layout=board&stage={qualified.id}&offset=20"

    fragment = page(client.get(more, headers=HX))
    assert is_fragment(fragment)
    names = [a.get_text() for a in fragment.select(".board-card-name")]
    assert len(names) == 20 and names[0] > card_names(doc, "Qualified")[-1]
    focused = [a.has_attr("autofocus") for a in fragment.select(".board-card-name")]
    assert focused == [True] + [False] * 19  # the first new card, and only it

    plain = page(client.get(more))
    assert heading(plain, 1) == "Qualified"
    assert [a.get_text() for a in plain.select(".board-card-name")] == names
    assert link(plain, "Back to the board")["href"] == "/deals?sort=name&layout=board"

    # A stage of another pipeline, and of another account.
    other_pipeline = first_stage(db_session, demo.brightside, "Partner referrals").id
    other_account = first_stage(db_session, demo.harbor, "Sales pipeline").id
    for bad in ("abc", "", other_pipeline, other_account):
        assert client.get(f"/deals/board/more?layout=board&stage={bad}").status_code == 404, bad


# ---------------------------------------------------------------- moving a card


def test_a_plain_move_redirects_back_to_the_board(client, login_as, demo, db_session):
    login_as(demo.alice)
    deal = demo.initech
    original = stage_id_of(db_session, deal)
    target = stage(db_session, demo.brightside, "Closed won")
    r = move(client, deal, target.id, original, query="sort=name&layout=board&page=4")
    assert r.status_code == 303
    assert r.headers["Location"] == "/deals?sort=name&layout=board"
    assert stage_id_of(db_session, deal) == target.id
    doc = page(client.get(r.headers["Location"]))
    assert deal.name in card_names(doc, "Closed won")


def test_an_htmx_move_answers_with_what_changed_only(client, login_as, demo, db_session):
    login_as(demo.alice)
    deal = demo.acme  # a shared deal: its history and team hear of it
    original = stage_id_of(db_session, deal)
    target = stage(db_session, demo.brightside, "Negotiation")
    before = page(client.get("/deals?layout=board"))
    assert deal.name not in card_names(before, "Negotiation")
    r = move(client, deal, target.id, original, headers=HX)
    assert r.status_code == 200
    assert r.headers["HX-Trigger"] == "notifications-changed"
    assert len(r.data) <= 4096, len(r.data)  # a save: a few parts, not the board
    doc = page(r)
    assert is_fragment(doc) and board(doc) is None
    # The announcement (the form's target is #board-status), then the parts, out of band.
    assert doc.get_text(" ").strip().startswith(f"“{deal.name}” moved to Negotiation.")
    gone = doc.find("li", attrs={"hx-swap-oob": "delete"})
    assert gone["id"] == f"card-{deal.id}" and not gone.contents
    # The card goes before the card that now follows it in Negotiation (the table's order).
    after = page(client.get("/deals?layout=board"))
    names = card_names(after, "Negotiation")
    ids = {
        li.select_one(".board-card-name").get_text(): li["data-deal-id"]
        for li in board(after).select(".board-card")
    }
    position = names.index(deal.name)
    where = (
        f"beforebegin:#card-{ids[names[position + 1]]}"
        if position + 1 < len(names)
        else f"beforeend:#stage-{target.id}-cards:not(:has(.board-more))"  # the last card
    )
    inserted = doc.find(attrs={"hx-swap-oob": where})
    card = inserted.find("li", id=f"card-{deal.id}")
    assert card["data-stage"] == str(target.id)
    move_link = link(card, f"Move to stage: {deal.name}")
    assert move_link.has_attr("data-focus-after-move")  # focus follows the card
    # Both columns' headers, recounted: exactly what the whole board now says.
    headers = doc.find_all("header", attrs={"hx-swap-oob": "true"})
    assert [h["id"] for h in headers] == [f"stage-{original}-header", f"stage-{target.id}-header"]
    for header in headers:
        name = heading(header)
        assert " ".join(header.find("p").get_text(" ").split()) == column_headers(after)[name]
    count = int(column_headers(before)["Negotiation"].split()[0])
    assert column_headers(after)["Negotiation"].startswith(f"{count + 1} deal")
    row = db_session.scalar(
        sa.select(Activity)
        .where(Activity.shared_deal_id == demo.acme_shared.id)
        .order_by(Activity.id.desc())
    )
    assert (row.summary, row.after) == ("changed the deal stage", "Negotiation")


def test_a_move_reads_the_stages_in_one_statement(client, login_as, demo, db_session):
    """The history's stage names come from the one statement that checks the new stage
    with its pipeline and reads the deal's current ones, not from queries of their own."""
    login_as(demo.alice)
    deal = demo.acme  # a shared deal: its move is written to its history
    original = stage_id_of(db_session, deal)
    target = stage(db_session, demo.brightside, "Negotiation")
    db_session.expunge_all()  # as in production: nothing loaded before the request
    with counted_statements() as statements:
        assert move(client, deal, target.id, original, headers=HX).status_code == 200
    reads = [s for s in statements if s.startswith(("SELECT stages.", "SELECT pipelines."))]
    assert len(reads) == 1, statements
    row = db_session.scalar(
        sa.select(Activity)
        .where(Activity.shared_deal_id == demo.acme_shared.id)
        .order_by(Activity.id.desc())
    )
    assert (row.before, row.after) == (db_session.get(Stage, original).name, "Negotiation")


def test_a_moves_answer_leaves_the_fold_to_a_later_read(
    client, login_as, demo, db_session, monkeypatch
):
    """The headers a move answers with are read in the move's transaction: the counts'
    fold (its own write, which commits or rolls back) is not run there, or a failed fold
    would take the move with it. The board's next read folds as before."""
    from services import board_counts

    folded = []

    def failing_fold(account_id):
        folded.append(account_id)
        raise sa.exc.OperationalError("fold", {}, Exception("database is locked"))

    monkeypatch.setattr(board_counts, "FOLD_AFTER", -1)  # every read would fold
    monkeypatch.setattr(board_counts, "fold", failing_fold)
    login_as(demo.alice)
    deal = demo.acme
    original = stage_id_of(db_session, deal)
    target = stage(db_session, demo.brightside, "Negotiation")
    r = move(client, deal, target.id, original, headers=HX)
    assert r.status_code == 200 and folded == []
    db_session.expire_all()
    assert stage_id_of(db_session, deal) == target.id
    assert client.get("/deals?layout=board").status_code == 200
    assert folded == [demo.brightside.id]


def test_a_card_moved_past_the_shown_cards_is_only_counted(client, login_as, demo, db_session):
    from tests.test_services_board import add_deals

    deal = demo.initech
    original = stage_id_of(db_session, deal)
    target = stage(db_session, demo.brightside, "Closed lost")
    assert target.id != original
    add_deals(db_session, demo, target, 30)  # "Board deal 000".. sort before "Initech"
    login_as(demo.alice)
    query = "sort=name&layout=board"
    before = page(client.get(f"/deals?{query}"))
    count = int(column_headers(before)["Closed lost"].split()[0])
    doc = page(move(client, deal, target.id, original, query=query, headers=HX))
    # Its place is past the 20 cards shown: it leaves its column, joins none.
    assert doc.find("li", attrs={"hx-swap-oob": "delete"})["id"] == f"card-{deal.id}"
    assert doc.find("ol", attrs={"hx-swap-oob": True}) is None
    headers = {heading(h): h for h in doc.find_all("header", attrs={"hx-swap-oob": "true"})}
    assert headers["Closed lost"].find("p").get_text(" ").split()[0] == str(count + 1)

    # A board showing the whole column ("Show more" pressed; app.js sends how many):
    # the card goes before its follower, or at the end of a column shown to its end.
    back = stage_id_of(db_session, deal)
    assert move(client, deal, original, back, query=query).status_code == 303
    # A missing or bad count is the first 20 cards: the move is made, the card not shown.
    for shown in ("", "many", "-5", "0", str(2**31), "1e3"):
        r = client.post(
            f"/deals/{deal.id}/move",
            data={"stage": target.id, "original": original, "query": query, "shown": shown},
            headers=HX,
        )
        assert r.status_code == 200
        doc = page(r)
        assert doc.find("li", attrs={"hx-swap-oob": "delete"})["id"] == f"card-{deal.id}"
        assert doc.find("ol", attrs={"hx-swap-oob": True}) is None
        assert move(client, deal, original, target.id, query=query).status_code == 303
    r = client.post(
        f"/deals/{deal.id}/move",
        data={"stage": target.id, "original": original, "query": query, "shown": "60"},
        headers=HX,
    )
    doc = page(r)
    in_order = db_session.scalars(
        sa.select(Deal.id).where(Deal.stage_id == target.id).order_by(Deal.name, Deal.id)
    ).all()
    position = in_order.index(deal.id)
    assert position >= 20  # past the first 20 cards
    where = doc.find("ol", attrs={"hx-swap-oob": True})["hx-swap-oob"]
    assert where == (
        f"beforebegin:#card-{in_order[position + 1]}"
        if position + 1 < len(in_order)
        else f"beforeend:#stage-{target.id}-cards:not(:has(.board-more))"
    )


def test_a_move_that_leaves_the_filter_takes_the_card_off_the_board(
    client, login_as, demo, db_session
):
    login_as(demo.alice)
    deal = demo.initech
    original = stage_id_of(db_session, deal)
    target = stage(db_session, demo.brightside, "Closed won")
    query = f"f=stage:any_of:{original}&layout=board"
    r = move(client, deal, target.id, original, query=query, headers=HX)
    doc = page(r)
    assert doc.find("li", attrs={"hx-swap-oob": "delete"})["id"] == f"card-{deal.id}"
    assert doc.find("ol", attrs={"hx-swap-oob": True}) is None  # not inserted anywhere
    headers = {heading(h): h for h in doc.find_all("header", attrs={"hx-swap-oob": "true"})}
    assert headers["Closed won"].find("p").get_text(" ").split()[:2] == ["0", "deals"]
    # Focus goes to the new column's heading, the card not being shown.
    assert headers["Closed won"].find("h2").has_attr("data-focus-after-move")


def test_a_move_from_a_stale_board_is_a_conflict(client, login_as, demo, db_session):
    login_as(demo.alice)
    deal = demo.initech
    original = stage_id_of(db_session, deal)
    moved = stage(db_session, demo.brightside, "Closed lost")
    assert move(client, deal, moved.id, original).status_code == 303  # someone else, first
    r = move(client, deal, stage(db_session, demo.brightside, "Closed won").id, original)
    assert r.status_code == 409
    doc = page(r)
    assert any("Closed lost" in a and "while you were editing" in a for a in alerts(doc))
    assert stage_id_of(db_session, deal) == moved.id
    # The card's move page again, its menu on the current stage, back to the same board.
    assert heading(doc, 1) == deal.name
    assert selected(by_label(doc, f"Move to stage: {deal.name}")) == ["Closed lost"]
    assert link(doc, "Back to the board")["href"] == "/deals?layout=board"

    r = move(
        client, deal, stage(db_session, demo.brightside, "Closed won").id, original, headers=HX
    )
    doc = page(r)
    assert r.status_code == 200 and any("while you were editing" in a for a in alerts(doc))
    assert stage_id_of(db_session, deal) == moved.id
    # htmx: the card again where it is, knowing its current stage (the next move starts there).
    card = doc.find("li", attrs={"hx-swap-oob": "true"})
    assert card["id"] == f"card-{deal.id}" and card["data-stage"] == str(moved.id)
    assert len(r.data) <= 4096


def test_bad_stages_are_refused_with_a_message(client, login_as, demo, db_session):
    login_as(demo.alice)
    deal = demo.initech
    original = stage_id_of(db_session, deal)
    other_pipeline = first_stage(db_session, demo.brightside, "Partner referrals")
    other_account = first_stage(db_session, demo.harbor, "Sales pipeline")
    for bad, message in (
        (other_pipeline.id, "Choose a deal stage of the chosen pipeline."),
        (other_account.id, "Choose a deal stage of the chosen pipeline."),
        ("abc", "Choose a deal stage."),
        ("", "Choose a deal stage."),
        ("99999999999999999999999", "Choose a deal stage."),
    ):
        r = move(client, deal, bad, original)
        assert r.status_code == 400, bad
        assert message in alerts(page(r)), (bad, alerts(page(r)))
        r = move(client, deal, bad, original, headers=HX)
        assert r.status_code == 200 and message in alerts(page(r))
        assert stage_id_of(db_session, deal) == original


def test_another_accounts_deal_is_a_404(client, login_as, demo, db_session):
    login_as(demo.hana)
    original = stage_id_of(db_session, demo.initech)
    target = first_stage(db_session, demo.harbor, "Sales pipeline")
    for deal_id in (demo.initech.id, 99999999):
        r = client.post(f"/deals/{deal_id}/move", data={"stage": target.id, "original": original})
        assert r.status_code == 404
    assert stage_id_of(db_session, demo.initech) == original


def test_a_move_needs_the_csrf_token(client, login_as, demo, db_session, csrf_enabled):
    login_as(demo.alice)
    original = stage_id_of(db_session, demo.initech)
    target = stage(db_session, demo.brightside, "Closed won")
    r = move(client, demo.initech, target.id, original)
    assert r.status_code == 400
    assert stage_id_of(db_session, demo.initech) == original


def test_without_javascript_a_card_links_to_its_move_page(client, login_as, demo, db_session):
    login_as(demo.alice)
    deal = demo.initech
    query = "sort=name&layout=board"
    doc = page(client.get(f"/deals?{query}"))
    card = board(doc).find("li", id=f"card-{deal.id}")
    href = link(card, f"Move to stage: {deal.name}")["href"]
    assert href == f"/deals/{deal.id}/move?{query}"
    # The board has one menu for every card (JavaScript copies it into a card).
    menus = board(doc).find_all("select", attrs={"name": "stage"})
    assert len(menus) == 1 and menus[0].find_parent("template")["id"] == "board-move-menu"
    moving = page(client.get(href))
    assert heading(moving, 1) == deal.name
    menu = by_label(moving, f"Move to stage: {deal.name}")
    current = db_session.scalar(
        sa.select(Stage.name).where(Stage.id == stage_id_of(db_session, deal))
    )
    assert selected(menu) == [current]
    assert options(menu) == [h for h in headings(board(doc), 2)]  # the pipeline's stages
    form = menu.find_parent("form")
    assert form["method"] == "post" and form["action"] == f"/deals/{deal.id}/move"
    assert value(form.find("input", attrs={"name": "query"})) == query
    assert link(moving, "Back to the board")["href"] == f"/deals?{query}"
    # Another account's deal, or none: 404.
    login_as(demo.hana)
    assert client.get(href).status_code == 404
    assert client.get("/deals/99999999/move").status_code == 404


def test_a_saved_view_keeps_the_board(client, login_as, demo, db_session):
    login_as(demo.alice)
    referrals = db_session.scalar(
        sa.select(Pipeline.id).where(
            Pipeline.account_id == demo.brightside.id, Pipeline.name == "Partner referrals"
        )
    )
    r = client.post(
        "/deals/views",
        data={
            "name": "Referral board",
            "visibility": "private",
            "query": f"f=owner:is_me:&layout=board&pipeline={referrals}",
        },
    )
    assert r.status_code == 303
    location = r.headers["Location"]
    assert re.search(rf"layout=board&pipeline={referrals}$", location)
    doc = page(client.get(location))
    assert region(doc, "Board: Partner referrals")
    tab = link(doc.find("nav", attrs={"aria-label": "Views"}), "Referral board")
    assert "layout=board" in tab["href"]


def test_cards_show_who_a_deal_is_shared_with(client, login_as, demo, db_session):
    """As the table's "Shared with" column: the other party's name on a shared deal's card
    (English and French), nothing on an unshared one's."""
    login_as(demo.alice)
    acme_board = f"/deals?layout=board&pipeline={demo.acme.pipeline_id}&q=Acme+Corp+website"
    card = page(client.get(acme_board)).find(id=f"card-{demo.acme.id}")
    facts = {dt.get_text(): dt.find_next("dd").get_text() for dt in card.find_all("dt")}
    assert facts["Shared with"] == "Northwind Cloud"
    french = page(client.get(acme_board, headers={"Accept-Language": "fr"}))
    card = french.find(id=f"card-{demo.acme.id}")
    assert "Partagée avec" in [dt.get_text() for dt in card.find_all("dt")]
    initech_board = f"/deals?layout=board&pipeline={demo.initech.pipeline_id}&q=Initech"
    card = page(client.get(initech_board)).find(id=f"card-{demo.initech.id}")
    assert card is not None and "Shared with" not in [dt.get_text() for dt in card.find_all("dt")]


def test_cards_escape_what_people_typed(client, login_as, demo, db_session):
    """The cards and the columns are written with autoescape off (deals/_board.html,
    deals/_board_card.html): every name a person typed, and the board's own address,
    still reach the page escaped."""
    from models import Account, User

    hostile = "<script>alert(\"x\")</script> & 'q'"
    stage_name = "<u>Qualified</u> & co"
    db_session.get(Stage, stage_id_of(db_session, demo.acme)).name = stage_name
    db_session.get(Deal, demo.acme.id).name = hostile
    db_session.get(User, demo.acme.owner_id).full_name = "<b>Owner</b>"
    db_session.get(Account, demo.northwind.id).name = "<i>Northwind</i>"
    db_session.commit()
    login_as(demo.alice)
    response = client.get(
        f"/deals?layout=board&pipeline={demo.acme.pipeline_id}&q=alert&sort=-amount"
    )
    raw = response.get_data(as_text=True)
    for tag in ("<script>", "<b>Owner", "<i>Northwind", "<u>Qualified"):
        assert tag not in raw, tag
    assert stage_name in column_headers(page(response))
    card = page(response).find(id=f"card-{demo.acme.id}")
    assert card.find(class_="board-card-name").get_text() == hostile
    facts = {dt.get_text(): dt.find_next("dd").get_text() for dt in card.find_all("dt")}
    assert facts["Deal owner"] == "<b>Owner</b>"
    assert facts["Shared with"] == "<i>Northwind</i>"
    move = card.find(class_="board-move-open")
    assert move["aria-label"].endswith(hostile)
    assert "&sort=-amount&" in move["href"]
    link = rf'<a class="board-move-open" href="/deals/{demo.acme.id}/move([^"]*)"'
    written = re.search(link, raw)
    assert "&amp;sort=-amount&amp;" in written.group(1)  # escaped in its attribute
