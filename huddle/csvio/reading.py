"""Reading an uploaded file: bytes → text → rows, with the header mapped to template columns.

Everything that makes a whole file unreadable raises ``FileProblem`` with what is wrong and
how to fix it; problems of single rows are left to validating.py.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from .columns import DELIMITER, REQUIRED_COLUMNS, TEMPLATE_COLUMNS

TEMPLATE_HEADER = DELIMITER.join(TEMPLATE_COLUMNS)
# A record longer than this is not a user: stop before it eats memory and time.
MAX_FIELD_SIZE = 64 * 1024
_NOT_BLANK = re.compile(rb"[^ \t\r\n\x00]")
_INVISIBLE = re.compile("[\ufeff\u200b-\u200f\u00a0\u2060]")


class FileProblem(Exception):
    """The file as a whole cannot be read. ``code`` is stable (for scripts and tests);
    ``message`` says what is wrong, ``fix`` how to put it right."""

    def __init__(self, code: str, message: str, fix: str, line: int | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.fix = fix
        self.line = line

    def __str__(self) -> str:
        return f"{self.message} {self.fix}"


@dataclass(slots=True)
class SourceRow:
    """One record of the file: the line it starts on (header = line 1) and its cells."""

    line: int
    values: dict[str, str]
    extra_cells: int = 0  # non-empty cells to the right of the last column


@dataclass
class CsvTable:
    """A file whose header is understood; ``rows()`` streams its records once."""

    encoding: str
    delimiter: str
    columns: list[str | None]  # per column of the file: its template column, or None
    ignored_columns: list[str]
    blank_lines: int = 0
    size: int = 0  # bytes
    _records: Iterator[tuple[int, list[str]]] | None = field(default=None, repr=False)
    _first: SourceRow | None = field(default=None, repr=False)

    def rows(self) -> Iterator[SourceRow]:
        """Every non-blank record after the header, once, as it is read; blank lines are
        counted in ``blank_lines``."""
        if self._first is not None:
            yield self._first
            self._first = None
        yield from self._source_rows()

    def _source_rows(self) -> Iterator[SourceRow]:
        width = len(self.columns)
        mapped = [(i, name) for i, name in enumerate(self.columns) if name]
        every_column_mapped = len(mapped) == width
        for line, cells in self._records:
            if not "".join(cells).strip():
                self.blank_lines += 1
                continue
            if every_column_mapped:
                # The usual file: zip pairs titles and cells (a short row just has fewer).
                values = dict(zip(self.columns, cells))  # noqa: B905
            else:
                values = {name: cells[i] for i, name in mapped if i < len(cells)}
            extra = 0
            if len(cells) > width:
                extra = sum(1 for cell in cells[width:] if cell.strip())
            yield SourceRow(line, values, extra)


def clean_title(title: str) -> str:
    """A column title as we compare it: no BOM or invisible spaces, lower case, ``_`` for
    spaces and hyphens ("First name" → "first_name")."""
    title = _INVISIBLE.sub(" ", title).strip().lower()
    return re.sub(r"[\s\-]+", "_", title)


def _is_utf8(data: bytes, chunk: int = 1 << 20) -> bool:
    """Whether ``data`` is valid UTF-8, checked a chunk at a time (no copy of the text)."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        for start in range(0, len(data), chunk):
            decoder.decode(data[start : start + chunk])
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def text_lines(data: bytes) -> tuple[Iterator[str], str]:
    """The file's lines (with their LF, CRLF or CR endings), decoded as they are read, and
    the name of the encoding. Decoding as we go keeps a large file in memory once, as bytes.
    """
    if data.startswith(b"\xef\xbb\xbf"):
        codec, name = "utf-8-sig", "UTF-8"
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        codec, name = "utf-16", "UTF-16"
    elif _is_utf8(data):
        codec, name = "utf-8", "UTF-8"
    else:
        # Excel's "CSV (semicolon)" on Dutch Windows writes Windows-1252.
        codec, name = "cp1252", "Windows-1252"
    stream = io.TextIOWrapper(io.BytesIO(data), encoding=codec, errors="replace", newline="")
    return stream, name


def _check_not_binary(data: bytes) -> None:
    head = data[:4096]
    if head.startswith(b"PK\x03\x04"):
        raise FileProblem(
            "xlsx",
            "This is an Excel workbook (.xlsx), not a CSV file.",
            "In Excel choose File › Save As › “CSV (semicolon separated)” and upload that file.",
        )
    if b"\x00" in head and not head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise FileProblem(
            "not_text",
            "This is not a text file, so it cannot be a CSV file.",
            "Upload the template filled in and saved as CSV (semicolon separated).",
        )


def _records(lines: Iterator[str]) -> Iterator[tuple[int, list[str]]]:
    """(line the record starts on, cells) for every record, blank ones included."""
    reader = csv.reader(lines, delimiter=DELIMITER)
    line = 1
    try:
        for cells in reader:
            yield line, cells
            line = reader.line_num + 1
    except csv.Error as exc:
        raise _broken_record(exc, line) from exc


