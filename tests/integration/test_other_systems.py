"""Files as other systems and spreadsheet writers make them, uploaded in the wizard and
imported: the preview says how they were read, and the stored users are what the file means.

Each file is built the way its writer makes it, after that system's published description
(cited at each test); the workbooks are written by xlsxwriter, as a script or another
system's export would write them.
"""

from __future__ import annotations

import io
import json
import re

import xlsxwriter
from sqlalchemy import select

from huddle.extensions import db
from huddle.imports.applying import apply_import
from huddle.models import ImportRow, ImportRun, User

from ..helpers import upload


def _run(public_id: str) -> ImportRun:
    db.session.expire_all()
    return db.session.scalar(select(ImportRun).where(ImportRun.public_id == public_id))


def _imported(public_id: str) -> dict[str, User]:
    """Apply the import (as its job does) and return the stored users by address."""
    run = apply_import(_run(public_id))
    assert run.status == "done", run.error
    users = db.session.scalars(select(User).where(~User.is_admin))
    return {user.email: user for user in users}


def _problems(public_id: str) -> dict[int, list]:
    return {row.line: row.problems for row in _rows(public_id) if row.problems}


def _xlsx(write) -> bytes:
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out)
    write(book)
    book.close()
    return out.getvalue()


def test_an_entra_bulk_create_file_with_its_version_line(admin_client, app_ctx):
    # Microsoft Entra ID, "Bulk create users": the downloaded template starts with the line
    # "version:v1.0", which the upload needs; the titles carry the attribute in brackets and
    # "Required" (learn.microsoft.com/en-us/entra/identity/users/users-bulk-add).
    titles = (
        "Name [displayName] Required,User name [userPrincipalName] Required,"
        "Initial password [passwordProfile] Required,Block sign in (Yes/No) [accountEnabled] "
        "Required,First name [givenName],Last name [surname],Job title [jobTitle],"
        "Department [department],Usage location [usageLocation],Office phone [telephoneNumber],"
        "Mobile phone [mobile]"
    )
    data = (
        "version:v1.0\r\n"
        f"{titles}\r\n"
        "Chris Green,chris@contoso.nl,Pa55w.rd,No,Chris,Green,Trainer,Sales,NL,,+31612345678\r\n"
        "Sara Berg,sara@contoso.nl,Pa55w.rd,No,Sara,Berg,Coach,Sales,NL,020 123 4567,\r\n"
    ).encode()
    page, public_id = upload(admin_client, data, filename="UserCreateTemplate.csv")
    html = page.get_data(as_text=True)
    assert "read as: comma-separated, UTF-8, titles on line 2, 2 rows." in html
    # Office phone and mobile phone are both the phone: per row the first that is filled.
    assert "Columns “Office phone [telephoneNumber]”, “Mobile phone [mobile]” all hold" in html

    users = _imported(public_id)
    chris, sara = users["chris@contoso.nl"], users["sara@contoso.nl"]
    assert (chris.first_name, chris.last_name, chris.job_title) == ("Chris", "Green", "Trainer")
    assert (chris.phone, sara.phone) == ("+31612345678", "020 123 4567")


def test_a_google_workspace_upload_file_with_required_marks(admin_client, app_ctx):
    # Google Workspace, "Add or update multiple users from a CSV file": titles such as
    # "First Name [Required]" and "Email Address [Required]" (support.google.com/a/answer/40057).
    data = (
        b"First Name [Required],Last Name [Required],Email Address [Required],"
        b"Password [Required],Org Unit Path [Required],Mobile Phone,Employee Title,Department\r\n"
        b"Anna,de Vries,anna@school.nl,Geheim123!,/,0612345678,Docent,Wiskunde\r\n"
    )
    page, public_id = upload(admin_client, data, filename="users.csv")
    assert "1</span> new user</li>" in page.get_data(as_text=True)
    anna = _imported(public_id)["anna@school.nl"]
    assert (anna.first_name, anna.last_name) == ("Anna", "de Vries")
    assert (anna.phone, anna.job_title) == ("0612345678", "Docent")


