"""Geocoding and distances.

`GazetteerGeocoder` is a geopy Geocoder that answers offline from the US ZIP
centroids of the `zipcodes` package. `CachingGeocoder` wraps an online geopy
geocoder and keeps its answers in the database. Distances are in miles.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import cache

from geopy.geocoders.base import Geocoder
from geopy.location import Location
from geopy.point import Point
from pyproj import Geod

from .matching.vocabulary import STATES

MILES_PER_DEGREE_LAT = 69.0
_ZIP = re.compile(r"^\s*(\d{5})(?:-\d{4})?\s*$")
_LATLON = re.compile(r"^\s*(-?\d{1,3}(?:\.\d+)?)\s*,\s*(-?\d{1,3}(?:\.\d+)?)\s*$")
_ZIP_AT_END = re.compile(r"[\s,](\d{5})(?:-\d{4})?\s*$")
_CITY_STATE = re.compile(r"^\s*(.+?)[\s,]+([A-Za-z]{2})\s*$")


class PlaceNotFound(ValueError):
    """The text does not name a place we can locate."""


@dataclass(frozen=True)
class ZipPlace:
    zip_code: str
    city: str
    state: str
    latitude: float
    longitude: float
    timezone: str | None


def _normalise_city(city: str) -> str:
    city = re.sub(r"[^a-z0-9 ]", " ", city.lower())
    city = re.sub(r"\bsaint\b", "st", city)
    city = re.sub(r"\bfort\b", "ft", city)
    return " ".join(city.split())


@cache
def gazetteer() -> tuple[dict[str, ZipPlace], dict[tuple[str, str], list[ZipPlace]]]:
    """ZIP code -> place, and (city, state) -> its ZIP places, loaded once."""
    import zipcodes

    by_zip: dict[str, ZipPlace] = {}
    by_city: dict[tuple[str, str], list[ZipPlace]] = {}
    for row in zipcodes.list_all():
        try:
            lat, lon = float(row["lat"]), float(row["long"])
        except (TypeError, ValueError):
            continue
        place = ZipPlace(row["zip_code"], row["city"], row["state"], lat, lon, row.get("timezone") or None)
        by_zip[place.zip_code] = place
        if row.get("active") and row.get("zip_code_type") == "STANDARD":
            by_city.setdefault((_normalise_city(place.city), place.state), []).append(place)
    return by_zip, by_city


def lookup_zip(zip_code: str) -> ZipPlace | None:
    match = _ZIP.match(zip_code or "")
    return gazetteer()[0].get(match.group(1)) if match else None


def parse_lat_lon(text: str) -> tuple[float, float] | None:
    """'41.88,-87.62' -> (41.88, -87.62); None if the text is not a coordinate pair."""
    match = _LATLON.match(text or "")
    if not match:
        return None
    lat, lon = float(match.group(1)), float(match.group(2))
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise PlaceNotFound("Latitude must be between -90 and 90 and longitude between -180 and 180.")
    return lat, lon


class GazetteerGeocoder(Geocoder):
    """Resolves '60601', '60601-1234', 'Chicago, IL' and 'Chicago IL' offline."""

    def __init__(self):
        super().__init__(scheme="https", timeout=1, user_agent="gazetteer-offline")

    def geocode(self, query, *, exactly_one=True, **kwargs):
        text = str(query or "").strip()
        if not text:
            raise PlaceNotFound("Enter a ZIP code or a city and state, e.g. 60601 or Chicago, IL.")
        place = lookup_zip(text) or self._zip_in_address(text)
        if place is not None:
            location = self._location(place, f"{place.city}, {place.state} {place.zip_code}")
            return location if exactly_one else [location]
        if _ZIP.match(text) is None and re.fullmatch(r"\s*\d[\d-]*\s*", text):
            raise PlaceNotFound(f"'{text}' is not a US ZIP code: use five digits, e.g. 60601 or 60601-1234.")
        if _ZIP.match(text):
            raise PlaceNotFound(f"We could not find the ZIP code {text}.")
        match = _CITY_STATE.match(text)
        if match and "," in match.group(1):
            # A street address: "12 Main St, Springfield, IL" -> the city is the last part.
            match = _CITY_STATE.match(text.rsplit(",", 2)[-2] + ", " + match.group(2))
        if not match or match.group(2).upper() not in STATES:
            raise PlaceNotFound(
                f"We could not find '{text}'. Enter a ZIP code or a city with its two-letter state, "
                "e.g. 60601 or Chicago, IL."
            )
        city, state = _normalise_city(match.group(1)), match.group(2).upper()
        places = gazetteer()[1].get((city, state))
        if not places:
            raise PlaceNotFound(f"We could not find the city '{match.group(1).strip()}' in {STATES[state]}.")
        # A city's centre: the mean of its ZIP centroids.
        lat = sum(p.latitude for p in places) / len(places)
        lon = sum(p.longitude for p in places) / len(places)
        location = Location(f"{places[0].city}, {state}", Point(lat, lon), {"zip_codes": [p.zip_code for p in places]})
        return location if exactly_one else [location]

    @staticmethod
    def _zip_in_address(text: str) -> ZipPlace | None:
        """'350 5th Ave, New York, NY 10118' -> the place of 10118."""
        match = _ZIP_AT_END.search(text)
        return lookup_zip(match.group(1)) if match and not text.strip().isdigit() else None

    def reverse(self, query, *, exactly_one=True, **kwargs):
        point = Point(query)
        best = min(
            gazetteer()[0].values(),
            key=lambda p: (p.latitude - point.latitude) ** 2 + (p.longitude - point.longitude) ** 2,
        )
        location = self._location(best, f"{best.city}, {best.state} {best.zip_code}")
        return location if exactly_one else [location]

    @staticmethod
    def _location(place: ZipPlace, label: str) -> Location:
        return Location(
            label,
            Point(place.latitude, place.longitude),
            {"zip_code": place.zip_code, "city": place.city, "state": place.state, "timezone": place.timezone},
        )


class CachingGeocoder:
    """An online geopy geocoder whose answers are kept in the geocode cache table."""

    def __init__(self, provider: str, geocoder: Geocoder):
        self.provider = provider
        self.geocoder = geocoder

    def geocode(self, query: str) -> Location:
        from sqlalchemy import select

        from .extensions import db
        from .models import GeocodeCacheEntry

        key = " ".join(str(query).lower().split())
        if not key:
            raise PlaceNotFound("Enter an address, a ZIP code or a city and state.")
        hit = db.session.scalar(select(GeocodeCacheEntry).filter_by(provider=self.provider, query=key))
        if hit is not None:
            return Location(hit.label, Point(hit.latitude, hit.longitude), {"cached": True})
        found = self.geocoder.geocode(query, exactly_one=True)
        if found is None:
            raise PlaceNotFound(f"We could not find '{query}'.")
        db.session.add(
            GeocodeCacheEntry(
                provider=self.provider,
                query=key,
                label=found.address,
                latitude=found.latitude,
                longitude=found.longitude,
            )
        )
        return found


def make_geocoder(setting: str, user_agent: str = "therapist-directory"):
    """The geocoder named by the GEOCODER setting."""
    if setting in ("", "gazetteer", "offline"):
        return GazetteerGeocoder()
    from geopy.geocoders import get_geocoder_for_service

    try:
        cls = get_geocoder_for_service(setting)
    except Exception as exc:  # geopy raises its own error type for unknown names
        raise ValueError(f"GEOCODER={setting!r} is not a geopy geocoder name") from exc
    return CachingGeocoder(setting, cls(user_agent=user_agent))


METERS_PER_MILE = 1609.344
# Karney's geodesic algorithm, as geographiclib (and so geopy) runs it, in PROJ's
# C implementation: the same miles, about fifty times faster than pure Python.
_GEOD = Geod(ellps="WGS84")
_inverse = _GEOD.inv
_A, _F = _GEOD.a, _GEOD.f
_E2 = _F * (2 - _F)


def distance_miles(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Geodesic (WGS-84) distance in miles: the number geopy's `geodesic(a, b).miles` gives."""
    return _inverse(a[1], a[0], b[1], b[0], return_back_azimuth=False)[2] / METERS_PER_MILE


