"""/hsds: every answer validates against the official HSDS 3.0 compiled schemas
(tests/standards/hsds-3.0, CC BY-SA 4.0), and holds what the directory holds."""

from __future__ import annotations

import json
from datetime import datetime
from functools import cache
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from directory.feeds.hsds import technique_term_id
from directory.feeds.ids import Kind, number_of, record_id

from .feeds_data import directory

STANDARD = Path(__file__).parent / "standards" / "hsds-3.0"


@cache
def validator(name: str) -> Draft202012Validator:
    if name == "Page":
        schema = json.loads((STANDARD / "openapi.json").read_text())["components"]["schemas"]["Page"]
    else:
        schema = json.loads((STANDARD / f"{name}.json").read_text())
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


def valid(name: str, document: dict) -> dict:
    errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator(name).iter_errors(document)]
    assert not errors, f"not a valid HSDS {name}: {errors[:5]}"
    if "last_modified" in document:  # format "date-time": jsonschema checks it only with an extra package
        assert datetime.fromisoformat(document["last_modified"]).tzinfo is not None
    return document


def services(client, query: str = "", full: bool = False) -> dict:
    response = client.get(f"/hsds/services{query}")
    assert response.status_code == 200, response.get_data(as_text=True)
    page = valid("Page", response.get_json())
    for item in page["contents"]:
        valid("service" if full else "service_list", item)
    return page


def test_the_schema_check_can_fail():
    assert list(validator("service").iter_errors({"id": "not-a-uuid", "name": "x", "status": "open"}))


def test_root_names_version_profile_and_openapi(client):
    body = client.get("/hsds/").get_json()
    assert body["version"] == "3.0"
    assert body["profile"].startswith("https://") and body["openapi_url"].endswith("openapi.json")


def test_ids_are_stable_uuids_that_lead_back():
    service = record_id(Kind.SERVICE, 42)
    assert service == record_id(Kind.SERVICE, 42) and service[14] == "8"
    assert number_of(service, Kind.SERVICE) == 42
    assert number_of(service, Kind.ORGANIZATION) is None
    assert number_of(record_id(Kind.SCHEDULE, 42, 3), Kind.SCHEDULE) is None  # an index is not a record
    assert number_of("ac148810-d857-441c-9679-408f346de14b", Kind.SERVICE) is None


def test_full_service_holds_the_directory_and_validates(client, factory):
    people = directory(factory)
    ana = people["full"]
    response = client.get(f"/hsds/services/{record_id(Kind.SERVICE, ana.id)}")
    assert response.status_code == 200
    service = valid("service", response.get_json())
    assert service["organization"]["name"] == "Ana Maria Lopez"
    assert service["organization_id"] == service["organization"]["id"]
    place = service["service_at_locations"][0]["location"]
    assert place["addresses"][0] | {"id": None, "location_id": None} == {
        "id": None,
        "location_id": None,
        "address_1": "233 S Wacker Dr",
        "city": "Chicago",
        "state_province": "IL",
        "postal_code": "60601",
        "country": "US",
        "address_type": "physical",
    }
    assert "12.5 miles" in place["accessibility"][0]["details"]
    assert [(c["option"], c["amount"], c["currency"]) for c in service["cost_options"]] == [
        ("30-minute session", 55.0, "USD"),
        ("60-minute session", 95.0, "USD"),
        ("90-minute session", 130.0, "USD"),
    ]
    assert [(lang["code"], lang["name"]) for lang in service["languages"]] == [("en", "English"), ("es", "Spanish")]
    assert {a["taxonomy_term"]["code"] for a in service["attributes"]} == {"swedish", "prenatal"}
    assert "Certified prenatal massage therapist (verified)" in service["accreditations"]
    assert "HSA" in service["fees_description"]
    # Weekly hours in the therapist's zone: Monday and Tuesday share a span.
    spans = {(s["byday"], s["opens_at"][:5], s["closes_at"][:5]) for s in service["schedules"]}
    assert spans == {("MO,TU", "09:00", "17:00"), ("TH", "12:00", "20:00"), ("SA", "10:00", "14:00")}
    assert all(s["opens_at"][5:] in ("-05:00", "-06:00") for s in service["schedules"])  # Chicago, CST or CDT
    assert "America/Chicago" in service["schedules"][0]["description"]


