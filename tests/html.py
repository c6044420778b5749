"""Read a rendered page the way a user or a screen reader does, not as a string of markup.

Tests find things by what people perceive: a heading's words, a labelled control, a
button's accessible name, the value next to a field's label. Whitespace and markup
details (attribute order, indentation, which element wraps which) do not matter, so
templates can be reformatted without breaking tests; behaviour changes still do.

Parsed with BeautifulSoup over lxml: lxml knows HTML's optional end tags (the deals
table leaves out `</td>` and `</tr>`), which Python's own html.parser does not.
"""

from __future__ import annotations

from bs4 import BeautifulSoup, Tag
from bs4.element import Comment, Doctype, NavigableString, ProcessingInstruction

# Elements that start a new line on screen: their text never runs into the next one's.
_BLOCKS = {
    "address", "article", "aside", "blockquote", "br", "caption", "dd", "details", "dialog",
    "div", "dl", "dt", "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3",
    "h4", "h5", "h6", "header", "hr", "legend", "li", "main", "nav", "ol", "optgroup", "option",
    "p", "pre", "section", "summary", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "ul",
}  # fmt: skip
# Never shown as text on the page.
_UNSEEN = {"head", "script", "style", "template", "title"}
_CONTROLS = {"input", "select", "textarea", "button"}
_NOT_REGIONS = _CONTROLS | {"a", "label", "option", "summary"}


def page(response_or_text) -> BeautifulSoup:
    """Parse a test client response (or its HTML text, str or bytes) into a document."""
    if hasattr(response_or_text, "get_data"):
        response_or_text = response_or_text.get_data(as_text=True)
    return BeautifulSoup(response_or_text, "lxml")


def is_fragment(doc: Tag) -> bool:
    """True for a fragment htmx swaps in, False for a whole page (it has the <main> landmark)."""
    return doc.find("main") is None


def text(node: Tag) -> str:
    """The text a user reads (or a screen reader speaks), whitespace collapsed.

    Parts hidden from everyone (`hidden`, `aria-hidden="true"`, scripts) are left out;
    visually hidden text meant for screen readers is kept.
    """
    return " ".join("".join(_visible_strings(node)).split())


def _visible_strings(node):
    for child in node.children:
        if isinstance(child, Comment | Doctype | ProcessingInstruction):
            continue
        if isinstance(child, NavigableString):
            yield str(child)
        elif isinstance(child, Tag) and not _hidden(child):
            gap = " " if child.name in _BLOCKS else ""
            yield gap
            yield from _visible_strings(child)
            yield gap


def _hidden(node: Tag) -> bool:
    return (
        node.name in _UNSEEN
        or node.has_attr("hidden")
        or node.get("aria-hidden") == "true"
        or (node.name == "input" and node.get("type") == "hidden")
    )


def name_of(node: Tag) -> str:
    """The accessible name: aria-labelledby, else aria-label, else a control's <label>, else text.

    A simplified version of the algorithm screen readers use, enough for these templates.
    """
    root = _root(node)
    if node.get("aria-labelledby"):
        parts = (root.find(id=i) for i in node["aria-labelledby"].split())
        return " ".join(text(part) for part in parts if part is not None)
    if node.get("aria-label"):
        return " ".join(node["aria-label"].split())
    if node.name in _CONTROLS - {"button"}:
        label = node.find_parent("label")
        if node.get("id"):
            label = root.find("label", attrs={"for": node["id"]}) or label
        return text(label) if label is not None else ""
    return text(node)


def _root(node: Tag) -> Tag:
    while node.parent is not None:
        node = node.parent
    return node


def _one(kind: str, name: str, candidates) -> Tag:
    found = [node for node in candidates if name_of(node) == name]
    if not found:
        known = sorted({name_of(node) for node in candidates})
        raise AssertionError(f"no {kind} named {name!r}; there are: {known}")
    return found[0]


def heading(scope: Tag, level: int | None = None) -> str:
    """The text of the first heading in `scope` (of `level` 1-6 if given)."""
    found = headings(scope, level)
    if not found:
        raise AssertionError(f"no heading of level {level or 'any'}")
    return found[0]


def headings(scope: Tag, level: int | None = None) -> list[str]:
    """The texts of every heading in `scope` (of `level` 1-6 if given), in page order."""
    names = [f"h{level}"] if level else [f"h{n}" for n in range(1, 7)]
    return [text(h) for h in scope.find_all(names)]


def region(scope: Tag, name: str) -> Tag:
    """The section, dialog, list or nav whose accessible name (heading or aria-label) is `name`."""
    candidates = [
        node
        for node in scope.find_all(True)
        if node.name not in _NOT_REGIONS and (node.get("aria-labelledby") or node.get("aria-label"))
    ]
    return _one("region", name, candidates)


def fields(scope: Tag) -> dict[str, str]:
    """Every <dt> label in `scope` with the text of the <dd> that follows it (its value)."""
    return {text(dt): text(dd) for dt, dd in _field_pairs(scope)}


