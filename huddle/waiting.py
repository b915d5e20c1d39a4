"""What queued work waits for, in the admin's words: another import that is running, an
export being made, others before it in line, or background jobs that are not running at all.

Read from Redis: who listens to the queue, what they are doing, and the line before the job.
The import and export pages can say more than "waiting": an admin who sees "another import is
running" waits; one who sees "background jobs are not running" tells whoever runs the server.
"""

from __future__ import annotations

from flask import current_app
from flask_babel import gettext as _
from rq import Worker

from . import queue
from .i18n import ngettext
from .models import Export, ImportRun


def import_waits_for(run: ImportRun) -> str:
    """Why the queued import ``run`` has not started yet."""
    return _waits_for("imports", run.job_id)


def export_waits_for(export: Export) -> str:
    """Why the queued export has not started yet."""
    return _waits_for("exports", export.job_id)


def mails_wait_for() -> str:
    """Why an import's mails are not going out although none failed; "" when they are."""
    try:
        if not _workers_on("mails"):
            return _not_running()
    except queue.REDIS_DOWN:
        return _queue_away()
    return ""


# What a busy worker's job is, for the admin: by the job's name.
_BUSY_WITH = (
    (
        "huddle.jobs.run_import",
        lambda: _("Waiting: another import is running. This one starts when it is done."),
    ),
    (
        "huddle.jobs.run_export",
        lambda: _("Waiting: an export is being made. This starts when it is done."),
    ),
    (
        "huddle.jobs.mail",
        lambda: _("Waiting: mails are being sent. This starts when that is done."),
    ),
)


def _waits_for(on: str, job_id: str) -> str:
    try:
        workers = _workers_on(on)
        if not workers:
            return _not_running()
        position = queue.get_queue(on).get_job_position(job_id) if job_id else None
        idle = any(worker.get_state() == "idle" for worker in workers)
        running = [job for w in workers if (job := w.get_current_job()) is not None]
    except queue.REDIS_DOWN:
        return _queue_away()
    if any(job.id == job_id for job in running):
        return _("Starting…")  # taken: its own progress follows in a moment
    busy_with = [job.func_name for job in running]
    ahead = position or 0
    if ahead:
        return ngettext(
            "Waiting: %(num)s job is before this one.",
            "Waiting: %(num)s jobs are before this one.",
            ahead,
        )
    if idle:
        return _("Starting…")
    for name, text in _BUSY_WITH:
        if any(func.startswith(name) for func in busy_with):
            return text()
    return _("Waiting: other background work is running. This starts when it is done.")


def _workers_on(on: str) -> list[Worker]:
    """The running workers that take jobs from the queue ``on``."""
    [name] = queue.queue_names(current_app.config, [on])
    return [worker for worker in Worker.all(queue.get_redis()) if name in worker.queue_names()]


def _not_running() -> str:
    return _(
        "Waiting: background jobs are not running at the moment, so this has not started. It "
        "starts as soon as they run again: the System page shows their state."
    )


def _queue_away() -> str:
    return _("Waiting: the background queue cannot be reached. This starts as soon as it is back.")
