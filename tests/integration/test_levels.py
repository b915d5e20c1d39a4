"""The Levels page: creating, renaming and deleting levels."""

from sqlalchemy import select

from huddle.extensions import db
from huddle.models import Level, UserLevel

from ..helpers import make_user


def _post(client, path, **data):
    return client.post(path, data={"csrf_token": client.csrf, **data})


def test_create_level_and_see_it_with_its_user_count(admin_client, app_ctx):
    response = _post(admin_client, "/levels", **{"new-name": "  Basis ", "new-description": "x"})
    assert response.status_code == 302
    level = db.session.scalar(select(Level))
    assert level.name == "Basis"
    for i in range(3):
        user = make_user(f"u{i}@example.org")
        db.session.add(UserLevel(user_id=user.id, level_id=level.id))
    db.session.commit()
    html = admin_client.get("/levels").get_data(as_text=True)
    assert "<strong>Basis</strong>" in html
    assert f'href="/users?level={level.id}">3</a>' in html


def test_level_names_are_checked(admin_client, app_ctx):
    db.session.add(Level(name="Basis"))
    db.session.commit()
    cases = {
        "basis": "There already is a level called “Basis”.",
        "A|B": "cannot contain “|”",
        "": "Give the level a name.",
        "x" * 101: "at most 100 characters",
    }
    for name, message in cases.items():
        response = _post(admin_client, "/levels", **{"new-name": name})
        assert response.status_code == 422, name
        assert message in response.get_data(as_text=True), name
    assert db.session.scalars(select(Level.name)).all() == ["Basis"]


def test_rename_and_describe_a_level(admin_client, app_ctx):
    level = Level(name="Basis")
    other = Level(name="Pro")
    db.session.add_all([level, other])
    db.session.commit()
    response = _post(
        admin_client, f"/levels/{level.id}", name="Basic", description="The basic courses"
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert (level.name, level.description) == ("Basic", "The basic courses")
    clash = _post(admin_client, f"/levels/{level.id}", name="PRO", description="")
    assert clash.status_code == 422
    db.session.expire_all()
    assert level.name == "Basic"


def test_delete_asks_first_and_says_who_loses_the_level(admin_client, app_ctx):
    level = Level(name="Basis")
    db.session.add(level)
    db.session.flush()
    users = [make_user(f"u{i}@example.org") for i in range(2)]
    for user in users:
        db.session.add(UserLevel(user_id=user.id, level_id=level.id))
    db.session.commit()

    confirm = admin_client.get(f"/levels/{level.id}/delete").get_data(as_text=True)
    assert "2 users</strong> will lose this level" in confirm
    assert db.session.get(Level, level.id) is not None  # asking deletes nothing

    done = _post(admin_client, f"/levels/{level.id}/delete")
    assert done.status_code == 302
    assert "2 users lost it" in admin_client.get("/levels").get_data(as_text=True)
    db.session.expire_all()
    assert db.session.scalars(select(Level)).all() == []
    assert db.session.scalars(select(UserLevel)).all() == []
    assert len(users) == 2  # the users themselves stay