def test_unlisted_and_unknown_services_are_404(client, factory):
    people = directory(factory)
    for who in ("pending", "suspended"):
        response = client.get(f"/hsds/services/{record_id(Kind.SERVICE, people[who].id)}")
        assert response.status_code == 404
    assert client.get(f"/hsds/services/{record_id(Kind.ORGANIZATION, people['full'].id)}").status_code == 404
    assert client.get("/hsds/services/12").status_code == 404


def test_list_is_paged_and_lists_only_listable(client, factory):
    people = directory(factory)
    first = services(client, "?per_page=1")
    assert (first["total_items"], first["total_pages"], first["size"]) == (2, 2, 1)
    assert first["first_page"] and not first["last_page"] and not first["empty"]
    second = services(client, "?per_page=1&page=2")
    assert second["last_page"] and not second["first_page"]
    names = {first["contents"][0]["organization"]["name"], second["contents"][0]["organization"]["name"]}
    assert names == {people["full"].name, people["plain"].name}
    beyond = services(client, "?per_page=1&page=3")
    assert beyond["contents"] == [] and beyond["size"] == 0
    full = services(client, "?full=true", full=True)
    assert all("schedules" in s for s in full["contents"])


@pytest.mark.parametrize(
    "query, expected",
    [
        ("?search=wacker", set()),  # the street is not searched; name, bio and city are
        ("?search=ATTENTIVE", {"full"}),
        ("?search=evanston", {"plain"}),
        ("?postcode=60201", {"plain"}),
        ("?postcode=60601&proximity=2000", {"full"}),
        ("?postcode=60601&proximity=30000", {"full", "plain"}),
        ("?modified_after=2000-01-01", {"full", "plain"}),
        ("?modified_after=2999-01-01T00:00:00Z", set()),
        ("?taxonomy_id=" + record_id(Kind.TAXONOMY, 0), {"full", "plain"}),
        ("?taxonomy_id=ac148810-d857-441c-9679-408f346de14b", set()),
        ("?search=a&postcode=60201", {"plain"}),  # filters combine with AND
    ],
)
def test_filters(client, factory, query, expected):
    people = directory(factory)
    page = services(client, query)
    names = {item["organization"]["name"] for item in page["contents"]}
    assert names == {people[who].name for who in expected}
    assert page["empty"] == (not expected)


def test_filters_by_organization_and_technique(client, factory):
    people = directory(factory)
    org = record_id(Kind.ORGANIZATION, people["plain"].id)
    assert [s["organization_id"] for s in services(client, f"?organization_id={org}")["contents"]] == [org]
    sports = services(client, f"?taxonomy_term_id={technique_term_id('sports')}")["contents"]
    assert [s["organization"]["name"] for s in sports] == ["Ben Okafor"]


@pytest.mark.parametrize(
    "query, field",
    [
        ("?colour=blue", "colour"),
        ("?page=0", "page"),
        ("?per_page=101", "per_page"),
        ("?page=two", "page"),
        ("?organization_id=12", "organization_id"),
        ("?modified_after=2024-01-01T10:00:00", "modified_after"),
        ("?postcode=00000", "postcode"),
        ("?proximity=1000", "proximity"),
        ("?postcode=60601&proximity=-5", "proximity"),
        ("?format=ndjson", "format"),
        ("?minimal=true", "minimal"),
        ("?full=yes", "full"),
        ("?page=1&page=2", "page"),
    ],
)
def test_bad_parameters_are_400_naming_the_field(client, query, field):
    response = client.get(f"/hsds/services{query}")
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["field"] == field and field in error["message"]


