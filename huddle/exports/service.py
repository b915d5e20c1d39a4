"""Making an export: ask for it, write it (job or command line), keep it for a while, and find
it again from the signed link in its mail."""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable, Iterable, Iterator
from datetime import timedelta
from typing import BinaryIO

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select

from .. import queue
from ..extensions import db
from ..models import Export, ExportFormat, ExportStatus, User, utcnow
from ..pipeline.writing import MEDIA_TYPES, write_csv
from ..pipeline.xlsx import write_xlsx
from ..tokens import LinkExpired, LinkInvalid, export_for_download_token
from . import selection as selections
from .rows import iter_rows
from .storage import delete_file, save_file

log = logging.getLogger(__name__)

WRITERS = {ExportFormat.CSV: write_csv, ExportFormat.XLSX: write_xlsx}
Progress = Callable[[int], None]


def create_export(admin: User, selection: dict, fmt: str) -> Export:
    """Record what ``admin`` asked to export (the job does the work)."""
    export = Export(
        created_by_id=admin.id,
        format=ExportFormat(fmt).value,
        selection=selection,
        expected_count=selections.count(selection),
    )
    db.session.add(export)
    db.session.commit()
    return export


def _reporting(rows: Iterable[tuple], progress: Progress, every: int = 1000) -> Iterator[tuple]:
    done = 0
    for done, row in enumerate(rows, start=1):  # noqa: B007
        yield row
        if done % every == 0:
            progress(done)
    progress(done)


def write_export(selection: dict, fmt: str, out: BinaryIO, progress: Progress | None = None) -> int:
    """Write the selected users to ``out`` in ``fmt``, streaming; returns how many."""
    rows = iter_rows(selection)
    if progress is not None:
        rows = _reporting(rows, progress)
    return WRITERS[ExportFormat(fmt)](rows, out)


def run_export(export: Export, progress: Progress | None = None) -> Export:
    """Write the file and keep it with the export. Returns the export done, or failed with
    the reason in ``error``. A finished export is left as it is (a retried job)."""
    if export.is_finished:
        return export
    export.status = ExportStatus.RUNNING
    db.session.commit()
    export_id = export.id
    try:
        # The file is spooled to disk first, so the database is written in one short
        # transaction at the end rather than held open while rows are read.
        with tempfile.TemporaryFile(prefix="huddle-export-") as spool:
            export.user_count = write_export(export.selection, export.format, spool, progress)
            spool.seek(0)
            export.file_size = save_file(export_id, spool)
        export.status = ExportStatus.DONE
        export.finished_at = utcnow()
        db.session.commit()
    except Exception as exc:
        db.session.rollback()
        log.exception("Export %s failed", export_id)
        export = db.session.get(Export, export_id)
        export.status = ExportStatus.FAILED
        export.error = _(
            "The export could not be written (%(error)s). Try again; if it fails again, "
            "contact support with this message.",
            error=f"{type(exc).__name__}: {str(exc)[:300]}",
        )
        export.finished_at = utcnow()
        db.session.commit()
    return export


def keep_days() -> int:
    """How many days an export's file is kept (EXPORT_KEEP_DAYS)."""
    return current_app.config["EXPORT_KEEP_DAYS"]


def expires_at(export: Export):
    """When the export's file will be deleted (None while it is being made)."""
    return export.finished_at + timedelta(days=keep_days()) if export.finished_at else None


def cleanup_expired(now=None) -> int:
    """Delete the files of exports older than the keeping period; returns how many."""
    cutoff = (now or utcnow()) - timedelta(days=keep_days())
    expired = db.session.scalars(
        select(Export).where(Export.status == ExportStatus.DONE, Export.finished_at < cutoff)
    ).all()
    for export in expired:
        delete_file(export.id)
        export.status = ExportStatus.EXPIRED
    db.session.commit()
    return len(expired)


class ExportLinkError(Exception):
    """A download link that does not lead to a file: ``code`` is "invalid", "expired" or
    "gone" (the file was deleted)."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


def export_for_token(token: str) -> Export:
    """The export a mail link points at, or ``ExportLinkError``."""
    try:
        public_id = export_for_download_token(token, max_age_days=keep_days())
    except LinkExpired:
        raise ExportLinkError(
            "expired",
            _(
                "This download link has expired: exports are kept for %(days)s days. Make a "
                "new export on Users › Manage.",
                days=keep_days(),
            ),
        ) from None
    except LinkInvalid:
        raise ExportLinkError(
            "invalid", _("This download link is not valid. Copy the whole link from the mail.")
        ) from None
    export = db.session.scalar(select(Export).where(Export.public_id == public_id))
    if export is None or export.status == ExportStatus.EXPIRED:
        raise ExportLinkError(
            "gone", _("This export's file has been deleted. Make a new export on Users › Manage.")
        )
    return export


def start_export(admin: User, selection: dict, fmt: str) -> Export:
    """Record the export and queue its job. Raises ``queue.QueueUnavailable`` (with nothing
    recorded) when Redis is down."""
    queue.check_available()
    export = create_export(admin, selection, fmt)
    try:
        job = queue.enqueue(
            "huddle.jobs.run_export", export.id, on="exports", retries=1, job_timeout=3600
        )
    except queue.QueueUnavailable:
        db.session.delete(export)
        db.session.commit()
        raise
    export.job_id = job.id
    db.session.commit()
    return export


def exports_of(admin: User, most: int = 100) -> list[Export]:
    """The admin's own exports, newest first (the Exports page)."""
    return db.session.scalars(
        select(Export)
        .where(Export.created_by_id == admin.id)
        .order_by(Export.created_at.desc(), Export.id.desc())
        .limit(most)
    ).all()


def recent_export(admin: User, within: timedelta = timedelta(hours=1)) -> Export | None:
    """The admin's latest export if it was asked for in the last hour: Users › Manage keeps
    showing its progress or download after a reload."""
    return db.session.scalar(
        select(Export)
        .where(Export.created_by_id == admin.id, Export.created_at >= utcnow() - within)
        .order_by(Export.created_at.desc(), Export.id.desc())
        .limit(1)
    )


def queue_export_mail(export: Export):
    """Queue the mail that tells the admin how the export ended (retried when it fails)."""
    return queue.enqueue("huddle.jobs.mail_export", export.id, on="exports")


def fits_in_mail(export: Export) -> bool:
    """Whether the export's file is small enough to attach to its mail."""
    return export.file_size <= current_app.config["EXPORT_ATTACH_MAX_BYTES"]


def media_type(export: Export) -> str:
    """The export file's media type, without parameters (for an attachment)."""
    return MEDIA_TYPES[export.format].split(";")[0]


def owes_mail(export: Export) -> bool:
    """Whether the admin who asked for the export is still to hear how it ended."""
    return export.is_finished and not export.mailed and export.created_by_id is not None


def mark_mailed(export: Export) -> None:
    """The admin has been mailed about the export: a retried job sends nothing more."""
    export.mailed = True
    db.session.commit()
