"""GET /api/v1/search and /search: the shape, the rules end to end, and bad input."""

from datetime import timedelta

import pytest
from geopy.distance import geodesic

from directory.extensions import db
from directory.models import CredentialStatus

from .conftest import TODAY

# Dates here are relative to the day: the clock is frozen (conftest.FROZEN_AT).
pytestmark = pytest.mark.usefixtures("frozen")

LOOP = (41.8858, -87.6181)  # 60601
EVANSTON = (42.0546, -87.6943)  # 60201, ~12 miles north
OAK_PARK = (41.8872, -87.7899)  # ~8.9 miles west


@pytest.fixture
def therapists(factory):
    return {
        "swede": factory.therapist(
            name="Sam Swede",
            techniques=("swedish", "reflexology"),
            prices={30: 50, 60: 90},
            hsa_fsa=True,
            languages="en;es",
            gender="male",
        ),
        "prenatal": factory.therapist(
            name="Pat Prenatal",
            lat_lon=OAK_PARK,
            techniques=("swedish", "prenatal", "deep_tissue"),
            certifications=("prenatal", "board_certified"),
            prices={60: 110},
            gender="female",
        ),
        "far": factory.therapist(
            name="Far Away",
            lat_lon=EVANSTON,
            city="Evanston",
            postal_code="60201",
            techniques=("swedish",),
            prices={60: 80},
        ),
        "pending": factory.therapist(
            name="Pending Cert",
            techniques=("prenatal",),
            certifications=("prenatal",),
            cert_status=CredentialStatus.PENDING,
        ),
        "suspended": factory.therapist(name="Suspended Sue", suspended=True),
        "expired": factory.therapist(name="Expired Ed", license_expires=TODAY - timedelta(days=1)),
    }


def search(client, **params):
    response = client.get("/api/v1/search", query_string=params)
    return response.status_code, response.get_json()


def test_answer_has_the_documented_shape(client, therapists):
    status, body = search(client, location="60601", goals="stress")
    assert status == 200
    assert body["location"] == {
        "query": "60601",
        "label": "Chicago, IL 60601",
        "latitude": LOOP[0],
        "longitude": LOOP[1],
    }
    assert body["radius_miles"] == 10
    assert set(body["safety"]) == {"blocked", "reasons", "notices", "required_certifications", "excluded_techniques"}
    assert body["plan"]["session_minutes"] == 60 and body["plan"]["frequency"] == "monthly"
    assert body["plan"]["frequency_label"] == "Once or twice a month"
    result = body["results"][0]
    expected_keys = {
        "id",
        "name",
        "url",
        "distance_miles",
        "score",
        "reasons",
        "techniques",
        "certifications",
        "license",
        "price",
        "hsa_fsa",
        "gender",
        "languages",
        "accepting_new_clients",
        "city",
        "state",
        "postal_code",
    }
    assert expected_keys <= set(result)
    assert set(result["license"]) == {"state", "number", "expires", "verified"}
    assert result["price"] == {"session_minutes": 60, "amount": 90.0, "currency": "USD"}
    assert result["url"].endswith(f"/therapists/{result['id']}")


def test_only_listable_therapists_within_radius_are_ranked(client, therapists):
    status, body = search(client, location="60601", goals="stress")
    names = [r["name"] for r in body["results"]]
    assert set(names) == {"Sam Swede", "Pat Prenatal", "Pending Cert"}
    assert body["total"] == 3
    assert "Far Away" not in names and "Suspended Sue" not in names and "Expired Ed" not in names
    status, body = search(client, location="60601", radius=15)
    assert "Far Away" in [r["name"] for r in body["results"]]


def test_distances_are_geodesic_miles(client, therapists):
    _, body = search(client, location="60601", radius=15)
    for r in body["results"]:
        t = next(t for t in therapists.values() if t.id == r["id"])
        assert r["distance_miles"] == pytest.approx(geodesic(LOOP, (t.latitude, t.longitude)).miles, abs=0.006)


