"""A text file's records: the encoding (encodings.py) and separator found, quoted values
over several lines read as one, an Excel "sep=;" line honoured, and a quote that never closes
named by the line it opened on. Files that are no text (binary, JSON) are refused here."""

from __future__ import annotations

import csv
import io
import itertools
from collections.abc import Iterator

from .columns import DELIMITER, column_for_title
from .encodings import detect_encoding
from .messages import N_, _
from .problems import FileProblem
from .titles import ADDRESS, HEADER_LOOKAHEAD

# Python's csv module refuses a field over its limit (128 KB by default). A cell of any size up
# to the upload limit is read, and refused on its own row when too long for its column, so
# there is no limit: the file's own size bounds a field. The limit is one for the whole
# process; it is set once here, never per file (a file read in one thread while another is
# opened would get the other's).
csv.field_size_limit(2**31 - 1)

# The separators we read, and how the admin hears of them.
SEPARATORS = {";": N_("semicolon-separated"), ",": N_("comma-separated"), "\t": N_("tab-separated")}


def check_readable(data: bytes) -> None:
    """``FileProblem`` for a file that is no text to read as a table (JSON, binary)."""
    head = data[:4096]
    if _looks_like_json(head):
        raise FileProblem(
            "json",
            _("This is a JSON file: it holds data, but not as a table of rows and columns."),
            _(
                "Export the users from the other system as CSV or as an Excel workbook, or "
                "fill in the template, and upload that."
            ),
        )
    if b"\x00" in head and not head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise FileProblem(
            "not_text",
            _("This is not a text file or an Excel workbook, so it cannot be read."),
            _("Upload the template filled in and saved as CSV (semicolon separated) or .xlsx."),
        )


def _looks_like_json(head: bytes) -> bool:
    """A JSON document or JSON lines: it opens with { or [ followed by a quote, a brace or a
    bracket (a CSV line never does: its first title would be "{" or "[")."""
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    return text[:1] in (b"{", b"[") and text[1:].lstrip()[:1] in (b'"', b"{", b"[", b"}", b"]")


def _records(
    lines: Iterator[str], delimiter: str, first_line: int = 1
) -> Iterator[tuple[int, list[str]]]:
    """(line the record starts on, cells) for every record, blank ones included; the first
    of ``lines`` is line ``first_line`` of the file. A quote (") that is opened and never
    closed is a ``FileProblem`` naming the line it opened on (the csv module would read the
    rest of the file into that one value)."""
    taken: list[str] = []  # the lines of the record being read

    def taking(lines: Iterator[str]) -> Iterator[str]:
        for text in lines:
            taken.append(text)
            yield text

    reader = csv.reader(taking(lines), delimiter=delimiter)
    offset = first_line - 1
    line = first_line
    try:
        for cells in reader:
            # Only a record over several lines, or the file's unfinished last line, can end
            # inside a quote (only the file's end ends an open quote).
            if (len(taken) > 1 or not taken[-1].endswith(("\n", "\r"))) and _open_quote(
                "".join(taken), delimiter
            ):
                raise _quote_not_closed(line)
            taken.clear()
            yield line, cells
            line = offset + reader.line_num + 1
    except csv.Error as exc:
        raise _broken_record(exc, line) from exc


def _open_quote(record: str, delimiter: str) -> bool:
    """Whether ``record`` ends inside a quoted value (as the csv module reads it: a quote
    opens a value only at its start; inside, two quotes are one)."""
    quoted, at_start = False, True
    index = 0
    while index < len(record):
        char = record[index]
        if quoted:
            if char == '"':
                if record[index + 1 : index + 2] == '"':
                    index += 1
                else:
                    quoted = False
        elif char == '"' and at_start:
            quoted = True
        at_start = not quoted and char in (delimiter, "\n", "\r")
        index += 1
    return quoted


def _quote_not_closed(line: int) -> FileProblem:
    return FileProblem(
        "quote_not_closed",
        _(
            'A quote (") opened on line %(line)s is never closed, so everything after it would '
            "be one value.",
            line=line,
        ),
        _("Close the quote on that line, or delete it, and upload the file again."),
        line,
    )


def _broken_record(exc: csv.Error, line: int) -> FileProblem:
    return FileProblem(
        "unreadable_line",
        _("Line %(line)s cannot be read: %(error)s.", line=line, error=exc),
        _("Remove strange characters from that line, or retype it."),
        line,
    )


def _guess_delimiter(lines: list[str]) -> str:
    """The separator that splits one of the first lines into the most titles we know (then
    the last line, the first with an address, into the most cells); ";" when nothing tells."""

    def score(delimiter: str) -> tuple[int, int, bool]:
        known = 0
        cells: list[str] = []
        for line in lines:
            try:
                cells = next(csv.reader([line], delimiter=delimiter), [])
            except csv.Error:
                # A line this separator cannot split (the reader of the records would
                # refuse it too): not this one.
                return -1, 0, False
            known = max(known, sum(1 for title in cells if column_for_title(title)))
        return known, len(cells), delimiter == DELIMITER

    return max(SEPARATORS, key=score)


def text_records(
    data: bytes, encoding_chosen: str | None = None, delimiter_chosen: str | None = None
):
    """(records, encoding, delimiter, the first line after a "sep=" line) of a text file,
    in the encoding and with the separator the admin chose, else as found. The first lines,
    up to the first one with an address, are read here to judge the separator (an Excel
    "sep=;" line first wins)."""
    encoding = detect_encoding(data, encoding_chosen)
    stream = io.TextIOWrapper(
        io.BytesIO(data), encoding=encoding.codec, errors="replace", newline=""
    )
    peeked: list[str] = []
    hint = None
    first_line = 1
    filled = 0
    for line in stream:
        text = line.strip().strip("\ufeff")
        if first_line == 1 and not peeked and text.lower().startswith("sep=") and len(text) <= 6:
            hint = text[4:5] or None  # Excel's "sep=;" (or "sep=,") first line
            first_line = 2
            continue
        peeked.append(line)
        if text.strip(' \t;,"'):
            filled += 1
            if filled >= HEADER_LOOKAHEAD or ("@" in text and ADDRESS.search(text)):
                break
    filled_lines = [line for line in peeked if line.strip(' \t\r\n;,"')]
    delimiter = (
        delimiter_chosen or (hint if hint in SEPARATORS else None) or _guess_delimiter(filled_lines)
    )
    records = _records(itertools.chain(peeked, stream), delimiter, first_line)
    return records, encoding, delimiter, first_line
