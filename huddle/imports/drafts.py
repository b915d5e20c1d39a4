"""A draft import and what the wizard's steps do to it: create it from an upload, read it
again as the admin says, map its columns, choose its levels and mails, discard or start it.

Each function here is one unit of work and commits it; the views only call them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select, update

from .. import queue
from ..extensions import db
from ..i18n import LANGUAGES
from ..models import (
    ColumnAlias,
    ImportFile,
    ImportRun,
    ImportStatus,
    Level,
    User,
    UserLevel,
    utcnow,
)
from ..pipeline.columns import FULL_NAME, LABELS
from ..pipeline.reading import MAPPABLE, ReadOptions, bytes_to_read
from .lookups import column_aliases
from .preview import build_preview

# An import not started yet: being checked, checked (a draft), or refused as a file.
UNSTARTED = (ImportStatus.DRAFT.value, ImportStatus.CHECKING.value, ImportStatus.REJECTED.value)


def _upload_name(filename: str) -> str:
    """Only the name: a browser may send a path, and a hostile one "../../x.csv"."""
    return re.split(r"[\\/]", filename)[-1].strip()[:255] or "upload.csv"


def create_import(
    filename: str,
    data: bytes,
    *,
    admin: User | None,
    source: str = "web",
    level_ids: Sequence[int] = (),
    notify_new: bool = True,
    notify_existing: bool = False,
    mail_language: str = "",
) -> ImportRun:
    """A new import of ``data`` in the session (flushed, not committed), as the wizard and the
    command line both make one; the admin's own column titles come with it."""
    aliases = column_aliases(admin)
    run = ImportRun(
        read_options={"aliases": aliases} if aliases else {},
        filename=_upload_name(filename),
        file=ImportFile(data=data),
        file_size=len(data),
        created_by_id=admin.id if admin else None,
        source=source,
        fixes={},
        level_ids=list(level_ids),
        notify_new=notify_new,
        notify_existing=notify_existing,
        mail_language=mail_language,
        ignored_columns=[],
    )
    db.session.add(run)
    db.session.flush()
    return run


def create_draft(filename: str, data: bytes, *, admin: User | None) -> ImportRun:
    """Store an upload as a new draft import with its preview; returns it (maybe rejected).
    A file of the same name as one of the admin's drafts replaces that draft (keeping its
    levels and mail options): uploading a fixed file again leaves one draft, not two."""
    earlier = _draft_named(filename, admin)
    if earlier is not None:
        return replace_file(earlier, filename, data, admin=admin)
    run = create_import(filename, data, admin=admin)
    check(run)
    return run


def _draft_named(filename: str, admin: User | None) -> ImportRun | None:
    """The admin's newest unstarted import of a file of this name, if any."""
    if admin is None:
        return None
    name = _upload_name(filename)
    return db.session.scalar(
        select(ImportRun)
        .where(
            ImportRun.created_by_id == admin.id,
            ImportRun.filename == name,
            ImportRun.status.in_(UNSTARTED),
        )
        .order_by(ImportRun.created_at.desc())
        .limit(1)
    )


def check(run: ImportRun) -> None:
    """Check the draft's rows for its preview, committed: here, or, for a file too large to
    check within a web request, by a worker (the run is then "checking" until it is done,
    and its page shows how far it got). Without a queue to hand it to, here after all."""
    if bytes_to_read(run.file_data) < current_app.config["IMPORT_CHECK_IN_WORKER_BYTES"]:
        build_preview(run)
        db.session.commit()
        return
    run.status = ImportStatus.CHECKING
    db.session.commit()  # before the job is queued, so the worker finds it checking
    try:
        job = queue.enqueue(
            "huddle.jobs.check_import", run.id, on="imports", retries=1, job_timeout=3600
        )
    except queue.QueueUnavailable:
        build_preview(run)
        db.session.commit()
        return
    run.job_id = job.id
    db.session.commit()


