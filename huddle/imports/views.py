from __future__ import annotations

import io
import re
from functools import wraps

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from htmx_flask import make_response
from sqlalchemy import select

from .. import queue
from ..csvio.columns import LABELS, REQUIRED_COLUMNS, TEMPLATE_COLUMNS, TEMPLATE_TITLES
from ..csvio.encodings import ENCODINGS
from ..csvio.reading import SEPARATORS, ReadOptions
from ..csvio.writing import template_csv
from ..csvio.xlsx import write_xlsx
from ..exporting.running import MEDIA_TYPES
from ..extensions import db
from ..i18n import in_language, language_of
from ..importing import create_run, fix_cell, preview_rows, problem_rows_csv, stage, wizard
from ..importing.staging import PREVIEW_TABS, chosen_level_names
from ..levels.service import levels_with_counts
from ..mailing import external_url
from ..models import ImportRun, ImportStatus, User
from . import bp
from .forms import MailOptionsForm, UploadForm

PER_PAGE = 50


def run_or_404(public_id: str) -> ImportRun:
    run = db.session.scalar(select(ImportRun).where(ImportRun.public_id == public_id))
    return run or abort(404)


def draft_step(view):
    """For the wizard's steps: the view gets the draft import; once the import has started,
    every step sends the admin to the import's own page instead."""

    @wraps(view)
    def wrapper(public_id: str, **kwargs):
        run = run_or_404(public_id)
        if run.status not in (ImportStatus.DRAFT, ImportStatus.REJECTED):
            return _go(url_for(".detail", public_id=run.public_id))
        return view(run, **kwargs)

    return wrapper


def _go(url: str):
    """Move to another step: an htmx swap keeps the dialog, a plain request redirects."""
    if request.htmx:
        return make_response("", location={"path": url, "target": "#wizard", "swap": "outerHTML"})
    return redirect(url)


def _step(template: str, step: str, status: int = 200, **context):
    """A wizard step: only the step when htmx asks, else the step on a page of its own."""
    context.update(step=step, steps=wizard.STEPS)
    if request.htmx and not request.htmx.history_restore_request:
        return render_template(f"imports/{template}", **context), status
    return render_template("imports/step_page.html", step_template=template, **context), status


def _template_language() -> str:
    """The template's titles: in the language asked for (?lang=nl), else the page's."""
    language = request.args.get("lang") or str(get_locale())
    return language if language in TEMPLATE_TITLES else "en"


@bp.get("/template.csv")
def template():
    return Response(
        template_csv(_template_language()),
        mimetype="text/csv",
        headers={"Content-Disposition": 'attachment; filename="huddle-users-template.csv"'},
    )


@bp.get("/template.xlsx")
def template_xlsx():
    out = io.BytesIO()
    write_xlsx([], out, header=TEMPLATE_TITLES[_template_language()])
    return Response(
        out.getvalue(),
        mimetype=MEDIA_TYPES["xlsx"],
        headers={"Content-Disposition": 'attachment; filename="huddle-users-template.xlsx"'},
    )


@bp.get("/new")
def new():
    return _step("_step_template.html", "template", columns=TEMPLATE_COLUMNS)


@bp.route("/new/upload", methods=["GET", "POST"])
def upload():
    form = UploadForm()
    if form.validate_on_submit():
        upload = form.file.data
        run = create_run(upload.filename or "upload.csv", upload.read(), admin=current_user)
        return _go(url_for(".check", public_id=run.public_id))
    return _step("_step_upload.html", "upload", 422 if form.errors else 200, form=form, run=None)


@bp.route("/<public_id>/check", methods=["GET", "POST"])
@draft_step
def check(run: ImportRun):
    """Step 2 with a file: the preview (or why the file cannot be read), and a new upload."""
    form = UploadForm()
    if form.validate_on_submit():
        # Another file for the same import: the levels and mail options stay.
        upload = form.file.data
        replacement = create_run(upload.filename or "upload.csv", upload.read(), admin=current_user)
        replacement.level_ids = run.level_ids
        replacement.notify_new, replacement.notify_existing = run.notify_new, run.notify_existing
        db.session.delete(run)
        wizard.set_levels(replacement, replacement.level_ids)
        return _go(url_for(".check", public_id=replacement.public_id))
    return _step("_step_upload.html", "upload", form=form, run=run, **_preview(run))


@bp.post("/<public_id>/read-as")
@draft_step
def read_as(run: ImportRun):
    """The admin's choice of encoding, separator or sheet: read and check the file again."""
    chosen = ReadOptions.from_dict(request.form.to_dict())
    if chosen.encoding not in (None, *ENCODINGS):
        abort(400)
    run.read_options = chosen.to_dict()
    stage(run)
    db.session.commit()
    return _go(url_for(".check", public_id=run.public_id))


