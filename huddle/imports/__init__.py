"""The whole import feature, web on top and services below.

views.py     the wizard's steps (template, upload & preview, levels, mails, confirm)
pages.py     an import's own page (progress, outcome, mails) and the history
forms.py     the wizard's forms
drafts.py    a draft import and what each step does to it; creating and starting one
preview.py   every row checked and planned before the import, fixes checked again
summary.py   the counts, the confirm sentence, the mails it would send, outcome rows, history
outcome.py   every row's outcome as a CSV (what happened, or for a failed import would have)
lookups.py   what an import reads from the database (users by address, levels)
batches.py   the fast path: rows planned where they are checked, written in bulk
applying.py  the import itself, in one transaction; noticing a lost job
delivery.py  the mails an import owes: their records, and how they stand
upkeep.py    lost imports and mails found again; drafts never started deleted
"""
