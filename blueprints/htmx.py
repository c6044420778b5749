"""How every view answers htmx and plain requests alike, decided once.

- One URL, two renderings: the whole page, or the fragment htmx swaps.
- After a change: a plain form post is redirected back (post-redirect-get, 303);
  htmx gets the changed fragment and `HX-Trigger: notifications-changed`, which
  makes the bell re-count.
- After bad input: htmx gets the fragment with the message, status 200 (htmx 2
  does not swap 4xx bodies); a plain post gets the page with its 4xx status.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import make_response, redirect, render_template, request, url_for

# The event that makes the bell re-fetch its count (see templates/notifications/_bell.html).
OWN_CHANGE_EVENT = "notifications-changed"


def is_htmx() -> bool:
    """True for a request htmx made to swap a fragment.

    htmx restoring history after a cache miss also says HX-Request, but wants the
    whole page: that one is not a fragment request.
    """
    return (
        request.headers.get("HX-Request") == "true"
        and request.headers.get("HX-History-Restore-Request") != "true"
    )


def _vary(response):
    response.vary.add("HX-Request")
    return response


def render_page_or_fragment(page: str, fragment: str, status: int = 200, **context):
    """The whole page for a normal request, only `fragment` for htmx; one URL, two renderings.

    `status` is the page's; a fragment is always 200, since htmx 2 does not swap 4xx bodies.
    """
    htmx = is_htmx()
    body = render_template(fragment if htmx else page, **context)
    return _vary(make_response(body, 200 if htmx else status))


def respond(fragment: Callable[[], str], page: Callable[[], str], status: int = 200):
    """htmx: the fragment `fragment()` renders, 200; plain: the page `page()` renders, `status`.

    Both are callables so that only the one sent is rendered.
    """
    if is_htmx():
        return _vary(make_response(fragment(), 200))
    return _vary(make_response(page(), status))


def changed(fragment: Callable[[], str], back: str):
    """After a change: htmx gets `fragment()` and the bell's cue; a plain post a 303 to `back`."""
    if not is_htmx():
        return redirect(back, code=303)
    response = _vary(make_response(fragment(), 200))
    response.headers["HX-Trigger"] = OWN_CHANGE_EVENT
    return response


def htmx_redirect_to_login():
    """Logged out: htmx gets HX-Redirect (not a login form in a table cell); others a 302."""
    login_url = url_for("auth.login", next=request.full_path.rstrip("?"))
    if is_htmx():
        response = make_response("", 401)
        response.headers["HX-Redirect"] = login_url
        return response
    return redirect(login_url)


def redirect_back_or(endpoint: str, **values):
    """Post-redirect-get: htmx follows HX-Redirect, plain forms a 303."""
    target = url_for(endpoint, **values)
    if is_htmx():
        response = make_response("", 204)
        response.headers["HX-Redirect"] = target
        return response
    return redirect(target, code=303)
