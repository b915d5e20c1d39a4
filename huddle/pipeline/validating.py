"""Checking rows: each row becomes a normalised user plus the list of its problems.

Every message says what is wrong and how to fix it; the line and column come with it.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from operator import gt

from .addresses import check_email
from .columns import LEVEL_SEPARATOR, MAX_LENGTH, REQUIRED_COLUMNS, USER_COLUMNS
from .messages import N_, _
from .problems import Problem
from .reading import SourceRow
from .writing import unneutralise

_RULES = tuple((column, MAX_LENGTH[column], column in REQUIRED_COLUMNS) for column in USER_COLUMNS)
_BLANKS = ("",) * len(USER_COLUMNS)
_LIMITS = tuple(MAX_LENGTH[column] for column in USER_COLUMNS)
_REQUIRED_AT = tuple(USER_COLUMNS.index(column) for column in REQUIRED_COLUMNS)
# What to say of an empty required cell, per column (a whole sentence each, for translators).
_MISSING = {
    "email": N_(
        "The e-mail address is missing; every row needs one. Fill it in, or delete the row."
    ),
}

# Characters nobody means to type: control characters (line breaks excepted, Excel keeps them
# inside a cell), zero-width and direction marks, BOMs.
_STRANGE = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u2064\ufeff]"
)

# Text that went through a wrong encoding once: UTF-8 read as Windows-1252 ("ZoÃ«" for Zoë,
# "â€™" for ’). A name never looks like this on purpose.
_GARBLED = re.compile(
    "Ã[\u00a0-\u00bf\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192\u02c6\u02dc"
    "\u2013\u2014\u2018-\u201e\u2020-\u2022\u2026\u2030\u2039\u203a\u20ac\u2122]"
    "|â€[\u0080-\u00bf\u2018-\u201e\u2020-\u2022\u2026\u2122\u0153\u0161\u017e]"
)

# A "?" between letters: a writer with a single-byte encoding (Windows-1252) could not store
# a letter ("Wi?niewski" for Wiśniewski). Only in columns of words, where "?" is never meant.
_LOST_LETTER = re.compile(r"[^\W\d_]\?[^\W\d_]")
_WORD_COLUMNS = frozenset(("first_name", "infix", "last_name", "organisation", "job_title"))
REPLACEMENT_CHARACTER = "\ufffd"
# One encoder for every row's cells: json.dumps with an option builds a new encoder per call,
# a third of the time it takes for a row's nine short cells.
_cells_json = json.JSONEncoder(ensure_ascii=False).encode

# Language values as systems and people write them → the languages mails are written in.
_LANGUAGE_NAMES = {
    "nl": "nl",
    "dutch": "nl",
    "nederlands": "nl",
    "vlaams": "nl",
    "flemish": "nl",
    "en": "en",
    "english": "en",
    "engels": "en",
}


def language_code(value: str) -> str | None:
    """The language a cell means ("nl", "en"), "" for an empty cell, None when we don't know
    it: "nl_NL", "nl-BE", "NL", "Nederlands" and "Dutch" are all "nl"."""
    key = value.strip().lower().replace("_", "-")
    if not key or key in ("nl", "en"):
        return key
    return _LANGUAGE_NAMES.get(key) or _LANGUAGE_NAMES.get(key.split("-")[0].strip())


@dataclass(slots=True)
class CheckedRow:
    """A row as checked: its user, its levels, its problems, and its cells as they were."""

    line: int
    user: dict[str, str]  # normalised values of USER_COLUMNS
    levels: tuple[str, ...]  # level names as the database spells them
    problems: list[Problem] = field(default_factory=list)
    cells: dict[str, str] = field(default_factory=dict)  # the row as it was in the file
    # The same cells as JSON, when they come from a helper process (then ``cells`` is empty).
    cells_json: str = ""

    @property
    def email(self) -> str:
        return self.user["email"]

    @property
    def valid(self) -> bool:
        return not self.problems

    def cells_as_json(self) -> str:
        if not self.cells_json:  # made once: a row may need it twice
            self.cells_json = _cells_json(self.cells)
        return self.cells_json


def _describe(char: str) -> str:
    name = unicodedata.name(char, "CONTROL CHARACTER")
    return f"U+{ord(char):04X} {name}"


def clean(value: str) -> str:
    """A cell as we store it: surrounding (non-breaking) spaces trimmed, and our own export's
    formula guard (a leading ') taken off again."""
    return unneutralise(value.strip())


def _garbled_message(value: str) -> str:
    try:
        meant = value.encode("cp1252").decode("utf-8")
    except UnicodeError:
        meant = ""
    garbled = (
        _("“%(value)s” looks garbled (probably “%(meant)s”)", value=value, meant=meant)
        if meant
        else _("“%(value)s” looks garbled", value=value)
    )
    return _(
        "%(garbled)s: somewhere the file's letters were read with the wrong encoding. Choose "
        "another encoding under “Not read right?”, or retype the value.",
        garbled=garbled,
    )


def _replacement_message(value: str) -> str:
    return _(
        "“%(value)s” holds “�”, a letter that was lost before the file reached us. If other "
        "letters look wrong too, choose another encoding under “Not read right?”; if not, "
        "type the right letter here.",
        value=value,
    )


def _lost_letter_message(value: str) -> str:
    return _(
        "“%(value)s” has a “?” where a letter should be: the program that saved the file "
        "could not store that letter. Save the file as “CSV UTF-8” or as an Excel workbook "
        "and upload it again, or type the letter here.",
        value=value,
    )


def _language_problem(value: str) -> Problem:
    return Problem(
        "language",
        _(
            "“%(value)s” is not a language the mails are written in: write nl (Nederlands) or "
            "en (English), or leave it empty to use the import's mail language.",
            value=value,
        ),
    )


def _cell_problems(user: dict[str, str]) -> list[Problem]:
    """Missing, strange and too long values, column by column (the slow, thorough pass)."""
    problems = []
    for column, limit, required in _RULES:
        value = user[column]
        if not value:
            if required:
                problems.append(Problem(column, _(_MISSING[column])))
            continue
        strange = _STRANGE.search(value)
        if strange or (column == "email" and ("\n" in value or "\r" in value)):
            char = strange.group() if strange else ("\n" if "\n" in value else "\r")
            problems.append(
                Problem(
                    column,
                    _(
                        "Contains an invisible or control character (%(char)s) at position "
                        "%(position)s. Retype the value, or delete that character.",
                        char=_describe(char),
                        position=value.index(char) + 1,
                    ),
                )
            )
        elif _GARBLED.search(value):
            problems.append(Problem(column, _garbled_message(value)))
        elif REPLACEMENT_CHARACTER in value:
            problems.append(Problem(column, _replacement_message(value)))
        elif column in _WORD_COLUMNS and _LOST_LETTER.search(value):
            problems.append(Problem(column, _lost_letter_message(value)))
        elif len(value) > limit:
            problems.append(
                Problem(
                    column,
                    _(
                        "Too long: %(length)s characters where at most %(limit)s fit. Shorten it.",
                        length=len(value),
                        limit=limit,
                    ),
                )
            )
    return problems


def _email_problem(email: str, smtputf8: bool) -> tuple[str, Problem | None]:
    """The address normalised, and what is wrong with it (None when nothing is)."""
    normalised, error = check_email(email)
    if error:
        return normalised, Problem("email", error)
    if not smtputf8 and not email.partition("@")[0].isascii():
        message = _(
            "“%(email)s” has letters like “ü” before the @, and this Huddle's mail server "
            "cannot send to such addresses (SMTPUTF8 is off): give this person an address "
            "without them.",
            email=email,
        )
        return normalised, Problem("email", message)
    return normalised, None


def _levels(raw_levels: str, known_levels: Mapping[str, str], problems: list) -> list[str]:
    """The level names of a "levels" cell as the database spells them; unknown ones are
    added to ``problems``."""
    levels: list[str] = []
    for name in raw_levels.split(LEVEL_SEPARATOR) if raw_levels else ():
        name = name.strip()
        if not name:
            continue
        known = known_levels.get(name.lower())
        if known is None:
            existing = ", ".join(sorted(known_levels.values())) or _("none yet")
            problems.append(
                Problem(
                    "levels",
                    _(
                        "There is no level “%(name)s” (levels: %(existing)s). Fix the "
                        "spelling, or create the level first on the Levels page.",
                        name=name,
                        existing=existing,
                    ),
                )
            )
        elif known not in levels:
            levels.append(known)
    return levels


def validate_row(
    row: SourceRow, known_levels: Mapping[str, str], *, smtputf8: bool = True
) -> CheckedRow:
    """Check one row. ``known_levels`` maps lower-case level names to their spelling;
    without ``smtputf8`` (the mail server cannot take them) an address with letters beyond
    ASCII before the @ is refused."""
    values = row.values
    # map() over the columns rather than a loop: this runs for every row of every file.
    cleaned = list(map(str.strip, map(values.get, USER_COLUMNS, _BLANKS)))
    joined = " ".join(cleaned)
    if "'" in joined:
        cleaned = list(map(unneutralise, cleaned))
    user = dict(zip(USER_COLUMNS, cleaned))  # noqa: B905 (one value per column)
    # Most rows are complete, printable and short: three quick tests spare them the
    # column-by-column pass (isprintable() is false for control and invisible characters).
    if (
        all(map(cleaned.__getitem__, _REQUIRED_AT))
        and joined.isprintable()
        and "?" not in joined
        and (joined.isascii() or not (_GARBLED.search(joined) or REPLACEMENT_CHARACTER in joined))
        and not any(map(gt, map(len, cleaned), _LIMITS))
    ):
        problems: list[Problem] = []
    else:
        problems = _cell_problems(user)
    email = user["email"]
    # The address is checked last, and only when it passed the checks above.
    if email and not any(problem.column == "email" for problem in problems):
        user["email"], problem = _email_problem(email, smtputf8)
        if problem:
            problems.append(problem)
    language = language_code(user["language"])
    if language is None:
        if not any(problem.column == "language" for problem in problems):
            problems.append(_language_problem(user["language"]))
    else:
        user["language"] = language
    levels = _levels(clean(values.get("levels", "")), known_levels, problems)
    if row.extra_cells:
        problems.append(
            Problem(
                "",
                _(
                    "This line has more cells than the file has columns. A separator (; or ,) "
                    "inside a value needs quotes around that value."
                ),
            )
        )
    return CheckedRow(row.line, user, tuple(levels), problems, row.values)
