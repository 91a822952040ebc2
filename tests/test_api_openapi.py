"""The OpenAPI 3.1 document of /api/v1: valid, generated from the models the
requests are validated with, describing every answer; the reference page."""

import pytest
from openapi_spec_validator import validate
from openapi_spec_validator.versions.shortcuts import get_spec_version

from directory import ROOT
from directory import vocabulary as v
from directory.api import serializers
from directory.search.forms import PARAMETERS, SearchForm, SearchParameters


@pytest.fixture
def document(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    return response.get_json()


def operations(document):
    return {f"{method.upper()} {path}": op for path, ops in document["paths"].items() for method, op in ops.items()}


def test_the_served_document_is_valid_openapi_3_1(document):
    assert document["openapi"] == "3.1.0"
    assert str(get_spec_version(document)) == "OpenAPIV3.1"
    validate(document)  # raises on any violation of the OpenAPI 3.1 schema


def test_it_names_every_route_of_the_api(document, app):
    served = {str(rule) for rule in app.url_map.iter_rules() if str(rule).startswith("/api/v1/")}
    documented = {path.replace("{therapist_id}", "<int:therapist_id>") for path in document["paths"]}
    assert documented == served - {"/api/v1/openapi.json", "/api/v1/docs"}


def test_search_parameters_are_the_models_own(document):
    parameters = {p["name"]: p for p in operations(document)["GET /api/v1/search"]["parameters"] if p["in"] == "query"}
    assert tuple(parameters) == PARAMETERS == tuple(SearchParameters.model_fields)
    assert parameters["goals"]["schema"]["items"]["enum"] == list(v.GOALS)
    assert parameters["conditions"]["schema"]["items"]["enum"] == list(v.CONDITIONS)
    assert parameters["session_minutes"]["schema"]["enum"] == list(v.SESSION_LENGTHS)
    assert (parameters["radius"]["schema"]["minimum"], parameters["radius"]["schema"]["maximum"]) == (1, 100)
    assert (parameters["limit"]["schema"]["minimum"], parameters["limit"]["schema"]["maximum"]) == (1, 50)
    assert parameters["gender"]["schema"] == {"enum": list(v.GENDERS), "title": "Therapist gender", "type": "string"}
    assert all(p["allowEmptyValue"] and not p["required"] for p in parameters.values())


def test_every_answer_is_described_errors_included(document):
    ops = operations(document)
    assert set(ops) == {
        "GET /api/v1/search",
        "GET /api/v1/therapists/{therapist_id}",
        "GET /api/v1/vocabulary",
        "GET /api/v1/rules",
    }
    error = {"$ref": "#/components/schemas/ErrorAnswer"}
    for label, op in ops.items():
        responses = op["responses"]
        assert {"200", "304", "400", "429"} <= set(responses), label
        for status in ("400", "429"):
            assert responses[status]["content"]["application/json"]["schema"] == error, (label, status)
        assert "ETag" in responses["200"]["headers"] and "X-RateLimit-Remaining" in responses["200"]["headers"]
        assert "content" not in responses["304"]
    assert ops["GET /api/v1/therapists/{therapist_id}"]["responses"]["404"]["content"]["application/json"] == {
        "schema": error
    }
    schemas = document["components"]["schemas"]
    assert schemas["ErrorDetail"]["required"] == ["code", "message", "field"]
    assert schemas["SearchAnswer"]["additionalProperties"] is False


def test_an_answer_that_drifts_from_its_model_fails_in_the_suite(client, monkeypatch):
    """The test configuration checks every answer against its model (API_CHECK_ANSWERS)."""
    assert client.get("/api/v1/search?conditions=fever").status_code == 200
    monkeypatch.setattr(serializers, "search_json", lambda result: {"results": [], "surprise": True})
    monkeypatch.setattr("directory.api.views.search_json", serializers.search_json)
    assert client.get("/api/v1/search?conditions=fever").status_code == 500


@pytest.mark.parametrize(
    "query",
    [
        "location=60601&radius=0",
        "location=60601&goals=stress,flying",
        "location=60601&session_minutes=50",
        "location=60601&hsa_fsa=maybe",
        "conditions=pregnancy",
        "location=60601&conditions=pregnancy,pregnancy_first_trimester",
    ],
)
def test_the_page_and_the_api_apply_one_set_of_rules(client, query):
    error = client.get(f"/api/v1/search?{query}").get_json()["error"]
    page = client.get(f"/search?{query}")
    assert page.status_code == 400
    assert error["message"].replace("'", "&#39;") in page.get_data(as_text=True), error


def test_the_form_lays_out_the_models_fields(app):
    with app.test_request_context():
        form = SearchForm(formdata=None)
    assert [f.name for f in form] == list(PARAMETERS)
    assert [c.value for c in form.goals.choices] == list(v.GOALS)
    assert form.radius.label.text == SearchParameters.model_fields["radius"].title


def test_reference_page_is_vendored_and_served_here(client):
    page = client.get("/api/v1/docs")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "/api/v1/openapi.json" in html
    assert "http" not in html.replace('href="http', "")  # no script or style from another site
    for asset in ("swagger-ui/swagger-ui-bundle.js", "swagger-ui/swagger-ui.css", "api-docs.js"):
        assert f"/static/{asset}" in html
        assert client.get(f"/static/{asset}").status_code == 200
    licence = (ROOT / "directory" / "static" / "swagger-ui" / "LICENSE").read_text()
    assert "Apache License" in licence and "Version 2.0" in licence
