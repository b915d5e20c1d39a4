"""What a large import leaves for after its commit, so that it is done sooner: its new users
are found by Users › Manage's search the moment the import is done, before SQLite's search
index knows them (they wait in its backlog, migration 0015), and the same users once the job
has indexed them; and its pages are copied from SQLite's write-ahead log by the next commit.

On PostgreSQL nothing waits (its trigram index is kept by the database): the same searches
must find the same users there too."""

import pytest
from sqlalchemy import delete, select, text, update

from huddle import jobs, search_index
from huddle.extensions import db
from huddle.imports import applying, drafts
from huddle.models import User
from huddle.users.listing import UserQuery, list_users

from ..helpers import csv_file, make_user

IMPORTED = [
    "jan.jansen@gemeente.nl;Jan;;Jansen;;;;;",
    "zoe.celik@example.org;Zoë;;Çelik;;;;;",
    "piet@bakkerij.nl;Piet;van der;Berg;;;;;",
    "renee@example.org;Renée;;Dubois-Lefèvre;;;;;",
    "100%@example.org;Procent;;Honderd;;;;;",
    "muller@example.de;Jürgen;;Müller;;;;;",
    *(f"lid{i}@vereniging.nl;Lid;;Nummer {i};;;;;" for i in range(60)),
]
# Searches whose letters beyond A–Z are written as the users have them: while a user waits,
# it is read with LIKE, which ignores the case of A–Z only (the index: of every letter).
WHILE_WAITING = [
    "jansen",
    "JAN",
    "gemeente.nl",
    "Çelik",
    "zoë Çelik",
    "van der",
    "Dubois-Lef",
    "100%",
    "nummer 1",  # the walk through many found users (listing._found_many)
    "vereniging lid",
    "oud",  # an earlier user, in the index
    "nobody-has-this",
    "wu",  # a short word: read, as always
]


def _found(q: str) -> tuple[set[str], int]:
    page = list_users(UserQuery(q=q), per_page=100)
    return {user.email for user in page.users}, page.total


def _expected(q: str) -> set[str]:
    """The users with every word of ``q`` in one of their searched columns, by reading all."""
    users = db.session.execute(select(User.email, User.first_name, User.infix, User.last_name))
    return {
        email
        for email, *names in users
        if all(
            any(word.lower() in value.lower() for value in (email, *names)) for word in q.split()
        )
    }


def _sqlite() -> bool:
    return db.session.get_bind().dialect.name == "sqlite"


def _index_matches_the_users() -> None:
    """FTS5's own check of the index against the users table (rank 1: the content too)."""
    if _sqlite():
        db.session.execute(
            text("INSERT INTO users_search (users_search, rank) VALUES ('integrity-check', 1)")
        )


@pytest.fixture
def imported(app_ctx, admin, monkeypatch):
    """An import treated as large (its users left to index later), applied, not caught up."""
    monkeypatch.setattr(applying, "SEARCH_INDEX_LATER_BYTES", 0)
    make_user("oud@example.org", first_name="Oud", last_name="Lid")  # indexed as made
    run = drafts.create_draft("leden.csv", csv_file(*IMPORTED), admin=admin)
    run = applying.apply_import(run)
    assert run.status == "done", run.error
    return run


def test_imported_users_are_found_before_and_after_they_are_indexed(imported):
    waiting = search_index.backlog_start()
    if _sqlite():
        first_new = db.session.scalar(select(User.id).where(User.email == "jan.jansen@gemeente.nl"))
        assert waiting == first_new  # the import's users wait; the earlier ones do not
    for q in WHILE_WAITING:
        expected = _expected(q)
        assert _found(q) == (expected, len(expected)), q
    assert len(_found("vereniging")[0]) == 60

    assert search_index.catch_up(users_per_transaction=25) == (66 if _sqlite() else 0)
    assert search_index.backlog_start() is None
    _index_matches_the_users()
    for q in [*WHILE_WAITING, "çelik", "ÇELIK", "müller", "renée"]:
        expected = _expected(q)
        assert _found(q) == (expected, len(expected)), q
    assert _found("çelik")[0] == {"zoe.celik@example.org"}  # the index folds every letter


