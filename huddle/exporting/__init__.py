"""Exporting users: which users (selection), their rows in the template's columns (rows),
the file kept in the database in pieces (storage), and the export as a whole, run by the
background job or the command line (running). No web code here."""

from .running import (
    ExportLinkError,
    cleanup_expired,
    create_export,
    download_token,
    export_for_token,
    run_export,
    start_export,
    write_export,
)
from .selection import describe_selection

__all__ = [
    "ExportLinkError",
    "cleanup_expired",
    "create_export",
    "describe_selection",
    "download_token",
    "export_for_token",
    "run_export",
    "start_export",
    "write_export",
]
