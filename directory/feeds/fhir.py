"""Listable therapists as FHIR R4 resources of the Da Vinci PDex Plan-Net profiles.

Each therapist is a Practitioner (name, verified license and certifications as
qualifications, languages), a PractitionerRole (massage therapist, NUCC
225700000X; new patients; available times from weekly hours) and a Location
(the practice: address, position, hours). All three share the therapist's id.
Every resource is built through the `fhir.resources` R4B model of its type,
which checks cardinalities, data types and formats before it is served.
"""

from __future__ import annotations

from datetime import UTC
from typing import Any

from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.location import Location
from fhir.resources.R4B.operationoutcome import OperationOutcome
from fhir.resources.R4B.practitioner import Practitioner
from fhir.resources.R4B.practitionerrole import PractitionerRole

from ..links import public_url
from ..models import TherapistProfile
from ..therapists.export import Practice
from ..therapists.visibility import place_of
from ..vocabulary import CERTIFICATIONS, LANGUAGES, STATES
from . import week

PLAN_NET = "http://hl7.org/fhir/us/davinci-pdex-plan-net"
NUCC = "http://nucc.org/provider-taxonomy"
MASSAGE_THERAPIST = {"system": NUCC, "code": "225700000X", "display": "Massage Therapist"}
PROVIDER_ROLE = {"system": f"{PLAN_NET}/CodeSystem/ProviderRoleCS", "code": "ma", "display": "Massage Therapist"}
ACCEPTING = {"system": f"{PLAN_NET}/CodeSystem/AcceptingPatientsCS", "code": "newpt", "display": "Accepting"}
EXISTING_ONLY = {
    "system": f"{PLAN_NET}/CodeSystem/AcceptingPatientsCS",
    "code": "existptonly",
    "display": "Accepting existing patients",
}
USPS = "https://www.usps.com/"
BCP47 = "urn:ietf:bcp:47"
LICENSE_NUMBER = {"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "LN", "display": "License number"}
PROVIDER_NUMBER = {
    "system": "http://terminology.hl7.org/CodeSystem/v2-0203",
    "code": "PRN",
    "display": "Provider number",
}
TIMEZONE = "http://hl7.org/fhir/StructureDefinition/timezone"
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MODELS: dict[str, Any] = {
    "Practitioner": Practitioner,
    "PractitionerRole": PractitionerRole,
    "Location": Location,
}


def profile_url(resource_type: str) -> str:
    return f"{PLAN_NET}/StructureDefinition/plannet-{resource_type}"


def _meta(resource_type: str, profile: TherapistProfile) -> dict:
    updated = profile.updated_at.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    return {"lastUpdated": updated, "profile": [profile_url(resource_type)]}


def _new_patients(profile: TherapistProfile) -> dict:
    code = ACCEPTING if profile.accepting_new_clients else EXISTING_ONLY
    return {
        "url": f"{PLAN_NET}/StructureDefinition/newpatients",
        "extension": [{"url": "acceptingPatients", "valueCodeableConcept": {"coding": [code]}}],
    }


def _qualification_status(state: str | None) -> dict:
    parts: list[dict] = [{"url": "status", "valueCode": "active"}]
    if state:
        parts.append({"url": "whereValid", "valueCodeableConcept": {"coding": [{"system": USPS, "code": state}]}})
    return {"url": f"{PLAN_NET}/StructureDefinition/practitioner-qualification", "extension": parts}


def _qualifications(profile: TherapistProfile) -> list[dict]:
    found = []
    lic = profile.current_license
    if lic is not None and lic.is_current:
        found.append(
            {
                "extension": [_qualification_status(lic.state)],
                "identifier": [{"type": {"coding": [LICENSE_NUMBER]}, "value": lic.number}],
                "code": {"coding": [MASSAGE_THERAPIST], "text": lic.credential or "Massage therapy license"},
                "period": {"end": lic.expires_on.isoformat()},
                "issuer": {"display": lic.credential or f"State of {STATES.get(lic.state, lic.state)}"},
            }
        )
    for cert in profile.verified_certifications:
        label = CERTIFICATIONS[cert.slug]
        system = public_url("api.vocab")  # lists every certification slug with its label
        qualification: dict = {
            "extension": [_qualification_status(None)],
            "code": {"coding": [{"system": system, "code": cert.slug, "display": label}], "text": label},
        }
        if cert.expires_on is not None:
            qualification["period"] = {"end": cert.expires_on.isoformat()}
        if cert.issuer:
            qualification["issuer"] = {"display": cert.issuer}
        found.append(qualification)
    return found


def practitioner(practice: Practice) -> dict:
    profile = practice.profile
    words = profile.name.split()
    name: dict = {"text": profile.name, "family": words[-1]}
    if len(words) > 1:
        name["given"] = words[:-1]
    return {
        "resourceType": "Practitioner",
        "id": str(profile.id),
        "meta": _meta("Practitioner", profile),
        "identifier": [
            {
                "type": {"coding": [PROVIDER_NUMBER]},
                "system": public_url("public.therapists"),
                "value": str(profile.id),
            },
        ],
        "active": True,
        "name": [name],
        "qualification": _qualifications(profile),
        "communication": [
            {"coding": [{"system": BCP47, "code": code, "display": LANGUAGES.get(code, code)}]}
            for code in profile.language_codes
        ],
    }


def _times(practice: Practice, start_key: str, end_key: str) -> list[dict]:
    return [
        {"daysOfWeek": [DAYS[d] for d in days], start_key: f"{start:%H:%M:%S}", end_key: f"{end:%H:%M:%S}"}
        for days, start, end in week.spans(practice.hours)
    ]


def practitioner_role(practice: Practice) -> dict:
    profile = practice.profile
    role = {
        "resourceType": "PractitionerRole",
        "id": str(profile.id),
        "meta": _meta("PractitionerRole", profile),
        "extension": [_new_patients(profile)],
        "active": True,
        "practitioner": {"reference": f"Practitioner/{profile.id}", "display": profile.name},
        "code": [{"coding": [PROVIDER_ROLE]}],
        "specialty": [{"coding": [MASSAGE_THERAPIST]}],
        "location": [{"reference": f"Location/{profile.id}", "display": _location_name(profile)}],
        "telecom": [{"system": "url", "value": public_url("public.therapist", therapist_id=profile.id)}],
    }
    if practice.hours:
        role["availableTime"] = _times(practice, "availableStartTime", "availableEndTime")
    return role


def _location_name(profile: TherapistProfile) -> str:
    return place_of(profile).label or f"{profile.name}'s practice"


def location(practice: Practice) -> dict:
    profile = practice.profile
    shown = place_of(profile)  # a home practice that shows only its area: no street, the area's centre
    address: dict = {"use": "work", "type": "physical", "city": shown.city, "state": shown.state, "country": "US"}
    if shown.street:
        address["line"] = [shown.street]
    if shown.postal_code:
        address["postalCode"] = shown.postal_code
    place = {
        "resourceType": "Location",
        "id": str(profile.id),
        "meta": _meta("Location", profile),
        "extension": [_new_patients(profile), {"url": TIMEZONE, "valueCode": profile.zone.key}],
        "status": "active",
        "name": _location_name(profile),
        "address": {key: value for key, value in address.items() if value},
    }
    if profile.mobile_radius_miles:
        place["description"] = f"Also visits clients at home within {profile.mobile_radius_miles:g} miles."
    if shown.latitude is not None and shown.longitude is not None:
        place["position"] = {"latitude": shown.latitude, "longitude": shown.longitude}
    if practice.hours:
        place["hoursOfOperation"] = _times(practice, "openingTime", "closingTime")
    return place


BUILDERS = {"Practitioner": practitioner, "PractitionerRole": practitioner_role, "Location": location}


def checked(resource: dict) -> dict:
    """The resource, once its R4B model has validated it (a Bundle validates its
    entries' resources too). Served as built: the model's own serialisation
    would cost more than the validation."""
    model = MODELS.get(resource["resourceType"]) or Bundle
    model.model_validate(resource)
    return resource


def resource(resource_type: str, practice: Practice) -> dict:
    return checked(BUILDERS[resource_type](practice))


def searchset(resource_type: str, practices: list[Practice], total: int, links: dict[str, str]) -> dict:
    entries = [
        {
            "fullUrl": public_url("fhir.read", resource_type=resource_type, resource_id=p.profile.id),
            "resource": BUILDERS[resource_type](p),
            "search": {"mode": "match"},
        }
        for p in practices
    ]
    bundle = {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": total,
        "link": [{"relation": relation, "url": url} for relation, url in links.items()],
        "entry": entries,
    }
    return checked(bundle)


ISSUE_CODES = {400: "invalid", 404: "not-found", 405: "not-supported", 413: "too-costly", 429: "throttled"}


def operation_outcome(code: str, message: str) -> dict:
    outcome = {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "error", "code": code, "diagnostics": message}],
    }
    OperationOutcome.model_validate(outcome)
    return outcome
