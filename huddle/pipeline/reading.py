"""Reading an uploaded file: bytes → text → rows, with the header mapped to template columns.

A file is read whatever Excel, Numbers or Notepad made of it: an Excel workbook or text in
UTF-8, UTF-16, Windows-1252 or Mac Roman (encodings.py), separated by ``;``, ``,`` or tabs
(judged from the header, whose titles we know; an Excel ``sep=`` line first wins), with
Dutch or English column titles in any order. The table says what it found ("comma-separated,
Windows-1252"), and ``ReadOptions`` lets the admin overrule it.

Everything that makes a whole file unreadable raises ``FileProblem`` with what is wrong and
how to fix it; problems of single rows are left to validating.py.
"""

from __future__ import annotations

import csv
import io
import itertools
import re
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field

from .columns import (
    COLUMN_BY_TITLE,
    DELIMITER,
    REQUIRED_COLUMNS,
    TEMPLATE_COLUMNS,
    title_key,
    title_language,
)
from .encodings import detect_encoding
from .messages import N_, _, ngettext
from .problems import FileProblem
from .workbook import sheet_names, sheet_records

TEMPLATE_HEADER = DELIMITER.join(TEMPLATE_COLUMNS)
# A record longer than this is not a user: stop before it eats memory and time.
MAX_FIELD_SIZE = 64 * 1024
_NOT_BLANK = re.compile(rb"[^ \t\r\n\x00]")
XLSX_MAGIC = b"PK\x03\x04"
OLD_EXCEL_MAGIC = b"\xd0\xcf\x11\xe0"
# The separators we read, and how the admin hears of them.
SEPARATORS = {";": N_("semicolon-separated"), ",": N_("comma-separated"), "\t": N_("tab-separated")}


@dataclass(slots=True)
class SourceRow:
    """One record of the file: the line it starts on (header = line 1) and its cells."""

    line: int
    values: dict[str, str]
    extra_cells: int = 0  # non-empty cells to the right of the last column


@dataclass(frozen=True)
class ReadOptions:
    """What the admin chose where our reading of the file was wrong; None: detect it."""

    encoding: str | None = None  # a key of encodings.ENCODINGS
    delimiter: str | None = None  # a key of SEPARATORS
    sheet: str | None = None  # a sheet of a workbook
    # Column titles of the admin's own, and the template column each stands for.
    aliases: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, values: dict | None) -> ReadOptions:
        values = values or {}
        aliases = values.get("aliases") or {}
        return cls(
            encoding=values.get("encoding") or None,
            delimiter=values.get("delimiter") if values.get("delimiter") in SEPARATORS else None,
            sheet=values.get("sheet") or None,
            aliases={t: c for t, c in aliases.items() if c in TEMPLATE_COLUMNS},
        )

    def to_dict(self) -> dict:
        return {key: value for key, value in asdict(self).items() if value}


@dataclass
class CsvTable:
    """A file whose header is understood; ``rows()`` streams its records once."""

    encoding: str  # as people say it ("UTF-8"); "" for a workbook
    delimiter: str  # "" for a workbook
    columns: list[str | None]  # per column of the file: its template column, or None
    ignored_columns: list[str]
    blank_lines: int = 0
    size: int = 0  # bytes
    kind: str = "csv"  # or "xlsx"
    encoding_certain: bool = True
    sheet: str = ""
    sheets: list[str] = field(default_factory=list)
    title_language: str = ""  # "nl", "en": what the column titles are in ("" unknown)
    _records: Iterator[tuple[int, list[str]]] | None = field(default=None, repr=False)
    _first: SourceRow | None = field(default=None, repr=False)

    def described(self) -> str:
        """How the file was read, in words: "comma-separated, Windows-1252"."""
        if self.kind == "xlsx":
            return _("Excel workbook, sheet “%(sheet)s”", sheet=self.sheet)
        return f"{_(SEPARATORS[self.delimiter])}, {self.encoding}"

    def summary(self) -> dict:
        """How the file was read, for keeping with the import and showing the admin."""
        return {
            "described": self.described(),
            "kind": self.kind,
            "certain": self.encoding_certain,
            "sheet": self.sheet,
            "sheets": self.sheets,
            "title_language": self.title_language,
        }

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
        columns = self.columns
        for line, cells in self._records:
            # Blank: no cell with anything but spaces (the first cell decides most rows).
            if not (cells and cells[0].strip()) and not "".join(cells).strip():
                self.blank_lines += 1
                continue
            if every_column_mapped:
                # The usual file: zip pairs titles and cells (a short row just has fewer).
                values = dict(zip(columns, cells))  # noqa: B905
            else:
                values = {name: cells[i] for i, name in mapped if i < len(cells)}
            if len(cells) > width:
                yield SourceRow(line, values, sum(1 for cell in cells[width:] if cell.strip()))
            else:
                yield SourceRow(line, values)


