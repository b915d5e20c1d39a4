"""`flask users import`: the JSON report and exit codes of DESIGN §5."""

import json

from sqlalchemy import func, select

from huddle.extensions import db
from huddle.models import Level, User

from ..helpers import SEVEN_ROWS, csv_file, make_user, seven_rows_users


def _invoke(app, tmp_path, data: bytes, *args):
    path = tmp_path / "people.csv"
    path.write_bytes(data)
    return app.test_cli_runner().invoke(args=["users", "import", str(path), *args])


def test_json_report_with_new_existing_and_invalid_rows(app, app_ctx, tmp_path):
    db.session.add(Level(name="Basis"))
    db.session.commit()
    make_user("piet@x.nl", first_name="Piet", last_name="Berg")
    data = csv_file("jan@x.nl;Jan;;Jansen;;;;;", "", "PIET@x.nl;Piet;;Berg;;;;;", "bad;A;;B;;;;;")
    result = _invoke(app, tmp_path, data, "--json", "--level", "basis")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["status"] == "ok" and report["file_error"] is None
    assert report["summary"] == {
        "rows": 3,
        "new": 1,
        "existing": 1,
        "invalid": 1,
        "gains": {"Basis": 1},
        "details_updated": 0,
    }
    assert [(r["line"], r["email"], r["action"]) for r in report["rows"]] == [
        (2, "jan@x.nl", "create"),
        (4, "piet@x.nl", "update"),
        (5, "bad", "skip"),
    ]
    assert report["rows"][2]["errors"][0]["column"] == "email"
    db.session.expire_all()
    jan = db.session.scalar(select(User).where(User.email == "jan@x.nl"))
    assert [level.name for level in jan.levels] == ["Basis"]


def test_dry_run_changes_nothing(app, app_ctx, tmp_path):
    result = _invoke(app, tmp_path, csv_file("jan@x.nl;Jan;;Jansen;;;;;"), "--dry-run", "--json")
    assert json.loads(result.output)["rows"][0]["action"] == "create"
    assert db.session.scalar(select(User).where(User.email == "jan@x.nl")) is None


def test_rejected_file_exits_1_with_the_reason(app, app_ctx, tmp_path):
    result = _invoke(app, tmp_path, b"naam,woonplaats\nAn,Delft\n", "--json")
    assert result.exit_code == 1
    report = json.loads(result.output)
    assert report["status"] == "rejected"
    assert "The required column “email” is missing" in report["file_error"]
    assert report["summary"]["gains"] == {} and report["summary"]["details_updated"] == 0
    assert report["rows"] == []


def test_unknown_level_is_a_usage_error(app, app_ctx, tmp_path):
    result = _invoke(app, tmp_path, csv_file("jan@x.nl;Jan;;Jansen;;;;;"), "--level", "Nope")
    assert result.exit_code == 2
    assert "There is no level “Nope”" in result.output


def test_the_summary_counts_each_kind_of_change_so_that_they_add_up(app, app_ctx, tmp_path):
    seven_rows_users()
    result = _invoke(app, tmp_path, SEVEN_ROWS, "--json", "--level", "B")
    report = json.loads(result.output)
    assert report["summary"] == {
        "rows": 7,
        "new": 2,
        "existing": 4,
        "invalid": 1,
        "gains": {"B": 1},
        "details_updated": 2,
    }
    actions = [row["action"] for row in report["rows"]]
    assert actions == ["create", "create", "update", "update", "update", "unchanged", "skip"]
    text_ = _invoke(app, tmp_path, SEVEN_ROWS, "--dry-run", "--level", "B").output
    assert "Of the existing users: 0 get their details updated." in text_  # all done above


def test_a_file_of_addresses_gives_existing_users_a_level(app, app_ctx, tmp_path):
    db.session.add(Level(name="B"))
    db.session.commit()
    make_user("an@x.nl", first_name="An", last_name="Smit")
    make_user("bo@x.nl", first_name="Bo", last_name="Berg")
    data = b"E-mailadres\r\nan@x.nl\r\nBO@x.nl\r\nnieuw@x.nl\r\n"
    report = json.loads(_invoke(app, tmp_path, data, "--json", "--level", "B").output)
    assert [(r["line"], r["action"]) for r in report["rows"]] == [
        (2, "update"),
        (3, "update"),
        (4, "skip"),
    ]
    assert [e["column"] for e in report["rows"][2]["errors"]] == ["first_name", "last_name"]
    assert report["summary"]["gains"] == {"B": 2}
    db.session.expire_all()
    for address, first in (("an@x.nl", "An"), ("bo@x.nl", "Bo")):
        user = db.session.scalar(select(User).where(User.email == address))
        assert [level.name for level in user.levels] == ["B"] and user.first_name == first
    assert db.session.scalar(select(User).where(User.email == "nieuw@x.nl")) is None


def test_text_report_lists_problems_by_line(app, app_ctx, tmp_path):
    result = _invoke(app, tmp_path, csv_file("jan@x.nl;;;Jansen;;;;;"))
    assert "line 2, first_name: A new user needs a first name" in result.output
    assert result.output.rstrip().endswith("Imported.")


