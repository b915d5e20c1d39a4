"""The wizard's forms: the upload, and the mail options."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Optional

from ..i18n import LANGUAGES


class UploadForm(FlaskForm):
    """The filled-in file."""

    file = FileField(
        _l("Your filled-in file (.csv, .xlsx, .ods or .xls)"),
        validators=[FileRequired(_l("Choose a file."))],
    )


class MailOptionsForm(FlaskForm):
    """Which mails the import sends."""

    notify_new = BooleanField(_l("Send new users a welcome mail with a link to set their password"))
    notify_existing = BooleanField(
        _l("Send existing users whose access changed a mail saying what changed")
    )
    mail_language = SelectField(
        _l("Language of the mails to people without a language in the file"),
        choices=[SelectChoice(code, name) for code, name in LANGUAGES.items()],
        # A form without it (an older page, a script) leaves the language as it was.
        validators=[Optional()],
    )
