"""Exports: asking for one from Users › Manage, its progress, the admin's list of exports,
and downloading the file (from the list, or from the signed link in the mail)."""
