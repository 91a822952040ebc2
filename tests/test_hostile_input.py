"""Anonymous input never earns a 500: NUL bytes anywhere, ids no database
integer holds, pages past any OFFSET (issue 11, item 6). The property test
drives every route of the app, as every kind of user, on either database."""

from __future__ import annotations

import re
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from directory.extensions import db
from directory.feeds.ids import Kind, record_id
from directory.models import Role
from directory.security import DATABASE_ID_MAX, database_id, integers_up_to

from .conftest import PASSWORD, csrf_token, login, post_form

HUGE_IDS = ["2147483648", "9223372036854775808", "99999999999999999999"]
HUGE_PAGE = "9223372036854775808"
PAGINATED = ["/therapists", "/admin/audit", "/admin/bookings", "/admin/reviews"]


@pytest.fixture
def people(app, factory, make_user):
    """A signed-in client for each role, and a listed therapist with a photo-less profile."""
    therapist = factory.therapist(prices={60: 90}, commit=False)
    factory.open_for_bookings(therapist, PASSWORD)
    db.session.commit()
    make_user(Role.CLIENT, "carla@example.com")
    make_user(Role.ADMIN, "admin@example.com")
    clients = {"anonymous": app.test_client()}
    for role, email in (
        ("client", "carla@example.com"),
        ("therapist", therapist.user.email),
        ("admin", "admin@example.com"),
    ):
        clients[role] = app.test_client()
        assert login(clients[role], email).status_code == 302
    tokens = {
        role: csrf_token(c, "/auth/login" if role == "anonymous" else "/account/bookings")
        for role, c in clients.items()
    }
    return clients, tokens, therapist


def is_json(response) -> bool:
    return response.mimetype == "application/json"


@pytest.mark.parametrize("huge", HUGE_IDS)
@pytest.mark.parametrize(
    "path, who",
    [
        ("/api/v1/therapists/{id}", "anonymous"),
        ("/therapists/{id}", "anonymous"),
        ("/therapists/{id}/photo", "anonymous"),
        ("/therapists/{id}/book", "anonymous"),
        ("/account/bookings/{id}", "client"),
        ("/account/documents/{id}", "therapist"),
    ],
)
def test_ids_past_the_database_integer_range_are_not_found(people, path, who, huge):
    clients, _, _ = people
    response = clients[who].get(path.format(id=huge))
    assert response.status_code == 404
    if path.startswith("/api/"):
        assert is_json(response) and response.get_json()["error"]["code"] == "not_found"
    else:
        assert "We could not find that page." in response.get_data(as_text=True)


@given(value=st.one_of(st.integers(0, 3 * DATABASE_ID_MAX), st.integers(0, 10**30), st.integers(0, 3000)))
def test_the_id_pattern_matches_exactly_the_ids_a_database_holds(value):
    pattern = re.compile(integers_up_to(DATABASE_ID_MAX))
    assert bool(pattern.fullmatch(str(value))) == (1 <= value <= DATABASE_ID_MAX)
    assert not pattern.fullmatch("0" + str(value))  # one spelling per id
    # The one parser of ids in paths and queries agrees with the routes' pattern.
    assert database_id(str(value)) == (value if 1 <= value <= DATABASE_ID_MAX else None)
    assert database_id("0" + str(value)) is None and database_id(f" {value}") is None
    assert database_id(f"-{value}") is None and database_id(f"+{value}") is None


def huge_service(number: int) -> str:
    """An HSDS id of our own layout whose number no database integer holds."""
    return record_id(Kind.SERVICE, number)


