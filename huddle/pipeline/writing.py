"""Writing ``;`` CSV files that Excel opens correctly and that cannot run formulas.

The formula guard is a leading ``'`` (what OWASP advises for CSV injection). The import takes
it off again, so our own exports import back unchanged; see ``neutralise`` for how a value
that really starts with an apostrophe survives that.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from typing import BinaryIO

from .columns import DELIMITER, TEMPLATE_COLUMNS, TEMPLATE_TITLES

# A cell starting with one of these is a formula to a spreadsheet (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
GUARD = "'"
BOM = "\ufeff"  # so Excel reads the file as UTF-8 and shows Zoë, not ZoÃ«
# What a file we write is, by its format ("csv", "xlsx"), for downloads and attachments.
MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def _looks_guarded(value: str) -> bool:
    """Whether ``value`` is apostrophes followed by a formula start ("'+31", "''=x")."""
    return value.lstrip(GUARD).startswith(FORMULA_STARTS)


def neutralise(value: str) -> str:
    """A value safe to open in a spreadsheet: a leading ' stops a formula from running.

    A value that already is apostrophes and a formula start ("'+x", rare but possible) gets
    one more, so that ``unneutralise`` gives back exactly the value we started from.
    """
    return GUARD + value if value and _looks_guarded(value) else value


def unneutralise(value: str) -> str:
    """Undo ``neutralise``: "'+31 6 …" → "+31 6 …", "''+x" → "'+x"; other values as they are."""
    if value.startswith(GUARD) and _looks_guarded(value):
        return value[1:]
    return value


# The first characters that may need the guard; anything else is safe as it is.
_RISKY_FIRST = frozenset(FORMULA_STARTS) | {GUARD}


def safe_row(row: Iterable[str]) -> list[str]:
    """``neutralise`` on every value of a row, quick for the values that need nothing."""
    return [neutralise(value) if value[:1] in _RISKY_FIRST else value for value in row]


def quote_prefixed(value: str) -> tuple[str, bool]:
    """A value for a workbook's text cell, and whether the cell needs Excel's "quote prefix"
    style: the cell shows the value as it is (no ' in it), and Excel keeps it text when it is
    edited instead of reading a formula. A value that really is apostrophes and a formula
    start keeps one more ', so that the import's ``unneutralise`` gives it back."""
    if value[:1] not in _RISKY_FIRST:
        return value, False
    if value[0] == GUARD:
        return (GUARD + value, True) if _looks_guarded(value) else (value, False)
    return value, True


def _safe_rows(rows: Iterable[Iterable[str]]) -> Iterable[list[str]]:
    return map(safe_row, rows)


def write_csv(
    rows: Iterable[Iterable[str]], out: BinaryIO, header: Iterable[str] = TEMPLATE_COLUMNS
) -> int:
    """Stream a complete file to the binary ``out``: BOM, header, rows; ``;``-separated,
    UTF-8, CRLF, quoted where needed, every value guarded. Returns the number of rows."""
    text = io.TextIOWrapper(out, encoding="utf-8", newline="", write_through=False)
    try:
        text.write(BOM)
        writer = csv.writer(text, delimiter=DELIMITER, lineterminator="\r\n")
        writer.writerow(list(header))
        count = 0
        for count, row in enumerate(_safe_rows(rows), start=1):  # noqa: B007
            writer.writerow(row)
        text.flush()
    finally:
        text.detach()  # leave ``out`` open for the caller
    return count


def csv_text(rows: Iterable[Iterable[str]], header: Iterable[str] = TEMPLATE_COLUMNS) -> str:
    """The same file as ``write_csv``, as one string (for small files: the template, the
    problem rows of an import)."""
    out = io.BytesIO()
    write_csv(([str(value) for value in row] for row in rows), out, header)
    return out.getvalue().decode("utf-8")


def template_csv(language: str = "en") -> str:
    """The empty import template: the column titles only, in ``language`` (en, nl)."""
    return csv_text([], header=TEMPLATE_TITLES[language])
