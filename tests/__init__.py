"""The test suite: unit (the pure pipeline and the house rules), integration (the app with
its real database, Redis, SMTP server and worker processes) and browser (Chromium)."""