def _check_readable(data: bytes) -> None:
    head = data[:4096]
    if head.startswith(OLD_EXCEL_MAGIC):
        raise FileProblem(
            "xls",
            _("This is an old-style Excel file (.xls), which cannot be read."),
            _(
                "In Excel choose File › Save As › “Excel Workbook (.xlsx)” or “CSV (semicolon "
                "separated)” and upload that file."
            ),
        )
    if b"\x00" in head and not head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise FileProblem(
            "not_text",
            _("This is not a text file or an Excel workbook, so it cannot be read."),
            _("Upload the template filled in and saved as CSV (semicolon separated) or .xlsx."),
        )


def _records(
    lines: Iterator[str], delimiter: str, first_line: int = 1
) -> Iterator[tuple[int, list[str]]]:
    """(line the record starts on, cells) for every record, blank ones included; the first
    of ``lines`` is line ``first_line`` of the file."""
    reader = csv.reader(lines, delimiter=delimiter)
    offset = first_line - 1
    line = first_line
    try:
        for cells in reader:
            yield line, cells
            line = offset + reader.line_num + 1
    except csv.Error as exc:
        raise _broken_record(exc, line) from exc


def _broken_record(exc: csv.Error, line: int) -> FileProblem:
    if "field larger than field limit" in str(exc):
        return FileProblem(
            "line_too_long",
            _(
                "Line %(line)s is far too long (over %(size)s KB in one value).",
                line=line,
                size=MAX_FIELD_SIZE // 1024,
            ),
            _('Look for a quote (") that is opened but never closed on or before that line.'),
            line,
        )
    return FileProblem(
        "unreadable_line",
        _("Line %(line)s cannot be read: %(error)s.", line=line, error=exc),
        _("Remove strange characters from that line, or retype it."),
        line,
    )


def _guess_delimiter(line: str) -> str:
    """The separator that splits the header line into the most titles we know (then into
    the most cells); ";" when nothing tells."""

    def score(delimiter: str) -> tuple[int, int, bool]:
        try:
            titles = next(csv.reader([line], delimiter=delimiter), [])
        except csv.Error:
            # Split by this one, a title is over the field limit (a long title line read
            # with the wrong separator is one huge title): not this one.
            return -1, 0, False
        known = sum(1 for title in titles if title_key(title) in COLUMN_BY_TITLE)
        return known, len(titles), delimiter == DELIMITER

    return max(SEPARATORS, key=score)


def _text_records(data: bytes, options: ReadOptions):
    """(records, encoding, delimiter) of a text file. Blank lines and an Excel "sep=;" line
    before the header are read here, to find the header line and its separator."""
    encoding = detect_encoding(data, options.encoding)
    stream = io.TextIOWrapper(
        io.BytesIO(data), encoding=encoding.codec, errors="replace", newline=""
    )
    peeked: list[str] = []
    hint = None
    first_line = 1
    for line in stream:
        text = line.strip().strip("\ufeff")
        if first_line == 1 and not peeked and text.lower().startswith("sep=") and len(text) <= 6:
            hint = text[4:5] or None  # Excel's "sep=;" (or "sep=,") first line
            first_line = 2
            continue
        peeked.append(line)
        if text.strip(' \t;,"'):
            break  # the header line (lines before it are blank: counted as such later)
    delimiter = options.delimiter or (hint if hint in SEPARATORS else None)
    delimiter = delimiter or _guess_delimiter(peeked[-1] if peeked else "")
    records = _records(itertools.chain(peeked, stream), delimiter, first_line)
    return records, encoding, delimiter


def read_choices(data: bytes) -> dict:
    """What the admin may choose for a file that could not be read as we guessed: its kind
    and, for a workbook, its sheets."""
    if not data.startswith(XLSX_MAGIC):
        return {"kind": "csv", "sheets": []}
    try:
        return {"kind": "xlsx", "sheets": sheet_names(data)}
    except FileProblem:
        return {"kind": "xlsx", "sheets": []}


