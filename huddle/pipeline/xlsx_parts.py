"""What an .xlsx workbook says besides its cells' values, read from its XML parts (the
reader, workbook.py, gives values only): which part holds each sheet, the number formats
that pad whole numbers and the cells that use them, hidden columns, and formulas never
calculated. The parts are read with regular expressions over their text, streamed, never
parsed whole: the parts as ECMA-376 Part 1 describes them (§18.2 workbook, §18.8 styles,
§18.3 worksheet).
"""

from __future__ import annotations

import html
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field

from .cells import is_padding_format

_TAG_ATTRIBUTES = re.compile(rb'([\w:]+)="([^"]*)"')
_CHUNK = 1 << 20


def _attributes(tag: bytes) -> dict[str, str]:
    return {
        name.decode(): html.unescape(value.decode("utf-8", "replace"))
        for name, value in _TAG_ATTRIBUTES.findall(tag)
    }


def _chunks(archive: zipfile.ZipFile, path: str, overlap: int = 512) -> Iterator[bytes]:
    """A part's bytes in chunks, each starting with the end of the one before (so that a
    tag cut in two by the chunks is whole in one of them)."""
    with archive.open(path) as part:
        tail = b""
        while chunk := part.read(_CHUNK):
            yield tail + chunk
            tail = chunk[-overlap:]


def sheet_paths(archive: zipfile.ZipFile) -> dict[str, str]:
    """Sheet name → the part holding it ("xl/worksheets/sheet1.xml"); {} for a workbook
    without these parts (an .xlsb, whose parts are binary)."""
    targets = {}
    try:
        relationships = archive.read("xl/_rels/workbook.xml.rels")
        workbook = archive.read("xl/workbook.xml")
    except KeyError:
        return {}
    for tag in re.findall(rb"<Relationship\b[^>]*>", relationships):
        attributes = _attributes(tag)
        target = attributes.get("Target", "")
        targets[attributes.get("Id")] = (
            target.lstrip("/") if target.startswith("/") else ("xl/" + target)
        )
    paths = {}
    for tag in re.findall(rb"<(?:\w+:)?sheet\b[^>]*>", workbook):
        attributes = _attributes(tag)
        relation = next((v for k, v in attributes.items() if k.endswith(":id")), None)
        if "name" in attributes and relation in targets:
            paths[attributes["name"]] = targets[relation]
    return paths


def padding_styles(archive: zipfile.ZipFile) -> dict[bytes, str]:
    """Cell style index (as the cells write it) → its number format, for the styles whose
    format pads whole numbers ("0#########", "+0")."""
    try:
        styles = archive.read("xl/styles.xml")
    except KeyError:
        return {}
    formats = {
        attributes.get("numFmtId"): attributes.get("formatCode", "")
        for attributes in map(_attributes, re.findall(rb"<numFmt\b[^>]*>", styles))
    }
    cell_formats = re.search(rb"<cellXfs\b.*?</cellXfs>", styles, re.DOTALL)
    found = {}
    for index, tag in enumerate(
        re.findall(rb"<xf\b[^>]*>", cell_formats[0] if cell_formats else b"")
    ):
        number_format = formats.get(_attributes(tag).get("numFmtId"), "")
        if is_padding_format(number_format):
            found[str(index).encode()] = number_format
    return found


_CELL_WITH_STYLE = re.compile(rb'<c r="([A-Z]{1,3})(\d+)"[^>]*?\bs="(\d+)"')


def _column_index(letters: bytes) -> int:
    index = 0
    for letter in letters:
        index = index * 26 + letter - 64
    return index - 1


_COL = re.compile(rb"<col\b[^>]*>")


def _hidden_columns(head: bytes) -> set[int]:
    """The columns (0-based) the sheet hides: its ``<cols>`` list, which comes before the
    rows (§18.3.1.13 col), says so with hidden="1"."""
    hidden: set[int] = set()
    for attributes in map(_attributes, _COL.findall(head.split(b"<sheetData", 1)[0])):
        if attributes.get("hidden") in ("1", "true"):
            first, last = int(attributes.get("min", 1)), int(attributes.get("max", 1))
            hidden.update(range(first - 1, min(last, first + 16384)))
    return hidden


# A formula cell without a value: "<f>…</f></c>" or "<f …/></c>". Writers that cannot
# calculate (xlsxwriter, openpyxl) either leave the value out or write 0 and set
# fullCalcOnLoad="1" in workbook.xml, asking Excel to calculate when it opens the file
# (§18.2.2 calcPr, §18.3.1.40 f). Either way, there is nothing to read.
_NO_VALUE = re.compile(rb"(?:</f>|<f\b[^>]*/>)\s*</c>")
_DEFAULT_VALUE = re.compile(rb"(?:</f>|<f\b[^>]*/>)\s*(?:<v>0?</v>|<v/>)?\s*</c>")
_ROW_NUMBER = re.compile(rb'<row\b[^>]*?\br="(\d+)"')
_CELL_COLUMN = re.compile(rb'<c\b[^>]*?\br="([A-Z]{1,3})\d')


@dataclass
class SheetScan:
    """What one pass over a sheet's part found."""

    uncalculated_formulas: bool = False
    rows: int = 0  # the last row number a row names
    columns: int = 0  # the last column (1-based) a cell names
    hidden: set[int] = field(default_factory=set)  # hidden columns, 0-based
    # (row number, column, 0-based) → number format, for cells in a padding style.
    padded: dict[tuple[int, int], str] = field(default_factory=dict)


def scan_sheet(archive: zipfile.ZipFile, path: str, styles: dict[bytes, str]) -> SheetScan:
    """One pass over a sheet's part: formulas never calculated, how far its cells really
    reach (a sheet may say anything in its <dimension>; its cells' own references tell),
    its hidden columns, and its cells in one of the padding ``styles``."""
    recalculate = b'fullCalcOnLoad="1"' in archive.read("xl/workbook.xml")
    pattern = _DEFAULT_VALUE if recalculate else _NO_VALUE
    scan = SheetScan()
    letters: set[bytes] = set()
    for number, chunk in enumerate(_chunks(archive, path)):
        if number == 0:
            scan.hidden = _hidden_columns(chunk)
        if not scan.uncalculated_formulas and b"<f" in chunk and pattern.search(chunk):
            scan.uncalculated_formulas = True
        scan.rows = max(scan.rows, max(map(int, _ROW_NUMBER.findall(chunk)), default=0))
        letters.update(_CELL_COLUMN.findall(chunk))
        if styles:
            for column, row, style in _CELL_WITH_STYLE.findall(chunk):
                if style in styles:
                    scan.padded[(int(row), _column_index(column))] = styles[style]
    scan.columns = max((_column_index(column) + 1 for column in letters), default=0)
    return scan
