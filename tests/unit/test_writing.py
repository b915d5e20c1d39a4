"""Writing CSV and XLSX files: the formula guard, and that our own files read back unchanged."""

import io

import openpyxl
from hypothesis import given
from hypothesis import strategies as st

from huddle.pipeline.columns import TEMPLATE_COLUMNS
from huddle.pipeline.reading import open_table
from huddle.pipeline.writing import FORMULA_STARTS, neutralise, unneutralise, write_csv
from huddle.pipeline.xlsx import write_xlsx


@given(st.text())
def test_the_guard_comes_off_exactly_as_it_went_on(value):
    guarded = neutralise(value)
    assert unneutralise(guarded) == value
    assert not guarded.startswith(FORMULA_STARTS)


def test_the_guard_in_examples():
    assert neutralise("+31 6 12345678") == "'+31 6 12345678"
    assert neutralise('=HYPERLINK("http://x")') == '\'=HYPERLINK("http://x")'
    assert neutralise("'+x") == "''+x"  # an apostrophe of the user's own survives
    assert neutralise("’t Hart") == "’t Hart" and neutralise("'s-Gravenhage") == "'s-Gravenhage"
    assert unneutralise("'+31 6") == "+31 6" and unneutralise("'hallo") == "'hallo"


ROWS = [
    ("zoe@celik.nl", "Zoë", "", "Çelik", "+31 6 12345678", "=SUM(A1:A9)", "-lead", "nl", "A|B"),
    ("hart@x.nl", "Jan", "’t", "Hart", "", "Bakkerij; “De Korenbloem”", 'de "baas"', "", ""),
    ("lines@x.nl", "Line", "", "Breaks", "@home", "Eerste regel\nTweede regel", "'+x", "en", "B"),
]


def test_a_csv_export_reads_back_cell_for_cell():
    out = io.BytesIO()
    assert write_csv(ROWS, out) == 3
    data = out.getvalue()
    assert data.startswith("\ufeff".encode() + b"email;first_name;infix;last_name;phone;")
    assert b"\r\n'+31 6 12345678;" not in data and b";'+31 6 12345678;" in data
    assert data.count(b"\r\n") == 4  # header and 3 rows; the line break in a cell is \n
    table = open_table(data)
    rows = list(table.rows())
    assert [row.line for row in rows] == [2, 3, 4]  # a quoted line break stays in its cell
    for source, row in zip(rows, ROWS, strict=True):
        assert [unneutralise(source.values[c]) for c in TEMPLATE_COLUMNS] == list(row)


def test_an_xlsx_export_has_a_bold_frozen_header_and_guarded_text(tmp_path):
    path = tmp_path / "users.xlsx"
    with path.open("wb") as handle:
        assert write_xlsx(ROWS, handle) == 3
    sheet = openpyxl.load_workbook(path).active
    assert sheet.title == "Users" and sheet.freeze_panes == "A2"
    assert [cell.value for cell in sheet[1]] == list(TEMPLATE_COLUMNS)
    assert all(cell.font.b for cell in sheet[1]) and not sheet["A2"].font.b
    values = [[cell.value or "" for cell in row] for row in sheet.iter_rows(min_row=2)]
    # Shown as they are, no ' in the value: the cell is marked as text the way Excel marks a
    # value typed after a ' (the "quote prefix" cell style), so editing it runs no formula.
    assert values[0][4] == "+31 6 12345678" and values[0][5] == "=SUM(A1:A9)"
    assert sheet["E2"].quotePrefix and sheet["F2"].quotePrefix and sheet["G2"].quotePrefix
    assert sheet["E4"].quotePrefix and not sheet["B2"].quotePrefix and not sheet["C3"].quotePrefix
    assert all(
        cell.data_type == "s" for row in sheet.iter_rows(min_row=2) for cell in row if cell.value
    )
    assert [[unneutralise(v) for v in row] for row in values] == [list(r) for r in ROWS]


def test_an_xlsx_export_reads_back_cell_for_cell():
    out = io.BytesIO()
    write_xlsx(ROWS, out)
    rows = list(open_table(out.getvalue()).rows())
    for source, row in zip(rows, ROWS, strict=True):
        assert [unneutralise(source.values[c].strip()) for c in TEMPLATE_COLUMNS] == [
            value.strip() for value in row
        ]


def test_xlsx_text_is_escaped_the_way_excel_reads_it(tmp_path):
    path = tmp_path / "odd.xlsx"
    with path.open("wb") as handle:
        write_xlsx([("a&b<c>", "  lead", "two\nlines", "_x0041_", "bell\x07")], handle)
    sheet = openpyxl.load_workbook(path).active
    values = [cell.value for cell in sheet[2]]
    assert values[:3] == ["a&b<c>", "  lead", "two\nlines"]
    # Excel's own escape for what XML cannot hold, and for text that looks like one.
    assert values[3:5] == ["_x005F_x0041_", "bell_x0007_"]
