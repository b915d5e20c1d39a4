"""Demo data for a new database: an admin, three levels and a Huddle full of people."""

from __future__ import annotations

import random
import secrets
import unicodedata
from datetime import timedelta

from .extensions import db
from .models import GrantSource, Level, User, UserLevel, utcnow

DEMO_ADMIN_EMAIL = "admin@huddle.example"

LEVELS = [
    ("Basis", "Access to the basic courses and the community."),
    ("Verdieping", "Advanced courses and masterclasses."),
    ("Trainers", "Trainers who guide groups and see their progress."),
]

# fmt: off
FIRST_NAMES = [
    "Anouk", "Bram", "Daan", "Emma", "Eva", "Fleur", "Jesse", "Julia", "Lars", "Lieke", "Lotte",
    "Luuk", "Maartje", "Milan", "Noor", "Sanne", "Sem", "Thijs", "Tess", "Joris", "Femke", "Ruben",
    "Iris", "Stijn", "Zoë", "Chloë", "Sjoerd", "Wouter", "Marloes", "Mohamed", "Fatima", "Yusuf",
    "Ayşe", "Emre", "Zeynep", "Samira", "Karim", "Priya", "Rahul", "Wei", "Mei", "Olivia", "James",
    "Sophie", "Lukas", "Anna", "Jakub", "Zofia", "Agnieszka", "Mateo", "Lucía", "Inês", "João",
    "Björn", "Åsa", "François", "Amélie",
]
INFIXES = ["", "", "", "", "", "van", "de", "van der", "van den", "de", "’t", "ter", "van de"]
# Dutch surnames may take an infix ("de Vries", "van den Berg"); the others never do.
DUTCH_LAST_NAMES = [
    "Jansen", "Bakker", "Visser", "Smit", "Meijer", "Mulder", "Bos", "Vos", "Peters", "Hendriks",
    "Dekker", "Brouwer", "Dijk", "Vries", "Berg", "Heuvel", "Leeuwen", "Wit", "Hoek", "Hart",
    "Veen", "Kok", "Jacobs", "Willems", "Kuipers", "Postma",
]
OTHER_LAST_NAMES = [
    "Çelik", "Yılmaz", "Kaya", "El Amrani", "Bouzid", "Ahmadi", "Müller", "Schröder", "Kowalski",
    "Nowak", "Wiśniewska", "Smith", "O’Brien", "Nguyen", "Chen", "Patel", "Sharma", "García",
    "Ferreira", "Andersson", "Lefèvre", "Østergaard",
]
# fmt: on
LAST_NAMES = DUTCH_LAST_NAMES + OTHER_LAST_NAMES
ORGANISATIONS = [
    "",
    "Gemeente Utrecht",
    "Hogeschool Rotterdam",
    "Zorggroep Noord",
    "Bakkerij De Gouden Korenaar",
    "Stichting Samen Leren",
    "Acme B.V.",
    "Open Universiteit",
]
JOB_TITLES = ["", "Docent", "Teamleider", "Trainer", "Adviseur", "Student", "Coördinator", "HR"]


def _email_part(text: str) -> str:
    """ "João ’t Hart" → "joaothart": plain ASCII letters, as most people's addresses are."""
    text = text.lower().translate(str.maketrans("øıłß", "oils"))
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(ch for ch in ascii_text if ch.isalnum())


def create_demo_data(user_count: int = 250, seed: int = 7) -> tuple[str, str]:
    """Create the demo admin, levels and users; returns the admin's e-mail and password."""
    rng = random.Random(seed)
    password = secrets.token_urlsafe(12)
    admin = User(
        email=DEMO_ADMIN_EMAIL,
        first_name="Demo",
        last_name="Admin",
        is_admin=True,
        language="",  # pages follow the browser's language until the admin chooses one
    )
    admin.set_password(password)
    db.session.add(admin)
    levels = [Level(name=name, description=description) for name, description in LEVELS]
    db.session.add_all(levels)
    db.session.flush()

    now = utcnow()
    seen: set[str] = set()
    while len(seen) < user_count:
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        infix = rng.choice(INFIXES) if last in DUTCH_LAST_NAMES else ""
        email = f"{_email_part(first)}.{_email_part(infix + last)}{rng.randint(1, 99)}@example.org"
        if email in seen:
            continue
        seen.add(email)
        created = now - timedelta(days=rng.randint(0, 720), minutes=rng.randint(0, 1440))
        user = User(
            email=email,
            first_name=first,
            infix=infix,
            last_name=last,
            phone=f"+31 6 {rng.randint(10000000, 99999999)}" if rng.random() < 0.6 else "",
            organisation=rng.choice(ORGANISATIONS),
            job_title=rng.choice(JOB_TITLES),
            language=rng.choice(["nl", "nl", "nl", "en"]),
            created_at=created,
            updated_at=created,
        )
        user.level_grants = [
            UserLevel(
                level=level,
                granted_at=created,
                granted_via=GrantSource.ADMIN.value,
                granted_by_id=admin.id,
            )
            for level in rng.sample(levels, k=rng.choice([0, 1, 1, 1, 2]))
        ]
        db.session.add(user)
    db.session.commit()
    return DEMO_ADMIN_EMAIL, password
