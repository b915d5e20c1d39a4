"""Who may open what. Admin-only is the default, so a new route is never left open by mistake.

Instead of a decorator on every view, one ``before_request`` hook checks each request against
two short allow-lists: pages anyone may open, and pages any logged-in user may open.
"""

from __future__ import annotations

from flask import Flask, abort, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from . import htmx
from .extensions import db, login_manager
from .models import User

PUBLIC_ENDPOINTS = frozenset(
    {
        "auth.login",
        "auth.logout",
        "auth.forgot_password",
        "auth.set_password",
        "auth.set_language",
        "static",
    }
)
MEMBER_ENDPOINTS = frozenset({"auth.account"})


def init_app(app: Flask) -> None:
    """Send anonymous visitors to the login page and check every request's access."""
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please log in to continue.")
    login_manager.login_message_category = "info"
    app.before_request(require_access)


@login_manager.user_loader
def load_user(session_id: str) -> User | None:
    """The logged-in user, from "id.version" in their session or remember cookie; None (not
    logged in) when their sessions have been ended since (the version went up) or the id is
    not one. A session of before versions ("id") counts as version 0."""
    user_id, _dot, version = session_id.partition(".")
    if not (user_id.isdigit() and (version or "0").isdigit()) or len(user_id) > 18:
        return None
    user = db.session.get(User, int(user_id))
    if user is None or user.session_version != int(version or "0"):
        return None
    return user


@login_manager.unauthorized_handler
def _unauthorized():
    # For htmx a full page load: a redirect would swap the login page into a fragment.
    return htmx.leave(url_for("auth.login", next=request.full_path.rstrip("?")))


def require_access():
    """Refuse anonymous visitors (to the login page) and members (403) on admin pages."""
    endpoint = request.endpoint
    if endpoint is None or endpoint in PUBLIC_ENDPOINTS:
        return None  # 404s stay 404s; public pages are public.
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    if endpoint in MEMBER_ENDPOINTS or current_user.is_admin:
        return None
    abort(403)
