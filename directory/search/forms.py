"""What a search accepts: one set of rules for the /search page and /api/v1/search.

`SearchParameters` (pydantic) is the rule set: the parameters, their types, the
slugs and ranges allowed, and the checks between them. The API validates with it
(through spectree, which also generates the OpenAPI document from it), and the
page's `SearchForm` validates with it too: the form only lays the fields out.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import TYPE_CHECKING, Annotated, Any, Literal, TypeAlias, TypeVar, get_args, get_origin

from annotated_types import Ge, Le, MaxLen
from flask_wtf import FlaskForm
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic.fields import FieldInfo
from pydantic_core import PydanticCustomError
from werkzeug.datastructures import MultiDict
from wtforms import StringField
from wtforms.fields.choices import SelectChoice

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

LOCATION_NEEDED = "Enter a ZIP code, a city and state, or an address."
T = TypeVar("T")

if TYPE_CHECKING:  # to a type checker a slug is text; at run time each is the Literal of its table
    Goal: TypeAlias = str
    Area: TypeAlias = str
    Condition: TypeAlias = str
    Technique: TypeAlias = str
    Language: TypeAlias = str
    Gender: TypeAlias = str
    Minutes: TypeAlias = int
else:
    Goal, Area, Condition = Literal[tuple(v.GOALS)], Literal[tuple(v.BODY_AREAS)], Literal[tuple(v.CONDITIONS)]
    Technique, Language = Literal[tuple(v.TECHNIQUES)], Literal[tuple(v.LANGUAGES)]
    Gender, Minutes = Literal[tuple(v.GENDERS)], Literal[v.SESSION_LENGTHS]


class OutOfRange:
    """The message for a number outside its Field's ge/le, filled from those bounds."""

    def __init__(self, template: str):
        self.template = template


def _whole(value: Any) -> Any:
    """'20' -> 20; anything else is left for the strict int check to refuse ('5.0', 'ten')."""
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    return value


Whole = BeforeValidator(_whole)


Budget = Annotated[
    float,
    Field(ge=1, le=10000, allow_inf_nan=False),
    OutOfRange("Budget must be between ${ge:,.0f} and ${le:,.0f} per session."),
]


def _never_null(schema: dict[str, Any]) -> None:
    """A query parameter is given or absent, never null: None is only what "not given"
    becomes inside, so the document shows neither a null type nor a null default."""
    for prop in schema.get("properties", {}).values():
        branches = [b for b in prop.get("anyOf", []) if b != {"type": "null"}]
        if len(branches) == 1:
            del prop["anyOf"]
            prop.update(branches[0])
        if "default" in prop and prop["default"] is None:
            del prop["default"]


def _slugs(description: str):
    return Field(default_factory=list, description=description + " Comma-separated, repeated, or as name[].")


class SearchParameters(BaseModel):
    """The parameters of a search: where, what for, which health conditions, and filters.

    Lists may be given comma-separated (`goals=stress,pain`), repeated
    (`goals=stress&goals=pain`) or bracketed (`goals[]=stress`). A parameter
    the search does not know, or a single-valued one given twice, is refused.
    """

    model_config = ConfigDict(extra="forbid", title="SearchParameters", json_schema_extra=_never_null)

    location: Annotated[
        str | None,
        Field(
            title="Where are you?",
            max_length=200,
            description="A ZIP code (60601), a city and state (Chicago, IL), an address, or latitude,longitude. "
            "Required, unless a condition rules massage out (the answer is then blocked, without a place).",
            examples=["60601", "Chicago, IL", "41.8858,-87.6181"],
        ),
    ] = None
    radius: Annotated[
        float,
        Field(title="Distance (miles)", ge=1, le=100, allow_inf_nan=False, description="Miles around the location."),
        OutOfRange("Radius must be between {ge:g} and {le:g} miles."),
    ] = 10
    goals: list[Goal] = _slugs("What the client would like help with.")
    areas: list[Area] = _slugs("Where in the body: sets the recommended session length.")
    conditions: list[Condition] = _slugs("Health conditions that apply now (see /api/v1/rules).")
    session_minutes: Annotated[Minutes | None, Whole, Field(title="Session length")] = None
    max_price: Annotated[Budget | None, Field(title="Most you want to pay per session ($)")] = None
    techniques: list[Technique] = _slugs("Techniques wanted.")
    gender: Annotated[Gender | None, Field(title="Therapist gender")] = None
    languages: list[Language] = _slugs("Languages the therapist speaks (ISO 639-1).")
    hsa_fsa: Annotated[bool | None, Field(title="Accepts HSA/FSA cards")] = None
    home_visit: Annotated[
        bool, Field(title="Home visit", description="Only therapists who come to the client's home from this far.")
    ] = False
    accepting_new_clients: Annotated[bool | None, Field(title="Accepting new clients")] = None
    limit: Annotated[
        int,
        Field(title="Results per page", ge=1, le=50, strict=True),
        Whole,
        OutOfRange("Limit must be between {ge} and {le}."),
    ] = 20
    offset: Annotated[
        int,
        Field(title="Offset", ge=0, le=100_000, strict=True),
        Whole,
        OutOfRange("Offset must be {ge} or more (at most {le:,})."),
    ] = 0

    @model_validator(mode="before")
    @classmethod
    def _read(cls, data: Any) -> Any:
        if not isinstance(data, Mapping):
            return data
        args, not_understood = read_args(data)
        if not_understood:
            field, message = not_understood[0]
            raise PydanticCustomError("not_understood", "{message}", {"field": field, "message": message})
        return args

    @field_validator("conditions")
    @classmethod
    def _can_apply_together(cls, conditions: list[str]) -> list[str]:
        clash = contradiction(conditions)
        if clash:
            raise PydanticCustomError("contradiction", "{message}", {"message": clash})
        return conditions

    @model_validator(mode="after")
    def _location_unless_refused(self) -> SearchParameters:
        """A location is needed to find therapists, but not to say that massage is
        not safe now: with a condition that refuses, the answer comes without one."""
        if not self.location and not refuses(self.conditions):
            raise PydanticCustomError("location_needed", LOCATION_NEEDED)
        return self

    def query(self) -> SearchQuery:
        """The validated parameters as plain data for the search service."""
        given: dict[str, Any] = self.model_dump(exclude={"radius", *LIST_FIELDS})
        given |= {name: tuple(getattr(self, name)) for name in LIST_FIELDS}
        return SearchQuery(**given, radius_miles=float(self.radius))


