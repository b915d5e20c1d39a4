"""The forms of one user's page: their fields, and a level to add."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from ..i18n import LANGUAGES
from ..models import User
from ..pipeline.addresses import check_email

NOT_SET = _l("Not set")


def _max(column) -> int:
    return column.property.columns[0].type.length


def _text(label, column, *, required: bool = False) -> StringField:
    validators = (
        [DataRequired(message=_l("%(label)s is required.", label=label))]
        if required
        else [Optional()]
    )
    limit = _max(column)
    validators.append(Length(max=limit, message=_l("At most %(count)s characters.", count=limit)))
    return StringField(label, validators=validators, filters=[lambda v: v.strip() if v else v])


def email_syntax(form, field) -> None:
    """The address must be well formed (no DNS look-up: admins import offline lists too)."""
    _normalised, problem = check_email(field.data or "")
    if problem:
        raise ValidationError(problem)


class UserForm(FlaskForm):
    """A user's fields, as an import fills them."""

    email = _text(_l("E-mail address"), User.email, required=True)
    first_name = _text(_l("First name"), User.first_name, required=True)
    infix = _text(_l("Infix"), User.infix)
    last_name = _text(_l("Last name"), User.last_name, required=True)
    phone = _text(_l("Phone"), User.phone)
    organisation = _text(_l("Organisation"), User.organisation)
    job_title = _text(_l("Job title"), User.job_title)
    language = SelectField(_l("Language"), validate_choice=False, validators=[Length(max=10)])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.email.validators = [*self.email.validators, email_syntax]
        languages = {"": NOT_SET, **LANGUAGES}
        # Keep a value an import brought in, rather than silently dropping it.
        languages.setdefault(self.language.data or "", self.language.data)
        self.language.choices = [SelectChoice(code, name) for code, name in languages.items()]


class AddLevelForm(FlaskForm):
    """A level to give the user."""

    level_id = SelectField(
        _l("Level"), coerce=int, validators=[DataRequired(_l("Choose a level."))]
    )
