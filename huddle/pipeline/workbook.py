"""Reading an Excel workbook (.xlsx) upload: its sheets, and a sheet's rows as the text the
admin saw in Excel, streamed (openpyxl's read-only mode), never the whole sheet in memory.

Numbers come back as Excel showed them: a whole number without ".0" or an exponent (a phone
number typed as a number is 31612345678, not 3.16123456E10), leading zeros of a "0000000000"
format kept; dates as 2026-11-25.
"""

from __future__ import annotations

import contextlib
import datetime
import io
import re
import zipfile
from collections.abc import Iterator

from openpyxl import load_workbook
from openpyxl.utils.escape import unescape

from .messages import _
from .problems import FileProblem

# What a workbook may unpack to. A sheet of 100,000 users is some 30 MB of XML; a "zip bomb"
# of a few MB that unpacks to gigabytes is refused before a byte of it is read.
MAX_UNPACKED_BYTES = 500 * 1024 * 1024
MAX_PACKING_RATIO = 200


def check_unpacked_size(data: bytes) -> None:
    """``FileProblem`` for a zip (a workbook) that unpacks to far more than a list of users."""
    with _unreadable_when_damaged():
        entries = zipfile.ZipFile(io.BytesIO(data)).infolist()
    unpacked = sum(entry.file_size for entry in entries)
    packed = sum(entry.compress_size for entry in entries) or 1
    if unpacked > MAX_UNPACKED_BYTES or unpacked / packed > MAX_PACKING_RATIO:
        raise FileProblem(
            "xlsx_too_large",
            _(
                "This workbook unpacks to %(size)s MB, far more than a list of users takes: it "
                "cannot be read safely.",
                size=f"{unpacked // (1024 * 1024):,}",
            ),
            _("Save the sheet with the users as “CSV (semicolon separated)” and upload that."),
        )


@contextlib.contextmanager
def _unreadable_when_damaged():
    """A zip that is no workbook (a Numbers or Word file) or a damaged one fails deep inside
    zipfile, zlib, the XML parser or openpyxl, with almost any exception (the fuzzer found
    several): for the admin they all mean one thing, so they become one FileProblem."""
    try:
        yield
    except MemoryError:
        raise
    except Exception:
        raise FileProblem(
            "xlsx_unreadable",
            _(
                "This file is a zip archive but not an Excel workbook that can be read (a "
                "Numbers file, perhaps, or a damaged one)."
            ),
            _(
                "Save it as an Excel workbook (.xlsx) or as “CSV (semicolon separated)”: in "
                "Numbers choose File › Export To › Excel or CSV."
            ),
        ) from None


def _open(data: bytes):
    check_unpacked_size(data)
    with _unreadable_when_damaged():
        return load_workbook(io.BytesIO(data), read_only=True, data_only=True)


def sheet_names(data: bytes) -> list[str]:
    """The names of a workbook's sheets, in order."""
    workbook = _open(data)
    try:
        return list(workbook.sheetnames)
    finally:
        workbook.close()


def cell_text(value, number_format: str = "General") -> str:
    """A cell's value as the text Excel shows for it."""
    if value is None:
        return ""
    if isinstance(value, str):
        return unescape(value) if "_x" in value else value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float):
        if isinstance(value, float) and not value.is_integer():
            return repr(value)
        return _whole_number(int(value), number_format)
    if isinstance(value, datetime.datetime):
        if value.time() == datetime.time(0):
            return value.date().isoformat()
        return value.isoformat(sep=" ", timespec="minutes")
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    return str(value)


# A number format that only pads a whole number and puts text around it, as used for phone
# numbers: "0000000000", "0#########", "+0", "\\+00", "\"+31 \"0". Its parts: literal text
# (quoted, escaped with a backslash, or one of "+-() "), then digit places, then text.
_LITERAL = r'(?:"[^"]*"|\\.|[+\-() ])*'
_PADDING_FORMAT = re.compile(rf"({_LITERAL})([0#]+)({_LITERAL})")
_QUOTED_OR_ESCAPED = re.compile(r'"([^"]*)"|\\(.)')


def _whole_number(number: int, number_format: str) -> str:
    """A whole number as Excel shows it in a padding format (the leading zero and the "+" of
    a phone number), else its digits."""
    text = str(number)
    section = (number_format or "").split(";")[0]  # the format for positive numbers
    match = _PADDING_FORMAT.fullmatch(section) if number >= 0 else None
    if match is None:
        return text
    before, places, after = match.groups()
    # Digits fill the places from the right; every place from the leftmost "0" on shows one.
    text = text.zfill(len(places) - places.index("0") if "0" in places else 0)
    return _literal(before) + text + _literal(after)


