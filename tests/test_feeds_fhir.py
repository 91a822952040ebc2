"""/fhir: Plan-Net Practitioner, PractitionerRole and Location, read and searched.

Every answer is parsed by the `fhir.resources` R4B model of its type; on top,
`plan_net_problems` checks what those models do not: the profiles' required
bindings (against the value sets in tests/standards/fhir-plan-net), fixed
values, and that the must-support elements our data can fill are present.
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path

import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.endpoint import Endpoint
from fhir.resources.R4B.healthcareservice import HealthcareService
from fhir.resources.R4B.location import Location
from fhir.resources.R4B.operationoutcome import OperationOutcome
from fhir.resources.R4B.organization import Organization
from fhir.resources.R4B.practitioner import Practitioner
from fhir.resources.R4B.practitionerrole import PractitionerRole

from directory.extensions import db
from directory.feeds.fhir_search import PARAMETERS
from directory.vocabulary import STATES

from .feeds_data import directory

STANDARD = Path(__file__).parent / "standards" / "fhir-plan-net"
PLAN_NET = "http://hl7.org/fhir/us/davinci-pdex-plan-net"
NUCC = "http://nucc.org/provider-taxonomy"
MODELS = {
    "Practitioner": Practitioner,
    "PractitionerRole": PractitionerRole,
    "Location": Location,
    "Organization": Organization,
    "HealthcareService": HealthcareService,
    "Endpoint": Endpoint,
}


@cache
def fsh_codes(kind: str, name: str) -> frozenset[str]:
    """The codes a value set lists explicitly, or a code system defines, in the published FSH."""
    text = (STANDARD / ("ValueSets.fsh" if kind == "ValueSet" else "CodeSystems.fsh")).read_text()
    block = re.search(rf"^ *{kind}: +{name}\s*$(.*?)(?=^ *(?:ValueSet|CodeSystem):)", text + "\nValueSet:", re.M | re.S)
    assert block, f"{kind} {name} not in the published FSH"
    return frozenset(re.findall(r"^\* (?:\$\w+)?#(\S+)", block.group(1), re.M))


def codes(concept: dict, system: str) -> set[str]:
    return {c["code"] for c in concept.get("coding", []) if c.get("system") == system}


def extension(resource: dict, url: str) -> list[dict]:
    return [e for e in resource.get("extension", []) if e["url"] == url]


def plan_net_problems(resource: dict) -> list[str]:
    problems = []
    kind = resource["resourceType"]
    if f"{PLAN_NET}/StructureDefinition/plannet-{kind}" not in resource["meta"]["profile"]:
        problems.append("meta.profile does not claim the Plan-Net profile")
    if kind in ("Practitioner", "PractitionerRole") and resource.get("active") is not True:
        problems.append("active must be true")
    if kind in ("PractitionerRole", "Location"):
        [new_patients] = extension(resource, f"{PLAN_NET}/StructureDefinition/newpatients") or [None]
        accepting = [
            code
            for part in (new_patients or {}).get("extension", [])
            if part["url"] == "acceptingPatients"
            for code in codes(part["valueCodeableConcept"], f"{PLAN_NET}/CodeSystem/AcceptingPatientsCS")
        ]
        if len(accepting) != 1 or not set(accepting) <= fsh_codes("CodeSystem", "AcceptingPatientsCS"):
            problems.append(f"newpatients.acceptingPatients must be one code of AcceptingPatientsVS: {accepting}")
    if kind == "Practitioner":
        for field in ("identifier", "name", "qualification", "communication"):
            if not resource.get(field):
                problems.append(f"must-support {field} missing")
        if not {"text", "family"} <= set(resource["name"][0]):
            problems.append("name.text and name.family are must-support")
        for q in resource.get("qualification", []):
            if not q.get("code", {}).get("coding") and not q.get("code", {}).get("text"):
                problems.append("qualification.code is 1..1")
            [status] = extension(q, f"{PLAN_NET}/StructureDefinition/practitioner-qualification") or [{}]
            parts = {p["url"]: p for p in status.get("extension", [])}
            if parts.get("status", {}).get("valueCode") != "active":
                problems.append("qualification status must be active (fixed, QualificationStatusVS)")
            if "status" in parts and parts["status"]["valueCode"] not in fsh_codes(
                "CodeSystem", "QualificationStatusCS"
            ):
                problems.append("qualification status outside QualificationStatusVS")
            where = parts.get("whereValid", {}).get("valueCodeableConcept")
            if where is not None and not codes(where, "https://www.usps.com/") <= set(STATES):
                problems.append("whereValid must be a USPS state code")
    if kind == "PractitionerRole":
        for field in ("practitioner", "code", "specialty", "location", "telecom"):
            if not resource.get(field):
                problems.append(f"must-support {field} missing")
        for concept in resource.get("specialty", []):
            if not codes(concept, NUCC) or not codes(concept, NUCC) <= fsh_codes(
                "ValueSet", "IndividualAndGroupSpecialtiesVS"
            ):
                problems.append(f"specialty outside IndividualAndGroupSpecialtiesVS (required): {concept}")
        for concept in resource.get("code", []):
            if not codes(concept, f"{PLAN_NET}/CodeSystem/ProviderRoleCS") <= fsh_codes("CodeSystem", "ProviderRoleCS"):
                problems.append(f"code outside PractitionerRoleVS: {concept}")
        for contact in resource.get("telecom", []):
            if not (contact.get("system") and contact.get("value")):
                problems.append("telecom.system and telecom.value are 1..1")
        for slot in resource.get("availableTime", []):
            if not (slot.get("daysOfWeek") and slot.get("availableStartTime") and slot.get("availableEndTime")):
                problems.append("availableTime without its must-support days and times")
    if kind == "Organization":
        if resource.get("active") is not True:
            problems.append("active must be true")
        for field in ("name", "address", "type", "identifier"):
            if not resource.get(field):
                problems.append(f"must-support {field} missing")
        allowed = fsh_codes("CodeSystem", "OrgTypeCS") - {"ntwk"}
        for concept in resource.get("type", []):
            if not codes(concept, f"{PLAN_NET}/CodeSystem/OrgTypeCS") <= allowed:
                problems.append(f"type outside OrgTypeVS: {concept}")
    if kind == "HealthcareService":
        if resource.get("active") is not True:
            problems.append("active must be true")
        for field in ("category", "providedBy", "location", "name", "specialty"):
            if not resource.get(field):
                problems.append(f"must-support {field} missing")
        allowed = fsh_codes("CodeSystem", "HealthcareServiceCategoryCS") - {"other"}
        for concept in resource.get("category", []):
            found = codes(concept, f"{PLAN_NET}/CodeSystem/HealthcareServiceCategoryCS")
            if not found or not found <= allowed:
                problems.append(f"category outside HealthcareServiceCategoryVS: {concept}")
    if kind == "Endpoint":
        if resource.get("status") != "active":
            problems.append("status is fixed to active")
        [payload] = resource.get("payloadType") or [{}]
        if codes(payload, f"{PLAN_NET}/CodeSystem/EndpointPayloadTypeCS") != {"NA"}:
            problems.append("payloadType is 1..1 from EndpointPayloadTypeVS (NA)")
        connection = resource.get("connectionType", {})
        if connection.get("code") not in fsh_codes("CodeSystem", "EndpointConnectionTypeCS") | {"hl7-fhir-rest"}:
            problems.append("connectionType outside EndpointConnectionTypeVS")
        if not resource.get("address") or not resource.get("managingOrganization"):
            problems.append("must-support address / managingOrganization missing")
    if kind == "Location":
        if resource.get("status") != "active":
            problems.append("status is fixed to active")
        if "mode" in resource:
            problems.append("mode is 0..0")
        for field in ("name", "address", "position"):
            if not resource.get(field):
                problems.append(f"must-support {field} missing")
    return problems


def fhir_get(client, url: str, status: int = 200) -> dict:
    response = client.get(url)
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/fhir+json"
    return response.get_json()


def checked(resource: dict) -> dict:
    kind = resource["resourceType"]
    MODELS[kind].model_validate(resource)
    problems = plan_net_problems(resource)
    assert not problems, f"{kind}/{resource['id']}: {problems}"
    return resource


def search(client, url: str) -> dict:
    bundle = fhir_get(client, url)
    Bundle.model_validate(bundle)
    assert bundle["type"] == "searchset"
    for entry in bundle.get("entry", []):
        checked(entry["resource"])
        assert entry["fullUrl"].endswith(f"/fhir/{entry['resource']['resourceType']}/{entry['resource']['id']}")
    return bundle


def ids(bundle: dict) -> set[str]:
    return {entry["resource"]["id"] for entry in bundle.get("entry", [])}


def test_the_plan_net_check_can_fail():
    role = {"resourceType": "PractitionerRole", "meta": {"profile": []}, "active": True, "specialty": []}
    role["specialty"] = [{"coding": [{"system": NUCC, "code": "999999999X"}]}]
    problems = plan_net_problems(role)
    assert any("IndividualAndGroupSpecialtiesVS" in p for p in problems)
    assert any("meta.profile" in p for p in problems)
    assert "225700000X" in fsh_codes("ValueSet", "IndividualAndGroupSpecialtiesVS")


def test_each_search_parameter_is_one_plan_net_requires():
    statement = json.loads((STANDARD / "capabilitystatement-plan-net.json").read_text())
    required = {
        r["type"]: {
            p["name"]
            for p in r.get("searchParam", [])
            if any(e.get("valueCode") == "SHALL" for e in p.get("extension", []))
        }
        for r in statement["rest"][0]["resource"]
    }
    for kind, params in PARAMETERS.items():
        assert set(params) <= required[kind], kind


def test_read_each_resource_of_a_listed_therapist(client, factory):
    ana = directory(factory)["full"]
    practitioner = checked(fhir_get(client, f"/fhir/Practitioner/{ana.id}"))
    assert practitioner["name"][0] == {"text": "Ana Maria Lopez", "family": "Lopez", "given": ["Ana", "Maria"]}
    license_, cert = practitioner["qualification"]
    assert license_["code"]["coding"][0]["code"] == "225700000X"
    assert license_["identifier"][0]["value"] == ana.licenses[0].number
    assert license_["issuer"]["display"] == "State of Illinois"
    assert cert["code"]["coding"][0]["code"] == "prenatal"
    assert [c["coding"][0]["code"] for c in practitioner["communication"]] == ["en", "es"]

    role = checked(fhir_get(client, f"/fhir/PractitionerRole/{ana.id}"))
    assert role["practitioner"]["reference"] == f"Practitioner/{ana.id}"
    assert role["location"][0]["reference"] == f"Location/{ana.id}"
    assert role["specialty"][0]["coding"][0]["code"] == "225700000X"
    assert role["extension"][0]["extension"][0]["valueCodeableConcept"]["coding"][0]["code"] == "newpt"
    assert role["availableTime"] == [
        {"daysOfWeek": ["mon", "tue"], "availableStartTime": "09:00:00", "availableEndTime": "17:00:00"},
        {"daysOfWeek": ["thu"], "availableStartTime": "12:00:00", "availableEndTime": "20:00:00"},
        {"daysOfWeek": ["sat"], "availableStartTime": "10:00:00", "availableEndTime": "14:00:00"},
    ]

    place = checked(fhir_get(client, f"/fhir/Location/{ana.id}"))
    assert place["address"]["line"] == ["233 S Wacker Dr"]
    assert (place["address"]["city"], place["address"]["state"], place["address"]["postalCode"]) == (
        "Chicago",
        "IL",
        "60601",
    )
    assert place["position"] == {"latitude": 41.8858, "longitude": -87.6181}
    assert place["hoursOfOperation"][0]["daysOfWeek"] == ["mon", "tue"]
    assert {"url": "http://hl7.org/fhir/StructureDefinition/timezone", "valueCode": "America/Chicago"} in place[
        "extension"
    ]


def test_not_accepting_new_clients_says_existing_patients_only(client, factory):
    ben = directory(factory)["plain"]
    role = checked(fhir_get(client, f"/fhir/PractitionerRole/{ben.id}"))
    assert role["extension"][0]["extension"][0]["valueCodeableConcept"]["coding"][0]["code"] == "existptonly"
    assert "availableTime" not in role  # no weekly hours set


@pytest.mark.parametrize("kind", ["Practitioner", "PractitionerRole", "Location"])
def test_unlisted_and_unknown_ids_are_404_operation_outcomes(client, factory, kind):
    people = directory(factory)
    for ident in (people["pending"].id, people["suspended"].id, 999999, "abc"):
        outcome = fhir_get(client, f"/fhir/{kind}/{ident}", 404)
        OperationOutcome.model_validate(outcome)
        assert outcome["issue"][0]["code"] == "not-found"


def test_unknown_resource_type_is_404(client):
    assert fhir_get(client, "/fhir/Patient", 404)["resourceType"] == "OperationOutcome"


@pytest.mark.parametrize(
    "url",
    [
        "/fhir/Practitioner?family:phonetic=lopes",
        "/fhir/PractitionerRole?_include=PractitionerRole:network",
        "/fhir/Practitioner?_include=PractitionerRole:practitioner",
        "/fhir/Location?partof:Organization=1",
        "/fhir/Practitioner?name:phonetic=lopes",
        "/fhir/Location?address:exact=Chicago",
        "/fhir/PractitionerRole?_count=0",
        "/fhir/PractitionerRole?_count=101",
        "/fhir/PractitionerRole?_offset=-1",
        "/fhir/Location?_lastUpdated=yesterday",
        "/fhir/Location?_lastUpdated=2024-01-01T10:00:00",
        "/fhir/Location?_format=xml",
    ],
)
def test_unsupported_search_is_a_400_operation_outcome(client, url):
    outcome = fhir_get(client, url, 400)
    OperationOutcome.model_validate(outcome)
    assert outcome["issue"][0]["severity"] == "error" and outcome["issue"][0]["diagnostics"]


def test_search_lists_only_listable_therapists(client, factory):
    people = directory(factory)
    listed = {str(people["full"].id), str(people["plain"].id)}
    for kind in ("Practitioner", "PractitionerRole", "Location"):
        bundle = search(client, f"/fhir/{kind}")
        assert ids(bundle) == listed and bundle["total"] == 2


@pytest.mark.parametrize(
    "query, expected",
    [
        ("Practitioner?name=lop", {"full"}),
        ("Practitioner?name=maria", {"full"}),
        ("Practitioner?name=aria", set()),
        ("Practitioner?name:contains=aria", {"full"}),
        ("Practitioner?name:exact=Ben Okafor", {"plain"}),
        ("Practitioner?name=ben,ana", {"full", "plain"}),
        ("Practitioner?_id={full}", {"full"}),
        ("Practitioner?_id={full},{plain}", {"full", "plain"}),
        ("Practitioner?_id={pending}", set()),
        ("Practitioner?_lastUpdated=ge2000-01-01", {"full", "plain"}),
        ("Practitioner?_lastUpdated=lt2000-01-01T00:00:00Z", set()),
        ("PractitionerRole?specialty=225700000X", {"full", "plain"}),
        ("PractitionerRole?specialty=http://nucc.org/provider-taxonomy|225700000X", {"full", "plain"}),
        ("PractitionerRole?specialty=207R00000X", set()),
        ("PractitionerRole?practitioner=Practitioner/{plain}", {"plain"}),
        ("PractitionerRole?location={full}", {"full"}),
        ("PractitionerRole?location=Practitioner/{full}", set()),
        ("Location?address-city=evan", {"plain"}),
        ("Location?address-state=IL", {"full", "plain"}),
        ("Location?address-state=NY", set()),
        ("Location?address-postalcode=606", {"full"}),
        ("Location?address-city=chicago&address-postalcode=60201", set()),  # AND
    ],
)
def test_search_parameters(client, factory, query, expected):
    people = directory(factory)
    url = "/fhir/" + query.format(**{who: p.id for who, p in people.items()})
    assert ids(search(client, url)) == {str(people[who].id) for who in expected}


def test_search_pages_with_next_and_previous_links(client, factory):
    directory(factory)
    first = search(client, "/fhir/Location?address-state=IL&_count=1")
    links = {link["relation"]: link["url"] for link in first["link"]}
    assert first["total"] == 2 and len(first["entry"]) == 1 and "previous" not in links
    assert "address-state=IL" in links["next"] and "_offset=1" in links["next"]
    second = search(client, links["next"][links["next"].index("/fhir/") :])
    assert ids(second).isdisjoint(ids(first)) and len(second["entry"]) == 1
    assert "next" not in {link["relation"] for link in second["link"]}


@pytest.mark.parametrize(
    "url",
    [
        "/fhir/Practitioner/%C2%B2",
        "/fhir/Practitioner?_id=%C2%B2",
        "/fhir/Practitioner?_count=%C2%B2",
        "/fhir/Practitioner?_lastUpdated=9999-12-31",
        "/fhir/Practitioner?_lastUpdated=0001-01-01T00:00:00%2B05:00",
        "/hsds/services?modified_after=9999-12-31",
        "/hsds/services?modified_after=0001-01-01T00:00:00%2B05:00",
    ],
)
def test_odd_numbers_and_dates_at_the_edge_of_time_are_refused_not_crashed(client, url):
    response = client.get(url)
    assert response.status_code in (200, 400, 404), (url, response.status_code)


def test_the_new_plan_net_checks_can_fail():
    assert {"prov", "other"} <= fsh_codes("CodeSystem", "HealthcareServiceCategoryCS")
    bad = {
        "resourceType": "Organization",
        "meta": {"profile": [f"{PLAN_NET}/StructureDefinition/plannet-Organization"]},
        "active": True,
        "type": [{"coding": [{"system": f"{PLAN_NET}/CodeSystem/OrgTypeCS", "code": "ntwk"}]}],
    }
    assert any("OrgTypeVS" in p for p in plan_net_problems(bad))
    endpoint = {"resourceType": "Endpoint", "meta": {"profile": [f"{PLAN_NET}/StructureDefinition/plannet-Endpoint"]}}
    assert any("payloadType" in p for p in plan_net_problems(endpoint))


def test_the_practice_as_organization_service_and_endpoint(client, factory):
    ana = directory(factory)["full"]
    organization = checked(fhir_get(client, f"/fhir/Organization/{ana.id}"))
    assert organization["address"][0]["line"] == ["233 S Wacker Dr"]
    assert organization["endpoint"] == [{"reference": f"Endpoint/{ana.id}"}]
    service = checked(fhir_get(client, f"/fhir/HealthcareService/{ana.id}"))
    assert service["providedBy"]["reference"] == f"Organization/{ana.id}"
    assert service["location"][0]["reference"] == f"Location/{ana.id}"
    assert service["availableTime"][0]["daysOfWeek"] == ["mon", "tue"]
    endpoint = checked(fhir_get(client, f"/fhir/Endpoint/{ana.id}"))
    assert endpoint["address"].endswith(f"/therapists/{ana.id}")
    assert client.get(endpoint["address"][endpoint["address"].index("/therapists/") :]).status_code == 200
    role = checked(fhir_get(client, f"/fhir/PractitionerRole/{ana.id}"))
    assert role["organization"]["reference"] == f"Organization/{ana.id}"
    assert role["healthcareService"][0]["reference"] == f"HealthcareService/{ana.id}"
    place = checked(fhir_get(client, f"/fhir/Location/{ana.id}"))
    assert place["managingOrganization"]["reference"] == f"Organization/{ana.id}"
    # every reference resolves
    for resource in (organization, service, endpoint, role, place):
        for reference in re.findall(r'"reference": "([A-Za-z]+/\d+)"', json.dumps(resource)):
            assert client.get(f"/fhir/{reference}").status_code == 200, reference


@pytest.mark.parametrize(
    "query, expected",
    [
        ("Practitioner?family=lop", {"full"}),
        ("Practitioner?family=maria", set()),
        ("Practitioner?family:exact=Okafor", {"plain"}),
        ("Practitioner?family:exact=Okaf", set()),
        ("Practitioner?given=maria", {"full"}),
        ("Practitioner?given=ana,ben", {"full", "plain"}),
        ("Practitioner?given=lopez", set()),
        ("PractitionerRole?role=ma", {"full", "plain"}),
        (
            "PractitionerRole?role=http://hl7.org/fhir/us/davinci-pdex-plan-net/CodeSystem/ProviderRoleCS|ma",
            {"full", "plain"},
        ),
        ("PractitionerRole?role=ph", set()),
        ("PractitionerRole?organization=Organization/{plain}", {"plain"}),
        ("PractitionerRole?service=HealthcareService/{full}", {"full"}),
        ("PractitionerRole?endpoint={plain}", {"plain"}),
        ("PractitionerRole?endpoint=Location/{plain}", set()),
        ("Location?address=wacker", {"full"}),
        ("Location?address=evanston", {"plain"}),
        ("Location?address=60201", {"plain"}),
        ("Location?address=nowhere", set()),
        ("Location?type=OF", {"full", "plain"}),
        ("Location?type=HOSP", set()),
        ("Location?organization={full}", {"full"}),
        ("Location?partof={full}", set()),
        ("Organization?name=ben", {"plain"}),
        ("Organization?address=chicago", {"full"}),
        ("Organization?type=prvgrp", {"full", "plain"}),
        ("HealthcareService?location={plain}", {"plain"}),
        ("HealthcareService?service-category=prov", {"full", "plain"}),
        ("HealthcareService?name=massage", {"full", "plain"}),
        ("Endpoint?organization=Organization/{full}", {"full"}),
    ],
)
def test_plan_net_search_parameters(client, factory, query, expected):
    people = directory(factory)
    url = "/fhir/" + query.format(**{who: p.id for who, p in people.items()})
    assert ids(search(client, url)) == {str(people[who].id) for who in expected}


def _kinds(bundle: dict, mode: str) -> list[tuple[str, str]]:
    return sorted(
        (e["resource"]["resourceType"], e["resource"]["id"]) for e in bundle["entry"] if e["search"]["mode"] == mode
    )


def test_practitioner_role_includes_its_six_neighbours_but_networks(client, factory):
    people = directory(factory)
    ana = str(people["full"].id)
    names = ["practitioner", "organization", "location", "service", "endpoint"]
    url = f"/fhir/PractitionerRole?_id={ana}&" + "&".join(f"_include=PractitionerRole:{n}" for n in names)
    bundle = search(client, url)
    assert _kinds(bundle, "match") == [("PractitionerRole", ana)]
    assert _kinds(bundle, "include") == sorted(
        (kind, ana) for kind in ("Practitioner", "Organization", "Location", "HealthcareService", "Endpoint")
    )
    assert bundle["total"] == 1  # includes are not counted
    refused = fhir_get(client, "/fhir/PractitionerRole?_include=PractitionerRole:network", 400)
    assert "no insurance networks" in refused["issue"][0]["diagnostics"]


def test_revinclude_of_practitioner_role_on_practitioner_and_location(client, factory):
    people = directory(factory)
    for kind, name in (("Practitioner", "practitioner"), ("Location", "location")):
        bundle = search(client, f"/fhir/{kind}?_revinclude=PractitionerRole:{name}&_count=1")
        [(_, matched)] = _kinds(bundle, "match")
        assert _kinds(bundle, "include") == [("PractitionerRole", matched)]
        next_link = {link["relation"]: link["url"] for link in bundle["link"]}["next"]
        assert "_revinclude=PractitionerRole" in next_link  # paging keeps the includes
    assert {str(p.id) for p in (people["full"], people["plain"])} >= {matched}


def test_a_home_practice_is_not_found_by_its_street(client, factory):
    from directory.models import BookingSettings

    people = directory(factory)
    ana = people["full"]
    assert ids(search(client, "/fhir/Location?address=wacker")) == {str(ana.id)}
    db.session.add(
        BookingSettings(
            therapist_id=ana.id, notice_hours=0, buffer_minutes=0, address_after_confirmation=True, phone=""
        )
    )
    db.session.commit()
    for kind in ("Location", "Organization"):
        assert ids(search(client, f"/fhir/{kind}?address=wacker")) == set()
        assert ids(search(client, f"/fhir/{kind}?address=chicago")) == {str(ana.id)}
    organization = checked(fhir_get(client, f"/fhir/Organization/{ana.id}"))
    assert "line" not in organization["address"][0]


def test_the_certification_code_system_is_one_canonical_url_whatever_the_deployment(app, client, factory, monkeypatch):
    ana = directory(factory)["full"]
    systems = []
    for base in ("http://localhost", "https://massage.example.org/directory"):
        monkeypatch.setitem(app.config, "PUBLIC_URL", base)
        cert = fhir_get(client, f"/fhir/Practitioner/{ana.id}")["qualification"][1]
        systems.append(cert["code"]["coding"][0]["system"])
    assert systems[0] == systems[1] == "https://truetouch.example/fhir/CodeSystem/certifications"
