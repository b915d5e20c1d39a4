"""Importing users: stage an upload for the preview (staging), decide per row what it would
do (planning), and apply it in one transaction (applying). No web code here: the wizard, the
command line and the background job all call these."""

from .applying import ImportAlreadyRan, apply_import
from .staging import create_run, fix_cell, preview_rows, problem_rows_csv, stage

__all__ = [
    "ImportAlreadyRan",
    "apply_import",
    "create_run",
    "fix_cell",
    "preview_rows",
    "problem_rows_csv",
    "stage",
]
