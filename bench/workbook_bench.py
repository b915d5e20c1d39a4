"""Reading a workbook of N users, as the preview does, next to the plain readers.

  (a) ours: open_table + every row of an .xlsx (calamine's values, plus the workbook's own
      parts for padding number formats, hidden columns and uncalculated formulas)
  (b) the floor: calamine reading the same sheet's values, nothing else
  (c) openpyxl's read-only mode reading every cell with its number format: how we read
      .xlsx before (the same work as (a))
  (d) the same users as a ;-separated CSV through open_table: the text floor
  (e) ours on the same users as .ods

and prints seconds, rows/s, (a)/(b) and (c)/(a). Each is timed in this process, best of
--repeat.

    .venv/bin/python bench/workbook_bench.py [--rows 100000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import io
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from huddle.pipeline.reading import open_table  # noqa: E402
from huddle.pipeline.xlsx import write_xlsx  # noqa: E402

TITLES = ["email", "first_name", "infix", "last_name", "phone", "organisation"]


def users(rows: int):
    for i in range(rows):
        yield [f"user{i}@example.org", "Anna", "van der", f"Berg {i}", "0612345678", "Club"]


def as_xlsx(rows: int) -> bytes:
    out = io.BytesIO()
    write_xlsx(users(rows), out, header=TITLES)
    return out.getvalue()


def as_csv(rows: int) -> bytes:
    lines = [";".join(TITLES)] + [";".join(row) for row in users(rows)]
    return ("\r\n".join(lines) + "\r\n").encode()


def as_ods(rows: int) -> bytes:
    """The same users as an .ods, written by hand as the format says (OpenDocument 1.3):
    odfpy would take minutes for 100,000 rows."""
    import zipfile

    body = io.StringIO()
    body.write(
        '<?xml version="1.0" encoding="UTF-8"?><office:document-content '
        'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.3">'
        '<office:body><office:spreadsheet><table:table table:name="Leden">'
    )
    for row in [TITLES, *users(rows)]:
        body.write("<table:table-row>")
        for value in row:
            body.write(f'<table:table-cell office:value-type="string"><text:p>{value}</text:p>')
            body.write("</table:table-cell>")
        body.write("</table:table-row>")
    body.write("</table:table></office:spreadsheet></office:body></office:document-content>")
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        mimetype = "application/vnd.oasis.opendocument.spreadsheet"
        archive.writestr("mimetype", mimetype, compress_type=zipfile.ZIP_STORED)
        archive.writestr("content.xml", body.getvalue(), compress_type=zipfile.ZIP_DEFLATED)
        archive.writestr(
            "META-INF/manifest.xml",
            '<?xml version="1.0" encoding="UTF-8"?><manifest:manifest xmlns:manifest='
            '"urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.3">'
            f'<manifest:file-entry manifest:full-path="/" manifest:media-type="{mimetype}"/>'
            '<manifest:file-entry manifest:full-path="content.xml" '
            'manifest:media-type="text/xml"/></manifest:manifest>',
            compress_type=zipfile.ZIP_DEFLATED,
        )
    return out.getvalue()


def ours(data: bytes) -> int:
    return sum(1 for _row in open_table(data).rows())


def calamine(data: bytes) -> int:
    from python_calamine import CalamineWorkbook

    sheet = CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_index(0)
    return sum(1 for _row in sheet.iter_rows()) - 1


def openpyxl_read_only(data: bytes) -> int:
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    rows = 0
    for row in book.worksheets[0].iter_rows():
        [(cell.value, getattr(cell, "number_format", "General")) for cell in row]
        rows += 1
    book.close()
    return rows - 1


def best(work, data: bytes, repeat: int) -> tuple[float, int]:
    times, rows = [], 0
    for _ in range(repeat):
        start = time.perf_counter()
        rows = work(data)
        times.append(time.perf_counter() - start)
    return min(times), rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    xlsx, text, ods = as_xlsx(args.rows), as_csv(args.rows), as_ods(args.rows)
    print(f"{args.rows:,} users: .xlsx {len(xlsx) / 1e6:.1f} MB, .csv {len(text) / 1e6:.1f} MB")
    results = {
        "(a) ours, .xlsx": best(ours, xlsx, args.repeat),
        "(b) calamine alone, .xlsx (floor)": best(calamine, xlsx, args.repeat),
        "(c) openpyxl read-only, .xlsx (before)": best(openpyxl_read_only, xlsx, args.repeat),
        "(d) ours, .csv (text floor)": best(ours, text, args.repeat),
        "(e) ours, .ods": best(ours, ods, args.repeat),
    }
    for label, (seconds, rows) in results.items():
        print(f"{label:40} {seconds:7.2f} s  {rows / seconds:10,.0f} rows/s  ({rows:,} rows)")
    seconds = {label[:3]: value for label, (value, _rows) in results.items()}
    print(
        f"(a)/(b) = {seconds['(a)'] / seconds['(b)']:.2f}   (c)/(a) = "
        f"{seconds['(c)'] / seconds['(a)']:.1f}"
    )


if __name__ == "__main__":
    main()
