"""Redis down: no 500 anywhere; the admin is told the background queue is unavailable and
nothing they prepared is lost; once Redis is back, the same click works."""

import pytest
from sqlalchemy import func, select

from huddle.extensions import db
from huddle.models import Export, ImportRun, ImportStatus

from ..helpers import csv_file, make_user, start, upload, walk_to_start

NOBODY_LISTENS = "redis://127.0.0.1:1/0"


@pytest.fixture
def redis_down(app, monkeypatch):
    """Redis unreachable until the test calls the returned function."""
    monkeypatch.setitem(app.config, "REDIS_URL", NOBODY_LISTENS)
    return monkeypatch.undo


def _run(public_id: str) -> ImportRun:
    db.session.expire_all()
    return db.session.scalar(select(ImportRun).where(ImportRun.public_id == public_id))


def _import_in_state(client, **state) -> str:
    """An uploaded import, then put in ``state`` (as a worker would have left it)."""
    _, public_id = upload(client, csv_file("anna@x.nl;Anna;;Jansen;;;;;"))
    run = _run(public_id)
    for name, value in state.items():
        setattr(run, name, value)
    db.session.commit()
    return public_id


def test_starting_an_import_says_the_queue_is_down_and_keeps_the_import(
    admin_client, app_ctx, redis_down
):
    _, public_id = upload(admin_client, csv_file("anna@x.nl;Anna;;Jansen;;;;;"))
    walk_to_start(admin_client, public_id)

    response = start(admin_client, public_id)
    assert response.status_code == 503
    html = response.get_data(as_text=True)
    assert "The background queue is unavailable. Your import is saved" in html
    assert _run(public_id).status == ImportStatus.DRAFT
    # The staged preview is still there, with the admin's choices.
    check = admin_client.get(f"/imports/{public_id}/check").get_data(as_text=True)
    assert "anna@x.nl" in check

    redis_down()  # Redis is back: the same button starts it.
    assert start(admin_client, public_id).status_code == 302
    assert _run(public_id).status == ImportStatus.QUEUED


def test_asking_for_an_export_says_the_queue_is_down_and_records_nothing(
    admin_client, app_ctx, redis_down
):
    anna = make_user("anna@x.nl", first_name="Anna")
    data = {"csrf_token": admin_client.csrf, "format": "csv", "scope": "ticked"}
    response = admin_client.post(
        "/exports", data={**data, "user_ids": [str(anna.id)]}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 503
    assert "The background queue is unavailable, so nothing was exported" in response.get_data(
        as_text=True
    )
    assert db.session.scalar(select(func.count()).select_from(Export)) == 0


def test_a_failed_import_started_again_while_the_queue_is_down_stays_failed(
    admin_client, app_ctx, redis_down
):
    public_id = _import_in_state(
        admin_client, status=ImportStatus.FAILED, error="The database refused the import."
    )

    response = admin_client.post(
        f"/imports/{public_id}/again", data={"csrf_token": admin_client.csrf}
    )
    assert response.status_code == 302
    page = admin_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "The background queue is unavailable: try again in a moment." in page
    assert _run(public_id).status == ImportStatus.FAILED


def test_pages_work_and_a_queued_import_is_not_given_up_while_redis_is_down(
    admin_client, app_ctx, redis_down
):
    public_id = _import_in_state(
        admin_client, status=ImportStatus.QUEUED, job_id="a-job-redis-cannot-be-asked-about"
    )

    for path in ("/users", "/imports", "/exports", f"/imports/{public_id}", "/levels"):
        assert admin_client.get(path).status_code == 200, path
    # Whether its job is lost cannot be known now: the import stays queued, not failed.
    assert _run(public_id).status == ImportStatus.QUEUED

    system = admin_client.get("/system")
    assert system.status_code == 200
    assert "Redis unreachable" in system.get_data(as_text=True)
