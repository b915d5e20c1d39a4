"""The import wizard on the web: template, upload & preview, levels, mails, confirm.

Each step is a partial that htmx swaps into the wizard (``_wizard.html``), or the same partial
on a page of its own for a plain request. The views only read the request, call a service
(``drafts``, ``preview``, ``summary``) and render.
"""

from __future__ import annotations

import io
import re
from functools import wraps

from flask import Blueprint, Response, abort, flash, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select

from .. import htmx, mail, progress, queue
from ..bounds import MAX_PAGE, int_arg, is_id
from ..extensions import db
from ..i18n import LANGUAGES, in_language, language_of
from ..levels.service import levels_with_counts
from ..models import ImportRun, ImportStatus
from ..pipeline.columns import (
    FULL_NAME,
    IGNORE,
    LABELS,
    NEW_USER_COLUMNS,
    REQUIRED_COLUMNS,
    TEMPLATE_COLUMNS,
    TEMPLATE_TITLES,
)
from ..pipeline.encodings import ENCODINGS
from ..pipeline.messages import N_
from ..pipeline.reading import SEPARATORS, ReadOptions, describe_reading, reading_notes
from ..pipeline.writing import MEDIA_TYPES, template_csv
from ..pipeline.xlsx import write_xlsx
from ..tokens import external_url
from ..waiting import import_waits_for
from . import drafts, summary
from .forms import MailOptionsForm, UploadForm
from .lookups import chosen_level_names, mail_language
from .preview import PREVIEW_TABS, fix_cell, preview_rows, problem_rows_csv, table_columns

bp = Blueprint("imports", __name__, url_prefix="/imports")
# Pages and the report mail say in words, in their own language, what an import does.
bp.add_app_template_global(summary.existing_parts, "existing_parts")
bp.add_app_template_global(describe_reading, "describe_reading")
bp.add_app_template_global(reading_notes, "reading_notes")


STEPS = ("template", "preview", "levels", "mails", "confirm")
PER_PAGE = 50


def import_or_404(public_id: str) -> ImportRun:
    """The import with this public id, or a 404."""
    run = db.session.scalar(select(ImportRun).where(ImportRun.public_id == public_id))
    return run or abort(404)


def readable_import(public_id: str) -> ImportRun:
    """The import with this public id (a 404 when there is none), unless it is another
    admin's draft: its rows are theirs until they start it (a 403 that says whose it is)."""
    run = import_or_404(public_id)
    if _someone_elses_draft(run):
        abort(403, description=_whose(run))
    return run


def _someone_elses_draft(run: ImportRun) -> bool:
    is_draft = run.status in (ImportStatus.DRAFT, ImportStatus.CHECKING, ImportStatus.REJECTED)
    owner = run.created_by_id
    return is_draft and owner is not None and owner != current_user.id


def _whose(run: ImportRun) -> str:
    who = run.created_by.email if run.created_by else ""
    return _(
        "This import of %(file)s is being prepared by %(who)s. Only they can see its rows "
        "and go on with it; once it has started, every admin can follow it under Imports.",
        file=run.filename,
        who=who,
    )


def draft_step(view):
    """For the wizard's steps: the view gets the draft import; once the import has started,
    every step sends the admin to the import's own page instead."""

    @wraps(view)
    def wrapper(public_id: str, **kwargs):
        run = import_or_404(public_id)
        if run.status not in drafts.UNSTARTED:
            return _go(url_for(".detail", public_id=run.public_id))
        if _someone_elses_draft(run):
            abort(403, description=_whose(run))
        if run.status == ImportStatus.CHECKING and request.endpoint != "imports.preview":
            # Nothing to do with its rows until a worker has checked them: the preview page
            # shows how far it got.
            return _go(url_for(".preview", public_id=run.public_id))
        return view(run, **kwargs)

    return wrapper


