"""Search on Users › Manage finds by index (an FTS5 trigram index on SQLite, pg_trgm on
PostgreSQL) exactly the users that contain every word, as reading every user would."""

import pytest
from sqlalchemy import delete, insert, select, update

from huddle.extensions import db
from huddle.models import User
from huddle.users import listing
from huddle.users.listing import UserQuery, list_users

HTMX = {"HX-Request": "true", "HX-Target": "users-table"}

# Names as admins' files have them: accents, infixes, apostrophes, hyphens, short names,
# addresses with dots, plus signs, underscores, percent signs and digits.
PEOPLE = [
    ("jan.jansen@gemeente.nl", "Jan", "", "Jansen"),
    ("j.janssen+huddle@example.org", "Johan", "", "Janssen"),
    ("anouk_devries@school.nl", "Anouk", "de", "Vries"),
    ("zoe.celik@example.org", "Zoë", "", "Çelik"),
    ("zoe.celik2@example.org", "ZOË", "", "ÇELIK"),
    ("piet@bakkerij.nl", "Piet", "van der", "Berg"),
    ("hek@example.org", "Piet", "van 't", "Hek"),
    ("renee@example.org", "Renée", "", "Dubois-Lefèvre"),
    ("li@example.org", "Li", "", "Wu"),
    ("o.o@x.nl", "O", "", "O'Brien"),
    ("100%@example.org", "Procent", "", "Honderd"),
    ("bjorn@example.se", "Björn", "", "Ångström"),
    ("muller@example.de", "Jürgen", "", "Müller"),
    ("s.degroot@example.nl", "Sanne", "de", "Groot"),
]

SEARCHES = [
    "jansen",  # one name; "Janssen" is not it
    "jans",  # part of both
    "JAN",  # case
    "gemeente.nl",  # a part of an address, with a dot
    "+huddle",
    "_devries",  # an underscore is a letter, not LIKE's any-one
    "100%",  # a percent sign too
    "çelik",  # accents, either case
    "ÇELIK",
    "zoë çelik",  # two words: both must be in
    "van der",  # an infix
    "van 't",
    "o'brien",
    "lefèvre",
    "dubois-lef",
    "ångström",
    "wu",  # short words: read every user, as before
    "li",
    "o",
    "de groot",  # a short word and a long one
    "example.org piet",
    "nobody-has-this",
    '"quoted"',  # FTS query syntax in a word is a word
    "jan OR piet",
    "NEAR(jan",
    "a*",
]


def _contains(value: str, word: str) -> bool:
    return word.lower() in value.lower()


def _expected(word_list: list[str]) -> set[str]:
    return {
        email
        for email, *names in PEOPLE
        if all(any(_contains(value, word) for value in (email, *names)) for word in word_list)
    }


@pytest.fixture
def people(app_ctx):
    db.session.execute(
        insert(User),
        [
            {"email": email, "first_name": first, "infix": infix, "last_name": last}
            for email, first, infix, last in PEOPLE
        ],
    )
    db.session.commit()


def _found(q: str) -> tuple[set[str], int]:
    page = list_users(UserQuery(q=q), per_page=100)
    return {user.email for user in page.users}, page.total


def _short_word_folds_only_ascii(q: str) -> bool:
    # SQLite's LIKE, still used for words under three letters, ignores the case of A–Z only.
    return db.session.get_bind().dialect.name == "sqlite" and any(
        len(word) < 3 and not word.isascii() for word in q.split()
    )


@pytest.mark.parametrize("q", SEARCHES)
def test_a_search_finds_exactly_the_users_with_every_word(people, q):
    assert not _short_word_folds_only_ascii(q)
    expected = _expected(q.split())
    found, total = _found(q)
    assert found == expected
    assert total == len(expected)


def test_accents_and_case_are_found_both_ways(people):
    # "ÇELIK" and "çelik" find both spellings: the index folds the case of every letter.
    assert (
        _found("ÇELIK")[0]
        == _found("çelik")[0]
        == {
            "zoe.celik@example.org",
            "zoe.celik2@example.org",
        }
    )


def test_the_index_follows_new_changed_and_deleted_users(people):
    assert _found("Müller")[0] == {"muller@example.de"}
    db.session.execute(
        update(User).where(User.email == "muller@example.de").values(last_name="Schmidt")
    )
    db.session.add(User(email="nieuw@example.org", first_name="Vera", last_name="Müller"))
    db.session.commit()
    assert _found("Müller")[0] == {"nieuw@example.org"}
    assert _found("Jürgen Schmidt")[0] == {"muller@example.de"}

    db.session.execute(delete(User).where(User.email == "nieuw@example.org"))
    db.session.commit()
    assert _found("Müller") == (set(), 0)
    # A change to a column not searched (a phone) leaves the index as it was.
    db.session.execute(update(User).where(User.email == "piet@bakkerij.nl").values(phone="06"))
    db.session.commit()
    assert _found("bakkerij")[0] == {"piet@bakkerij.nl"}


