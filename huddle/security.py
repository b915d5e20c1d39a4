"""Headers every response carries, so that a browser holds the pages to what they are: no
scripts but our own files, never inside another site's frame, no guessing of content types,
no copy of a page with personal data kept in a cache.

htmx is set up for this policy in base.html: no inline indicator styles, no ``eval``.
"""

from __future__ import annotations

from flask import Flask, Response, request
from werkzeug.middleware.proxy_fix import ProxyFix

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "object-src 'none'",
    ]
)
# The dev Outbox shows a mail's HTML, inline styles and all, in a sandboxed frame (no scripts).
MAIL_PREVIEW_POLICY = CONTENT_SECURITY_POLICY.replace(
    "style-src 'self'", "style-src 'self' 'unsafe-inline'"
)


def init_app(app: Flask) -> None:
    """Add the security headers to every response; behind ``TRUSTED_PROXIES`` proxies, take
    the client's address and scheme from what they forward (and from nothing else)."""
    app.after_request(add_security_headers)
    proxies = app.config["TRUSTED_PROXIES"]
    if proxies:
        # Only the last N entries of X-Forwarded-For were written by our own proxies; what
        # a client writes there itself comes before them and is not believed.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)


def add_security_headers(response: Response) -> Response:
    """Set the headers unless the view set its own (the Outbox's mail preview does)."""
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")  # for browsers without frame-ancestors
    headers.setdefault("Referrer-Policy", "same-origin")  # links carry set-password tokens
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    if request.is_secure:
        headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    if request.endpoint != "static":
        # Every page and file but our own static files may hold personal data (names,
        # addresses, an export): no browser or proxy keeps a copy for the next person.
        headers["Cache-Control"] = "no-store"
    return response
