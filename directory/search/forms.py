"""The search form: one set of fields and checks for the page and the API."""

from __future__ import annotations

from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict
from wtforms import StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, NumberRange, Optional, ValidationError

from .. import vocabulary as v
from ..form_fields import (
    BOOL_CHOICES,
    BooleanChoiceField,
    ChoiceField,
    MultiCheckboxField,
    NumberField,
    WholeNumberField,
    slug_choices,
)
from .services import SearchQuery

LIST_FIELDS = ("goals", "areas", "conditions", "techniques", "languages")


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

    def query(self) -> SearchQuery:
        """The validated form as plain data for the search service."""
        minutes = self.session_minutes.data
        return SearchQuery(
            location=self.location.data.strip(),
            radius_miles=float(self.radius.data) if self.radius.data is not None else 10.0,
            goals=tuple(self.goals.data or ()),
            areas=tuple(self.areas.data or ()),
            conditions=tuple(self.conditions.data or ()),
            techniques=tuple(self.techniques.data or ()),
            languages=tuple(self.languages.data or ()),
            session_minutes=int(minutes) if minutes else None,
            max_price=float(self.max_price.data) if self.max_price.data is not None else None,
            gender=self.gender.data or None,
            hsa_fsa=self.hsa_fsa.value,
            home_visit=bool(self.home_visit.value),
            accepting_new_clients=self.accepting_new_clients.value,
            offset=self.offset.data or 0,
            limit=self.limit.data or 20,
        )

    def first_error(self) -> tuple[str, str]:
        for name, errors in self.errors.items():
            return name, errors[0]
        return "", ""


def normalise_args(args) -> MultiDict:
    """Accept both `goals=a,b` (the API) and repeated `goals=a&goals=b` (the form)."""
    out: MultiDict[str, str] = MultiDict()
    for key in args:
        values = args.getlist(key)
        if key in LIST_FIELDS:
            for value in values:
                out.setlist(key, out.getlist(key) + [s.strip().lower() for s in value.split(",") if s.strip()])
        else:
            out.setlist(key, [value.strip() for value in values])
    return out
