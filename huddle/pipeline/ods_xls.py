"""Reading an OpenDocument spreadsheet (.ods: LibreOffice, and what Numbers and Google Sheets
export) or an old Excel workbook (.xls, Excel 97–2003), through calamine, a reader of both.

Rows come as the cell texts the admin saw, as workbook.py gives them for .xlsx: whole
numbers without ".0", dates as 2026-11-25. (Calamine does not give a cell's number format,
so a leading zero that only a format showed is not there; the preview shows the number as
read, and the admin can correct it.)
"""

from __future__ import annotations

import io
from collections.abc import Iterator

from python_calamine import CalamineWorkbook

from .messages import _
from .problems import FileProblem
from .workbook import cell_text, check_unpacked_size

ODS_MIMETYPE = b"application/vnd.oasis.opendocument.spreadsheet"
KINDS = ("ods", "xls")


def is_ods(data: bytes) -> bool:
    """Whether a zip file is an OpenDocument spreadsheet: its first entry, "mimetype",
    stored uncompressed, says so (OpenDocument 1.3, Part 2, §3.3)."""
    return data[30:38] == b"mimetype" and data[38 : 38 + len(ODS_MIMETYPE)] == ODS_MIMETYPE


def _open(data: bytes, kind: str) -> CalamineWorkbook:
    if kind == "ods":
        check_unpacked_size(data)  # a zip, like .xlsx: the same guard against zip bombs
    try:
        return CalamineWorkbook.from_filelike(io.BytesIO(data))
    except Exception:  # any damage, in calamine's words: one message for the admin
        raise _unreadable(kind) from None


def _unreadable(kind: str) -> FileProblem:
    what = (
        _("This OpenDocument spreadsheet (.ods) is damaged and cannot be read.")
        if kind == "ods"
        else _("This old-style Excel file (.xls) is damaged or protected and cannot be read.")
    )
    return FileProblem(
        f"{kind}_unreadable",
        what,
        _("Open it, save it as .xlsx or as “CSV (semicolon separated)”, and upload that."),
    )


def sheet_records(
    data: bytes, kind: str, sheet: str | None = None
) -> tuple[Iterator, str, list[str], set[int]]:
    """As ``workbook.sheet_records``: (records, the sheet read, all sheet names, hidden
    columns (none known here))."""
    workbook = _open(data, kind)
    names = list(workbook.sheet_names)
    if not names:
        raise FileProblem("empty", _("The workbook has no sheets."), _("Fill in the template."))
    name = sheet if sheet in names else names[0]

    def records() -> Iterator[tuple[int, list[str]]]:
        try:
            worksheet = workbook.get_sheet_by_name(name)
            # The rows start at the first filled cell: number them, and pad them, as the
            # sheet does (start is (row, column), 0-based; None for an empty sheet).
            first_row, first_column = worksheet.start or (0, 0)
            padding = [""] * first_column
            for number, row in enumerate(worksheet.iter_rows(), start=first_row + 1):
                yield number, padding + [cell_text(value) for value in row]
        except FileProblem:
            raise
        except Exception:
            raise _unreadable(kind) from None

    return records(), name, names, set()