# Issue 23, item 4: each of these answered 500 (NumericValueOutOfRange) on PostgreSQL.
FEED_READS_PAST_THE_RANGE = [
    "/fhir/Practitioner/2147483648",
    "/fhir/Location/99999999999",
    "/fhir/PractitionerRole/9223372036854775808",
    "/hsds/services/7c2e5a91-d3b4-8100-8000-000080000000",  # Practitioner 2**31
    f"/hsds/services/{huge_service(2**62 - 1)}",
]
FEED_SEARCHES_PAST_THE_RANGE = [
    "/fhir/Practitioner?_id=2147483648",
    "/fhir/Location?_id=99999999999",
    "/fhir/PractitionerRole?practitioner=Practitioner/2147483648",
    "/fhir/PractitionerRole?location=Location/99999999999",
    "/fhir/PractitionerRole?_id=2147483648&practitioner=2147483648",
    f"/hsds/services?organization_id={record_id(Kind.ORGANIZATION, 2**31)}",
    f"/hsds/services?organization_id={record_id(Kind.ORGANIZATION, 2**62 - 1)}",
]


@pytest.mark.parametrize("url", FEED_READS_PAST_THE_RANGE)
def test_a_feed_read_of_an_id_past_the_range_is_not_found(people, url):
    clients, _, _ = people
    response = clients["anonymous"].get(url)
    assert response.status_code == 404, response.get_data(as_text=True)[:300]


@pytest.mark.parametrize("url", FEED_SEARCHES_PAST_THE_RANGE)
def test_a_feed_search_for_an_id_past_the_range_finds_nothing(people, url):
    clients, _, _ = people
    response = clients["anonymous"].get(url)
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    body = response.get_json()
    assert body.get("total", body.get("total_items")) == 0


def test_a_post_to_an_id_past_the_range_is_not_found_either(people):
    """werkzeug matches patterns before converting: with the range only in the
    converter, a GET rule sharing the path turned this into a 405."""
    clients, tokens, _ = people
    response = clients["client"].post("/therapists/2147483648/book", data={"csrf_token": tokens["client"]})
    assert response.status_code == 404


@pytest.mark.parametrize("path", PAGINATED)
def test_a_page_number_past_any_offset_shows_an_empty_page(people, path):
    clients, _, _ = people
    response = clients["admin"].get(f"{path}?page={HUGE_PAGE}")
    assert response.status_code == 200


def test_nul_bytes_in_the_issues_examples_answer_400(people):
    clients, tokens, therapist = people
    anonymous = clients["anonymous"]
    response = anonymous.post(
        "/auth/login", data={"email": "a\x00b@x", "password": "whatever", "csrf_token": tokens["anonymous"]}
    )
    assert response.status_code == 400 and "NUL characters" in response.get_data(as_text=True)
    assert anonymous.get("/therapists?city=Chi%00cago").status_code == 400
    api = anonymous.get("/api/v1/search?location=Chi%00cago")
    assert api.status_code == 400 and is_json(api) and "NUL" in api.get_json()["error"]["message"]
    booking = post_form(
        clients["client"],
        f"/therapists/{therapist.id}/book",
        {"start": "2030-01-01T10:00:00+00:00", "minutes": "60", "concerns": "knee\x00pain"},
        form_page=f"/therapists/{therapist.id}/book",
    )
    assert booking.status_code == 400
    sign_up = post_form(
        anonymous,
        "/auth/register",
        {"name": "No\x00ra", "email": "nora@example.com", "password": "quiet-meadow-lantern-7", "confirm": "x"},
    )
    assert sign_up.status_code == 400


# The property: every route, every role, hostile values in the path, the query
# string and the form; the answer is never a 5xx.

CONVERTER = re.compile(r"<(?:(?P<converter>\w+)(?:\([^)]*\))?:)?(?P<name>\w+)>")
FORM_FIELDS = ["email", "password", "name", "confirm", "concerns", "medications", "history", "reason", "message",
               "city", "bio", "q", "start", "minutes", "decision", "rating", "text", "starts_on", "note"]  # fmt: skip

nul_text = st.builds(lambda a, b: a + "\x00" + b, st.text(max_size=8), st.text(max_size=8))
huge_id = st.one_of(st.sampled_from(HUGE_IDS), st.integers(min_value=2**31, max_value=10**30).map(str))
# Ids in a query string, by the parameter that carries one (the feeds' searches):
# each gets a huge id in its own spelling.
ID_PARAMETERS = {
    "_id": lambda n: n,
    "practitioner": lambda n: f"Practitioner/{n}",
    "location": lambda n: f"Location/{n}",
    "organization_id": lambda n: record_id(Kind.ORGANIZATION, max(int(n) % 2**62, 2**31)),
}


