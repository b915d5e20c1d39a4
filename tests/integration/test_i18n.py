"""Dutch and English: every text is marked for translation and translated, and each page and
mail is in the language of whoever reads it."""

import html
import re
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.pofile import read_po
from sqlalchemy import select

from huddle.extensions import db
from huddle.models import ImportRun, User

from ..helpers import (
    ROOT,
    csv_file,
    make_user,
    run_worker,
    start,
    upload,
    wait_for_mail,
    walk_to_start,
)

TEMPLATES = ROOT / "templates"
CATALOGS = ROOT / "huddle" / "translations"
# Names, not words: the product's and the languages' own names.
NOT_TRANSLATED = {"Huddle", "Nederlands", "English"}

_JINJA = re.compile(r"\{\{.*?\}\}|\{%.*?%\}", re.S)
_TRANS_BLOCK = re.compile(r"\{%-?\s*trans\b.*?%\}.*?\{%-?\s*endtrans\s*-?%\}", re.S)
_COMMENT = re.compile(r"\{#.*?#\}", re.S)
_SCRIPT = re.compile(r"<(script|style|code)\b.*?</\1>", re.S)  # code: commands, not words
_TEXT_ATTRIBUTE = re.compile(
    r'\s(?:title|alt|placeholder|aria-label|aria-valuetext|aria-roledescription)="([^"]*)"'
)
_TAG = re.compile(r"<[^>]*>", re.S)
_FILE_EXTENSION = re.compile(r"\.(csv|xlsx)\b")


def unmarked_text(source: str) -> list[str]:
    """The words of a template that a reader would see but no ``_()`` or trans block covers."""
    source = _COMMENT.sub(" ", source)
    source = _TRANS_BLOCK.sub(" ", source)
    source = _SCRIPT.sub(" ", source)
    found = [value for value in _TEXT_ATTRIBUTE.findall(_JINJA.sub("", source))]
    text = html.unescape(_TAG.sub(" ", _JINJA.sub(" ", source)))
    found += text.split("\n")
    words = []
    for piece in found:
        piece = _FILE_EXTENSION.sub("", _JINJA.sub("", piece))
        letters = [
            word for word in re.findall(r"[^\W\d_]{2,}", piece) if word not in NOT_TRANSLATED
        ]
        if letters:
            words.append(piece.strip())
    return words


TEMPLATE_FILES = sorted(
    path.relative_to(TEMPLATES).as_posix()
    for path in TEMPLATES.rglob("*")
    if path.suffix in (".html", ".txt")
)


@pytest.mark.parametrize("name", TEMPLATE_FILES)
def test_every_visible_text_of_a_template_is_marked_for_translation(name):
    assert unmarked_text((TEMPLATES / name).read_text()) == []


def _catalog(language: str):
    with (CATALOGS / language / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        return read_po(handle)


def _messages_in_the_code() -> set[str]:
    found = set()
    method_map = [("huddle/**.py", "python"), ("templates/**.html", "jinja2"),
                  ("templates/**.txt", "jinja2")]  # fmt: skip
    options = {"templates/**": {"extensions": "jinja2.ext.i18n"}}
    # The same keywords as `make translations` (pybabel's defaults, -k _l -k N_).
    keywords = {**DEFAULT_KEYWORDS, "_l": None, "N_": None}
    for _filename, _line, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map, options, keywords=keywords
    ):
        found.add(message if isinstance(message, str) else message[0])
    return found


def test_every_message_has_a_dutch_translation_and_the_catalogs_are_up_to_date():
    in_code = _messages_in_the_code()
    assert len(in_code) > 300  # the extraction found the app's messages
    for language in ("nl", "en"):
        catalog = _catalog(language)
        by_id = {_key(message.id): message for message in catalog if message.id}
        missing = sorted(in_code - set(by_id))
        assert not missing, f"{language}: not in the catalog (run `make translations`): {missing}"
    # English is the source language: an empty translation there means "as written".
    dutch = {_key(message.id): message for message in _catalog("nl") if message.id}
    untranslated = sorted(
        key for key in in_code if dutch[key].fuzzy or not all(_strings(dutch[key].string))
    )
    assert not untranslated, f"nl: no translation for {untranslated}"


