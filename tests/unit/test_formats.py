"""Files as Excel, Numbers and Notepad write them: separators, encodings, titles, workbooks."""

import datetime
import io

import openpyxl
import pytest

from huddle.pipeline.problems import FileProblem
from huddle.pipeline.reading import ReadOptions, open_table

NAMES = [
    ("zoe@celik.nl", "Zoë", "Çelik"),
    ("hart@x.nl", "Jan", "’t Hart"),
    ("m@x.nl", "Jürgen", "Müller"),
]


def _text(separator: str, titles=("email", "first_name", "last_name"), ending="\r\n") -> str:
    lines = [separator.join(titles), *(separator.join(row) for row in NAMES)]
    return ending.join(lines) + ending


def _read(data: bytes, **options):
    table = open_table(data, ReadOptions(**options))
    return table, [
        (r.values["email"], r.values["first_name"], r.values["last_name"]) for r in table.rows()
    ]


@pytest.mark.parametrize(
    ("separator", "encoding", "described"),
    [
        (";", "utf-8-sig", "semicolon-separated, UTF-8"),
        (",", "cp1252", "comma-separated, Windows-1252"),
        (";", "cp1252", "semicolon-separated, Windows-1252"),
        ("\t", "utf-16", "tab-separated, UTF-16"),  # Excel's "Unicode text"
        (",", "mac_roman", "comma-separated, Mac Roman"),  # an old Numbers export
        (";", "utf-8", "semicolon-separated, UTF-8"),
    ],
)
def test_separators_and_encodings_are_detected_and_said(separator, encoding, described):
    table, rows = _read(_text(separator).encode(encoding))
    assert table.described() == described and table.encoding_certain
    assert rows == NAMES


def test_commas_inside_values_of_a_semicolon_file_are_not_separators():
    data = "email;first_name;last_name;organisation\r\na@x.nl;Jan;Jansen, de;Bakker, Zn\r\n"
    table, rows = _read(data.encode())
    assert table.delimiter == ";" and rows == [("a@x.nl", "Jan", "Jansen, de")]


def test_an_excel_sep_line_decides_the_separator():
    table, rows = _read(("sep=,\r\n" + _text(",")).encode())
    assert table.delimiter == "," and rows == NAMES
    assert [row.line for row in open_table(("sep=,\r\n" + _text(",")).encode()).rows()] == [3, 4, 5]


@pytest.mark.parametrize(
    "titles",
    [
        ("E-mailadres", "Voornaam", "Achternaam"),
        ("E-mail", "First name", "Surname"),
        ("\ufeffEmail address", "\u00a0first name ", "LAST NAME"),
    ],
)
def test_dutch_and_english_titles_in_any_spelling(titles):
    _, rows = _read(_text(";", titles).encode())
    assert rows == NAMES


def test_the_admin_can_overrule_the_encoding_and_the_separator():
    data = _text(";").encode("mac_roman")
    table, rows = _read(data, encoding="cp1252")
    assert table.encoding == "Windows-1252" and rows[0][1] == "Zo‘"  # what they would see
    table, rows = _read(data, encoding="mac_roman")
    assert rows == NAMES
    with pytest.raises(FileProblem) as problem:
        _read(_text(";").encode(), delimiter=",")
    # Read with the wrong separator, every line is one value: said in those words.
    assert problem.value.code == "one_column"
    assert "Choose “semicolon-separated”" in problem.value.fix


def _workbook(*sheets: tuple[str, list[list]]) -> bytes:
    book = openpyxl.Workbook()
    book.remove(book.active)
    for title, rows in sheets:
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_an_excel_workbook_is_read_as_the_admin_saw_it():
    data = _workbook(
        (
            "Leden",
            [
                ["E-mailadres", "Voornaam", "Achternaam", "Telefoon", "Organisatie"],
                ["zoe@celik.nl", "Zoë", "Çelik", 31612345678, datetime.datetime(2026, 11, 25)],
                [None, None, None, None, None],
                ["jan@x.nl", "Jan", "Jansen", 1.5, True],
            ],
        )
    )
    table = open_table(data)
    rows = list(table.rows())
    assert table.described() == "Excel workbook, sheet “Leden”" and table.blank_lines == 1
    assert [row.line for row in rows] == [2, 4]
    assert rows[0].values["phone"] == "31612345678"  # not 3.16123456E10
    assert rows[0].values["organisation"] == "2026-11-25"
    assert (rows[1].values["phone"], rows[1].values["organisation"]) == ("1.5", "TRUE")


def test_a_workbook_reads_the_first_sheet_with_users_or_the_chosen_one():
    data = _workbook(
        ("Uitleg", [["Read me"], ["email;first_name;last_name"]]),
        ("Leden", [["email", "first_name", "last_name"], ["a@x.nl", "A", "B"]]),
        ("Oud", [["email", "first_name", "last_name"], ["old@x.nl", "O", "D"]]),
    )
    # The first sheet holds instructions: the first sheet with users is read, and named.
    table = open_table(data)
    assert table.sheets == ["Uitleg", "Leden", "Oud"] and table.sheet == "Leden"
    assert table.described() == "Excel workbook, sheet “Leden”"
    assert [row.values["email"] for row in table.rows()] == ["a@x.nl"]
    table = open_table(data, ReadOptions(sheet="Oud"))
    assert [row.values["email"] for row in table.rows()] == ["old@x.nl"]
    with pytest.raises(FileProblem):
        open_table(data, ReadOptions(sheet="Uitleg"))  # chosen, it is read, and refused


def test_leading_zeros_of_a_zero_format_are_kept():
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["email", "first_name", "last_name", "phone"])
    sheet.append(["a@x.nl", "A", "B", 612345678])
    sheet["D2"].number_format = "0000000000"
    out = io.BytesIO()
    book.save(out)
    [row] = open_table(out.getvalue()).rows()
    assert row.values["phone"] == "0612345678"