# A draft checked longer ago than this is checked again when it is opened (users may have
# been deleted or lost a level meanwhile, which leaves no trace to compare with).
CHECK_KEPT = timedelta(hours=1)


def recheck_if_stale(run: ImportRun) -> bool:
    """Check a draft again when what it was checked against has changed since: another
    import finished, a user was added or edited, a level granted, or an hour went by. True
    when it was checked again (so that its preview and counts are today's)."""
    if run.status != ImportStatus.DRAFT or run.checked_at is None:
        return False
    since = run.checked_at
    changed = (
        since < utcnow() - CHECK_KEPT
        or db.session.scalar(
            select(ImportRun.id)
            .where(ImportRun.status == ImportStatus.DONE.value, ImportRun.finished_at > since)
            .limit(1)
        )
        or db.session.scalar(select(func.max(User.updated_at))) > since
        or (db.session.scalar(select(func.max(UserLevel.granted_at))) or since) > since
    )
    if not changed:
        return False
    check(run)
    return True


def notice_stopped_check(run: ImportRun) -> None:
    """A check whose job RQ gave up on (its process was killed, and the retry too) ends the
    draft as a file that could not be checked, so that the admin is not left waiting."""
    if run.status != ImportStatus.CHECKING or not run.job_id or not queue.job_lost(run.job_id):
        return
    run.status = ImportStatus.REJECTED
    run.file_error = _(
        "Checking this file stopped unexpectedly (the process checking it was stopped). "
        "Upload it again; if that happens again, split it into smaller files."
    )
    db.session.commit()


def replace_file(run: ImportRun, filename: str, data: bytes, *, admin: User) -> ImportRun:
    """Another file for the same import: a new draft with the old one's levels and mail
    options, in place of the old one (which is deleted)."""
    replacement = create_import(
        filename,
        data,
        admin=admin,
        level_ids=run.level_ids,
        notify_new=run.notify_new,
        notify_existing=run.notify_existing,
        mail_language=run.mail_language,
    )
    db.session.delete(run)
    _set_valid_levels(replacement, replacement.level_ids)
    check(replacement)
    return replacement


def read_as(run: ImportRun, chosen: ReadOptions) -> None:
    """The admin's choice of encoding, separator, sheet or title line: the file is read and
    checked again (the column titles the admin mapped stay mapped)."""
    aliases = run.read_options.get("aliases")
    run.read_options = {**chosen.to_dict(), **({"aliases": aliases} if aliases else {})}
    check(run)


def set_levels(run: ImportRun, level_ids: list[int]) -> None:
    """Choose the levels every imported user gets; the rows are checked again against them."""
    _set_valid_levels(run, level_ids)
    check(run)


def _set_valid_levels(run: ImportRun, level_ids: Sequence[int]) -> None:
    valid = set(db.session.scalars(select(Level.id).where(Level.id.in_(level_ids))))
    run.level_ids = sorted(valid)


def map_columns(run: ImportRun, admin: User, chosen: dict[str, str]) -> dict[str, str]:
    """The mapping step: ``chosen`` says which of the file's column titles holds each
    missing template column. Returns problems by template column (nothing changed then);
    else remembers the titles for this import and for the admin's next ones, and checks
    the file again."""
    samples = dict((title, values) for title, values in run.reading.get("columns", []))
    problems = {}
    used: dict[str, str] = {}
    optional = run.reading.get("lacking", [])
    for column in [*run.reading.get("missing", []), *optional]:
        title = chosen.get(column, "")
        if not title and column in optional:
            continue  # no column of names: only existing users can be in the file
        problem = _mapping_problem(column, title, samples, used)
        if problem:
            problems[column] = problem
        else:
            used[title] = column
    if problems:
        return problems
    _remember(run, admin, used)
    check(run)
    return {}


