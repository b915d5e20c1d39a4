"""Helpers for the tests: users and logging in, the wizard driven over HTTP, files as admins
write them, the app's own commands as separate processes, and the browser's checks."""

from __future__ import annotations

import asyncio
import contextlib
import http.cookiejar
import io
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

from aiosmtpd.controller import Controller
from sqlalchemy import update

from huddle import devmail, queue
from huddle.extensions import db
from huddle.models import ImportMail, Level, User, UserLevel

ROOT = Path(__file__).resolve().parent.parent


def worker_env(app, smtp_sink) -> dict:
    """The environment for a `flask worker` process that shares this test's database,
    embedded Redis and SMTP server."""
    return {
        **os.environ,
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "HUDDLE_INSTANCE_PATH": os.environ["HUDDLE_INSTANCE_PATH"],
        "RQ_QUEUE": app.config["RQ_QUEUE"],
        "MAIL_SERVER": "127.0.0.1",
        # Real mail (MAIL_SERVER) means production mode, where SECRET_KEY is required.
        "SECRET_KEY": app.config["SECRET_KEY"],
        "MAIL_PORT": str(smtp_sink["port"]),
        "HUDDLE_BASE_URL": app.config["HUDDLE_BASE_URL"],
    }


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_worker(env: dict, *args: str, **popen) -> subprocess.Popen:
    """A `flask worker` process with ``args``, in a process group of its own so that
    :func:`stop_process` stops it together with the child it forks for a job."""
    popen = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, **popen}
    return subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "app", "worker", *args],
        cwd=ROOT,
        env=env,
        start_new_session=True,
        **popen,
    )


@contextlib.contextmanager
def worker_running(env: dict, *args: str, **popen):
    """A `flask worker` (see :func:`start_worker`) for the length of the block."""
    process = start_worker(env, *args, **popen)
    try:
        yield process
    finally:
        stop_process(process)


def all_exit_cleanly(processes: list[subprocess.Popen], seconds: float = 300) -> None:
    """Wait for each of ``processes`` (burst workers) to end with exit status 0; however it
    goes, none of them outlives the call."""
    try:
        for process in processes:
            assert process.wait(timeout=seconds) == 0
    finally:
        for process in processes:
            stop_process(process)


