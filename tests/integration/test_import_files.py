"""Real-world files through the wizard over HTTP: what was detected, and reading it again."""

import io
import re

import openpyxl
from sqlalchemy import select

from huddle.extensions import db
from huddle.models import ImportRow

from ..helpers import upload

ROWS = "email,first_name,last_name\r\nzoe@celik.nl,Zoë,Çelik\r\nhart@x.nl,Jan,’t Hart\r\n"


def _names(public_id: str) -> list[str]:
    db.session.expire_all()
    rows = db.session.scalars(
        select(ImportRow)
        .where(ImportRow.import_id.in_(_run_ids(public_id)))
        .order_by(ImportRow.line)
    )
    return [f"{row.values['first_name']} {row.values['last_name']}" for row in rows]


def _run_ids(public_id: str):
    from huddle.models import ImportRun

    return select(ImportRun.id).where(ImportRun.public_id == public_id)


def _read_as(client, public_id: str, **choice):
    response = client.post(
        f"/imports/{public_id}/read-as", data={"csrf_token": client.csrf, **choice}
    )
    assert response.status_code == 302
    return client.get(response.headers["Location"]).get_data(as_text=True)


def test_a_comma_separated_windows_1252_file_is_read_and_says_so(admin_client, app_ctx):
    page, public_id = upload(admin_client, ROWS.encode("cp1252"))
    html = page.get_data(as_text=True)
    assert "read as: comma-separated, Windows-1252, 2 rows." in html
    assert "Zoë" in html and "Çelik" in html
    assert _names(public_id) == ["Zoë Çelik", "Jan ’t Hart"]


def test_the_admin_reads_the_file_with_another_encoding_and_back(admin_client, app_ctx):
    _, public_id = upload(admin_client, ROWS.replace(",", ";").encode("mac_roman"))
    assert _names(public_id) == ["Zoë Çelik", "Jan ’t Hart"]  # detected: Mac Roman

    html = _read_as(admin_client, public_id, encoding="cp1252", delimiter="")
    assert "read as: semicolon-separated, Windows-1252" in html
    assert _names(public_id)[0] == "Zo‘ ‚elik"  # what that choice means, shown as it is
    assert re.search(r'<option value="cp1252" selected>Windows-1252</option>', html)

    html = _read_as(admin_client, public_id, encoding="", delimiter="")
    assert "read as: semicolon-separated, Mac Roman" in html
    assert _names(public_id) == ["Zoë Çelik", "Jan ’t Hart"]


def test_a_wrong_separator_choice_is_refused_and_can_be_undone(admin_client, app_ctx):
    _, public_id = upload(admin_client, ROWS.encode())
    html = _read_as(admin_client, public_id, delimiter="\t")
    assert "cannot be imported" in html
    assert "Every line is read as one value: the file is read as tab-separated, but its " in html
    assert "Choose “comma-separated” under “Not read right?”." in html
    assert '<option value="\t" selected>tab-separated</option>' in html
    html = _read_as(admin_client, public_id, delimiter="")
    assert "read as: comma-separated, UTF-8, 2 rows." in html


def test_a_workbook_whose_users_are_on_the_second_sheet(admin_client, app_ctx):
    book = openpyxl.Workbook()
    book.active.title = "Uitleg"
    book.active.append(["Vul het tweede blad in."])
    sheet = book.create_sheet("Leden")
    sheet.append(["E-mailadres", "Voornaam", "Achternaam", "Telefoonnummer"])
    sheet.append(["zoe@celik.nl", "Zoë", "Çelik", 31612345678])
    data = io.BytesIO()
    book.save(data)

    # The first sheet holds instructions: the sheet with the users is read, and named.
    page, public_id = upload(admin_client, data.getvalue(), filename="leden.xlsx")
    html = page.get_data(as_text=True)
    assert "read as: Excel workbook, sheet “Leden”, 1 row." in html
    assert "31612345678" in html and _names(public_id) == ["Zoë Çelik"]
    # The table is headed by the file's own titles, the field each stands for beneath.
    assert 'Telefoonnummer<small class="field-name">Phone</small>' in html
    # Another sheet can still be chosen; the instructions hold no users.
    assert '<option value="Uitleg">Uitleg</option>' in html
    html = _read_as(admin_client, public_id, sheet="Uitleg")
    assert "leden.xlsx cannot be imported" in html