def test_pregnancy_shows_only_verified_prenatal_and_the_notice(client, therapists):
    _, body = search(client, location="60601", goals="stress", conditions="pregnancy")
    assert [r["name"] for r in body["results"]] == ["Pat Prenatal"]
    assert body["safety"]["required_certifications"] == ["prenatal"]
    assert body["safety"]["excluded_techniques"] == ["deep_tissue", "sports", "trigger_point", "oncology"]
    assert any("oils meant for pregnancy" in n for n in body["safety"]["notices"])
    result = body["results"][0]
    assert result["certifications"] == ["board_certified", "prenatal"]
    assert "Certified in prenatal massage, as your condition requires" in result["reasons"]


def test_fever_answers_no_therapists_and_sends_to_a_provider(client, therapists):
    status, body = search(client, location="60601", goals="stress", conditions="fever,pregnancy")
    assert status == 200 and body["total"] == 0 and body["results"] == []
    assert body["safety"]["blocked"] is True
    assert any("healthcare provider" in r for r in body["safety"]["reasons"])


def test_plan_from_areas_and_goals(client, therapists):
    _, body = search(client, location="60601", areas="neck", goals="pain,post_event")
    assert body["plan"]["session_minutes"] == 30 and body["plan"]["frequency"] == "weekly_or_biweekly"
    assert [r["name"] for r in body["results"]] == ["Sam Swede"]  # the only one with a 30-minute price
    assert body["results"][0]["price"]["amount"] == 50.0


def test_filters_combine(client, therapists):
    _, body = search(client, location="60601", hsa_fsa="true", languages="es", gender="male", max_price=95)
    assert [r["name"] for r in body["results"]] == ["Sam Swede"]
    _, body = search(client, location="60601", techniques="prenatal", gender="male")
    assert body["total"] == 0 and "not of the gender you chose" in body["explanation"]


def test_location_forms(client, therapists):
    for location in ("60601-1234", "Chicago, IL", "41.8858,-87.6181"):
        status, body = search(client, location=location, radius=20)
        assert status == 200 and body["total"] >= 3, location


def test_repeated_and_comma_lists_are_the_same(client, therapists):
    a = client.get("/api/v1/search?location=60601&goals=stress,pain").get_json()
    b = client.get("/api/v1/search?location=60601&goals=stress&goals=pain").get_json()
    assert a["results"] == b["results"] and a["plan"] == b["plan"]


def test_limit_and_offset_page_through_one_ranking(client, factory):
    for i in range(12):
        factory.therapist(name=f"T{i:02d}", commit=False)
    db.session.commit()
    full = search(client, location="60601", limit=50)[1]["results"]
    page = search(client, location="60601", limit=5, offset=5)[1]
    assert page["total"] == 12 and [r["id"] for r in page["results"]] == [r["id"] for r in full[5:10]]


@pytest.mark.parametrize(
    "params, field, message",
    [
        ({}, "location", "Enter a ZIP code"),
        ({"location": "99999"}, "location", "could not find the ZIP code 99999"),
        ({"location": "Atlantis, ZZ"}, "location", "two-letter state"),
        ({"location": "95,10"}, "location", "between -90 and 90"),
        ({"location": "60601", "radius": "0"}, "radius", "between 1 and 100"),
        ({"location": "60601", "radius": "101"}, "radius", "between 1 and 100"),
        ({"location": "60601", "radius": "far"}, "radius", "must be a number"),
        ({"location": "60601", "radius": "nan"}, "radius", "must be a number"),
        ({"location": "60601", "goals": "stress,flying"}, "goals", "Allowed: stress, sleep, pain"),
        ({"location": "60601", "conditions": "flu"}, "conditions", "Allowed: fever"),
        ({"location": "60601", "areas": "elbow"}, "areas", "Allowed: neck"),
        ({"location": "60601", "techniques": "reiki"}, "techniques", "Allowed: swedish"),
        ({"location": "60601", "languages": "klingon"}, "languages", "Allowed: en"),
        ({"location": "60601", "session_minutes": "50"}, "session_minutes", "must be one of: 30, 45, 60, 90"),
        ({"location": "60601", "max_price": "-5"}, "max_price", "between $1 and $10,000"),
        ({"location": "60601", "gender": "robot"}, "gender", "must be one of: female, male, nonbinary"),
        ({"location": "60601", "hsa_fsa": "maybe"}, "hsa_fsa", "true or false"),
        ({"location": "60601", "home_visit": "sure"}, "home_visit", "true or false"),
        ({"location": "60601", "limit": "51"}, "limit", "between 1 and 50"),
        ({"location": "60601", "limit": "ten"}, "limit", "whole number"),
        ({"location": "60601", "offset": "-1"}, "offset", "0 or more"),
    ],
)
def test_bad_input_answers_400_naming_the_field_and_what_is_allowed(client, params, field, message):
    status, body = search(client, **params)
    assert status == 400, body
    assert body["error"]["field"] == field
    assert message in body["error"]["message"]
    assert body["error"]["code"] == "invalid"


