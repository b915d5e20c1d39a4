from flask_wtf import FlaskForm
from wtforms import StringField, TextAreaField
from wtforms.validators import Length


class LevelForm(FlaskForm):
    name = StringField("Name")
    description = TextAreaField("Description", validators=[Length(max=2000)])
