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
from fhir.resources.R4B.endpoint import Endpoint
from fhir.resources.R4B.healthcareservice import HealthcareService
from fhir.resources.R4B.location import Location
from fhir.resources.R4B.operationoutcome import OperationOutcome
from fhir.resources.R4B.organization import Organization
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
# Our certification slugs (GET /api/v1/vocab lists each with its label): one canonical URL for
# every deployment, so a code means the same wherever it was read (never built from PUBLIC_URL).
CERTIFICATION_SYSTEM = "https://truetouch.example/fhir/CodeSystem/certifications"
PROVIDER_GROUP = {"system": f"{PLAN_NET}/CodeSystem/OrgTypeCS", "code": "prvgrp", "display": "Provider Group"}
SERVICE_CATEGORY = {
    "system": f"{PLAN_NET}/CodeSystem/HealthcareServiceCategoryCS",
    "code": "prov",
    "display": "Medical Provider",
}
OUTPATIENT = {
    "system": "http://terminology.hl7.org/CodeSystem/v3-RoleCode",
    "code": "OF",
    "display": "Outpatient facility",
}
WEB_PAGE = {
    "system": f"{PLAN_NET}/CodeSystem/EndpointConnectionTypeCS",
    "code": "rest-non-fhir",
    "display": "REST (not FHIR)",
}
NOT_APPLICABLE = {"system": f"{PLAN_NET}/CodeSystem/EndpointPayloadTypeCS", "code": "NA", "display": "Not Applicable"}
SERVICE_NAME = "Massage therapy"
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MODELS: dict[str, Any] = {
    "Practitioner": Practitioner,
    "PractitionerRole": PractitionerRole,
    "Location": Location,
    "Organization": Organization,
    "HealthcareService": HealthcareService,
    "Endpoint": Endpoint,
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
        system = CERTIFICATION_SYSTEM
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
        "organization": {"reference": f"Organization/{profile.id}", "display": profile.name},
        "location": [{"reference": f"Location/{profile.id}", "display": _location_name(profile)}],
        "healthcareService": [{"reference": f"HealthcareService/{profile.id}", "display": SERVICE_NAME}],
        "telecom": [_page(profile)],
        "endpoint": [{"reference": f"Endpoint/{profile.id}"}],
    }
    if practice.hours:
        role["availableTime"] = _times(practice, "availableStartTime", "availableEndTime")
    return role


def _location_name(profile: TherapistProfile) -> str:
    return place_of(profile).label or f"{profile.name}'s practice"


def _page(profile: TherapistProfile) -> dict:
    return {"system": "url", "value": public_url("public.therapist", therapist_id=profile.id)}


def _address(profile: TherapistProfile) -> dict:
    shown = place_of(profile)  # a home practice that shows only its area: no street
    address: dict = {"use": "work", "type": "physical", "city": shown.city, "state": shown.state, "country": "US"}
    if shown.street:
        address["line"] = [shown.street]
    if shown.postal_code:
        address["postalCode"] = shown.postal_code
    return {key: value for key, value in address.items() if value}


def location(practice: Practice) -> dict:
    profile = practice.profile
    shown = place_of(profile)  # a home practice that shows only its area: no street, the area's centre
    place = {
        "resourceType": "Location",
        "id": str(profile.id),
        "meta": _meta("Location", profile),
        "extension": [_new_patients(profile), {"url": TIMEZONE, "valueCode": profile.zone.key}],
        "status": "active",
        "name": _location_name(profile),
        "type": [{"coding": [OUTPATIENT]}],
        "address": _address(profile),
        "managingOrganization": {"reference": f"Organization/{profile.id}", "display": profile.name},
        "endpoint": [{"reference": f"Endpoint/{profile.id}"}],
    }
    if profile.mobile_radius_miles:
        place["description"] = f"Also visits clients at home within {profile.mobile_radius_miles:g} miles."
    if shown.latitude is not None and shown.longitude is not None:
        place["position"] = {"latitude": shown.latitude, "longitude": shown.longitude}
    if practice.hours:
        place["hoursOfOperation"] = _times(practice, "openingTime", "closingTime")
    return place