def test_a_broken_line_deep_in_the_file_is_a_clear_refusal(admin_client, app_ctx):
    rows = "".join(f"u{i}@x.nl;U;;{i}\r\n" for i in range(30))
    data = f'email;first_name;infix;last_name\r\n{rows}late@x.nl;"never closed;'.encode()
    data += b"x" * 70_000
    page, _ = upload(admin_client, data)
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "cannot be imported" in html
    assert "A quote (&#34;) opened on line 32 is never closed" in html


def test_a_title_line_over_64_kb_is_read_and_a_title_over_it_refused(admin_client, app_ctx):
    # Another system's export with thousands of columns: the title line alone is ~100 KB.
    extra = [f"custom field {i}" for i in range(6000)]
    titles = ",".join(["email", "first_name", "last_name", *extra])
    data = f"{titles}\r\nanna@x.nl,Anna,Jansen{',' * len(extra)}\r\n".encode()
    assert len(titles) > 64 * 1024
    page, public_id = upload(admin_client, data, filename="export.csv")
    assert page.status_code == 200
    assert _names(public_id) == ["Anna Jansen"]

    # One title over 64 KB is just a column we don't know: the users are read.
    data = f"email;first_name;last_name;{'x' * 70_000}\r\nanna@x.nl;Anna;Jansen;y\r\n"
    page, public_id = upload(admin_client, data.encode())
    assert page.status_code == 200 and _names(public_id) == ["Anna Jansen"]


# "Mail van lid" is no title we know; only one value in three below it is an address, so it
# is not taken for the address column either: the admin says which columns are which.
OWN_TITLES = (
    "Mail van lid;Naam;Familienaam;Club\r\njan@x.nl;Jan;Jansen;A\r\n-;Piet;Berg;B\r\n"
    "bel Kees;Kees;Dam;C\r\n"
)


def test_the_admin_maps_their_own_titles_once_and_the_next_import_knows_them(admin_client, app_ctx):
    page, public_id = upload(admin_client, OWN_TITLES.encode())
    html = page.get_data(as_text=True)
    assert "cannot be imported yet" in html
    assert '<label for="map-email">E-mail address</label>' in html
    # The first name is asked too, but not required: a file of existing users needs none.
    assert "No such column: existing users only" in html
    assert "Mail van lid (e.g. jan@x.nl, -, bel Kees)" in html

    # "Familienaam" is a title we know (the last name): only two columns are asked for.
    assert 'for="map-last_name"' not in html
    chosen = {"map-email": "Naam", "map-first_name": ""}
    refused = admin_client.post(
        f"/imports/{public_id}/columns", data={"csrf_token": admin_client.csrf, **chosen}
    )
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert "“Naam” holds no e-mail addresses (Jan, Piet, Kees)." in html
    assert 'id="map-first_name-error"' not in html

    chosen = {"map-email": "Mail van lid", "map-first_name": "Naam"}
    response = admin_client.post(
        f"/imports/{public_id}/columns", data={"csrf_token": admin_client.csrf, **chosen}
    )
    assert response.status_code == 302
    html = admin_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "1</span> new user</li>" in html and "2</span> invalid rows" in html
    assert "Ignored columns (not in the template): Club" in html

    # The next file with those titles needs no mapping.
    page, second = upload(admin_client, OWN_TITLES.encode(), filename="volgende.csv")
    assert "1</span> new user</li>" in page.get_data(as_text=True)
    assert _names(second) == ["Jan Jansen", "Piet Berg", "Kees Dam"]
