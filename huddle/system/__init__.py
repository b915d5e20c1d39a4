"""The System page (database, queue and mail health) and the dev Outbox."""

from flask import Blueprint

bp = Blueprint("system", __name__)

from . import views  # noqa: E402,F401  (registers the routes)
