"""Entry points for the background worker. Thin: load what the job is about, call a service.

Jobs take ids, not objects: the worker reads the current state from the database.
"""

from __future__ import annotations

from .extensions import db
from .mailing import send_set_password_link
from .models import User


def mail_set_password_link(user_id: int) -> str:
    user = db.session.get(User, user_id)
    if user is None:
        return "skipped: user no longer exists"
    send_set_password_link(user)
    return f"sent to {user.email}"
