"""Writing ``;`` CSV files that Excel opens correctly and that cannot run formulas."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

from .columns import DELIMITER, TEMPLATE_COLUMNS

# A cell starting with one of these is a formula to a spreadsheet (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
BOM = "\ufeff"  # so Excel reads the file as UTF-8 and shows Zoë, not ZoÃ«


def neutralise(value: str) -> str:
    """A value safe to open in a spreadsheet: a leading ' stops a formula from running."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def unneutralise(value: str) -> str:
    """Undo ``neutralise``, so that our own exports import back unchanged."""
    if value.startswith("'") and value[1:].startswith(FORMULA_STARTS):
        return value[1:]
    return value


def csv_text(rows: Iterable[Iterable[str]], header: Iterable[str] = TEMPLATE_COLUMNS) -> str:
    """A complete file: BOM, header, rows; ``;``-separated, CRLF, quoted where needed."""
    out = io.StringIO()
    out.write(BOM)
    writer = csv.writer(out, delimiter=DELIMITER, lineterminator="\r\n")
    writer.writerow(list(header))
    for row in rows:
        writer.writerow([neutralise(str(value)) for value in row])
    return out.getvalue()


def template_csv() -> str:
    """The empty import template: the column titles only."""
    return csv_text([])
