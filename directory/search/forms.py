"""The search form: one set of fields and checks for the page and the API."""

from __future__ import annotations

from decimal import Decimal

from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict
from wtforms import DecimalField, IntegerField, SelectField, SelectMultipleField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, NumberRange, Optional, StopValidation, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from ..matching import vocabulary as v

LIST_FIELDS = ("goals", "areas", "conditions", "techniques", "languages")
BOOL_CHOICES = [SelectChoice("", "No preference"), SelectChoice("true", "Yes"), SelectChoice("false", "No")]
TRUE_WORDS, FALSE_WORDS = {"true", "1", "yes", "on"}, {"false", "0", "no", "off"}


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()

    def pre_validate(self, form):
        allowed = [c.value for c in self.choices]
        unknown = [d for d in (self.data or []) if d not in allowed]
        if unknown:
            raise StopValidation(
                f"Unknown {self.short_name.rstrip('s')} {', '.join(repr(u) for u in unknown)}. "
                f"Allowed: {', '.join(allowed)}."
            )


class ChoiceField(SelectField):
    """A select whose error names the allowed values."""

    def pre_validate(self, form):
        allowed = [c.value for c in self.choices if c.value != ""]
        if self.data not in ("", None) and str(self.data) not in allowed:
            raise StopValidation(f"{self.label.text} must be one of: {', '.join(allowed)}.")


class BooleanChoiceField(ChoiceField):
    def process_formdata(self, valuelist):
        if valuelist:
            word = (valuelist[0] or "").strip().lower()
            self.data = "true" if word in TRUE_WORDS else "false" if word in FALSE_WORDS else word

    def pre_validate(self, form):
        if self.data not in ("", None, "true", "false"):
            raise StopValidation(f"{self.label.text} must be true or false.")

    @property
    def value(self) -> bool | None:
        return None if self.data in ("", None) else self.data == "true"


class NumberField(DecimalField):
    """A number whose bad input names the field: 'Radius must be a number'."""

    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError:
            self.data = None
            raise ValueError(f"{self.label.text} must be a number.") from None
        if isinstance(self.data, Decimal) and not self.data.is_finite():
            self.data = None
            raise ValueError(f"{self.label.text} must be a number.")


class WholeNumberField(IntegerField):
    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError:
            self.data = None
            raise ValueError(f"{self.label.text} must be a whole number.") from None


def slug_choices(table) -> list[SelectChoice]:
    """Every slug of a vocabulary table with its label, as form choices."""
    return [SelectChoice(slug, v.label(table, slug)) for slug in table]


class SearchForm(FlaskForm):
    class Meta:
        csrf = False  # a GET search changes nothing

    location = StringField(
        "Where are you?",
        validators=[InputRequired("Enter a ZIP code, a city and state, or an address.")],
        description="A ZIP code (60601), a city and state (Chicago, IL), an address, or latitude,longitude.",
    )
    radius = NumberField(
        "Distance (miles)",
        default=10,
        places=None,
        validators=[Optional(), NumberRange(1, 100, "Radius must be between 1 and 100 miles.")],
    )
    goals = MultiCheckboxField("What would you like help with?", choices=slug_choices(v.GOALS))
    areas = MultiCheckboxField("Where in the body?", choices=slug_choices(v.BODY_AREAS))
    conditions = MultiCheckboxField("Do any of these apply to you now?", choices=slug_choices(v.CONDITIONS))
    session_minutes = ChoiceField(
        "Session length",
        choices=[SelectChoice("", "Recommend one for me")]
        + [SelectChoice(str(m), f"{m} minutes") for m in v.SESSION_LENGTHS],
    )
    max_price = NumberField(
        "Most you want to pay per session ($)",
        places=None,
        validators=[Optional(), NumberRange(1, 10000, "Budget must be between $1 and $10,000 per session.")],
    )
    techniques = MultiCheckboxField("Techniques you want", choices=slug_choices(v.TECHNIQUES))
    gender = ChoiceField("Therapist gender", choices=[SelectChoice("", "No preference")] + slug_choices(v.GENDERS))
    languages = MultiCheckboxField("Languages", choices=slug_choices(v.LANGUAGES))
    hsa_fsa = BooleanChoiceField("Accepts HSA/FSA cards", choices=BOOL_CHOICES)
    home_visit = BooleanChoiceField("Home visit", choices=BOOL_CHOICES)
    accepting_new_clients = BooleanChoiceField("Accepting new clients", choices=BOOL_CHOICES)
    limit = WholeNumberField(
        "Results per page", default=20, validators=[Optional(), NumberRange(1, 50, "Limit must be between 1 and 50.")]
    )
    offset = WholeNumberField(
        "Offset", default=0, validators=[Optional(), NumberRange(0, 100000, "Offset must be 0 or more.")]
    )

    def validate_location(self, field):
        if len(field.data or "") > 200:
            raise ValidationError("Location must be at most 200 characters.")

    def first_error(self) -> tuple[str, str]:
        for name, errors in self.errors.items():
            return name, errors[0]
        return "", ""


def normalise_args(args) -> MultiDict:
    """Accept both `goals=a,b` (the API) and repeated `goals=a&goals=b` (the form)."""
    out = MultiDict()
    for key in args:
        values = args.getlist(key)
        if key in LIST_FIELDS:
            for value in values:
                out.setlist(key, out.getlist(key) + [s.strip().lower() for s in value.split(",") if s.strip()])
        else:
            out.setlist(key, [value.strip() for value in values])
    return out