def test_users_changed_added_and_deleted_while_waiting_are_indexed_as_they_are_then(imported):
    db.session.execute(
        update(User).where(User.email == "muller@example.de").values(last_name="Schmidt")
    )
    db.session.execute(delete(User).where(User.email == "jan.jansen@gemeente.nl"))
    make_user("nieuw@example.org", first_name="Vera", last_name="Visser")  # after the import
    db.session.execute(update(User).where(User.email == "oud@example.org").values(infix="de"))
    db.session.commit()
    assert _found("Schmidt")[0] == {"muller@example.de"}
    assert _found("Müller") == (set(), 0)
    assert _found("jansen") == (set(), 0)
    assert _found("visser")[0] == {"nieuw@example.org"}
    assert _found("de lid")[0] == {"oud@example.org"}

    search_index.catch_up()
    _index_matches_the_users()
    assert _found("schmidt")[0] == {"muller@example.de"}
    assert _found("müller") == (set(), 0)
    assert _found("jansen") == (set(), 0)
    assert _found("VISSER")[0] == {"nieuw@example.org"}
    # Once indexed, changes reach the index through its triggers again.
    db.session.execute(
        update(User).where(User.email == "nieuw@example.org").values(last_name="Çelik")
    )
    db.session.commit()
    _index_matches_the_users()
    assert _found("çelik")[0] == {"zoe.celik@example.org", "nieuw@example.org"}


def test_a_second_import_while_users_wait_keeps_them_waiting_with_its_own(imported, admin):
    again = drafts.create_draft("meer.csv", csv_file("extra@example.org;Ex;;Tra;;;;;"), admin=admin)
    assert applying.apply_import(again).status == "done"
    if _sqlite():  # still from the first import's first user on
        first_new = db.session.scalar(select(User.id).where(User.email == "jan.jansen@gemeente.nl"))
        assert search_index.backlog_start() == first_new
    assert _found("tra")[0] == {"extra@example.org"}
    search_index.catch_up()
    _index_matches_the_users()
    assert _found("tra")[0] == {"extra@example.org"}


def test_an_import_rolled_back_leaves_nothing_waiting(app_ctx, admin, monkeypatch):
    monkeypatch.setattr(applying, "SEARCH_INDEX_LATER_BYTES", 0)
    run = drafts.create_draft("leden.csv", csv_file(*IMPORTED[:3]), admin=admin)
    db.session.commit()
    search_index.defer_new_users()
    db.session.rollback()
    assert search_index.backlog_start() is None
    assert applying.apply_import(run).status == "done"


def test_the_import_job_indexes_its_users_once_it_is_done(app_ctx, admin, monkeypatch):
    monkeypatch.setattr(applying, "SEARCH_INDEX_LATER_BYTES", 0)
    run = drafts.create_draft("leden.csv", csv_file(*IMPORTED), admin=admin)
    assert drafts.start(run)
    outcome = jobs.run_import(run.id)
    assert outcome.startswith("import done")
    assert ("66 user(s) indexed for search" in outcome) == _sqlite()
    assert search_index.backlog_start() is None
    _index_matches_the_users()
    assert _found("ÇELIK")[0] == {"zoe.celik@example.org"}


def test_the_upkeep_indexes_users_a_stopped_worker_left_waiting(imported):
    # The worker stopped between the import's commit and its catching up.
    outcome = jobs.upkeep()
    assert ("66 user(s) indexed for search" in outcome) == _sqlite()
    assert search_index.backlog_start() is None
    _index_matches_the_users()


def test_a_large_import_leaves_copying_its_pages_to_the_next_commit(app_ctx, admin, monkeypatch):
    # SQLite: the import's own commit does not copy the write-ahead log into the database
    # file (bulk.checkpoint_after_commit); every connection checkpoints again afterwards.
    if not _sqlite():
        pytest.skip("SQLite's write-ahead log")
    during, connections = [], []
    write_all = applying.batches.write_all

    def watched(*args, **kwargs):
        during.append(db.session.execute(text("PRAGMA wal_autocheckpoint")).scalar())
        connections.append(db.session.connection().connection.dbapi_connection)
        return write_all(*args, **kwargs)

    monkeypatch.setattr(applying.batches, "write_all", watched)
    run = drafts.create_draft("leden.csv", csv_file(*IMPORTED), admin=admin)
    assert applying.apply_import(run).status == "done"
    assert during == [1000, 0]  # the preview (as ever), then the import
    # The import's connection, back in the pool, checkpoints its commits again.
    db.session.remove()
    assert connections[-1].execute("PRAGMA wal_autocheckpoint").fetchone() == (1000,)
