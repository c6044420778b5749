"""Export CSV: exactly the deals of the current view, streamed, formula-safe."""

import csv
import io

import pytest
import sqlalchemy as sa

from models import Deal
from services import export
from tests.html import link, page, table_rows, text


def read_csv(response):
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    return list(csv.reader(io.StringIO(response.get_data(as_text=True))))


def index_names(client, query):
    """Every deal name the index lists for `query`: Brightside's 64 deals fill three pages."""
    names = []
    for number in (1, 2, 3):
        table = page(client.get(f"/deals?{query}&page={number}")).find("table")
        names += [row["Deal name"] for row in table_rows(table)]
    return names


def test_the_export_has_every_deal_of_the_view_in_its_order(client, login_as, demo):
    login_as(demo.alice)
    response = client.get("/deals/export.csv?sort=-amount")
    assert response.is_streamed
    assert response.headers["Content-Disposition"].startswith('attachment; filename="deals-')
    rows = read_csv(response)
    assert rows[0] == [
        "Deal name",
        "Company",
        "Shared with",
        "Deal owner",
        "Deal stage",
        "Pipeline",
        "Amount",
        "Close date",
        "Number of active deal registrations",
        "Create date",
    ]
    assert len(rows) == 1 + 64  # all pages, not just the first 25
    assert [r[0] for r in rows[1:]] == index_names(client, "sort=-amount")
    amounts = [float(r[6]) for r in rows[1:]]
    assert amounts == sorted(amounts, reverse=True)


def test_the_export_follows_filters_search_and_columns(client, login_as, demo):
    login_as(demo.alice)
    rows = read_csv(
        client.get("/deals/export.csv?f=active_registrations:gt:0&sort=name&cols=name,amount")
    )
    assert rows[0] == ["Deal name", "Amount"]
    assert [r[0] for r in rows[1:]] == [
        "Acme Corp website relaunch",
        "Stark Industries service desk rollout",
    ]
    assert [r[0] for r in read_csv(client.get("/deals/export.csv?q=initech seo"))[1:]] == [
        "Initech SEO audit"
    ]


def test_the_export_link_carries_the_current_view(client, login_as, demo):
    login_as(demo.alice)
    doc = page(client.get("/deals?f=amount:gt:100000&sort=amount&page=2"))
    export_link = link(doc, "Export CSV")
    assert export_link["href"] == "/deals/export.csv?f=amount:gt:100000&sort=amount"
    assert export_link.has_attr("download")


@pytest.mark.parametrize("who", ["hana", "rita"])
def test_another_account_exports_its_own_deals_only(client, login_as, demo, db_session, who):
    user = getattr(demo, who)
    login_as(user)
    exported = sorted(r[0] for r in read_csv(client.get("/deals/export.csv"))[1:])
    own = sorted(db_session.scalars(sa.select(Deal.name).where(Deal.account_id == user.account_id)))
    assert exported == own


def test_formula_cells_are_neutralised(client, login_as, demo, db_session):
    demo.initech.name = '=HYPERLINK("http://evil.example","click")'
    demo.initech.company_name = "@SUM(A1:A9)"
    demo.acme.name = "+1+1"
    db_session.flush()
    login_as(demo.alice)
    rows = read_csv(client.get("/deals/export.csv?cols=name,company,amount&sort=name"))
    assert rows[0] == ["Deal name", "Company", "Amount"]  # the index's column order
    by_company = {r[1]: r for r in rows[1:]}
    assert by_company["'@SUM(A1:A9)"][0] == '\'=HYPERLINK("http://evil.example","click")'
    assert "'+1+1" in [r[0] for r in rows]
    assert all(not cell.startswith(("=", "+", "@")) for row in rows for cell in row)


@pytest.mark.parametrize(
    ("text", "safe"),
    [
        ("=1+2", "'=1+2"),
        ("+44 20 7946 0000", "'+44 20 7946 0000"),
        ("-2+3", "'-2+3"),
        ("@cmd", "'@cmd"),
        ("\tTab", "'\tTab"),
        ("\rReturn", "'\rReturn"),
        ("Plain deal", "Plain deal"),
        ("a=b", "a=b"),
        ("", ""),
    ],
)
def test_neutralise(text, safe):
    assert export.neutralise(text) == safe


def test_a_bad_filter_is_not_exported_as_something_else(client, login_as, demo):
    login_as(demo.alice)
    response = client.get("/deals/export.csv?f=amount:gt:lots")
    assert response.status_code == 400
    assert "Amount needs a number" in text(page(response).find("main"))


def test_the_export_is_fetched_in_batches(client, login_as, demo, monkeypatch):
    monkeypatch.setattr(export, "BATCH", 10)
    chunks = []
    real = export.csv_lines

    def spy(*args):
        for chunk in real(*args):
            chunks.append(chunk)
            yield chunk

    monkeypatch.setattr(export, "csv_lines", spy)
    login_as(demo.alice)
    rows = read_csv(client.get("/deals/export.csv"))
    assert len(rows) == 65
    # One header chunk, then one chunk per batch of ten deals.
    assert len(chunks) == 1 + 7
    assert all(chunk.count("\r\n") <= 10 for chunk in chunks[1:])
