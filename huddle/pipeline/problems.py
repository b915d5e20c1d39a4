"""What can be wrong with a file: the file as a whole (``FileProblem``: nothing of it can be
imported) or one cell of one row (``Problem``: that row is skipped until it is fixed)."""

from __future__ import annotations

from dataclasses import dataclass


class FileProblem(Exception):
    """The file as a whole cannot be read. ``code`` is stable (for scripts and tests);
    ``message`` says what is wrong, ``fix`` how to put it right."""

    def __init__(self, code: str, message: str, fix: str, line: int | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.fix = fix
        self.line = line
        # With "missing_columns": which are missing, and the file's (title, first values).
        self.missing: list[str] = []
        # Of first and last name, those the file has no column for either (not required:
        # existing users need only their address), to ask for alongside.
        self.lacking: list[str] = []
        self.columns: list[tuple[str, list[str]]] = []
        # A column of whole names that could be split: {"title", "examples"} (or {}).
        self.split: dict = {}

    def __str__(self) -> str:
        return f"{self.message} {self.fix}"


@dataclass(frozen=True, slots=True)
class Problem:
    """A problem of one row: what is wrong with it and how to fix it."""

    column: str  # a template column, or "" for the row as a whole
    message: str