def test_a_moodle_upload_file_keeps_phone_organisation_and_language(admin_client, app_ctx):
    # Moodle, "Upload users": username, firstname, lastname, email, and optional fields such
    # as phone1, institution and lang (docs.moodle.org/en/Upload_users).
    data = (
        b"username,firstname,lastname,email,phone1,institution,lang\r\n"
        b"jjansen,Jan,Jansen,jan@club.nl,0201234567,Sportclub Zuid,nl\r\n"
        b"pbrown,Pat,Brown,pat@club.nl,,Sportclub Zuid,en_us\r\n"
    )
    page, public_id = upload(admin_client, data, filename="moodle.csv")
    html = page.get_data(as_text=True)
    assert "Ignored columns (not in the template): username." in html
    users = _imported(public_id)
    jan, pat = users["jan@club.nl"], users["pat@club.nl"]
    assert (jan.phone, jan.organisation, jan.language) == ("0201234567", "Sportclub Zuid", "nl")
    assert pat.language == "en"


def test_okta_locales_become_the_languages_mails_are_written_in(admin_client, app_ctx):
    # Okta, "Import users from a CSV file": login, firstName, lastName, email, mobilePhone,
    # organization, locale ("nl_NL", "en_US") (help.okta.com, "Import users with a CSV file").
    data = (
        b"login,firstName,lastName,email,mobilePhone,organization,locale\r\n"
        b"eva@x.nl,Eva,Smit,eva@x.nl,+31 6 1234 5678,Acme,nl_NL\r\n"
        b"tom@x.nl,Tom,Hill,tom@x.nl,,Acme,en-US\r\n"
        b"ida@x.nl,Ida,Berg,ida@x.nl,,Acme,Nederlands\r\n"
        b"max@x.nl,Max,Weber,max@x.nl,,Acme,de_DE\r\n"
    )
    page, public_id = upload(admin_client, data, filename="okta.csv")
    problems = _problems(public_id)
    assert list(problems) == [5]  # German: no mails in it, said on its cell
    [[column, message]] = problems[5]
    assert column == "language" and "“de_DE” is not a language the mails are written in" in message
    users = _imported(public_id)
    assert {email: user.language for email, user in users.items()} == {
        "eva@x.nl": "nl",
        "tom@x.nl": "en",
        "ida@x.nl": "nl",
    }
    assert users["eva@x.nl"].organisation == "Acme"


def test_a_title_line_and_an_empty_line_above_the_titles(admin_client, app_ctx):
    data = (
        b"Ledenlijst Sportclub Zuid, november 2026;;\r\n"
        b";;\r\n"
        b"E-mailadres;Voornaam;Achternaam\r\n"
        b"jan@x.nl;Jan;Jansen\r\n"
    )
    page, public_id = upload(admin_client, data, filename="leden.csv")
    html = page.get_data(as_text=True)
    assert "titles on line 3, 1 row" in html

    # The admin may say the titles are on another line: that line is read as the titles.
    response = admin_client.post(
        f"/imports/{public_id}/read-as", data={"csrf_token": admin_client.csrf, "header_line": "1"}
    )
    html = admin_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "leden.csv cannot be imported yet" in html  # "Ledenlijst …" holds no known titles
    assert 'name="header_line" type="number"' in html and 'value="1"' in html
    response = admin_client.post(
        f"/imports/{public_id}/read-as", data={"csrf_token": admin_client.csrf, "header_line": ""}
    )
    html = admin_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "titles on line 3, 1 row" in html
    assert _imported(public_id)["jan@x.nl"].last_name == "Jansen"


