"""The import/export file pipeline, in plain Python: no Flask, no database, nothing else of
``huddle`` (a test reads the imports to keep it so).

    columns.py     the template's columns, their limits, and the titles they are known by
    encodings.py   which encoding a text file is in (UTF-8, UTF-16, Windows-1252, Mac Roman)
    reading.py     bytes → a table of rows: the file's kind, sheet and columns (the admin may
                   overrule each); text_records.py for text, workbook.py for workbooks
    titles.py      where the title line is and what its titles stand for
    text_records.py  a text file's records: encoding, separator, quotes
    cells.py       a workbook cell as the text the spreadsheet showed
    xlsx_parts.py  what an .xlsx says besides its values (formats, hidden columns, formulas)
    xlsx_streamed.py  an .xlsx sheet row by row, for sheets too wide for calamine
    names.py       a full name split into first name, infix and last name
    workbook.py    a workbook's (.xlsx, .ods, .xls) sheets and rows, as the text the admin saw
    problems.py    what is wrong with a whole file, or with one cell
    addresses.py   whether an e-mail address is valid, and what is wrong with one, in words
    validating.py  one row → a normalised user and its problems
    duplicates.py  addresses used twice in one file
    streaming.py   a whole file → checked rows in batches, in a helper process when it is large
    planning.py    what a checked row does to the stored users: create, update, leave, skip
                   (a new user needs names; an existing user's row only the address)
    writing.py     the template, problem rows and exports as ``;`` CSV, safe for spreadsheets
    xlsx.py        exports as an Excel workbook, streaming
    messages.py    the messages in the reader's language, by a translator the caller sets

The web wizard, the ``users import`` command and the import job all use these functions, so
a file reads, validates and plans the same wherever it is handled.
"""
