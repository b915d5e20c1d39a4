"""Where the rows are planned does not change what an import writes.

A large file is checked and planned in a helper process that has no database: it plans every
valid row as a new user, and the importing process looks the users up and plans the existing
ones again; rows that may repeat an earlier address are settled against the stored rows. The
preview and the import must come out exactly as when everything happens in one process, also
when every single address is suspected of repeating.
"""

import json

import pytest
from sqlalchemy import delete, select
from sqlalchemy.exc import OperationalError

from huddle.extensions import db
from huddle.imports.applying import apply_import
from huddle.imports.batches import Setting
from huddle.imports.created import every_row
from huddle.imports.drafts import create_draft
from huddle.models import ImportMail, ImportRow, ImportRun, Level, User, UserLevel
from huddle.pipeline import streaming as checking
from huddle.pipeline.duplicates import SeenAddresses

from ..helpers import csv_file, make_user

MODES = {
    "one process": {"HELPER_MIN_BYTES": 1 << 40},
    "helper process": {"HELPER_MIN_BYTES": 0},
    "helper, every address suspect": {"HELPER_MIN_BYTES": 0, "MAX_BITS": 8},
}


def _rows() -> list[str]:
    rows = [f"user{i}@x.nl;Zoë;van;Berg {i};;;;nl;" for i in range(40)]
    rows[3] = "old@x.nl;New;;Name;+31 6 1;;;;"  # exists: fields change, gains Basis
    rows[5] = "same@x.nl;Sam;;Same;;;;;"  # exists, has Basis already: unchanged
    rows[8] = "trainer@x.nl;Tia;;Train;;;;;trainers|basis"  # the levels column
    rows[10] = "not an address;A;;B;;;;;"
    rows[11] = "nolast@x.nl;A;;;;;;;"
    rows[12] = "USER1@x.nl;Again;;One;;;;;"  # repeats line 3, from the batch before
    rows[13] = "OLD@x.nl;Twice;;Old;;;;;"  # repeats an existing user's row (line 5)
    rows[25] = "late@x.nl;Next;;Row;;;;;"  # line 27
    rows[26] = "Late@x.nl;Later;;Row;;;;;"  # repeats line 27 at once
    rows[30] = "unknown@x.nl;U;;K;;;;;Nope"
    return rows


def _seed() -> Level:
    basis = Level(name="Basis")
    db.session.add_all([basis, Level(name="Trainers")])
    db.session.commit()
    make_user("old@x.nl", first_name="Old", last_name="Name")
    same = make_user("same@x.nl", first_name="Sam", last_name="Same")
    db.session.add(UserLevel(user_id=same.id, level_id=basis.id, granted_via="admin"))
    db.session.commit()
    return basis


def _reset() -> None:
    db.session.rollback()
    for model in (ImportMail, ImportRun, UserLevel, User, Level):
        db.session.execute(delete(model))
    db.session.commit()


def _import(data: bytes) -> tuple[list, list, list]:
    """Preview, then import with both mails: (preview rows, users with levels, outcome)."""
    basis = _seed()
    run = create_draft("users.csv", data, admin=None)
    preview = _stored_rows(run.id)
    run.level_ids, run.notify_new, run.notify_existing = [basis.id], True, True
    db.session.commit()
    run = apply_import(run)
    assert run.status == "done", run.error
    users = [
        (
            u.email,
            u.first_name,
            u.infix,
            u.last_name,
            u.phone,
            u.language,
            sorted(level.name for level in u.levels),
        )
        for u in db.session.scalars(select(User).order_by(User.email))
    ]
    mails = sorted(
        (email, kind, json.dumps(levels))
        for email, kind, levels in db.session.execute(
            select(User.email, ImportMail.kind, ImportMail.levels_gained).join(
                User, User.id == ImportMail.user_id
            )
        )
    )
    return preview, users, [list(every_row(run.id)), mails]


def _stored_rows(import_id: int) -> list[tuple]:
    """A preview's rows, as stored."""
    db.session.expire_all()
    return [
        (r.line, r.email, r.action, r.problems, r.changes, r.values, r.edited, r.gains_levels)
        for r in db.session.scalars(
            select(ImportRow).where(ImportRow.import_id == import_id).order_by(ImportRow.line)
        )
    ]