def stop_process(process: subprocess.Popen, seconds: float = 15) -> None:
    """Stop ``process`` (started with ``start_new_session=True``) and its process group:
    SIGTERM, then SIGKILL to the whole group after ``seconds``. Returns only once it is
    reaped, so no process outlives its test (an RQ worker finishes its job on SIGTERM, which
    may take longer than a test wants to wait)."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=seconds)
            return
        except subprocess.TimeoutExpired:
            pass
    # Still running, or it died and left its job child behind: the group goes.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


@contextlib.contextmanager
def web_process(env: dict, port: int, *, workers: int = 2, threads: int = 1):
    """The app served by gunicorn (as in production) on ``port``, until the block ends."""
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-w", str(workers), "-b", f"127.0.0.1:{port}"]
            + ["--threads", str(threads), "app:app"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=log,
            start_new_session=True,
        )
        try:
            _wait_until_listening(port, process, log)
            yield f"http://127.0.0.1:{port}"
        finally:
            stop_process(process, seconds=30)


def _wait_until_listening(port: int, process: subprocess.Popen, log) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                log.seek(0)
                raise AssertionError(log.read().decode()[-2000:]) from None
            time.sleep(0.1)


class WebClient:
    """A cookie-keeping HTTP client for an app served by another process. Redirects are
    returned, not followed, so a test sees where it is sent."""

    class _NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    def __init__(self, base: str, cookies: http.cookiejar.CookieJar | None = None):
        self.base = base
        self.cookies = cookies if cookies is not None else http.cookiejar.CookieJar()
        self.headers: dict = {}  # sent with every request (an X-Forwarded-For, say)
        self._opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.cookies), self._NoRedirect
        )

    def request(self, path: str, data: bytes | None = None, headers: dict | None = None):
        """(status, headers, body as text)."""
        headers = {**self.headers, **(headers or {})}
        request = urllib.request.Request(self.base + path, data=data, headers=headers)
        try:
            with self._opener.open(request, timeout=60) as response:
                return response.status, response.headers, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.headers, error.read().decode()

    def get(self, path: str):
        return self.request(path)

    def post(self, path: str, fields: dict, files: dict | None = None):
        """A form post, with the CSRF token of the session added; ``files``: name →
        (filename, bytes), sent as multipart/form-data."""
        fields = {"csrf_token": self.csrf_token(), **fields}
        if not files:
            body = urllib.parse.urlencode(fields, doseq=True).encode()
            kind = "application/x-www-form-urlencoded"
        else:
            body, kind = _multipart(fields, files)
        return self.request(path, body, {"Content-Type": kind})

    def csrf_token(self) -> str:
        """The session's token, from the page head every page has (logged in, /login
        sends the admin on, so then another page)."""
        status, _, html = self.get("/login")
        if status != 200:
            _, _, html = self.get("/account")
        return re.search(r'"X-CSRFToken": "([^"]+)"', html).group(1)


def _multipart(fields: dict, files: dict) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts = []
    for name, value in fields.items():
        for item in value if isinstance(value, list) else [value]:
            parts.append(
                f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
                f"{item}\r\n".encode()
            )
    for name, (filename, content) in files.items():
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
            f'filename="{filename}"\r\nContent-Type: text/csv\r\n\r\n'.encode()
            + content
            + b"\r\n"
        )
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


ADMIN_PASSWORD = "correct horse battery"
MEMBER_PASSWORD = "member password 1"


def make_user(email: str, *, password: str | None = None, admin: bool = False, **fields) -> User:
    user = User(
        email=email,
        first_name=fields.pop("first_name", "Test"),
        last_name=fields.pop("last_name", "User"),
        is_admin=admin,
        **fields,
    )
    if password:
        user.set_password(password)
    db.session.add(user)
    db.session.commit()
    return user


_TOKEN = re.compile(r'"X-CSRFToken": "([^"]+)"')


def csrf_token(client, path: str = "/login") -> str:
    """The CSRF token of the client's session, read from a page as a browser would."""
    html = client.get(path).get_data(as_text=True)
    match = _TOKEN.search(html)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def log_in(client, email: str, password: str):
    token = csrf_token(client)
    return client.post("/login", data={"email": email, "password": password, "csrf_token": token})


def run_worker(app, queues=queue.QUEUES) -> None:
    """Run every job queued on ``queues`` (all by default) in this process, as a real RQ
    worker on the real Redis."""
    queue.make_worker(app, queues=queues, simple=True).work(burst=True)


class SlowOutbox(devmail.OutboxHandler):
    """A mail server that takes ``seconds`` over every mail, as a real one under load does."""

    def __init__(self, outbox_dir, seconds: float):
        super().__init__(outbox_dir)
        self.seconds = seconds

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        await asyncio.sleep(self.seconds)
        return await super().handle_DATA(server, session, envelope)


