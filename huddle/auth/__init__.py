"""Logging in and out, forgotten passwords, set-password links, and a member's own page."""

from flask import Blueprint

bp = Blueprint("auth", __name__)

from . import views  # noqa: E402,F401  (registers the routes)
