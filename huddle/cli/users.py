"""``flask users import`` and ``flask users export``: the wizard's pipeline and the jobs'
code, run in this process, with a report for people or for scripts.

The JSON report is a contract (DESIGN §5): status, file_error, summary and one entry per
row with its line, address, action and errors. A dry run is the wizard's own preview, rolled
back; a real import is the import job's own code.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TextIO

import click
from flask.cli import AppGroup

from .. import queue, search_index
from ..exports.selection import with_levels
from ..exports.service import write_export
from ..extensions import db
from ..i18n import LANGUAGES
from ..imports.applying import apply_import
from ..imports.created import every_row
from ..imports.delivery import queue_import_mails
from ..imports.drafts import create_import
from ..imports.preview import build_preview
from ..imports.summary import import_counts
from ..levels.service import find_level
from ..models import ImportRun, ImportStatus, Level
from ..pipeline.columns import FULL_NAME
from ..pipeline.problems import FileProblem
from ..pipeline.reading import ReadOptions, describe_reading, open_table

users_cli = AppGroup("users", help="Import and export users.")


@users_cli.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--level", "levels", multiple=True, help="Give every imported user this level.")
@click.option("--notify-new", is_flag=True, help="Mail new users a link to set a password.")
@click.option("--notify-existing", is_flag=True, help="Mail existing users who gain levels.")
@click.option("--dry-run", is_flag=True, help="Check the file and report; change nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as one JSON object.")
@click.option(
    "--mail-language",
    type=click.Choice(sorted(LANGUAGES)),
    help="The mails' language for people without one in the file; new users without one "
    "get it too. Without it: Dutch when the file's column titles are Dutch, else English, "
    "and new users are stored as the file has them.",
)
@click.option(
    "--split-name",
    "split_name",
    metavar="COLUMN",
    help="Split the whole names in the column titled COLUMN into first name, infix and last "
    "name (“Jan van der Berg” → Jan | van der | Berg).",
)
@click.option("--sheet", help="The sheet of a workbook to read (else the first with users).")
@click.option(
    "--header-line",
    type=click.IntRange(1, 1_000_000),
    help="The line the column titles are on (else found: the line above the first address).",
)
def users_import(
    path,
    levels,
    notify_new,
    notify_existing,
    dry_run,
    as_json,
    mail_language,
    split_name,
    sheet,
    header_line,
):
    """Import users from a CSV file or an Excel workbook (the template's columns, or titles
    as other systems write them)."""
    chosen = [_level_or_usage_error(name, "Create it with `levels add`.") for name in levels]
    with open(path, "rb") as handle:
        # Read into the stored file, with no name of its own here: once it is committed, only
        # the copy read back from the database is held (a million rows: 80 MB, not twice).
        run = create_import(
            path.rsplit("/", 1)[-1],
            handle.read(),
            admin=None,
            source="cli",
            level_ids=[level.id for level in chosen],
            notify_new=notify_new,
            notify_existing=notify_existing,
            mail_language=mail_language or "",
        )
    chosen_reading = {"sheet": sheet, "header_line": header_line}
    if split_name:
        chosen_reading["aliases"] = {split_name: FULL_NAME}
    run.read_options = ReadOptions.from_dict(chosen_reading).to_dict()
    try:
        if dry_run:
            report = preview_report(run)
        else:
            report = import_report(run, progress=None if as_json else print_progress)
        if as_json:
            write_json(report, sys.stdout)
        else:
            write_text(report, dry_run, sys.stdout)
    finally:
        if dry_run:
            db.session.rollback()  # the preview was the report; nothing is kept
    raise SystemExit(1 if report.status == "rejected" else 0)


def _level_or_usage_error(name: str, hint: str) -> Level:
    level = find_level(name)
    if level is None:
        raise click.UsageError(f"There is no level “{name}”. {hint}")
    return level


@users_cli.command("export")
@click.option(
    "--level",
    "levels",
    multiple=True,
    help="Only users with this level (repeat for several: users with any of them).",
)
@click.option(
    "--format", "fmt", type=click.Choice(["csv", "xlsx"]), default="csv", show_default=True
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, allow_dash=True),
    default="-",
    help="Write the file here; without it, or with -, a CSV goes to standard output.",
)
def users_export(levels, fmt, out) -> None:
    """Export users in the import template's columns (without --level: all users)."""
    names = [_level_or_usage_error(name, "See `levels add`.").name for name in levels]
    selection = with_levels(names)
    if out == "-":
        if fmt == "xlsx":
            raise click.UsageError("An Excel file needs --out PATH.")
        count = write_export(selection, fmt, sys.stdout.buffer)
        sys.stdout.buffer.flush()
    else:
        with open(out, "wb") as handle:
            count = write_export(selection, fmt, handle)
    click.echo(f"Exported {count:,} users{'' if out == '-' else f' to {out}'}.", err=True)


