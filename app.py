"""Entry point for `flask --app app ...` and for gunicorn (`gunicorn app:app`)."""

from huddle import create_app

app = create_app()
