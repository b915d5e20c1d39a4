"""Set-password links: signed, expiring and single-use, with nothing stored server-side.

The token carries a fingerprint of the user's current password hash. Setting a password
changes the hash, so every link issued before it stops working: that is what makes a link
single-use (and what retires an old reset link once the user has chosen a password).
"""

from __future__ import annotations

import hashlib

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from .extensions import db
from .models import User

_SALT = "set-password"


class LinkExpired(Exception):
    """The link was genuine but is older than PASSWORD_LINK_MAX_AGE_HOURS."""


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=_SALT)


def _fingerprint(user: User) -> str:
    return hashlib.sha256(f"{user.id}:{user.password_hash}".encode()).hexdigest()[:16]


def make_set_password_token(user: User) -> str:
    return _serializer().dumps({"uid": user.id, "fp": _fingerprint(user)})


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