def test_the_feeds_are_fair_public_apis(app, client):
    """The same fair-use rules as /api/v1: limits, CORS for reading, conditional answers."""
    for url in ("/hsds/", "/fhir/Practitioner"):
        first = client.get(url, headers={"Origin": "https://referrals.example"})
        assert first.status_code == 200, url
        assert first.headers["Access-Control-Allow-Origin"] == "*"
        assert "X-RateLimit-Limit" in first.headers and first.headers.get("ETag")
        again = client.get(url, headers={"If-None-Match": first.headers["ETag"]})
        assert again.status_code == 304 and again.get_data() == b""


# The optional endpoints (issue 25, item 3): each answer validates against its HSDS 3.0 schema.


@cache
def nested_validator(*path: str) -> Draft202012Validator:
    """A schema nested in service.json (taxonomy_term, its taxonomy_detail): the compiled
    schemas of HSDS 3.0 carry them inline."""
    schema = json.loads((STANDARD / "service.json").read_text())
    for key in path:
        schema = schema[key]
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


TERM = ("properties", "attributes", "items", "properties", "taxonomy_term")
TAXONOMY = (*TERM, "properties", "taxonomy_detail")


def nested_valid(path: tuple[str, ...], document: dict) -> dict:
    errors = [e.message for e in nested_validator(*path).iter_errors(document)]
    assert not errors, errors[:5]
    return document


def page_of(client, url: str) -> dict:
    response = client.get(url)
    assert response.status_code == 200, response.get_data(as_text=True)
    return valid("Page", response.get_json())


def test_taxonomies_and_terms_and_each_term_id_resolves(client, factory):
    assert list(nested_validator(*TERM).iter_errors({"id": "x"}))  # the check can fail
    people = directory(factory)
    [taxonomy] = page_of(client, "/hsds/taxonomies")["contents"]
    nested_valid(TAXONOMY, taxonomy)
    assert client.get(f"/hsds/taxonomies/{taxonomy['id']}").get_json() == taxonomy
    assert page_of(client, "/hsds/taxonomies?search=nothing-like-it")["contents"] == []
    terms = page_of(client, "/hsds/taxonomy_terms?per_page=100")
    assert terms["total_items"] == len(terms["contents"]) > 3
    for term in terms["contents"]:
        nested_valid(TERM, term)
        assert term["taxonomy_id"] == taxonomy["id"]
        assert client.get(f"/hsds/taxonomy_terms/{term['id']}").get_json() == term
    # every term id any answer carries resolves
    service = client.get(f"/hsds/services/{record_id(Kind.SERVICE, people['full'].id)}").get_json()
    for attribute in service["attributes"]:
        found = client.get(f"/hsds/taxonomy_terms/{attribute['taxonomy_term_id']}")
        assert found.status_code == 200 and found.get_json() == attribute["taxonomy_term"]
    swedish = page_of(client, "/hsds/taxonomy_terms?search=swedish")["contents"]
    assert [t["code"] for t in swedish] == ["swedish"]
    assert page_of(client, f"/hsds/taxonomy_terms?taxonomy_id={record_id(Kind.TAXONOMY, 1)}")["empty"]
    assert page_of(client, f"/hsds/taxonomy_terms?parent_id={swedish[0]['id']}")["empty"]
    paged = page_of(client, "/hsds/taxonomy_terms?per_page=2&page=2")
    assert paged["size"] == 2 and paged["page_number"] == 2 and not paged["first_page"]
    for url in ("/hsds/taxonomy_terms/" + record_id(Kind.TAXONOMY_TERM, 5), "/hsds/taxonomies/abc"):
        assert client.get(url).status_code == 404


