"""Properties of the reader, for any input: it never fails with anything but a clear
FileProblem, and a table written as CSV reads back to the same values."""

import csv
import io

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from huddle.pipeline.columns import TEMPLATE_COLUMNS
from huddle.pipeline.problems import FileProblem
from huddle.pipeline.reading import ReadOptions, open_table

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _read_all(data: bytes, options: ReadOptions | None = None) -> list[dict]:
    table = open_table(data, options)
    return [row.values for row in table.rows()]


@SETTINGS
@given(st.binary(max_size=2000))
def test_any_bytes_give_rows_or_one_clear_file_problem(data):
    try:
        _read_all(data)
    except FileProblem as problem:
        assert problem.code and problem.message and problem.fix


@SETTINGS
@given(
    st.lists(
        st.sampled_from([b"email;first_name;last_name\r\n", b"a@x.nl;A;B\r\n", b";;\r\n", b'"'])
        | st.binary(max_size=30),
        max_size=20,
    )
)
def test_csv_like_bytes_give_rows_or_one_clear_file_problem(pieces):
    try:
        _read_all(b"".join(pieces))
    except FileProblem as problem:
        assert problem.code and problem.message and problem.fix


# Text each encoding can hold; no NUL (no CSV program writes one) and no BOM character inside.
ALPHABETS = {
    "utf-8": st.characters(exclude_categories=["Cs"], exclude_characters="\x00\ufeff"),
    "utf-16": st.characters(exclude_categories=["Cs"], exclude_characters="\x00\ufeff"),
    "cp1252": st.characters(codec="cp1252", exclude_characters="\x00"),
    "mac_roman": st.characters(codec="mac_roman", exclude_characters="\x00"),
}


@st.composite
def tables(draw):
    encoding = draw(st.sampled_from(sorted(ALPHABETS)))
    delimiter = draw(st.sampled_from([";", ",", "\t"]))
    value = st.text(ALPHABETS[encoding], max_size=12)
    # Every row has an address-like first value, so none of them is a blank line.
    row = st.tuples(st.from_regex(r"[a-z]{1,8}@x\.nl", fullmatch=True), *[value] * 8)
    rows = draw(st.lists(row, min_size=1, max_size=8))
    ending = draw(st.sampled_from(["\r\n", "\n"]))
    return encoding, delimiter, ending, rows


@SETTINGS
@given(tables())
def test_any_table_written_as_csv_reads_back_the_same(table):
    encoding, delimiter, ending, rows = table
    text = io.StringIO()
    # Python quotes a value with a line break only when the break is in its line ending:
    # with "\n" endings a lone "\r" would go unquoted, so those files quote every value.
    quoting = csv.QUOTE_MINIMAL if ending == "\r\n" else csv.QUOTE_ALL
    writer = csv.writer(text, delimiter=delimiter, lineterminator=ending, quoting=quoting)
    writer.writerow(TEMPLATE_COLUMNS)
    writer.writerows(rows)
    data = text.getvalue().encode(encoding)
    # UTF-8 and UTF-16 (with its BOM) are detected for certain; a single-byte encoding is a
    # judgement on names, which random text is not, so there the encoding is given.
    options = ReadOptions(encoding=encoding) if encoding in ("cp1252", "mac_roman") else None
    read = _read_all(data, options)
    assert [tuple(values[column] for column in TEMPLATE_COLUMNS) for values in read] == rows