def organization(practice: Practice) -> dict:
    """The practice as a Plan-Net Organization (a provider group of one)."""
    profile = practice.profile
    return {
        "resourceType": "Organization",
        "id": str(profile.id),
        "meta": _meta("Organization", profile),
        "identifier": [
            {"type": {"coding": [PROVIDER_NUMBER]}, "system": public_url("public.therapists"), "value": str(profile.id)}
        ],
        "active": True,
        "type": [{"coding": [PROVIDER_GROUP]}],
        "name": f"{profile.name}, massage therapy practice",
        "telecom": [_page(profile)],
        "address": [_address(profile)],
        "endpoint": [{"reference": f"Endpoint/{profile.id}"}],
    }


def healthcare_service(practice: Practice) -> dict:
    """The massage the practice offers, at its Location, provided by its Organization."""
    profile = practice.profile
    service = {
        "resourceType": "HealthcareService",
        "id": str(profile.id),
        "meta": _meta("HealthcareService", profile),
        "extension": [_new_patients(profile)],
        "active": True,
        "providedBy": {"reference": f"Organization/{profile.id}", "display": profile.name},
        "category": [{"coding": [SERVICE_CATEGORY]}],
        "specialty": [{"coding": [MASSAGE_THERAPIST]}],
        "location": [{"reference": f"Location/{profile.id}", "display": _location_name(profile)}],
        "name": SERVICE_NAME,
        "telecom": [_page(profile)],
        "appointmentRequired": True,
        "endpoint": [{"reference": f"Endpoint/{profile.id}"}],
    }
    if profile.mobile_radius_miles:
        service["comment"] = f"Also visits clients at home within {profile.mobile_radius_miles:g} miles."
    if practice.hours:
        service["availableTime"] = _times(practice, "availableStartTime", "availableEndTime")
    return service


def endpoint(practice: Practice) -> dict:
    """The therapist's page, where clients see free times and book: a web page, not FHIR."""
    profile = practice.profile
    return {
        "resourceType": "Endpoint",
        "id": str(profile.id),
        "meta": _meta("Endpoint", profile),
        "status": "active",
        "connectionType": WEB_PAGE,
        "name": f"Booking page of {profile.name}",
        "managingOrganization": {"reference": f"Organization/{profile.id}", "display": profile.name},
        "payloadType": [{"coding": [NOT_APPLICABLE]}],
        "payloadMimeType": ["text/html"],
        "address": public_url("public.therapist", therapist_id=profile.id),
    }


BUILDERS = {
    "Practitioner": practitioner,
    "PractitionerRole": practitioner_role,
    "Location": location,
    "Organization": organization,
    "HealthcareService": healthcare_service,
    "Endpoint": endpoint,
}


def checked(resource: dict) -> dict:
    """The resource, once its R4B model has validated it (a Bundle validates its
    entries' resources too). Served as built: the model's own serialisation
    would cost more than the validation."""
    model = MODELS.get(resource["resourceType"]) or Bundle
    model.model_validate(resource)
    return resource


def resource(resource_type: str, practice: Practice) -> dict:
    return checked(BUILDERS[resource_type](practice))


def searchset(
    resource_type: str,
    practices: list[Practice],
    total: int,
    links: dict[str, str],
    includes: tuple[str, ...] = (),
) -> dict:
    """The matches, then the resources `_include` / `_revinclude` add (search.mode include)."""
    entries = [
        {
            "fullUrl": public_url("fhir.read", resource_type=kind, resource_id=p.profile.id),
            "resource": BUILDERS[kind](p),
            "search": {"mode": mode},
        }
        for kind, mode in [(resource_type, "match"), *((kind, "include") for kind in includes)]
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
