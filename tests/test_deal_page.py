"""The deal page: your own deals only; another account's id is a 404 like a missing one."""

import pytest


def test_deal_page_shows_the_deal(client, login_as, demo):
    login_as(demo.alice)
    page = client.get(f"/deals/{demo.acme.id}").get_data(as_text=True)
    assert "<h1>Acme Corp website relaunch</h1>" in page
    assert "<dt>Deal stage</dt>" in page and "<dt>Pipeline</dt><dd>Sales pipeline</dd>" in page


@pytest.mark.parametrize("who", ["rita", "hana"])
def test_another_accounts_deal_is_404(client, login_as, demo, who):
    login_as(getattr(demo, who))
    assert client.get(f"/deals/{demo.acme.id}").status_code == 404
    assert client.get(f"/deals/{demo.acme.id}", headers={"HX-Request": "true"}).status_code == 404


def test_missing_deal_is_404(client, login_as, demo):
    login_as(demo.alice)
    assert client.get("/deals/987654").status_code == 404
