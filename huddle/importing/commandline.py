"""``flask users import``: the wizard's pipeline and the job's code, run in this process.

The report is the JSON contract of DESIGN §5: status, file_error, summary and one entry per
row with its line, address, action and errors.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TextIO

import click
from sqlalchemy import select

from .. import queue
from ..csvio.reading import FileProblem, open_table
from ..extensions import db
from ..models import ImportFile, ImportRow, ImportRun, ImportStatus, Level, RowAction
from . import applying
from .planning import iter_plans


def print_progress(done: int) -> None:
    click.echo(f"\r{done:,} rows done", nl=False, err=True)


@dataclass
class Report:
    """What ``users import`` prints; ``rows()`` yields (line, email, action, problems) lazily,
    so that a million-row report is written as it is read."""

    status: str
    file_error: str | None
    summary: dict
    blank_lines: int = 0
    rows: Callable[[], Iterable[tuple]] = lambda: ()
    read_as: str = ""  # how the file was read, for the text report


def import_file(
    data: bytes,
    *,
    filename: str,
    levels: list[Level],
    notify_new: bool,
    notify_existing: bool,
    dry_run: bool,
    progress=None,
) -> Report:
    """Check (and unless ``dry_run``, apply) a file; returns the report."""
    if dry_run:
        return _dry_run(data, [level.name for level in levels])
    run = ImportRun(
        filename=filename,
        file=ImportFile(data=data),
        file_size=len(data),
        source="cli",
        level_ids=[level.id for level in levels],
        notify_new=notify_new,
        notify_existing=notify_existing,
        fixes={},
        ignored_columns=[],
    )
    db.session.add(run)
    db.session.commit()
    try:
        read_as = open_table(data).described()
    except FileProblem as problem:
        run.status = ImportStatus.REJECTED
        run.file_error = str(problem)
        db.session.commit()
        return _rejected(problem)
    run = applying.apply_import(run, progress)
    if progress:
        click.echo("", err=True)
    if run.status == ImportStatus.FAILED:
        raise click.ClickException(run.error)
    if notify_new or notify_existing:
        try:
            _queue_mails(run.id)
        except queue.QueueUnavailable:
            click.echo("Mails could not be queued: the background queue is unreachable.", err=True)
    summary = {
        "rows": run.rows_total,
        "new": run.new_count,
        "existing": run.update_count + run.unchanged_count,
        "invalid": run.invalid_count,
    }
    stored = (
        select(ImportRow.line, ImportRow.email, ImportRow.action, ImportRow.problems)
        .where(ImportRow.import_id == run.id)
        .order_by(ImportRow.line)
        .execution_options(yield_per=5000)
    )

    def rows():
        return db.session.execute(stored)

    return Report("ok", None, summary, run.blank_lines, rows, read_as)


def _queue_mails(import_id: int):
    from ..jobs import queue_import_mails

    return queue_import_mails(import_id)


def _dry_run(data: bytes, chosen: list[str]) -> Report:
    try:
        table = open_table(data)
        rows = [
            (plan.row.line, plan.row.user["email"].lower(), plan.action.value, _problems(plan.row))
            for plans in iter_plans(table, {}, chosen)
            for plan in plans
        ]
    except FileProblem as problem:  # the header, or a broken line further down
        return _rejected(problem)
    counts = Counter(action for _, _, action, _ in rows)
    summary = {
        "rows": len(rows),
        "new": counts[RowAction.CREATE],
        "existing": counts[RowAction.UPDATE] + counts[RowAction.UNCHANGED],
        "invalid": counts[RowAction.SKIP],
    }
    return Report("ok", None, summary, table.blank_lines, lambda: rows, table.described())


def _problems(row) -> list[list[str]]:
    return [[problem.column, problem.message] for problem in row.problems]


def _rejected(problem: FileProblem) -> Report:
    return Report("rejected", str(problem), {"rows": 0, "new": 0, "existing": 0, "invalid": 0})


def write_json(report: Report, out: TextIO) -> None:
    """The JSON object of DESIGN §5, written row by row."""
    head = {"status": report.status, "file_error": report.file_error, "summary": report.summary}
    out.write(json.dumps(head, ensure_ascii=False)[:-1] + ', "rows": [')
    for index, (line, email, action, problems) in enumerate(report.rows()):
        row = {
            "line": line,
            "email": email,
            "action": action,
            "errors": [{"column": column, "message": message} for column, message in problems],
        }
        out.write(("" if index == 0 else ", ") + json.dumps(row, ensure_ascii=False))
    out.write("]}\n")


def write_text(report: Report, dry_run: bool, out: TextIO) -> None:
    if report.status == "rejected":
        out.write(f"The file was not imported. {report.file_error}\n")
        return
    summary = report.summary
    if report.read_as:
        out.write(f"Read as: {report.read_as}.\n")
    out.write(
        f"{summary['rows']:,} rows: {summary['new']:,} new, {summary['existing']:,} existing, "
        f"{summary['invalid']:,} invalid (skipped); {report.blank_lines} blank lines.\n"
    )
    for line, _email, _action, problems in report.rows():
        for column, message in problems:
            where = f", {column}" if column else ""
            out.write(f"  line {line}{where}: {message}\n")
    out.write("Dry run: nothing was changed.\n" if dry_run else "Imported.\n")
