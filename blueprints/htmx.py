"""The few helpers every blueprint needs to answer htmx and plain requests alike."""

from flask import make_response, redirect, render_template, request, url_for


def is_htmx() -> bool:
    """True for a request htmx made (not a boosted page load, which wants the page)."""
    return request.headers.get("HX-Request") == "true"


def render_page_or_fragment(page: str, fragment: str, **context):
    """The whole page for a normal request, only `fragment` for htmx; one URL, two renderings."""
    response = make_response(render_template(fragment if is_htmx() else page, **context))
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
