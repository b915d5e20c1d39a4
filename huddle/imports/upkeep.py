"""Upkeep of imports when something outside them died: the database is the truth about every
import and mail, Redis only the messenger. Run now and then by a worker (``huddle.jobs.upkeep``).

- An import whose process stopped beating (killed with its worker) is tried once more, as
  RQ would do minutes later; one whose job RQ lost (its process killed, and the retry too;
  Redis emptied) is marked failed, and its admin mailed.
- Mails left "sending" by a worker that died are sent once more, or given up on when that
  happened before (``claims.recover_interrupted``).
- Mails that wait with no job left to send them (Redis restarted empty while they waited for
  a retry) are queued again, so that none waits forever.
- Imports never started are deleted a week after their upload, with their file.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select

from .. import queue
from ..extensions import db
from ..models import ImportMail, ImportRun, ImportStatus, MailStatus, utcnow
from .applying import notice_stopped_work
from .claims import recover_interrupted
from .delivery import MAIL_JOBS, queue_import_mails
from .drafts import UNSTARTED

# A finished import queues its own mails: give it this long before we call them forgotten.
GRACE = timedelta(minutes=2)
# Imports never started (drafts, files refused) are kept this long after their upload.
DRAFT_DAYS = 7


@dataclass
class Upkeep:
    """What one round of upkeep did."""

    lost_imports: int = 0
    interrupted_mails: int = 0  # found "sending" with their sender gone
    mails_requeued_for: int = 0  # imports whose waiting mails were queued again
    old_drafts: int = 0  # imports never started, deleted a week after their upload


def upkeep(now=None) -> Upkeep:
    """Mark lost imports failed (mailing their admins), and queue again the mails that wait
    with no job to send them."""
    done = Upkeep()
    running = db.session.scalars(
        select(ImportRun).where(
            ImportRun.status.in_([ImportStatus.QUEUED.value, ImportStatus.RUNNING.value]),
            ImportRun.job_id != "",
        )
    ).all()
    done.lost_imports = sum(notice_stopped_work(run) for run in running)
    done.interrupted_mails = recover_interrupted(now=now)
    cutoff = (now or utcnow()) - GRACE
    waiting = set(
        db.session.scalars(
            select(ImportMail.import_id)
            .join(ImportRun, ImportRun.id == ImportMail.import_id)
            .where(ImportMail.status == MailStatus.PENDING.value, ImportRun.finished_at < cutoff)
            .distinct()
        )
    )
    forgotten = waiting - queue.ids_with_jobs({job for job, _kinds, _on in MAIL_JOBS})
    for import_id in sorted(forgotten):
        queue_import_mails(import_id)
    done.mails_requeued_for = len(forgotten)
    done.old_drafts = delete_old_drafts(now)
    return done


def delete_old_drafts(now=None) -> int:
    """Delete the web uploads never started that were made more than DRAFT_DAYS ago (their
    file and preview go with them); returns how many. A file the command line refused stays
    in the history: it was the outcome of a command, not a draft."""
    cutoff = (now or utcnow()) - timedelta(days=DRAFT_DAYS)
    old = db.session.scalars(
        select(ImportRun).where(
            ImportRun.source == "web",
            ImportRun.status.in_(UNSTARTED),
            ImportRun.created_at < cutoff,
        )
    ).all()
    for run in old:
        db.session.delete(run)
    db.session.commit()
    return len(old)
