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

import contextlib
import csv
import io
import itertools
import re
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field

from . import workbook
from .columns import (
    COLUMN_BY_TITLE,
    DELIMITER,
    FULL_NAME,
    IGNORE,
    LABELS,
    REQUIRED_COLUMNS,
    TEMPLATE_COLUMNS,
    column_for_title,
    holds_full_names,
    title_key,
    title_language,
)
from .encodings import detect_encoding
from .messages import N_, _, ngettext
from .names import split_name
from .problems import FileProblem

TEMPLATE_HEADER = DELIMITER.join(TEMPLATE_COLUMNS)
# Python's csv module refuses fields over its limit (128 KB by default). A cell of any size up
# to the upload limit is read (and refused on its own row when too long for its column), so
# the limit is the size of the file itself.
MAX_FIELD_SIZE = 64 * 1024
# How far down the file the title line is looked for: a few lines of notes, a system's version
# line or a group row above the titles are common; a page of them is not.
HEADER_LOOKAHEAD = 30
# A cell that holds an e-mail address (loosely: the real check is validating.py's).
_ADDRESS = re.compile(r"[^@\s;,]+@[^@\s;,]+\.[^@\s;,]+")
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
    _records: Iterator[tuple[int, list[str]]] | None = field(default=None, repr=False)
    _first: SourceRow | None = field(default=None, repr=False)

    def described(self) -> str:
        """How the file was read, in words: "comma-separated, Windows-1252"."""
        if self.kind == "xlsx":
            described = _("Excel workbook, sheet “%(sheet)s”", sheet=self.sheet)
        elif self.kind == "ods":
            described = _("OpenDocument spreadsheet, sheet “%(sheet)s”", sheet=self.sheet)
        elif self.kind == "xls":
            described = _("Excel 97–2003 workbook, sheet “%(sheet)s”", sheet=self.sheet)
        else:
            described = f"{_(SEPARATORS[self.delimiter])}, {self.encoding}"
        if self.header_line > self.top_line:
            described += ", " + _("titles on line %(line)s", line=self.header_line)
        return described

    def notes(self) -> list[str]:
        """What the admin should know of how the columns were understood, in words."""
        notes = []
        if self.email_found_by_content:
            notes.append(
                _(
                    "No column is titled as the e-mail address; column “%(title)s” holds "
                    "addresses, so it is used.",
                    title=self.email_found_by_content,
                )
            )
        if self.hidden_titles:
            notes.append(
                _(
                    "Read from columns hidden in the workbook: %(titles)s.",
                    titles=", ".join(f"“{title}”" for title in self.hidden_titles),
                )
            )
        for name, titles in self.merged.items():
            notes.append(
                _(
                    "Columns %(titles)s are all the %(column)s: per row, the first that is not "
                    "empty is used.",
                    titles=", ".join(f"“{title}”" for title in titles),
                    column=_(LABELS[name]),
                )
            )
        return notes

    def summary(self) -> dict:
        """How the file was read, for keeping with the import and showing the admin."""
        return {
            "described": self.described(),
            "kind": self.kind,
            "certain": self.encoding_certain,
            "sheet": self.sheet,
            "sheets": self.sheets,
            "title_language": self.title_language,
            "header_line": self.header_line,
            "notes": self.notes(),
            "merged": self.merged,
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


def _split_full_name(values: dict[str, str]) -> None:
    """The full name split into the name columns the row has no value for (a file may have
    both: a first-name column wins over the split)."""
    parts = split_name(values.pop(FULL_NAME, ""))
    for name, part in zip(("first_name", "infix", "last_name"), parts, strict=True):
        if part and not values.get(name, "").strip():
            values[name] = part


def _check_readable(data: bytes) -> None:
    head = data[:4096]
    if _looks_like_json(head):
        raise FileProblem(
            "json",
            _("This is a JSON file: it holds data, but not as a table of rows and columns."),
            _(
                "Export the users from the other system as CSV or as an Excel workbook, or "
                "fill in the template, and upload that."
            ),
        )
    if b"\x00" in head and not head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise FileProblem(
            "not_text",
            _("This is not a text file or an Excel workbook, so it cannot be read."),
            _("Upload the template filled in and saved as CSV (semicolon separated) or .xlsx."),
        )


def _looks_like_json(head: bytes) -> bool:
    """A JSON document or JSON lines: it opens with { or [ followed by a quote, a brace or a
    bracket (a CSV line never does: its first title would be "{" or "[")."""
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    return text[:1] in (b"{", b"[") and text[1:].lstrip()[:1] in (b'"', b"{", b"[", b"}", b"]")


def _records(
    lines: Iterator[str], delimiter: str, first_line: int = 1
) -> Iterator[tuple[int, list[str]]]:
    """(line the record starts on, cells) for every record, blank ones included; the first
    of ``lines`` is line ``first_line`` of the file. A quote (") that is opened and never
    closed is a ``FileProblem`` naming the line it opened on (the csv module would read the
    rest of the file into that one value)."""
    taken: list[str] = []  # the lines of the record being read

    def taking(lines: Iterator[str]) -> Iterator[str]:
        for text in lines:
            taken.append(text)
            yield text

    reader = csv.reader(taking(lines), delimiter=delimiter)
    offset = first_line - 1
    line = first_line
    try:
        for cells in reader:
            # Only a record over several lines, or the file's unfinished last line, can end
            # inside a quote (only the file's end ends an open quote).
            if (len(taken) > 1 or not taken[-1].endswith(("\n", "\r"))) and _open_quote(
                "".join(taken), delimiter
            ):
                raise _quote_not_closed(line)
            taken.clear()
            yield line, cells
            line = offset + reader.line_num + 1
    except csv.Error as exc:
        raise _broken_record(exc, line) from exc


def _open_quote(record: str, delimiter: str) -> bool:
    """Whether ``record`` ends inside a quoted value (as the csv module reads it: a quote
    opens a value only at its start; inside, two quotes are one)."""
    quoted, at_start = False, True
    index = 0
    while index < len(record):
        char = record[index]
        if quoted:
            if char == '"':
                if record[index + 1 : index + 2] == '"':
                    index += 1
                else:
                    quoted = False
        elif char == '"' and at_start:
            quoted = True
        at_start = not quoted and char in (delimiter, "\n", "\r")
        index += 1
    return quoted


def _quote_not_closed(line: int) -> FileProblem:
    return FileProblem(
        "quote_not_closed",
        _(
            'A quote (") opened on line %(line)s is never closed, so everything after it would '
            "be one value.",
            line=line,
        ),
        _("Close the quote on that line, or delete it, and upload the file again."),
        line,
    )


def _broken_record(exc: csv.Error, line: int) -> FileProblem:
    if "field larger than field limit" in str(exc):
        return FileProblem(
            "line_too_long",
            _("Line %(line)s holds a value larger than the file could.", line=line),
            _("Save the file again from the program that made it."),
            line,
        )
    return FileProblem(
        "unreadable_line",
        _("Line %(line)s cannot be read: %(error)s.", line=line, error=exc),
        _("Remove strange characters from that line, or retype it."),
        line,
    )


def _guess_delimiter(lines: list[str]) -> str:
    """The separator that splits one of the first lines into the most titles we know (then
    the last line, the first with an address, into the most cells); ";" when nothing tells."""

    def score(delimiter: str) -> tuple[int, int, bool]:
        known = 0
        cells: list[str] = []
        for line in lines:
            try:
                cells = next(csv.reader([line], delimiter=delimiter), [])
            except csv.Error:
                # Split by this one, a title is over the field limit (a long title line read
                # with the wrong separator is one huge title): not this one.
                return -1, 0, False
            known = max(known, sum(1 for title in cells if column_for_title(title)))
        return known, len(cells), delimiter == DELIMITER

    return max(SEPARATORS, key=score)


def _has_address(cells: list[str]) -> bool:
    return any("@" in cell and _ADDRESS.search(cell) for cell in cells)


def _text_records(data: bytes, options: ReadOptions):
    """(records, encoding, delimiter, the first line after a "sep=" line) of a text file.
    The first lines, up to the first one with an address, are read here to judge the
    separator (an Excel "sep=;" line first wins)."""
    encoding = detect_encoding(data, options.encoding)
    stream = io.TextIOWrapper(
        io.BytesIO(data), encoding=encoding.codec, errors="replace", newline=""
    )
    peeked: list[str] = []
    hint = None
    first_line = 1
    filled = 0
    for line in stream:
        text = line.strip().strip("\ufeff")
        if first_line == 1 and not peeked and text.lower().startswith("sep=") and len(text) <= 6:
            hint = text[4:5] or None  # Excel's "sep=;" (or "sep=,") first line
            first_line = 2
            continue
        peeked.append(line)
        if text.strip(' \t;,"'):
            filled += 1
            if filled >= HEADER_LOOKAHEAD or ("@" in text and _ADDRESS.search(text)):
                break
    delimiter = options.delimiter or (hint if hint in SEPARATORS else None)
    filled_lines = [line for line in peeked if line.strip(' \t\r\n;,"')]
    delimiter = delimiter or _guess_delimiter(filled_lines)
    records = _records(itertools.chain(peeked, stream), delimiter, first_line)
    return records, encoding, delimiter, first_line


def _workbook_kind(data: bytes) -> str:
    """ "xlsx", "ods" or "xls" for a workbook, "" for anything else (text, we hope)."""
    if data.startswith(XLSX_MAGIC):
        return "ods" if workbook.is_ods(data) else "xlsx"
    return "xls" if data.startswith(OLD_EXCEL_MAGIC) else ""


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
    # A cell may be as large as the file (see MAX_FIELD_SIZE).
    csv.field_size_limit(max(MAX_FIELD_SIZE, len(data) + 1))
    kind = _workbook_kind(data)
    if not kind:
        _check_readable(data)
        records, encoding, delimiter, top_line = _text_records(data, options)
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


def _read_header(table: CsvTable, records, options: ReadOptions, size: int) -> CsvTable:
    """Find the title line of ``records``, map its titles, and look at the first user."""
    table.size = size
    by_title = _titles_with(options.aliases)
    header_line, header, blanks, records = _find_header(records, by_title, options.header_line)
    table.blank_lines = blanks
    table.header_line = header_line
    columns, ignored, merged = _map_header(header, by_title)
    records, sample = _peek(records, 20)
    if "email" not in columns:
        found = _address_column(columns, sample)
        if found is not None:
            columns[found] = "email"
            title = header[found].strip() if found < len(header) else ""
            table.email_found_by_content = title or _("column %(number)s", number=found + 1)
            if title in ignored:
                ignored.remove(title)
    present = set(columns) | ({"first_name", "last_name"} if FULL_NAME in columns else set())
    missing = [name for name in REQUIRED_COLUMNS if name not in present]
    if missing:
        problem = _missing_columns(missing, ignored, header)
        # For the mapping step: the file's titles, each with its first values, and a column
        # of whole names that could be split.
        problem.columns = _column_samples(header, iter(sample))
        if {"first_name", "last_name"} & set(missing):
            problem.split = _split_offer(header, columns, sample)
        raise problem
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


def _split_offer(header: list[str], columns, sample) -> dict:
    """A column of whole names the admin may have split: its title and a few of its names as
    they would be split ({} when the file has none)."""
    for index, title in enumerate(header):
        mapped = columns[index] if index < len(columns) else None
        if mapped is None and title.strip() and holds_full_names(title):
            names = [cells[index].strip() for _line, cells in sample if index < len(cells)]
            examples = [[name, *split_name(name)] for name in names if name][:3]
            return {"title": title.strip(), "examples": examples}
    return {}


def _titles_with(aliases: dict[str, str] | None) -> dict[str, str]:
    if not aliases:
        return COLUMN_BY_TITLE
    return {**COLUMN_BY_TITLE, **{title_key(title): name for title, name in aliases.items()}}


def _peek(records, count: int):
    """(the same records, the first ``count`` of them)."""
    first = list(itertools.islice(records, count))
    return itertools.chain(first, records), first


def _find_header(records, by_title: dict[str, str], chosen_line: int | None):
    """(line of the titles, the titles, blank lines above them, the records after them).

    The titles are the line the admin chose or, of the lines above the first one with an
    address (at most ``HEADER_LOOKAHEAD`` of them), the one with the most titles we know
    (the last of equals); when none is known, the line right above the first address."""
    if chosen_line:
        return _header_at(records, chosen_line)
    lines: list[tuple[int, list[str]]] = []  # non-blank records, in order
    taken = []
    for line, cells in records:
        taken.append((line, cells))
        if not any(cell.strip() for cell in cells):
            continue
        lines.append((line, cells))
        if _has_address(cells) or len(lines) >= HEADER_LOOKAHEAD:
            break
    if not lines:
        raise FileProblem("empty", _("The file has only blank lines."), _("Fill in the template."))
    above = lines[:-1] if _has_address(lines[-1][1]) else lines
    if not above:
        header = lines[0]  # no titles at all: the mapping says so ("no_header")
    else:

        def known(index: int) -> tuple[int, int]:
            cells = above[index][1]
            return sum(1 for title in cells if column_for_title(title, by_title)), index

        best = max(range(len(above)), key=known)
        if known(best)[0] == 0:
            best = len(above) - 1 if len(above) < len(lines) else 0
        header = above[best]
    position = taken.index(header)
    blanks = sum(1 for _line, cells in taken[:position] if not any(c.strip() for c in cells))
    return header[0], header[1], blanks, itertools.chain(taken[position + 1 :], records)


def _header_at(records, chosen_line: int):
    """``_find_header`` for a line the admin chose: that line, or the first filled one after."""
    blanks = 0
    for line, cells in records:
        if line >= chosen_line and any(cell.strip() for cell in cells):
            return line, cells, blanks, records
        blanks += not any(cell.strip() for cell in cells)
    raise _no_titles_at(chosen_line)


def _no_titles_at(line: int) -> FileProblem:
    return FileProblem(
        "no_titles_at_line",
        _("The file has no line %(line)s with column titles.", line=line),
        _("Choose the line the column titles are on, or “Detect”."),
        line,
    )


def _address_column(columns: list[str | None], sample) -> int | None:
    """The first unmapped column whose values in ``sample`` are mostly e-mail addresses."""
    width = max((len(cells) for _line, cells in sample), default=0)
    for index in range(width):
        if index < len(columns) and columns[index] is not None:
            continue
        values = [cells[index].strip() for _line, cells in sample if index < len(cells)]
        values = [value for value in values if value]
        addresses = sum(1 for value in values if _ADDRESS.fullmatch(value))
        if values and addresses >= 0.8 * len(values):
            while len(columns) <= index:
                columns.append(None)
            return index
    return None


def _column_samples(header: list[str], records, count: int = 3) -> list[tuple[str, list[str]]]:
    """(title, its first few non-blank values) for every titled column of the file."""
    samples: list[list[str]] = [[] for _ in header]
    for _line, cells in itertools.islice(records, 50):
        for index, cell in enumerate(cells[: len(header)]):
            if cell.strip() and len(samples[index]) < count:
                samples[index].append(cell.strip()[:40])
    return [(title.strip(), samples[i]) for i, title in enumerate(header) if title.strip()]


def _map_header(
    header: list[str], by_title: dict[str, str]
) -> tuple[list[str | None], list[str], dict[str, list[str]]]:
    """(per column of the file its template column or None, the titles not understood, the
    template columns more than one column stands for with those columns' titles)."""
    columns: list[str | None] = []
    ignored = []
    titles: dict[str, list[str]] = {}
    for title in header:
        name = column_for_title(title, by_title)
        if name == IGNORE:
            name = None  # the admin said so: listed with the columns not used
        columns.append(name)
        if name is not None:
            titles.setdefault(name, []).append(title.strip())
        elif title.strip():
            ignored.append(title.strip())
    while columns and columns[-1] is None and not header[len(columns) - 1].strip():
        columns.pop()  # trailing empty titles (";;;" at the end of the header)
    merged = {name: both for name, both in titles.items() if len(both) > 1}
    return columns, ignored, merged


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
