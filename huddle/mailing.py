"""Composing and sending mails. Every mail has a plain-text and an HTML body from
``templates/mail/<name>.txt`` and ``.html``; none ever contains a password."""

from __future__ import annotations

from flask import current_app, render_template, url_for
from flask_mail import Message

from .extensions import mail
from .models import User
from .tokens import make_set_password_token


def external_url(endpoint: str, **values) -> str:
    """An absolute URL on HUDDLE_BASE_URL, usable in mails sent from a background job."""
    base = current_app.config["HUDDLE_BASE_URL"].rstrip("/")
    with current_app.test_request_context(base_url=base):
        return url_for(endpoint, _external=True, **values)


def send(template: str, to: str, subject: str, **context) -> None:
    message = Message(subject=subject, recipients=[to])
    message.body = render_template(f"mail/{template}.txt", **context)
    message.html = render_template(f"mail/{template}.html", **context)
    mail.send(message)


def send_set_password_link(user: User) -> None:
    """Mail ``user`` a single-use link to choose a (new) password."""
    link = external_url("auth.set_password", token=make_set_password_token(user))
    hours = current_app.config["PASSWORD_LINK_MAX_AGE_HOURS"]
    send(
        "set_password",
        to=user.email,
        subject="Choose your Huddle password",
        user=user,
        link=link,
        hours=hours,
    )
