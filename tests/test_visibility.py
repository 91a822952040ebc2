"""One visibility rule for every exit (issue 23, items 1 and 2).

A therapist who works from home and shows only the area until a booking is
confirmed: no page, API answer, feed record, export, mail or calendar file
reachable by anyone else carries her street or a position finer than her
area's cell; and searches from chosen points cannot place her closer than her
area either.
"""

from __future__ import annotations

import itertools
import math
import re

import pytest
from geopy.distance import geodesic

from directory.bookings import services as bookings
from directory.extensions import db, limiter
from directory.feeds.ids import Kind, record_id
from directory.models import BookingSettings, Role
from directory.therapists.visibility import AREA_CELL, Audience, area_point, place_of

from .booking_people import client_user, free_on, open_therapist
from .conftest import PASSWORD, TODAY, login, post_form
from .test_feeds_fhir import checked
from .test_feeds_hsds import valid

STREET = "742 Evergreen Terrace, Apt 3B"
HOME = (40.7431, -73.9894)  # Manhattan, near the Flatiron
AREA = area_point(*HOME)
FAR = "40.82,-73.93"  # a search point about 9 km away: its own digits are nowhere near HOME's


def leaks(text: str) -> list[str]:
    """The street, or any number within 0.03 degrees of the home's latitude or
    longitude (about 3 km) that is not the area's centre: a position finer than
    the area, at any precision from 2 decimals up."""
    found = ["street"] if "evergreen" in text.lower() else []
    for match in re.finditer(r"-?\d{1,3}\.\d{2,}", text):
        value = float(match.group())
        for exact, centre in zip(HOME, AREA, strict=True):
            if abs(value - exact) < 0.03 and abs(value - centre) > 1e-6:
                found.append(match.group())
    return found


@pytest.fixture
def home(factory):
    t = open_therapist(
        factory,
        name="Helen Home",
        lat_lon=HOME,
        address=STREET,
        city="New York",
        state="NY",
        postal_code="10010",
        timezone="America/New_York",
        location_label=f"{STREET}, New York, NY 10010",  # as a geocoder may label a street address
    )
    db.session.add(
        BookingSettings(therapist_id=t.id, notice_hours=0, buffer_minutes=0, address_after_confirmation=True, phone="")
    )
    db.session.commit()
    return t


def test_the_area_point_is_the_centre_of_a_cell_about_2_km_wide():
    lat, lon = AREA
    assert (lat, lon) != HOME and geodesic(HOME, AREA).meters < 2000
    assert math.isclose((lat / AREA_CELL) % 1, 0.5) and math.isclose((lon / AREA_CELL) % 1, 0.5)
    assert area_point(lat, lon) == AREA  # the centre is in its own cell


def test_the_rule_gives_the_street_to_the_therapist_the_admin_and_a_confirmed_client_only(app, home, make_user):
    cleo = client_user(make_user)
    assert place_of(home).street == "" and place_of(home).label == "New York, NY"
    assert (place_of(home).latitude, place_of(home).longitude) == AREA
    for audience in (Audience.THERAPIST, Audience.ADMIN):
        assert place_of(home, audience).street == STREET and place_of(home, audience).latitude == HOME[0]
    booking = bookings.request_booking(cleo, home, free_on(home), 60, bookings.IntakeData())
    assert place_of(home, Audience.CLIENT, booking).street == ""  # pending
    bookings.decide(home, booking, accept=True, message="")
    assert place_of(home, Audience.CLIENT, booking).street == STREET  # confirmed
    assert place_of(home, Audience.CLIENT, None).street == ""  # a client without that booking


def _arguments(rule, home, booking_id: int):
    """Each way to fill the rule's arguments with the home therapist's ids."""
    values = {
        "therapist_id": [str(home.id)],
        "booking_id": [str(booking_id)],
        "resource_type": [
            "Practitioner",
            "PractitionerRole",
            "Location",
            "Organization",
            "HealthcareService",
            "Endpoint",
        ],
        "resource_id": [str(home.id)],
        "service_id": [record_id(Kind.SERVICE, home.id)],
        "record_id": [record_id(Kind.ORGANIZATION, home.id), record_id(Kind.SERVICE_AT_LOCATION, home.id)],
        "year": [str(TODAY.year)],
    }
    names = list(rule.arguments)
    options = [values.get(name, ["1"]) for name in names]
    return [dict(zip(names, combo, strict=True)) for combo in itertools.product(*options)]


