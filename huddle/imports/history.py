"""After the wizard: an import's own page (its progress, its outcome, its mails) and the
history of imports."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from htmx_flask import make_response
from sqlalchemy import select

from .. import progress, queue
from ..extensions import db
from ..i18n import ngettext
from ..importing import wizard
from ..importing.delivery import mail_delivery, resend_failed_mails
from ..importing.staging import chosen_level_names
from ..levels.service import all_levels
from ..models import ImportRow, ImportRun, ImportStatus, RowAction
from . import bp
from .views import run_or_404


@bp.get("/<public_id>")
def detail(public_id: str):
    run = run_or_404(public_id)
    wizard.notice_lost_job(run)
    if run.status == ImportStatus.DRAFT:
        return redirect(url_for(".check", public_id=run.public_id))
    return render_template("imports/detail.html", run=run, **_outcome(run))


@bp.post("/<public_id>/again")
def start_again(public_id: str):
    """A failed import, started again: it checks the file anew and applies it whole."""
    run = run_or_404(public_id)
    try:
        wizard.start(run, from_status=ImportStatus.FAILED)
    except queue.QueueUnavailable:
        flash(_("The background queue is unavailable: try again in a moment."), "error")
    return redirect(url_for(".detail", public_id=run.public_id))


@bp.get("/<public_id>/progress")
def progress_part(public_id: str):
    run = run_or_404(public_id)
    wizard.notice_lost_job(run)
    if run.is_finished and request.htmx:
        # Done: reload the whole page once, to show the outcome.
        return make_response("", refresh=True)
    return render_template(
        "imports/_progress.html", run=run, progress=progress.read("import", run.id)
    )


@bp.get("/<public_id>/delivery")
def mail_delivery_part(public_id: str):
    run = run_or_404(public_id)
    return render_template("imports/_mail_delivery.html", run=run, delivery=mail_delivery(run))


@bp.post("/<public_id>/delivery/resend")
def resend_mails(public_id: str):
    """The mails that failed after every try, queued once more (when the admin has fixed
    the mail server, or the recipient's address)."""
    run = run_or_404(public_id)
    notice = None
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
    if request.htmx:
        return render_template(
            "imports/_mail_delivery.html", run=run, delivery=mail_delivery(run), notice=notice
        )
    flash(notice, "info")
    return redirect(url_for(".detail", public_id=run.public_id))


def _outcome(run: ImportRun) -> dict:
    rows = []
    if run.status == ImportStatus.DONE:
        rows = db.session.scalars(
            select(ImportRow)
            .where(
                ImportRow.import_id == run.id,
                ImportRow.action.in_([RowAction.SKIP.value, RowAction.UPDATE.value]),
            )
            .order_by(ImportRow.line)
            .limit(500)
        ).all()
    return {
        "rows": rows,
        "delivery": mail_delivery(run) if run.is_finished else None,
        "levels": chosen_level_names(run),
        "progress": progress.read("import", run.id),
    }


@bp.get("")
def index():
    runs = db.session.scalars(
        select(ImportRun).order_by(ImportRun.created_at.desc()).limit(200)
    ).all()
    names = {level.id: level.name for level in all_levels()}
    return render_template("imports/index.html", runs=runs, level_names=names)