def print_progress(done: int) -> None:
    """Rows done so far, on one line of standard error."""
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
    notes: list[str] = field(default_factory=list)  # what else the text report should say


def preview_report(run: ImportRun) -> Report:
    """The report of a dry run: the import's preview, as the wizard builds it (the caller
    rolls it back)."""
    build_preview(run)
    if run.status == ImportStatus.REJECTED:  # the header, or a broken line further down
        return _rejected(run.file_error)
    return _report(run, describe_reading(run.reading), run.reading.get("split"))


def import_report(run: ImportRun, progress=None) -> Report:
    """Apply the import here, as the import job would, queue its mails, and report."""
    db.session.commit()
    try:
        table = open_table(run.file_data, ReadOptions.from_dict(run.read_options))
    except FileProblem as problem:
        run.status = ImportStatus.REJECTED
        run.file_error = str(problem)
        db.session.commit()
        return _rejected(run.file_error)
    run = apply_import(run, progress)
    if progress:
        click.echo("", err=True)
    if run.status == ImportStatus.FAILED and run.file_error:
        return _rejected(run.file_error)  # a broken line further down: as the dry run says
    if run.status == ImportStatus.FAILED:
        raise click.ClickException(run.error)
    if run.notify_new or run.notify_existing:
        try:
            queue_import_mails(run.id)
        except queue.QueueUnavailable:
            click.echo("Mails could not be queued: the background queue is unreachable.", err=True)
    search_index.catch_up()  # the new users, for search (the import has committed)
    return _report(run, table.described(), table.split)


def _report(run: ImportRun, read_as: str, split: dict | None) -> Report:
    """The report of an import's stored rows (its preview, or its outcome); ``split`` is a
    column of whole names the file could have split (see ``CsvTable.split``)."""
    counts = import_counts(run)
    summary = {
        "rows": counts.rows,
        "new": counts.new,
        "existing": counts.existing,
        "invalid": counts.invalid,
        "gains": counts.gains,
        "details_updated": counts.details_updated,
    }

    def rows():
        return (row[:4] for row in every_row(run.id))

    notes = []
    if split:
        title = split["title"]
        notes.append(f"Column “{title}” holds whole names: --split-name {title} splits them.")
    return Report("ok", None, summary, run.blank_lines, rows, read_as, notes)


def _rejected(file_error: str) -> Report:
    summary = {"rows": 0, "new": 0, "existing": 0, "invalid": 0, "gains": {}, "details_updated": 0}
    return Report("rejected", file_error, summary)


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
    """The report for people: how the file was read, the counts, each problem by line."""
    if report.status == "rejected":
        out.write(f"The file was not imported. {report.file_error}\n")
        return
    summary = report.summary
    if report.read_as:
        out.write(f"Read as: {report.read_as}.\n")
    for note in report.notes:
        out.write(note + "\n")
    out.write(
        f"{summary['rows']:,} rows: {summary['new']:,} new, {summary['existing']:,} existing, "
        f"{summary['invalid']:,} invalid (skipped); {report.blank_lines} blank lines.\n"
    )
    if summary["existing"]:
        gains = "".join(f", {number:,} gain {level}" for level, number in summary["gains"].items())
        out.write(
            f"Of the existing users: {summary['details_updated']:,} get their details "
            f"updated{gains}.\n"
        )
    for line, _email, _action, problems in report.rows():
        for column, message in problems:
            where = f", {column}" if column else ""
            out.write(f"  line {line}{where}: {message}\n")
    out.write("Dry run: nothing was changed.\n" if dry_run else "Imported.\n")
