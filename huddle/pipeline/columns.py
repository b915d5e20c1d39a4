"""The columns of the import template (and of exports), in order, with their limits."""

from __future__ import annotations

from .messages import N_

TEMPLATE_COLUMNS = (
    "email",
    "first_name",
    "infix",
    "last_name",
    "phone",
    "organisation",
    "job_title",
    "language",
    "levels",
)
REQUIRED_COLUMNS = ("email", "first_name", "last_name")
DELIMITER = ";"
# Several levels in one cell: "Basis|Pro".
LEVEL_SEPARATOR = "|"

# The longest value each column takes; the database columns are declared from this too.
MAX_LENGTH = {
    "email": 254,
    "first_name": 100,
    "infix": 30,
    "last_name": 100,
    "phone": 40,
    "organisation": 200,
    "job_title": 200,
    "language": 10,
}

# The columns stored on the user (all but "levels"), in template order.
USER_COLUMNS = tuple(MAX_LENGTH)

# What the admin sees for each column in messages.
# In words, for messages; translated where they are used (``_(LABELS[column])``).
LABELS = {
    "email": N_("e-mail address"),
    "first_name": N_("first name"),
    "infix": N_("infix"),
    "last_name": N_("last name"),
    "phone": N_("phone"),
    "organisation": N_("organisation"),
    "job_title": N_("job title"),
    "language": N_("language"),
    "levels": N_("levels"),
}

# The template's column titles, per language (the template can be downloaded in either).
# The English ones are the columns' names.
TEMPLATE_TITLES = {
    "en": TEMPLATE_COLUMNS,
    "nl": (
        "e-mailadres",
        "voornaam",
        "tussenvoegsel",
        "achternaam",
        "telefoon",
        "organisatie",
        "functie",
        "taal",
        "levels",
    ),
}

# Other titles a column is recognised by, besides its template titles: variants people type
# in either language. Compared without case, spaces, hyphens and underscores (see
# ``title_key``), so "E-mailadres", "e-mail adres" and "EMAILADRES" are all the same.
TITLE_ALIASES = {
    "email": ("e-mail", "e-mail address", "email address", "mail", "mailadres"),
    "first_name": ("first name", "firstname", "given name", "roepnaam"),
    "infix": ("tussenvoegsels", "middle name", "prefix"),
    "last_name": ("last name", "lastname", "surname", "family name"),
    "phone": ("phone number", "telephone", "mobile", "telefoonnummer", "mobiel"),
    "organisation": ("organization", "company", "bedrijf"),
    "job_title": ("job title", "function", "position"),
    "language": ("locale",),
    "levels": ("level", "niveaus", "niveau"),
}


def title_key(title: str) -> str:
    """A column title as we compare it: letters and digits only, lower case."""
    return "".join(char for char in title.lower() if char.isalnum())


# title_key → template column, for every template title (in each language) and alias: a
# template downloaded in any language reads back.
COLUMN_BY_TITLE = {
    title_key(title): column
    for titles in TEMPLATE_TITLES.values()
    for column, title in zip(TEMPLATE_COLUMNS, titles, strict=True)
} | {title_key(alias): column for column, aliases in TITLE_ALIASES.items() for alias in aliases}


# Titles that tell which language the file was written in: the template's titles in that
# language and the variants of that language (a title both languages use, "levels", tells
# nothing).
_TITLES_IN = {
    "nl": set(TEMPLATE_TITLES["nl"])
    | {"mailadres", "roepnaam", "tussenvoegsels", "telefoonnummer", "mobiel", "bedrijf"},
    "en": set(TEMPLATE_TITLES["en"])
    | {"e-mail address", "email address", "first name", "given name", "last name", "surname"},
}
_KEYS_IN = {language: {title_key(t) for t in titles} for language, titles in _TITLES_IN.items()}
_KEYS_IN = {
    language: keys - set.intersection(*_KEYS_IN.values()) for language, keys in _KEYS_IN.items()
}


def title_language(header: list[str]) -> str:
    """The language the file's column titles are in ("nl", "en"), or "" when they do not say."""
    keys = {title_key(title) for title in header}
    dutch, english = len(keys & _KEYS_IN["nl"]), len(keys & _KEYS_IN["en"])
    if dutch == english:
        return ""
    return "nl" if dutch > english else "en"
