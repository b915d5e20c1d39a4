"""The wizard's forms: the upload, and the mail options."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField


class UploadForm(FlaskForm):
    """The filled-in file."""

    file = FileField(
        _l("Your filled-in file (.csv or .xlsx)"), validators=[FileRequired(_l("Choose a file."))]
    )


class MailOptionsForm(FlaskForm):
    """Which mails the import sends."""

    notify_new = BooleanField(_l("Send new users a welcome mail with a link to set their password"))
    notify_existing = BooleanField(
        _l("Send existing users whose access changed a mail saying what changed")
    )
