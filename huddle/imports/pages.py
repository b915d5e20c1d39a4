"""After the wizard: an import's own page (its progress, its outcome, its mails) and the
history of imports. These routes join the wizard's blueprint (``views.bp``)."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _

from .. import htmx, progress, queue
from ..i18n import ngettext
from ..levels.service import all_levels
from ..models import ImportRun, ImportStatus
from ..pipeline.columns import LABELS
from ..waiting import import_waits_for
from . import drafts, summary
from .applying import notice_stopped_work
from .delivery import mail_delivery, resend_failed_mails
from .lookups import chosen_level_names
from .outcome import outcome_csv
from .views import attachment, bp, file_stem, import_or_404

__all__ = ["bp"]


@bp.get("/<public_id>")
def detail(public_id: str):
    """The import's own page: its progress while it runs, its outcome and mails after."""
    run = import_or_404(public_id)
    notice_stopped_work(run)
    if run.status in (ImportStatus.DRAFT, ImportStatus.CHECKING):
        return redirect(url_for(".preview", public_id=run.public_id))
    return render_template("imports/detail.html", run=run, **_outcome(run))


@bp.post("/<public_id>/again")
def start_again(public_id: str):
    """A failed import, started again: it checks the file anew and applies it whole."""
    run = import_or_404(public_id)
    try:
        drafts.start(run, from_status=ImportStatus.FAILED)
    except queue.QueueUnavailable:
        flash(_("The background queue is unavailable: try again in a moment."), "error")
    return redirect(url_for(".detail", public_id=run.public_id))


@bp.get("/<public_id>/outcome.csv")
def outcome(public_id: str):
    """Every row of a finished import with what happened to it (for a failed one: what
    would have), as a file."""
    run = import_or_404(public_id)
    if run.status not in (ImportStatus.DONE, ImportStatus.FAILED):
        abort(404)
    return attachment(outcome_csv(run), "text/csv", f"{file_stem(run)}-outcome.csv")


@bp.get("/<public_id>/progress")
def progress_part(public_id: str):
    """How far the import has got (polled by htmx); once it has ended, the page reloads."""
    run = import_or_404(public_id)
    notice_stopped_work(run)
    if run.is_finished and htmx.is_htmx():
        # Done: reload the whole page once, to show the outcome.
        return htmx.reload_page()
    return render_template("imports/_progress.html", run=run, **_progress(run))


@bp.get("/<public_id>/delivery")
def mail_delivery_part(public_id: str):
    """How the import's mails stand (polled by htmx while some wait)."""
    run = import_or_404(public_id)
    return render_template("imports/_mail_delivery.html", run=run, delivery=mail_delivery(run))


@bp.post("/<public_id>/delivery/resend")
def resend_mails(public_id: str):
    """The mails that failed after every try, queued once more (when the admin has fixed
    the mail server, or the recipient's address)."""
    run = import_or_404(public_id)
    try:
        count = resend_failed_mails(run)
        notice = (
            ngettext("%(num)s mail will be sent again.", "%(num)s mails will be sent again.", count)
            if count
            else _("No failed mails to send.")
        )
    except queue.QueueUnavailable:
        notice = _(
            "The background queue is unavailable, so no mail was sent: try again in a moment."
        )
    if htmx.is_htmx():
        return render_template(
            "imports/_mail_delivery.html", run=run, delivery=mail_delivery(run), notice=notice
        )
    flash(notice, "info")
    return redirect(url_for(".detail", public_id=run.public_id))


def _progress(run: ImportRun) -> dict:
    """How far a running import has got, or what a queued one waits for."""
    queued = run.status == ImportStatus.QUEUED
    return {
        "progress": progress.read("import", run.id),
        "waits_for": import_waits_for(run) if queued else "",
    }


def _outcome(run: ImportRun) -> dict:
    done = run.status == ImportStatus.DONE
    return {
        "counts": summary.import_counts(run) if done else None,
        "labels": LABELS,
        "rows": summary.outcome_rows(run),
        "delivery": mail_delivery(run) if run.is_finished else None,
        "levels": chosen_level_names(run),
        **_progress(run),
    }


@bp.get("")
def index():
    """The history: every admin's imports, newest first."""
    names = {level.id: level.name for level in all_levels()}
    return render_template("imports/index.html", runs=summary.recent_imports(), level_names=names)
