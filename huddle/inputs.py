"""What a request may carry before any of it reaches the database: path ids the database can
hold, and no NUL characters (numbers in the query: ``huddle.bounds``).

A path id over 2^63 - 1 is no page (404), as a text id is; a NUL character (which PostgreSQL
cannot store in text, and no person types) is refused with a page that says so (400). So odd
input is answered, never a 500.
"""

from __future__ import annotations

from itertools import chain

from flask import Flask, request
from flask_babel import gettext as _
from werkzeug.exceptions import BadRequest
from werkzeug.routing import IntegerConverter

from .bounds import MAX_ID


class IdConverter(IntegerConverter):
    """``<id:name>``: a database id in a path, 0 to MAX_ID; anything else matches no route."""

    def __init__(self, url_map, **kwargs):
        super().__init__(url_map, min=0, max=MAX_ID)


class NulCharacter(BadRequest):
    """A request held a NUL character."""


def init_app(app: Flask) -> None:
    """The ``id`` converter for routes, and the NUL check before every request."""
    app.url_map.converters["id"] = IdConverter
    app.before_request(refuse_nul_characters)


def refuse_nul_characters() -> None:
    """Refuse (400) a request whose path, query, form fields or file names hold a NUL."""
    values = [request.path, *chain.from_iterable(request.args.listvalues())]
    values += chain.from_iterable(request.form.listvalues())
    values += [file.filename or "" for file in request.files.values()]
    if any("\x00" in value for value in values):
        raise NulCharacter(
            _(
                "What was sent holds an invisible NUL character (\\0), which cannot be stored. "
                "Remove it (retype the text, or save the file again from your spreadsheet) "
                "and try again."
            )
        )
