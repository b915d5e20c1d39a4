"""Dutch and English: which language a page or a mail is in, and numbers and dates to match.

A page is in the admin's own language (their ``language``), else the browser's first choice
of ours (``Accept-Language``), else English. A mail is in its recipient's language. The
catalogs are in ``huddle/translations/`` (``make translations`` updates them from the code).
"""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

from flask import Flask, g, has_request_context, request, session
from flask_babel import (
    Babel,
    force_locale,
    format_datetime,
    format_decimal,
    format_timedelta,
    get_locale,
    get_translations,
    gettext,
)
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from .pipeline import messages

LANGUAGES = {"en": "English", "nl": "Nederlands"}
DEFAULT_LANGUAGE = "en"
TRANSLATIONS = Path(__file__).resolve().parent / "translations"

babel = Babel()


def init_app(app: Flask) -> None:
    """Languages for pages; filters for numbers, dates and sizes; the pipeline's messages in
    the page's language."""
    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT_LANGUAGE)
    app.config.setdefault("BABEL_DEFAULT_TIMEZONE", "UTC")
    babel.init_app(
        app, locale_selector=page_language, default_translation_directories=str(TRANSLATIONS)
    )
    app.jinja_env.filters["number"] = format_decimal
    app.jinja_env.filters["datetime"] = lambda value: (
        format_datetime(value, "d MMM y HH:mm") if value else ""
    )
    app.jinja_env.filters["date"] = lambda value: format_datetime(value, "d MMM y") if value else ""
    app.jinja_env.filters["filesize"] = format_filesize
    app.jinja_env.filters["time_left"] = format_time_left
    app.jinja_env.filters["ago"] = format_ago
    app.jinja_env.globals["LANGUAGES"] = LANGUAGES
    app.jinja_env.globals["current_locale_code"] = lambda: str(get_locale() or DEFAULT_LANGUAGE)
    app.jinja_env.globals["status_label"] = status_label
    app.before_request(_pipeline_in_page_language)
    app.teardown_request(_pipeline_language_reset)


def page_language() -> str:
    """The language of the page being built (see the module's docstring)."""
    if not has_request_context():  # a job or a command: English unless told otherwise
        return DEFAULT_LANGUAGE
    if current_user and current_user.is_authenticated and current_user.language in LANGUAGES:
        return current_user.language
    if session.get("language") in LANGUAGES:  # chosen in the header before logging in
        return session["language"]
    return request.accept_languages.best_match(LANGUAGES) or DEFAULT_LANGUAGE


def ngettext(singular: str, plural: str, n: int, **values) -> str:
    """The singular or plural text for ``n`` in the current language, with ``%(num)s`` the
    count as the language writes it ("1,200" in English, "1.200" in Dutch)."""
    text = get_translations().ngettext(singular, plural, n)
    return text % {"num": format_decimal(n), **values}


def format_filesize(size: int) -> str:
    """A file's size in bytes, KB or MB, with the numbers as the language writes them."""
    if size < 1024:
        return ngettext("%(num)s byte", "%(num)s bytes", size)
    if size < 1024 * 1024:
        return f"{format_decimal(round(size / 1024))} KB"
    return f"{format_decimal(round(size / (1024 * 1024), 1))} MB"


def format_time_left(seconds: float) -> str:
    """How long work still takes, said roughly: "less than a minute left", "about 3 minutes
    left", "about 1 hour left"."""
    if seconds < 60:
        return gettext("less than a minute left")
    rounded = format_timedelta(timedelta(seconds=seconds), threshold=1.0)
    return gettext("about %(time)s left", time=rounded)


def format_ago(moment: datetime) -> str:
    """How long ago ``moment`` (naive UTC) was, in words: "3 hours ago", "just now"."""
    seconds = (datetime.now(UTC).replace(tzinfo=None) - moment).total_seconds()
    if seconds < 60:
        return gettext("just now")
    return format_timedelta(timedelta(seconds=-seconds), add_direction=True, threshold=1.0)


def language_of(user) -> str:
    """A user's language for mails: theirs when we have it (nl, en), else English."""
    language = (getattr(user, "language", "") or "").lower()
    return language if language in LANGUAGES else DEFAULT_LANGUAGE


@contextlib.contextmanager
def in_language(language: str):
    """Everything in the block (templates, messages, the file pipeline's messages) in
    ``language``; for mails and jobs, which have no request to take it from."""
    with force_locale(language), messages.translated_by(get_translations()):
        yield


def _pipeline_in_page_language() -> None:
    """The file pipeline's messages (checking an upload, fixing a cell) in the page's
    language, for the whole request. Not for static files: they need no language, and
    finding it would load the logged-in user."""
    if request.endpoint != "static":
        g.pipeline_language = messages.use(get_translations())


def _pipeline_language_reset(_exc=None) -> None:
    token = g.pop("pipeline_language", None)
    if token is not None:
        messages.reset(token)


STATUS_LABELS = {
    "draft": _l("draft"),
    "checking": _l("checking"),
    "queued": _l("queued"),
    "running": _l("running"),
    "done": _l("done"),
    "failed": _l("failed"),
    "rejected": _l("rejected"),
    "expired": _l("expired"),
}


def status_label(status: str) -> str:
    """An import's or export's status, in words."""
    return str(STATUS_LABELS.get(status, status))
