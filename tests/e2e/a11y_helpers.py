"""Accessibility helpers for the browser tests: the vendored axe-core and layout probes.

axe-core is vendored (tests/e2e/vendor/axe-core-<version>.min.js, from `npm pack
axe-core@<version>`, MPL-2.0): the scan then runs offline, the same rules every time,
and CI needs no Node.js.
"""

from pathlib import Path

AXE_VERSION = "4.14.1"
AXE_JS = Path(__file__).parent / "vendor" / f"axe-core-{AXE_VERSION}.min.js"

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


def serious_violations(page):
    """axe-core's violations of impact serious or critical on the page as it is now."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        # Evaluated through the DevTools protocol: the page's CSP (script-src 'self') stays on.
        page.evaluate(AXE_JS.read_text(encoding="utf-8"))
    result = page.evaluate(
        """async () => {
            const r = await axe.run(document, {resultTypes: ["violations"]});
            return r.violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.slice(0, 5).map(n => n.target.join(" ") + " :: " + n.failureSummary)
            }));
        }"""
    )
    return [v for v in result if v["impact"] in ("serious", "critical")]


def page_width(page):
    """How wide the document is (a page that scrolls sideways is wider than the viewport)."""
    return page.evaluate("document.documentElement.scrollWidth")


def box_inside_viewport(page, locator):
    box = locator.bounding_box()
    viewport = page.viewport_size
    assert box is not None, "not rendered"
    return (
        box["x"] >= 0
        and box["y"] >= 0
        and box["x"] + box["width"] <= viewport["width"] + 0.5
        and box["y"] + box["height"] <= viewport["height"] + 0.5
    )
