"""The import/export file pipeline, in plain Python: no Flask, no database, nothing else of
``huddle`` (a test reads the imports to keep it so).

    columns.py     the template's columns, their limits, and the titles they are known by
    encodings.py   which encoding a text file is in (UTF-8, UTF-16, Windows-1252, Mac Roman)
    reading.py     bytes → text → rows: separator, title line, sheet and columns found (the
                   admin may overrule each)
    names.py       a full name split into first name, infix and last name
    workbook.py    an Excel workbook's sheets and rows, as the text the admin saw
    problems.py    what is wrong with a whole file, or with one cell
    validating.py  one row → a normalised user and its problems
    duplicates.py  addresses used twice in one file
    streaming.py   a whole file → checked rows in batches, in a helper process when it is large
    planning.py    what a checked row does to the stored users: create, update, leave, skip
    writing.py     the template, problem rows and exports as ``;`` CSV, safe for spreadsheets
    xlsx.py        exports as an Excel workbook, streaming
    messages.py    the messages in the reader's language, by a translator the caller sets

The web wizard, the ``users import`` command and the import job all use these functions, so
a file reads, validates and plans the same wherever it is handled.
"""
