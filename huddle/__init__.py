"""Huddle Users: bulk import and export of the users of a Huddle, for its admins.

``create_app`` puts the app together: configuration, extensions, blueprints, commands and
error pages, in that order, and nothing else.
"""

from __future__ import annotations

import os
from pathlib import Path

from flask import Flask

from . import access, errors, extensions, htmx, i18n, inputs, queue, security
from .auth.views import bp as auth_bp
from .cli import register_commands
from .config import engine_options, load_config
from .exports.views import bp as exports_bp
from .extensions import csrf, db, login_manager, migrate
from .imports.pages import bp as imports_bp  # the wizard (views.py) and the pages after it
from .levels.views import bp as levels_bp
from .system.views import bp as system_bp
from .users.views import bp as users_bp

ROOT = Path(__file__).resolve().parent.parent
BLUEPRINTS = (auth_bp, users_bp, levels_bp, imports_bp, exports_bp, system_bp)


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
    # Through the module: ``huddle.mail`` and ``huddle.htmx`` are modules of their own.
    extensions.mail.init_app(app)
    extensions.htmx.init_app(app)
    htmx.init_app(app)
    queue.init_app(app)
    access.init_app(app)
    security.init_app(app)
    i18n.init_app(app)
    inputs.init_app(app)

    for blueprint in BLUEPRINTS:
        app.register_blueprint(blueprint)
    register_commands(app)
    errors.init_app(app)
    return app