def test_therapist_and_vocabulary_endpoints(client, therapists):
    body = client.get(f"/api/v1/therapists/{therapists['prenatal'].id}").get_json()
    assert body["name"] == "Pat Prenatal" and body["certifications"] == ["board_certified", "prenatal"]
    assert client.get(f"/api/v1/therapists/{therapists['suspended'].id}").status_code == 404
    vocab = client.get("/api/v1/vocabulary").get_json()
    assert {"slug": "prenatal", "label": "Prenatal massage"} in vocab["techniques"]
    assert {"slug": "fever", "label": "Fever or contagious illness"} in vocab["conditions_absolute"]


@pytest.mark.parametrize(
    "query, field, hint",
    [
        ("condition=fever", "condition", "(did you mean 'conditions'?)"),
        ("health=fever", "health", ""),
        ("goal=stress", "goal", "(did you mean 'goals'?)"),
        ("location[]=60601", "location[]", "(did you mean 'location'?)"),
    ],
)
def test_an_unknown_parameter_is_refused_naming_it_and_the_accepted_ones(client, therapists, query, field, hint):
    response = client.get(f"/api/v1/search?location=60601&{query}".replace("location=60601&location[]", "location[]"))
    body = response.get_json()
    assert response.status_code == 400 and body["error"]["field"] == field
    assert f"Unknown parameter '{field}'" in body["error"]["message"] and hint in body["error"]["message"]
    assert "Accepted: location, radius, goals, areas, conditions, session_minutes" in body["error"]["message"]


def test_a_parameter_given_twice_is_refused_not_guessed(client):
    body = client.get("/api/v1/search?location=60601&radius=5&radius=50").get_json()
    assert body["error"]["field"] == "radius" and "given 2 times" in body["error"]["message"]


@pytest.mark.parametrize(
    "lists",
    [
        "conditions=pregnancy&goals=stress,pain",
        "conditions=pregnancy&goals=stress&goals=pain",
        "conditions[]=pregnancy&goals[]=stress&goals[]=pain",
        "conditions[]=pregnancy&goals[]=stress,pain",
    ],
)
def test_lists_come_comma_separated_repeated_or_bracketed(client, therapists, lists):
    body = client.get(f"/api/v1/search?location=60601&{lists}").get_json()
    assert [r["name"] for r in body["results"]] == ["Pat Prenatal"]
    assert body["safety"]["required_certifications"] == ["prenatal"]
    assert body["plan"]["frequency"] == "weekly_or_biweekly"  # pain was heard


def test_contradictory_conditions_are_a_400(client, therapists):
    status, body = search(client, location="60601", conditions="pregnancy,pregnancy_first_trimester")
    assert status == 400 and body["error"]["field"] == "conditions"
    assert "choose the one that applies" in body["error"]["message"]


@pytest.mark.parametrize("params", [{}, {"location": ""}, {"location": "99999"}])
def test_an_absolute_condition_is_answered_without_a_location(client, therapists, params):
    status, body = search(client, conditions="fever", **params)
    assert status == 200 and body["safety"]["blocked"] is True and body["location"] is None
    assert body["total"] == 0 and "healthcare provider" in body["explanation"]
    status, body = search(client, conditions="pregnancy", **params)
    assert status == 400 and body["error"]["field"] == "location"


def test_a_chosen_technique_a_condition_rules_out_is_said_plainly(client, therapists):
    _, body = search(client, location="60601", conditions="pregnancy", techniques="deep_tissue")
    assert body["total"] == 0
    assert body["explanation"] == "Deep tissue massage is not offered during pregnancy."
    assert body["ruled_out"] == ["Deep tissue massage is not offered during pregnancy."]
    assert not any("radius" in s for s in body["suggestions"])
    _, body = search(client, location="60601", conditions="pregnancy", techniques="deep_tissue,prenatal", radius=15)
    assert [r["name"] for r in body["results"]] == ["Pat Prenatal"]
    assert "Offers what you asked for: Prenatal massage" in body["results"][0]["reasons"]