QUERIES = {
    "hsds.hsds_services": ["", "?full=true", f"?full=true&proximity={FAR}", "?full=true&postcode=10010"],
    "hsds.hsds_organizations": ["", "?full=true"],
    "hsds.hsds_service_at_locations": ["?full=true", "?full=true&postcode=10010&proximity=20000"],
    "fhir.search": [
        "",
        "?address-city=New",
        "?address=New",
        "?_include=PractitionerRole:location&_include=PractitionerRole:organization&_include=PractitionerRole:service",
        "?_revinclude=PractitionerRole:location",
    ],
    "api.search_api": [f"?location={FAR}&radius=20"],
    "search.search": [f"?location={FAR}&radius=20"],
    "public.therapists": [f"?location={FAR}&radius=20", ""],
}


def test_no_route_shows_the_street_or_the_position_of_a_home_practice(app, home, make_user, outbox):
    cleo = client_user(make_user)
    booking = bookings.request_booking(cleo, home, free_on(home), 60, bookings.IntakeData())
    db.session.commit()
    viewers = {"anonymous": app.test_client(), "client of a pending booking": app.test_client()}
    login(viewers["client of a pending booking"], cleo.email)
    seen = {}
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint in ("static", "bookings.calendar_feed"):
            continue  # the calendar feed is the therapist's own (a secret address): not a public exit
        for arguments in _arguments(rule, home, booking.id):
            path = rule.build(arguments)[1]
            for query in QUERIES.get(rule.endpoint, [""]):
                for who, client in viewers.items():
                    limiter.reset()  # the walk makes more requests than one client may: each is answered
                    response = client.get(path + query)
                    text = response.get_data().decode("utf-8", errors="replace")
                    response.close()
                    assert not leaks(text), (who, path + query, leaks(text))
                    seen[path + query] = response.status_code
    # The walk reached the records that used to carry the street.
    for url in (
        f"/therapists/{home.id}",
        f"/fhir/Location/{home.id}",
        f"/fhir/Organization/{home.id}",
        f"/hsds/organizations/{record_id(Kind.ORGANIZATION, home.id)}",
        f"/hsds/service_at_locations/{record_id(Kind.SERVICE_AT_LOCATION, home.id)}",
        "/hsds/organizations?full=true",
        "/hsds/service_at_locations?full=true",
        f"/fhir/HealthcareService/{home.id}",
        "/fhir/PractitionerRole?_include=PractitionerRole:location&_include=PractitionerRole:organization"
        "&_include=PractitionerRole:service",
        f"/hsds/services/{record_id(Kind.SERVICE, home.id)}",
        f"/api/v1/therapists/{home.id}",
        f"/account/bookings/{booking.id}",
    ):
        assert seen[url] == 200, url
    search = app.test_client().get(f"/api/v1/search?location={FAR}&radius=20").get_json()
    assert [r["id"] for r in search["results"]] == [home.id]
    feed = app.test_client().get("/hsds/services?full=true").get_json()
    assert feed["contents"][0]["service_at_locations"][0]["location"]["latitude"] == pytest.approx(AREA[0])
    fhir = app.test_client().get(f"/fhir/Location/{home.id}").get_json()
    assert fhir["position"] == {"latitude": pytest.approx(AREA[0]), "longitude": pytest.approx(AREA[1])}
    assert "line" not in fhir["address"] and fhir["name"] == "New York, NY"
    # The area-only records are still valid HSDS and Plan-Net records.
    checked(fhir)
    valid("service", app.test_client().get(f"/hsds/services/{record_id(Kind.SERVICE, home.id)}").get_json())
    for mail in outbox():  # the request's mails, to the client and the therapist
        if mail["To"] == cleo.email:
            assert not leaks(str(mail)), mail["Subject"]


def test_a_confirmed_client_then_sees_the_street_so_the_walk_above_could_fail(app, home, make_user):
    cleo = client_user(make_user)
    booking = bookings.request_booking(cleo, home, free_on(home), 60, bookings.IntakeData())
    db.session.commit()
    t = app.test_client()
    login(t, home.user.email)
    decided = post_form(
        t, f"/account/bookings/{booking.id}/decide", {"decision": "accept"}, form_page=f"/account/bookings/{booking.id}"
    )
    assert decided.status_code == 302
    c = app.test_client()
    login(c, cleo.email)
    page = c.get(f"/account/bookings/{booking.id}").get_data(as_text=True)
    assert STREET in page and leaks(page)
    # Her own calendar feed carries the street: it is hers, behind a secret address.
    token = bookings.new_calendar_address(home)
    assert "Evergreen" in app.test_client().get(f"/calendar/{token}.ics").get_data(as_text=True)


