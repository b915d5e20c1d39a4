"""The System page (database, queue and mail health) and the dev Outbox."""
