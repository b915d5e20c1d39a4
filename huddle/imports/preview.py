"""The preview: every row of an import checked and planned before anything is imported, kept
page by page for the admin, with their fixes checked again as they make them.

The preview is advice: the import checks everything again when it runs (applying.py).
"""

from __future__ import annotations

import json
from collections import Counter

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import delete, func, select

from ..extensions import db
from ..models import ImportRow, ImportRun, ImportStatus, utcnow
from ..pipeline.columns import TEMPLATE_COLUMNS
from ..pipeline.duplicates import mark_duplicates
from ..pipeline.planning import RowAction, RowPlan, plan_row
from ..pipeline.problems import FileProblem
from ..pipeline.reading import ReadOptions, SourceRow, open_table, read_choices
from ..pipeline.validating import CheckedRow, validate_row
from ..pipeline.writing import csv_text
from . import batches
from .created import created_count
from .lookups import chosen_level_names, known_levels, load_existing, stored_lines

PREVIEW_TABS = {
    "all": None,
    "invalid": RowAction.SKIP,
    "new": RowAction.CREATE,
    "changes": RowAction.UPDATE,
}


def row_record(import_id: int, plan: RowPlan, fixes: dict) -> dict:
    """The ImportRow values for a plan, as Python objects (``batches.row_tuple`` gives them
    ready for a bulk insert)."""
    row = plan.row
    return {
        "import_id": import_id,
        "line": row.line,
        "email": row.user["email"].lower(),
        "values": json.loads(row.cells_as_json()),
        "edited": str(row.line) in fixes,
        "action": plan.action.value,
        "problems": [[problem.column, problem.message] for problem in plan.problems],
        "changes": plan.changes,
        "gains_levels": bool(plan.gained_levels),
    }


def build_preview(run: ImportRun, progress=lambda done: None) -> None:
    """Check the whole file (with the admin's fixes and chosen levels) and store every row's
    plan for the preview, telling ``progress`` the rows done as it goes. A file that cannot
    be read marks the run rejected."""
    db.session.execute(delete(ImportRow).where(ImportRow.import_id == run.id))
    run.checked_at = utcnow()
    try:
        table = open_table(run.file_data, ReadOptions.from_dict(run.read_options))
        run.reading = table.summary()
        setting = batches.Setting.for_run(
            run,
            chosen_level_names(run),
            outcome=False,
            collect_names=not table.encoding_certain,
        )
        earlier_lines = stored_lines(run.id)
        samples, filled = batches.write_all(
            batches.planned_batches(table, setting), setting, earlier_lines, progress
        )
    except FileProblem as problem:
        # Rows stored before a broken line go too: the file is refused as a whole.
        db.session.execute(delete(ImportRow).where(ImportRow.import_id == run.id))
        run.status = ImportStatus.REJECTED
        run.file_error = str(problem)
        run.reading = read_choices(run.file_data)
        if problem.missing:
            run.reading.update(
                missing=problem.missing,
                lacking=problem.lacking,
                columns=problem.columns,
                split=problem.split,
            )
        recount(run)
        return
    run.status = ImportStatus.DRAFT
    run.file_error = ""
    run.reading = {**run.reading, "samples": samples, "filled": sorted(filled)}
    run.encoding = table.encoding
    run.ignored_columns = table.ignored_columns
    run.blank_lines = table.blank_lines
    recount(run)


def recount(run: ImportRun) -> None:
    """Set the run's totals from its stored rows."""
    counts = Counter(
        dict(
            db.session.execute(
                select(ImportRow.action, func.count())
                .where(ImportRow.import_id == run.id)
                .group_by(ImportRow.action)
            ).all()
        )
    )
    counts[RowAction.CREATE] += created_count(run.id)
    run.new_count = counts[RowAction.CREATE]
    run.update_count = counts[RowAction.UPDATE]
    run.unchanged_count = counts[RowAction.UNCHANGED]
    run.invalid_count = counts[RowAction.SKIP]
    run.rows_total = sum(counts.values())