@contextlib.contextmanager
def slow_sink(outbox_dir, seconds: float):
    """An aiosmtpd server on loopback that takes ``seconds`` a mail; yields its port."""
    port = free_port()
    controller = Controller(SlowOutbox(outbox_dir, seconds), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port
    finally:
        controller.stop()


def end_retry_pauses(import_id: int) -> None:
    """Make the import's waiting mails due now, as if the pause before their next try had
    run out (the job that would wake them then is a scheduled one, which tests run at once)."""
    db.session.execute(
        update(ImportMail)
        .where(ImportMail.import_id == import_id, ImportMail.status == "pending")
        .values(next_try_at=None)
    )
    db.session.commit()


def wait_until(seconds: float, check, what: str, *, every: float = 0.2):
    """``check()``'s first true value, asked each ``every`` seconds; fails after ``seconds``
    saying ``what`` was waited for."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"not within {seconds} s: {what}")


def wait_for_mail(outbox: Path, count: int = 1, timeout: float = 5.0):
    """The messages the SMTP sink received, once there are ``count`` of them."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        messages = devmail.list_messages(outbox)
        if len(messages) >= count:
            return messages
        time.sleep(0.05)
    raise AssertionError(f"expected {count} mail(s), the SMTP server got {len(messages)}")


HEADER = "email;first_name;infix;last_name;phone;organisation;job_title;language;levels"


def csv_file(*lines: str) -> bytes:
    return ("\r\n".join([HEADER, *lines]) + "\r\n").encode("utf-8")


# The file that showed the confirm step miscounting: 2 new users; of the 4 existing, 1 gains
# B, 2 only get a phone number, 1 is up to date; 1 invalid row. Existing users' rows need
# only the address (DESIGN §5), so one of them has no names.
SEVEN_ROWS = csv_file(
    "nieuw1@x.nl;Nina;;Nieuw;;;;;",
    "nieuw2@x.nl;Noor;;Nieuw;;;;;",
    "geen.b@x.nl;;;;;;;;",
    "telefoon1@x.nl;Tim;;Tel;06 11111111;;;;",
    "telefoon2@x.nl;Tom;;Tel;06 22222222;;;;",
    "klaar@x.nl;Kim;;Klaar;;;;;",
    "kapot;Kai;;Kapot;;;;;",
)


def seven_rows_users():
    b = Level(name="B")
    db.session.add(b)
    db.session.commit()
    make_user("geen.b@x.nl", first_name="Geen", last_name="Bee")
    for address, first, last in (
        ("telefoon1@x.nl", "Tim", "Tel"),
        ("telefoon2@x.nl", "Tom", "Tel"),
        ("klaar@x.nl", "Kim", "Klaar"),
    ):
        user = make_user(address, first_name=first, last_name=last)
        db.session.add(UserLevel(user_id=user.id, level_id=b.id))
    db.session.commit()


def upload(client, data: bytes, filename: str = "people.csv"):
    """Step 2: upload; returns the response of the page it lands on and the import's id."""
    response = client.post(
        "/imports/new/upload",
        data={"csrf_token": client.csrf, "file": (io.BytesIO(data), filename)},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    location = response.headers["Location"]
    public_id = re.match(r"/imports/([^/]+)/check", location).group(1)
    return client.get(location), public_id


def walk_to_start(client, public_id: str, level_ids=(), notify_new=True, notify_existing=True):
    """Steps 3 to 5: levels, mails, confirm; returns the confirm page's response."""
    data = {"csrf_token": client.csrf, "level_ids": [str(i) for i in level_ids]}
    assert client.post(f"/imports/{public_id}/levels", data=data).status_code == 302
    mails = {"csrf_token": client.csrf}
    if notify_new:
        mails["notify_new"] = "y"
    if notify_existing:
        mails["notify_existing"] = "y"
    assert client.post(f"/imports/{public_id}/mails", data=mails).status_code == 302
    return client.get(f"/imports/{public_id}/confirm")


def start(client, public_id: str):
    return client.post(f"/imports/{public_id}/confirm", data={"csrf_token": client.csrf})


CHROMIUM = "/usr/bin/chromium"
# Chromium's own background traffic has nowhere to go on a closed network; turn it off.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


AXE_SCRIPT = ROOT / "node_modules" / "axe-core" / "axe.min.js"
SERIOUS = ("serious", "critical")


def accessibility_problems(page) -> list[str]:
    """axe-core's serious and critical violations on the page as it is now, in words.

    axe is loaded through the DevTools protocol, which the page's Content-Security-Policy
    does not apply to (the page itself may run only its own script files)."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(AXE_SCRIPT.read_text())
    results = page.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
    return [
        f"{violation['id']} ({violation['impact']}): {violation['help']} — "
        + "; ".join(node["target"][0] for node in violation["nodes"][:5])
        for violation in results["violations"]
        if violation["impact"] in SERIOUS
    ]


def log_in_as_admin(page, admin) -> None:
    """Log in through the login page and wait on Users › Manage until htmx is ready."""
    from playwright.sync_api import expect

    page.goto("/login")
    page.get_by_label("E-mail address").fill(admin.email)
    page.get_by_label("Password").fill(ADMIN_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Users")).to_be_visible()
    page.wait_for_load_state("load")