# The parameters a search accepts, in the model's order.
PARAMETERS: tuple[str, ...] = tuple(SearchParameters.model_fields)
LIST_FIELDS: tuple[str, ...] = tuple(
    name for name, info in SearchParameters.model_fields.items() if getattr(info.annotation, "__origin__", None) is list
)


def read_args(args: Mapping[str, Any]) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """The search's parameters, and what was wrong with them: (parameter, message) each.

    `args` is a MultiDict (request.args) or a mapping of names to a value or a
    list of values. Lists come comma-separated (`goals=a,b`), repeated
    (`goals=a&goals=b`) or in the bracket form many HTTP clients send
    (`goals[]=a`). A parameter the search does not know is refused rather than
    ignored: a misspelt `condition=` silently dropped would match a client with
    a fever. An empty single value counts as not given (the page sends them).
    """
    out: dict[str, Any] = {}
    unknown, problems = [], []
    for key in args:
        values = _values(args, key)
        name = key[:-2] if key.endswith("[]") and key[:-2] in LIST_FIELDS else key
        if name not in PARAMETERS:
            unknown.append(key)
        elif name in LIST_FIELDS:
            items = out.setdefault(name, [])
            for value in values:
                items += (
                    [w.strip().lower() for w in value.split(",") if w.strip()] if isinstance(value, str) else [value]
                )
        elif len(values) > 1:
            problems.append((name, f"Give '{name}' once; it was given {len(values)} times."))
        elif (value := values[0].strip() if isinstance(values[0], str) else values[0]) not in ("", None):
            out[name] = value
    if unknown:
        problems.insert(0, (unknown[0], unknown_parameters(unknown)))
    return out, problems


def _values(args: Mapping[str, Any], key: str) -> list[Any]:
    if isinstance(args, MultiDict):
        return args.getlist(key)
    value = args[key]
    return list(value) if isinstance(value, list | tuple) else [value]


def unknown_parameters(names: list[str]) -> str:
    """'Unknown parameter 'condition' (did you mean 'conditions'?). Accepted: ...'"""
    said = []
    for name in names:
        close = difflib.get_close_matches(name.removesuffix("[]"), PARAMETERS, n=1)
        said.append(f"'{name}'" + (f" (did you mean '{close[0]}'?)" if close else ""))
    plural = "s" if len(names) > 1 else ""
    return f"Unknown parameter{plural} {', '.join(said)}. Accepted: {', '.join(PARAMETERS)}."


def problems(exc: ValidationError) -> list[tuple[str, str]]:
    """What was wrong with the parameters, (parameter, message) each, in the
    parameters' order, saying what is allowed. Unknown slugs of one list are one problem."""
    found: dict[str, list[str]] = {}
    unknown_slugs: dict[str, list[str]] = {}
    for error in exc.errors():
        kind, loc, ctx = error["type"], error["loc"], error.get("ctx") or {}
        if kind == "not_understood":
            found.setdefault(ctx["field"], []).append(ctx["message"])
        elif kind == "location_needed":
            found.setdefault("location", []).append(LOCATION_NEEDED)
        elif kind == "literal_error" and len(loc) == 2:
            unknown_slugs.setdefault(str(loc[0]), []).append(repr(error["input"]))
            found.setdefault(str(loc[0]), [])
        else:
            found.setdefault(str(loc[0]), []).append(_message(str(loc[0]), kind, error))
    for name, slugs in unknown_slugs.items():
        allowed = ", ".join(str(a) for a in allowed_values(name))
        found[name].insert(0, f"Unknown {name.rstrip('s')} {', '.join(slugs)}. Allowed: {allowed}.")
    order = {name: i for i, name in enumerate(PARAMETERS)}
    return [(name, found[name][0]) for name in sorted(found, key=lambda n: order.get(n, -1))]


