"""Huddle Users: bulk import and export of the users of a Huddle, for its admins."""

from __future__ import annotations

import os
from pathlib import Path

from flask import Flask
from flask_babel import format_decimal
from sqlalchemy import event
from sqlalchemy.engine import Engine

from . import access, i18n, queue, security
from .config import engine_options, load_config
from .extensions import csrf, db, htmx, login_manager, mail, migrate

ROOT = Path(__file__).resolve().parent.parent


def create_app(overrides: dict | None = None) -> Flask:
    """Build the app: config from the environment (then ``overrides``), extensions, blueprints."""
    app = Flask(
        __name__,
        instance_path=os.environ.get("HUDDLE_INSTANCE_PATH") or str(ROOT / "instance"),
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    app.config.from_mapping(load_config(Path(app.instance_path)))
    app.config.update(overrides or {})
    # Derived from the final database URL (tests and benchmarks override it).
    app.config.setdefault(
        "SQLALCHEMY_ENGINE_OPTIONS", engine_options(app.config["SQLALCHEMY_DATABASE_URI"])
    )

    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"))
    login_manager.init_app(app)
    csrf.init_app(app)
    mail.init_app(app)
    htmx.init_app(app)
    queue.init_app(app)
    access.init_app(app)
    security.init_app(app)
    i18n.init_app(app)

    from .auth import bp as auth_bp
    from .exports import bp as exports_bp
    from .imports import bp as imports_bp
    from .levels import bp as levels_bp
    from .system import bp as system_bp
    from .users import bp as users_bp

    app.register_blueprint(auth_bp)
    app.register_blueprint(users_bp)
    app.register_blueprint(levels_bp)
    app.register_blueprint(imports_bp)
    app.register_blueprint(exports_bp)
    app.register_blueprint(system_bp)

    from .cli import register_commands

    register_commands(app)
    _register_template_helpers(app)
    _register_error_pages(app)
    return app


def _register_error_pages(app: Flask) -> None:
    from flask import render_template, request
    from flask_babel import gettext as _
    from htmx_flask import make_response
    from markupsafe import escape
    from werkzeug.exceptions import Forbidden, NotFound, RequestEntityTooLarge

    # The common refusals as pages of our own, in the reader's language.
    @app.errorhandler(NotFound)
    def not_found(_error):
        message = _("This page does not exist (any more). Check the address, or start again.")
        return render_template("error.html", title=_("Page not found"), message=message), 404

    @app.errorhandler(Forbidden)
    def forbidden(_error):
        message = _("This page is for the Huddle's admins. Ask an admin if you need it.")
        return render_template("error.html", title=_("No access"), message=message), 403

    @app.errorhandler(RequestEntityTooLarge)
    def too_large(_error):
        limit = app.config["MAX_CONTENT_LENGTH"] // (1024 * 1024)
        message = _(
            "That file is too large: at most %(limit)s MB can be uploaded. Split it into "
            "smaller files, or import it with `flask users import`.",
            limit=limit,
        )
        if getattr(request, "htmx", False):
            # Show it in the upload form the admin is looking at.
            fragment = f'<p class="errors" role="alert">{escape(message)}</p>'
            return make_response(fragment, retarget="#wizard .upload", reswap="beforeend")
        return render_template("error.html", title=_("File too large"), message=message), 413


def _register_template_helpers(app: Flask) -> None:
    @app.template_filter("filesize")
    def format_filesize(size: int) -> str:
        if size < 1024:
            return i18n.ngettext("%(num)s byte", "%(num)s bytes", size)
        if size < 1024 * 1024:
            return f"{format_decimal(round(size / 1024))} KB"
        return f"{format_decimal(round(size / (1024 * 1024), 1))} MB"


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, _record) -> None:
    """SQLite settings, per connection: enforce ON DELETE CASCADE; WAL, so that pages keep
    reading while an import writes; and a page cache large enough for bulk imports."""
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA cache_size=-65536")  # 64 MB
        cursor.close()
