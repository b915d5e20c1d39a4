"""Restarts: the web process (gunicorn) and the worker stop and start again between the steps
of an import; the draft, the admin's choices, the queued job and the history are all kept."""

import re
import subprocess
import sys

from sqlalchemy import select

from huddle.extensions import db
from huddle.models import ImportRun, Level, User

from ..helpers import ADMIN_PASSWORD, ROOT, WebClient, csv_file, free_port, web_process, worker_env


def _status(public_id: str) -> str:
    db.session.expire_all()
    return db.session.scalar(select(ImportRun.status).where(ImportRun.public_id == public_id))


def test_an_import_survives_restarts_of_the_web_process_and_the_worker(
    app, admin, app_ctx, smtp_sink
):
    db.session.add(Level(name="Basis"))
    db.session.commit()
    basis_id = db.session.scalar(select(Level.id))
    env, port = worker_env(app, smtp_sink), free_port()
    data = csv_file("anna@x.nl;Anna;;Jansen;;;;;", "bram@x.nl;Bram;;Smit;;;;;", "kapot;;;;;;;;")

    with web_process(env, port) as base:
        client = WebClient(base)
        status, _, _ = client.post("/login", {"email": admin.email, "password": ADMIN_PASSWORD})
        assert status == 302
        status, headers, _ = client.post(
            "/imports/new/upload", {}, files={"file": ("mensen.csv", data)}
        )
        public_id = re.search(r"/imports/([^/]+)/check", headers["Location"]).group(1)
        status, _, _ = client.post(f"/imports/{public_id}/levels", {"level_ids": [basis_id]})
        assert status == 302
        status, _, _ = client.post(f"/imports/{public_id}/mails", {"notify_new": "y"})
        assert status == 302

    # A new web process: the admin is still logged in, and the draft is as they left it.
    with web_process(env, port) as base:
        client = WebClient(base, client.cookies)
        status, _, check = client.get(f"/imports/{public_id}/check?tab=invalid")
        assert status == 200
        assert '<tr id="row-4" class="row-skip">' in check  # the invalid row, line 4
        status, _, confirm = client.get(f"/imports/{public_id}/confirm")
        assert "2 new users" in confirm and "Basis" in confirm
        status, headers, _ = client.post(f"/imports/{public_id}/confirm", {})
        assert status == 302 and headers["Location"].endswith(f"/imports/{public_id}")
    # No worker ran yet: the job waits in Redis, the import stays queued.
    assert _status(public_id) == "queued"

    # A worker started only now finds the job and runs it; a second one finds nothing to do.
    for _ in range(2):
        worker = subprocess.run(
            [sys.executable, "-m", "flask", "--app", "app", "worker", "--burst"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert worker.returncode == 0, worker.stderr
    assert _status(public_id) == "done"
    assert sorted(db.session.scalars(select(User.email).where(~User.is_admin))) == [
        "anna@x.nl",
        "bram@x.nl",
    ]

    # And after yet another restart, the history and the outcome are there.
    with web_process(env, port) as base:
        client = WebClient(base, client.cookies)
        _, _, history = client.get("/imports")
        assert "mensen.csv" in history and public_id in history
        _, _, detail = client.get(f"/imports/{public_id}")
        assert "2</span> users created" in detail and "1</span> row skipped" in detail
