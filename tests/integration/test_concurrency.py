"""Two imports at once, in two real worker processes, sharing addresses (SQLite and PostgreSQL
alike): no user twice, no level lost, both imports done."""

from sqlalchemy import func, select

from huddle.extensions import db
from huddle.imports import drafts
from huddle.models import ImportRun, Level, User

from ..helpers import all_exit_cleanly, csv_file, start_worker, worker_env


def _run(admin, name: str, numbers: range, level: Level) -> ImportRun:
    rows = [f"user{i}@x.nl;User;;{i};;;;;" for i in numbers]
    run = drafts.create_draft(name, csv_file(*rows), admin=admin)
    # Straight to the job, which checks the file again itself (no second preview).
    run.level_ids, run.notify_new = [level.id], False
    db.session.commit()
    return run


def test_two_imports_that_share_addresses_run_at_once(app, admin, app_ctx, smtp_sink):
    a, b = Level(name="A"), Level(name="B")
    db.session.add_all([a, b])
    db.session.commit()
    first = _run(admin, "eerste.csv", range(0, 8000), a)
    second = _run(admin, "tweede.csv", range(4000, 12000), b)  # 4,000 addresses in both
    assert drafts.start(first) and drafts.start(second)

    all_exit_cleanly([start_worker(worker_env(app, smtp_sink), "--burst") for _ in range(2)])

    db.session.expire_all()
    assert [first.status, second.status] == ["done", "done"], (first.error, second.error)
    assert db.session.scalar(select(func.count()).select_from(User).where(~User.is_admin)) == 12000
    levels = {
        user.email: sorted(level.name for level in user.levels)
        for user in db.session.scalars(select(User).where(~User.is_admin))
    }
    assert levels["user0@x.nl"] == ["A"] and levels["user11999@x.nl"] == ["B"]
    assert all(levels[f"user{i}@x.nl"] == ["A", "B"] for i in range(4000, 8000))
