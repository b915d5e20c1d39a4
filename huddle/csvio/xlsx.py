"""Writing the export as an Excel workbook (.xlsx), streaming: rows go to disk as they come.

One sheet, the template's columns, the header row bold and frozen. Every value is written as
text (never as a number, date, link or formula) and guarded like the CSV, so that a file
saved from Excel as CSV imports back unchanged.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import BinaryIO

import xlsxwriter

from .columns import TEMPLATE_COLUMNS
from .writing import neutralise

SHEET_NAME = "Users"
COLUMN_WIDTHS = {"email": 32, "organisation": 24, "job_title": 20, "levels": 24}


def write_xlsx(
    rows: Iterable[Iterable[str]], out: BinaryIO, header: Iterable[str] = TEMPLATE_COLUMNS
) -> int:
    """Write a workbook to the binary, seekable ``out``; returns the number of rows."""
    header = list(header)
    # constant_memory: each row is written to a temporary file as soon as the next begins.
    workbook = xlsxwriter.Workbook(out, {"constant_memory": True})
    try:
        sheet = workbook.add_worksheet(SHEET_NAME)
        bold = workbook.add_format({"bold": True})
        sheet.freeze_panes(1, 0)
        for index, title in enumerate(header):
            sheet.set_column(index, index, COLUMN_WIDTHS.get(title, 14))
            sheet.write_string(0, index, title, bold)
        write = sheet.write_string  # text, whatever it looks like
        count = 0
        for count, row in enumerate(rows, start=1):
            for column, value in enumerate(row):
                if value:
                    write(count, column, neutralise(value))
    finally:
        workbook.close()
    return count