def _literal(part: str) -> str:
    return _QUOTED_OR_ESCAPED.sub(lambda m: m.group(1) or m.group(2) or "", part)


# A formula cell without a value: "<f>…</f></c>" or "<f …/></c>". Writers that cannot
# calculate (xlsxwriter, openpyxl) either leave the value out or write 0 and set
# fullCalcOnLoad="1" in workbook.xml, asking Excel to calculate when it opens the file (see
# ECMA-376 Part 1, §18.2.2 calcPr, and §18.3.1.40 f). Either way, there is nothing to read.
_NO_VALUE = re.compile(rb"(?:</f>|<f\b[^>]*/>)\s*</c>")
_DEFAULT_VALUE = re.compile(rb"(?:</f>|<f\b[^>]*/>)\s*(?:<v>0?</v>|<v/>)?\s*</c>")
_CHUNK = 1 << 20


def _uncalculated_formulas(data: bytes, sheet_path: str) -> bool:
    """Whether the sheet has formula cells whose value was never calculated."""
    with _unreadable_when_damaged():
        archive = zipfile.ZipFile(io.BytesIO(data))
        recalculate = b'fullCalcOnLoad="1"' in archive.read("xl/workbook.xml")
        pattern = _DEFAULT_VALUE if recalculate else _NO_VALUE
        with archive.open(sheet_path.lstrip("/")) as sheet:
            tail = b""
            while chunk := sheet.read(_CHUNK):
                if pattern.search(tail + chunk):
                    return True
                tail = chunk[-256:]  # a cell cut in two by the chunks
    return False


def _formulas_problem() -> FileProblem:
    return FileProblem(
        "formulas_not_calculated",
        _(
            "The formulas in this workbook were never calculated, so their cells hold no "
            "values (an address made by a formula would read as 0 or as empty)."
        ),
        _(
            "Open the file in Excel, LibreOffice or Numbers and save it (that calculates the "
            "formulas), or save it as CSV, and upload it again."
        ),
    )


_COL = re.compile(rb"<col\b[^>]*>")
_ATTRIBUTE = re.compile(rb'\b(min|max|hidden)="([^"]*)"')


def _hidden_columns(data: bytes, sheet_path: str) -> set[int]:
    """The columns (0-based) the sheet hides: its ``<cols>`` list, which comes before the
    rows (ECMA-376 Part 1, §18.3.1.13 col), says so with hidden="1"."""
    archive = zipfile.ZipFile(io.BytesIO(data))
    with _unreadable_when_damaged(), archive.open(sheet_path.lstrip("/")) as sheet:
        head = sheet.read(1 << 18).split(b"<sheetData", 1)[0]
    hidden: set[int] = set()
    for col in _COL.findall(head):
        attributes = dict(_ATTRIBUTE.findall(col))
        if attributes.get(b"hidden") in (b"1", b"true"):
            first, last = int(attributes.get(b"min", 1)), int(attributes.get(b"max", 1))
            hidden.update(range(first - 1, min(last, first + 16384)))
    return hidden


def sheet_records(
    data: bytes, sheet: str | None = None
) -> tuple[Iterator, str, list[str], set[int]]:
    """(records, the sheet read, all sheet names, its hidden columns): records are (row
    number, cell texts) for every row of the sheet (the first one unless ``sheet`` names
    another), blank ones too."""
    workbook = _open(data)
    names = list(workbook.sheetnames)
    if not names:
        raise FileProblem("empty", _("The workbook has no sheets."), _("Fill in the template."))
    name = sheet if sheet in names else names[0]
    path = getattr(workbook[name], "_worksheet_path", "")
    if path and _uncalculated_formulas(data, path):
        workbook.close()
        raise _formulas_problem()
    hidden = _hidden_columns(data, path) if path else set()

    def records() -> Iterator[tuple[int, list[str]]]:
        try:
            with _unreadable_when_damaged():
                worksheet = workbook[name]
                # Some programs write a wrong size for the sheet; read every row there is.
                worksheet.reset_dimensions()
                rows = enumerate(worksheet.iter_rows(), start=1)
            while True:
                with _unreadable_when_damaged():
                    number, row = next(rows, (None, None))
                    if row is None:
                        return
                    texts = [
                        cell_text(cell.value, getattr(cell, "number_format", "General"))
                        for cell in row
                    ]
                yield number, texts
        finally:
            workbook.close()

    return records(), name, names, hidden
