"""Booking and availability forms, and the search context a booking page starts from."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation

from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, HiddenField, SelectField, StringField, TextAreaField, TimeField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from .. import vocabulary as v
from ..form_fields import MultiCheckboxField, NumberField, slug_choices
from .availability import GRID_RULE, WEEKDAYS, on_grid
from .services import BUFFER_CHOICES, MESSAGE_MAX, NOTICE_CHOICES, IntakeData, PolicyData, range_field

TEXT = 2000
RANGES_PER_DAY = 3  # time ranges a weekday may have on the availability page


@dataclass(frozen=True)
class SearchContext:
    """What the client told the search, carried to the profile and the booking form
    in the same query parameters the search itself uses: goals and conditions pre-fill
    the intake (the client confirms them), the length and budget the choice of session."""

    goals: tuple[str, ...] = ()
    conditions: tuple[str, ...] = ()
    minutes: int | None = None
    budget: Decimal | None = None
    not_understood: tuple[str, ...] = ()

    @classmethod
    def from_args(cls, args) -> SearchContext:
        def slugs(name, table):
            values = [s.strip().lower() for raw in args.getlist(name) for s in raw.split(",") if s.strip()]
            return tuple(s for s in values if s in table), tuple(f"{name}={s}" for s in values if s not in table)

        goals, bad_goals = slugs("goals", v.GOALS)
        conditions, bad_conditions = slugs("conditions", v.CONDITIONS)
        minutes = args.get("minutes", type=int)
        try:
            budget = Decimal(args["max_price"]) if args.get("max_price") else None
        except InvalidOperation:
            budget = None
        if budget is not None and not (budget.is_finite() and budget > 0):
            budget = None
        return cls(
            goals, conditions, minutes if minutes in v.SESSION_LENGTHS else None, budget, bad_goals + bad_conditions
        )

    def args(self) -> dict:
        """The context as query parameters for links to the next page."""
        out: dict = {}
        if self.goals:
            out["goals"] = ",".join(self.goals)
        if self.conditions:
            out["conditions"] = ",".join(self.conditions)
        if self.budget is not None:
            out["max_price"] = f"{self.budget:g}"
        return out

    def __bool__(self) -> bool:
        return bool(self.goals or self.conditions or self.budget is not None)


def parse_start(text: str | None) -> datetime | None:
    """An offered start time as the page sends it (ISO 8601 with its offset), in UTC."""
    try:  # a "+" typed into an address arrives as a space
        start = datetime.fromisoformat((text or "").strip().replace(" ", "+"))
        return start.astimezone(UTC) if start.tzinfo is not None else None
    except (ValueError, OverflowError):  # OverflowError: year 1 with a positive offset, 9999 with a negative one
        return None


def parse_day(text: str | None) -> date | None:
    try:
        return date.fromisoformat(text or "")
    except ValueError:
        return None


class BookingForm(FlaskForm):
    start = HiddenField("Start", validators=[InputRequired("Choose a start time.")])
    minutes = HiddenField("Length", validators=[InputRequired("Choose a session length.")])
    day = HiddenField("Day", validators=[Optional()])  # the day on show: an error page shows it again
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

    def validate_start(self, field):
        if parse_start(field.data) is None:
            raise ValidationError("Choose one of the offered start times.")

    def intake(self) -> IntakeData:
        return IntakeData(
            concerns=self.concerns.data or "",
            goals=tuple(self.goals.data or ()),
            conditions=tuple(self.conditions.data or ()),
            medications=self.medications.data or "",
            history=self.history.data or "",
        )

    def fill(self, intake: IntakeData) -> None:
        self.concerns.data, self.medications.data, self.history.data = (
            intake.concerns,
            intake.medications,
            intake.history,
        )
        self.goals.data, self.conditions.data = list(intake.goals), list(intake.conditions)


class RescheduleForm(FlaskForm):
    start = HiddenField("Start", validators=[InputRequired("Choose a new start time.")])
    day = HiddenField("Day", validators=[Optional()])

    def validate_start(self, field):
        if parse_start(field.data) is None:
            raise ValidationError("Choose one of the offered start times.")


class MessageForm(FlaskForm):
    body = TextAreaField(
        "Your message",
        validators=[DataRequired("Write a message first."), Length(max=MESSAGE_MAX)],
        description="Only you and the other side of this booking can read it; the email notice never quotes it.",
    )


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
    """Up to RANGES_PER_DAY time ranges per weekday; leave a day empty for a day off."""

    def ranges(self, day: int):
        """(index, start field, end field) of one weekday's ranges."""
        return [
            (i, self[range_field(day, i, "start")], self[range_field(day, i, "end")]) for i in range(RANGES_PER_DAY)
        ]

    def days(self):
        return [(i, name, self.ranges(i)) for i, name in enumerate(WEEKDAYS)]

    def validate(self, extra_validators=None):
        ok = super().validate(extra_validators)
        for _, name, ranges in self.days():
            for _index, start, end in ranges:
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
        """weekday -> its (start, end) ranges; an empty list for a day off."""
        return {
            day: [(start.data, end.data) for _, start, end in ranges if start.data and end.data]
            for day, _, ranges in self.days()
        }

    def load(self, hours: dict) -> None:
        """Show the saved hours (weekday -> ranges)."""
        for day, ranges in hours.items():
            for i, (start, end) in enumerate(ranges[:RANGES_PER_DAY]):
                self[range_field(day, i, "start")].data, self[range_field(day, i, "end")].data = start, end

    def copy_to_weekdays(self, source: int) -> list[int]:
        """Give Monday to Friday the ranges of `source`; the days changed."""
        targets = [day for day in range(5) if day != source]
        for day in targets:
            for (_, start, end), (_, from_start, from_end) in zip(self.ranges(day), self.ranges(source)):
                start.data, end.data = from_start.data, from_end.data
                start.raw_data = end.raw_data = None
        return targets