def _broken_record(exc: csv.Error, line: int) -> FileProblem:
    if "field larger than field limit" in str(exc):
        return FileProblem(
            "line_too_long",
            f"Line {line} is far too long (over {MAX_FIELD_SIZE // 1024} KB in one value).",
            'Look for a quote (") that is opened but never closed on or before that line.',
            line,
        )
    return FileProblem(
        "unreadable_line",
        f"Line {line} cannot be read: {exc}.",
        "Remove strange characters from that line, or retype it.",
        line,
    )


def _separated_by(header: list[str]) -> str | None:
    """The separator a one-cell header really uses, when it is not ";"."""
    if len(header) != 1:
        return None
    for name, char in (("commas (,)", ","), ("tabs", "\t")):
        titles = {clean_title(t) for t in header[0].split(char)}
        if len(titles & set(TEMPLATE_COLUMNS)) >= 2:
            return name
    return None


def _wrong_separator(separator: str) -> FileProblem:
    return FileProblem(
        "wrong_separator",
        f"This file is separated by {separator}, not by semicolons (;). Excel and Numbers do "
        "this depending on their settings, and it cannot be seen in the spreadsheet.",
        "Save it again as “CSV (semicolon separated)”, or open it in Notepad (Windows) or "
        "TextEdit (Mac) and replace every , by ;.",
        1,
    )


def _map_header(header: list[str]) -> tuple[list[str | None], list[str]]:
    columns: list[str | None] = []
    ignored = []
    seen: dict[str, int] = {}
    for position, title in enumerate(header, start=1):
        name = clean_title(title)
        if name in TEMPLATE_COLUMNS:
            if name in seen:
                raise FileProblem(
                    "duplicate_column",
                    f"The column “{name}” appears twice (columns {seen[name]} and {position}).",
                    "Delete one of the two columns.",
                    1,
                )
            seen[name] = position
            columns.append(name)
        else:
            columns.append(None)
            if title.strip():
                ignored.append(title.strip())
    while columns and columns[-1] is None and not header[len(columns) - 1].strip():
        columns.pop()  # trailing empty titles (";;;" at the end of the header)
    missing = [name for name in REQUIRED_COLUMNS if name not in seen]
    if missing:
        raise _missing_columns(missing, ignored, header)
    return columns, ignored


def _missing_columns(missing: list[str], ignored: list[str], header: list[str]) -> FileProblem:
    if any("@" in cell for cell in header):
        return FileProblem(
            "no_header",
            "The first line holds users, not the column titles.",
            f"Put the template's title line first: {TEMPLATE_HEADER}",
            1,
        )
    names = ", ".join(f"“{name}”" for name in missing)
    plural = "s" if len(missing) > 1 else ""
    if ignored:
        renamed = ", ".join(f"“{title}”" for title in ignored)
        message = (
            f"The required column{plural} {names} {'are' if plural else 'is'} missing, and the "
            f"file has column{'s' if len(ignored) > 1 else ''} {renamed} that the template "
            "does not have: were columns renamed?"
        )
    else:
        message = f"The required column{plural} {names} {'are' if plural else 'is'} missing."
    return FileProblem(
        "missing_columns",
        message,
        f"Keep the column titles exactly as in the template: {TEMPLATE_HEADER}",
        1,
    )


def open_csv(data: bytes) -> CsvTable:
    """Read the header of ``data`` and return the table; ``FileProblem`` when it cannot be
    imported at all (empty, not a CSV, wrong separator, columns missing, no users)."""
    if _NOT_BLANK.search(data) is None:  # (data.strip() would copy a large file)
        raise FileProblem(
            "empty", "The file is empty.", "Fill in the template and upload it again."
        )
    _check_not_binary(data)
    lines, encoding = text_lines(data)
    records = _records(lines)
    csv.field_size_limit(MAX_FIELD_SIZE)

    header: list[str] | None = None
    blank_before = 0
    for line, cells in records:
        if line == 1 and DELIMITER.join(cells).strip().lower().startswith("sep="):
            sep = DELIMITER.join(cells).strip()[4:5]
            if sep and sep != DELIMITER:
                raise _wrong_separator("commas (,)" if sep == "," else f"“{sep}”")
            continue  # Excel's "sep=;" hint line
        if any(cell.strip() for cell in cells):
            header = cells
            break
        blank_before += 1
    if header is None:
        raise FileProblem("empty", "The file has only blank lines.", "Fill in the template.")

    other = _separated_by(header)
    if other:
        raise _wrong_separator(other)
    columns, ignored = _map_header(header)
    table = CsvTable(encoding, DELIMITER, columns, ignored, blank_before, len(data), records)
    # Look at the first user now, so that a file of titles only is refused here.
    table._first = next(table._source_rows(), None)
    if table._first is None:
        raise FileProblem(
            "header_only",
            "The file has the column titles but no users.",
            "Add one user per line below the titles.",
        )
    return table
