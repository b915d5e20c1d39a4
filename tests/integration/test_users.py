"""Users > Manage and one user's page."""

import pytest
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from huddle.extensions import db
from huddle.models import GrantSource, Level, User, UserLevel, utcnow

from ..helpers import make_user

HTMX = {"HX-Request": "true", "HX-Target": "users-table"}


@pytest.fixture
def people(app_ctx):
    basis, pro = Level(name="Basis"), Level(name="Pro")
    db.session.add_all([basis, pro])
    db.session.flush()
    rows = [
        ("jan.jansen@gemeente.nl", "Jan", "", "Jansen", [basis]),
        ("anouk@school.nl", "Anouk", "de", "Vries", [basis, pro]),
        ("zoe.celik@example.org", "Zoë", "", "Çelik", [pro]),
        ("piet@bakkerij.nl", "Piet", "van der", "Berg", []),
    ]
    users = {}
    for email, first, infix, last, levels in rows:
        user = make_user(email, first_name=first, infix=infix, last_name=last)
        for level in levels:
            db.session.add(UserLevel(user_id=user.id, level_id=level.id))
        users[first] = user
    db.session.commit()
    return {"levels": {"Basis": basis, "Pro": pro}, "users": users}


def _names(html: str, names=("Jan Jansen", "Anouk de Vries", "Zoë Çelik", "Piet van der Berg")):
    """The listed names, in the order the table shows them."""
    found = [(html.find(f">{name}</a>"), name) for name in names]
    return [name for position, name in sorted(found) if position >= 0]


def test_manage_lists_users_with_levels(admin_client, people):
    html = admin_client.get("/users").get_data(as_text=True)
    assert "Showing 1–5 of 5 users" in html  # four people and the admin
    assert "anouk@school.nl" in html
    assert '<span class="tag">Pro</span>' in html
    assert 'id="select-all"' in html


def test_search_is_an_htmx_fragment_matching_name_or_email(admin_client, people):
    response = admin_client.get("/users?q=gemeente", headers=HTMX)
    html = response.get_data(as_text=True)
    assert "<html" not in html  # only the table part
    assert _names(html) == ["Jan Jansen"]
    assert _names(
        admin_client.get("/users?q=anouk vries", headers=HTMX).get_data(as_text=True)
    ) == ["Anouk de Vries"]
    assert _names(admin_client.get("/users?q=ÇELIK", headers=HTMX).get_data(as_text=True)) in (
        ["Zoë Çelik"],
        [],  # SQLite's LIKE folds ASCII only; PostgreSQL's ILIKE folds Ç too
    )
    assert _names(admin_client.get("/users?q=Çelik", headers=HTMX).get_data(as_text=True)) == [
        "Zoë Çelik"
    ]
    nothing = admin_client.get("/users?q=100%25", headers=HTMX).get_data(as_text=True)
    assert "No users match" in nothing


def test_filter_by_level(admin_client, people):
    pro = people["levels"]["Pro"]
    html = admin_client.get(f"/users?level={pro.id}", headers=HTMX).get_data(as_text=True)
    assert _names(html) == ["Anouk de Vries", "Zoë Çelik"]
    assert "Showing 1–2 of 2 users" in html


def test_sort_by_name_email_and_created(admin_client, people):
    by_name = _names(admin_client.get("/users?sort=name").get_data(as_text=True))
    # Where "Çelik" goes depends on the database's collation; the rest does not.
    assert [n for n in by_name if n != "Zoë Çelik"] == [
        "Piet van der Berg",
        "Jan Jansen",
        "Anouk de Vries",
    ]
    by_email_desc = _names(admin_client.get("/users?sort=-email").get_data(as_text=True))
    assert by_email_desc == ["Zoë Çelik", "Piet van der Berg", "Jan Jansen", "Anouk de Vries"]
    newest_first = _names(admin_client.get("/users?sort=-created").get_data(as_text=True))
    assert newest_first == ["Piet van der Berg", "Zoë Çelik", "Anouk de Vries", "Jan Jansen"]


