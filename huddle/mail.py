"""Mails: what each one says (composers), how it is rendered, and the one way it is sent.

A ``Letter`` is a mail before it is rendered: recipient, language, subject, the template and
its context, attachments. Composers only build letters from what they are handed (links and
attachments come from the caller: the mail job); ``render`` turns a template into its
plain-text and HTML bodies (``templates/mail/<name>.txt`` and ``.html``); ``send`` is the one
place that talks to the mail server. No mail ever contains a password.
"""

from __future__ import annotations

import email.policy
import logging
import re
import smtplib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr
from typing import TypeVar

import flask_mail
from flask import current_app, render_template
from flask_babel import gettext as _

from . import mime
from .i18n import LANGUAGES, in_language, language_of, ngettext
from .mime import Attachment
from .models import Export, ExportStatus, ImportRun, ImportStatus, User

log = logging.getLogger(__name__)

Key = TypeVar("Key")
# What a mail server or the way to it answers when a mail cannot be sent.
SEND_ERRORS = (OSError, smtplib.SMTPException)
# The connection itself is gone: reconnect before the next mail.
CONNECTION_LOST = (smtplib.SMTPServerDisconnected, OSError)
_LINE_BREAKS = re.compile(r"[\r\n\t\v\f\x00-\x1f\x7f\u2028\u2029]+")


@dataclass
class Letter:
    """A mail to one person, ready to render in their language and send."""

    to: str
    language: str
    subject: str
    template: str  # "import_welcome": templates/mail/import_welcome.txt and .html
    context: dict
    attachments: list[Attachment] = field(default_factory=list)
    # Set by a sender that records it (the import's mails); else made when it is written.
    message_id: str = ""


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


def written(letter: Letter) -> bytes:
    """The letter rendered in its language and written as it goes over the wire: by
    ``huddle.mime`` for an ASCII address, else (müller@…) with UTF-8 headers (RFC 6532)."""
    with in_language(letter.language):
        text, html = render(letter.template, **letter.context)
    sender = current_app.extensions["mail"].default_sender
    if not letter.to.isascii():
        return _smtputf8_bytes(letter, sender, text, html)
    return mime.message_bytes(
        sender=sender,
        to=letter.to,
        subject=letter.subject,
        text=text,
        html=html,
        date=formatdate(localtime=True),
        message_id=letter.message_id or new_message_id(),
        attachments=letter.attachments,
    )


def send(
    letters: Iterable[tuple[Key, Callable[[], Letter]]],
) -> Iterator[tuple[Key, str | None]]:
    """Send each letter over one connection, in order, and yield after each its key and None
    when the server took it, else why not. Each letter is composed (by its callable) when it
    is its turn, so a caller may record each outcome before the next mail goes.

    Every mail is its own unit: whatever goes wrong in composing, rendering or sending one
    (an address the server refuses, a broken template, a header it cannot carry) is that
    mail's failed try, and the next one goes. A lost connection is opened again before the
    next mail; every exchange with the server has a timeout (MAIL_TIMEOUT).

    Raises ``MailServerUnreachable`` when the server cannot be reached: the letters not yet
    yielded were not sent.
    """
    try:
        with _Connection(current_app.extensions["mail"]) as connection:
            for key, compose in letters:
                error = _deliver(connection, compose)
                yield key, error
                if error is not None and connection.lost:
                    connection.reconnect()
    except SEND_ERRORS as exc:
        raise MailServerUnreachable(str(exc)) from exc


def send_one(letter: Letter) -> None:
    """Send one letter; raises ``MailServerUnreachable`` or ``MailNotSent`` when it did not go."""
    for _key, error in send([(None, lambda: letter)]):
        if error is not None:
            raise MailNotSent(error)


def _deliver(connection: _Connection, compose: Callable[[], Letter]) -> str | None:
    """Compose, render and send one mail; None when the server took it, else why not."""
    try:
        letter = compose()
        if letter.to.isascii():
            connection.send_bytes(letter.to, written(letter))
        else:
            connection.send_smtputf8(letter.to, lambda: written(letter))
    # Before CONNECTION_LOST: smtplib's errors are OSErrors too, but after a refusal the
    # connection is fine (smtplib has reset it) and goes on with the next mail.
    except smtplib.SMTPRecipientsRefused as exc:
        [(code, answer)] = exc.recipients.values()
        return _refused(code, answer)
    except smtplib.SMTPResponseException as exc:
        if exc.smtp_code == 421:  # the server is closing the connection (RFC 5321 3.8)
            connection.lost = True
        return _refused(exc.smtp_code, exc.smtp_error)
    except CONNECTION_LOST as exc:
        connection.lost = True
        return str(exc) or type(exc).__name__
    except Exception as exc:  # one mail's failure, whatever it is, is that mail's alone
        log.warning("A mail could not be sent", exc_info=True)
        return str(exc) or type(exc).__name__
    return None


def _refused(code: int, answer: bytes | str) -> str:
    """The mail server's refusal in words, with its own answer (what its admin can look up)."""
    if isinstance(answer, bytes):
        answer = answer.decode("utf-8", "replace")
    return _("The mail server refused this mail: %(code)s %(answer)s", code=code, answer=answer)


