"""What the browser is told on every response, and what the app refuses to start without."""

import pytest

from huddle import create_app
from huddle.config import ConfigError, load_config


@pytest.mark.parametrize("path", ["/login", "/users", "/static/app.js", "/no-such-page"])
def test_every_response_carries_the_security_headers(admin_client, path):
    headers = admin_client.get(path).headers
    policy = headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    assert "frame-ancestors 'none'" in policy and "object-src 'none'" in policy
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "same-origin"
    assert "Strict-Transport-Security" not in headers  # plain HTTP here


def test_over_https_the_browser_is_told_to_stay_on_https(admin_client):
    response = admin_client.get("/login", base_url="https://huddle.test")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")


def test_htmx_is_configured_for_the_policy(admin_client):
    page = admin_client.get("/users").get_data(as_text=True)
    assert '"includeIndicatorStyles": false' in page and '"allowEval": false' in page
    assert "<script>" not in page and " onclick=" not in page  # only our own script files


def test_without_secret_key_the_app_refuses_to_start_outside_dev_mode(tmp_path, monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setenv("MAIL_SERVER", "smtp.example.org")
    with pytest.raises(ConfigError, match="SECRET_KEY is not set"):
        load_config(tmp_path)
    monkeypatch.setenv("HUDDLE_INSTANCE_PATH", str(tmp_path))
    with pytest.raises(ConfigError):
        create_app()
    assert not (tmp_path / "secret_key").exists()  # no key was made up

    monkeypatch.setenv("SECRET_KEY", "s3cret")
    assert load_config(tmp_path)["SECRET_KEY"] == "s3cret"


def test_in_dev_mode_a_key_is_made_once_and_kept(tmp_path, monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("MAIL_SERVER", raising=False)
    first = load_config(tmp_path)["SECRET_KEY"]
    assert len(first) == 64 and load_config(tmp_path)["SECRET_KEY"] == first


def test_cookies_are_secure_when_served_over_https(tmp_path, monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "s3cret")
    monkeypatch.setenv("HUDDLE_BASE_URL", "https://huddle.example.org")
    config = load_config(tmp_path)
    assert config["SESSION_COOKIE_SECURE"] and config["REMEMBER_COOKIE_SECURE"]
    assert config["SESSION_COOKIE_HTTPONLY"] and config["SESSION_COOKIE_SAMESITE"] == "Lax"
    monkeypatch.setenv("HUDDLE_BASE_URL", "http://127.0.0.1:5000")
    assert not load_config(tmp_path)["SESSION_COOKIE_SECURE"]


@pytest.mark.parametrize("path", ["/users", "/imports/template.csv", "/login", "/outbox"])
def test_no_page_or_file_with_personal_data_is_kept_in_a_cache(admin_client, path):
    assert admin_client.get(path).headers["Cache-Control"] == "no-store"


def test_our_own_static_files_may_be_cached(admin_client):
    assert admin_client.get("/static/app.js").headers.get("Cache-Control") != "no-store"