def _message(name: str, kind: str, error: Any) -> str:
    info = SearchParameters.model_fields[name]
    title = info.title or name
    if kind == "contradiction":
        return error["ctx"]["message"]
    if kind == "literal_error":
        return f"{title} must be one of: {', '.join(str(a) for a in allowed_values(name))}."
    if kind.startswith("bool"):
        return f"{title} must be true or false."
    if kind.startswith("int") or (kind.endswith("_type") and info.annotation is int):
        return f"{title} must be a whole number."
    if kind.startswith("float") or kind == "finite_number":
        return f"{title} must be a number."
    metadata = _metadata(info)
    if kind in ("greater_than_equal", "less_than_equal"):
        bounds = {"ge": _find(metadata, Ge).ge, "le": _find(metadata, Le).le}
        return _find(metadata, OutOfRange).template.format(**bounds)
    if kind == "string_too_long":
        return f"Location must be at most {_find(metadata, MaxLen).max_length} characters."
    return f"{title}: {error['msg']}."


def _find(metadata: list[Any], kind: type[T]) -> T:
    return next(m for m in metadata if isinstance(m, kind))


def _metadata(info: FieldInfo) -> list[Any]:
    """Everything annotated on a parameter: its Field's constraints and those of the types inside it."""
    found, pending = list(info.metadata), [info.annotation]
    while pending:
        annotation = pending.pop(0)
        args = get_args(annotation)
        if get_origin(annotation) is Annotated:
            for m in getattr(annotation, "__metadata__", ()):
                found += m.metadata if isinstance(m, FieldInfo) else [m]
            pending.append(args[0])
        elif get_origin(annotation) is not Literal:
            pending += list(args)
    return found


def allowed_values(name: str) -> list[Any]:
    """The slugs (or values) a parameter allows, read off its annotation."""
    pending, found = [SearchParameters.model_fields[name].annotation], []
    while pending:
        annotation = pending.pop(0)
        if get_origin(annotation) is Literal:
            found += list(get_args(annotation))
        else:
            pending += list(get_args(annotation))
    return found


class _MarkedRequired:
    """'(required)' by the label; the rule itself is SearchParameters'."""

    field_flags = {"required": True}

    def __call__(self, form, field):
        return None


def _label(name: str) -> str:
    return SearchParameters.model_fields[name].title or name


def _choices(name: str, table) -> list[SelectChoice]:
    return slug_choices({slug: table[slug] for slug in allowed_values(name)})


class SearchForm(FlaskForm):
    """The /search page's fields: labels and choices for the page, read off
    SearchParameters, which does all the checking (`check`)."""

    class Meta:
        csrf = False  # a GET search changes nothing

    location = StringField(
        _label("location"),
        validators=[_MarkedRequired()],
        description="A ZIP code (60601), a city and state (Chicago, IL), an address, or latitude,longitude.",
    )
    radius = NumberField(_label("radius"), default=10, places=None)
    goals = MultiCheckboxField("What would you like help with?", choices=_choices("goals", v.GOALS))
    areas = MultiCheckboxField("Where in the body?", choices=_choices("areas", v.BODY_AREAS))
    conditions = MultiCheckboxField("Do any of these apply to you now?", choices=_choices("conditions", v.CONDITIONS))
    session_minutes = ChoiceField(
        _label("session_minutes"),
        choices=[SelectChoice("", "Recommend one for me")]
        + [SelectChoice(str(m), f"{m} minutes") for m in allowed_values("session_minutes")],
    )
    max_price = NumberField(_label("max_price"), places=None)
    techniques = MultiCheckboxField("Techniques you want", choices=_choices("techniques", v.TECHNIQUES))
    gender = ChoiceField(_label("gender"), choices=[SelectChoice("", "No preference")] + _choices("gender", v.GENDERS))
    languages = MultiCheckboxField("Languages", choices=_choices("languages", v.LANGUAGES))
    hsa_fsa = BooleanChoiceField(_label("hsa_fsa"), choices=BOOL_CHOICES)
    home_visit = BooleanChoiceField(_label("home_visit"), choices=BOOL_CHOICES)
    accepting_new_clients = BooleanChoiceField(_label("accepting_new_clients"), choices=BOOL_CHOICES)
    limit = WholeNumberField(_label("limit"), default=20)
    offset = WholeNumberField(_label("offset"), default=0)

    @classmethod
    def showing(cls, args: Mapping[str, Any]) -> SearchForm:
        """The form filled with what read_args understood."""
        pairs = [(k, x) for k, value in args.items() for x in (value if isinstance(value, list) else [value])]
        return cls(formdata=MultiDict(pairs))

    def check(self, args: Mapping[str, Any]) -> SearchParameters | None:
        """The parameters, or None with each problem put on its field."""
        try:
            return SearchParameters.model_validate(args)
        except ValidationError as exc:
            for name, message in problems(exc):
                self[name].errors = [*self[name].errors, message]
            return None
