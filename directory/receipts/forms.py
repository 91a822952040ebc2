"""The letter of medical necessity form."""

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import DateField
from wtforms.validators import Optional


class LetterForm(FlaskForm):
    document = FileField(
        "Letter of medical necessity",
        description="From your doctor: a PDF, JPEG or PNG up to 5 MB. Only you can open it.",
    )
    expires_on = DateField(
        "Valid until", validators=[Optional()], description="The last day the letter covers (often a year)."
    )


class ConfirmForm(FlaskForm):
    """A bare POST form (CSRF only)."""
