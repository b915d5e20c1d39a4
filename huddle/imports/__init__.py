"""The import wizard (template, upload & check, levels, mails, confirm), the import's own page
with its progress and outcome, and the history of imports."""

from flask import Blueprint

bp = Blueprint("imports", __name__, url_prefix="/imports")

from . import history, views  # noqa: E402,F401  (register the routes)
