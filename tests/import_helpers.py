"""Helpers for import tests: files as admins write them, and the wizard driven over HTTP."""

from __future__ import annotations

import io
import re

HEADER = "email;first_name;infix;last_name;phone;organisation;job_title;language;levels"


def csv_file(*lines: str) -> bytes:
    return ("\r\n".join([HEADER, *lines]) + "\r\n").encode("utf-8")


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