def test_pagination_pages_through_everyone_once(admin_client, app_ctx):
    for i in range(120):
        make_user(f"user{i:03}@example.org", first_name="User", last_name=f"{i:03}")
    seen = []
    for page in (1, 2, 3):
        html = admin_client.get(f"/users?sort=email&page={page}&per_page=50").get_data(as_text=True)
        seen += [f"user{i:03}@example.org" for i in range(120) if f"user{i:03}@example.org" in html]
    assert len(seen) == len(set(seen)) == 120
    last = admin_client.get("/users?page=999").get_data(as_text=True)
    assert "Page 3 of 3" in last  # past the end shows the last page
    assert "Showing 101–121 of 121 users" in last
    # A search counts its matches in the same pass as its page, past the end too.
    found = admin_client.get("/users?q=user&page=2").get_data(as_text=True)
    assert "Showing 51–100 of 121 users matching" in found
    assert "Showing 101–121 of 121 users matching" in admin_client.get(
        "/users?q=user&page=9"
    ).get_data(as_text=True)


def test_edit_user_saves_fields(admin_client, people):
    jan = people["users"]["Jan"]
    data = {
        "csrf_token": admin_client.csrf,
        "email": " Jan.Jansen@Gemeente.NL ",
        "first_name": "Jan",
        "infix": "van",
        "last_name": "Jansen",
        "phone": "+31 6 12345678",
        "organisation": "Gemeente Utrecht",
        "job_title": "Adviseur",
        "language": "nl",
    }
    response = admin_client.post(f"/users/{jan.id}", data=data)
    assert response.status_code == 302
    db.session.expire_all()
    saved = db.session.get(User, jan.id)
    assert saved.email == "jan.jansen@gemeente.nl"
    assert saved.full_name == "Jan van Jansen"
    assert saved.phone == "+31 6 12345678"


def test_edit_user_shows_validation_messages(admin_client, people):
    jan = people["users"]["Jan"]
    data = {"csrf_token": admin_client.csrf, "email": "not-an-address", "first_name": ""}
    data["last_name"] = "x" * 101
    response = admin_client.post(f"/users/{jan.id}", data=data)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "“not-an-address” has no @" in html
    assert "First name is required." in html
    assert "At most 100 characters." in html
    assert 'aria-invalid="true"' in html
    db.session.expire_all()
    assert db.session.get(User, jan.id).email == "jan.jansen@gemeente.nl"


def test_edit_user_refuses_an_address_another_user_has(admin_client, people):
    jan = people["users"]["Jan"]
    data = {
        "csrf_token": admin_client.csrf,
        "email": "ANOUK@school.nl",
        "first_name": "Jan",
        "last_name": "Jansen",
    }
    response = admin_client.post(f"/users/{jan.id}", data=data)
    assert response.status_code == 422
    assert "Another user already has this e-mail address." in response.get_data(as_text=True)


def test_add_and_remove_a_level_by_hand(admin_client, people, admin):
    piet, pro = people["users"]["Piet"], people["levels"]["Pro"]
    headers = {"HX-Request": "true", "X-CSRFToken": admin_client.csrf}
    added = admin_client.post(
        f"/users/{piet.id}/levels", data={"level_id": pro.id}, headers=headers
    )
    assert added.status_code == 200
    assert "Pro" in added.get_data(as_text=True) and "by an admin" in added.get_data(as_text=True)
    grant = db.session.get(UserLevel, (piet.id, pro.id))
    assert grant.granted_via == GrantSource.ADMIN and grant.granted_by_id == admin.id

    removed = admin_client.post(f"/users/{piet.id}/levels/{pro.id}/remove", headers=headers)
    assert removed.status_code == 200
    db.session.expire_all()
    assert db.session.get(UserLevel, (piet.id, pro.id)) is None


def test_database_refuses_the_same_address_in_another_case(app_ctx):
    make_user("case@example.org")
    with pytest.raises(IntegrityError):
        db.session.execute(
            insert(User).values(
                email="CASE@example.org",
                first_name="A",
                infix="",
                last_name="B",
                phone="",
                organisation="",
                job_title="",
                language="",
                is_admin=False,
                password_hash="",
                created_at=utcnow(),
                updated_at=utcnow(),
            )
        )
    db.session.rollback()
    assert db.session.scalars(select(User.email)).all() == ["case@example.org"]


def test_unknown_user_is_404(admin_client):
    assert admin_client.get("/users/999999").status_code == 404
