"""Reading an uploaded file: bytes → a table of rows, its columns mapped to the template's.

A file is read whatever made it: text in UTF-8, UTF-16, Windows-1252 or Mac Roman, separated
by ``;``, ``,`` or tabs (text_records.py), or a workbook: .xlsx, .ods or .xls (workbook.py).
The title line need not be the first, and titles may be Dutch, English or another system's
(titles.py). The table says what it found ("comma-separated, Windows-1252, titles on line
3"), and ``ReadOptions`` lets the admin overrule it.

Everything that makes a whole file unreadable raises ``FileProblem`` with what is wrong and
how to fix it; problems of single rows are left to validating.py.
"""

from __future__ import annotations

import contextlib
import itertools
import re
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field

from . import workbook
from .columns import (
    FULL_NAME,
    IGNORE,
    LABELS,
    NEW_USER_COLUMNS,
    REQUIRED_COLUMNS,
    TEMPLATE_COLUMNS,
    TEMPLATE_TITLES,
    column_for_title,
    title_language,
)
from .messages import _
from .names import split_name
from .problems import FileProblem
from .text_records import SEPARATORS, check_readable, text_records
from .titles import (
    address_column,
    column_samples,
    find_header,
    map_header,
    missing_columns,
    split_offer,
    titles_with,
)

_NOT_BLANK = re.compile(rb"[^ \t\r\n\x00]")
XLSX_MAGIC = b"PK\x03\x04"
OLD_EXCEL_MAGIC = b"\xd0\xcf\x11\xe0"
# The separators we read, and how the admin hears of them.


@dataclass(slots=True)
class SourceRow:
    """One record of the file: the line it starts on (header = line 1) and its cells."""

    line: int
    values: dict[str, str]
    extra_cells: int = 0  # non-empty cells to the right of the last column


# What a column title may be mapped to: a template column, whole names to split, or nothing.
MAPPABLE = frozenset((*TEMPLATE_COLUMNS, FULL_NAME, IGNORE))


@dataclass(frozen=True)
class ReadOptions:
    """What the admin chose where our reading of the file was wrong; None: detect it."""

    encoding: str | None = None  # a key of encodings.ENCODINGS
    delimiter: str | None = None  # a key of SEPARATORS
    sheet: str | None = None  # a sheet of a workbook
    header_line: int | None = None  # the line (row) the column titles are on
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
            header_line=_line_number(values.get("header_line")),
            aliases={t: c for t, c in aliases.items() if c in MAPPABLE},
        )

    def to_dict(self) -> dict:
        return {key: value for key, value in asdict(self).items() if value}


def _line_number(value) -> int | None:
    """A line number the admin typed (1 to a million), or None."""
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    return number if 1 <= number <= 1_000_000 else None