_COUNT = re.compile(r"%\(num\)s")
_PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def test_every_counted_text_reads_right_with_1_and_with_2_in_both_languages(app):
    # "1 rijen", "1 nieuwe gebruikers": a count put in a text without plural forms, or a
    # translation whose singular is its plural. Every text the code counts with is rendered
    # here with 1 and with 2, as a page or mail would.
    from flask_babel import force_locale

    from huddle.i18n import ngettext

    counted = sorted(_counted_messages())
    assert len(counted) > 30  # the extraction found them
    by_id = {_key(message.id): message for message in _catalog("en") if message.id}
    wrong = []
    with app.test_request_context():
        for singular in counted:
            message = by_id[singular]
            if isinstance(message.id, str):
                wrong.append(f"counted without plural forms: {singular!r}")
                continue
            _one, plural = message.id
            values = {name: "X" for name in _PLACEHOLDER.findall(plural) if name != "num"}
            for language in ("nl", "en"):
                with force_locale(language):
                    one = ngettext(singular, plural, 1, **values)
                    two = ngettext(singular, plural, 2, **values)
                if singular != plural and one.replace("1", "N") == two.replace("2", "N"):
                    wrong.append(f"{language}: {one!r} and {two!r}")
    assert not wrong, wrong


def _counted_messages() -> set[str]:
    """The messages of the code with a count in them (``%(num)s``)."""
    return {message for message in _messages_in_the_code() if _COUNT.search(message)}


def _key(message_id) -> str:
    return message_id if isinstance(message_id, str) else message_id[0]


def _strings(string) -> tuple:
    return string if isinstance(string, tuple) else (string,)


# --- Each reader gets their own language -------------------------------------------------


def test_a_visitor_gets_the_browsers_language_and_can_switch(app):
    client = app.test_client()
    dutch = client.get("/login", headers={"Accept-Language": "nl-NL,nl;q=0.9,en;q=0.5"})
    html = dutch.get_data(as_text=True)
    assert '<html lang="nl">' in html and "<h1>Inloggen</h1>" in html
    english = client.get("/login", headers={"Accept-Language": "de-DE,fr;q=0.8"})
    assert "<h1>Log in</h1>" in english.get_data(as_text=True)  # neither: English

    token = re.search(r'"X-CSRFToken": "([^"]+)"', html).group(1)
    switched = client.post(
        "/language",
        data={"language": "nl", "next": "/forgot-password", "csrf_token": token},
    )
    assert switched.headers["Location"] == "/forgot-password"
    page = client.get("/forgot-password").get_data(as_text=True)  # no Accept-Language now
    assert "Wachtwoord vergeten?" in page


