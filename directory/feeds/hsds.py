"""Listable therapists as Open Referral HSDS 3.0 records.

Each therapist is an organization (their practice) offering one service,
massage therapy, at one location. Techniques are attributes whose taxonomy
terms belong to our own taxonomy; weekly hours become schedules, prices cost
options. Every id is a stable UUID (ids.py).
"""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

from .. import clock
from ..links import public_url
from ..models import TherapistProfile
from ..therapists.export import Practice
from ..therapists.visibility import place_of
from ..vocabulary import CERTIFICATIONS, LANGUAGES, NO_LICENSE_STATES, TECHNIQUES
from . import week
from .ids import Kind, record_id

VERSION = "3.0"
PROFILE = "https://openreferral.org/"  # no HSDS profile: the core specification
OPENAPI_TEMPLATE = Path(__file__).parent / "standards" / "hsds-openapi.json"
TAXONOMY = "TrueTouch massage techniques"
DAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
DAY_NAMES = ("Mondays", "Tuesdays", "Wednesdays", "Thursdays", "Fridays", "Saturdays", "Sundays")


def taxonomy_id() -> str:
    return record_id(Kind.TAXONOMY, 0)


def technique_term_id(slug: str) -> str:
    return record_id(Kind.TAXONOMY_TERM, 0, list(TECHNIQUES).index(slug))


@cache
def _template() -> dict:
    return json.loads(OPENAPI_TEMPLATE.read_text(encoding="utf-8"))


def openapi() -> dict:
    """The standard's OpenAPI document for what /hsds serves: its template filled in
    (title, server, licence) and without what we refuse (`minimal`, `format=ndjson`)."""
    document = copy.deepcopy(_template())
    document["info"] = {
        "title": "Massage therapist directory: HSDS 3.0",
        "version": VERSION,
        "description": "Listable massage therapists as Open Referral HSDS 3.0 (read-only, open).",
        "license": {
            "name": "CC BY-SA 4.0 (the HSDS specification)",
            "url": "https://creativecommons.org/licenses/by-sa/4.0/",
        },
    }
    document["servers"] = [{"url": public_url("hsds.hsds_root").rstrip("/")}]
    for path, item in document["paths"].items():
        for operation in item.values():
            if isinstance(operation, dict) and "parameters" in operation:
                operation["parameters"] = [
                    p for p in operation["parameters"] if p.get("$ref") != "#/components/parameters/minimal"
                ]
                if path == "/services":  # we also serve these two on /services, as on /service_at_locations
                    operation["parameters"] += [
                        {"$ref": f"#/components/parameters/{n}"} for n in ("postcode", "proximity")
                    ]
    parameters = document["components"]["parameters"]
    del parameters["minimal"]
    parameters["format"]["schema"] = {"type": "string", "enum": ["json"]}
    parameters["format"]["description"] = "Only `json` is served; the whole directory as ndjson is the bulk export."
    return document


def taxonomy() -> dict:
    return {
        "id": taxonomy_id(),
        "name": TAXONOMY,
        "description": "The massage techniques the directory's therapists offer; each term's code is our slug.",
        "version": "1",
    }


def taxonomy_terms() -> list[dict]:
    """Every term of our taxonomy (flat: none has a parent)."""
    return [technique_term(slug) for slug in TECHNIQUES]


def technique_term(slug: str) -> dict:
    return {
        "id": technique_term_id(slug),
        "code": slug,
        "name": TECHNIQUES[slug],
        "description": TECHNIQUES[slug],
        "taxonomy": TAXONOMY,
        "taxonomy_id": taxonomy_id(),
    }


def term_slug(term_id: str) -> str | None:
    return {technique_term_id(slug): slug for slug in TECHNIQUES}.get(term_id.lower())


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _accreditations(profile: TherapistProfile) -> str:
    parts = []
    lic = profile.current_license
    if lic is not None and lic.is_current:
        kind = lic.credential or f"{lic.state} massage therapy license"
        checked = f", verified {lic.verified_at.date().isoformat()}" if lic.verified_at else ""
        parts.append(f"{kind} {lic.number} (expires {lic.expires_on.isoformat()}{checked})")
        if lic.state in NO_LICENSE_STATES:
            parts.append(NO_LICENSE_STATES[lic.state])
    parts += [f"{CERTIFICATIONS[c.slug]} (verified)" for c in profile.verified_certifications]
    return "; ".join(parts)


def _description(profile: TherapistProfile) -> str:
    techniques = ", ".join(TECHNIQUES[t] for t in profile.technique_slugs)
    return " ".join(part for part in (profile.bio.strip(), f"Techniques: {techniques}.") if part)


def organization(profile: TherapistProfile) -> dict:
    return {
        "id": record_id(Kind.ORGANIZATION, profile.id),
        "name": profile.name,
        "description": profile.bio.strip() or f"Independent massage therapy practice of {profile.name}.",
        "website": public_url("public.therapist", therapist_id=profile.id),
    }