def test_a_workbook_with_a_merged_group_row_and_padded_phone_numbers(admin_client, app_ctx):
    # A colleague's workbook: a merged group row above the titles, phone numbers typed as
    # numbers and shown with a leading 0 ("0#########") or a "+" ("+0") by their format
    # (ECMA-376 Part 1, §18.8.31 numFmts; the format codes Excel shows under "Custom").
    def write(book):
        sheet = book.add_worksheet("Leden")
        group = book.add_format({"bold": True, "align": "center"})
        sheet.merge_range("A1:B1", "Contact", group)
        sheet.merge_range("C1:E1", "Naam", group)
        sheet.write_row("A2", ["E-mail", "Mobiel", "Voornaam", "Tussenvoegsel", "Achternaam"])
        zero = book.add_format({"num_format": "0#########"})
        plus = book.add_format({"num_format": "+0"})
        sheet.write_row("A3", ["anna@x.nl"])
        sheet.write_number("B3", 612345678, zero)
        sheet.write_row("C3", ["Anna", "van der", "Berg"])
        sheet.write_row("A4", ["bram@x.nl"])
        sheet.write_number("B4", 31612345678, plus)
        sheet.write_row("C4", ["Bram", "", "Smit"])

    page, public_id = upload(admin_client, _xlsx(write), filename="leden.xlsx")
    html = page.get_data(as_text=True)
    assert "sheet “Leden”, titles on line 2, 2 rows" in html
    users = _imported(public_id)
    assert (users["anna@x.nl"].phone, users["bram@x.nl"].phone) == ("0612345678", "+31612345678")
    assert users["anna@x.nl"].infix == "van der"


def test_a_workbook_whose_formulas_were_never_calculated(admin_client, app_ctx):
    # xlsxwriter writes formulas with the value 0 and asks Excel to calculate them when it
    # opens the file (xlsxwriter.readthedocs.io, "Working with Formulas").
    def write(book):
        sheet = book.add_worksheet()
        sheet.write_row("A1", ["email", "first_name", "last_name"])
        for row in range(2, 22):
            sheet.write_formula(f"A{row}", f'=LOWER(B{row}&"@X.NL")')
            sheet.write_row(f"B{row}", [f"User{row}", "Test"])

    page, public_id = upload(admin_client, _xlsx(write), filename="formules.xlsx")
    html = page.get_data(as_text=True)
    assert "The formulas in this workbook were never calculated" in html
    assert "cell-error" not in html  # one message, not twenty
    assert _run(public_id).status == "rejected"


def test_letters_a_single_byte_writer_could_not_store_are_flagged(admin_client, app_ctx):
    # Windows-1252 has no "ś": a program saving in it writes "?" instead.
    data = "email;first_name;last_name\r\nanna@x.pl;Anna;Wi?niewska\r\nbo@x.nl;Bo;Ek\r\n"
    page, public_id = upload(admin_client, data.encode("cp1252"), filename="export.csv")
    problems = _problems(public_id)
    [[column, message]] = problems[2]
    assert column == "last_name"
    assert "“Wi?niewska” has a “?” where a letter should be" in message
    assert list(problems) == [2]

    data = "email;first_name;last_name\r\nzoe@x.nl;Zo\ufffd;Celik\r\n"
    page, public_id = upload(admin_client, data.encode(), filename="kapot.csv")
    [[column, message]] = _problems(public_id)[2]
    assert column == "first_name" and "a letter that was lost" in message


def test_a_json_export_is_told_it_is_not_a_table(admin_client, app_ctx):
    data = json.dumps([{"email": "a@x.nl", "name": "A"}]).encode()
    page, public_id = upload(admin_client, data, filename="users.json")
    assert "This is a JSON file" in page.get_data(as_text=True)
    assert _run(public_id).status == "rejected"


# Slack, "Download a list of members in your workspace": one column of whole names
# ("fullname") and a display name; no first or last name (slack.com/help/articles/4405848563603).
SLACK_MEMBERS = (
    b"username,email,status,billing-active,has-2fa,has-sso,userid,fullname,displayname\r\n"
    b"jan,jan@x.nl,Member,1,0,0,U01,Jan van der Berg,jan\r\n"
    b"kees,kees@x.nl,Member,1,0,0,U02,Kees ten Cate,kees\r\n"
    b"anna,anna@x.nl,Member,1,0,0,U03,Anna Maria Smit,anna\r\n"
)


