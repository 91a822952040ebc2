"""Places, offline.

`GazetteerGeocoder` is a geopy Geocoder that answers offline from the US ZIP
centroids of the `zipcodes` package. Pure: no database, no Flask.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from geopy.geocoders.base import Geocoder
from geopy.location import Location
from geopy.point import Point

from ..vocabulary import STATES

_ZIP = re.compile(r"^\s*(\d{5})(?:-\d{4})?\s*$")
_LATLON = re.compile(r"^\s*(-?\d{1,3}(?:\.\d+)?)\s*,\s*(-?\d{1,3}(?:\.\d+)?)\s*$")
_ZIP_AT_END = re.compile(r"[\s,](\d{5})(?:-\d{4})?\s*$")


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


def normalise_city(city: str) -> str:
    city = re.sub(r"[^a-z0-9 ]", " ", city.lower())
    city = re.sub(r"\bsaint\b", "st", city)
    city = re.sub(r"\bfort\b", "ft", city)
    return " ".join(city.split())


@cache
def gazetteer() -> tuple[dict[str, ZipPlace], dict[tuple[str, str], list[ZipPlace]]]:
    """ZIP code -> place, and (city, state) -> its ZIP places, loaded once.

    Read a ZIP prefix at a time from the package's compiled core: its `list_all()`
    makes all 42,000 records at once as dicts (138 MB, which the package then keeps
    for the life of the process); the places kept here take a tenth of that."""
    from zipcodes import _zipcodes

    by_zip: dict[str, ZipPlace] = {}
    by_city: dict[tuple[str, str], list[ZipPlace]] = {}
    for prefix in range(100):
        for row in _zipcodes.similar_to(f"{prefix:02d}"):
            try:
                lat, lon = float(row["lat"]), float(row["long"])
            except (TypeError, ValueError):
                continue
            place = ZipPlace(row["zip_code"], row["city"], row["state"], lat, lon, row.get("timezone") or None)
            by_zip[place.zip_code] = place
            if row.get("active") and row.get("zip_code_type") == "STANDARD":
                by_city.setdefault((normalise_city(place.city), place.state), []).append(place)
    return by_zip, by_city


def lookup_zip(zip_code: str) -> ZipPlace | None:
    match = _ZIP.match(zip_code or "")
    return gazetteer()[0].get(match.group(1)) if match else None


def city_and_state(text: str) -> tuple[str, str] | None:
    r"""'Chicago, IL' or 'Chicago IL' -> ('Chicago', 'IL'); None when the text does not end in a
    two-letter word after a space or comma.

    A scan from the end rather than a regex: the pattern that says this
    (`(.+?)[\s,]+([A-Za-z]{2})\s*$`) backtracks quadratically over a long run of
    commas or spaces, and locations come from anyone.
    """
    text = text.rstrip()
    state, rest = text[-2:], text[:-2]
    if not (len(state) == 2 and state.isascii() and state.isalpha()):
        return None
    end = len(rest)
    while end and (rest[end - 1] == "," or rest[end - 1].isspace()):
        end -= 1
    city = rest[:end].lstrip()
    if end == len(rest) or not city or "\n" in city:
        return None
    return city, state


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
        found = city_and_state(text)
        if found is not None and "," in found[0]:
            # A street address: "12 Main St, Springfield, IL" -> the city is the last part.
            found = city_and_state(text.rsplit(",", 2)[-2] + ", " + found[1])
        if found is None or found[1].upper() not in STATES:
            raise PlaceNotFound(
                f"We could not find '{text}'. Enter a ZIP code or a city with its two-letter state, "
                "e.g. 60601 or Chicago, IL."
            )
        state = found[1].upper()
        places = gazetteer()[1].get((normalise_city(found[0]), state))
        if not places:
            raise PlaceNotFound(f"We could not find the city '{found[0].strip()}' in {STATES[state]}.")
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
