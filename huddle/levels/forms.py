"""The form of a level."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField, TextAreaField
from wtforms.validators import Length


def _text(value: str | None) -> str:
    # A field missing from the request (a script, an old page) is empty text, not None:
    # the service then says what is missing instead of failing.
    return value or ""


class LevelForm(FlaskForm):
    """A level's name and description."""

    name = StringField(_l("Name"), filters=[_text])
    description = TextAreaField(_l("Description"), validators=[Length(max=2000)], filters=[_text])
