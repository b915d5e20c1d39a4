"""The Levels page: create, rename, describe and delete access levels."""

from flask import Blueprint

bp = Blueprint("levels", __name__)

from . import views  # noqa: E402,F401  (registers the routes)
