"""Flask extensions, created here unbound and attached to the app in ``create_app``; and the
settings every SQLite connection gets."""

from flask_login import LoginManager
from flask_mail import Mail
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from htmx_flask import Htmx
from sqlalchemy import MetaData, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    """The models' base."""

    # Named constraints, so migrations can alter them on SQLite and PostgreSQL alike.
    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(column_0_label)s",
            "uq": "uq_%(table_name)s_%(column_0_name)s",
            "ck": "ck_%(table_name)s_%(constraint_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
mail = Mail()
htmx = Htmx()


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, _record) -> None:
    """SQLite settings, per connection: enforce ON DELETE CASCADE; WAL, so that pages keep
    reading while an import writes; and a page cache of 16 MB (8 times the default). A
    larger one made no import faster (the system keeps the file's pages in memory anyway),
    and held up to 64 MB per connection: at 1,000,000 rows the import's peak was 356 MB
    with 64 MB, 265 MB with 16 MB (its checking process shares the cache's memory and
    copies part of it), in 16 to 18 s either way."""
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA cache_size=-16384")  # 16 MB
        cursor.close()


# A connection whose transaction wrote too much to copy from the write-ahead log into the
# database file in its own commit (``bulk.checkpoint_after_commit``): set back once returned.
AUTOCHECKPOINT_OFF = "huddle_autocheckpoint_off"


@event.listens_for(Engine, "checkin")
def _sqlite_autocheckpoint_back(dbapi_connection, record) -> None:
    """Every commit on this connection checkpoints again (SQLite's default: when the log has
    grown past 1,000 pages)."""
    if record.info.pop(AUTOCHECKPOINT_OFF, False) and dbapi_connection is not None:
        dbapi_connection.execute("PRAGMA wal_autocheckpoint=1000")
