"""Planning a row: what importing it does to the stored user for its address."""

from huddle.pipeline.planning import ExistingUser, RowAction, plan_row
from huddle.pipeline.reading import SourceRow
from huddle.pipeline.validating import validate_row

LEVELS = {"b": "B"}
STORED = {
    "email": "an@x.nl",
    "first_name": "An",
    "infix": "",
    "last_name": "Smit",
    "phone": "",
    "organisation": "",
    "job_title": "",
    "language": "",
}


def _plan(existing=None, chosen=("B",), **cells):
    row = validate_row(SourceRow(2, {"email": "an@x.nl", **cells}), LEVELS)
    return plan_row(row, existing, chosen)


def test_an_address_alone_gives_an_existing_user_the_chosen_level():
    plan = _plan(ExistingUser(7, STORED, set()))
    assert plan.action is RowAction.UPDATE
    assert plan.gained_levels == ("B",) and not plan.field_changes and not plan.problems


def test_an_address_alone_leaves_an_existing_user_with_the_level_unchanged():
    assert _plan(ExistingUser(7, STORED, {"B"})).action is RowAction.UNCHANGED


def test_a_new_address_without_names_is_skipped_saying_what_a_new_user_needs():
    plan = _plan(None, last_name="Smit")
    assert plan.action is RowAction.SKIP
    assert [problem.column for problem in plan.problems] == ["first_name"]
    assert "A new user needs a first name" in plan.problems[0].message
    both = _plan(None)
    assert [problem.column for problem in both.problems] == ["first_name", "last_name"]


def test_a_new_address_with_names_is_created():
    plan = _plan(None, first_name="An", last_name="Smit")
    assert plan.action is RowAction.CREATE and plan.gained_levels == ("B",)


def test_an_existing_user_with_a_new_phone_only_gets_details_not_levels():
    plan = _plan(ExistingUser(7, STORED, {"B"}), phone="06 1234")
    assert plan.action is RowAction.UPDATE
    assert plan.field_changes == {"phone": ("", "06 1234")} and plan.gained_levels == ()
