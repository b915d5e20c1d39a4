"""The import/export file pipeline, in plain Python (no Flask, no database).

    reading.py     bytes → text → rows, with the header mapped to template columns
    validating.py  one row → a normalised user and its problems; duplicates across rows
    checking.py    a whole file → checked rows, in a helper process when the file is large
    writing.py     the template, problem rows and exports as ``;`` CSV, safe for spreadsheets
    columns.py     the template's columns and their limits: one definition for all of these

The web wizard, the ``users import`` command and the import job all use these functions, so
a file reads and validates the same wherever it is handled.
"""