def test_certification_counts_read_naturally(client, therapists):
    _, body = search(client, location="60601", conditions="pregnancy", radius=1)
    assert "2 have no verified prenatal certification (required during pregnancy)" in body["explanation"]
    assert "certified prenatal massage therapist certification" not in body["explanation"]


# --- the page ----------------------------------------------------------------------


@pytest.mark.parametrize("query", ["condition=fever", "health=fever&goals=stress"])
def test_search_page_warns_about_what_it_did_not_understand_and_shows_no_results(client, therapists, query):
    response = client.get(f"/search?location=60601&{query}")
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "We did not search" in page and "Unknown parameter" in page and query.split("=")[0] in page
    assert 'class="card result"' not in page and "matches within" not in page
    assert 'value="60601"' in page  # what was understood stays in the form


def test_search_page_hears_bracketed_lists(client, therapists):
    page = client.get("/search?location=60601&conditions[]=pregnancy").get_data(as_text=True)
    assert "1 match within 10 miles" in page and "Pat Prenatal" in page and "Sam Swede" not in page


def test_search_page_answers_an_absolute_condition_without_a_location(client, therapists):
    response = client.get("/search?conditions=blood_clot")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Massage is not safe for you right now" in page and "healthcare provider" in page
    assert 'class="card result"' not in page and "field-errors" not in page


def test_search_page_refuses_contradictory_conditions(client, therapists):
    response = client.get("/search?location=60601&conditions=pregnancy&conditions=pregnancy_first_trimester")
    assert response.status_code == 400 and "choose the one that applies" in response.get_data(as_text=True)


def test_search_page_shows_results_safety_and_plan(client, therapists):
    page = client.get("/search?location=60601&goals=stress&conditions=pregnancy").get_data(as_text=True)
    assert "1 match within 10 miles of Chicago, IL 60601" in page
    assert "Pat Prenatal" in page and "Sam Swede" not in page
    assert "oils meant for pregnancy" in page
    assert "60-minute sessions</strong>, once or twice a month" in page
    assert "$110</strong> per 60-minute session" in page and "$110–$220 a month" in page
    assert "Certified in prenatal massage, as your condition requires" in page
    assert 'value="pregnancy" checked' in page


def test_search_page_fever_shows_no_therapists_and_advice(client, therapists):
    page = client.get("/search?location=60601&conditions=fever").get_data(as_text=True)
    assert "Massage is not safe for you right now" in page and "healthcare provider" in page
    assert 'class="card result"' not in page


def test_search_page_reshows_the_form_with_field_errors(client):
    response = client.get("/search?location=99999&radius=500&goals=flying")
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Radius must be between 1 and 100 miles." in page
    assert "Unknown goal &#39;flying&#39;" in page or "Unknown goal 'flying'" in page
    assert 'value="99999"' in page  # what the person typed is kept
    response = client.get("/search?location=99999")
    assert response.status_code == 400 and "could not find the ZIP code 99999" in response.get_data(as_text=True)


def test_search_page_without_a_query_is_a_plain_form(client):
    response = client.get("/search")
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and '<label for="location">' in page and "field-errors" not in page


def test_search_page_says_what_to_widen(client, therapists):
    page = client.get("/search?location=60601&radius=1&techniques=sports").get_data(as_text=True)
    assert "0 matches" in page and "2 do not offer sports massage" in page
    assert "Remove the technique filter." in page and "Widen the radius" not in page


def test_every_search_field_has_a_label(client):
    import re

    page = client.get("/search").get_data(as_text=True)
    ids = re.findall(r'<(?:input|select)[^>]*\bid="([^"]+)"', page)
    assert ids
    for element_id in ids:
        if element_id in ("home-location",):
            continue
        assert f'for="{element_id}"' in page, element_id


def test_a_search_page_with_conditions_in_its_address_is_never_stored(client):
    response = client.get("/search", query_string={"location": "60601", "conditions": "pregnancy"})
    assert response.headers["Cache-Control"] == "private, no-store"
