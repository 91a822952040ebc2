import pytest
from geopy.distance import geodesic
from geopy.location import Location

from directory.geo import (
    GazetteerGeocoder,
    PlaceNotFound,
    bounding_box,
    distance_miles,
    local_distance,
    parse_lat_lon,
)
from directory.geocoding import CachingGeocoder, make_geocoder

geocoder = GazetteerGeocoder()


@pytest.mark.parametrize(
    "query, label, lat, lon",
    [
        ("60601", "Chicago, IL 60601", 41.8858, -87.6181),
        ("60601-1234", "Chicago, IL 60601", 41.8858, -87.6181),
        (" 10001 ", "New York, NY 10001", 40.7484, -73.9967),
        ("350 5th Ave, New York, NY 10118", "New York, NY 10118", 40.749, -73.9865),
    ],
)
def test_zip_codes_resolve_to_their_centroid(query, label, lat, lon):
    location = geocoder.geocode(query)
    assert isinstance(location, Location)
    assert location.address == label
    assert location.latitude == pytest.approx(lat, abs=1e-3)
    assert location.longitude == pytest.approx(lon, abs=1e-3)


@pytest.mark.parametrize("query", ["Chicago, IL", "Chicago IL", "chicago, il", "  CHICAGO   IL "])
def test_city_and_state_resolve_inside_the_city(query):
    location = geocoder.geocode(query)
    assert location.address == "Chicago, IL"
    # The centre of Chicago's ZIPs lies within 10 miles of the Loop.
    assert distance_miles((location.latitude, location.longitude), (41.8858, -87.6181)) < 10


def test_saint_and_st_are_the_same_city():
    assert geocoder.geocode("St. Louis, MO").point == geocoder.geocode("Saint Louis MO").point


def test_a_street_address_falls_back_to_its_city():
    location = geocoder.geocode("12 Main St, Evanston, IL")
    assert location.address == "Evanston, IL"


@pytest.mark.parametrize(
    "query, message",
    [
        ("", "Enter a ZIP code"),
        ("00000", "could not find the ZIP code 00000"),
        ("1234", "not a US ZIP code"),
        ("Atlantis, CA", "could not find the city 'Atlantis' in California"),
        ("Paris, ZZ", "two-letter state"),
        ("just words", "could not find"),
    ],
)
def test_unknown_places_raise_a_clear_error(query, message):
    with pytest.raises(PlaceNotFound, match=message):
        geocoder.geocode(query)


def test_exactly_one_false_returns_a_list():
    assert [loc.address for loc in geocoder.geocode("60601", exactly_one=False)] == ["Chicago, IL 60601"]


def test_reverse_finds_the_nearest_zip():
    assert geocoder.reverse((41.8858, -87.6181)).raw["zip_code"] == "60601"


def test_distances_are_geodesic_miles():
    chicago, new_york = (41.8858, -87.6181), (40.7506, -73.9972)
    assert distance_miles(chicago, new_york) == pytest.approx(geodesic(chicago, new_york).miles)
    assert 700 < distance_miles(chicago, new_york) < 720


@pytest.mark.parametrize(
    "lat0, lon0", [(25.77, -80.19), (40.75, -73.99), (47.6, -122.3), (61.2, -149.9), (19.7, -155.1)]
)
def test_local_distance_is_within_a_fiftieth_of_a_percent_of_geodesic(lat0, lon0):
    import random

    fast = local_distance(lat0, lon0)
    rng = random.Random(lat0)
    for _ in range(500):
        lat, lon = lat0 + rng.uniform(-1.5, 1.5), lon0 + rng.uniform(-2.5, 2.5)
        exact = geodesic((lat0, lon0), (lat, lon)).miles
        if 0.1 < exact <= 100:
            assert fast(lat, lon) == pytest.approx(exact, rel=2e-4)


@pytest.mark.parametrize("lat, lon, miles", [(41.88, -87.62, 10), (64.8, -147.7, 50), (25.77, -80.19, 100), (0, 0, 1)])
def test_bounding_box_encloses_the_circle(lat, lon, miles):
    min_lat, max_lat, min_lon, max_lon = bounding_box(lat, lon, miles)
    for bearing in range(0, 360, 15):
        p = geodesic(miles=miles).destination((lat, lon), bearing)
        assert min_lat <= p.latitude <= max_lat and min_lon <= p.longitude <= max_lon, bearing


@pytest.mark.parametrize(
    "text, expected", [("41.88,-87.62", (41.88, -87.62)), (" 40 , -73.5 ", (40.0, -73.5)), ("60601", None)]
)
def test_parse_lat_lon(text, expected):
    assert parse_lat_lon(text) == expected


def test_parse_lat_lon_rejects_out_of_range():
    with pytest.raises(PlaceNotFound, match="between -90 and 90"):
        parse_lat_lon("91,10")


class FakeOnlineGeocoder:
    """Stands in for an online geopy geocoder: counts the calls it gets."""

    def __init__(self):
        self.calls = 0

    def geocode(self, query, exactly_one=True):
        from geopy.location import Location
        from geopy.point import Point

        self.calls += 1
        if "nowhere" in query.lower():
            return None
        return Location("1 Test Plaza, Springfield, IL", Point(39.8, -89.65), {})


def test_online_geocoder_answers_are_cached_in_the_database(ctx):
    from directory.extensions import db
    from directory.models import GeocodeCacheEntry

    fake = FakeOnlineGeocoder()
    caching = CachingGeocoder("fake", fake)
    first = caching.geocode("1 Test Plaza, Springfield IL")
    db.session.rollback()  # the cache row is the geocoder's own: a rolled-back request keeps it
    second = caching.geocode("  1 TEST plaza,   springfield il ")
    assert fake.calls == 1
    assert (second.latitude, second.longitude) == (first.latitude, first.longitude) == (39.8, -89.65)
    assert db.session.query(GeocodeCacheEntry).count() == 1
    with pytest.raises(PlaceNotFound):
        caching.geocode("nowhere at all")


def test_make_geocoder_by_setting():
    assert isinstance(make_geocoder("gazetteer"), GazetteerGeocoder)
    online = make_geocoder("nominatim", "tests")
    assert isinstance(online, CachingGeocoder) and online.provider == "nominatim"
    with pytest.raises(ValueError, match="not a geopy geocoder"):
        make_geocoder("no-such-service")


def test_three_identical_searches_through_an_online_geocoder_call_it_once(app, ctx, client):
    """The search path commits nothing, so the cache must keep its own rows."""
    from directory.extensions import db
    from directory.models import GeocodeCacheEntry

    fake = FakeOnlineGeocoder()
    original = app.extensions["geocoder"]
    app.extensions["geocoder"] = CachingGeocoder("fake", fake)
    try:
        for _ in range(3):
            response = client.get("/api/v1/search", query_string={"location": "1 Test Plaza, Springfield IL"})
            assert response.status_code == 200, response.get_json()
            db.session.rollback()  # nothing the request left behind may be what keeps the row
    finally:
        app.extensions["geocoder"] = original
    assert fake.calls == 1
    assert db.session.query(GeocodeCacheEntry).count() == 1
