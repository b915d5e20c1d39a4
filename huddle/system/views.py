"""The System page (database, queue and mail health) and the dev Outbox."""

from __future__ import annotations

from io import BytesIO

from flask import (
    Blueprint,
    abort,
    current_app,
    make_response,
    render_template,
    request,
    send_file,
)

from .. import devmail, htmx
from ..security import MAIL_PREVIEW_POLICY
from . import health
from .outbox import OutboxQuery, outbox_page

bp = Blueprint("system", __name__)


@bp.get("/system")
def status():
    """The System page."""
    return render_template(
        "system/status.html",
        database=health.database_health(),
        queue=health.queue_health(),
        mail=health.mail_settings(),
    )


def _outbox_dir() -> str:
    # The Outbox only exists while mail goes to the dev sink; with a real server it is a 404.
    if not current_app.config["DEV_MAIL_SINK"]:
        abort(404)
    return current_app.config["OUTBOX_DIR"]


@bp.get("/outbox")
def outbox():
    """The mails the dev sink received and the import mails not sent, searched by address or
    subject, filtered by status and import, a page at a time (the table alone for htmx)."""
    query = OutboxQuery.from_args(request.args)
    listing = outbox_page(_outbox_dir(), query)
    return htmx.fragment_or_page(
        "system/_outbox_table.html", "system/outbox.html", query=query, listing=listing
    )


@bp.get("/outbox/<message_id>")
def outbox_message(message_id: str):
    """One mail of the Outbox, its HTML in a sandboxed frame."""
    message = devmail.get_message(_outbox_dir(), message_id) or abort(404)
    response = make_response(render_template("system/outbox_message.html", message=message))
    response.headers["Content-Security-Policy"] = MAIL_PREVIEW_POLICY
    return response


@bp.get("/outbox/<message_id>/attachments/<id:index>")
def outbox_attachment(message_id: str, index: int):
    """An attachment of a mail in the Outbox."""
    message = devmail.get_message(_outbox_dir(), message_id) or abort(404)
    if not 0 <= index < len(message.attachments):
        abort(404)
    filename, content_type, payload = message.attachments[index]
    return send_file(
        BytesIO(payload), mimetype=content_type, as_attachment=True, download_name=filename
    )
