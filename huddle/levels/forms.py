"""The form of a level."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField, TextAreaField
from wtforms.validators import Length


class LevelForm(FlaskForm):
    """A level's name and description."""

    name = StringField(_l("Name"))
    description = TextAreaField(_l("Description"), validators=[Length(max=2000)])
