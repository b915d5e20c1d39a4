"""What the wizard's steps do to a draft import, apart from checking the file (staging.py)."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import func, select, update

from .. import queue
from ..csvio.columns import LABELS
from ..extensions import db
from ..i18n import ngettext
from ..models import (
    ColumnAlias,
    ImportRow,
    ImportRun,
    ImportStatus,
    Level,
    RowAction,
    User,
    utcnow,
)
from .staging import chosen_level_names, stage

STEPS = ("template", "upload", "levels", "mails", "confirm")


def set_levels(run: ImportRun, level_ids: list[int]) -> None:
    """Choose the levels every imported user gets; the rows are checked again against them."""
    valid = set(db.session.scalars(select(Level.id).where(Level.id.in_(level_ids))))
    run.level_ids = sorted(valid)
    stage(run)
    db.session.commit()


def map_columns(run: ImportRun, admin: User, chosen: dict[str, str]) -> dict[str, str]:
    """The mapping step: ``chosen`` says which of the file's column titles holds each
    missing template column. Returns problems by template column (nothing changed then);
    else remembers the titles for this import and for the admin's next ones, and checks
    the file again."""
    samples = dict((title, values) for title, values in run.reading.get("columns", []))
    problems = {}
    used: dict[str, str] = {}
    for column in run.reading.get("missing", []):
        title = chosen.get(column, "")
        if title not in samples:
            problems[column] = _(
                "Choose the column that holds the %(column)s.", column=_(LABELS[column])
            )
        elif title in used:
            problems[column] = _(
                "“%(title)s” is already chosen for the %(column)s.",
                title=title,
                column=_(LABELS[used[title]]),
            )
        elif column == "email" and samples[title] and not any("@" in v for v in samples[title]):
            problems[column] = _(
                "“%(title)s” holds no e-mail addresses (%(values)s).",
                title=title,
                values=", ".join(samples[title]),
            )
        else:
            used[title] = column
    if problems:
        return problems
    aliases = {**run.read_options.get("aliases", {}), **used}
    run.read_options = {**run.read_options, "aliases": aliases}
    for title, column in used.items():
        db.session.merge(ColumnAlias(admin_id=admin.id, title=title[:200], column=column))
    stage(run)
    db.session.commit()
    return {}


def set_mail_options(run: ImportRun, *, notify_new: bool, notify_existing: bool) -> None:
    run.notify_new = notify_new
    run.notify_existing = notify_existing
    db.session.commit()


def mails_to_send(run: ImportRun) -> tuple[int, int]:
    """(welcome mails, update mails) this import would send with its current options."""
    welcome = run.new_count if run.notify_new else 0
    updated = 0
    if run.notify_existing:
        updated = db.session.scalar(
            select(func.count())
            .select_from(ImportRow)
            .where(
                ImportRow.import_id == run.id,
                ImportRow.action == RowAction.UPDATE.value,
                ImportRow.gains_levels.is_(True),
            )
        )
    return welcome, updated


def summary_sentence(run: ImportRun) -> str:
    """The effect of the import in one sentence, for the confirm step."""
    welcome, updated = mails_to_send(run)
    levels = chosen_level_names(run)
    parts = [ngettext("%(num)s new user", "%(num)s new users", run.new_count)]
    if levels:
        parts.append(
            ngettext(
                "%(num)s existing user changes (gaining %(levels)s where they lack it)",
                "%(num)s existing users change (gaining %(levels)s where they lack it)",
                run.update_count,
                levels=", ".join(levels),
            )
        )
    else:
        parts.append(
            ngettext(
                "%(num)s existing user changes", "%(num)s existing users change", run.update_count
            )
        )
    parts.append(
        ngettext(
            "%(num)s is already up to date", "%(num)s are already up to date", run.unchanged_count
        )
    )
    parts.append(_("nobody loses anything"))
    if run.invalid_count:
        parts.append(
            ngettext(
                "%(num)s invalid row will be skipped",
                "%(num)s invalid rows will be skipped",
                run.invalid_count,
            )
        )
    welcome_mails = ngettext("%(num)s welcome mail", "%(num)s welcome mails", welcome)
    update_mails = ngettext("%(num)s update mail", "%(num)s update mails", updated)
    parts.append(
        _("%(welcome)s and %(updated)s will be sent", welcome=welcome_mails, updated=update_mails)
    )
    return _("%(first)s and %(last)s.", first=", ".join(parts[:-1]), last=parts[-1])


def first_row(run: ImportRun) -> ImportRow | None:
    """The first row that would be imported, to show the mails as its user gets them."""
    return db.session.scalar(
        select(ImportRow)
        .where(ImportRow.import_id == run.id, ImportRow.action != RowAction.SKIP.value)
        .order_by(ImportRow.line)
        .limit(1)
    )


def drafts_of(admin: User) -> list[ImportRun]:
    return db.session.scalars(
        select(ImportRun)
        .where(ImportRun.created_by_id == admin.id, ImportRun.status == ImportStatus.DRAFT.value)
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
    from ..jobs import run_import

    try:
        # One automatic retry: when the process running it is killed (out of memory, a
        # deploy), RQ runs it again; the interrupted attempt left nothing behind.
        job = queue.enqueue(run_import, run.id, retries=1, job_timeout=3600)
    except queue.QueueUnavailable:
        run.status = from_status
        db.session.commit()
        raise
    run.job_id = job.id
    db.session.commit()
    return True


def notice_lost_job(run: ImportRun) -> None:
    """A queued or running import whose job RQ gave up on (its process was killed, and so
    was the retry) is marked failed, so that the admin sees it and can start it again."""
    if run.status not in (ImportStatus.QUEUED, ImportStatus.RUNNING) or not run.job_id:
        return
    if queue.job_status(run.job_id) not in ("failed", "stopped", "canceled", "missing"):
        return
    run.status = ImportStatus.FAILED
    run.error = _(
        "The import stopped unexpectedly: the process running it was stopped (for example, "
        "it ran out of memory) and the retry too. Nothing was imported. Start it again."
    )
    run.finished_at = utcnow()
    db.session.commit()
