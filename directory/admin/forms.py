from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from ..vocabulary import STATES
from .services import TherapistQuery


class DecisionForm(FlaskForm):
    reason = TextAreaField("Reason for rejecting (the therapist reads this)", validators=[Optional(), Length(max=1000)])


class SuspensionForm(FlaskForm):
    reason = TextAreaField(
        "Reason (kept in the audit log)", validators=[DataRequired("Give the reason."), Length(max=1000)]
    )


class TherapistSearchForm(FlaskForm):
    class Meta:
        csrf = False  # a GET search

    q = StringField("Name, email or license number", validators=[Optional(), Length(max=120)])
    state = SelectField(
        "State",
        choices=[SelectChoice("", "Any state")] + [SelectChoice(c, n) for c, n in STATES.items()],
        validators=[Optional()],
    )
    status = SelectField(
        "Status",
        choices=[SelectChoice("", "Any status")] + [SelectChoice(s, s.capitalize()) for s in TherapistQuery.STATUSES],
        validators=[Optional()],
    )
