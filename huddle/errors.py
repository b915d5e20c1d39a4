"""The common refusals as pages of our own, in the reader's language: page not found, no
access, a file too large (shown in the upload form when htmx sent it), input that cannot be
stored, and a database that cannot store anything (both shown at the top of the page when
htmx sent them)."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, current_app, flash, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from markupsafe import escape
from sqlalchemy.exc import InternalError, OperationalError
from werkzeug.exceptions import Forbidden, NotFound, RequestEntityTooLarge

from . import htmx
from .access import PUBLIC_ENDPOINTS
from .extensions import db
from .inputs import NulCharacter


def init_app(app: Flask) -> None:
    """Register the error pages."""
    app.register_error_handler(NotFound, not_found)
    app.register_error_handler(Forbidden, forbidden)
    app.register_error_handler(RequestEntityTooLarge, too_large)
    app.register_error_handler(NulCharacter, cannot_store)
    app.register_error_handler(CSRFError, session_ended)
    # A full disk, a lost connection (OperationalError); a read-only database (PostgreSQL
    # says so with an InternalError).
    app.register_error_handler(OperationalError, database_trouble)
    app.register_error_handler(InternalError, database_trouble)


def not_found(_error):
    """404: the page does not exist (any more)."""
    message = _("This page does not exist (any more). Check the address, or start again.")
    return render_template("error.html", title=_("Page not found"), message=message), 404


def forbidden(error):
    """403: a page for admins, asked for by someone else (or what the refusal said: another
    admin's draft)."""
    message = _("This page is for the Huddle's admins. Ask an admin if you need it.")
    if error.description != Forbidden.description:
        message = error.description
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


def cannot_store(error):
    """400: input the database cannot store (a NUL character), refused before it got there."""
    if htmx.is_htmx():
        # On top of the page the admin is looking at: htmx swaps a 422, not a 400.
        fragment = f'<p class="flash flash-error">{escape(error.description)}</p>'
        return htmx.retarget(fragment, "#alerts", "innerHTML", 422)
    title = _("This cannot be stored")
    return render_template("error.html", title=title, message=error.description), 400


def database_trouble(_error):
    """503: the database could not do what was asked (a full disk, a read-only or locked
    file, a lost connection); it kept what it had, so nothing half-done is left."""
    db.session.rollback()
    current_app.logger.exception("The database refused a request")
    message = _(
        "The database could not save this right now (its disk may be full, or it may be "
        "read-only or unreachable). Nothing was changed: what was saved before is kept. Try "
        "again in a moment, or tell whoever runs the server."
    )
    if htmx.is_htmx():
        fragment = f'<p class="flash flash-error">{escape(message)}</p>'
        return htmx.retarget(fragment, "#alerts", "innerHTML", 503)
    title = _("The database is not available")
    return render_template("error.html", title=title, message=message), 503


def session_ended(_error):
    """400: a form or htmx button sent without a valid CSRF token: the session ended (it
    expired, or the admin logged out) or the page is older than the current session (they
    logged in again in another tab). Said in place, with the way back to the same page."""
    page = _page_of_the_request()
    if not current_user.is_authenticated and request.endpoint in PUBLIC_ENDPOINTS:
        # The login form (say) left open until its session expired: the same form again.
        flash(_("The page had expired: please try again."), "info")
        is_form = request.endpoint not in ("auth.logout", "auth.set_language")
        return htmx.leave(request.path if is_form else url_for("auth.login"))
    if not current_user.is_authenticated:
        message = _("Your session has ended: log in again.")
        if page.startswith("/imports/"):
            message = _("Your session has ended: log in again. Your import is kept.")
        flash(message, "info")
        return htmx.leave(url_for("auth.login", next=page))  # htmx: the whole page goes
    message = _(
        "This page is older than your session (you logged in again, maybe in another tab): "
        "nothing was changed. Reload the page and do it again."
    )
    if htmx.is_htmx():
        link = f'<a href="{escape(page)}">{escape(_("Reload the page"))}</a>'
        fragment = f'<p class="flash flash-error">{escape(message)} {link}</p>'
        return htmx.retarget(fragment, "#alerts", "innerHTML", 422)
    return render_template("error.html", title=_("Page out of date"), message=message), 400


def _page_of_the_request() -> str:
    """The path of the page the browser shows (htmx says which), else of this request: only
    a path on this site."""
    shown = request.headers.get("HX-Current-URL", "")
    path = urlsplit(shown).path if shown else request.path
    return path if path.startswith("/") and not path.startswith("//") else "/"
