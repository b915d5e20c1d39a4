"""Entry points for the background worker. Thin: load what the job is about, call a service.

Jobs take ids, not objects: the worker reads the current state from the database.
"""

from __future__ import annotations

from . import mailing, progress, queue
from .extensions import db
from .i18n import in_language, language_of
from .importing import apply_import
from .mailing import send_set_password_link
from .models import Export, ImportRun, ImportStatus, User


def mail_set_password_link(user_id: int) -> str:
    user = db.session.get(User, user_id)
    if user is None:
        return "skipped: user no longer exists"
    send_set_password_link(user)
    return f"sent to {user.email}"


def run_import(import_id: int) -> str:
    """Apply a queued import, then queue its mails. Safe to run twice: a finished import is
    left alone."""
    run = db.session.get(ImportRun, import_id)
    if run is None:
        return "skipped: import no longer exists"
    if run.status in (ImportStatus.DONE, ImportStatus.REJECTED):
        return f"skipped: import is {run.status}"
    # What it writes for the admin to read (problems, errors) is in the admin's language.
    with in_language(language_of(run.created_by)):
        run = apply_import(run, progress.reporter("import", run.id, run.rows_total))
    queue_import_mails(run.id)
    return f"import {run.status}"


def queue_import_mails(import_id: int):
    """Queue the sending of an import's mails: tried once and retried with growing pauses,
    MAX_MAIL_ATTEMPTS times in all, after which the mails still unsent are marked failed."""
    return queue.enqueue(send_import_mails, import_id, retries=mailing.MAX_MAIL_ATTEMPTS - 1)


def send_import_mails(import_id: int) -> str:
    """Send every mail the import still owes; each is marked sent as soon as it is, so a
    retry never sends one twice."""
    run = db.session.get(ImportRun, import_id)
    with in_language(language_of(run.created_by if run else None)):
        sent, failed = mailing.send_import_mails(import_id)
    if failed:
        # Raising makes RQ retry later; the mails already sent are not sent again.
        raise RuntimeError(f"{failed} mail(s) of import {import_id} could not be sent")
    return f"sent {sent} mail(s)"


def run_export(export_id: int) -> str:
    """Write an export's file, then queue the mail to the admin. Old files are cleaned up
    first, so a busy site needs no separate schedule for that."""
    from .exporting import cleanup_expired
    from .exporting import run_export as write_and_keep

    cleanup_expired()
    export = db.session.get(Export, export_id)
    if export is None:
        return "skipped: export no longer exists"
    with in_language(language_of(export.created_by)):
        export = write_and_keep(
            export, progress.reporter("export", export.id, export.expected_count)
        )
    queue.enqueue(mail_export, export.id)
    return f"export {export.status}: {export.user_count} users"


def mail_export(export_id: int) -> str:
    """Mail the admin the export (or its failure). RQ retries it when the server is down;
    the export remembers it was mailed, so a retry never sends twice."""
    export = db.session.get(Export, export_id)
    if export is None:
        return "skipped: export no longer exists"
    return "sent" if mailing.send_export_mail(export) else "nothing to send"
