"""``flask users import``: the wizard's pipeline and the job's code, run in this process.

The report is the JSON contract of DESIGN §5: status, file_error, summary and one entry per
row with its line, address, action and errors.
"""

from __future__ import annotations

import json
from collections import Counter

import click
from sqlalchemy import select

from .. import queue
from ..csvio.reading import FileProblem, open_csv
from ..extensions import db
from ..models import ImportRow, ImportRun, ImportStatus, Level, RowAction
from . import applying
from .planning import iter_plans


def print_progress(done: int) -> None:
    click.echo(f"\r{done:,} rows done", nl=False, err=True)


def import_file(
    data: bytes,
    *,
    filename: str,
    levels: list[Level],
    notify_new: bool,
    notify_existing: bool,
    dry_run: bool,
    progress=None,
) -> dict:
    """Check (and unless ``dry_run``, apply) a file; returns the report."""
    if dry_run:
        return _dry_run(data, [level.name for level in levels])
    run = ImportRun(
        filename=filename,
        file_data=data,
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
        open_csv(data)
    except FileProblem as problem:
        run.status = ImportStatus.REJECTED
        run.file_error = str(problem)
        db.session.commit()
        return _report_rejected(problem)
    run = applying.apply_import(run, progress)
    if progress:
        click.echo("", err=True)
    if run.status == ImportStatus.FAILED:
        raise click.ClickException(run.error)
    if notify_new or notify_existing:
        try:
            queue.enqueue(_send_mails_job(), run.id)
        except queue.QueueUnavailable:
            click.echo("Mails could not be queued: the background queue is unreachable.", err=True)
    rows = db.session.execute(
        select(ImportRow.line, ImportRow.email, ImportRow.action, ImportRow.problems)
        .where(ImportRow.import_id == run.id)
        .order_by(ImportRow.line)
    )
    return _report(rows, run.blank_lines)


def _send_mails_job():
    from ..jobs import send_import_mails

    return send_import_mails


def _dry_run(data: bytes, chosen: list[str]) -> dict:
    try:
        table = open_csv(data)
    except FileProblem as problem:
        return _report_rejected(problem)
    rows = (
        (plan.row.line, plan.row.email.lower(), plan.action.value, _problems(plan.row.problems))
        for plans in iter_plans(table, {}, chosen)
        for plan in plans
    )
    report = _report(rows, 0)
    report["blank_lines"] = table.blank_lines
    return report


def _problems(problems) -> list[list[str]]:
    return [[problem.column, problem.message] for problem in problems]


def _report_rejected(problem: FileProblem) -> dict:
    summary = {"rows": 0, "new": 0, "existing": 0, "invalid": 0}
    return {"status": "rejected", "file_error": str(problem), "summary": summary, "rows": []}


def _report(rows, blank_lines: int) -> dict:
    entries = []
    counts: Counter = Counter()
    for line, email, action, problems in rows:
        counts[action] += 1
        entries.append(
            {
                "line": line,
                "email": email,
                "action": action,
                "errors": [{"column": column, "message": message} for column, message in problems],
            }
        )
    summary = {
        "rows": len(entries),
        "new": counts[RowAction.CREATE],
        "existing": counts[RowAction.UPDATE] + counts[RowAction.UNCHANGED],
        "invalid": counts[RowAction.SKIP],
    }
    return {
        "status": "ok",
        "file_error": None,
        "summary": summary,
        "rows": entries,
        "blank_lines": blank_lines,
    }


def as_json(report: dict) -> str:
    contract = {key: report[key] for key in ("status", "file_error", "summary", "rows")}
    return json.dumps(contract, ensure_ascii=False)


def as_text(report: dict, dry_run: bool) -> str:
    if report["status"] == "rejected":
        return f"The file was not imported. {report['file_error']}"
    summary = report["summary"]
    lines = [
        f"{summary['rows']:,} rows: {summary['new']:,} new, {summary['existing']:,} existing, "
        f"{summary['invalid']:,} invalid (skipped); {report.get('blank_lines', 0)} blank lines."
    ]
    for row in report["rows"]:
        for error in row["errors"]:
            where = f", {error['column']}" if error["column"] else ""
            lines.append(f"  line {row['line']}{where}: {error['message']}")
    lines.append("Dry run: nothing was changed." if dry_run else "Imported.")
    return "\n".join(lines)
