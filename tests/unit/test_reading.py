"""Reading files as admins make them: the messages for what cannot be read, and the rows."""

import pytest

from huddle.pipeline.problems import FileProblem
from huddle.pipeline.reading import open_table
from huddle.pipeline.validating import validate_row

HEADER = "email;first_name;infix;last_name;phone;organisation;job_title;language;levels"


def _rows(text: str, encoding: str = "utf-8"):
    table = open_table(text.encode(encoding))
    return table, list(table.rows())


def _problem(data: bytes) -> FileProblem:
    with pytest.raises(FileProblem) as info:
        open_table(data)
    return info.value


def test_template_rows_with_line_numbers_as_a_person_counts_them():
    table, rows = _rows(
        f"{HEADER}\r\njan@x.nl;Jan;;Jansen;;;;nl;Basis\r\n\r\n;;;;\r\nzoe@x.nl;Zoë\r\n"
    )
    assert [row.line for row in rows] == [2, 5]
    assert rows[0].values["last_name"] == "Jansen"
    assert rows[1].values.get("last_name", "") == ""  # a short row: missing values are blank
    assert table.blank_lines == 2
    assert table.encoding == "UTF-8"


def test_quoted_values_with_semicolons_quotes_and_line_breaks():
    text = f'{HEADER}\n"a@x.nl";"Jan; Piet";;"de ""Bakker""";;"Line 1\nLine 2";;;\nb@x.nl;B;;C\n'
    _, rows = _rows(text)
    assert rows[0].values["first_name"] == "Jan; Piet"
    assert rows[0].values["last_name"] == 'de "Bakker"'
    assert rows[0].values["organisation"] == "Line 1\nLine 2"
    assert rows[1].line == 4  # the quoted line break makes line 3 part of line 2's record


def test_bom_columns_in_any_order_and_unknown_columns_ignored():
    _, rows = _rows("\ufeffLast_Name ; EMAIL;Remarks;first_name\nJansen;jan@x.nl;hi;Jan\n")
    assert rows[0].values == {"last_name": "Jansen", "email": "jan@x.nl", "first_name": "Jan"}
    table = open_table(b"email;first_name;last_name;Remarks\na@x.nl;A;B;x\n")
    assert table.ignored_columns == ["Remarks"]


def test_excel_sep_line_is_honoured():
    _, rows = _rows(f"sep=;\n{HEADER}\njan@x.nl;Jan;;Jansen\n")
    assert rows[0].line == 3


def test_extra_cells_are_counted_for_the_row_problem():
    _, rows = _rows("email;first_name;last_name\na@x.nl;A;B;;\nb@x.nl;Piet;de;Vries\n")
    assert rows[0].extra_cells == 0  # trailing empty separators are harmless
    assert rows[1].extra_cells == 1


def test_windows_1252_file_is_read():
    table, rows = _rows(f"{HEADER}\nzoe@x.nl;Zoë;’t;Hart\n", encoding="cp1252")
    assert table.encoding == "Windows-1252"
    assert rows[0].values["first_name"] == "Zoë"
    assert rows[0].values["infix"] == "’t"


@pytest.mark.parametrize(
    ("data", "code", "words"),
    [
        (b"", "empty", "The file is empty."),
        (b"\r\n\r\n", "empty", "The file is empty."),
        (f"{HEADER}\r\n".encode(), "header_only", "column titles but no users"),
        (f"{HEADER}\r\n;;;\r\n\r\n".encode(), "header_only", "no users"),
        (HEADER.replace(";", "\t").encode() + b"\n", "header_only", "no users"),
        (b"PK\x03\x04\x14\x00binary", "xlsx_unreadable", "not an Excel workbook"),
        (
            b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1old",
            "xls_unreadable",
            "old-style Excel file (.xls) is damaged",
        ),
        (b"\x00\x01\x02\x03garbage", "not_text", "not a text file"),
        (b"jan@x.nl;Jan;;Jansen\n", "no_header", "holds users, not the column titles"),
        (
            b"Naam van de persoon;Adres;last_name\nA;Dorpsstraat 1;B\n",
            "missing_columns",
            "renamed?",
        ),
        (b"first_name;last_name\nA;B\n", "missing_columns", "column “email” is missing"),
    ],
)
def test_files_that_cannot_be_imported_say_what_and_how_to_fix(data, code, words):
    problem = _problem(data)
    assert problem.code == code
    assert words in str(problem)
    assert problem.fix  # every message says how to put it right


def test_renamed_column_message_names_the_column_and_the_template():
    problem = _problem(b"Mailtje;first_name;last_name\nanna at x.nl;A;B\n")
    assert "“Mailtje”" in problem.message
    assert HEADER in problem.fix


def test_a_quote_never_closed_is_refused_with_the_line_it_opened_on():
    data = f'{HEADER}\na@x.nl;A;;B\nb@x.nl;"Bea;;C\nc@x.nl;Cor;;D\n'.encode()
    with pytest.raises(FileProblem) as info:
        list(open_table(data).rows())
    assert info.value.code == "quote_not_closed" and info.value.line == 3
    assert "opened on line 3 is never closed" in info.value.message
    # A value over several lines whose quote is closed is one cell, not a problem.
    data = f'{HEADER}\na@x.nl;"An\nna";;B\nc@x.nl;Cor;;D\n'.encode()
    assert [row.values["first_name"] for row in open_table(data).rows()] == ["An\nna", "Cor"]


def test_a_cell_of_any_size_is_read_and_only_its_row_is_refused():
    # A 1 MB value (pasted by mistake) in one row: the other rows read as they are, and
    # that row is refused on its own cell, as too long.
    data = f"{HEADER}\na@x.nl;{'x' * 1_000_000};;B\nb@x.nl;Bea;;C\n".encode()
    rows = list(open_table(data).rows())
    assert [len(row.values["first_name"]) for row in rows] == [1_000_000, 3]
    [problem] = validate_row(rows[0], {}).problems
    assert problem.column == "first_name" and "Too long: 1000000 characters" in problem.message
    assert validate_row(rows[1], {}).valid


def test_line_endings_lf_crlf_and_old_mac_cr_are_all_read():
    for ending in ("\n", "\r\n", "\r"):
        text = ending.join([HEADER, "a@x.nl;A;;B", "", "b@x.nl;C;;D"]) + ending
        table, rows = _rows(text)
        assert [(row.line, row.values["email"]) for row in rows] == [(2, "a@x.nl"), (4, "b@x.nl")]
        assert table.blank_lines == 1


def test_a_large_cell_reads_while_another_file_is_opened():
    # Rows are read as they are asked for, so a large file may still be read while a small
    # one is opened (two uploads in one gunicorn process): the csv module's field limit is
    # one for the whole process, and the small file must not lower it under the large one.
    first = "".join(f"u{i}@x.nl;U;;{i}\n" for i in range(50))  # read ahead when opened
    big = open_table(f"{HEADER}\n{first}b@x.nl;{'x' * 300_000};;C\n".encode())
    rows = big.rows()
    assert next(rows).values["email"] == "u0@x.nl"
    small = open_table(f"{HEADER}\nc@x.nl;C;;D\n".encode())
    assert len(list(rows)[-1].values["first_name"]) == 300_000
    assert [row.values["email"] for row in small.rows()] == ["c@x.nl"]
