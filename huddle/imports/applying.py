"""Running an import: check the file once more and apply it in one transaction, in bulk; and
noticing an import whose process stopped or whose job was lost.

Nothing is half-imported: every row is written inside one transaction that also marks the run
done, so a failure (or a killed worker) leaves the database as it was. Existing users are
matched by normalised e-mail address; levels are only ever added; a blank cell never clears a
stored value; ``is_admin`` and passwords are never touched.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable

from flask_babel import format_decimal
from flask_babel import gettext as _
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from .. import progress, queue, search_index
from ..bulk import checkpoint_after_commit
from ..extensions import db
from ..i18n import in_language, language_of
from ..models import ImportMail, ImportRow, ImportRun, ImportStatus, MailKind, utcnow
from ..pipeline.problems import FileProblem
from ..pipeline.reading import ReadOptions, open_table
from . import batches
from .created import delete_blocks, with_created_lines
from .delivery import queue_import_mails
from .lookups import chosen_level_names, stored_lines
from .preview import recount

log = logging.getLogger(__name__)

Progress = Callable[[int], None]
# From about 12,000 rows on, an import's new users are indexed for search after it commits
# (``search_index``): before that, indexing each as it is written costs under a second.
SEARCH_INDEX_LATER_BYTES = 1 << 20


class ImportAlreadyRan(Exception):
    """The run is not waiting to be applied (it is done, failed or rejected)."""


def apply_import(run: ImportRun, progress: Progress | None = None) -> ImportRun:
    """Apply ``run``. Returns it done, or failed with the reason in ``run.error``. A large
    import's new users are then still to be indexed for search: call
    ``search_index.catch_up`` after it (they are found meanwhile, more slowly)."""
    if run.status in (ImportStatus.DONE, ImportStatus.REJECTED):
        raise ImportAlreadyRan(run.status)
    run.status = ImportStatus.RUNNING
    run.started_at = utcnow()
    run.error = ""
    db.session.commit()  # the admin sees "running" while the rows are written
    run_id = run.id
    try:
        try:
            _apply(run, progress or (lambda done: None))
        except IntegrityError:
            # Another import created some of these users while this one ran (PostgreSQL
            # lets both plan them as new; the second insert waits, then collides). Once
            # more, from the start: now they exist, and are updated instead.
            db.session.rollback()
            log.warning("Import %s collided with another import; running it again", run_id)
            run = db.session.get(ImportRun, run_id)
            _apply(run, progress or (lambda done: None))
        db.session.commit()
    except Exception as exc:
        db.session.rollback()
        if isinstance(exc, FileProblem):  # the file, not the program: no traceback
            log.warning("Import %s failed: the file cannot be read: %s", run_id, exc)
        else:
            log.exception("Import %s failed", run_id)
        run = db.session.get(ImportRun, run_id)
        run.status = ImportStatus.FAILED
        run.error = _describe(exc)
        if isinstance(exc, FileProblem):
            run.file_error = str(exc)
        run.finished_at = utcnow()
        _owe_report(run)
        db.session.commit()
    return run


def _owe_report(run: ImportRun) -> None:
    """The admin who started the import is owed a report of how it ended. A run that ends a
    second time (a retry after a failure) sends a new report, with the new outcome."""
    if not run.created_by_id:
        return
    report = db.session.scalar(
        select(ImportMail).where(
            ImportMail.import_id == run.id,
            ImportMail.user_id == run.created_by_id,
            ImportMail.kind == MailKind.REPORT.value,
        )
    )
    if report is None:
        db.session.add(
            ImportMail(import_id=run.id, user_id=run.created_by_id, kind=MailKind.REPORT)
        )
    else:
        report.owe_again()


def _describe(exc: Exception) -> str:
    if isinstance(exc, FileProblem):
        return str(exc)
    if queue.is_queue_error(exc):
        return _(
            "The background queue (Redis) could not be reached while importing. Nothing was "
            "imported. Start it again once the queue is back (the System page shows it)."
        )
    # The database's own words are in the log; the admin gets the gist and what to do.
    detail = str(getattr(exc, "orig", exc)).splitlines()[0][:300]
    return _(
        "The database refused the import (%(error)s). Nothing was imported. Try again; if it "
        "fails again, contact support with this message.",
        error=f"{type(exc).__name__}: {detail}",
    )


def _apply(run: ImportRun, progress: Progress) -> None:
    # Deleting first also takes SQLite's write lock before the rows are planned (batches.py).
    db.session.execute(delete(ImportRow).where(ImportRow.import_id == run.id))
    delete_blocks(run.id)
    checkpoint_after_commit()  # the import is done (and shown) before its pages are copied
    table = open_table(run.file_data, ReadOptions.from_dict(run.read_options))
    if table.size >= SEARCH_INDEX_LATER_BYTES:
        search_index.defer_new_users()  # the caller catches up after the commit
    setting = batches.Setting.for_run(run, chosen_level_names(run), outcome=True)
    earlier_lines = with_created_lines(stored_lines(run.id), run.id)
    batches.write_all(batches.planned_batches(table, setting), setting, earlier_lines, progress)
    run.blank_lines = table.blank_lines
    recount(run)
    _owe_report(run)
    run.status = ImportStatus.DONE
    run.finished_at = utcnow()


def notice_stopped_work(run: ImportRun) -> bool:
    """Whether ``run`` was found stopped (its process gone, or its job lost) and handled by
    the rules below; asked whenever its page is looked at, and by the upkeep."""
    return notice_stopped_process(run) or notice_lost_job(run)


def notice_stopped_process(run: ImportRun) -> bool:
    """A running import whose process stopped beating (killed together with its worker, so
    RQ hears nothing for minutes) is handled now by the rule for a killed job: tried once
    more (its note says so, and the page shows it queued), or, when that was the retry,
    marked failed and its admin mailed. Returns whether it was stopped."""
    if run.status != ImportStatus.RUNNING or not run.job_id:
        return False
    if progress.alive("import", run.id) is not False:
        return False  # beating, or Redis cannot tell: leave it
    done = progress.read("import", run.id)
    outcome = queue.abandon(
        run.job_id,
        reason="The process running the import stopped beating (killed with its worker)",
        after_seconds=progress.ALIVE_SECONDS,
    )
    if outcome == "retried":
        progress.forget("import", run.id)
        db.session.execute(
            update(ImportRun)
            .where(ImportRun.id == run.id, ImportRun.status == ImportStatus.RUNNING.value)
            .values(status=ImportStatus.QUEUED.value, error=_stopped_note(run, done))
        )
        db.session.commit()
        db.session.refresh(run)
        return True
    return outcome == "failed" and notice_lost_job(run)


def _stopped_note(run: ImportRun, done: dict | None) -> str:
    # Kept with the import: in its admin's language, whoever's page noticed.
    with in_language(language_of(run.created_by)):
        return _(
            "The background process running this import stopped after %(done)s of "
            "%(total)s rows (it was stopped, or its machine was). Nothing of it was kept: it "
            "is tried once more from the start.",
            done=format_decimal(done["done"] if done else 0),
            total=format_decimal(run.rows_total or 0),
        )


def notice_lost_job(run: ImportRun) -> bool:
    """A queued or running import whose job RQ gave up on (its process was killed, and so
    was the retry) is marked failed, so that the admin sees it and can start it again, and
    mailed, however it died. Returns whether it was."""
    if run.status not in (ImportStatus.QUEUED, ImportStatus.RUNNING) or not run.job_id:
        return False
    if not queue.job_lost(run.job_id):
        return False
    run.status = ImportStatus.FAILED
    run.error = _(
        "The import stopped unexpectedly: the process running it was stopped (for example, "
        "it ran out of memory) and the retry too. Nothing was imported. Start it again."
    )
    run.finished_at = utcnow()
    _owe_report(run)
    db.session.commit()
    with contextlib.suppress(queue.QueueUnavailable):  # the upkeep sends it once Redis is back
        queue_import_mails(run.id)
    return True
