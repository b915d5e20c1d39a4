"""The answers that differ between an htmx request and a plain one, written once: a fragment
or the whole page, a move to another page or step, a redirect that leaves the fragment.

Every response that one of these shaped carries ``Vary: HX-Request``, so that no cache hands
a fragment to a plain request (or a page to htmx).
"""

from __future__ import annotations

from flask import Flask, Response, g, redirect, render_template, request
from htmx_flask import make_response


def init_app(app: Flask) -> None:
    """Mark the responses that depend on whether htmx asked."""
    app.after_request(_vary_by_htmx)


def _vary_by_htmx(response: Response) -> Response:
    if g.get("varies_by_htmx"):
        response.vary.add("HX-Request")
    return response


def is_htmx() -> bool:
    """Whether htmx sent this request (the answer then differs: see the module's docstring)."""
    g.varies_by_htmx = True
    return bool(getattr(request, "htmx", False))


def wants_fragment() -> bool:
    """An htmx request for a part of the page (a history restore needs the whole page)."""
    return is_htmx() and not request.htmx.history_restore_request


def fragment_or_page(fragment: str, page: str, status: int = 200, /, **context):
    """``fragment`` alone for htmx, else ``page`` (which includes it), with ``context`` (which
    may hold names of its own like ``page``: the first three are positional only)."""
    template = fragment if wants_fragment() else page
    return render_template(template, **context), status


def go(url: str, target: str):
    """Move to ``url``: htmx swaps it into ``target`` (its outer HTML, the address bar
    following); a plain request is redirected there."""
    if is_htmx():
        return make_response("", location={"path": url, "target": target, "swap": "outerHTML"})
    return redirect(url)


def leave(url: str):
    """Leave the page for ``url``: a full page load for htmx (never a page inside a
    fragment), a redirect otherwise."""
    if is_htmx():
        return make_response("", redirect=url)
    return redirect(url)


def reload_page():
    """Ask htmx to load the whole page again (the part it polled is done)."""
    return make_response("", refresh=True)


def retarget(fragment: str, target: str, swap: str, status: int = 200):
    """Answer htmx with ``fragment`` put somewhere else than the element that asked."""
    response = make_response(fragment, retarget=target, reswap=swap)
    response.status_code = status
    return response
