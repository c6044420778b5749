"""The few helpers every blueprint needs to answer htmx and plain requests alike."""

from flask import make_response, redirect, render_template, request, url_for


def is_htmx() -> bool:
    """True for a request htmx made to swap a fragment.

    htmx restoring history after a cache miss also says HX-Request, but wants the
    whole page: that one is not a fragment request.
    """
    return (
        request.headers.get("HX-Request") == "true"
        and request.headers.get("HX-History-Restore-Request") != "true"
    )


def render_page_or_fragment(page: str, fragment: str, status: int = 200, **context):
    """The whole page for a normal request, only `fragment` for htmx; one URL, two renderings.

    `status` is the page's; a fragment is always 200, since htmx 2 does not swap 4xx bodies.
    """
    htmx = is_htmx()
    response = make_response(
        render_template(fragment if htmx else page, **context), 200 if htmx else status
    )
    response.vary.add("HX-Request")
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