def fix_cell(run: ImportRun, line: int, column: str, value: str) -> ImportRow | None:
    """The admin corrects one cell in the preview: remember it, check that row again (and the
    rows that shared its old or new address), update the totals."""
    row = db.session.get(ImportRow, (run.id, line))
    if row is None or column not in TEMPLATE_COLUMNS:
        return None
    fixes = dict(run.fixes)
    fixes[str(line)] = {**fixes.get(str(line), {}), column: value}
    run.fixes = fixes
    old_email = row.email
    row.values = {**row.values, column: value}
    db.session.flush()
    new_email = value.strip().lower() if column == "email" else old_email
    _recheck(run, {old_email, new_email} - {""}, always=line)
    recount(run)
    db.session.commit()
    return db.session.get(ImportRow, (run.id, line))


def _recheck(run: ImportRun, emails: set[str], always: int) -> None:
    """Validate and plan again the row on line ``always`` and every row with one of ``emails``,
    so that duplicates appear and disappear together."""
    rows = db.session.scalars(
        select(ImportRow)
        .where(
            ImportRow.import_id == run.id,
            (ImportRow.line == always) | ImportRow.email.in_(list(emails)),
        )
        .order_by(ImportRow.line)
    ).all()
    levels = known_levels()
    # The only whole-row problem is "more cells than columns"; an edit in the preview cannot
    # remove cells from the file, so it stays.
    sources = [
        SourceRow(r.line, dict(r.values), int(any(not column for column, _ in r.problems)))
        for r in rows
    ]
    smtputf8 = current_app.config["MAIL_SMTPUTF8"]
    checked: list[CheckedRow] = list(
        mark_duplicates(validate_row(s, levels, smtputf8=smtputf8) for s in sources)
    )
    existing = load_existing(c.email for c in checked if c.valid)
    chosen = chosen_level_names(run)
    for stored, check in zip(rows, checked, strict=True):
        record = row_record(run.id, plan_row(check, existing.get(check.email), chosen), run.fixes)
        for key in ("email", "action", "problems", "changes", "gains_levels", "edited"):
            setattr(stored, key, record[key])


def table_columns(run: ImportRun) -> tuple[list[str], list[str]]:
    """The columns of the preview's table: the address and every column some row fills,
    in template order; and the columns empty in every row, which it leaves out (so that an
    unused template column takes no room)."""
    filled = run.reading.get("filled")
    if filled is None:  # checked by an older version
        return list(TEMPLATE_COLUMNS), []
    shown = [column for column in TEMPLATE_COLUMNS if column == "email" or column in filled]
    return shown, [column for column in TEMPLATE_COLUMNS if column not in shown]


def preview_rows(run: ImportRun, tab: str, page: int, per_page: int = 50):
    """One page of the preview: (rows, number of rows in this tab)."""
    action = PREVIEW_TABS.get(tab)
    conditions = [ImportRow.import_id == run.id]
    if action is not None:
        conditions.append(ImportRow.action == action.value)
    total = db.session.scalar(select(func.count()).select_from(ImportRow).where(*conditions))
    rows = db.session.scalars(
        select(ImportRow)
        .where(*conditions)
        .order_by(ImportRow.line)
        .limit(per_page)
        .offset((max(page, 1) - 1) * per_page)
    ).all()
    return rows, total


def problem_rows_csv(run: ImportRun) -> str:
    """The rows that will be skipped, as a template file with an extra "error" column: fix them
    in Excel and upload this file again."""
    rows = db.session.scalars(
        select(ImportRow)
        .where(ImportRow.import_id == run.id, ImportRow.action == RowAction.SKIP.value)
        .order_by(ImportRow.line)
    )
    return csv_text(
        (
            [*(row.values.get(column, "") for column in TEMPLATE_COLUMNS), _error_text(row)]
            for row in rows
        ),
        header=[*TEMPLATE_COLUMNS, "error"],
    )


def _error_text(row: ImportRow) -> str:
    parts = [f"{column}: {message}" if column else message for column, message in row.problems]
    return _("Line %(line)s: %(problems)s", line=row.line, problems=" | ".join(parts))