def test_a_column_of_whole_names_is_split_when_the_admin_chooses_so(admin_client, app_ctx):
    page, public_id = upload(admin_client, SLACK_MEMBERS, filename="slack-members.csv")
    html = page.get_data(as_text=True)
    # Without names, new users would be skipped: the preview says so, and offers the split
    # (shown before it is used).
    assert "This file has no column of first names or of last names." in html
    assert "3</span> invalid rows" in html
    assert "Split the names in “fullname”?" in html
    assert "<tr><td>Jan van der Berg</td><td>Jan</td><td>van der</td><td>Berg</td></tr>" in html
    response = admin_client.post(
        f"/imports/{public_id}/columns",
        data={"csrf_token": admin_client.csrf, "split_name": "fullname"},
    )
    assert response.status_code == 302
    html = admin_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "3</span> new users" in html
    users = _imported(public_id)
    assert {
        email: (user.first_name, user.infix, user.last_name) for email, user in users.items()
    } == {
        "jan@x.nl": ("Jan", "van der", "Berg"),
        "kees@x.nl": ("Kees", "ten", "Cate"),
        "anna@x.nl": ("Anna Maria", "", "Smit"),
    }

    # Remembered like any mapping: the admin's next file of this kind needs no question.
    page, _second = upload(admin_client, SLACK_MEMBERS, filename="slack-members-2.csv")
    assert (
        '<span class="count">3</span> existing users<span class="count-parts">: 3 are already'
        in page.get_data(as_text=True)
    )


def test_columns_not_used_or_used_twice_are_the_admins_to_choose(admin_client, app_ctx):
    # Google Workspace's user download has a work and a mobile phone; "School" is a title
    # of the admin's own. (support.google.com/a/answer/7348070, "Download a list of users")
    data = (
        b"Email Address [Required],First Name [Required],Last Name [Required],Work Phone,"
        b"Mobile Phone,School\r\n"
        b"anna@x.nl,Anna,Berg,020 123 4567,0612345678,Sportclub Zuid\r\n"
        b"bram@x.nl,Bram,Smit,,0687654321,Sportclub Noord\r\n"
    )
    page, public_id = upload(admin_client, data, filename="users.csv")
    html = page.get_data(as_text=True)
    assert "3 columns are not used or used twice: choose what they hold" in html
    assert "Columns “Work Phone”, “Mobile Phone” all hold the field “phone”" in html
    values = {row.line: row.values for row in _rows(public_id)}
    assert (values[2]["phone"], values[3]["phone"]) == ("020 123 4567", "0687654321")

    titles = re.findall(r'name="(title-\d+)" value="([^"]+)"', html)
    use = {"School": "organisation", "Work Phone": "ignore", "Mobile Phone": "phone"}
    form = {key: title for key, title in titles}
    form |= {key.replace("title", "use"): use[title] for key, title in titles}
    refused = admin_client.post(
        f"/imports/{public_id}/columns/use",
        data={"csrf_token": admin_client.csrf, "title-9": "Not in the file", "use-9": "phone"},
    )
    assert refused.status_code == 400
    response = admin_client.post(
        f"/imports/{public_id}/columns/use", data={"csrf_token": admin_client.csrf, **form}
    )
    assert response.status_code == 302
    users = _imported(public_id)
    anna = users["anna@x.nl"]
    assert (anna.phone, anna.organisation) == ("0612345678", "Sportclub Zuid")

    # The next download of that system reads the same, without asking.
    page, second = upload(admin_client, data, filename="users-2.csv")
    html = page.get_data(as_text=True)
    assert "all hold the field “phone”" not in html
    assert "1 column is not used or used twice" in html  # Work Phone, as chosen: left out
    assert {row.values.get("organisation") for row in _rows(second)} == {
        "Sportclub Zuid",
        "Sportclub Noord",
    }