def test_organizations_list_and_full(client, factory):
    people = directory(factory)
    page = page_of(client, "/hsds/organizations")
    assert page["total_items"] == 2
    for item in page["contents"]:
        valid("organization_list", item)
    full = page_of(client, "/hsds/organizations?full=true&search=ana")
    [ana] = full["contents"]
    valid("organization", ana)
    assert ana["id"] == record_id(Kind.ORGANIZATION, people["full"].id)
    assert ana["locations"][0]["addresses"][0]["address_1"] == "233 S Wacker Dr"
    assert ana["services"][0]["id"] == record_id(Kind.SERVICE, people["full"].id)
    assert valid("organization", client.get(f"/hsds/organizations/{ana['id']}").get_json()) == ana
    assert client.get(f"/hsds/organizations/{record_id(Kind.ORGANIZATION, people['pending'].id)}").status_code == 404
    assert client.get("/hsds/organizations?proximity=5").status_code == 400


def test_service_at_locations_with_postcode_and_proximity(client, factory):
    people = directory(factory)
    page = page_of(client, "/hsds/service_at_locations")
    assert page["total_items"] == 2
    for item in page["contents"]:
        valid("service_at_location_list", item)
    near = page_of(client, "/hsds/service_at_locations?postcode=60601&proximity=5000&full=true")
    [ana] = near["contents"]
    valid("service_at_location", ana)
    assert ana["id"] == record_id(Kind.SERVICE_AT_LOCATION, people["full"].id)
    assert ana["schedules"] and ana["attributes"]
    assert page_of(client, "/hsds/service_at_locations?postcode=60201")["contents"][0]["service"]["name"].endswith(
        "Ben Okafor"
    )
    read = client.get(f"/hsds/service_at_locations/{ana['id']}").get_json()
    assert valid("service_at_location", read) == ana
    assert client.get(f"/hsds/service_at_locations/{record_id(Kind.SERVICE, people['full'].id)}").status_code == 404
    assert client.get("/hsds/service_at_locations?minimal=true").status_code == 400


def test_the_page_error_says_the_number_plainly(client):
    message = client.get("/hsds/services?page=0").get_json()["error"]["message"]
    assert "1,000,000" in message and "e+" not in message


def test_openapi_url_is_a_document_of_exactly_what_is_served(client, factory, app):
    people = directory(factory)
    url = client.get("/hsds/").get_json()["openapi_url"]
    document = client.get(url[url.index("/hsds/") :]).get_json()
    assert document["openapi"].startswith("3.") and "REQUIRED" not in json.dumps(document["info"])
    ids = {
        "/services/{id}": record_id(Kind.SERVICE, people["full"].id),
        "/organizations/{id}": record_id(Kind.ORGANIZATION, people["full"].id),
        "/service_at_locations/{id}": record_id(Kind.SERVICE_AT_LOCATION, people["full"].id),
        "/taxonomies/{id}": record_id(Kind.TAXONOMY, 0),
        "/taxonomy_terms/{id}": record_id(Kind.TAXONOMY_TERM, 0, 0),
    }
    served = {rule.rule.removeprefix("/hsds") for rule in app.url_map.iter_rules() if rule.endpoint.startswith("hsds.")}
    documented = set(document["paths"])
    assert {p.replace("<service_id>", "{id}").replace("<record_id>", "{id}") for p in served} - {
        "/openapi.json"
    } == documented
    components = document["components"]["parameters"]
    for path, item in document["paths"].items():
        concrete = "/hsds" + (path.replace("{id}", ids[path]) if path in ids else path)
        assert client.get(concrete).status_code == 200, concrete
        for parameter in item["get"].get("parameters", []):
            name = components[parameter["$ref"].split("/")[-1]]["name"] if "$ref" in parameter else parameter["name"]
            answer = client.get(f"{concrete}?{name}=x")
            # a documented parameter is never "unknown" (a bad value may still be a 400 naming it)
            assert "Unknown parameter" not in answer.get_data(as_text=True), (path, name)
        if "{id}" not in path and path != "/":
            assert client.get(f"{concrete}?minimal=true").status_code == 400  # not served: not documented
    assert "minimal" not in components