def field(scope: Tag, label: str) -> Tag:
    """The <dd> holding the value of the field whose <dt> reads `label`."""
    pairs = list(_field_pairs(scope))
    for dt, dd in pairs:
        if text(dt) == label:
            return dd
    raise AssertionError(f"no field {label!r}; there are: {[text(dt) for dt, _ in pairs]}")


def field_value(scope: Tag, label: str) -> str:
    """The visible value of the field whose <dt> reads `label`, e.g. "Sales pipeline"."""
    return text(field(scope, label))


def _field_pairs(scope: Tag):
    for dt in scope.find_all("dt"):
        dd = dt.find_next_sibling("dd")
        if dd is not None:
            yield dt, dd


def labels(scope: Tag) -> list[str]:
    """The texts of the <label>s of form controls in `scope`, in page order."""
    return [text(label) for label in scope.find_all("label")]


def controls(scope: Tag) -> list[str]:
    """The accessible names of the form controls (inputs, selects, textareas) in `scope`."""
    return [name_of(control) for control in _controls(scope)]


def _controls(scope: Tag) -> list[Tag]:
    return [
        node
        for node in scope.find_all(["input", "select", "textarea"])
        if node.get("type") != "hidden"
    ]


def by_label(scope: Tag, label: str) -> Tag:
    """The form control (input, select, textarea) whose label or aria-label is `label`."""
    return _one("control", label, _controls(scope))


def value(control: Tag) -> str | list[str]:
    """What a control holds: an input's value, a textarea's text, a select's chosen option(s)."""
    if control.name == "textarea":
        # As in browsers: one newline right after <textarea> is not part of the value.
        content = control.get_text()
        return content[2:] if content.startswith("\r\n") else content.removeprefix("\n")
    if control.name == "select":
        chosen = selected(control)
        return chosen if control.has_attr("multiple") else (chosen[0] if chosen else "")
    return control.get("value", "")


def description(control: Tag) -> str:
    """The control's accessible description: the text of its aria-describedby elements."""
    root = _root(control)
    parts = (root.find(id=i) for i in control.get("aria-describedby", "").split())
    return " ".join(text(part) for part in parts if part is not None)


def options(select: Tag) -> list[str]:
    """The texts of a <select>'s options, in order."""
    return [text(option) for option in select.find_all("option")]


def selected(select: Tag) -> list[str]:
    """The texts of the options a <select> shows as chosen (a single select falls back to
    its first option, as browsers do)."""
    chosen = [text(option) for option in select.find_all("option") if option.has_attr("selected")]
    if not chosen and not select.has_attr("multiple") and select.find("option"):
        return [text(select.find("option"))]
    return chosen


def checked(scope: Tag, name: str) -> list[str]:
    """The labels of the ticked checkboxes or radio buttons posted as `name`."""
    boxes = scope.find_all("input", attrs={"name": name, "type": ["checkbox", "radio"]})
    return [name_of(box) for box in boxes if box.has_attr("checked")]


def buttons(scope: Tag) -> list[str]:
    """The accessible names of the buttons in `scope`, in page order."""
    return [name_of(b) for b in scope.find_all("button")]


def button(scope: Tag, name: str) -> Tag:
    """The (first) button whose accessible name is `name`; fails listing the buttons there are."""
    return _one("button", name, scope.find_all("button"))


def disclosures(scope: Tag) -> list[str]:
    """The names of the show/hide toggles in `scope`: the <summary> of each <details>."""
    return [text(summary) for summary in scope.find_all("summary")]


def links(scope: Tag) -> list[str]:
    """The accessible names of the links in `scope`, in page order."""
    return [name_of(a) for a in scope.find_all("a", href=True)]


def link(scope: Tag, name: str) -> Tag:
    """The (first) link whose accessible name is `name`; its target is `link(...)["href"]`."""
    return _one("link", name, scope.find_all("a", href=True))


def list_items(scope: Tag) -> list[str]:
    """The texts of the list items (<li>) in `scope`, in page order."""
    return [text(li) for li in scope.find_all("li") if not _hidden(li)]


def alerts(scope: Tag) -> list[str]:
    """The texts of the role="alert" elements in `scope` (error messages read out at once)."""
    return [text(node) for node in scope.find_all(attrs={"role": "alert"}) if text(node)]


def statuses(scope: Tag) -> list[str]:
    """The texts of the role="status" elements in `scope` (flash messages, result counts)."""
    return [text(node) for node in scope.find_all(attrs={"role": "status"}) if text(node)]


def table_rows(table: Tag) -> list[dict[str, str]]:
    """The body rows of a table as {column header text: cell text}."""
    headers = [text(th) for th in table.find("thead").find_all("th")]
    return [
        dict(zip(headers, (text(cell) for cell in row.find_all(["td", "th"])), strict=True))
        for row in table.find("tbody").find_all("tr")
    ]