@bp.post("/<public_id>/columns")
@draft_step
def map_columns(run: ImportRun):
    """The mapping step: which of the file's columns hold the required ones."""
    chosen = {column: request.form.get(f"map-{column}", "") for column in REQUIRED_COLUMNS}
    problems = wizard.map_columns(run, current_user, chosen)
    if problems:
        return _step(
            "_step_upload.html",
            "upload",
            422,
            form=UploadForm(),
            run=run,
            mapping_problems=problems,
            mapping_chosen=chosen,
            **_preview(run),
        )
    return _go(url_for(".check", public_id=run.public_id))


def _preview(run: ImportRun) -> dict:
    tab = request.args.get("tab", "all")
    tab = tab if tab in PREVIEW_TABS else "all"
    page = max(request.args.get("page", 1, type=int), 1)
    rows, total = preview_rows(run, tab, page, PER_PAGE)
    return {
        "tab": tab,
        "page": page,
        "pages": max((total + PER_PAGE - 1) // PER_PAGE, 1),
        "rows": rows,
        "columns": TEMPLATE_COLUMNS,
        "read_choices": {"encodings": ENCODINGS, "separators": SEPARATORS},
        "labels": LABELS,
    }


@bp.get("/<public_id>/rows")
def rows(public_id: str):
    run = run_or_404(public_id)
    return render_template("imports/_preview_table.html", run=run, **_preview(run))


@bp.post("/<public_id>/rows/<int:line>")
@draft_step
def fix(run: ImportRun, line: int):
    """Fix in place: one cell of one row, checked again at once."""
    column = request.form.get("column", "")
    row = fix_cell(run, line, column, request.form.get("value", "")[:1000])
    if row is None:
        abort(404)
    tab = request.form.get("tab", "all")
    return render_template(
        "imports/_fixed_row.html", run=run, row=row, columns=TEMPLATE_COLUMNS, focus=column, tab=tab
    )


@bp.get("/<public_id>/problems.csv")
def problems(public_id: str):
    run = run_or_404(public_id)
    # The name comes from the admin's upload: keep only characters safe in a header.
    name = re.sub(r"[^\w.-]+", "_", run.filename.rsplit(".", 1)[0])[:80] or "import"
    return Response(
        problem_rows_csv(run),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}-problem-rows.csv"'},
    )


@bp.route("/<public_id>/levels", methods=["GET", "POST"])
@draft_step
def levels(run: ImportRun):
    form = FlaskForm()
    if form.validate_on_submit():
        ids = [int(value) for value in request.form.getlist("level_ids") if value.isdigit()]
        wizard.set_levels(run, ids)
        return _go(url_for(".mails", public_id=run.public_id))
    return _step("_step_levels.html", "levels", form=form, run=run, levels=levels_with_counts())


@bp.route("/<public_id>/mails", methods=["GET", "POST"])
@draft_step
def mails(run: ImportRun):
    form = MailOptionsForm(obj=run)
    if form.validate_on_submit():
        wizard.set_mail_options(
            run, notify_new=form.notify_new.data, notify_existing=form.notify_existing.data
        )
        return _go(url_for(".confirm", public_id=run.public_id))
    return _step("_step_mails.html", "mails", form=form, run=run, samples=_sample_mails(run))


def _sample_mails(run: ImportRun) -> dict:
    """The text of each mail as the first user of the file would get it."""
    row = wizard.first_row(run)
    if row is None:
        return {}
    values = row.values
    person = User(
        email=row.email,
        first_name=values.get("first_name", "").strip(),
        last_name=values.get("last_name", "").strip(),
        language=values.get("language", "").strip(),
    )
    levels = chosen_level_names(run)
    login = external_url("auth.login")
    with in_language(language_of(person)):  # as the user will read them
        return {
            "email": row.email,
            "welcome": render_template(
                "mail/import_welcome.txt",
                user=person,
                link="https://…/set-password/…",
                levels=levels,
            ),
            "updated": render_template(
                "mail/import_updated.txt",
                user=person,
                levels_gained=levels or [_("(the new levels)")],
                login=login,
            ),
        }


@bp.route("/<public_id>/confirm", methods=["GET", "POST"])
@draft_step
def confirm(run: ImportRun):
    form = FlaskForm()
    if form.validate_on_submit():
        try:
            wizard.start(run)
        except queue.QueueUnavailable:
            flash(
                _(
                    "The background queue is unavailable. Your import is saved: try again in "
                    "a moment."
                ),
                "error",
            )
            return _step(
                "_step_confirm.html",
                "confirm",
                503,
                form=form,
                run=run,
                sentence=wizard.summary_sentence(run),
            )
        page = url_for(".detail", public_id=run.public_id)
        return make_response("", redirect=page) if request.htmx else redirect(page)
    return _step(
        "_step_confirm.html", "confirm", form=form, run=run, sentence=wizard.summary_sentence(run)
    )


@bp.post("/<public_id>/discard")
@draft_step
def discard(run: ImportRun):
    db.session.delete(run)
    db.session.commit()
    flash(_("The draft import was deleted."), "info")
    return redirect(url_for("users.manage"))
