"""The columns of the import template (and of exports), in order, with their limits."""

from __future__ import annotations

import re

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
# Every row needs an address; a new user needs a name too, an existing user's row only the
# address (a file of addresses can give people a level).
REQUIRED_COLUMNS = ("email",)
NEW_USER_COLUMNS = ("first_name", "last_name")
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
# in either language, and the titles of other systems' user exports and bulk-upload files.
# Compared by ``title_key``: without case, spaces, punctuation, bracketed parts and the words
# "required"/"verplicht", so "E-mailadres", "e-mail adres", "Email Address [Required]" and
# "user_email" all come out the same.
#
# The published formats behind them: Moodle's "Upload users" file (firstname, phone1,
# institution, lang); Google Workspace's bulk upload ("First Name [Required]", "Mobile Phone",
# "Employee Title"); Microsoft 365's "Add multiple users" and Entra's bulk-create file ("First
# name [givenName]", "Mobile phone [mobile]", "Job title [jobTitle]"); Okta's CSV import
# (firstName, mobilePhone, organization, preferredLanguage); Canvas SIS users.csv; Zoom's bulk
# user import; Mailchimp's audience export ("Email Address", "Phone Number"); Outlook's contact
# export ("E-mail Address", "Business Phone", "Company"); Slack's member list; WordPress's
# user export (user_email, billing_phone, billing_company).
# fmt: off (read as a table, not one title per line)
TITLE_ALIASES = {
    "email": (
        "e-mail",
        "e-mail address",
        "email address",
        "mail",
        "mailadres",
        "emailadres",
        "e-mailadres",
        "user email",
        "primary email",
        "work email",
        "mail address",
        "e-mail 1 - value",
        "email 1",
        "mail primary",
        "emailaddress",
        "e-mail adres",
    ),
    "first_name": (
        "first name",
        "firstname",
        "given name",
        "givenname",
        "roepnaam",
        "fname",
        "forename",
        "first",
        "voornamen",
        "billing first name",
    ),
    "infix": (
        "tussenvoegsels",
        "middle name",
        "middlename",
        "prefix",
        "voorvoegsel",
        "tussenvoegsel",
    ),
    "last_name": (
        "last name",
        "lastname",
        "surname",
        "family name",
        "familyname",
        "lname",
        "familienaam",
        "achternaam",
        "billing last name",
    ),
    "phone": (
        "phone number",
        "telephone",
        "mobile",
        "telefoonnummer",
        "mobiel",
        "phone1",
        "mobile phone",
        "mobilephone",
        "primaryphone",
        "primary phone",
        "work phone",
        "office phone",
        "business phone",
        "telephonenumber",
        "cell phone",
        "cell",
        "gsm",
        "tel",
        "tel nr",
        "mobiel nummer",
        "mobiele telefoon",
        "telefoon werk",
        "phone 1 - value",
        "billing phone",
    ),
    "organisation": (
        "organization",
        "company",
        "bedrijf",
        "institution",
        "company name",
        "companyname",
        "organisation name",
        "organization name",
        "instelling",
        "bedrijfsnaam",
        "employer",
        "werkgever",
        "billing company",
    ),
    "job_title": (
        "job title",
        "jobtitle",
        "function",
        "position",
        "employee title",
        "functietitel",
        "functienaam",
        "job",
    ),
    "language": (
        "locale",
        "lang",
        "preferred language",
        "preferredlanguage",
        "voorkeurstaal",
        "mail language",
    ),
    "levels": ("level", "niveaus", "niveau"),
}
# fmt: on

# Parts of a title that say nothing about its column: a bracketed note ("[Required]",
# "[givenName]", "(optional)") and the words that mark a column as required.
_BRACKETED = re.compile(r"[\[(<{][^\])>}]*[\])>}]")
_MARKERS = re.compile(r"\b(required|verplicht|optional|optioneel)\b", re.IGNORECASE)


# Not a template column: a column holding whole names, split into first name, infix and last
# name (names.py) when the admin chooses to. Titles that hold whole names, so the wizard can
# offer the split: Slack's "fullname", Canvas's "full_name", Entra's "Name [displayName]",
# WordPress's "display_name".
FULL_NAME = "full_name"
# What the admin may say of a column instead: leave it out (even when its title is known).
IGNORE = "ignore"
# fmt: off
FULL_NAME_TITLES = (
    "name", "full name", "fullname", "display name", "displayname", "naam", "volledige naam",
    "sortable name", "contact name", "member name", "user's name",
)
# fmt: on


def title_key(title: str) -> str:
    """A column title as we compare it: letters and digits only, lower case, without its
    bracketed notes and "required" markers (the bare title when nothing else is left)."""
    bare = _MARKERS.sub("", _BRACKETED.sub("", title))
    key = "".join(char for char in bare.lower() if char.isalnum())
    return key or "".join(char for char in title.lower() if char.isalnum())


def bracketed_keys(title: str) -> list[str]:
    """The keys of a title's bracketed notes: Entra writes the field's name there ("Mobile
    phone [mobile]"), which tells the column when the words before it do not."""
    return [title_key(part[1:-1]) for part in _BRACKETED.findall(title)]


# title_key → template column, for every template title (in each language) and alias: a
# template downloaded in any language reads back.
COLUMN_BY_TITLE = {
    title_key(title): column
    for titles in TEMPLATE_TITLES.values()
    for column, title in zip(TEMPLATE_COLUMNS, titles, strict=True)
} | {title_key(alias): column for column, aliases in TITLE_ALIASES.items() for alias in aliases}


FULL_NAME_KEYS = frozenset(title_key(title) for title in FULL_NAME_TITLES)


def holds_full_names(title: str) -> bool:
    """Whether a title says its column holds whole names ("Name [displayName]", "fullname")."""
    return title_key(title) in FULL_NAME_KEYS or any(
        key in FULL_NAME_KEYS for key in bracketed_keys(title)
    )


def column_for_title(title: str, by_title: dict[str, str] = COLUMN_BY_TITLE) -> str | None:
    """The template column a file's column title stands for, or None when we don't know it."""
    name = by_title.get(title_key(title))
    if name is None:
        name = next(filter(None, map(by_title.get, bracketed_keys(title))), None)
    return name


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