def service_summary(practice: Practice) -> dict:
    """The service's one-to-one fields and its organization (a list item)."""
    profile = practice.profile
    summary = {
        "id": record_id(Kind.SERVICE, profile.id),
        "organization_id": record_id(Kind.ORGANIZATION, profile.id),
        "name": f"Massage therapy with {profile.name}",
        "description": _description(profile),
        "url": public_url("public.therapist", therapist_id=profile.id),
        "status": "active",
        "accreditations": _accreditations(profile),
        "last_modified": _stamp(profile.updated_at),
        "organization": organization(profile),
    }
    if profile.hsa_fsa:
        summary["fees_description"] = "HSA and FSA cards accepted."
    if not profile.accepting_new_clients:
        summary["alert"] = "Not accepting new clients at the moment."
    return summary


def service(practice: Practice, now: datetime | None = None) -> dict:
    """The fully nested service: location, address, schedules, costs, languages, techniques."""
    profile = practice.profile
    service_id = record_id(Kind.SERVICE, profile.id)
    return {
        **service_summary(practice),
        "schedules": schedules(practice, service_id, now or clock.now()),
        "service_at_locations": [
            {
                "id": record_id(Kind.SERVICE_AT_LOCATION, profile.id),
                "service_id": service_id,
                "location_id": record_id(Kind.LOCATION, profile.id),
                "location": location(profile),
            }
        ],
        "languages": [
            {
                "id": record_id(Kind.LANGUAGE, profile.id, i),
                "service_id": service_id,
                "name": LANGUAGES.get(code, code),
                "code": code,
            }
            for i, code in enumerate(profile.language_codes)
        ],
        "cost_options": [
            {
                "id": record_id(Kind.COST_OPTION, profile.id, price.minutes),
                "service_id": service_id,
                "option": f"{price.minutes}-minute session",
                "currency": "USD",
                "amount": float(price.amount),
                "amount_description": "Per session" + (", HSA and FSA cards accepted" if profile.hsa_fsa else ""),
            }
            for price in profile.prices
        ],
        "attributes": [
            {
                "id": record_id(Kind.ATTRIBUTE, profile.id, list(TECHNIQUES).index(slug)),
                "link_id": service_id,
                "link_type": "technique",
                "link_entity": "service",
                "taxonomy_term_id": technique_term_id(slug),
                "taxonomy_term": technique_term(slug),
            }
            for slug in profile.technique_slugs
        ],
    }


def full_organization(practice: Practice) -> dict:
    """The organization with its location and its service (fully nested)."""
    profile = practice.profile
    offered = service(practice)
    del offered["organization"]
    return {**organization(profile), "locations": [location(profile)], "services": [offered]}


def service_at_location(practice: Practice, full: bool = False) -> dict:
    """The service at its one location; `full` adds the service's schedules and attributes."""
    profile = practice.profile
    offered = service_summary(practice)
    answer = {
        "id": record_id(Kind.SERVICE_AT_LOCATION, profile.id),
        "service_id": offered["id"],
        "location_id": record_id(Kind.LOCATION, profile.id),
        "location": location(profile),
        "service": offered,
    }
    if full:
        nested = service(practice)
        answer["schedules"] = nested["schedules"]
        answer["attributes"] = nested["attributes"]
    return answer


def location(profile: TherapistProfile) -> dict:
    location_id = record_id(Kind.LOCATION, profile.id)
    shown = place_of(profile)  # a home practice that shows only its area: no street, the area's centre
    place: dict = {
        "id": location_id,
        "location_type": "physical",
        "organization_id": record_id(Kind.ORGANIZATION, profile.id),
        "name": shown.label or f"{profile.name}'s practice",
        "addresses": [
            {
                "id": record_id(Kind.ADDRESS, profile.id),
                "location_id": location_id,
                "address_1": shown.street,
                "city": shown.city,
                "state_province": shown.state,
                "postal_code": shown.postal_code,
                "country": "US",
                "address_type": "physical",
            }
        ],
    }
    if shown.latitude is not None and shown.longitude is not None:
        place["latitude"], place["longitude"] = shown.latitude, shown.longitude
    if profile.mobile_radius_miles:
        place["accessibility"] = [
            {
                "id": record_id(Kind.ACCESSIBILITY, profile.id),
                "location_id": location_id,
                "description": "Home visits",
                "details": f"Visits clients at home within {profile.mobile_radius_miles:g} miles of this location.",
            }
        ]
    return place


def schedules(practice: Practice, service_id: str, now: datetime) -> list[dict]:
    """Weekly hours, one schedule per distinct span. Times carry the practice's
    UTC offset in effect `now` (HSDS asks for one); the description names the
    time zone, which holds all year."""
    profile = practice.profile
    offset = week.utc_offset(profile, now)
    zone = profile.zone.key
    found = []
    for days, start, end in week.spans(practice.hours):
        names = ", ".join(DAY_NAMES[d] for d in days)
        found.append(
            {
                "id": record_id(Kind.SCHEDULE, profile.id, days[0]),
                "service_id": service_id,
                "freq": "WEEKLY",
                "wkst": "MO",
                "byday": ",".join(DAYS[d] for d in days),
                "opens_at": f"{start:%H:%M}{offset}",
                "closes_at": f"{end:%H:%M}{offset}",
                "description": f"{names}, {start:%H:%M} to {end:%H:%M} ({zone} time).",
                "attending_type": "In person, by booking" + (", or at home" if profile.mobile_radius_miles else ""),
            }
        )
    return found
