"""Booking and availability forms."""

from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField, SelectField, StringField, TextAreaField, TimeField
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from .. import vocabulary as v
from ..form_fields import MultiCheckboxField, NumberField, slug_choices
from .availability import GRID_RULE, WEEKDAYS, on_grid

TEXT = 2000


class BookingForm(FlaskForm):
    start = HiddenField("Start", validators=[InputRequired("Choose a start time.")])
    minutes = HiddenField("Length", validators=[InputRequired("Choose a session length.")])
    concerns = TextAreaField(
        "What would you like help with?",
        validators=[Optional(), Length(max=TEXT)],
        description="For example: tight shoulders from desk work, trouble sleeping.",
    )
    goals = MultiCheckboxField("Your goals", choices=slug_choices(v.GOALS))
    conditions = MultiCheckboxField(
        "Do any of these apply to you now?",
        choices=slug_choices(v.CONDITIONS),
        description="Only you and this therapist will see your answers.",
    )
    medications = TextAreaField("Medications", validators=[Optional(), Length(max=TEXT)])
    history = TextAreaField("Medical history, injuries or surgeries", validators=[Optional(), Length(max=TEXT)])

    def validate_minutes(self, field):
        if field.data not in {str(m) for m in v.SESSION_LENGTHS}:
            raise ValidationError("Choose a session length of 30, 45, 60 or 90 minutes.")


class DecisionForm(FlaskForm):
    message = TextAreaField("Message to the client", validators=[Optional(), Length(max=1000)])


class CompleteForm(FlaskForm):
    """The therapist confirms what was paid; the receipt says exactly this."""

    amount_paid = NumberField(
        "Amount paid for the session ($)",
        validators=[InputRequired("Enter the amount the client paid for the session.")],
        description="Without the tip. This is the amount the client's receipt shows as HSA/FSA-eligible.",
    )
    tip = NumberField(
        "Tip ($)",
        validators=[Optional()],
        description="Shown apart on the receipt, as not eligible. Leave empty if none.",
    )
    technique = SelectField("Technique given", validate_choice=False)

    def offer(self, booking) -> None:
        """The therapist's techniques to choose from, and the booked price to confirm."""
        self.technique.choices = slug_choices({t: v.TECHNIQUES[t] for t in booking.therapist.technique_slugs})
        if self.amount_paid.data is None and not self.is_submitted():
            self.amount_paid.data = booking.price_amount


class CancelForm(FlaskForm):
    reason = TextAreaField(
        "Why are you cancelling?",
        validators=[DataRequired("Give a reason: the other side will read it."), Length(max=1000)],
    )


class TimeOffForm(FlaskForm):
    starts_on = DateField("First day off", validators=[InputRequired("Enter the first day.")])
    ends_on = DateField("Last day off", validators=[InputRequired("Enter the last day.")])
    note = StringField("Note (only you see it)", validators=[Optional(), Length(max=200)])

    def validate_ends_on(self, field):
        if self.starts_on.data and field.data and field.data < self.starts_on.data:
            raise ValidationError("The last day cannot be before the first.")


class WeeklyHoursForm(FlaskForm):
    """Start and end time for each weekday; leave both empty for a day off."""

    def days(self):
        return [(i, name, self[f"d{i}_start"], self[f"d{i}_end"]) for i, name in enumerate(WEEKDAYS)]

    def validate(self, extra_validators=None):
        ok = super().validate(extra_validators)
        for _, name, start, end in self.days():
            for field in (start, end):
                if field.data is not None and not on_grid(field.data):
                    field.errors.append(f"On {name}, {field.data:%H:%M} is not on the quarter hour. {GRID_RULE}")
                    ok = False
            if (start.data is None) != (end.data is None):
                end.errors.append(f"Give both a start and an end time for {name}, or neither.")
                ok = False
            elif start.data and end.data and start.data >= end.data:
                end.errors.append(f"On {name} the end must come after the start.")
                ok = False
        return ok

    def spans(self) -> dict:
        """weekday -> (start, end), or None for a day off."""
        return {day: (start.data, end.data) if start.data else None for day, _, start, end in self.days()}


QUARTER_HOURS = {"step": 900}  # browsers offer quarter hours only (the form checks it too)
for _i, _name in enumerate(WEEKDAYS):
    setattr(WeeklyHoursForm, f"d{_i}_start", TimeField(f"{_name} from", [Optional()], render_kw=QUARTER_HOURS))
    setattr(WeeklyHoursForm, f"d{_i}_end", TimeField(f"{_name} until", [Optional()], render_kw=QUARTER_HOURS))
