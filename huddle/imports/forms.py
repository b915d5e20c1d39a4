from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField


class UploadForm(FlaskForm):
    file = FileField(
        "Your filled-in file (.csv or .xlsx)", validators=[FileRequired("Choose a file.")]
    )


class MailOptionsForm(FlaskForm):
    notify_new = BooleanField("Send new users a welcome mail with a link to set their password")
    notify_existing = BooleanField(
        "Send existing users whose access changed a mail saying what changed"
    )
