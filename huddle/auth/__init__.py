"""Logging in and out, forgotten passwords, set-password links, and a member's own page."""
