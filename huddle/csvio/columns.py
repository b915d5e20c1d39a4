"""The columns of the import template (and of exports), in order, with their limits."""

from __future__ import annotations

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
LABELS = {
    "email": "e-mail address",
    "first_name": "first name",
    "infix": "infix",
    "last_name": "last name",
    "phone": "phone",
    "organisation": "organisation",
    "job_title": "job title",
    "language": "language",
    "levels": "levels",
}
