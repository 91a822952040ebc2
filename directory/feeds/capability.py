"""/fhir/metadata: the R4 CapabilityStatement of this server, built from what it serves.

It instantiates the Plan-Net server statement (copied unchanged into
feeds/standards/) and states exactly what is served: the resource types of
`fhir.BUILDERS`, their read and search-type interactions, the search parameters
of `fhir_search.PARAMETERS` (each with Plan-Net's definition and expectation)
and the includes of `fhir_search.INCLUDES`. Every Plan-Net SHALL this server
does not answer is named, with its reason, in the documentation of its
resource (and of the server, for resource types not served at all).
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

from fhir.resources.R4B.capabilitystatement import CapabilityStatement

from ..links import public_url
from . import fhir, fhir_search

PLAN_NET_STATEMENT = Path(__file__).parent / "standards" / "capabilitystatement-plan-net.json"
EXPECTATION = "http://hl7.org/fhir/StructureDefinition/capabilitystatement-expectation"
STATEMENT_DATE = "2026-12-08"  # change it with what the statement says
NO_NETWORKS = (
    "no insurance networks: the directory lists independent massage therapists, paid by their clients; "
    "it holds no plans, networks or affiliations"
)
WHY_NOT = {
    "network": NO_NETWORKS,
    "coverage-area": "no coverage areas: a practice is one place (a mobile therapist's radius is in its description)",
    "InsurancePlan": NO_NETWORKS,
    "OrganizationAffiliation": NO_NETWORKS,
    "partof": "no practice is part of another, so there is nothing to include",
    "vread": "no versions are kept: each resource is served as it is now (meta.lastUpdated), so no vread or _history",
}
NOT_YET = "not served by this version of the directory"


@cache
def plan_net() -> dict:
    return json.loads(PLAN_NET_STATEMENT.read_text(encoding="utf-8"))


def _shall(element: dict) -> bool:
    return any(e.get("url") == EXPECTATION and e.get("valueCode") == "SHALL" for e in element.get("extension", []))


def _why(name: str) -> str:
    for key, reason in WHY_NOT.items():
        if key in name:
            return reason
    return NOT_YET


def _resource(required: dict) -> dict:
    kind = required["type"]
    params = fhir_search.PARAMETERS[kind]
    includes = fhir_search.INCLUDES.get(kind, {})
    revincludes = fhir_search.REVINCLUDES.get(kind, {})
    published = {p["name"]: p for p in required.get("searchParam", [])}
    missing = [
        f"search parameter {p['name']} ({_why(p['name'])})"
        for p in required.get("searchParam", [])
        if _shall(p) and p["name"] not in params
    ]
    missing += [f"_include={name} ({_why(name)})" for name in required.get("searchInclude", []) if name not in includes]
    missing += [
        f"_revinclude={name} ({_why(name)})"
        for name in required.get("searchRevInclude", [])
        if name not in revincludes and name.split(":")[0] in fhir.BUILDERS
    ]
    missing += [
        f"{i['code']} ({_why(i['code'])})"
        for i in required.get("interaction", [])
        if i["code"] not in ("read", "search-type")
    ]
    served = "Read and search, JSON only; search pages with _count (1 to 100) and _offset."
    entry: dict = {
        "type": kind,
        "profile": fhir.profile_url(kind),
        "supportedProfile": [fhir.profile_url(kind)],
        "documentation": served + (" Not supported: " + "; ".join(missing) + "." if missing else ""),
        "interaction": [{"code": "read"}, {"code": "search-type"}],
        "versioning": "no-version",
        "readHistory": False,
        "conditionalRead": "not-supported",
        "referencePolicy": ["literal", "local", "resolves"],
        "searchParam": [
            {
                "name": name,
                "definition": published[name]["definition"],
                "type": published[name]["type"],
                "extension": [{"url": EXPECTATION, "valueCode": "SHALL" if _shall(published[name]) else "MAY"}],
            }
            for name in params
        ],
    }
    if includes:
        entry["searchInclude"] = list(includes)
    if revincludes:
        entry["searchRevInclude"] = list(revincludes)
    return entry


def capability_statement() -> dict:
    required = {r["type"]: r for r in plan_net()["rest"][0]["resource"]}
    absent = [kind for kind in required if kind not in fhir.BUILDERS]
    statement = {
        "resourceType": "CapabilityStatement",
        "url": public_url("fhir.metadata"),
        "name": "TherapistDirectoryPlanNet",
        "title": "Massage therapist directory: Plan-Net provider directory (read-only)",
        "status": "active",
        "date": STATEMENT_DATE,
        "publisher": "Massage therapist directory",
        "kind": "instance",
        "instantiates": [plan_net()["url"]],
        "implementation": {"description": "Listable massage therapists", "url": public_url("fhir.base")},
        "fhirVersion": "4.0.1",
        "format": ["json", "application/fhir+json"],
        "implementationGuide": plan_net()["implementationGuide"],
        "rest": [
            {
                "mode": "server",
                "documentation": (
                    "An open, read-only provider directory of listable massage therapists (no authentication). "
                    "Errors are OperationOutcomes. Resource types of Plan-Net not served: "
                    + "; ".join(f"{kind} ({_why(kind)})" for kind in absent)
                    + "."
                ),
                "resource": [_resource(required[kind]) for kind in fhir.BUILDERS],
            }
        ],
    }
    CapabilityStatement.model_validate(statement)
    return statement
