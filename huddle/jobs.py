"""What the background worker runs. Each job takes ids, loads what it is about, and calls the
services; the mail jobs hand ``huddle.mail`` its letters with their links and attachments.

This is the only module that joins the services and the mail, and nothing imports it: jobs
are queued by their dotted names (``queue.enqueue("huddle.jobs.run_import", id)``).
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Iterator
from functools import partial

from flask import current_app
from flask_babel import gettext as _

from . import mail, progress, queue, search_index
from .exports import service as exports
from .exports.storage import read_file
from .extensions import db
from .i18n import in_language, language_of
from .imports import claims, delivery
from .imports.applying import apply_import
from .imports.lookups import mail_language
from .imports.outcome import outcome_csv
from .imports.preview import build_preview, problem_rows_csv
from .imports.summary import import_counts
from .imports.upkeep import upkeep as upkeep_imports
from .models import Export, ExportStatus, ImportMail, ImportRun, ImportStatus, MailKind, User
from .pipeline.reading import lines_hint
from .tokens import export_download_token, external_url, set_password_link

log = logging.getLogger(__name__)


def mail_set_password_link(user_id: int) -> str:
    """Mail a user a single-use link to choose a (new) password."""
    user = db.session.get(User, user_id)
    if user is None:
        return "skipped: user no longer exists"
    hours = current_app.config["PASSWORD_LINK_MAX_AGE_HOURS"]
    mail.send_one(mail.set_password_letter(user, link=set_password_link(user), hours=hours))
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
    with (
        in_language(language_of(run.created_by)),
        progress.reporter("import", run.id, run.rows_total) as report,
    ):
        run = apply_import(run, report)
    try:
        delivery.queue_import_mails(run.id)
        outcome = f"import {run.status}"
    except queue.QueueUnavailable:
        # The import stands; the upkeep queues its mails once the queue is back.
        outcome = f"import {run.status}; its mails wait for the queue"
    # The import is done and shown; now its new users are indexed for search (by the upkeep,
    # should this worker stop first).
    indexed = search_index.catch_up()
    return f"{outcome}; {indexed} user(s) indexed for search" if indexed else outcome


def check_import(import_id: int) -> str:
    """Check a large file's rows for its draft's preview (``drafts.check``). Safe to run
    twice: a draft no longer checking is left alone."""
    run = db.session.get(ImportRun, import_id)
    if run is None or run.status != ImportStatus.CHECKING:
        return "skipped: not checking"
    with (
        in_language(language_of(run.created_by)),
        progress.reporter("check", run.id, lines_hint(run.file_data)) as report,
    ):
        try:
            build_preview(run, report)
        except Exception:
            db.session.rollback()
            log.exception("Checking import %s failed", import_id)
            run = db.session.get(ImportRun, import_id)
            run.status = ImportStatus.REJECTED
            run.file_error = _(
                "Checking this file failed unexpectedly. Upload it again; if it fails again, "
                "contact support."
            )
    db.session.commit()
    return f"checked: {run.status}"


def mail_import(import_id: int) -> str:
    """Send up to MAILS_PER_JOB of the mails the import still owes its users (welcome,
    access updated); a mail that failed a try is tried again later by a job this queues."""
    return _mail(import_id, delivery.USER_MAILS)


def mail_import_report(import_id: int) -> str:
    """Send the admin the report of how the import ended (queued with the imports, so that
    it goes before any of the users' mails); retried like the others."""
    return _mail(import_id, delivery.REPORT_MAILS)


def _mail(import_id: int, kinds: tuple[MailKind, ...]) -> str:
    sent, failed = send_import_mails(import_id, kinds, limit=delivery.MAILS_PER_JOB)
    delivery.schedule_wake(import_id, kinds)
    return f"sent {sent} mail(s), {failed} failed a try"


def send_import_mails(
    import_id: int, kinds: tuple[MailKind, ...] | None = None, *, limit: int | None = None
) -> tuple[int, int]:
    """Send up to ``limit`` (or all) of the import's mails (of these ``kinds``, or all) that
    are due, over one connection; returns (sent, failed a try).

    Each mail is claimed, then marked "sending" (committed before the server gets it), then
    "sent" (committed with the next mail's "sending"; see ``imports.claims``), so that any
    number of senders share the mails and none is sent twice but by a sender that died while
    the server had it. Every try counts, a server that cannot be reached included; a mail
    still not sent after MAX_MAIL_ATTEMPTS tries is marked failed, for the admin to send
    again from the import's page.
    """
    run = db.session.get(ImportRun, import_id)
    if run is None:
        return 0, 0
    kinds = kinds or tuple(MailKind)
    claims.recover_interrupted(import_id)
    # The reasons stored for the admin are in the admin's language.
    with in_language(language_of(run.created_by)):
        return _Sender(run, kinds, limit).send()


class _Sender:
    """One run of sending: claims a few due mails at a time, as the connection takes them.

    One commit a mail: the outcome of a mail is committed together with the "sending" mark
    of the next (and the last one's at the end), so a mail is always marked before the
    server gets it, and recorded sent before the sender can die with more than the next one
    in its hands."""

    CLAIM = 20  # mails claimed at a time: enough to save round trips, few to hold

    def __init__(self, run: ImportRun, kinds: tuple[MailKind, ...], limit: int | None):
        self.run, self.run_id = run, run.id
        self.kinds, self.left = kinds, limit or float("inf")
        self.worker = claims.claimant(queue.current_worker_name())
        self.held: list[int] = []  # claimed, not yet started
        self.rate = current_app.config["MAIL_RATE_PER_MINUTE"]
        self.language = mail_language(run)  # for people without a language of their own

    def send(self) -> tuple[int, int]:
        sent = failed = 0
        try:
            for mail_id, error in mail.send(self._letters()):
                if error is None:
                    claims.mark_sent(mail_id)
                    sent += 1
                else:
                    claims.count_failed_tries([mail_id], error)
                    failed += 1
            db.session.commit()
        except mail.MailServerUnreachable as exc:
            # A failed try for every due mail: none can go while the server is away.
            db.session.rollback()
            due = claims.claim_mails(self.run_id, self.kinds, self.worker, limit=10**9)
            reason = _("Mail server unreachable: %(error)s", error=exc)
            claims.count_failed_tries([*self.held, *due], reason)
            db.session.commit()
            return sent, failed + len(self.held) + len(due)
        except Exception:
            # Anything else (the database away) ends the job, for RQ to run again; the mails
            # it held but had not started are given back at once, not after their lease.
            db.session.rollback()
            with contextlib.suppress(Exception):
                claims.release(self.held, self.worker)
                db.session.commit()
            raise
        return sent, failed

    def _letters(self) -> Iterator[tuple[int, Callable[[], mail.Letter]]]:
        """Each mail this sender holds, marked "sending" just before it is its turn to go."""
        while self.left > 0:
            self.held = claims.claim_mails(
                self.run_id, self.kinds, self.worker, limit=int(min(self.CLAIM, self.left))
            )
            if not self.held:
                return
            records, people = delivery.mails_with_recipients(self.held)
            while self.held and self.left > 0:
                mail_id = self.held.pop(0)
                if self.rate:
                    db.session.commit()  # no transaction is held open while waiting
                    time.sleep(queue.wait_for_slot("mail", self.rate))
                message_id = mail.new_message_id()
                if claims.start_sending(mail_id, self.worker, message_id):
                    self.left -= 1
                    record = records[mail_id]
                    user = people.get(record.user_id)
                    yield mail_id, partial(self._letter, record, user, message_id)
        claims.release(self.held, self.worker)
        db.session.commit()

    def _letter(self, record: ImportMail, user: User | None, message_id: str) -> mail.Letter:
        letter = self._compose(record, user)
        letter.message_id = message_id
        return letter

    def _compose(self, record: ImportMail, user: User | None) -> mail.Letter:
        if user is None:
            raise LookupError(f"The user of mail {record.id} no longer exists.")
        if record.kind == MailKind.WELCOME:
            levels = [level.name for level in user.levels]
            link = set_password_link(user)
            return mail.welcome_letter(user, link=link, levels=levels, language=self.language)
        if record.kind == MailKind.UPDATED:
            login = external_url("auth.login")
            return mail.updated_letter(
                user, levels_gained=record.levels_gained, login=login, language=self.language
            )
        link = external_url("imports.detail", public_id=self.run.public_id)
        return mail.import_report_letter(
            user,
            self.run,
            import_counts(self.run),
            link=link,
            problem_rows=_problem_rows(self.run, user),
            outcome=_failed_outcome(self.run, user),
        )


def _problem_rows(run: ImportRun, admin: User) -> mail.Attachment | None:
    """The rows with problems (skipped by a finished import; to fix before a failed one is
    started again), as a file to fix and import again."""
    if not run.invalid_count:
        return None
    with in_language(language_of(admin)):
        data = problem_rows_csv(run).encode("utf-8")
    return mail.Attachment(f"problem-rows-{run.public_id[:8]}.csv", "text/csv", data)


# A failed import's outcome goes with its report up to this many rows; a larger one is on the
# import's page (mail servers refuse large messages).
OUTCOME_ATTACHED_ROWS = 20_000


def _failed_outcome(run: ImportRun, admin: User) -> mail.Attachment | None:
    """What a failed import would have done, row by row, as a file (None when it is done,
    or too large to attach)."""
    if run.status != ImportStatus.FAILED or run.rows_total > OUTCOME_ATTACHED_ROWS:
        return None
    with in_language(language_of(admin)):
        data = outcome_csv(run)
    return mail.Attachment(f"outcome-{run.public_id[:8]}.csv", "text/csv", data)


def upkeep() -> str:
    """Find what Redis lost: lost imports (failed, their admin mailed) and waiting mails with
    no job left to send them (queued again)."""
    done = upkeep_imports()
    # Users an import left to index, when its worker stopped before it had indexed them.
    indexed = search_index.catch_up()
    return (
        f"{done.lost_imports} lost import(s); {done.interrupted_mails} interrupted mail(s); "
        f"mails queued again for {done.mails_requeued_for} import(s); "
        f"{done.old_drafts} old draft(s) deleted; {indexed} user(s) indexed for search"
    )


def run_export(export_id: int) -> str:
    """Write an export's file, then queue the mail to the admin. Old files are cleaned up
    first, so a busy site needs no separate schedule for that."""
    exports.cleanup_expired()
    export = db.session.get(Export, export_id)
    if export is None:
        return "skipped: export no longer exists"
    with (
        in_language(language_of(export.created_by)),
        progress.reporter("export", export.id, export.expected_count) as report,
    ):
        export = exports.run_export(export, report)
    # The admin's mail goes at once; only when that fails is it queued, to be tried again.
    try:
        mail_export(export.id)
    except (mail.MailServerUnreachable, mail.MailNotSent):
        exports.queue_export_mail(export)
    return f"export {export.status}: {export.user_count} users"


def mail_export(export_id: int) -> str:
    """Mail the admin the export (or its failure). RQ retries it when the server is down;
    the export remembers it was mailed, so a retry never sends twice."""
    export = db.session.get(Export, export_id)
    if export is None:
        return "skipped: export no longer exists"
    admin = db.session.get(User, export.created_by_id) if export.created_by_id else None
    if admin is None or not exports.owes_mail(export):
        return "nothing to send"
    mail.send_one(_export_letter(export, admin))
    exports.mark_mailed(export)
    return "sent"


def _export_letter(export: Export, admin: User) -> mail.Letter:
    link = attachment = None
    if export.status == ExportStatus.DONE:
        if exports.fits_in_mail(export):
            data = read_file(export.id)
            attachment = mail.Attachment(export.filename, exports.media_type(export), data)
        else:
            link = external_url("exports.link", token=export_download_token(export))
    return mail.export_letter(
        admin,
        export,
        exports_page=external_url("exports.index"),
        keep_days=exports.keep_days(),
        link=link,
        attachment=attachment,
    )
