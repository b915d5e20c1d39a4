"""Before the import: store the upload, check every row, and keep the result for the preview.

The preview is advice: the import job checks everything again when it runs (applying.py).
"""

from __future__ import annotations

import json
import re
from collections import Counter

from flask_babel import gettext as _
from sqlalchemy import delete, func, select

from ..csvio.columns import TEMPLATE_COLUMNS
from ..csvio.reading import FileProblem, ReadOptions, SourceRow, open_table, read_choices
from ..csvio.validating import CheckedRow, mark_duplicates, validate_row
from ..csvio.writing import csv_text
from ..extensions import db
from ..models import (
    ColumnAlias,
    ImportFile,
    ImportRow,
    ImportRun,
    ImportStatus,
    Level,
    RowAction,
    User,
)
from . import batches
from .bulk import refresh_statistics, select_in
from .planning import RowPlan, known_levels, load_existing, plan_row

PREVIEW_TABS = {
    "all": None,
    "invalid": RowAction.SKIP,
    "new": RowAction.CREATE,
    "changes": RowAction.UPDATE,
}


def create_run(filename: str, data: bytes, *, admin: User | None, source: str = "web") -> ImportRun:
    """Store an upload as a new draft import and check it; returns the run (maybe rejected)."""
    aliases = {}
    if admin is not None:
        # The admin's own column titles, from their earlier imports.
        aliases = dict(
            db.session.execute(
                select(ColumnAlias.title, ColumnAlias.column).where(
                    ColumnAlias.admin_id == admin.id
                )
            ).all()
        )
    run = ImportRun(
        read_options={"aliases": aliases} if aliases else {},
        # Only the name: a browser may send a path, and a hostile one "../../x.csv".
        filename=re.split(r"[\\/]", filename)[-1].strip()[:255] or "upload.csv",
        file=ImportFile(data=data),
        file_size=len(data),
        created_by_id=admin.id if admin else None,
        source=source,
        fixes={},
        level_ids=[],
        ignored_columns=[],
    )
    db.session.add(run)
    db.session.flush()
    stage(run)
    db.session.commit()
    return run


def chosen_level_names(run: ImportRun) -> list[str]:
    if not run.level_ids:
        return []
    levels = db.session.scalars(select(Level).where(Level.id.in_(run.level_ids)))
    return sorted(level.name for level in levels)


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
        "problems": [[problem.column, problem.message] for problem in row.problems],
        "changes": plan.changes,
        "gains_levels": bool(plan.gained_levels),
    }


def stage(run: ImportRun) -> None:
    """Check the whole file (with the admin's fixes and chosen levels) and store every row's
    plan for the preview. A file that cannot be read marks the run rejected."""
    db.session.execute(delete(ImportRow).where(ImportRow.import_id == run.id))
    try:
        table = open_table(run.file_data, ReadOptions.from_dict(run.read_options))
        run.reading = table.summary()
        setting = batches.Setting.for_run(
            run,
            chosen_level_names(run),
            outcome=False,
            collect_names=not table.encoding_certain,
        )
        earlier_lines = stored_lines(run.id, refresh_statistics_as_rows_grow=True)
        samples = batches.write_all(batches.planned_batches(table, setting), setting, earlier_lines)
    except FileProblem as problem:
        # Rows stored before a broken line go too: the file is refused as a whole.
        db.session.execute(delete(ImportRow).where(ImportRow.import_id == run.id))
        run.status = ImportStatus.REJECTED
        run.file_error = str(problem)
        run.reading = read_choices(run.file_data)
        if problem.missing:
            run.reading.update(missing=problem.missing, columns=problem.columns)
        recount(run)
        return
    run.status = ImportStatus.DRAFT
    run.file_error = ""
    run.reading = {**run.reading, "samples": samples}
    run.encoding = table.encoding
    run.ignored_columns = table.ignored_columns
    run.blank_lines = table.blank_lines
    recount(run)


def stored_lines(import_id: int, *, refresh_statistics_as_rows_grow: bool = False):
    """Where addresses were in the rows of this import stored so far (for finding an address
    used twice): a function from addresses to their first line."""
    query = f"SELECT email, line FROM import_rows WHERE import_id = {int(import_id)} AND email IN"
    lookups = 0

    def lookup(emails: list[str]) -> dict[str, int]:
        nonlocal lookups
        lookups += 1
        if refresh_statistics_as_rows_grow and lookups in (5, 50, 500):
            # PostgreSQL plans by its statistics, which do not yet know the rows this
            # transaction stored: it would scan them all for every batch (50,000 rows: 26 s
            # instead of 0.3). SQLite prefers the index without being told. Only while
            # staging: ANALYZE holds a lock to the end of the transaction, and two imports
            # applying at once, each waiting on the other's new addresses, would deadlock.
            refresh_statistics(ImportRow.__table__)
        first: dict[str, int] = {}
        for email, line in select_in(query, emails):
            if line < first.get(email, line + 1):
                first[email] = line
        return first

    return lookup


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
    checked: list[CheckedRow] = list(mark_duplicates(validate_row(s, levels) for s in sources))
    existing = load_existing(c.email for c in checked if c.valid)
    chosen = chosen_level_names(run)
    for stored, check in zip(rows, checked, strict=True):
        record = row_record(run.id, plan_row(check, existing.get(check.email), chosen), run.fixes)
        for key in ("email", "action", "problems", "changes", "gains_levels", "edited"):
            setattr(stored, key, record[key])


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