class _Connection(flask_mail.Connection):
    """Flask-Mail's connection, with a timeout on every exchange and SMTPUTF8 where needed."""

    lost = False

    def configure_host(self) -> smtplib.SMTP:
        """Connect (and log in) with MAIL_TIMEOUT on every exchange: a server that accepts
        and then never answers ends the try instead of holding the worker."""
        timeout = current_app.config["MAIL_TIMEOUT"]
        kind = smtplib.SMTP_SSL if self.mail.use_ssl else smtplib.SMTP
        host = kind(self.mail.server, self.mail.port, timeout=timeout)
        if self.mail.use_tls:
            host.starttls()
        if self.mail.username and self.mail.password:
            host.login(self.mail.username, self.mail.password)
        return host

    def reconnect(self) -> None:
        """Open the connection again (the server hung up, or timed out)."""
        if self.host is not None:
            try:
                self.host.close()
            finally:
                self.host = None
        self.host = self.configure_host()
        self.lost = False

    def send_bytes(self, to: str, data: bytes, options: tuple[str, ...] = ()) -> None:
        """Hand the server one written mail for ``to``, from the default sender."""
        if self.host is None:  # MAIL_SUPPRESS_SEND
            return
        envelope_from = parseaddr(self.mail.default_sender)[1]
        self.host.sendmail(envelope_from, [to], data, list(options))

    def send_smtputf8(self, to: str, write: Callable[[], bytes]) -> None:
        """Send the mail ``write`` makes with SMTPUTF8, which an address like müller@… needs
        (RFC 6531); raises ``MailNotSent`` (with what to do) when it is off or the server
        lacks it, before the mail is written."""
        if not current_app.config["MAIL_SMTPUTF8"]:
            raise MailNotSent(_no_smtputf8())
        if self.host is None:  # MAIL_SUPPRESS_SEND
            return
        self.host.ehlo_or_helo_if_needed()
        if not self.host.has_extn("smtputf8"):
            raise MailNotSent(_no_smtputf8())
        self.send_bytes(to, write(), ("SMTPUTF8",))


def new_message_id() -> str:
    """A Message-ID for one mail, on the sender's domain (make_msgid() alone asks DNS for
    this host's name at every mail)."""
    sender = current_app.extensions["mail"].default_sender
    return make_msgid(domain=parseaddr(sender)[1].rpartition("@")[2] or None)


def _smtputf8_bytes(letter: Letter, sender: str, text: str, html: str) -> bytes:
    """The letter as the standard library writes it with UTF-8 headers (RFC 6532)."""
    message = EmailMessage(policy=email.policy.SMTPUTF8)
    message["Subject"] = letter.subject
    message["From"] = sender
    message["To"] = letter.to
    message["Date"] = formatdate(localtime=True)
    message["Message-ID"] = letter.message_id or new_message_id()
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    for attachment in letter.attachments:
        maintype, _slash, subtype = attachment.media_type.partition("/")
        message.add_attachment(
            attachment.data, maintype=maintype, subtype=subtype, filename=attachment.filename
        )
    return message.as_bytes()


def _no_smtputf8() -> str:
    return _(
        "The mail server does not take addresses with letters like “ü” before the @ (it "
        "needs SMTPUTF8). Turn SMTPUTF8 on at the mail server, or give this person another "
        "address."
    )


def one_line(text: str) -> str:
    """``text`` fit for a mail header: line breaks and control characters become one space
    (a file name may hold them; a header must not)."""
    return _LINE_BREAKS.sub(" ", text).strip()


def set_password_letter(user: User, *, link: str, hours: int) -> Letter:
    """A link for ``user`` to choose a (new) password."""
    language = language_of(user)
    with in_language(language):
        subject = _("Choose your Huddle password")
    context = {"user": user, "link": link, "hours": hours}
    return Letter(user.email, language, subject, "set_password", context)


def welcome_letter(
    user: User, *, link: str, levels: list[str], language: str | None = None
) -> Letter:
    """A new user's welcome: their levels and a link to choose a password; in their language,
    else in ``language``, else in English."""
    language = _their_language(user, language)
    with in_language(language):
        subject = _("Welcome to Huddle: choose your password")
    context = {"user": user, "link": link, "levels": levels}
    return Letter(user.email, language, subject, "import_welcome", context)


def updated_letter(
    user: User, *, levels_gained: list[str], login: str, language: str | None = None
) -> Letter:
    """An existing user's news: the levels an import gave them; in their language, else in
    ``language``, else in English."""
    language = _their_language(user, language)
    with in_language(language):
        subject = _("Your Huddle access has changed")
    context = {"user": user, "levels_gained": levels_gained, "login": login}
    return Letter(user.email, language, subject, "import_updated", context)


def _their_language(user: User, fallback: str | None) -> str:
    """The user's own language; for one without any, ``fallback``; else (a language not of
    ours, "de") English."""
    if not user.language and fallback in LANGUAGES:
        return fallback
    return language_of(user)


def import_report_letter(
    admin: User,
    run: ImportRun,
    counts,
    *,
    link: str,
    problem_rows: Attachment | None = None,
    outcome: Attachment | None = None,
) -> Letter:
    """How an import ended, for the admin who started it; ``counts`` are its
    ``ImportCounts``. Attached: the rows with problems, and (for a failed import) the outcome
    it would have had."""
    language = language_of(admin)
    with in_language(language):
        if run.status == ImportStatus.DONE:
            subject = _("Import finished: %(file)s", file=one_line(run.filename))
        else:
            subject = _("Import failed: %(file)s", file=one_line(run.filename))
    context = {
        "user": admin,
        "run": run,
        "counts": counts,
        "link": link,
        "outcome_attached": outcome is not None,
    }
    attachments = [part for part in (problem_rows, outcome) if part is not None]
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
