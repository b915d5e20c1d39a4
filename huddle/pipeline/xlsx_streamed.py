"""An .xlsx sheet read row by row by openpyxl's read-only mode: slower than calamine, but in
memory of one row, for a sheet whose cells reach too far for calamine's block of every cell
(workbook.py decides)."""

from __future__ import annotations

import io
from collections.abc import Iterator

from openpyxl import load_workbook

from .cells import cell_text


def streamed_xlsx_records(data: bytes, sheet: str) -> Iterator[tuple[int, list[str]]]:
    """(row number, cell texts) for every row of ``sheet``, blank ones too; any failure of
    the reader is left to the caller's guard."""
    workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    try:
        worksheet = workbook[sheet]
        # Some programs write a wrong size for the sheet; read every row there is.
        worksheet.reset_dimensions()
        for number, row in enumerate(worksheet.iter_rows(), start=1):
            yield (
                number,
                [cell_text(cell.value, getattr(cell, "number_format", "General")) for cell in row],
            )
    finally:
        workbook.close()
