"""/fhir/metadata and errors under /fhir (issue 25, item 1), and a real FHIR client.

fhirclient (SMART on FHIR's Python client) discovers the server through its
CapabilityStatement, then searches and follows the paging links, against the
site served over HTTP.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pytest
from fhir.resources.R4B.capabilitystatement import CapabilityStatement
from fhir.resources.R4B.operationoutcome import OperationOutcome

from directory.feeds import fhir_search

from .feeds_data import directory
from .test_feeds_fhir import checked, fhir_get

PLAN_NET = json.loads(
    (Path(__file__).parent / "standards" / "fhir-plan-net" / "capabilitystatement-plan-net.json").read_text()
)
EXPECTATION = "http://hl7.org/fhir/StructureDefinition/capabilitystatement-expectation"


def _shall(element: dict) -> bool:
    return any(e.get("url") == EXPECTATION and e.get("valueCode") == "SHALL" for e in element.get("extension", []))


def test_metadata_is_an_r4_capability_statement_instantiating_plan_net(client):
    statement = fhir_get(client, "/fhir/metadata")
    CapabilityStatement.model_validate(statement)
    assert statement["instantiates"] == [PLAN_NET["url"]]
    assert statement["fhirVersion"] == "4.0.1" and statement["kind"] == "instance"
    assert "application/fhir+json" in statement["format"]
    [rest] = statement["rest"]
    served = {r["type"]: r for r in rest["resource"]}
    assert set(served) == set(fhir_search.PARAMETERS)
    published = {r["type"]: r for r in PLAN_NET["rest"][0]["resource"]}
    for kind, entry in served.items():
        assert [i["code"] for i in entry["interaction"]] == ["read", "search-type"]
        assert entry["versioning"] == "no-version" and "vread" in entry["documentation"]
        names = [p["name"] for p in entry["searchParam"]]
        assert names == list(fhir_search.PARAMETERS[kind])  # exactly what the search parser answers
        definitions = {p["name"]: p["definition"] for p in published[kind]["searchParam"]}
        assert all(p["definition"] == definitions[p["name"]] for p in entry["searchParam"])
        assert entry["supportedProfile"] == [
            f"{PLAN_NET['url'].split('/CapabilityStatement')[0]}/StructureDefinition/plannet-{kind}"
        ]
        # each Plan-Net SHALL parameter not served is named in the documentation
        for p in published[kind]["searchParam"]:
            if _shall(p) and p["name"] not in names:
                assert f"search parameter {p['name']} (" in entry["documentation"], (kind, p["name"])
    # the resource types of Plan-Net not served are named, networks with their reason
    assert "InsurancePlan (no insurance networks" in rest["documentation"]


@pytest.mark.parametrize(
    "method, url, status",
    [
        ("get", "/fhir/Patient", 404),
        ("get", "/fhir/Practitioner/999999", 404),
        ("get", "/fhir/Nothing/here/at/all", 404),
        ("get", "/fhir/Practitioner/1/_history", 404),
        ("get", "/fhir/Practitioner/1/_history/1", 404),
        ("delete", "/fhir/Practitioner", 405),
        ("post", "/fhir/Practitioner", 405),
        ("put", "/fhir/metadata", 405),
        ("get", "/fhir/Practitioner?family:phonetic=x", 400),
    ],
)
def test_every_error_under_fhir_is_an_operation_outcome(client, method, url, status):
    response = getattr(client, method)(url)
    assert response.status_code == status
    assert response.mimetype == "application/fhir+json"
    outcome = response.get_json()
    OperationOutcome.model_validate(outcome)
    assert outcome["resourceType"] == "OperationOutcome" and outcome["issue"][0]["diagnostics"]
    if status == 405:
        assert "GET" in response.headers["Allow"]
    if "_history" in url:
        assert outcome["issue"][0]["code"] == "not-supported"


def test_errors_elsewhere_keep_their_own_shape(client):
    assert client.get("/api/v1/nothing").get_json()["error"]["code"] == "not_found"
    assert client.get("/fhirish").status_code == 404 and "resourceType" not in client.get("/fhirish").get_data(
        as_text=True
    )


def test_fhirclient_discovers_the_server_and_pages_a_search(app, factory, live_server, monkeypatch):
    from fhirclient import client as fhir_client
    from fhirclient.models.location import Location
    from fhirclient.models.practitioner import Practitioner

    monkeypatch.setitem(app.config, "PUBLIC_URL", live_server)  # the links the bundles carry lead here
    people = directory(factory)
    smart = fhir_client.FHIRClient(settings={"app_id": "directory-tests", "api_base": f"{live_server}/fhir/"})
    smart.prepare()  # fetches and parses /fhir/metadata with the client's own R4 models
    capability = smart.server.capabilityStatement
    assert capability.instantiates == [PLAN_NET["url"]]
    assert {r.type for r in capability.rest[0].resource} == set(fhir_search.PARAMETERS)

    search = Location.where(struct={"address-state": "IL", "_count": "1"})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        pages = list(search.perform_iter(smart.server))  # follows the bundle's next links
    assert len(pages) == 2 and all(len(page.entry) == 1 for page in pages)
    found = {page.entry[0].resource.id for page in pages}
    assert found == {str(people["full"].id), str(people["plain"].id)}

    read = Practitioner.read(str(people["full"].id), smart.server)
    assert read.name[0].family == "Lopez"
    checked(read.as_json())
