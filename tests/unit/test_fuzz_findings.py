"""What fuzzing the reader found (bench/fuzz_pipeline.py), kept as tests: each input now gives
rows or one clear FileProblem, and in good time."""

import io
import signal
import zipfile
from contextlib import contextmanager

import pytest

from huddle.pipeline.problems import FileProblem
from huddle.pipeline.reading import open_table
from huddle.pipeline.xlsx import write_xlsx


@contextmanager
def answers_within(seconds: int):
    """Fail (instead of hanging the suite) when the block takes far longer than it should."""

    def too_slow(signum, frame):
        raise AssertionError(f"no answer within {seconds} s")

    previous = signal.signal(signal.SIGALRM, too_slow)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def _read(data: bytes) -> list[dict]:
    return [row.values for row in open_table(data).rows()]


def test_a_long_line_in_a_file_that_is_not_utf8_is_read_in_linear_time():
    # Found: the encoding sample looked for "a line with a non-ASCII byte" with a pattern
    # that backtracked over every long ASCII line: 100 KB took minutes.
    data = b"email;first_name;last_name\r\na@x.nl;" + b"x" * 400_000 + b";B\r\nz@x.nl;Zo\xeb;C\r\n"
    with answers_within(5):
        assert len(_read(data)[0]["first_name"]) == 400_000  # refused on its row, later
    # The sample still finds the accented line after the long one.
    short = b"email;first_name;last_name\r\na@x.nl;" + b"x" * 2000 + b";B\r\nz@x.nl;Zo\xeb;C\r\n"
    with answers_within(5):
        assert _read(short)[1]["first_name"] == "Zoë"


def _workbook(rows: int = 200) -> bytes:
    out = io.BytesIO()
    write_xlsx(([f"user{i}@x.nl", "Anna", "", f"Jansen {i}"] for i in range(rows)), out)
    return out.getvalue()


def _damage(data: bytes, member: str, where: float) -> bytes:
    """``data`` with bytes of ``member``'s compressed stream garbled at ``where`` (0–1)."""
    damaged = bytearray(data)
    info = zipfile.ZipFile(io.BytesIO(data)).getinfo(member)
    offset = info.header_offset
    name_length = int.from_bytes(damaged[offset + 26 : offset + 28], "little")
    extra_length = int.from_bytes(damaged[offset + 28 : offset + 30], "little")
    start = offset + 30 + name_length + extra_length + int(info.compress_size * where)
    for i in range(
        start, min(start + 16, offset + 30 + name_length + extra_length + info.compress_size)
    ):
        damaged[i] ^= 0x5A
    return bytes(damaged)


@pytest.mark.parametrize(
    ("member", "where"),
    [
        ("xl/styles.xml", 0.3),  # fails while the workbook is opened
        ("xl/workbook.xml", 0.3),
        ("xl/worksheets/sheet1.xml", 0.1),  # fails at the first rows
        ("xl/worksheets/sheet1.xml", 0.9),  # fails after many rows were read
    ],
)
def test_a_workbook_with_a_damaged_stream_is_one_clear_file_problem(member, where):
    # Found: a corrupt deflate stream raised zlib.error from deep inside zipfile.
    data = _damage(_workbook(), member, where)
    with pytest.raises(FileProblem) as refused:
        _read(data)
    assert refused.value.code == "xlsx_unreadable"
    assert "damaged" in refused.value.message
    assert _read(_workbook())[0]["email"] == "user0@x.nl"  # undamaged, it reads


def test_a_zip_that_needs_a_newer_zip_version_is_one_clear_file_problem():
    # Found: zipfile raised NotImplementedError ("zip file version 12.0") for a central
    # directory that asks for a version it does not support.
    data = bytearray(_workbook())
    directory = data.index(b"PK\x01\x02")
    data[directory + 6 : directory + 8] = (120).to_bytes(2, "little")  # version needed: 12.0
    with pytest.raises(FileProblem) as refused:
        _read(bytes(data))
    assert refused.value.code == "xlsx_unreadable"
