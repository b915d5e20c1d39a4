"""E-mail addresses: whether one is valid, its normal form, and, when it is not valid, what
is wrong with it in our own words (in the reader's language, with the fix).

email-validator decides; its messages are English only, so the reason is found here.
"""

from __future__ import annotations

import re

from email_validator import SPECIAL_USE_DOMAIN_NAMES, EmailNotValidError, validate_email

from .messages import _

# A fast path for the common address: plain ASCII, dot-atom local part, ordinary host names.
# Everything it accepts, email-validator accepts as well (tests/unit/test_validating.py checks
# that on random input); anything else goes to email-validator itself.
_SIMPLE_EMAIL = re.compile(
    r"[a-z0-9_+-]+(?:\.[a-z0-9_+-]+)*@(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+([a-z]{2,63})",
    re.IGNORECASE,
)

# The characters allowed before the @ besides letters and digits (RFC 5322's "atext").
_LOCAL_SIGNS = frozenset("!#$%&'*+-/=?^_`{|}~.")
_MAX_LOCAL, _MAX_ADDRESS = 64, 254


def _is_simple_email(address: str) -> bool:
    if len(address) > _MAX_ADDRESS or "--" in address:
        return False
    match = _SIMPLE_EMAIL.fullmatch(address)
    if match is None or address.index("@") > _MAX_LOCAL:
        return False
    domain = address[address.index("@") + 1 :].lower()
    return match.group(1).lower() not in SPECIAL_USE_DOMAIN_NAMES and len(domain) <= 253


def check_email(address: str) -> tuple[str, str | None]:
    """(normalised address, None) when valid, else (address, what is wrong with it, as a
    sentence that names the address and says how to fix it)."""
    if _is_simple_email(address):
        return address.lower(), None
    try:
        result = validate_email(address, check_deliverability=False)
    except EmailNotValidError:
        return address, what_is_wrong(address)
    return result.normalized.lower(), None


def _odd_character(local: str, domain: str) -> str | None:
    """The first character neither part of an address may hold, if any."""
    for char in local:
        if not (char.isalnum() or char in _LOCAL_SIGNS):
            return char
    for char in domain:
        if not (char.isalnum() or char in "-."):
            return char
    return None


def what_is_wrong(address: str) -> str:
    """Why ``address`` (which email-validator refused) is not a valid address, in words."""
    local, at, domain = address.rpartition("@")
    if not at:
        return _(
            "“%(email)s” has no @: an e-mail address looks like name@example.org.", email=address
        )
    return _shape_problem(address, local, domain) or _domain_problem(address, domain)


def _shape_problem(address: str, local: str, domain: str) -> str | None:
    """What is wrong with how the address is put together, if anything."""
    values = {"email": address}
    if any(char.isspace() for char in address):
        return _(
            "“%(email)s” has a space in it; an e-mail address has none. Remove the space.",
            **values,
        )
    quoted = local.startswith('"')
    if "@" in local and not quoted:
        return _("“%(email)s” has more than one @; an e-mail address has one.", **values)
    if not local:
        return _("“%(email)s” has nothing before the @: add the name part.", **values)
    if not domain:
        return _(
            "“%(email)s” has nothing after the @: add the domain, as in name@example.org.",
            **values,
        )
    char = None if quoted else _odd_character(local, domain)
    if char:
        return _(
            "“%(email)s” holds “%(char)s”, which an e-mail address cannot have: remove it, or "
            "retype the address.",
            char=char,
            **values,
        )
    parts = (local, domain)
    if ".." in address or any(part[0] == "." or part[-1] == "." for part in parts):
        return _(
            "“%(email)s” has two dots in a row, or a dot at the start or end of a part. "
            "Remove the extra dot.",
            **values,
        )
    if len(local) > _MAX_LOCAL or len(address) > _MAX_ADDRESS:
        return _(
            "“%(email)s” is too long for an e-mail address (at most 64 characters before the "
            "@ and 254 in all).",
            **values,
        )
    return None


def _domain_problem(address: str, domain: str) -> str:
    """What is wrong with the part after the @ (or, when nothing seems to be, a general
    message)."""
    values = {"email": address}
    if "." not in domain:
        return _(
            "“%(email)s” has no dot after the @: the domain is missing its ending, as in "
            "example.org.",
            **values,
        )
    ending = domain.rsplit(".", 1)[-1].lower()
    if ending in SPECIAL_USE_DOMAIN_NAMES or domain.lower() in SPECIAL_USE_DOMAIN_NAMES:
        return _(
            "“%(email)s” ends in “.%(ending)s”, a name kept for tests and local networks: "
            "mail to it never arrives. Use the person's real address.",
            ending=ending,
            **values,
        )
    labels = domain.split(".")
    if ending.isdigit() or any(not 0 < len(x) <= 63 or "-" in (x[0], x[-1]) for x in labels):
        return _(
            "“%(email)s” is not a valid e-mail address: the part after the @ is not a domain "
            "name that can receive mail. Check it for typing errors.",
            **values,
        )
    return _(
        "“%(email)s” is not a valid e-mail address. Check it for typing errors: an address "
        "looks like name@example.org.",
        **values,
    )
