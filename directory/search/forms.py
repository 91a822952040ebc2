"""The search form: one set of fields and checks for the page and the API."""

from __future__ import annotations

import difflib

from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict
from wtforms import StringField
from wtforms.fields.choices import SelectChoice
from wtforms.fields.core import UnboundField
from wtforms.validators import NumberRange, Optional, StopValidation, ValidationError

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
from ..matching.rules import contradiction, refuses
from .services import SearchQuery

LIST_FIELDS = ("goals", "areas", "conditions", "techniques", "languages")
LOCATION_NEEDED = "Enter a ZIP code, a city and state, or an address."


class LocationRequired:
    """A location is needed to find therapists, but not to say that massage is not
    safe now: with a condition that refuses, the answer comes without one."""

    field_flags = {"required": True}

    def __call__(self, form, field):
        if not (field.data or "").strip():
            if refuses(form.conditions.data or ()):
                raise StopValidation()
            raise StopValidation(LOCATION_NEEDED)


class SearchForm(FlaskForm):
    class Meta:
        csrf = False  # a GET search changes nothing

    location = StringField(
        "Where are you?",
        validators=[LocationRequired()],
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

    def validate_conditions(self, field):
        clash = contradiction(field.data or ())
        if clash:
            raise ValidationError(clash)

    def query(self) -> SearchQuery:
        """The validated form as plain data for the search service."""
        minutes = self.session_minutes.data
        return SearchQuery(
            location=(self.location.data or "").strip() or None,
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


# The parameters a search accepts: the form's fields, in the form's order.
PARAMETERS: tuple[str, ...] = tuple(name for name, value in vars(SearchForm).items() if isinstance(value, UnboundField))


def read_args(args) -> tuple[MultiDict, list[tuple[str, str]]]:
    """The search's parameters, and what was wrong with them: (parameter, message) each.

    Lists come comma-separated (`goals=a,b`), repeated (`goals=a&goals=b`) or in
    the bracket form many HTTP clients send (`goals[]=a`). A parameter the search
    does not know is refused rather than ignored: a misspelt `condition=` silently
    dropped would match a client with a fever.
    """
    out: MultiDict[str, str] = MultiDict()
    unknown, problems = [], []
    for key in args:
        values = args.getlist(key)
        name = key[:-2] if key.endswith("[]") and key[:-2] in LIST_FIELDS else key
        if name not in PARAMETERS:
            unknown.append(key)
        elif name in LIST_FIELDS:
            for value in values:
                out.setlist(name, out.getlist(name) + [s.strip().lower() for s in value.split(",") if s.strip()])
        elif len(values) > 1:
            problems.append((name, f"Give '{name}' once; it was given {len(values)} times."))
        else:
            out.setlist(name, [value.strip() for value in values])
    if unknown:
        problems.insert(0, (unknown[0], unknown_parameters(unknown)))
    return out, problems


def unknown_parameters(names: list[str]) -> str:
    """'Unknown parameter 'condition' (did you mean 'conditions'?). Accepted: ...'"""
    said = []
    for name in names:
        close = difflib.get_close_matches(name.removesuffix("[]"), PARAMETERS, n=1)
        said.append(f"'{name}'" + (f" (did you mean '{close[0]}'?)" if close else ""))
    plural = "s" if len(names) > 1 else ""
    return f"Unknown parameter{plural} {', '.join(said)}. Accepted: {', '.join(PARAMETERS)}."