@dataclass
class CsvTable:
    """A file whose header is understood; ``rows()`` streams its records once."""

    encoding: str  # as people say it ("UTF-8"); "" for a workbook
    delimiter: str  # "" for a workbook
    columns: list[str | None]  # per column of the file: its template column, or None
    ignored_columns: list[str]
    blank_lines: int = 0
    size: int = 0  # bytes
    kind: str = "csv"  # or "xlsx", "ods", "xls"
    encoding_certain: bool = True
    sheet: str = ""
    sheets: list[str] = field(default_factory=list)
    title_language: str = ""  # "nl", "en": what the column titles are in ("" unknown)
    header_line: int = 1  # the line (row) the column titles are on
    top_line: int = 1  # the first line of the table (2 after Excel's "sep=;" line)
    # Template columns that two or more of the file's columns stand for, with their titles:
    # per row the first of them that is not empty is used.
    merged: dict[str, list[str]] = field(default_factory=dict)
    email_found_by_content: str = ""  # the title of the column found to hold the addresses
    hidden: set[int] = field(default_factory=set)  # columns a workbook hides (0-based)
    hidden_titles: list[str] = field(default_factory=list)  # of those, the ones read
    # A column of whole names that could be split, when no columns hold first and last
    # names: {"title", "examples"} ({} when there is none).
    split: dict = field(default_factory=dict)
    lacking: list[str] = field(default_factory=list)  # of first and last name, those absent
    # The file's own title of each template column it has (the first, when several).
    titles: dict[str, str] = field(default_factory=dict)
    _records: Iterator[tuple[int, list[str]]] | None = field(default=None, repr=False)
    _first: SourceRow | None = field(default=None, repr=False)

    def described(self) -> str:
        """How the file was read, in words: "comma-separated, Windows-1252"."""
        return describe_reading(self.summary())

    def summary(self) -> dict:
        """How the file was read, as facts to keep with the import: ``describe_reading`` and
        ``reading_notes`` put them in words, in the language of whoever reads them."""
        return {
            "kind": self.kind,
            "delimiter": self.delimiter,
            "encoding": self.encoding,
            "certain": self.encoding_certain,
            "sheet": self.sheet,
            "sheets": self.sheets,
            "title_language": self.title_language,
            "header_line": self.header_line,
            "top_line": self.top_line,
            "email_found_by_content": self.email_found_by_content,
            "hidden_titles": self.hidden_titles,
            "merged": self.merged,
            "split": self.split,
            "lacking": self.lacking,
            "titles": self.titles,
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
        splitting = FULL_NAME in self.columns
        every_column_mapped = len(mapped) == width and not self.merged and not splitting
        columns = self.columns
        merged = self.merged
        for line, cells in self._records:
            # Blank: no cell with anything but spaces (the first cell decides most rows).
            if not (cells and cells[0].strip()) and not "".join(cells).strip():
                self.blank_lines += 1
                continue
            if every_column_mapped:
                # The usual file: zip pairs titles and cells (a short row just has fewer).
                values = dict(zip(columns, cells))  # noqa: B905
            elif not (merged or splitting):
                values = {name: cells[i] for i, name in mapped if i < len(cells)}
            else:
                values = {}
                for i, name in mapped:
                    if i < len(cells) and not values.get(name, "").strip():
                        values[name] = cells[i]
            if splitting:
                _split_full_name(values)
            if len(cells) > width:
                yield SourceRow(line, values, sum(1 for cell in cells[width:] if cell.strip()))
            else:
                yield SourceRow(line, values)


def describe_reading(facts: dict) -> str:
    """How a file was read (``CsvTable.summary``), in words: "comma-separated,
    Windows-1252", "Excel workbook, sheet “Leden”, titles on line 3"."""
    kind, sheet = facts.get("kind", "csv"), facts.get("sheet", "")
    if kind == "xlsx":
        described = _("Excel workbook, sheet “%(sheet)s”", sheet=sheet)
    elif kind == "ods":
        described = _("OpenDocument spreadsheet, sheet “%(sheet)s”", sheet=sheet)
    elif kind == "xls":
        described = _("Excel 97–2003 workbook, sheet “%(sheet)s”", sheet=sheet)
    elif facts.get("delimiter") in SEPARATORS:
        described = f"{_(SEPARATORS[facts['delimiter']])}, {facts.get('encoding', '')}"
    else:  # kept in words by an older version
        return facts.get("described", "")
    header_line = facts.get("header_line", 1)
    if header_line > facts.get("top_line", 1):
        described += ", " + _("titles on line %(line)s", line=header_line)
    return described


def reading_notes(facts: dict) -> list[str]:
    """What the admin should know of how a file's columns were understood, in words."""
    if "notes" in facts:  # kept in words by an older version
        return facts["notes"]
    notes = []
    if facts.get("email_found_by_content"):
        notes.append(
            _(
                "No column is titled as the e-mail address; column “%(title)s” holds "
                "addresses, so it is used.",
                title=facts["email_found_by_content"],
            )
        )
    if facts.get("hidden_titles"):
        notes.append(
            _(
                "Read from columns hidden in the workbook: %(titles)s.",
                titles=", ".join(f"“{title}”" for title in facts["hidden_titles"]),
            )
        )
    for name, titles in (facts.get("merged") or {}).items():
        notes.append(
            _(
                "Columns %(titles)s all hold the field “%(column)s”: per row, the first that "
                "is not empty is used.",
                titles=", ".join(f"“{title}”" for title in titles),
                column=_(LABELS[name]),
            )
        )
    return notes


def _split_full_name(values: dict[str, str]) -> None:
    """The full name split into the name columns the row has no value for (a file may have
    both: a first-name column wins over the split)."""
    parts = split_name(values.pop(FULL_NAME, ""))
    for name, part in zip(("first_name", "infix", "last_name"), parts, strict=True):
        if part and not values.get(name, "").strip():
            values[name] = part


def _workbook_kind(data: bytes) -> str:
    """ "xlsx", "ods" or "xls" for a workbook, "" for anything else (text, we hope)."""
    if data.startswith(XLSX_MAGIC):
        return "ods" if workbook.is_ods(data) else "xlsx"
    return "xls" if data.startswith(OLD_EXCEL_MAGIC) else ""


def bytes_to_read(data: bytes) -> int:
    """How much a reader of ``data`` goes through: a workbook (a zip) unpacked, any other
    file as it is; 0 for a workbook refused unread (damaged, or a zip bomb that unpacks to
    far more than a list of users). Read from the zip's directory only: next to nothing."""
    if not data.startswith(XLSX_MAGIC):
        return len(data)
    try:
        return workbook.unpacked_size(data)
    except FileProblem:
        return 0


def lines_hint(data: bytes) -> int:
    """About how many rows ``data`` holds, for progress: a text file's line ends; 0 for a
    workbook, which tells only once it is read."""
    return 0 if _workbook_kind(data) else data.count(b"\n")


def read_choices(data: bytes) -> dict:
    """What the admin may choose for a file that could not be read as we guessed: its kind
    and, for a workbook, its sheets."""
    kind = _workbook_kind(data)
    if not kind:
        return {"kind": "csv", "sheets": []}
    try:
        return {"kind": kind, "sheets": workbook.sheet_names(data, kind)}
    except FileProblem:
        return {"kind": kind, "sheets": []}


def open_table(data: bytes, options: ReadOptions | None = None) -> CsvTable:
    """Read the header of ``data`` (a text file or an Excel workbook) and return the table;
    ``FileProblem`` when it cannot be imported at all (empty, not readable, required
    columns missing, no users).

    The column titles need not be on the first line: notes, a system's version line or a
    group row above them are passed over (``header_line`` says where they are). In a
    workbook, the first sheet with an e-mail column is read unless the admin chose one."""
    options = options or ReadOptions()
    if _NOT_BLANK.search(data) is None:  # (data.strip() would copy a large file)
        raise FileProblem(
            "empty", _("The file is empty."), _("Fill in the template and upload it again.")
        )
    kind = _workbook_kind(data)
    if not kind:
        check_readable(data)
        records, encoding, delimiter, top_line = text_records(
            data, options.encoding, options.delimiter
        )
        table = CsvTable(encoding.name, delimiter, [], [], encoding_certain=encoding.certain)
        table.top_line = top_line
        return _read_header(table, records, options, len(data))

    table, records = _sheet_table(data, kind, options.sheet)
    sheets = table.sheets
    try:
        return _read_header(table, records, options, len(data))
    except FileProblem as problem:
        # The first sheet may hold instructions: the first sheet with users is the one.
        if options.sheet or problem.code not in _NO_USERS_HERE:
            raise
        for other in sheets[1 : MAX_SHEETS_TRIED + 1]:
            table, records = _sheet_table(data, kind, other)
            with contextlib.suppress(FileProblem):
                return _read_header(table, records, options, len(data))
        raise


def _sheet_table(data: bytes, kind: str, sheet: str | None) -> tuple[CsvTable, Iterator]:
    """(the table of a workbook's sheet, its header not read yet; its records)."""
    records, name, sheets, hidden = workbook.sheet_records(data, kind, sheet)
    table = CsvTable("", "", [], [], kind=kind, sheet=name, sheets=sheets, hidden=hidden)
    return table, records


# Problems that mean "no table of users on this sheet": another sheet is tried.
_NO_USERS_HERE = {"empty", "missing_columns", "no_header", "header_only"}
MAX_SHEETS_TRIED = 20


def _own_titles(header: list[str], columns: list[str | None]) -> dict[str, str]:
    """The file's own title of each template column it has (the first, when several), when
    it is not the template's own title (those say no more than the field's name)."""
    template = {title.lower() for titles in TEMPLATE_TITLES.values() for title in titles}
    titles: dict[str, str] = {}
    for index, name in enumerate(columns):
        title = header[index].strip() if index < len(header) else ""
        if name in TEMPLATE_COLUMNS and title and title.lower() not in template:
            titles.setdefault(name, title)
    return titles


def _check_separator(table: CsvTable, header: list[str], by_title: dict[str, str]) -> None:
    """``FileProblem`` when a text file's titles are one value that another separator splits
    into titles we know: every line would be read as one value ("email,first_name")."""
    if table.kind != "csv" or len([title for title in header if title.strip()]) != 1:
        return
    title = next(title for title in header if title.strip())
    other = next(
        (
            sep
            for sep in SEPARATORS
            if sep != table.delimiter
            and sum(column_for_title(part, by_title) is not None for part in title.split(sep)) >= 2
        ),
        None,
    )
    if other is None:
        return
    raise FileProblem(
        "one_column",
        _(
            "Every line is read as one value: the file is read as %(chosen)s, but its titles "
            "are separated by “%(other)s”.",
            chosen=_(SEPARATORS[table.delimiter]),
            other=other if other != "\t" else "tab",
        ),
        _("Choose “%(name)s” under “Not read right?”.", name=_(SEPARATORS[other])),
        table.header_line,
    )


def _read_header(table: CsvTable, records, options: ReadOptions, size: int) -> CsvTable:
    """Find the title line of ``records``, map its titles, and look at the first user."""
    table.size = size
    by_title = titles_with(options.aliases)
    header_line, header, blanks, records = find_header(records, by_title, options.header_line)
    table.blank_lines = blanks
    table.header_line = header_line
    _check_separator(table, header, by_title)
    columns, ignored, merged = map_header(header, by_title)
    records, sample = _peek(records, 20)
    if "email" not in columns:
        found = address_column(columns, sample)
        if found is not None:
            columns[found] = "email"
            title = header[found].strip() if found < len(header) else ""
            table.email_found_by_content = title or _("column %(number)s", number=found + 1)
            if title in ignored:
                ignored.remove(title)
    present = set(columns) | ({"first_name", "last_name"} if FULL_NAME in columns else set())
    missing = [name for name in REQUIRED_COLUMNS if name not in present]
    # Without names only existing users can be given levels; a column of whole names is
    # offered to be split.
    lacking = [name for name in NEW_USER_COLUMNS if name not in present]
    split = split_offer(header, columns, sample) if lacking else {}
    if missing:
        problem = missing_columns(missing, ignored, header)
        # For the mapping step: the file's titles, each with its first values.
        problem.columns = column_samples(header, iter(sample))
        problem.split, problem.lacking = split, lacking
        raise problem
    table.split, table.lacking = split, lacking
    table.titles = _own_titles(header, columns)
    table.columns, table.ignored_columns, table.merged = columns, ignored, merged
    table.hidden_titles = [
        header[index].strip() or _("column %(number)s", number=index + 1)
        for index, name in enumerate(columns)
        if name and index in table.hidden
    ]
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


def _peek(records, count: int):
    """(the same records, the first ``count`` of them)."""
    first = list(itertools.islice(records, count))
    return itertools.chain(first, records), first
