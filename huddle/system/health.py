"""What the System page reports: can we reach the database, Redis and the workers."""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import current_app
from rq import Worker
from rq.registry import FailedJobRegistry, StartedJobRegistry
from sqlalchemy import func, select

from .. import queue
from ..extensions import db
from ..models import User


@dataclass
class QueueHealth:
    """Whether Redis answers, and what the workers are doing."""

    reachable: bool
    where: str
    error: str = ""
    queued: int = 0
    running: int = 0
    failed: int = 0
    workers: list[dict] = field(default_factory=list)


def database_health() -> dict:
    """Which database, and whether it answers."""
    url = db.engine.url
    try:
        users = db.session.scalar(select(func.count()).select_from(User))
    except Exception as exc:  # shown to the admin, not raised: this page must always render
        db.session.rollback()
        return {"ok": False, "backend": url.get_backend_name(), "error": str(exc)}
    return {
        "ok": True,
        "backend": url.get_backend_name(),
        "url": url.render_as_string(hide_password=True),
        "users": users,
    }


def queue_health() -> QueueHealth:
    """Whether Redis answers, its workers and its failed jobs."""
    config = current_app.config
    where = config["REDIS_URL"] or f"embedded Redis ({config['REDIS_DB_FILE']})"
    try:
        connection = queue.get_redis()
        connection.ping()
        queues = queue.all_queues()
        names = {q.name for q in queues}
        workers = [
            {
                "name": w.name,
                "state": w.get_state(),
                "last_heartbeat": w.last_heartbeat,
                "current_job": w.get_current_job_id(),
            }
            for w in Worker.all(connection=connection)
            if names & set(w.queue_names())
        ]
        return QueueHealth(
            reachable=True,
            where=where,
            queued=sum(q.count for q in queues),
            running=sum(StartedJobRegistry(queue=q).count for q in queues),
            failed=sum(FailedJobRegistry(queue=q).count for q in queues),
            workers=workers,
        )
    except Exception as exc:  # Redis down is a state to show, not an error page
        return QueueHealth(reachable=False, where=where, error=str(exc))


def mail_settings() -> dict:
    """Where mail goes (without the password)."""
    config = current_app.config
    return {
        "server": f"{config['MAIL_SERVER']}:{config['MAIL_PORT']}",
        "dev_sink": config["DEV_MAIL_SINK"],
        "sender": config["MAIL_DEFAULT_SENDER"],
        "tls": config["MAIL_USE_TLS"],
    }
