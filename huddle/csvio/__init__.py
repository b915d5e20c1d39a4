"""The import/export file pipeline, in plain Python (no Flask, no database).

    columns.py     the template's columns, their limits, and the titles they are known by
    encodings.py   which encoding a text file is in (UTF-8, UTF-16, Windows-1252, Mac Roman)
    reading.py     bytes → text → rows, separator and header detected (the admin may overrule)
    workbook.py    an Excel workbook's sheets and rows, as the text the admin saw
    validating.py  one row → a normalised user and its problems; duplicates across rows
    checking.py    a whole file → checked rows, in a helper process when the file is large
    writing.py     the template, problem rows and exports as ``;`` CSV, safe for spreadsheets
    xlsx.py        exports as an Excel workbook, streaming

The web wizard, the ``users import`` command and the import job all use these functions, so
a file reads and validates the same wherever it is handled.
"""