def test_a_hidden_duplicate_column_is_said_to_be_hidden(admin_client, app_ctx):
    # A workbook where someone hid an old phone column instead of deleting it (xlsxwriter,
    # set_column with hidden; ECMA-376 Part 1, §18.3.1.13 col).
    def write(book):
        sheet = book.add_worksheet("Leden")
        sheet.write_row("A1", ["email", "first_name", "last_name", "telefoon", "telefoon"])
        sheet.write_row("A2", ["anna@x.nl", "Anna", "Berg", "", "0201111111"])
        sheet.set_column("E:E", None, None, {"hidden": True})

    page, public_id = upload(admin_client, _xlsx(write), filename="leden.xlsx")
    html = page.get_data(as_text=True)
    assert "Read from columns hidden in the workbook: “telefoon”." in html
    assert [row.values["phone"] for row in _rows(public_id)] == ["0201111111"]


def _rows(public_id: str) -> list[ImportRow]:
    db.session.expire_all()
    return db.session.scalars(
        select(ImportRow).where(ImportRow.import_id == _run(public_id).id).order_by(ImportRow.line)
    ).all()


def _ods(rows: list[list]) -> bytes:
    """An OpenDocument spreadsheet as odfpy writes it (the writer pandas uses for .ods):
    a table of rows of cells, numbers as float values (OpenDocument 1.3, Part 3, §9.1
    table:table, §19.385 office:value-type)."""
    from odf.opendocument import OpenDocumentSpreadsheet
    from odf.table import Table, TableCell, TableRow
    from odf.text import P

    document = OpenDocumentSpreadsheet()
    for name in ("Uitleg", "Leden"):
        table = Table(name=name)
        for values in rows if name == "Leden" else [["Vul het blad Leden in."]]:
            row = TableRow()
            for value in values:
                if isinstance(value, int):
                    cell = TableCell(valuetype="float", value=value)
                else:
                    cell = TableCell(valuetype="string")
                cell.addElement(P(text=str(value)))
                row.addElement(cell)
            table.addElement(row)
        document.spreadsheet.addElement(table)
    out = io.BytesIO()
    document.write(out)
    return out.getvalue()


def test_an_ods_spreadsheet_is_read(admin_client, app_ctx):
    data = _ods(
        [
            ["E-mailadres", "Voornaam", "Tussenvoegsel", "Achternaam", "Telefoon", "Taal"],
            ["zoe@x.nl", "Zoë", "", "Çelik", 31612345678, "nl_NL"],
            ["jan@x.nl", "Jan", "van der", "Berg", "", "Engels"],
        ]
    )
    page, public_id = upload(admin_client, data, filename="leden.ods")
    html = page.get_data(as_text=True)
    assert "read as: OpenDocument spreadsheet, sheet “Leden”, 2 rows." in html
    users = _imported(public_id)
    zoe, jan = users["zoe@x.nl"], users["jan@x.nl"]
    assert (zoe.first_name, zoe.last_name, zoe.phone, zoe.language) == (
        "Zoë",
        "Çelik",
        "31612345678",
        "nl",
    )
    assert (jan.infix, jan.language) == ("van der", "en")


def test_an_old_excel_workbook_is_read(admin_client, app_ctx):
    # .xls (BIFF8) as xlwt writes it, the writer of old-style workbooks pandas used.
    import xlwt

    book = xlwt.Workbook(encoding="utf-8")
    sheet = book.add_sheet("Leden")
    for column, title in enumerate(["email", "first_name", "last_name", "phone", "job_title"]):
        sheet.write(0, column, title)
    for column, value in enumerate(["zoe@x.nl", "Zoë", "Çelik", 612345678, "Trainer"]):
        sheet.write(1, column, value)
    out = io.BytesIO()
    book.save(out)
    page, public_id = upload(admin_client, out.getvalue(), filename="leden.xls")
    assert "read as: Excel 97–2003 workbook, sheet “Leden”, 1 row." in page.get_data(as_text=True)
    zoe = _imported(public_id)["zoe@x.nl"]
    assert (zoe.first_name, zoe.last_name, zoe.phone, zoe.job_title) == (
        "Zoë",
        "Çelik",
        "612345678",
        "Trainer",
    )
