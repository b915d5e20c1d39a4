"""Running the app's own commands as separate processes in tests, and talking to them."""

import contextlib
import http.cookiejar
import os
import re
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


@contextlib.contextmanager
def web_process(env: dict, port: int, *, workers: int = 2):
    """The app served by gunicorn (as in production) on ``port``, until the block ends."""
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-w", str(workers), "-b", f"127.0.0.1:{port}"]
            + ["app:app"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
        try:
            _wait_until_listening(port, process, log)
            yield f"http://127.0.0.1:{port}"
        finally:
            process.terminate()
            process.wait(timeout=30)


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
        self._opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.cookies), self._NoRedirect
        )

    def request(self, path: str, data: bytes | None = None, headers: dict | None = None):
        """(status, headers, body as text)."""
        request = urllib.request.Request(self.base + path, data=data, headers=headers or {})
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
