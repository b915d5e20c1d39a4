"""The System page and the dev Outbox."""

from flask_mail import Message

from huddle.extensions import mail

from ..helpers import wait_for_mail


def test_outbox_shows_a_mail_that_went_through_smtp(app, admin_client, smtp_sink):
    with app.app_context():
        message = Message("Hello <there>", recipients=["someone@example.org"])
        message.body = "Plain text body"
        message.html = "<p>HTML <b>body</b></p>"
        message.attach("people.csv", "text/csv", b"email;first_name\r\n")
        mail.send(message)
    [received] = wait_for_mail(smtp_sink["outbox"])

    listing = admin_client.get("/outbox").get_data(as_text=True)
    assert "someone@example.org" in listing
    assert "Hello &lt;there&gt;" in listing  # escaped

    response = admin_client.get(f"/outbox/{received.id}")
    page = response.get_data(as_text=True)
    assert "Plain text body" in page
    # The mail's own inline styles may show in the preview; scripts still may not run.
    policy = response.headers["Content-Security-Policy"]
    assert "style-src 'self' 'unsafe-inline'" in policy and "script-src 'self';" in policy
    assert 'sandbox srcdoc="&lt;p&gt;HTML' in page
    attachment = admin_client.get(f"/outbox/{received.id}/attachments/0")
    assert attachment.data == b"email;first_name\r\n"
    assert admin_client.get("/outbox/..%2f..%2fetc%2fpasswd").status_code == 404


def test_outbox_is_gone_when_a_real_mail_server_is_configured(app, admin_client):
    app.config["DEV_MAIL_SINK"] = False
    try:
        assert admin_client.get("/outbox").status_code == 404
        assert "Outbox" not in admin_client.get("/system").get_data(as_text=True)
    finally:
        app.config["DEV_MAIL_SINK"] = True


def test_system_page_reports_database_and_redis(admin_client):
    html = admin_client.get("/system").get_data(as_text=True)
    assert "Database" in html and "Redis unreachable" not in html
    assert "Jobs waiting" in html
    assert "No worker running" in html
