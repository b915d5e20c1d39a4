"""Every signed link: set-password links (expiring, single-use) and export downloads
(expiring), with nothing stored server-side; and absolute URLs for links in mails.

A set-password token carries a fingerprint of the user's current password hash. Setting a password
changes the hash, so every link issued before it stops working: that is what makes a link
single-use (and what retires an old reset link once the user has chosen a password).
"""

from __future__ import annotations

import hashlib
from urllib.parse import urlsplit

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from .extensions import db
from .models import Export, User

_SALT = "set-password"
_EXPORT_SALT = "export-download"


class LinkExpired(Exception):
    """The link was genuine but is older than it may be."""


class LinkInvalid(Exception):
    """The link was not made by us (or not copied whole)."""


def external_url(endpoint: str, **values) -> str:
    """An absolute URL on HUDDLE_BASE_URL, usable in mails sent from a background job.

    Built by the app's URL map bound to that address, not by ``url_for`` in a made-up
    request: that costs a third of a millisecond, once for every mail of a batch."""
    base = urlsplit(current_app.config["HUDDLE_BASE_URL"].rstrip("/"))
    adapter = current_app.url_map.bind(
        base.netloc, script_name=base.path or "/", url_scheme=base.scheme or "http"
    )
    return adapter.build(endpoint, values, force_external=True)


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=_SALT)


def _fingerprint(user: User) -> str:
    return hashlib.sha256(f"{user.id}:{user.password_hash}".encode()).hexdigest()[:16]


def make_set_password_token(user: User) -> str:
    """A token for ``user`` to choose a password with, valid until they have chosen one."""
    return _serializer().dumps({"uid": user.id, "fp": _fingerprint(user)})


def set_password_link(user: User) -> str:
    """The absolute set-password link for ``user``, for a mail or the command line."""
    return external_url("auth.set_password", token=make_set_password_token(user))


def user_for_set_password_token(token: str) -> User | None:
    """The user a still-valid token belongs to; None when it is forged or already used.

    Raises ``LinkExpired`` for a genuine but expired link, so the page can say so.
    """
    max_age = current_app.config["PASSWORD_LINK_MAX_AGE_HOURS"] * 3600
    try:
        data = _serializer().loads(token, max_age=max_age)
    except SignatureExpired as exc:
        raise LinkExpired from exc
    except BadSignature:
        return None
    if not isinstance(data, dict):
        return None
    user = db.session.get(User, data.get("uid", 0))
    if user is None or data.get("fp") != _fingerprint(user):
        return None
    return user


def _export_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt=_EXPORT_SALT)


def export_download_token(export: Export) -> str:
    """A signed token for ``export``'s file, for the link in its mail."""
    return _export_serializer().dumps(export.public_id)


def export_for_download_token(token: str, *, max_age_days: int) -> str:
    """The public id of the export a token names. Raises ``LinkExpired`` past ``max_age_days``,
    ``LinkInvalid`` for a token we did not make."""
    try:
        return _export_serializer().loads(token, max_age=max_age_days * 24 * 3600)
    except SignatureExpired as exc:
        raise LinkExpired from exc
    except BadSignature as exc:
        raise LinkInvalid from exc
