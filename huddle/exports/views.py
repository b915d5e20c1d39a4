"""Exports on the web: asking for one from Users > Manage (its status polled in place), the
admin's list of exports, and the file's download, from the list or from the mail's link."""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from .. import htmx, progress, queue
from ..extensions import db
from ..i18n import ngettext
from ..models import Export, ExportFormat, ExportStatus
from ..pipeline.writing import MEDIA_TYPES
from ..users.listing import UserQuery
from ..waiting import export_waits_for
from .selection import SelectionError, describe_selection, matching, ticked
from .service import (
    ExportLinkError,
    expires_at,
    export_for_token,
    exports_of,
    keep_days,
    start_export,
)
from .storage import iter_file

bp = Blueprint("exports", __name__, url_prefix="/exports")


def _own_export_or_404(public_id: str) -> Export:
    """The current admin's export: an export's file is for the admin who made it."""
    export = db.session.scalar(
        select(Export).where(Export.public_id == public_id, Export.created_by_id == current_user.id)
    )
    return export or abort(404)


def _status(export: Export, status: int = 200, **context):
    return (
        render_template(
            "exports/_export_status.html",
            export=export,
            progress=progress.read("export", export.id) if export else None,
            waits_for=export_waits_for(export) if export and export.status == "queued" else "",
            **context,
        ),
        status,
    )


def _refused(message: str, status: int):
    if htmx.is_htmx():
        return _status(None, status, error=message)
    flash(message, "error")
    return redirect(url_for("users.manage"))


@bp.post("")
def create():
    """Export the users ticked (``scope=ticked``, ``user_ids``) or everyone matching the
    search and level filter (``scope=matching``, ``q``, ``level``)."""
    fmt = request.form.get("format", ExportFormat.CSV.value)
    if fmt not in tuple(ExportFormat):
        return _refused(_("Choose CSV or Excel (.xlsx) as the format."), 422)
    try:
        if request.form.get("scope") == "matching":
            selection = matching(UserQuery.from_args(request.form))
        else:
            selection = ticked(request.form.getlist("user_ids"))
    except SelectionError as problem:
        return _refused(str(problem), 422)
    try:
        export = start_export(current_user, selection, fmt)
    except queue.QueueUnavailable:
        return _refused(
            _(
                "The background queue is unavailable, so nothing was exported. Try again in a "
                "moment."
            ),
            503,
        )
    if htmx.is_htmx():
        return _status(export, started=True)
    flash(
        ngettext(
            "The export of %(num)s user is being prepared; you will receive it by e-mail.",
            "The export of %(num)s users is being prepared; you will receive it by e-mail.",
            export.expected_count,
        ),
        "success",
    )
    return redirect(url_for(".index"))


@bp.get("/<public_id>/status")
def status(public_id: str):
    """The export's progress, or its download once it is done (polled by htmx)."""
    return _status(_own_export_or_404(public_id))


@bp.get("")
def index():
    """The admin's own exports, newest first, while their files are kept."""
    exports = exports_of(current_user)
    running = {e.id: progress.read("export", e.id) for e in exports if not e.is_finished}
    return render_template(
        "exports/index.html",
        exports=exports,
        running=running,
        expires_at=expires_at,
        keep_days=keep_days(),
        describe=describe_selection,
    )


def _file_response(export: Export) -> Response:
    response = Response(
        stream_with_context(iter_file(export.id)), mimetype=MEDIA_TYPES[export.format]
    )
    response.headers["Content-Disposition"] = f'attachment; filename="{export.filename}"'
    response.headers["Content-Length"] = str(export.file_size)
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/<public_id>/download")
def download(public_id: str):
    """The file of one of the admin's own exports."""
    export = _own_export_or_404(public_id)
    if export.status != ExportStatus.DONE:
        message = (
            _("This export's file has been deleted. Make a new export on Users › Manage.")
            if export.status == ExportStatus.EXPIRED
            else _("This export has no file (yet): see its status on the Exports page.")
        )
        return render_template("error.html", title=_("No file to download"), message=message), 410
    return _file_response(export)


@bp.get("/link/<token>")
def link(token: str):
    """The link in the export mail: signed, expiring, and (like every page here) only for a
    logged-in admin."""
    try:
        export = export_for_token(token)
    except ExportLinkError as problem:
        status = 404 if problem.code == "invalid" else 410
        title = _("Download link not valid") if status == 404 else _("Download link expired")
        return render_template("error.html", title=title, message=problem.message), status
    return _file_response(export)
