"""Users > Manage (the list), and one user's page with their fields and levels."""

from flask import Blueprint

bp = Blueprint("users", __name__)

from . import views  # noqa: E402,F401  (registers the routes)
