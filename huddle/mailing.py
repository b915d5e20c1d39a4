"""Composing and sending mails. Every mail has a plain-text and an HTML body from
``templates/mail/<name>.txt`` and ``.html``; none ever contains a password."""

from __future__ import annotations

import smtplib

from flask import current_app, render_template, url_for
from flask_babel import gettext as _
from flask_mail import Message
from sqlalchemy import select

from .extensions import db, mail
from .i18n import in_language, language_of, ngettext
from .models import (
    Export,
    ExportStatus,
    ImportMail,
    ImportRun,
    ImportStatus,
    MailKind,
    User,
    utcnow,
)
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
    with in_language(language_of(user)):
        send(
            "set_password",
            to=user.email,
            subject=_("Choose your Huddle password"),
            user=user,
            link=link,
            hours=hours,
        )


MAX_MAIL_ATTEMPTS = 5


def compose_import_mail(record: ImportMail, user: User, run: ImportRun) -> Message:
    """The message an import owes ``user``: welcome, access updated, or the admin's report,
    in ``user``'s language."""
    with in_language(language_of(user)):
        return _compose_import_mail(record, user, run)


def _compose_import_mail(record: ImportMail, user: User, run: ImportRun) -> Message:
    if record.kind == MailKind.WELCOME:
        link = external_url("auth.set_password", token=make_set_password_token(user))
        subject = _("Welcome to Huddle: choose your password")
        context = {"user": user, "link": link, "levels": [level.name for level in user.levels]}
    elif record.kind == MailKind.UPDATED:
        subject = _("Your Huddle access has changed")
        context = {
            "user": user,
            "levels_gained": record.levels_gained,
            "login": external_url("auth.login"),
        }
    else:
        subject = (
            _("Import finished: %(file)s", file=run.filename)
            if run.status == ImportStatus.DONE
            else _("Import failed: %(file)s", file=run.filename)
        )
        context = {
            "user": user,
            "run": run,
            "link": external_url("imports.detail", public_id=run.public_id),
        }
    message = Message(subject=subject, recipients=[user.email])
    template = f"mail/import_{record.kind}"
    message.body = render_template(f"{template}.txt", **context)
    message.html = render_template(f"{template}.html", **context)
    if record.kind == MailKind.REPORT and run.status == ImportStatus.DONE and run.invalid_count:
        from .importing import problem_rows_csv

        message.attach(
            f"problem-rows-{run.public_id[:8]}.csv",
            "text/csv",
            problem_rows_csv(run).encode("utf-8"),
        )
    return message


def send_import_mails(import_id: int) -> tuple[int, int]:
    """Send the import's pending mails over one SMTP connection; returns (sent, not sent).

    Each mail is marked sent (and committed) right after the server accepts it, so a retry
    of this job never sends it twice. Every try counts, a server that cannot be reached
    included; a mail still not sent after MAX_MAIL_ATTEMPTS tries is marked failed, for the
    admin to send again from the import's page.
    """
    run = db.session.get(ImportRun, import_id)
    pending_ids = db.session.scalars(
        select(ImportMail.id)
        .where(ImportMail.import_id == import_id, ImportMail.status == "pending")
        .order_by(ImportMail.id)
    ).all()
    if run is None or not pending_ids:
        return 0, 0
    sent = failed = 0
    try:
        with mail.connect() as connection:
            for mail_id in pending_ids:
                record = db.session.get(ImportMail, mail_id)
                try:
                    user = db.session.get(User, record.user_id)
                    connection.send(compose_import_mail(record, user, run))
                except (OSError, smtplib.SMTPException) as exc:
                    _count_failed_try(record, str(exc))
                    failed += 1
                else:
                    record.attempts += 1
                    record.status = "sent"
                    record.sent_at = utcnow()
                    sent += 1
                db.session.commit()
    except (OSError, smtplib.SMTPException) as exc:
        # The server could not be reached (or hung up): a failed try for every mail not sent.
        db.session.rollback()
        unsent = db.session.scalars(
            select(ImportMail).where(ImportMail.id.in_(pending_ids), ImportMail.status == "pending")
        ).all()
        for record in unsent:
            _count_failed_try(record, _("Mail server unreachable: %(error)s", error=exc))
        db.session.commit()
        return sent, len(unsent)
    return sent, failed


def _count_failed_try(record: ImportMail, error: str) -> None:
    record.attempts += 1
    record.last_error = error[:500]
    if record.attempts >= MAX_MAIL_ATTEMPTS:
        record.status = "failed"


def send_export_mail(export: Export) -> bool:
    """Tell the admin who asked for ``export`` how it ended: the file attached when small,
    else a signed link; or why it failed. Sent once (a retried job skips it); returns
    whether a mail went out."""
    admin = db.session.get(User, export.created_by_id) if export.created_by_id else None
    if export.mailed or admin is None or not export.is_finished:
        return False
    with in_language(language_of(admin)):
        message = _compose_export_mail(export, admin)
    mail.send(message)
    export.mailed = True
    db.session.commit()
    return True


def _compose_export_mail(export: Export, admin: User) -> Message:
    """The mail about ``export`` (its file or its link, or why it failed)."""
    from .exporting import running, storage

    exports_page = external_url("exports.index")
    if export.status == ExportStatus.DONE:
        attach = export.file_size <= current_app.config["EXPORT_ATTACH_MAX_BYTES"]
        link = (
            None if attach else external_url("exports.link", token=running.download_token(export))
        )
        message = Message(
            subject=ngettext(
                "Your export of %(num)s user is ready",
                "Your export of %(num)s users is ready",
                export.user_count,
            ),
            recipients=[admin.email],
        )
        context = {
            "user": admin,
            "export": export,
            "link": link,
            "exports_page": exports_page,
            "keep_days": running.keep_days(),
        }
        template = "mail/export_ready"
    else:
        message = Message(subject=_("Your export failed"), recipients=[admin.email])
        context = {"user": admin, "export": export, "exports_page": exports_page}
        template = "mail/export_failed"
    message.body = render_template(f"{template}.txt", **context)
    message.html = render_template(f"{template}.html", **context)
    if export.status == ExportStatus.DONE and attach:
        media_type = running.MEDIA_TYPES[export.format].split(";")[0]
        message.attach(export.filename, media_type, storage.read_file(export.id))
    return message
