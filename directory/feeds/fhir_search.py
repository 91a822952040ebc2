"""FHIR search over the Plan-Net resources: the parameters parsed in one place.

We answer the search parameters the Plan-Net capability statement requires
(SHALL) that our data can answer; every other parameter, and every modifier we
do not implement, is refused with a 400 OperationOutcome rather than ignored
(FHIR lets a server ignore them; a client filtering on one would be misled).
Values separated by commas are alternatives (OR); repeated parameters combine
with AND, as FHIR search defines.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import and_, false, func, or_, true

from ..models import TherapistProfile
from ..security import database_id
from ..service_errors import ServiceError
from ..therapists import export
from ..therapists.visibility import hides_street_sql
from .fhir import NUCC, OUTPATIENT, PROVIDER_GROUP, PROVIDER_ROLE, SERVICE_CATEGORY, SERVICE_NAME
from .moments import moment_range

P = TherapistProfile
COUNT = 20
MAX_COUNT = 100
Condition = Callable[[str, str], Any]  # (modifier, value) -> SQL condition


def _string(column) -> Condition:
    """A string parameter: starts with (default, case-insensitive), :exact or :contains."""

    def condition(modifier: str, value: str):
        if modifier == "exact":
            return column == value
        if modifier == "contains":
            return func.lower(column).contains(value.lower(), autoescape=True)
        _plain(modifier)
        return func.lower(column).startswith(value.lower(), autoescape=True)

    return condition


def _name(modifier: str, value: str):
    """Any part of the name starts with the value (FHIR's `name` on a HumanName)."""
    if modifier:
        return _string(P.name)(modifier, value)
    lowered = value.lower()
    return or_(
        func.lower(P.name).startswith(lowered, autoescape=True),
        func.lower(P.name).contains(" " + lowered, autoescape=True),
    )


def _family(modifier: str, value: str):
    """The last word of the name (the family name we serve) starts with the value, or
    with :exact is it. (A name whose earlier word also starts with the value is missed.)"""
    name, lowered = func.lower(P.name), value.lower()
    if " " in value:
        return false()  # a word has no spaces
    if modifier == "exact":
        return or_(and_(P.name == value), P.name.endswith(" " + value, autoescape=True))
    _plain(modifier)
    single = and_(name.startswith(lowered, autoescape=True), ~name.contains(" "))
    last = and_(name.contains(" " + lowered, autoescape=True), ~name.like(f"% {_escaped(lowered)}% %", escape="/"))
    return or_(single, last)


def _given(modifier: str, value: str):
    """A word of the name before the last starts with the value."""
    _plain(modifier)
    lowered = _escaped(value.lower())
    name = func.lower(P.name)
    return or_(name.like(f"{lowered}% %", escape="/"), name.like(f"% {lowered}% %", escape="/"))


def _escaped(value: str) -> str:
    return value.replace("/", "//").replace("%", "/%").replace("_", "/_")


def _address(modifier: str, value: str):
    """Any part of the address the public is shown starts with the value: the street only
    where the practice shows it (a home practice's street must not be found by searching)."""
    _plain(modifier)
    lowered = value.lower()
    parts = [func.lower(column).startswith(lowered, autoescape=True) for column in (P.city, P.state, P.postal_code)]
    street = func.lower(P.address)
    in_street = or_(street.startswith(lowered, autoescape=True), street.contains(" " + lowered, autoescape=True))
    country = true() if "us".startswith(lowered) or "united states".startswith(lowered) else false()
    return or_(*parts, country, and_(in_street, ~hides_street_sql(P.id)))


def _token(*codings: dict) -> Condition:
    """A token: [system|]code, matched against fixed codings every resource of the type carries."""

    def condition(modifier: str, value: str):
        _plain(modifier)
        system, _, code = value.rpartition("|") if "|" in value else (None, "", value)
        matches = any(code == c["code"] and system in (None, c["system"]) for c in codings)
        return true() if matches else false()

    return condition


def _fixed_string(text: str) -> Condition:
    """A string parameter on a value every resource of the type carries."""

    def condition(modifier: str, value: str):
        if modifier == "exact":
            return true() if value == text else false()
        if modifier == "contains":
            return true() if value.lower() in text.lower() else false()
        _plain(modifier)
        return true() if text.lower().startswith(value.lower()) else false()

    return condition


def _nothing(resource_type: str) -> Condition:
    """A reference no resource of ours carries (no practice is part of another)."""

    def condition(modifier: str, value: str):
        _reference(resource_type)(modifier, value)  # refuses what it would refuse
        return false()

    return condition


_specialty = _token({"system": NUCC, "code": "225700000X"})


def _reference(resource_type: str) -> Condition:
    def condition(modifier: str, value: str):
        if modifier not in ("", resource_type):
            raise ServiceError(f"The modifier :{modifier} is not supported here.", field=modifier)
        kind, _, ident = value.rstrip("/").rpartition("/")
        if kind and not kind.endswith(resource_type):
            return false()
        return _is(database_id(ident))

    return condition


def _plain(modifier: str) -> None:
    if modifier:
        raise ServiceError(f"The modifier :{modifier} is not supported here.", field=modifier)


def _id(modifier: str, value: str):
    _plain(modifier)
    return _is(database_id(value))


def _is(number: int | None):
    return false() if number is None else P.id == number


PREFIXES = ("eq", "ne", "gt", "lt", "ge", "le")


def _last_updated(modifier: str, value: str):
    """A date (the whole day, UTC) or an instant with its offset, after an optional prefix."""
    _plain(modifier)
    prefix, given = (value[:2], value[2:]) if value[:2] in PREFIXES else ("eq", value)
    found = moment_range(given)
    if found is None:
        raise ServiceError(
            f"_lastUpdated: {value[:40]!r} must be a date (2025-01-31) or an instant with its offset "
            f"(2025-01-31T09:00:00Z), after an optional prefix ({', '.join(PREFIXES)}).",
            field="_lastUpdated",
        )
    start, end = found
    column = P.updated_at
    return {
        "eq": and_(column >= start, column < end),
        "ne": or_(column < start, column >= end),
        "gt": column >= end,
        "lt": column < start,
        "ge": column >= start,
        "le": column < end,
    }[prefix]


COMMON: dict[str, Condition] = {"_id": _id, "_lastUpdated": _last_updated}
PARAMETERS: dict[str, dict[str, Condition]] = {
    "Practitioner": {**COMMON, "name": _name, "family": _family, "given": _given},
    "PractitionerRole": {
        **COMMON,
        "specialty": _specialty,
        "practitioner": _reference("Practitioner"),
        "location": _reference("Location"),
        "organization": _reference("Organization"),
        "service": _reference("HealthcareService"),
        "endpoint": _reference("Endpoint"),
        "role": _token(PROVIDER_ROLE),
    },
    "Location": {
        **COMMON,
        "address": _address,
        "address-city": _string(P.city),
        "address-state": _string(P.state),
        "address-postalcode": _string(P.postal_code),
        "type": _token(OUTPATIENT),
        "organization": _reference("Organization"),
        "partof": _nothing("Location"),
        "endpoint": _reference("Endpoint"),
    },
    "Organization": {
        **COMMON,
        "name": _name,
        "address": _address,
        "type": _token(PROVIDER_GROUP),
        "partof": _nothing("Organization"),
        "endpoint": _reference("Endpoint"),
    },
    "HealthcareService": {
        **COMMON,
        "name": _fixed_string(SERVICE_NAME),
        "location": _reference("Location"),
        "organization": _reference("Organization"),
        "endpoint": _reference("Endpoint"),
        "specialty": _specialty,
        "service-category": _token(SERVICE_CATEGORY),
    },
    "Endpoint": {**COMMON, "organization": _reference("Organization")},
}
# _include / _revinclude served: by the resource type searched, each name and the type it adds.
# Every resource of a practice has the therapist's id, so each adds the same practices' resources.
INCLUDES: dict[str, dict[str, str]] = {
    "PractitionerRole": {
        "PractitionerRole:practitioner": "Practitioner",
        "PractitionerRole:organization": "Organization",
        "PractitionerRole:location": "Location",
        "PractitionerRole:service": "HealthcareService",
        "PractitionerRole:endpoint": "Endpoint",
    },
    "Location": {"Location:endpoint": "Endpoint", "Location:organization": "Organization"},
    "Organization": {"Organization:endpoint": "Endpoint"},
    "HealthcareService": {
        "HealthcareService:location": "Location",
        "HealthcareService:organization": "Organization",
        "HealthcareService:endpoint": "Endpoint",
    },
    "Endpoint": {"Endpoint:organization": "Organization"},
}
REVINCLUDES: dict[str, dict[str, str]] = {
    "Practitioner": {"PractitionerRole:practitioner": "PractitionerRole"},
    "Location": {"PractitionerRole:location": "PractitionerRole", "HealthcareService:location": "HealthcareService"},
    "Organization": {
        "PractitionerRole:organization": "PractitionerRole",
        "HealthcareService:organization": "HealthcareService",
        "Endpoint:organization": "Endpoint",
    },
    "HealthcareService": {"PractitionerRole:service": "PractitionerRole"},
}
NO_NETWORKS = "no insurance networks: the directory holds no plans or networks"
FORMATS = ("json", "application/json", "application/fhir+json")


@dataclass(frozen=True)
class FhirSearch:
    resource_type: str
    conditions: tuple
    count: int = COUNT
    offset: int = 0
    given: tuple[tuple[str, str], ...] = ()  # the filters as sent, for paging links
    includes: tuple[str, ...] = ()  # the resource types added (search.mode "include")

    @classmethod
    def parse(cls, resource_type: str, args) -> FhirSearch:
        known = PARAMETERS[resource_type]
        conditions, given, includes = [], [], []
        count, offset = COUNT, 0
        for key in args:
            name, _, modifier = key.partition(":")
            for value in args.getlist(key):
                if name in ("_count", "_offset") and not modifier:
                    number = int(value) if value.isascii() and value.isdigit() and len(value) < 9 else -1
                    if name == "_count" and not 1 <= number <= MAX_COUNT:
                        raise ServiceError(f"_count must be a whole number from 1 to {MAX_COUNT}.", field=name)
                    if number < 0:
                        raise ServiceError("_offset must be a whole number, 0 or more.", field=name)
                    count, offset = (number, offset) if name == "_count" else (count, number)
                elif name == "_format" and not modifier:
                    if value not in FORMATS:
                        raise ServiceError(f"_format: only JSON is served ({', '.join(FORMATS)}).", field=name)
                elif name in ("_include", "_revinclude") and not modifier:
                    served = (INCLUDES if name == "_include" else REVINCLUDES).get(resource_type, {})
                    if value not in served:
                        why = f" ({NO_NETWORKS})" if value.endswith(":network") else ""
                        raise ServiceError(
                            f"{name}={value[:60]!r} is not supported on {resource_type}{why}; "
                            f"supported: {', '.join(served) or 'none'}.",
                            field=name,
                        )
                    if served[value] not in includes:
                        includes.append(served[value])
                    given.append((key, value))
                elif name in known:
                    alternatives = [v for v in value.split(",") if v]
                    if not alternatives:
                        raise ServiceError(f"{key}: give a value.", field=name)
                    conditions.append(or_(*(known[name](modifier, v) for v in alternatives)))
                    given.append((key, value))
                else:
                    raise ServiceError(
                        f"Unknown search parameter {key!r} for {resource_type}; supported: "
                        f"{', '.join([*known, '_count', '_offset', '_format', '_include', '_revinclude'])}.",
                        field=name,
                    )
        return cls(resource_type, tuple(conditions), count, offset, tuple(given), tuple(includes))

    def statement(self):
        return export.listable().where(*self.conditions)

    def links(self, base: str, total: int) -> dict[str, str]:
        """self, and next / previous where there are more matches that way."""
        at = lambda offset: f"{base}?{urlencode([*self.given, ('_count', self.count), ('_offset', offset)])}"
        links = {"self": at(self.offset)}
        if self.offset + self.count < total:
            links["next"] = at(self.offset + self.count)
        if self.offset > 0:
            links["previous"] = at(max(0, self.offset - self.count))
        return links


def find(search: FhirSearch) -> tuple[int, list[export.Practice]]:
    stmt = search.statement()
    return export.count(stmt), export.page(stmt, offset=search.offset, limit=search.count)
