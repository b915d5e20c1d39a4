"""Tests of the app with its real parts: database, Redis, SMTP server, worker processes."""