@pytest.mark.parametrize("fmt", ["csv", "hsds", "fhir"])
def test_no_export_format_carries_the_street_or_the_position(app, home, runner, fmt):
    result = runner.invoke(args=["therapists", "export", "--format", fmt])
    assert result.exit_code == 0, result.output
    assert "New York" in result.stdout and not leaks(result.stdout)


def test_only_the_private_csv_export_carries_the_street_for_a_backup(app, home, runner):
    result = runner.invoke(args=["therapists", "export", "--format", "csv", "--private"])
    assert result.exit_code == 0 and STREET in result.stdout and str(HOME[0]) in result.stdout
    refused = runner.invoke(args=["therapists", "export", "--format", "fhir", "--private"])
    assert refused.exit_code != 0 and "CSV export only" in refused.output


# --- trilateration (item 2) ------------------------------------------------------------------


def _distance(client, origin: tuple[float, float], radius: float, therapist_id: int) -> float | None:
    answer = client.get(f"/api/v1/search?location={origin[0]},{origin[1]}&radius={radius}").get_json()
    return next((r["distance_miles"] for r in answer["results"] if r["id"] == therapist_id), None)


def _offset(point: tuple[float, float], bearing: float, meters: float) -> tuple[float, float]:
    there = geodesic(meters=meters).destination(point, bearing)
    return round(there.latitude, 6), round(there.longitude, 6)


def _best_estimate(readings: list[tuple[tuple[float, float], float]]) -> tuple[float, float]:
    """Least squares over a 6 km square around the home, at 25 m, then 2 m (flat
    metres: within a metre of geodesic ones at this size)."""
    ky, kx = 111_132.0, 111_320.0 * math.cos(math.radians(HOME[0]))
    metres = lambda a, b: math.hypot((a[0] - b[0]) * ky, (a[1] - b[1]) * kx)
    best, step, span = HOME, 25.0, 3000.0
    for _ in range(2):
        n = int(span / step)
        grid = [(best[0] + i * step / ky, best[1] + j * step / kx) for i in range(-n, n + 1) for j in range(-n, n + 1)]
        best = min(grid, key=lambda p: sum((metres(o, p) - d * 1609.344) ** 2 for o, d in readings))
        step, span = 2.0, 50.0
    return best


def test_searches_from_chosen_points_cannot_place_a_home_practice_inside_its_area(app, home):
    client = app.test_client()
    readings = []
    for bearing, meters in ((0, 1000), (120, 1250), (240, 1500), (60, 2500)):
        origin = _offset(HOME, bearing, meters)
        found = _distance(client, origin, 20, home.id)
        assert found is not None
        readings.append((origin, found))
    estimate = _best_estimate(readings)
    off = geodesic(estimate, HOME).meters
    assert off >= 1000 or geodesic(estimate, AREA).meters < 60, (off, estimate)


def test_the_radius_includes_a_home_practice_by_its_area_not_its_door(app, home):
    """Shrinking the radius until she drops out would otherwise measure the distance to her door."""
    client = app.test_client()
    away = (math.degrees(math.atan2(HOME[1] - AREA[1], HOME[0] - AREA[0])) + 360) % 360  # from the centre past her door
    origin = _offset(HOME, away, 1609)  # one mile from her door, farther from the area's centre
    to_centre = geodesic(origin, AREA).miles
    assert to_centre > 1.2
    assert _distance(client, origin, 1.2, home.id) is None  # her door is within 1.2 miles; her area is not
    assert _distance(client, origin, 2, home.id) == pytest.approx(to_centre, abs=0.01)


def test_turning_the_setting_off_publishes_the_door_again(app, home):
    bookings.set_policies(
        home,
        bookings.PolicyData(notice_hours=0, buffer_minutes=0, address_after_confirmation=False, phone=""),
    )
    fhir = app.test_client().get(f"/fhir/Location/{home.id}").get_json()
    assert fhir["address"]["line"] == [STREET] and fhir["position"]["latitude"] == HOME[0]
    assert (home.shown_latitude, home.shown_longitude) == HOME
    bookings.set_policies(
        home,
        bookings.PolicyData(notice_hours=0, buffer_minutes=0, address_after_confirmation=True, phone=""),
    )
    assert (home.shown_latitude, home.shown_longitude) == pytest.approx(AREA)


def test_a_client_signed_in_is_given_no_more_than_anyone(app, home, make_user):
    make_user(Role.CLIENT, "someone@example.com")
    c = app.test_client()
    login(c, "someone@example.com", PASSWORD)
    assert not leaks(c.get(f"/therapists/{home.id}/book").get_data(as_text=True))
