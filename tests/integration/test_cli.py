"""The command line: admins, levels, exports, the worker."""

from sqlalchemy import func, select

from huddle.extensions import db
from huddle.models import Level, User

from ..helpers import log_in, make_user


def test_create_admin_with_password_can_log_in(app, app_ctx):
    result = app.test_cli_runner().invoke(
        args=["create-admin", "Boss@Example.org", "--password", "a long password"]
    )
    assert result.exit_code == 0, result.output
    assert "Created admin boss@example.org." in result.output
    user = db.session.scalar(select(User).where(User.email == "boss@example.org"))
    assert user.is_admin
    assert log_in(app.test_client(), "boss@example.org", "a long password").status_code == 302


def test_create_admin_without_password_prints_a_set_password_link(app, app_ctx):
    make_user("member@example.org")
    result = app.test_cli_runner().invoke(args=["create-admin", "member@example.org"])
    assert result.exit_code == 0, result.output
    assert "Promoted admin member@example.org." in result.output
    link = result.output.split("Choose a password here: ")[1].strip()
    assert link.startswith("http://huddle.test/set-password/")
    assert app.test_client().get(link.removeprefix("http://huddle.test")).status_code == 200


def test_create_admin_refuses_a_bad_address(app):
    result = app.test_cli_runner().invoke(args=["create-admin", "not-an-address"])
    assert result.exit_code == 2
    assert "EMAIL" in result.output


def test_levels_add_is_a_no_op_when_the_level_exists(app, app_ctx):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["levels", "add", "Basis", "--description", "Basic courses"])
    again = runner.invoke(args=["levels", "add", "basis"])
    assert first.exit_code == again.exit_code == 0
    assert "already exists" in again.output
    assert db.session.scalar(select(func.count()).select_from(Level)) == 1


def test_demo_data_fills_a_new_database_once(app, app_ctx):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["demo-data", "--if-empty", "--users", "40"])
    assert first.exit_code == 0, first.output
    assert "password:" in first.output
    password = first.output.split("password: ")[1].split()[0]
    second = runner.invoke(args=["demo-data", "--if-empty"])
    # A second `make run` makes nothing, and says how to log in.
    assert "Log in as admin@huddle.example" in second.output
    command = "flask --app app create-admin admin@huddle.example --password 'NEW PASSWORD'"
    assert command in second.output
    assert db.session.scalar(select(func.count()).select_from(User)) == 41
    assert db.session.scalar(select(func.count()).select_from(Level)) == 3
    assert log_in(app.test_client(), "admin@huddle.example", password).status_code == 302
    # The printed command does set a new password.
    runner.invoke(args=["create-admin", "admin@huddle.example", "--password", "NEW PASSWORD"])
    assert log_in(app.test_client(), "admin@huddle.example", "NEW PASSWORD").status_code == 302


def test_the_demo_admins_pages_follow_the_browser_until_they_choose(app, app_ctx):
    runner = app.test_cli_runner()
    output = runner.invoke(args=["demo-data", "--users", "5"]).output
    password = output.split("password: ")[1].split()[0]
    client = app.test_client()
    log_in(client, "admin@huddle.example", password)
    english = client.get("/users", headers={"Accept-Language": "en-GB,en;q=0.9"})
    assert 'lang="en"' in english.get_data(as_text=True)
    dutch = client.get("/users", headers={"Accept-Language": "nl-NL,nl;q=0.9"})
    assert 'lang="nl"' in dutch.get_data(as_text=True)
