from email_validator import EmailNotValidError, validate_email
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from ..models import User

LANGUAGES = {"": "Not set", "nl": "Nederlands", "en": "English"}


def _max(column) -> int:
    return column.property.columns[0].type.length


def _text(label: str, column, *, required: bool = False) -> StringField:
    validators = [DataRequired(message=f"{label} is required.")] if required else [Optional()]
    limit = _max(column)
    validators.append(Length(max=limit, message=f"At most {limit} characters."))
    return StringField(label, validators=validators, filters=[lambda v: v.strip() if v else v])


def email_syntax(form, field) -> None:
    """The address must be well formed (no DNS look-up: admins import offline lists too)."""
    try:
        validate_email(field.data or "", check_deliverability=False)
    except EmailNotValidError as exc:
        raise ValidationError(f"This is not a valid e-mail address: {exc}") from exc


class UserForm(FlaskForm):
    email = _text("E-mail address", User.email, required=True)
    first_name = _text("First name", User.first_name, required=True)
    infix = _text("Infix", User.infix)
    last_name = _text("Last name", User.last_name, required=True)
    phone = _text("Phone", User.phone)
    organisation = _text("Organisation", User.organisation)
    job_title = _text("Job title", User.job_title)
    language = SelectField("Language", validate_choice=False, validators=[Length(max=10)])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.email.validators = [*self.email.validators, email_syntax]
        languages = dict(LANGUAGES)
        # Keep a value an import brought in, rather than silently dropping it.
        languages.setdefault(self.language.data or "", self.language.data)
        self.language.choices = [SelectChoice(code, name) for code, name in languages.items()]


class AddLevelForm(FlaskForm):
    level_id = SelectField("Level", coerce=int, validators=[DataRequired("Choose a level.")])