def open_table(data: bytes, options: ReadOptions | None = None) -> CsvTable:
    """Read the header of ``data`` (a text file or an Excel workbook) and return the table;
    ``FileProblem`` when it cannot be imported at all (empty, not readable, required
    columns missing, no users)."""
    options = options or ReadOptions()
    if _NOT_BLANK.search(data) is None:  # (data.strip() would copy a large file)
        raise FileProblem(
            "empty", _("The file is empty."), _("Fill in the template and upload it again.")
        )
    csv.field_size_limit(MAX_FIELD_SIZE)
    if data.startswith(XLSX_MAGIC):
        records, sheet, sheets = sheet_records(data, options.sheet)
        table = CsvTable("", "", [], [], kind="xlsx", sheet=sheet, sheets=sheets)
    else:
        _check_readable(data)
        records, encoding, delimiter = _text_records(data, options)
        table = CsvTable(encoding.name, delimiter, [], [], encoding_certain=encoding.certain)
    table.size = len(data)

    header: list[str] | None = None
    for _line, cells in records:
        if any(cell.strip() for cell in cells):
            header = cells
            break
        table.blank_lines += 1
    if header is None:
        raise FileProblem("empty", _("The file has only blank lines."), _("Fill in the template."))
    try:
        table.columns, table.ignored_columns = _map_header(header, options.aliases)
    except FileProblem as problem:
        if problem.code == "missing_columns":
            # For the mapping step: the file's titles, each with its first values.
            problem.columns = _column_samples(header, records)
        raise
    table._records = records
    table.title_language = title_language(header)
    # Look at the first user now, so that a file of titles only is refused here.
    table._first = next(table._source_rows(), None)
    if table._first is None:
        raise FileProblem(
            "header_only",
            _("The file has the column titles but no users."),
            _("Add one user per line below the titles."),
        )
    return table


def _column_samples(header: list[str], records, count: int = 3) -> list[tuple[str, list[str]]]:
    """(title, its first few non-blank values) for every titled column of the file."""
    samples: list[list[str]] = [[] for _ in header]
    for _line, cells in itertools.islice(records, 50):
        for index, cell in enumerate(cells[: len(header)]):
            if cell.strip() and len(samples[index]) < count:
                samples[index].append(cell.strip()[:40])
    return [(title.strip(), samples[i]) for i, title in enumerate(header) if title.strip()]


def _map_header(
    header: list[str], aliases: dict[str, str] | None = None
) -> tuple[list[str | None], list[str]]:
    by_title = COLUMN_BY_TITLE
    if aliases:
        by_title = {**by_title, **{title_key(title): name for title, name in aliases.items()}}
    columns: list[str | None] = []
    ignored = []
    seen: dict[str, int] = {}
    for position, title in enumerate(header, start=1):
        name = by_title.get(title_key(title))
        if name is not None:
            if name in seen:
                raise FileProblem(
                    "duplicate_column",
                    _(
                        "Columns %(first)s and %(second)s are both “%(name)s” (“%(title1)s” "
                        "and “%(title2)s”).",
                        first=seen[name],
                        second=position,
                        name=name,
                        title1=header[seen[name] - 1].strip(),
                        title2=title.strip(),
                    ),
                    _("Delete one of the two columns."),
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
            _("The first line holds users, not the column titles."),
            _("Put the template's title line first: %(header)s", header=TEMPLATE_HEADER),
            1,
        )
    names = ", ".join(f"“{name}”" for name in missing)
    message = ngettext(
        "The required column %(names)s is missing.",
        "The required columns %(names)s are missing.",
        len(missing),
        names=names,
    )
    if ignored:
        message += " " + ngettext(
            "The file has a column %(titles)s that the template does not have: was it renamed?",
            "The file has columns %(titles)s that the template does not have: were columns "
            "renamed?",
            len(ignored),
            titles=", ".join(f"“{title}”" for title in ignored),
        )
    problem = FileProblem(
        "missing_columns",
        message,
        _(
            "Say below which columns hold them, or keep the titles as in the template: %(header)s",
            header=TEMPLATE_HEADER,
        ),
        1,
    )
    problem.missing = missing
    return problem