def routes(app):
    return sorted(
        (rule for rule in app.url_map.iter_rules() if rule.endpoint != "static"),
        key=lambda rule: rule.rule,
    )


@st.composite
def hostile_requests(draw, rules):
    rule = draw(st.sampled_from(rules))
    attack = draw(
        st.sampled_from(["huge_id", "huge_id_in_query", "nul_in_path", "nul_in_query", "nul_in_form", "huge_page"])
    )

    injected = attack not in ("huge_id", "nul_in_path")  # the path attacks need an argument to land in

    def argument(match):
        nonlocal injected
        if match.group("converter") == "int":
            injected |= attack == "huge_id"
            return draw(huge_id) if attack == "huge_id" else "1"
        if match.group("name") == "resource_type":  # the FHIR types served
            return draw(st.sampled_from(["Practitioner", "PractitionerRole", "Location"]))
        if attack == "huge_id" and match.group("name") in ("resource_id", "service_id"):  # the feeds' reads
            injected = True
            number = draw(huge_id)
            return number if match.group("name") == "resource_id" else huge_service(max(int(number) % 2**62, 2**31))
        injected |= attack == "nul_in_path"
        return quote(draw(nul_text) if attack == "nul_in_path" else "x", safe="")

    path = CONVERTER.sub(argument, rule.rule)
    method = "POST" if "POST" in rule.methods and (attack == "nul_in_form" or "GET" not in rule.methods) else "GET"
    query = ""
    if attack == "nul_in_query":
        query = f"?{draw(st.sampled_from(['q', 'city', 'location', 'page', 'next', 'day']))}={quote(draw(nul_text))}"
    elif attack == "huge_id_in_query":
        name = draw(st.sampled_from(sorted(ID_PARAMETERS)))
        query = f"?{name}={quote(ID_PARAMETERS[name](draw(huge_id)), safe='/')}"
    elif attack == "huge_page":
        query = f"?page={draw(st.sampled_from([HUGE_PAGE, '-1', '1e9', '10' * 30]))}&per_page={HUGE_PAGE}"
    form = {}
    if method == "POST":
        fields = draw(st.lists(st.sampled_from(FORM_FIELDS), min_size=1, max_size=4, unique=True))
        form = {name: draw(nul_text) if attack == "nul_in_form" else "1" for name in fields}
    who = draw(st.sampled_from(["anonymous", "client", "therapist", "admin"]))
    return who, method, path + query, form, attack if injected else "none"


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_no_route_answers_5xx_to_hostile_input(app, people, data):
    clients, tokens, _ = people
    who, method, url, form, attack = data.draw(hostile_requests(routes(app)))
    client = clients[who]
    if method == "POST":
        response = client.post(url, data={**form, "csrf_token": tokens[who]})
    else:
        response = client.get(url)
    status = response.status_code
    response.close()
    assert status < 500, (who, method, url, form, status)
    if attack == "huge_id":
        assert status == 404, (who, method, url, status)  # no route matches an id past the range
    if attack in ("nul_in_path", "nul_in_query") or attack == "nul_in_form" and method == "POST":
        assert status == 400, (who, method, url, status)  # refused before any view runs


@pytest.mark.parametrize(
    ("method", "path"),
    [("DELETE", "/"), ("TRACE", "/api/v1/search"), ("DELETE", "/fhir/Practitioner"), ("PUT", "/hsds/services")],
)
def test_a_method_a_route_does_not_take_is_a_405_naming_the_ones_it_does(client, method, path):
    """RFC 9110: a 405 carries Allow; the error page or JSON keeps its own body."""
    response = client.open(path, method=method)
    assert response.status_code == 405
    allowed = {m.strip() for m in response.headers["Allow"].split(",")}
    assert "GET" in allowed and method not in allowed
    expected = {"/": "text/html", "/fhir/Practitioner": "application/fhir+json"}  # under /fhir: an OperationOutcome
    assert response.content_type.startswith(expected.get(path, "application/json"))
