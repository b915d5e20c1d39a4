"""The right language: mails to people without a language in the file go out in the one the
Mails step shows (Dutch for a file with Dutch column titles, else the admin's own), which
the admin can change; the sample is in it, and new users keep it for their later mails."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys

from sqlalchemy import select

from huddle import devmail
from huddle.extensions import db
from huddle.models import ImportRun, User

from ..helpers import ROOT, run_worker, start, upload

# The template's Dutch titles, as a Dutch admin's file has them; no language column.
DUTCH_FILE = (
    b"e-mailadres;voornaam;tussenvoegsel;achternaam\r\n"
    b"anna@x.nl;Anna;;Jansen\r\n"
    b"bram@x.nl;Bram;de;Vries\r\n"
)
DUTCH_WELCOME = "Welkom bij Huddle"
ENGLISH_WELCOME = "Welcome to Huddle"


def _to_the_mails_step(client, data: bytes) -> tuple[str, str]:
    _, public_id = upload(client, data)
    client.post(f"/imports/{public_id}/levels", data={"csrf_token": client.csrf})
    return public_id, client.get(f"/imports/{public_id}/mails").get_data(as_text=True)


def _welcomes(outbox) -> dict[str, str]:
    return {m.to: m.subject for m in devmail.list_messages(outbox) if "@x.nl" in m.to}


def test_a_dutch_file_without_languages_gets_dutch_mails_by_default(
    app, dutch_admin_client, smtp_sink
):
    public_id, page = _to_the_mails_step(dutch_admin_client, DUTCH_FILE)
    assert '<option selected value="nl">Nederlands</option>' in page
    assert "Hallo Anna" in page  # the sample, in Dutch

    mails = {"csrf_token": dutch_admin_client.csrf, "notify_new": "y", "mail_language": "nl"}
    dutch_admin_client.post(f"/imports/{public_id}/mails", data=mails)
    start(dutch_admin_client, public_id)
    run_worker(app)

    welcomes = _welcomes(smtp_sink["outbox"])
    assert sorted(welcomes) == ["anna@x.nl", "bram@x.nl"]
    assert all(DUTCH_WELCOME in subject for subject in welcomes.values())
    assert set(db.session.scalars(select(User.language).where(User.email.like("%@x.nl")))) == {"nl"}


def test_the_sample_follows_the_language_as_it_is_chosen(dutch_admin_client):
    public_id, page = _to_the_mails_step(dutch_admin_client, DUTCH_FILE)
    # The choice asks for the samples again when it changes (htmx), into this one place.
    assert f'hx-get="/imports/{public_id}/mails/samples"' in page and 'id="mail-samples"' in page
    samples = f"/imports/{public_id}/mails/samples"
    english = dutch_admin_client.get(f"{samples}?mail_language=en").get_data(as_text=True)
    assert 'id="mail-samples"' in english
    assert "Hello Anna," in english and "Hallo" not in english
    dutch = dutch_admin_client.get(f"{samples}?mail_language=nl").get_data(as_text=True)
    assert "Hallo Anna," in dutch and "Hello" not in dutch
    # The page around the samples stays in the admin's own language.
    assert "Zoals anna@x.nl" in english


def test_with_english_chosen_every_welcome_is_english(app, dutch_admin_client, smtp_sink):
    public_id, _ = _to_the_mails_step(dutch_admin_client, DUTCH_FILE)
    mails = {"csrf_token": dutch_admin_client.csrf, "notify_new": "y", "mail_language": "en"}
    assert dutch_admin_client.post(f"/imports/{public_id}/mails", data=mails).status_code == 302
    start(dutch_admin_client, public_id)
    run_worker(app)

    welcomes = _welcomes(smtp_sink["outbox"])
    assert len(welcomes) == 2
    assert all(ENGLISH_WELCOME in subject for subject in welcomes.values())


def test_an_english_admin_with_an_english_file_gets_english_by_default(admin_client):
    english = b"email;first_name;last_name\r\nanna@x.nl;Anna;Jansen\r\n"
    _, page = _to_the_mails_step(admin_client, english)
    assert '<option selected value="en">English</option>' in page


def test_the_command_line_takes_the_mails_language(app, app_ctx, tmp_path):
    path = tmp_path / "leden.csv"
    path.write_bytes(DUTCH_FILE.replace(b"e-mailadres;voornaam", b"email;first_name"))
    env = {**os.environ, "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"]}
    command = [sys.executable, "-m", "flask", "--app", "app", "users", "import", str(path)]
    result = subprocess.run(
        [*command, "--json", "--mail-language", "nl"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert json.load(io.StringIO(result.stdout))["summary"]["new"] == 2
    db.session.expire_all()
    run = db.session.scalar(select(ImportRun).order_by(ImportRun.id.desc()).limit(1))
    assert (run.filename, run.mail_language) == ("leden.csv", "nl")
    assert db.session.scalar(select(User.language).where(User.email == "anna@x.nl")) == "nl"
    refused = subprocess.run(
        [*command, "--mail-language", "de"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert refused.returncode == 2 and "--mail-language" in refused.stderr


def test_a_sample_in_the_language_the_file_gives_says_so(admin_client):
    with_language = b"email;first_name;last_name;language\r\nanna@x.nl;Anna;Jansen;nl\r\n"
    public_id, page = _to_the_mails_step(admin_client, with_language)
    assert '<option selected value="en">English</option>' in page
    assert "Hallo Anna," in page  # hers, whatever is chosen for people without one
    assert "(They get them in the language the file gives them: Nederlands.)" in page
    english = admin_client.get(f"/imports/{public_id}/mails/samples?mail_language=en")
    assert "Hallo Anna," in english.get_data(as_text=True)
