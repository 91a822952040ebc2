"""Writing, answering and hiding a review."""

from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, ValidationError

from .services import MAX_TEXT


class ReviewForm(FlaskForm):
    rating = SelectField(
        "Your rating",
        choices=[SelectChoice("", "Choose")]
        + [SelectChoice(str(n), f"{n} star{'s' if n > 1 else ''}") for n in range(5, 0, -1)],
        validate_choice=False,
        validators=[InputRequired("Choose 1 to 5 stars.")],
    )
    text = TextAreaField(
        "Your review",
        description="Public, with your name. Say how the visit went; leave out health details.",
        validators=[
            DataRequired("Write a few words about the visit."),
            Length(max=MAX_TEXT, message=f"Keep it under {MAX_TEXT} characters."),
        ],
    )

    def validate_rating(self, field):
        if field.data not in {"1", "2", "3", "4", "5"}:
            raise ValidationError("Choose 1 to 5 stars.")


class ReplyForm(FlaskForm):
    text = TextAreaField("Your reply", validators=[DataRequired("Write your reply."), Length(max=MAX_TEXT)])


class HideReviewForm(FlaskForm):
    reason = StringField("Reason for hiding", validators=[DataRequired("Give the reason."), Length(max=500)])