def test_search_pages_and_sorts_what_it_found(people):
    page = list_users(UserQuery(q="example", sort="-email", page=2), per_page=3)
    emails = sorted((email for email, *_ in PEOPLE if "example" in email.lower()), reverse=True)
    assert page.total == len(emails)
    assert [user.email for user in page.users] == emails[3:6]
    assert db.session.scalar(select(User.id).where(User.email == emails[3])) == page.users[0].id


def test_a_search_that_finds_many_pages_through_the_same_users_it_counts(app_ctx):
    # Many users with one name in either case: the page is found by walking the users in
    # name order (see listing._found_many), and holds exactly what the count counts.
    db.session.execute(
        insert(User),
        [
            {
                "email": f"user{i}@example.org",
                "first_name": "ÉMILE" if i % 2 else "Émile",
                "last_name": f"Çelik {i:03}",
            }
            for i in range(400)
        ],
    )
    db.session.commit()
    for q in ("émile", "ÉMILE", "çelik", "example.org"):
        pages = [list_users(UserQuery(q=q, page=n), per_page=50) for n in range(1, 9)]
        found = {user.email for page in pages for user in page.users}
        assert pages[0].total == len(found) == 400, q


@pytest.fixture
def many_lids(app_ctx, monkeypatch):
    """65 users named "Lid", 3 others; a search counts up to 20 (as it would up to 10,000)."""
    monkeypatch.setattr(listing, "COUNT_UP_TO", 20)
    db.session.execute(
        insert(User),
        [
            {
                "email": f"lid{i:02}@vereniging.nl",
                "first_name": "Lid",
                "last_name": f"Nummer {i:02}",
            }
            for i in range(65)
        ]
        + [
            {"email": f"ander{i}@example.org", "first_name": "Ander", "last_name": f"Mens {i}"}
            for i in range(3)
        ],
    )
    db.session.commit()


def _lids(page) -> list[str]:
    return [user.last_name for user in page.users]


@pytest.mark.parametrize("walked_per_row", [40, 1])
def test_a_search_that_finds_very_many_says_more_than_and_pages_through_all(
    many_lids, monkeypatch, walked_per_row
):
    # 1: the page is not among the first users in name order ("Mens" sorts before
    # "Nummer"), so it is found by sorting all found instead; the same page either way.
    monkeypatch.setattr(listing, "WALKED_PER_ROW", walked_per_row)
    first = list_users(UserQuery(q="vereniging"), per_page=10)
    assert (first.total, first.more) == (20, True)  # counted up to the bound only
    assert _lids(first) == [f"Nummer {i:02}" for i in range(10)]
    # Pages past the bound are still there, in order: the matches are walked, not counted.
    fifth = list_users(UserQuery(q="vereniging", page=5), per_page=10)
    assert (_lids(fifth), fifth.more) == ([f"Nummer {i:02}" for i in range(40, 50)], True)
    # The last page is found by walking to it: now the count is known.
    seventh = list_users(UserQuery(q="vereniging", page=7), per_page=10)
    assert _lids(seventh) == [f"Nummer {i:02}" for i in range(60, 65)]
    assert (seventh.total, seventh.pages, seventh.more) == (65, 7, False)
    # Past the end (a page typed in the address): the last page, with every match counted.
    past = list_users(UserQuery(q="vereniging", page=30), per_page=10)
    assert (past.page, past.total, past.pages, past.more) == (7, 65, 7, False)
    assert _lids(past) == _lids(seventh)
    # Few enough are counted exactly, as before.
    few = list_users(UserQuery(q="mens"), per_page=10)
    assert (few.total, few.more, len(few.users)) == (3, False, 3)
    short = list_users(UserQuery(q="id", page=2), per_page=10)  # a short word: walked
    assert (short.total, short.more) == (20, True)
    assert _lids(short) == [f"Nummer {i:02}" for i in range(10, 20)]


def test_the_page_says_more_than_in_either_language_and_offers_no_last_page(
    many_lids, admin_client, dutch_admin_client
):
    html = admin_client.get("/users?q=vereniging&per_page=10", headers=HTMX).get_data(as_text=True)
    assert "Showing 1–10 of more than 20 users matching “vereniging”" in html
    assert 'data-total="20" data-more="true"' in html
    assert "Page 1<" in html and "Next ›" in html and "Last »" not in html
    dutch = dutch_admin_client.get("/users?q=vereniging&per_page=10", headers=HTMX)
    text = dutch.get_data(as_text=True)
    assert "1–10 van meer dan 20 gebruikers gevonden voor “vereniging”" in text
    assert "Pagina 1<" in text and "Laatste" not in text
    # Walked to the last page, the count is known.
    last = admin_client.get("/users?q=vereniging&per_page=10&page=7", headers=HTMX)
    html = last.get_data(as_text=True)
    assert "Showing 61–65 of 65 users matching" in html and "Page 7 of 7" in html
    assert "Next ›" not in html
    exact = admin_client.get("/users?q=mens&per_page=10", headers=HTMX)
    assert "Showing 1–3 of 3 users matching" in exact.get_data(as_text=True)
    assert "data-more" not in exact.get_data(as_text=True)
