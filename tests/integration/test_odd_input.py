"""Odd input never gives a 500: every route of the app, asked with ids of 0, -1, 2^63, 2^64,
text and a NUL character, in the path, the query and the form, answers with a page that says
what is wrong (400, 404, 422) or does what it would do anyway, on SQLite and PostgreSQL.

The routes come from the app's own URL map, so a route added later is walked too.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import event, text

from huddle.extensions import db
from huddle.models import Level

from ..helpers import csv_file, upload

ODD = ["0", "-1", str(2**63), str(2**64), "tekst", "\x00", "1\x00"]
# Every field name a form or filter of the app reads.
FIELDS = (
    "q",
    "level",
    "page",
    "per_page",
    "sort",
    "tab",
    "status",
    "import",
    "user_ids",
    "level_ids",
    "scope",
    "format",
    "name",
    "description",
    "column",
    "value",
    "email",
    "password",
    "mail_language",
    "notify_new",
    "separator",
    "encoding",
    "lang",
)
# Leaving the session would make every later request a redirect to the login page.
SKIPPED = {"static", "auth.logout"}
# On the real draft: what would end it (the odd values in other fields are still walked).
KEEP_THE_DRAFT = ("/discard", "/confirm")


def _path(rule: str, value: str) -> str:
    quoted = value.replace("\x00", "%00")
    return re.sub(r"<[^>]+>", quoted, rule)


def _routes(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint in SKIPPED:
            continue
        for method in sorted(rule.methods & {"GET", "POST"}):
            yield method, rule.rule


@pytest.mark.parametrize("value", ODD, ids=["0", "-1", "2^63", "2^64", "text", "NUL", "1NUL"])
def test_no_route_answers_odd_input_with_a_500(app, admin_client, app_ctx, value):
    db.session.add(Level(name="Basis"))
    db.session.commit()
    _, public_id = upload(admin_client, csv_file("anna@x.nl;Anna;;Jansen;;;;;"))
    failures = []
    for method, rule in _routes(app):
        path = _path(rule, value)
        fields = {name: value for name in FIELDS}
        if method == "GET":
            response = admin_client.get(path, query_string=fields)
        else:
            response = admin_client.post(path, data={**fields, "csrf_token": admin_client.csrf})
        if response.status_code >= 500:
            failures.append(f"{method} {path}: {response.status_code}")
        # The draft's own pages, with odd values in the query and the form.
        if "<public_id>" in rule and not rule.endswith(KEEP_THE_DRAFT):
            real = re.sub(r"<public_id>", public_id, rule)
            real = _path(real, value)
            if method == "GET":
                response = admin_client.get(real, query_string=fields)
            else:
                data = {**fields, "csrf_token": admin_client.csrf}
                response = admin_client.post(real, data=data)
            if response.status_code >= 500:
                failures.append(f"{method} {real}: {response.status_code}")
    assert failures == []


@pytest.fixture
def read_only_database(app):
    """The database turned read-only under the app, as a full disk or a read-only mount does
    (as root, file permissions would not stop SQLite: it is told to refuse writes instead)."""
    engine = db.engine
    db.session.remove()  # no connection of this test's is left open when the pool goes
    if engine.dialect.name == "sqlite":

        def refuse_writes(connection, _record):
            connection.execute("PRAGMA query_only = ON")

        event.listen(engine, "connect", refuse_writes)
        engine.dispose()
        yield
        event.remove(engine, "connect", refuse_writes)
    else:
        name = engine.url.database
        with engine.connect() as connection:
            connection.execute(
                text(f"ALTER DATABASE {name} SET default_transaction_read_only = on")
            )
            connection.commit()
        engine.dispose()
        yield
        # Each statement its own transaction, the first making the next one writable.
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("SET default_transaction_read_only = off"))
            connection.execute(text(f"ALTER DATABASE {name} RESET default_transaction_read_only"))
    db.session.remove()
    engine.dispose()


def test_a_read_only_database_gives_a_page_that_says_so(app, admin_client, read_only_database):
    response = admin_client.post(
        "/levels", data={"csrf_token": admin_client.csrf, "new-name": "Nieuw"}
    )
    assert response.status_code == 503
    page = response.get_data(as_text=True)
    assert "The database could not save this right now" in page
    assert "Nothing was changed" in page
    htmx_answer = admin_client.post(
        "/levels",
        data={"csrf_token": admin_client.csrf, "new-name": "Nieuw"},
        headers={"HX-Request": "true"},
    )
    assert htmx_answer.status_code == 503 and htmx_answer.headers["HX-Retarget"] == "#alerts"


def test_no_form_sent_without_its_fields_gets_a_500(app, admin_client, app_ctx):
    # A form posted by hand (curl, a script) with none of its fields but the CSRF token.
    db.session.add(Level(name="Basis"))
    db.session.commit()
    _, public_id = upload(admin_client, csv_file("anna@x.nl;Anna;;Jansen;;;;;"))
    failures = []
    for method, rule in _routes(app):
        if method != "POST":
            continue
        path = _path(re.sub(r"<public_id>", public_id, rule), "1")
        response = admin_client.post(path, data={"csrf_token": admin_client.csrf})
        if response.status_code >= 500:
            failures.append(f"POST {path}: {response.status_code}")
    assert failures == []
    assert admin_client.get("/users").status_code == 200  # walked as the admin to the end
