"""Mails: what each one says (composers), how it is rendered, and the one way it is sent.

A ``Letter`` is a mail before it is rendered: recipient, language, subject, the template and
its context, attachments. Composers only build letters from what they are handed (links and
attachments come from the caller: the mail job); ``render`` turns a template into its
plain-text and HTML bodies (``templates/mail/<name>.txt`` and ``.html``); ``send`` is the one
place that talks to the mail server. No mail ever contains a password.
"""

from __future__ import annotations

import smtplib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import TypeVar

from flask import render_template
from flask_babel import gettext as _
from flask_mail import Message

from .extensions import mail
from .i18n import in_language, language_of, ngettext
from .models import Export, ExportStatus, ImportRun, ImportStatus, User

Key = TypeVar("Key")
# What a mail server or the way to it answers when a mail cannot be sent.
SEND_ERRORS = (OSError, smtplib.SMTPException)


@dataclass(frozen=True)
class Attachment:
    """A file sent with a mail."""

    filename: str
    media_type: str
    data: bytes


@dataclass
class Letter:
    """A mail to one person, ready to render in their language and send."""

    to: str
    language: str
    subject: str
    template: str  # "import_welcome": templates/mail/import_welcome.txt and .html
    context: dict
    attachments: list[Attachment] = field(default_factory=list)


class MailServerUnreachable(Exception):
    """No connection to the mail server (or it was lost outside a mail): nothing more was sent."""


class MailNotSent(Exception):
    """The mail server refused one mail."""


def render(template: str, **context) -> tuple[str, str]:
    """The plain-text and HTML bodies of ``templates/mail/<template>``."""
    return (
        render_template(f"mail/{template}.txt", **context),
        render_template(f"mail/{template}.html", **context),
    )


def text_of(letter: Letter) -> str:
    """The letter's plain text, as its reader gets it (the wizard shows samples)."""
    with in_language(letter.language):
        return render_template(f"mail/{letter.template}.txt", **letter.context)


def _message(letter: Letter) -> Message:
    with in_language(letter.language):
        body, html = render(letter.template, **letter.context)
    message = Message(subject=letter.subject, recipients=[letter.to], body=body, html=html)
    for attachment in letter.attachments:
        message.attach(attachment.filename, attachment.media_type, attachment.data)
    return message


def send(letters: Iterable[tuple[Key, Letter]]) -> Iterator[tuple[Key, str | None]]:
    """Send each letter over one connection, in order, and yield after each its key and None
    when the server took it, else why not. Letters are composed as they are asked for, so a
    caller may record each outcome before the next mail goes.

    Raises ``MailServerUnreachable`` when the server cannot be reached, or the connection
    fails outside a mail: the letters not yet yielded were not sent.
    """
    try:
        with mail.connect() as connection:
            for key, letter in letters:
                try:
                    connection.send(_message(letter))
                except SEND_ERRORS as exc:
                    yield key, str(exc)
                else:
                    yield key, None
    except SEND_ERRORS as exc:
        raise MailServerUnreachable(str(exc)) from exc


def send_one(letter: Letter) -> None:
    """Send one letter; raises ``MailServerUnreachable`` or ``MailNotSent`` when it did not go."""
    for _key, error in send([(None, letter)]):
        if error is not None:
            raise MailNotSent(error)


def set_password_letter(user: User, *, link: str, hours: int) -> Letter:
    """A link for ``user`` to choose a (new) password."""
    language = language_of(user)
    with in_language(language):
        subject = _("Choose your Huddle password")
    context = {"user": user, "link": link, "hours": hours}
    return Letter(user.email, language, subject, "set_password", context)


def welcome_letter(user: User, *, link: str, levels: list[str]) -> Letter:
    """A new user's welcome: their levels and a link to choose a password."""
    language = language_of(user)
    with in_language(language):
        subject = _("Welcome to Huddle: choose your password")
    context = {"user": user, "link": link, "levels": levels}
    return Letter(user.email, language, subject, "import_welcome", context)


def updated_letter(user: User, *, levels_gained: list[str], login: str) -> Letter:
    """An existing user's news: the levels an import gave them."""
    language = language_of(user)
    with in_language(language):
        subject = _("Your Huddle access has changed")
    context = {"user": user, "levels_gained": levels_gained, "login": login}
    return Letter(user.email, language, subject, "import_updated", context)


def import_report_letter(
    admin: User, run: ImportRun, *, link: str, attachment: Attachment | None = None
) -> Letter:
    """How an import ended, for the admin who started it (the problem rows attached)."""
    language = language_of(admin)
    with in_language(language):
        if run.status == ImportStatus.DONE:
            subject = _("Import finished: %(file)s", file=run.filename)
        else:
            subject = _("Import failed: %(file)s", file=run.filename)
    context = {"user": admin, "run": run, "link": link}
    attachments = [attachment] if attachment else []
    return Letter(admin.email, language, subject, "import_report", context, attachments)


def export_letter(
    admin: User,
    export: Export,
    *,
    exports_page: str,
    keep_days: int,
    link: str | None = None,
    attachment: Attachment | None = None,
) -> Letter:
    """How an export ended, for the admin who asked: its file attached, or its link; or why
    it failed."""
    language = language_of(admin)
    context = {"user": admin, "export": export, "exports_page": exports_page}
    if export.status != ExportStatus.DONE:
        with in_language(language):
            subject = _("Your export failed")
        return Letter(admin.email, language, subject, "export_failed", context)
    with in_language(language):
        subject = ngettext(
            "Your export of %(num)s user is ready",
            "Your export of %(num)s users is ready",
            export.user_count,
        )
    context.update(link=link, keep_days=keep_days)
    attachments = [attachment] if attachment else []
    return Letter(admin.email, language, subject, "export_ready", context, attachments)
