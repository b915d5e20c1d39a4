"""Where a file's column titles are and what they stand for: the title line found below
notes, version lines and group rows; its titles mapped to template columns (with the admin's
own mappings); the e-mail column found by its addresses when no title names it; and, when
required columns are missing, what the mapping step offers."""

from __future__ import annotations

import itertools
import re

from .columns import (
    COLUMN_BY_TITLE,
    DELIMITER,
    IGNORE,
    TEMPLATE_COLUMNS,
    column_for_title,
    holds_full_names,
    title_key,
)
from .messages import _, ngettext
from .names import split_name
from .problems import FileProblem

TEMPLATE_HEADER = DELIMITER.join(TEMPLATE_COLUMNS)

# How far down the file the title line is looked for: a few lines of notes, a system's version
# line or a group row above the titles are common; a page of them is not.
HEADER_LOOKAHEAD = 30
# A cell that holds an e-mail address (loosely: the real check is validating.py's).
ADDRESS = re.compile(r"[^@\s;,]+@[^@\s;,]+\.[^@\s;,]+")


def split_offer(header: list[str], columns, sample) -> dict:
    """A column of whole names the admin may have split: its title and a few of its names as
    they would be split ({} when the file has none)."""
    for index, title in enumerate(header):
        mapped = columns[index] if index < len(columns) else None
        if mapped is None and title.strip() and holds_full_names(title):
            names = [cells[index].strip() for _line, cells in sample if index < len(cells)]
            examples = [[name, *split_name(name)] for name in names if name][:3]
            return {"title": title.strip(), "examples": examples}
    return {}


def titles_with(aliases: dict[str, str] | None) -> dict[str, str]:
    """title_key → template column: the titles we know, with the admin's own."""
    if not aliases:
        return COLUMN_BY_TITLE
    return {**COLUMN_BY_TITLE, **{title_key(title): name for title, name in aliases.items()}}


def has_address(cells: list[str]) -> bool:
    """Whether one of ``cells`` holds an e-mail address."""
    return any("@" in cell and ADDRESS.search(cell) for cell in cells)


def find_header(records, by_title: dict[str, str], chosen_line: int | None):
    """(line of the titles, the titles, blank lines above them, the records after them).

    The titles are the line the admin chose or, of the lines above the first one with an
    address (at most ``HEADER_LOOKAHEAD`` of them), the one with the most titles we know
    (the last of equals); when none is known, the line right above the first address."""
    if chosen_line:
        return _header_at(records, chosen_line)
    lines: list[tuple[int, list[str]]] = []  # non-blank records, in order
    taken = []
    for line, cells in records:
        taken.append((line, cells))
        if not any(cell.strip() for cell in cells):
            continue
        lines.append((line, cells))
        if has_address(cells) or len(lines) >= HEADER_LOOKAHEAD:
            break
    if not lines:
        raise FileProblem("empty", _("The file has only blank lines."), _("Fill in the template."))
    above = lines[:-1] if has_address(lines[-1][1]) else lines
    if not above:
        header = lines[0]  # no titles at all: the mapping says so ("no_header")
    else:

        def known(index: int) -> tuple[int, int]:
            cells = above[index][1]
            return sum(1 for title in cells if column_for_title(title, by_title)), index

        best = max(range(len(above)), key=known)
        if known(best)[0] == 0:
            best = len(above) - 1 if len(above) < len(lines) else 0
        header = above[best]
    position = taken.index(header)
    blanks = sum(1 for _line, cells in taken[:position] if not any(c.strip() for c in cells))
    return header[0], header[1], blanks, itertools.chain(taken[position + 1 :], records)


def _header_at(records, chosen_line: int):
    """``find_header`` for a line the admin chose: that line, or the first filled one after."""
    blanks = 0
    for line, cells in records:
        if line >= chosen_line and any(cell.strip() for cell in cells):
            return line, cells, blanks, records
        blanks += not any(cell.strip() for cell in cells)
    raise _no_titles_at(chosen_line)


def _no_titles_at(line: int) -> FileProblem:
    return FileProblem(
        "no_titles_at_line",
        _("The file has no line %(line)s with column titles.", line=line),
        _("Choose the line the column titles are on, or “Detect”."),
        line,
    )


def address_column(columns: list[str | None], sample) -> int | None:
    """The first unmapped column whose values in ``sample`` are mostly e-mail addresses."""
    width = max((len(cells) for _line, cells in sample), default=0)
    for index in range(width):
        if index < len(columns) and columns[index] is not None:
            continue
        values = [cells[index].strip() for _line, cells in sample if index < len(cells)]
        values = [value for value in values if value]
        addresses = sum(1 for value in values if ADDRESS.fullmatch(value))
        if values and addresses >= 0.8 * len(values):
            while len(columns) <= index:
                columns.append(None)
            return index
    return None


def column_samples(header: list[str], records, count: int = 3) -> list[tuple[str, list[str]]]:
    """(title, its first few non-blank values) for every titled column of the file."""
    samples: list[list[str]] = [[] for _ in header]
    for _line, cells in itertools.islice(records, 50):
        for index, cell in enumerate(cells[: len(header)]):
            if cell.strip() and len(samples[index]) < count:
                samples[index].append(cell.strip()[:40])
    return [(title.strip(), samples[i]) for i, title in enumerate(header) if title.strip()]


def map_header(
    header: list[str], by_title: dict[str, str]
) -> tuple[list[str | None], list[str], dict[str, list[str]]]:
    """(per column of the file its template column or None, the titles not understood, the
    template columns more than one column stands for with those columns' titles)."""
    columns: list[str | None] = []
    ignored = []
    titles: dict[str, list[str]] = {}
    for title in header:
        name = column_for_title(title, by_title)
        if name == IGNORE:
            name = None  # the admin said so: listed with the columns not used
        columns.append(name)
        if name is not None:
            titles.setdefault(name, []).append(title.strip())
        elif title.strip():
            ignored.append(title.strip())
    while columns and columns[-1] is None and not header[len(columns) - 1].strip():
        columns.pop()  # trailing empty titles (";;;" at the end of the header)
    merged = {name: both for name, both in titles.items() if len(both) > 1}
    return columns, ignored, merged


def missing_columns(missing: list[str], ignored: list[str], header: list[str]) -> FileProblem:
    """The problem of a header without the required ``missing`` columns, in words that
    help: titles that hold users, or the titles we did not know."""
    if any("@" in cell for cell in header):
        return FileProblem(
            "no_header",
            _("The first line holds users, not the column titles."),
            _("Put the template's title line first: %(header)s", header=TEMPLATE_HEADER),
            1,
        )
    names = ", ".join(f"“{name}”" for name in missing)
    message = ngettext(
        "The required column %(names)s is missing.",
        "The required columns %(names)s are missing.",
        len(missing),
        names=names,
    )
    if ignored:
        message += " " + ngettext(
            "The file has a column %(titles)s that the template does not have: was it renamed?",
            "The file has columns %(titles)s that the template does not have: were columns "
            "renamed?",
            len(ignored),
            titles=", ".join(f"“{title}”" for title in ignored),
        )
    problem = FileProblem(
        "missing_columns",
        message,
        _(
            "Say below which columns hold them, or keep the titles as in the template: %(header)s",
            header=TEMPLATE_HEADER,
        ),
        1,
    )
    problem.missing = missing
    return problem
