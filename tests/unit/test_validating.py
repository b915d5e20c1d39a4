"""Row checks: each problem lands on its column with a message that says how to fix it."""

import pytest
from email_validator import EmailNotValidError, validate_email
from hypothesis import given, settings
from hypothesis import strategies as st

from huddle.pipeline.duplicates import SeenAddresses, mark_duplicates
from huddle.pipeline.problems import Problem
from huddle.pipeline.reading import SourceRow
from huddle.pipeline.validating import CheckedRow, check_email, validate_row

LEVELS = {"basis": "Basis", "pro": "Pro"}


def _check(line=2, **values):
    values = {"email": "jan@x.nl", "first_name": "Jan", "last_name": "Jansen", **values}
    return validate_row(SourceRow(line, values), LEVELS)


def _messages(row) -> dict[str, str]:
    return {problem.column: problem.message for problem in row.problems}


def test_a_good_row_is_normalised():
    row = _check(email="  Jan@X.NL\u00a0", first_name=" Jan ", levels="basis | Pro|")
    assert row.valid
    assert row.email == "jan@x.nl"
    assert row.user["first_name"] == "Jan"
    assert row.levels == ("Basis", "Pro")


def test_only_the_address_is_required_of_every_row():
    # An existing user's row needs only the address: names are asked of new users alone,
    # when the row is planned (test_planning.py).
    row = _check(email="", first_name="", last_name=" ")
    assert set(_messages(row)) == {"email"}
    assert "every row needs one" in _messages(row)["email"]
    assert _check(first_name="", last_name="").valid


@pytest.mark.parametrize(
    ("address", "words"),
    [
        ("jan.x.nl", "has no @"),
        ("jan@@x.nl", "more than one @"),
        ("jan @x.nl", "has a space in it"),
        ("@x.nl", "nothing before the @"),
        ("jan@", "nothing after the @"),
        ("jan,p@x.nl", "holds “,”"),
        ("jan..p@x.nl", "two dots in a row"),
        ("jan@x", "no dot after the @"),
        ("jan@huis.local", "ends in “.local”"),
        ("jan@-x.nl", "not a domain name that can receive mail"),
    ],
)
def test_bad_address_says_why_in_our_own_words(address, words):
    message = _messages(_check(email=address))["email"]
    assert message.startswith(f"“{address}”") and words in message
    # Not the library's English, which a Dutch page could not translate.
    with pytest.raises(EmailNotValidError) as refused:
        validate_email(address, check_deliverability=False)
    assert str(refused.value) not in message


def test_too_long_values():
    message = _messages(_check(last_name="x" * 101))["last_name"]
    assert "101 characters where at most 100 fit" in message


def test_invisible_and_control_characters_are_named_with_their_position():
    message = _messages(_check(first_name="Ja\u200bn"))["first_name"]
    assert "U+200B ZERO WIDTH SPACE" in message and "position 3" in message
    assert "U+0000" in _messages(_check(email="jan\x00@x.nl"))["email"]
    assert _check(organisation="Line 1\nLine 2").valid  # Excel keeps line breaks in cells


def test_unknown_level_lists_the_known_ones():
    message = _messages(_check(levels="Basis|Gold"))["levels"]
    assert "There is no level “Gold” (levels: Basis, Pro)" in message


def test_too_many_cells_is_a_row_problem():
    row = validate_row(
        SourceRow(4, {"email": "a@x.nl", "first_name": "A", "last_name": "B"}, 1), {}
    )
    assert "A separator (; or ,) inside a value needs quotes" in _messages(row)[""]


def test_our_own_formula_guard_is_taken_off_again():
    assert _check(phone="'+31 6 12345678").user["phone"] == "+31 6 12345678"
    assert _check(phone="'hello").user["phone"] == "'hello"  # only before a formula start


def test_duplicates_name_the_first_line_case_insensitively():
    rows = [_check(2, email="a@x.nl"), _check(3, email="b@x.nl"), _check(7, email="A@X.nl")]
    marked = list(mark_duplicates(rows))
    assert [row.valid for row in marked] == [True, True, False]
    assert "The same e-mail address is on line 2." in _messages(marked[2])["email"]


def _library_accepts(address: str) -> str | None:
    try:
        return validate_email(address, check_deliverability=False).normalized.lower()
    except EmailNotValidError:
        return None


ADDRESS_CHARS = "abcXYZ019._+-@!#é \u200b"


@settings(max_examples=3000, deadline=None)
@given(
    st.text(alphabet=ADDRESS_CHARS, max_size=30)
    | st.from_regex(r"[a-z0-9._+-]{1,12}@[a-z0-9.-]{1,12}\.[a-z]{1,5}", fullmatch=True)
)
def test_the_fast_path_never_accepts_what_email_validator_refuses(address):
    normalised, error = check_email(address)
    library = _library_accepts(address)
    if error is None:
        assert library == normalised, address
    else:
        assert library is None, address


def test_special_use_and_odd_domains_go_to_the_library():
    for address in ("a@b.test", "a@localhost", "a@b.local", "a..b@x.nl", "a@-x.nl"):
        assert check_email(address)[1] is not None, address


def test_text_garbled_by_a_wrong_encoding_is_flagged_with_what_was_meant():
    row = validate_row(
        SourceRow(2, {"email": "z@x.nl", "first_name": "ZoÃ«", "last_name": "Ã‡elik"}), {}
    )
    assert [p.column for p in row.problems] == ["first_name", "last_name"]
    assert "(probably “Zoë”)" in row.problems[0].message
    assert "(probably “Çelik”)" in row.problems[1].message
    clean = {"email": "z@x.nl", "first_name": "Zoë", "last_name": "’t Hart-Ölçer"}
    assert validate_row(SourceRow(2, clean), {}).problems == []


def _row(line: int, email: str, problems=()) -> CheckedRow:
    return CheckedRow(line, {"email": email}, (), list(problems))


def test_seen_addresses_never_says_no_to_an_address_seen_before():
    seen = SeenAddresses(expected_rows=20_000)
    first = [_row(i, f"user{i}@example.org") for i in range(20_000)]
    # New addresses: almost always "no". Python's str hash is seeded anew in every process,
    # so the count varies: about 0.1 "maybe"s expected here (3 bits of 2 Mbit an address),
    # over 2 in one run of about 2,000, over 8 far more seldom still.
    assert sum(seen.maybe_seen(first)) <= 8
    again = [_row(30_000, "user7@example.org"), _row(30_001, "USER19999@example.org")]
    assert seen.maybe_seen(again) == [True, True]
    # Within one call too.
    assert seen.maybe_seen([_row(1, "new@x.nl"), _row(2, "new@x.nl"), _row(3, "")]) == [
        False,
        True,
        False,
    ]
    # As mark_duplicates: a row with a problem in its address is not asked about (it is
    # skipped anyway), but its address is remembered, as the stored rows hold it.
    broken = [Problem("email", "not valid")]
    assert seen.maybe_seen([_row(5, "Bad@", broken), _row(6, "bad@", broken)]) == [False, False]
    assert seen.maybe_seen([_row(7, "bad@")]) == [True]