QUARTER_HOURS = {"step": 900}  # browsers offer quarter hours only (the form checks it too)
for _day, _name in enumerate(WEEKDAYS):
    for _index in range(RANGES_PER_DAY):
        _nth = "" if not _index else f" (range {_index + 1})"
        setattr(
            WeeklyHoursForm,
            range_field(_day, _index, "start"),
            TimeField(f"{_name} from{_nth}", [Optional()], render_kw=QUARTER_HOURS),
        )
        setattr(
            WeeklyHoursForm,
            range_field(_day, _index, "end"),
            TimeField(f"{_name} until{_nth}", [Optional()], render_kw=QUARTER_HOURS),
        )


def _hours_label(hours: int) -> str:
    if hours == 0:
        return "None: clients may cancel or move until the start"
    return f"{hours} hours" if hours % 24 else f"{hours // 24} day{'s' if hours > 24 else ''} ({hours} hours)"


class PolicyForm(FlaskForm):
    notice_hours = SelectField(
        "Notice you need for a cancellation or a change of time",
        choices=[SelectChoice(str(h), _hours_label(h)) for h in NOTICE_CHOICES],
        description="After this, a client can no longer cancel or move a confirmed booking online; "
        "the booking page tells them before they request.",
    )
    buffer_minutes = SelectField(
        "Buffer after each session",
        choices=[SelectChoice(str(m), f"{m} minutes" if m else "None") for m in BUFFER_CHOICES],
        description="Time kept free after every booking, to reset the room or travel.",
    )
    address_after_confirmation = BooleanField(
        "Show only my area (city and map of the neighbourhood) until I confirm a booking",
        description="For a practice at home: the street address is given with the confirmation.",
    )
    phone = StringField(
        "Phone for clients with a confirmed booking",
        validators=[Optional(), Length(max=30)],
        description="Shown on confirmed bookings and in reminders, to nobody else. Leave empty to give none.",
    )

    def data_for_service(self) -> PolicyData:
        return PolicyData(
            notice_hours=int(self.notice_hours.data or 24),
            buffer_minutes=int(self.buffer_minutes.data or 0),
            address_after_confirmation=bool(self.address_after_confirmation.data),
            phone=(self.phone.data or "").strip(),
        )
