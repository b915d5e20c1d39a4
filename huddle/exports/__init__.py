"""Exports: asking for one from Users › Manage, its progress, the admin's list of exports,
and downloading the file (from the list, or from the signed link in the mail)."""

from flask import Blueprint

bp = Blueprint("exports", __name__, url_prefix="/exports")

from . import views  # noqa: E402,F401  (registers the routes)
