"""Running the app's own commands as separate processes in tests."""

import os


def worker_env(app, smtp_sink) -> dict:
    """The environment for a `flask worker` process that shares this test's database,
    embedded Redis and SMTP server."""
    return {
        **os.environ,
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "HUDDLE_INSTANCE_PATH": os.environ["HUDDLE_INSTANCE_PATH"],
        "RQ_QUEUE": app.config["RQ_QUEUE"],
        "MAIL_SERVER": "127.0.0.1",
        # Real mail (MAIL_SERVER) means production mode, where SECRET_KEY is required.
        "SECRET_KEY": app.config["SECRET_KEY"],
        "MAIL_PORT": str(smtp_sink["port"]),
        "HUDDLE_BASE_URL": app.config["HUDDLE_BASE_URL"],
    }
