"""The common refusals as pages of our own, in the reader's language: page not found, no
access, a file too large (shown in the upload form when htmx sent it)."""

from __future__ import annotations

from flask import Flask, current_app, render_template
from flask_babel import gettext as _
from markupsafe import escape
from werkzeug.exceptions import Forbidden, NotFound, RequestEntityTooLarge

from . import htmx


def init_app(app: Flask) -> None:
    """Register the error pages."""
    app.register_error_handler(NotFound, not_found)
    app.register_error_handler(Forbidden, forbidden)
    app.register_error_handler(RequestEntityTooLarge, too_large)


def not_found(_error):
    """404: the page does not exist (any more)."""
    message = _("This page does not exist (any more). Check the address, or start again.")
    return render_template("error.html", title=_("Page not found"), message=message), 404


def forbidden(_error):
    """403: a page for admins, asked for by someone else."""
    message = _("This page is for the Huddle's admins. Ask an admin if you need it.")
    return render_template("error.html", title=_("No access"), message=message), 403


def too_large(_error):
    """413: an upload over MAX_CONTENT_LENGTH."""
    limit = current_app.config["MAX_CONTENT_LENGTH"] // (1024 * 1024)
    message = _(
        "That file is too large: at most %(limit)s MB can be uploaded. Split it into "
        "smaller files, or import it with `flask users import`.",
        limit=limit,
    )
    if htmx.is_htmx():
        # Show it in the upload form the admin is looking at.
        fragment = f'<p class="errors" role="alert">{escape(message)}</p>'
        return htmx.retarget(fragment, "#wizard .upload", "beforeend")
    return render_template("error.html", title=_("File too large"), message=message), 413
