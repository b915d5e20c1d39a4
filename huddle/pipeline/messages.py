"""The file pipeline's messages in the reader's language, without any web framework.

Messages are written in English inside ``_()`` (so the catalog tools find them) and
translated by whatever the caller set with ``translated_by``: the web app sets the admin's
language around a check; anyone else (the command line, a script) gets English. A forked
helper process inherits the setting with the rest of its parent's state.
"""

from __future__ import annotations

import contextlib
import contextvars
from typing import Protocol


class Translations(Protocol):
    """What translates: gettext and ngettext, as Babel's translations have them."""

    def gettext(self, message: str) -> str: ...

    def ngettext(self, singular: str, plural: str, n: int) -> str: ...


_current: contextvars.ContextVar[Translations | None] = contextvars.ContextVar(
    "pipeline_translations", default=None
)


def N_(message: str) -> str:
    """Marks ``message`` for the catalog without translating it (yet): for constants that
    are translated with ``_`` where they are used."""
    return message


def _(message: str, **values) -> str:
    """``message`` in the current language, with ``values`` filled in (``%(name)s``)."""
    translations = _current.get()
    text = translations.gettext(message) if translations else message
    return text % values if values else text


def ngettext(singular: str, plural: str, n: int, **values) -> str:
    """The singular or plural form for ``n``, translated; ``%(num)s`` is ``n``."""
    translations = _current.get()
    if translations:
        text = translations.ngettext(singular, plural, n)
    else:
        text = singular if n == 1 else plural
    return text % {"num": n, **values}


def use(translations: Translations | None) -> contextvars.Token:
    """From now on (in this context), translate by ``translations``; ``reset`` undoes it."""
    return _current.set(translations)


def reset(token: contextvars.Token) -> None:
    """Undo a ``use``."""
    _current.reset(token)


@contextlib.contextmanager
def translated_by(translations: Translations | None):
    """Messages made in this block are translated by ``translations``."""
    token = use(translations)
    try:
        yield
    finally:
        reset(token)
