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


def _check_unpacked_size(data: bytes) -> None:
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
    _check_unpacked_size(data)
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
        text = str(int(value))
        # A format of zeros ("0000000000") shows leading zeros, as for phone numbers.
        if number_format and set(number_format) == {"0"} and len(number_format) > len(text):
            text = text.zfill(len(number_format))
        return text
    if isinstance(value, datetime.datetime):
        if value.time() == datetime.time(0):
            return value.date().isoformat()
        return value.isoformat(sep=" ", timespec="minutes")
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    return str(value)


def sheet_records(data: bytes, sheet: str | None = None) -> tuple[Iterator, str, list[str]]:
    """(records, the sheet read, all sheet names): records are (row number, cell texts) for
    every row of the sheet (the first one unless ``sheet`` names another), blank ones too."""
    workbook = _open(data)
    names = list(workbook.sheetnames)
    if not names:
        raise FileProblem("empty", _("The workbook has no sheets."), _("Fill in the template."))
    name = sheet if sheet in names else names[0]

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

    return records(), name, names