def _go(url: str):
    """Move to another step: an htmx swap keeps the dialog, a plain request redirects."""
    return htmx.go(url, target="#wizard")


def _step(template: str, step: str, status: int = 200, **context):
    """A wizard step: only the step when htmx asks, else the step on a page of its own."""
    context.update(step=step, steps=STEPS, step_template=template)
    return htmx.fragment_or_page(f"imports/{template}", "imports/step_page.html", status, **context)


def _template_language() -> str:
    """The template's titles: in the language asked for (?lang=nl), else the page's."""
    language = request.args.get("lang") or str(get_locale())
    return language if language in TEMPLATE_TITLES else "en"


def attachment(body, media_type: str, filename: str) -> Response:
    """``body`` as a file to download, named ``filename``."""
    return Response(
        body,
        mimetype=media_type,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@bp.get("/template.csv")
def template():
    """The empty template as a CSV file, titles in the reader's language (or ?lang=)."""
    csv = template_csv(_template_language())
    return attachment(csv, "text/csv", "huddle-users-template.csv")


@bp.get("/template.xlsx")
def template_xlsx():
    """The empty template as an Excel workbook."""
    out = io.BytesIO()
    write_xlsx([], out, header=TEMPLATE_TITLES[_template_language()])
    return attachment(out.getvalue(), MEDIA_TYPES["xlsx"], "huddle-users-template.xlsx")


@bp.get("/new")
def new():
    """Step 1: the template."""
    return _step("_step_template.html", "template", columns=TEMPLATE_COLUMNS)


@bp.route("/new/upload", methods=["GET", "POST"])
def upload():
    """Step 2 without a file yet: the upload form; a file sent becomes a draft import."""
    form = UploadForm()
    if form.validate_on_submit():
        upload = form.file.data
        run = drafts.create_draft(
            upload.filename or "upload.csv", upload.read(), admin=current_user
        )
        return _go(url_for(".preview", public_id=run.public_id))
    status = 422 if form.errors else 200
    return _step("_step_preview.html", "preview", status, form=form, run=None)


@bp.route("/<public_id>/check", methods=["GET", "POST"])
@draft_step
def preview(run: ImportRun):
    """Step 2 with a file: the preview (or why the file cannot be read), and a new upload."""
    form = UploadForm()
    if form.validate_on_submit():
        # Another file for the same import: the levels and mail options stay.
        upload = form.file.data
        name = upload.filename or "upload.csv"
        replacement = drafts.replace_file(run, name, upload.read(), admin=current_user)
        return _go(url_for(".preview", public_id=replacement.public_id))
    drafts.notice_stopped_check(run)
    drafts.recheck_if_stale(run)  # a draft reopened later shows today's counts
    context = _checking(run) if run.status == ImportStatus.CHECKING else _preview(run)
    return _step("_step_preview.html", "preview", form=form, run=run, **context)


@bp.get("/<public_id>/checking")
def checking(public_id: str):
    """How far a worker has got checking a large file (polled by htmx); once it is done,
    the page reloads to show the preview."""
    run = readable_import(public_id)
    drafts.notice_stopped_check(run)
    if run.status != ImportStatus.CHECKING:
        return htmx.reload_page()
    return render_template("imports/_checking.html", run=run, **_checking(run))


def _checking(run: ImportRun) -> dict:
    return {"progress": progress.read("check", run.id), "waits_for": import_waits_for(run)}


@bp.post("/<public_id>/read-as")
@draft_step
def read_as(run: ImportRun):
    """The admin's choice of encoding, separator or sheet: read and check the file again."""
    chosen = ReadOptions.from_dict(request.form.to_dict())
    if chosen.encoding not in (None, *ENCODINGS):
        abort(400)
    drafts.read_as(run, chosen)
    return _go(url_for(".preview", public_id=run.public_id))


@bp.post("/<public_id>/columns")
@draft_step
def map_columns(run: ImportRun):
    """The mapping step: which of the file's columns hold the required ones (or: split the
    column of whole names)."""
    if "split_name" in request.form:
        if not drafts.split_names(run, current_user, request.form["split_name"]):
            abort(400)
        return _go(url_for(".preview", public_id=run.public_id))
    asked = (*REQUIRED_COLUMNS, *NEW_USER_COLUMNS)
    chosen = {column: request.form.get(f"map-{column}", "") for column in asked}
    problems = drafts.map_columns(run, current_user, chosen)
    if problems:
        return _step(
            "_step_preview.html",
            "preview",
            422,
            form=UploadForm(),
            run=run,
            mapping_problems=problems,
            mapping_chosen=chosen,
            **_preview(run),
        )
    return _go(url_for(".preview", public_id=run.public_id))


# What a column may be used as, in the form for the columns not used: (value, label).
COLUMN_USES = (
    (IGNORE, N_("Leave it out")),
    *((column, LABELS[column]) for column in TEMPLATE_COLUMNS),
    (FULL_NAME, N_("Whole names: split into first name, infix and last name")),
)


@bp.post("/<public_id>/columns/use")
@draft_step
def use_columns(run: ImportRun):
    """What the admin says of the columns we did not use, or used twice."""
    chosen = {
        request.form[key]: request.form.get(f"use-{key.removeprefix('title-')}", "")
        for key in request.form
        if key.startswith("title-")
    }
    if not drafts.use_columns(run, current_user, chosen):
        abort(400)
    return _go(url_for(".preview", public_id=run.public_id))


def _preview(run: ImportRun, *, totals: bool = True) -> dict:
    """What the preview's parts show: the page of rows asked for, its table's columns and
    (unless only the table is wanted) the totals."""
    tab = request.args.get("tab", "all")
    tab = tab if tab in PREVIEW_TABS else "all"
    page = int_arg(request.args, "page", 1, high=MAX_PAGE)
    rows, total = preview_rows(run, tab, page, PER_PAGE)
    return {
        **(_totals(run) if totals else {}),
        "tab": tab,
        "page": page,
        "pages": max((total + PER_PAGE - 1) // PER_PAGE, 1),
        "rows": rows,
        **_table(run),
        "read_choices": {"encodings": ENCODINGS, "separators": SEPARATORS},
        "column_uses": COLUMN_USES,
    }


def _table(run: ImportRun) -> dict:
    """The preview table's columns: shown (headed by the file's own titles) and left out."""
    shown, empty = table_columns(run)
    return {"columns": shown, "empty_columns": [_(LABELS[c]) for c in empty], "labels": LABELS}


def _totals(run: ImportRun) -> dict:
    """What the preview's totals show besides the run: what happens to the existing users."""
    return {"counts": summary.import_counts(run)}


@bp.get("/<public_id>/rows")
def rows(public_id: str):
    """One page of the preview's table, in one tab (htmx swaps it into the preview)."""
    run = readable_import(public_id)
    return render_template("imports/_preview_table.html", run=run, **_preview(run, totals=False))


@bp.post("/<public_id>/rows/<id:line>")
@draft_step
def fix(run: ImportRun, line: int):
    """Fix in place: one cell of one row, checked again at once."""
    column = request.form.get("column", "")
    row = fix_cell(run, line, column, request.form.get("value", "")[:1000])
    if row is None:
        abort(404)
    tab = request.form.get("tab", "all")
    return render_template(
        "imports/_fixed_row.html",
        run=run,
        row=row,
        focus=column,
        tab=tab,
        **_table(run),
        **_totals(run),
    )


@bp.get("/<public_id>/problems.csv")
def problems(public_id: str):
    """The rows that would be skipped, as a file to fix in a spreadsheet and upload again."""
    run = readable_import(public_id)
    return attachment(problem_rows_csv(run), "text/csv", f"{file_stem(run)}-problem-rows.csv")


def file_stem(run: ImportRun) -> str:
    """The uploaded file's name without its extension, for the names of files made from it.
    It comes from the admin's upload: only characters safe in a header are kept."""
    return re.sub(r"[^\w.-]+", "_", run.filename.rsplit(".", 1)[0])[:80] or "import"


@bp.route("/<public_id>/levels", methods=["GET", "POST"])
@draft_step
def levels(run: ImportRun):
    """Step 3: the levels every user of the file gets."""
    form = FlaskForm()
    if form.validate_on_submit():
        ids = [int(value) for value in request.form.getlist("level_ids") if is_id(value)]
        drafts.set_levels(run, ids)
        return _go(url_for(".mails", public_id=run.public_id))
    return _step("_step_levels.html", "levels", form=form, run=run, levels=levels_with_counts())


@bp.route("/<public_id>/mails", methods=["GET", "POST"])
@draft_step
def mails(run: ImportRun):
    """Step 4: which mails go out, with samples as the file's first user would get them."""
    form = MailOptionsForm(obj=run)
    if form.validate_on_submit():
        drafts.set_mail_options(
            run,
            notify_new=form.notify_new.data,
            notify_existing=form.notify_existing.data,
            mail_language=form.mail_language.data,
        )
        return _go(url_for(".confirm", public_id=run.public_id))
    if not form.is_submitted():
        form.mail_language.data = mail_language(run)
    samples = _sample_mails(run, form.mail_language.data)
    return _step("_step_mails.html", "mails", form=form, run=run, samples=samples)


@bp.get("/<public_id>/mails/samples")
@draft_step
def mail_samples(run: ImportRun):
    """The sample mails in the language just chosen (htmx, on change of the choice)."""
    language = request.args.get("mail_language", "")
    if language not in LANGUAGES:
        language = mail_language(run)
    return render_template("imports/_mail_samples.html", samples=_sample_mails(run, language))


def _sample_mails(run: ImportRun, language: str) -> dict:
    """The text of each mail as the first user of the file would get it (in ``language``
    when the file gives them none)."""
    person = summary.first_person(run)
    if person is None:
        return {}
    # Their own language from the file wins over the choice: the page says so.
    own_language = LANGUAGES.get(language_of(person)) if person.language else None
    person.language = person.language or language
    levels = chosen_level_names(run)
    with in_language(language_of(person)):  # as the user will read them
        welcome = mail.welcome_letter(person, link="https://…/set-password/…", levels=levels)
        updated = mail.updated_letter(
            person,
            levels_gained=levels or [_("(the new levels)")],
            login=external_url("auth.login"),
        )
    return {
        "email": person.email,
        "own_language": own_language,
        "welcome": mail.text_of(welcome),
        "updated": mail.text_of(updated),
    }


@bp.route("/<public_id>/confirm", methods=["GET", "POST"])
@draft_step
def confirm(run: ImportRun):
    """Step 5: what the import will do, in one sentence, and Start import."""
    form = FlaskForm()
    status = 200
    stale = request.method == "GET" and drafts.recheck_if_stale(run)
    if stale and run.status != ImportStatus.DRAFT:
        return _go(url_for(".preview", public_id=run.public_id))  # being checked, or refused
    if form.validate_on_submit():
        try:
            drafts.start(run)
        except queue.QueueUnavailable:
            message = _(
                "The background queue is unavailable. Your import is saved: try again in a moment."
            )
            flash(message, "error")
            status = 503
        else:
            return htmx.leave(url_for(".detail", public_id=run.public_id))
    sentence = summary.summary_sentence(run)
    return _step("_step_confirm.html", "confirm", status, form=form, run=run, sentence=sentence)


@bp.post("/<public_id>/discard")
@draft_step
def discard(run: ImportRun):
    """Delete the draft import (its file and preview) and go back to the users."""
    drafts.discard(run)
    flash(_("The draft import was deleted."), "info")
    return htmx.leave(url_for("users.manage"))
