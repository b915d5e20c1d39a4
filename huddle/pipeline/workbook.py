"""Reading a workbook upload: an Excel workbook (.xlsx), an OpenDocument spreadsheet (.ods:
LibreOffice, and what Numbers and Google Sheets export) or an old Excel workbook (.xls).
Its sheets, and a sheet's rows as the text the admin saw (cells.py).

The values come from calamine, a fast reader of all three. In an .xlsx, what calamine does
not give is read from the workbook's parts (xlsx_parts.py): number formats that pad whole
numbers (the leading 0 of a phone number), hidden columns, formulas never calculated; and a
sheet whose cells reach too far for calamine is streamed by openpyxl (xlsx_streamed.py). (An
.ods or .xls has no such reading: a leading zero only a format showed is not there; the
preview shows the number as read, and the admin can correct it.)
"""

from __future__ import annotations

import contextlib
import io
import zipfile
from collections.abc import Iterator

from python_calamine import CalamineWorkbook

from . import xlsx_parts
from .cells import cell_text
from .messages import _
from .problems import FileProblem
from .xlsx_streamed import streamed_xlsx_records

# What a zipped workbook may unpack to. A sheet of 100,000 users is some 30 MB of XML; a
# "zip bomb" of a few MB that unpacks to gigabytes is refused before a byte of it is read.
MAX_UNPACKED_BYTES = 500 * 1024 * 1024
MAX_PACKING_RATIO = 200
# Calamine holds a sheet as a block of every cell from A1 to its last one. A sheet whose
# cells reach further than this (a 5 KB file can name cell XFD1048576: 17 billion cells)
# is streamed by openpyxl instead, row by row, whatever its size.
MAX_DENSE_CELLS = 5_000_000
ODS_MIMETYPE = b"application/vnd.oasis.opendocument.spreadsheet"
KINDS = ("xlsx", "ods", "xls")


def is_ods(data: bytes) -> bool:
    """Whether a zip file is an OpenDocument spreadsheet: its first entry, "mimetype",
    stored uncompressed, says so (OpenDocument 1.3, Part 2, §3.3)."""
    # The local file header: 30 bytes, then the name and an "extra" field of the lengths it
    # gives (APPNOTE.TXT, §4.3.7), then the content.
    name_length = int.from_bytes(data[26:28], "little")
    extra_length = int.from_bytes(data[28:30], "little")
    content = 30 + name_length + extra_length
    return (
        data[30 : 30 + name_length] == b"mimetype"
        and data[content : content + len(ODS_MIMETYPE)] == ODS_MIMETYPE
    )


def unpacked_size(data: bytes, kind: str = "xlsx") -> int:
    """The bytes a zip (a workbook) unpacks to, from its directory alone; ``FileProblem``
    when it is damaged or unpacks to far more than a list of users."""
    with _unreadable_when_damaged(kind):
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
    return unpacked


@contextlib.contextmanager
def _unreadable_when_damaged(kind: str):
    """A zip that is no workbook (a Numbers or Word file) or a damaged one fails deep inside
    zipfile, zlib, the XML or calamine, with almost any exception (the fuzzer found several):
    for the admin they all mean one thing, so they become one FileProblem."""
    try:
        yield
    except (MemoryError, FileProblem):
        raise
    except Exception:
        raise _unreadable(kind) from None


def _unreadable(kind: str) -> FileProblem:
    if kind == "ods":
        return FileProblem(
            "ods_unreadable",
            _("This OpenDocument spreadsheet (.ods) is damaged and cannot be read."),
            _("Open it, save it as .xlsx or as “CSV (semicolon separated)”, and upload that."),
        )
    if kind == "xls":
        return FileProblem(
            "xls_unreadable",
            _("This old-style Excel file (.xls) is damaged or protected and cannot be read."),
            _("Open it, save it as .xlsx or as “CSV (semicolon separated)”, and upload that."),
        )
    return FileProblem(
        "xlsx_unreadable",
        _(
            "This file is a zip archive but not an Excel workbook that can be read (a "
            "Numbers file, perhaps, or a damaged one)."
        ),
        _(
            "Save it as an Excel workbook (.xlsx) or as “CSV (semicolon separated)”: in "
            "Numbers choose File › Export To › Excel or CSV."
        ),
    )


def _open(data: bytes, kind: str) -> CalamineWorkbook:
    if kind != "xls":
        unpacked_size(data, kind)
    with _unreadable_when_damaged(kind):
        return CalamineWorkbook.from_filelike(io.BytesIO(data))


def sheet_names(data: bytes, kind: str = "xlsx") -> list[str]:
    """The names of a workbook's sheets, in order."""
    return list(_open(data, kind).sheet_names)


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


def _xlsx_scan(data: bytes, sheet: str) -> xlsx_parts.SheetScan:
    """What an .xlsx says of ``sheet`` besides its values; ``FileProblem`` when its formulas
    were never calculated."""
    with _unreadable_when_damaged("xlsx"):
        archive = zipfile.ZipFile(io.BytesIO(data))
        path = xlsx_parts.sheet_paths(archive).get(sheet)
        if path is None:
            return xlsx_parts.SheetScan()
        scan = xlsx_parts.scan_sheet(archive, path, xlsx_parts.padding_styles(archive))
    if scan.uncalculated_formulas:
        raise _formulas_problem()
    return scan


def sheet_records(
    data: bytes, kind: str = "xlsx", sheet: str | None = None
) -> tuple[Iterator, str, list[str], set[int]]:
    """(records, the sheet read, all sheet names, its hidden columns): records are (row
    number, cell texts) for every row of the sheet (the first one unless ``sheet`` names
    another), blank ones too."""
    workbook = _open(data, kind)
    names = list(workbook.sheet_names)
    if not names:
        raise FileProblem("empty", _("The workbook has no sheets."), _("Fill in the template."))
    name = sheet if sheet in names else names[0]
    scan = _xlsx_scan(data, name) if kind == "xlsx" else xlsx_parts.SheetScan()
    padded, hidden = scan.padded, scan.hidden
    if scan.rows * scan.columns > MAX_DENSE_CELLS:

        def streamed() -> Iterator[tuple[int, list[str]]]:
            with _unreadable_when_damaged("xlsx"):
                yield from streamed_xlsx_records(data, name)

        return streamed(), name, names, hidden

    def records() -> Iterator[tuple[int, list[str]]]:
        with _unreadable_when_damaged(kind):
            worksheet = workbook.get_sheet_by_name(name)
            # The rows start at the first filled cell: number and pad them as the sheet
            # does (start is (row, column), 0-based; None for an empty sheet).
            first_row, first_column = worksheet.start or (0, 0)
            padding = [""] * first_column
            for number, row in enumerate(worksheet.iter_rows(), start=first_row + 1):
                texts = padding + [cell_text(value) for value in row]
                if padded:
                    for column, value in enumerate(row, start=first_column):
                        if (number, column) in padded and isinstance(value, int | float):
                            texts[column] = cell_text(value, padded[number, column])
                yield number, texts

    return records(), name, names, hidden