def test_the_helper_process_and_the_settling_change_nothing(app_ctx, monkeypatch):
    data = csv_file(*_rows())
    results = {}
    for mode, settings in MODES.items():
        with monkeypatch.context() as patch:
            patch.setattr(checking, "BATCH_ROWS", 7)  # rows cross the borders of batches
            patch.setattr(checking, "HELPER_MIN_BYTES", settings["HELPER_MIN_BYTES"])
            if "MAX_BITS" in settings:
                patch.setattr(SeenAddresses, "MAX_BITS", settings["MAX_BITS"])
            results[mode] = _import(data)
        _reset()

    preview, users, (outcome, mails) = results["one process"]
    actions = {line: action for line, _email, action, *_ in outcome}
    assert list(actions.values()).count("create") == 32
    assert (actions[5], actions[7], actions[10]) == ("update", "unchanged", "create")
    assert [actions[line] for line in (12, 13, 14, 15, 28, 32)] == ["skip"] * 6
    problems = {line: problems for line, _email, _action, problems, *_ in outcome}
    assert "line 3" in problems[14][0][1] and "line 5" in problems[15][0][1]
    assert "line 27" in problems[28][0][1]
    assert ("old@x.nl", "New", "", "Name", "+31 6 1", "", ["Basis"]) in users
    assert ("trainer@x.nl", "Tia", "", "Train", "", "", ["Basis", "Trainers"]) in users
    assert ("old@x.nl", "updated", '["Basis"]') in mails and len(mails) == 33
    assert [row[5] for row in preview if row[0] == 10][0]["levels"] == "trainers|basis"

    for mode in ("helper process", "helper, every address suspect"):
        assert results[mode] == results["one process"], mode


@pytest.mark.parametrize("size", [1, 7, 8])
def test_batches_of_any_length_import_every_row(app_ctx, monkeypatch, size):
    monkeypatch.setattr(checking, "BATCH_ROWS", 7)
    monkeypatch.setattr(checking, "HELPER_MIN_BYTES", 0)
    run = create_draft(
        "users.csv", csv_file(*[f"u{i}@x.nl;U;;{i};;;;;" for i in range(size)]), admin=None
    )
    run = apply_import(run)
    assert run.new_count == size
    assert db.session.scalar(select(db.func.count()).select_from(User)) == size


def test_no_level_can_be_deleted_while_an_import_grants_it(app_ctx):
    basis = Level(name="Basis")
    db.session.add(basis)
    db.session.commit()
    run = create_draft("users.csv", csv_file("a@x.nl;A;;B;;;;;"), admin=None)
    # As an import starts: its old rows go (on SQLite that takes the write lock), then the
    # levels it grants are read.
    db.session.execute(delete(ImportRow).where(ImportRow.import_id == run.id))
    Setting.for_run(run, ["Basis"], outcome=True)
    with db.engine.connect() as other:
        if other.dialect.name == "postgresql":
            other.exec_driver_sql("SET lock_timeout = '300ms'")
        else:
            other.exec_driver_sql("PRAGMA busy_timeout = 300")
        with pytest.raises(OperationalError):
            other.execute(delete(Level).where(Level.id == basis.id))
            other.commit()
    db.session.rollback()
    assert db.session.get(Level, basis.id) is not None


def test_existing_users_changed_in_different_columns_keep_every_other_value(app_ctx):
    # One batch updates three users, each in other columns: on PostgreSQL they are written
    # by one statement that must set each user's own columns and leave the rest alone.
    db.session.add_all(
        User(
            email=f"{name}@x.nl",
            first_name=name.title(),
            last_name="Old",
            phone="06 1",
            organisation="Org",
            job_title="Docent",
        )
        for name in ("ann", "bob", "cas")
    )
    db.session.commit()
    data = csv_file(
        "ann@x.nl;Anna;;;;;;;",
        "bob@x.nl;;;;06 2;;;;",
        "cas@x.nl;;;New;;;Coach;;",
    )
    run = apply_import(create_draft("users.csv", data, admin=None))
    assert run.update_count == 3
    db.session.expire_all()
    users = {
        u.email: (u.first_name, u.last_name, u.phone, u.organisation, u.job_title)
        for u in db.session.scalars(select(User))
    }
    assert users == {
        "ann@x.nl": ("Anna", "Old", "06 1", "Org", "Docent"),
        "bob@x.nl": ("Bob", "Old", "06 2", "Org", "Docent"),
        "cas@x.nl": ("Cas", "New", "06 1", "Org", "Coach"),
    }