def test_an_admins_own_setting_wins_and_the_switch_keeps_it(admin_client, admin, app_ctx):
    admin.language = "nl"
    db.session.commit()
    page = admin_client.get("/users", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "<h1>Gebruikers</h1>" in page and "Gebruikers importeren" in page
    assert 'lang="en">English</button>' in page  # the switch offers the other language

    admin_client.post("/language", data={"language": "en", "csrf_token": admin_client.csrf})
    db.session.expire_all()
    assert db.session.get(User, admin.id).language == "en"
    assert "<h1>Users</h1>" in admin_client.get("/users").get_data(as_text=True)


def test_the_preview_explains_problems_in_dutch_to_a_dutch_admin(admin_client, admin, app_ctx):
    admin.language = "nl"
    db.session.commit()
    data = csv_file("anna@x.nl;;;Jansen;;;;;", "anna@x.nl;Anna;;Jansen;;;;;")
    page, _ = upload(admin_client, data)
    html = page.get_data(as_text=True)
    assert "Een nieuwe gebruiker heeft een voornaam nodig, en niemand heeft dit adres nog." in html
    assert "Hetzelfde e-mailadres staat op regel 2." in html
    assert "gelezen als: puntkomma-gescheiden, UTF-8, 2 rijen" in html
    assert '<option value=",">kommagescheiden</option>' in html  # "Not read right?"


def test_mails_go_out_in_each_users_language(admin_client, admin, app, app_ctx, smtp_sink):
    admin.language = "nl"
    db.session.commit()
    rows = (
        "nl@x.nl;Noor;;Bakker;;;;nl;",
        "en@x.nl;Emma;;Smith;;;;en_GB;",
        "de@x.nl;Dirk;;Koch;;;;English;",
    )
    _, public_id = upload(admin_client, csv_file(*rows))
    walk_to_start(admin_client, public_id, notify_new=True)
    start(admin_client, public_id)
    run_worker(app)

    mails = {message.to: message for message in wait_for_mail(smtp_sink["outbox"], count=4)}
    assert mails["nl@x.nl"].subject == "Welkom bij Huddle: kies je wachtwoord"
    assert mails["nl@x.nl"].text.startswith("Hallo Noor,")
    assert mails["en@x.nl"].subject == "Welcome to Huddle: choose your password"
    assert mails["de@x.nl"].text.startswith("Hello Dirk,")  # "English" is en
    # The admin's report is in the admin's language.
    assert mails[admin.email].subject == "Import klaar: people.csv"
    assert "3 nieuwe gebruikers aangemaakt" in mails[admin.email].text


def test_the_template_comes_with_dutch_or_english_titles_and_both_import(admin_client, app_ctx):
    dutch = admin_client.get("/imports/template.csv?lang=nl").get_data(as_text=True)
    assert dutch.lstrip("\ufeff").startswith("e-mailadres;voornaam;tussenvoegsel;achternaam;")
    english = admin_client.get("/imports/template.csv").get_data(as_text=True)
    assert english.lstrip("\ufeff").startswith("email;first_name;infix;last_name;")
    for header in (dutch, english):
        filled = (header.rstrip("\r\n") + "\r\nanna@x.nl;Anna;;Jansen;;;;nl;\r\n").encode("utf-8")
        _, public_id = upload(admin_client, filled)
        run = db.session.scalar(select(ImportRun).where(ImportRun.public_id == public_id))
        assert (run.rows_total, run.new_count, run.ignored_columns) == (1, 1, [])


def test_refusals_are_pages_of_our_own_in_the_readers_language(app, member_client):
    missing = app.test_client().get("/nergens", headers={"Accept-Language": "nl"})
    assert missing.status_code == 404
    assert "<h1>Pagina niet gevonden</h1>" in missing.get_data(as_text=True)
    refused = member_client.get("/users")
    assert refused.status_code == 403
    assert "<h1>No access</h1>" in refused.get_data(as_text=True)
    assert "My account" in refused.get_data(as_text=True)  # where a member can go instead


def _library_english() -> set[str]:
    """What the libraries under the forms would say in English: WTForms' messages (its own
    catalog template) and email-validator's reasons for refusing an address."""
    import wtforms
    from email_validator import EmailNotValidError, validate_email

    with open(Path(wtforms.__file__).parent / "locale" / "wtforms.pot", "rb") as handle:
        found = {_key(message.id) for message in read_po(handle) if message.id}
    for address in ("geen-adres", "a@@x.nl", "a b@x.nl", "@x.nl", "a@", "a..b@x.nl", "a@x"):
        try:
            validate_email(address, check_deliverability=False)
        except EmailNotValidError as refused:
            found.add(str(refused))
    return {sentence for sentence in found if "%" not in sentence and len(sentence) > 12}


def test_dutch_pages_hold_no_english_sentence_of_a_library(dutch_admin_client, app_ctx):
    english = _library_english()
    assert "Not a valid choice." in english and len(english) > 10
    user = make_user("jan@x.nl", first_name="Jan", last_name="Jansen")
    client = dutch_admin_client
    bad = {"csrf_token": client.csrf, "email": "jan@@x", "first_name": "", "last_name": "x" * 101}
    pages = {
        "a user's page": client.post(f"/users/{user.id}", data=bad),
        "the levels page": client.post("/levels", data={"csrf_token": client.csrf, "name": ""}),
        "the preview": upload(client, csv_file("geen-adres;A;;B;;;;;", "a b@x.nl;C;;D;;;;;"))[0],
    }
    for where, response in pages.items():
        html = response.get_data(as_text=True)
        assert 'lang="nl"' in html, where
        leaked = sorted(sentence for sentence in english if sentence in html)
        assert not leaked, f"{where}: {leaked}"
    preview = pages["the preview"].get_data(as_text=True)
    assert "“geen-adres” heeft geen @" in preview


def test_how_a_file_was_read_is_told_in_the_language_of_whoever_reads_it(
    admin_client, admin, app_ctx
):
    # Uploaded by an admin in English; read in Dutch once they switch.
    _page, public_id = upload(admin_client, csv_file("an@x.nl;An;;Smit;;;;;"))
    admin.language = "nl"
    db.session.commit()
    html = admin_client.get(f"/imports/{public_id}/check").get_data(as_text=True)
    assert "gelezen als: puntkomma-gescheiden, UTF-8" in html
    assert "semicolon-separated" not in html
