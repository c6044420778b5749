"""The page-reading helper itself: a helper that reads nothing would make every `not in` pass."""

import pytest

from tests.html import (
    alerts,
    button,
    buttons,
    by_label,
    checked,
    controls,
    description,
    disclosures,
    field_value,
    fields,
    heading,
    headings,
    is_fragment,
    labels,
    link,
    links,
    list_items,
    name_of,
    options,
    page,
    region,
    selected,
    statuses,
    table_rows,
    text,
    value,
)

DOC = """<!doctype html><html><head><title>Not text</title></head><body>
<main><div role="status"><p>Saved.</p></div>
<h1>
   Acme   <em>deal</em>
</h1>
<section aria-labelledby="card-heading"><h2 id="card-heading">Shared deal</h2>
  <dl>
    <div class="field-row"><dt>Pipeline</dt>
      <dd>Sales
          pipeline</dd><dd class="field-action"><button aria-label="Edit Pipeline">Edit</button>
      </dd></div>
    <div class="field-row"><dt>Deal team</dt>
      <dd><ul><li>Rita<span class="badge">Northwind</span></li>
      <li><span aria-hidden="true">AM</span>Alice</li></ul></dd></div>
  </dl>
  <p hidden>Secret</p><p class="visually-hidden">For screen readers</p>
</section>
<form>
  <input type="hidden" name="original" value="1">
  <label for="amount">Amount</label><input id="amount" name="amount" value="5"
    aria-describedby="amount-error"><p id="amount-error" role="alert">Enter a number.</p>
  <label><input type="checkbox" name="members" value="1" checked> Bob</label>
  <label><input type="checkbox" name="members" value="2"> Carol</label>
  <select aria-label="Stage"><option>Open<option selected>Won</select>
  <textarea aria-label="Note">

Call them.</textarea>
  <span id="x">Remove:</span><span id="y">Amount above 5</span>
  <button aria-labelledby="x y">×</button><button>Save</button>
</form>
<a href="/deals">Deals</a><details><summary>Rename</summary>Soon</details>
<table><thead><tr><th><button>Deal name</button><th>Amount</thead>
<tbody><tr><td><a href="/deals/1">Acme</a><td>1,000
<tr><td><a href="/deals/2">Globex</a><td>2,000</tbody></table>
</main></body></html>"""


@pytest.fixture
def doc():
    return page(DOC)


def test_text_is_what_is_read_whitespace_collapsed(doc):
    assert heading(doc, 1) == "Acme deal" and headings(doc, 2) == ["Shared deal"]
    card = region(doc, "Shared deal")
    assert "Secret" not in text(card) and "For screen readers" in text(card)
    assert "Not text" not in text(doc)
    assert list_items(card) == ["RitaNorthwind", "Alice"]  # inline parts run together


def test_fields_pair_each_label_with_its_value(doc):
    assert field_value(doc, "Pipeline") == "Sales pipeline"
    assert fields(doc) == {"Pipeline": "Sales pipeline", "Deal team": "RitaNorthwind Alice"}
    with pytest.raises(AssertionError, match="no field 'Stage'; there are"):
        field_value(doc, "Stage")


def test_controls_are_found_by_their_labels(doc):
    amount = by_label(doc, "Amount")
    assert value(amount) == "5" and description(amount) == "Enter a number."
    assert value(by_label(doc, "Note")) == "\nCall them."  # the first newline is not
    assert options(by_label(doc, "Stage")) == ["Open", "Won"]
    assert selected(by_label(doc, "Stage")) == ["Won"] == [value(by_label(doc, "Stage"))]
    assert checked(doc, "members") == ["Bob"]
    assert labels(doc) == ["Amount", "Bob", "Carol"]
    assert controls(doc) == ["Amount", "Bob", "Carol", "Stage", "Note"]  # hidden inputs aside
    assert alerts(doc) == ["Enter a number."] and statuses(doc) == ["Saved."]


def test_buttons_and_links_by_accessible_name(doc):
    assert buttons(doc) == ["Edit Pipeline", "Remove: Amount above 5", "Save", "Deal name"]
    assert name_of(button(doc, "Edit Pipeline")) == "Edit Pipeline"
    assert link(doc, "Deals")["href"] == "/deals"
    assert links(doc) == ["Deals", "Acme", "Globex"]
    assert disclosures(doc) == ["Rename"]
    with pytest.raises(AssertionError, match="no button named 'Delete'"):
        button(doc, "Delete")


def test_tables_without_optional_end_tags(doc):
    assert table_rows(doc.find("table")) == [
        {"Deal name": "Acme", "Amount": "1,000"},
        {"Deal name": "Globex", "Amount": "2,000"},
    ]


def test_a_fragment_is_not_a_page(doc):
    assert not is_fragment(doc)
    assert is_fragment(page('<div id="field-amount"><dt>Amount</dt><dd>5</dd></div>'))