def split_names(run: ImportRun, admin: User, title: str) -> bool:
    """The admin chose to split the whole names in column ``title`` into first name, infix
    and last name: remembered like any column mapping, and the file checked again. False
    when the file has no such column."""
    offered = (run.reading.get("split") or {}).get("title")
    if title != offered and title not in dict(run.reading.get("columns", [])):
        return False
    _remember(run, admin, {title: FULL_NAME})
    check(run)
    return True


def use_columns(run: ImportRun, admin: User, chosen: dict[str, str]) -> bool:
    """The admin's choice for columns not used (or used twice): ``chosen`` maps such a
    column's title to a template column, ``FULL_NAME`` or ``IGNORE``. Remembered like any
    mapping, and the file checked again. False when a title or a choice is not one offered."""
    offered = set(run.ignored_columns or ()) | {
        title for titles in (run.reading.get("merged") or {}).values() for title in titles
    }
    if not chosen or not set(chosen) <= offered or not set(chosen.values()) <= MAPPABLE:
        return False
    _remember(run, admin, chosen)
    check(run)
    return True


def _remember(run: ImportRun, admin: User, used: dict[str, str]) -> None:
    """Column titles and what they stand for, for this import and the admin's next ones."""
    aliases = {**run.read_options.get("aliases", {}), **used}
    run.read_options = {**run.read_options, "aliases": aliases}
    for title, column in used.items():
        db.session.merge(ColumnAlias(admin_id=admin.id, title=title[:200], column=column))


def _mapping_problem(column: str, title: str, samples: dict, used: dict[str, str]) -> str:
    """Why ``title`` cannot stand for ``column`` ("" when it can)."""
    if title not in samples:
        return _("Choose the column that holds the e-mail addresses.")
    if title in used:
        return _(
            "“%(title)s” is already chosen for another field (%(column)s).",
            title=title,
            column=_(LABELS[used[title]]),
        )
    if column == "email" and samples[title] and not any("@" in v for v in samples[title]):
        return _(
            "“%(title)s” holds no e-mail addresses (%(values)s).",
            title=title,
            values=", ".join(samples[title]),
        )
    return ""


def set_mail_options(
    run: ImportRun, *, notify_new: bool, notify_existing: bool, mail_language: str = ""
) -> None:
    """Which mails the import sends (welcome mails to new users, update mails to existing
    ones), and their language for people without one in the file ("" leaves it as it is)."""
    run.notify_new = notify_new
    run.notify_existing = notify_existing
    if mail_language in LANGUAGES:
        run.mail_language = mail_language
    db.session.commit()


def discard(run: ImportRun) -> None:
    """Delete a draft import with its file and preview."""
    db.session.delete(run)
    db.session.commit()


def drafts_of(admin: User) -> list[ImportRun]:
    """The admin's imports not started yet, newest first."""
    return db.session.scalars(
        select(ImportRun)
        .where(ImportRun.created_by_id == admin.id, ImportRun.status.in_(UNSTARTED))
        .order_by(ImportRun.created_at.desc())
    ).all()


def start(run: ImportRun, *, from_status: ImportStatus = ImportStatus.DRAFT) -> bool:
    """Queue the import once: False when it had already been started (a double click).
    ``from_status=FAILED`` starts a failed import again.

    Raises ``queue.QueueUnavailable`` (and leaves the import as it was) when Redis is down.
    """
    claimed = db.session.execute(
        update(ImportRun)
        .where(ImportRun.id == run.id, ImportRun.status == from_status.value)
        .values(status=ImportStatus.QUEUED.value, error="")
    ).rowcount
    # Committed before the job is queued, so the worker never sees a draft.
    db.session.commit()
    if not claimed:
        return False
    try:
        # One automatic retry: when the process running it is killed (out of memory, a
        # deploy), RQ runs it again; the interrupted attempt left nothing behind.
        job = queue.enqueue(
            "huddle.jobs.run_import", run.id, on="imports", retries=1, job_timeout=3600
        )
    except queue.QueueUnavailable:
        run.status = from_status
        db.session.commit()
        raise
    run.job_id = job.id
    db.session.commit()
    return True