def test_an_address_used_again_thousands_of_lines_later_is_found(app, app_ctx, tmp_path):
    from huddle.pipeline.streaming import BATCH_ROWS as BATCH_SIZE

    lines = [f"user{i}@x.nl;U;;{i};;;;;" for i in range(BATCH_SIZE + 100)]
    lines.append("USER0@x.nl;Again;;Zero;;;;;")
    result = _invoke(app, tmp_path, csv_file(*lines), "--json")
    report = json.loads(result.output)
    last = report["rows"][-1]
    assert (last["line"], last["action"]) == (BATCH_SIZE + 102, "skip")
    assert "The same e-mail address is on line 2." in last["errors"][0]["message"]
    assert report["summary"]["new"] == BATCH_SIZE + 100
    dry = json.loads(_invoke(app, tmp_path, csv_file(*lines), "--json", "--dry-run").output)
    assert dry["rows"][-1]["action"] == "skip"  # the dry run keeps addresses in memory


def test_a_large_file_checked_by_the_helper_process_imports_the_same(
    app, app_ctx, tmp_path, monkeypatch
):
    from huddle.pipeline import streaming as checking

    monkeypatch.setattr(checking, "HELPER_MIN_BYTES", 0)
    # Rows cross the borders of the helper's chunks and of the import's batches.
    monkeypatch.setattr(checking, "BATCH_ROWS", 10)
    db.session.add(Level(name="Basis"))
    db.session.commit()
    make_user("user3@x.nl", first_name="Old", last_name="Name")
    rows = [f"user{i}@x.nl;Zoë;;Berg {i};;;;;" for i in range(60)]
    rows[40] = "USER7@x.nl;Twice;;Again;;;;;"  # line 42 repeats line 9
    result = _invoke(app, tmp_path, csv_file(*rows), "--json", "--level", "Basis")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["summary"] == {
        "rows": 60,
        "new": 58,
        "existing": 1,
        "invalid": 1,
        "gains": {"Basis": 1},
        "details_updated": 1,
    }
    assert "line 9" in report["rows"][40]["errors"][0]["message"]
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(User)) == 59
    user3 = db.session.scalar(select(User).where(User.email == "user3@x.nl"))
    assert (user3.first_name, user3.last_name) == ("Zoë", "Berg 3")
    assert [level.name for level in user3.levels] == ["Basis"]


def test_text_report_says_how_the_file_was_read(app, app_ctx, tmp_path):
    data = "email,first_name,last_name\r\nzoe@celik.nl,Zoë,Çelik\r\n".encode("cp1252")
    result = _invoke(app, tmp_path, data, "--dry-run")
    assert result.exit_code == 0, result.output
    assert "Read as: comma-separated, Windows-1252." in result.output
    assert "1 rows: 1 new" in result.output


def test_a_broken_line_is_a_rejection_not_a_crash_with_or_without_dry_run(app, app_ctx, tmp_path):
    data = b'email;first_name;last_name\r\na@x.nl;A;B\r\nb@x.nl;"' + b"x" * 70_000
    said = 'A quote (") opened on line 3 is never closed'
    for dry_run in (["--dry-run"], []):
        result = _invoke(app, tmp_path, data, *dry_run, "--json")
        assert result.exit_code == 1, result.output
        report = json.loads(result.output)  # the same JSON, no traceback
        assert report["status"] == "rejected" and report["file_error"].startswith(said)
    assert db.session.scalar(select(func.count()).select_from(User).where(~User.is_admin)) == 0


def test_split_name_header_line_and_sheet_on_the_command_line(app, app_ctx, tmp_path):
    # A member list with whole names, two lines of notes above the titles.
    data = (
        b"Leden export\r\nnovember 2026\r\n"
        b"Naam;E-mail\r\nJan van der Berg;jan@x.nl\r\nKees ten Cate;kees@x.nl\r\n"
    )
    # Without splitting, nobody has a first name: new users are skipped, saying so.
    unsplit = json.loads(_invoke(app, tmp_path, data, "--dry-run", "--json").output)
    assert [row["action"] for row in unsplit["rows"]] == ["skip", "skip"]
    assert unsplit["rows"][0]["errors"][0]["column"] == "first_name"
    hint = _invoke(app, tmp_path, data, "--dry-run").output
    assert "Column “Naam” holds whole names: --split-name Naam splits them." in hint
    result = _invoke(app, tmp_path, data, "--split-name", "Naam", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["summary"]["new"] == 2
    jan = db.session.scalar(select(User).where(User.email == "jan@x.nl"))
    assert (jan.first_name, jan.infix, jan.last_name) == ("Jan", "van der", "Berg")

    # The titles on a line the command is told: line 1 then holds no titles we know.
    told = _invoke(app, tmp_path, data, "--split-name", "Naam", "--header-line", "1", "--json")
    assert told.exit_code == 1 and json.loads(told.output)["status"] == "rejected"