def local_scale(lat0: float) -> tuple[float, float]:
    """Miles per degree of latitude, and of longitude before the cosine, at lat0 (WGS-84)."""
    w = math.sqrt(1 - _E2 * math.sin(math.radians(lat0)) ** 2)
    ky = math.radians(1) * _A * (1 - _E2) / w**3 / METERS_PER_MILE
    kx = math.radians(1) * _A / w / METERS_PER_MILE
    return ky, kx


def local_distance(lat0: float, lon0: float):
    """A fast distance-in-miles function from (lat0, lon0), for ranking many points.

    Flat-earth on the WGS-84 ellipsoid's radii at the origin, with the parallel
    scaled at the mid-latitude: within 0.02% of geodesic up to 100 miles (the
    tests check this), at a fraction of the cost.
    """
    ky, kx = local_scale(lat0)
    cos, rad = math.cos, math.radians

    def miles(lat: float, lon: float) -> float:
        dy = (lat - lat0) * ky
        dx = (lon - lon0) * kx * cos(rad((lat + lat0) / 2))
        return math.sqrt(dx * dx + dy * dy)

    return miles


def bounding_box(lat: float, lon: float, miles: float) -> tuple[float, float, float, float]:
    """(min_lat, max_lat, min_lon, max_lon) enclosing a circle of `miles`, with margin."""
    dlat = miles * 1.01 / MILES_PER_DEGREE_LAT + 1e-6
    cos_lat = max(math.cos(math.radians(min(89.0, abs(lat) + dlat))), 0.01)
    dlon = min(180.0, dlat / cos_lat)
    return lat - dlat, lat + dlat, lon - dlon, lon + dlon
