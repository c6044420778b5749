"""Waiting for htmx in browser tests: a swap is done only once htmx has wired up what it
swapped in (its listeners are bound as the new content settles). A test that acts on new
controls before that races htmx: its change can go unheard."""

from playwright.sync_api import expect


def settled(page):
    """No htmx request, swap or settle in progress on the page."""
    expect(
        page.locator(".htmx-request, .htmx-settling, .htmx-swapping, .htmx-added")
    ).to_have_count(0)


def wait_for_controls(page, attribute, value):
    """htmx swapped in the filter controls for that choice, and has wired them up."""
    expect(page.locator("#filter-controls")).to_have_attribute(attribute, value)
    settled(page)
