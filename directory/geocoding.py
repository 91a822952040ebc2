"""The geocoder the application uses, and the one place a location is resolved.

Offline by default (the gazetteer); with `GEOCODER=<geopy service>` an online
geocoder whose answers are kept in the database, so each place is asked for
once. `locate` reads a search's location; `place_practice` a therapist's
practice address.
"""

from __future__ import annotations

from dataclasses import dataclass

from geopy.geocoders.base import Geocoder
from geopy.location import Location
from geopy.point import Point
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from .extensions import db
from .geo import GazetteerGeocoder, PlaceNotFound, lookup_zip, parse_lat_lon
from .models import GeocodeCacheEntry, utcnow
from .service_errors import ServiceError


class CachingGeocoder:
    """An online geopy geocoder whose answers are kept in the geocode cache table.

    The cache row is written in a transaction of its own, on its own
    connection: a search commits nothing, and a form whose save fails still
    keeps the answer it paid an online call for.
    """

    def __init__(self, provider: str, geocoder: Geocoder):
        self.provider = provider
        self.geocoder = geocoder

    def geocode(self, query: str) -> Location:
        key = " ".join(str(query).lower().split())
        if not key:
            raise PlaceNotFound("Enter an address, a ZIP code or a city and state.")
        if len(key) > 300:
            raise PlaceNotFound("That address is too long: use at most 300 characters.")
        hit = db.session.scalar(select(GeocodeCacheEntry).filter_by(provider=self.provider, query=key))
        if hit is not None:
            return Location(hit.label, Point(hit.latitude, hit.longitude), {"cached": True})
        found = self.geocoder.geocode(query, exactly_one=True)
        if found is None:
            raise PlaceNotFound(f"We could not find '{query}'.")
        self._keep(key, found)
        return found

    def _keep(self, key: str, found: Location) -> None:
        row = {
            "provider": self.provider,
            "query": key,
            "label": str(found.address)[:300],
            "latitude": found.latitude,
            "longitude": found.longitude,
        }
        try:
            with db.engine.begin() as conn:
                conn.execute(insert(GeocodeCacheEntry).values(**row, created_at=utcnow()))
        except IntegrityError:
            pass  # another request cached the same place first


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


@dataclass(frozen=True)
class Place:
    """Where a client searches from."""

    query: str
    label: str
    latitude: float
    longitude: float


def locate(query: str, geocoder) -> Place:
    """A ZIP, 'City, ST', an address, or 'lat,lon' -> a Place; ServiceError on `location` if unknown."""
    try:
        pair = parse_lat_lon(query)
        if pair is not None:
            return Place(query, f"{pair[0]:.4f}, {pair[1]:.4f}", *pair)
        found = geocoder.geocode(query)
    except PlaceNotFound as exc:
        raise ServiceError(str(exc), field="location") from None
    return Place(query, found.address, found.latitude, found.longitude)


@dataclass(frozen=True)
class PracticePlace:
    """A practice location, resolved: coordinates, the address parts to keep, the time zone."""

    latitude: float
    longitude: float
    address: str
    city: str
    state: str
    postal_code: str
    label: str
    timezone: str | None


def place_practice(
    geocoder,
    *,
    address: str = "",
    city: str = "",
    state: str = "",
    postal_code: str = "",
    latitude: float | None = None,
    longitude: float | None = None,
) -> PracticePlace:
    """Resolve a practice location: coordinates when given, else the ZIP code, else
    the address with city and state. ServiceError names the field that failed."""
    zip_place = None
    if postal_code:
        zip_place = lookup_zip(postal_code)
        if zip_place is None:
            raise ServiceError(f"We could not find the ZIP code {postal_code}.", field="postal_code")
    city = city or (zip_place.city if zip_place else "")
    state = state or (zip_place.state if zip_place else "")
    zip_code = zip_place.zip_code if zip_place else ""
    timezone = zip_place.timezone if zip_place else None
    if latitude is not None and longitude is not None:
        label = f"{city}, {state} {zip_code}".strip(", ") if city else f"{latitude:.4f}, {longitude:.4f}"
        return PracticePlace(latitude, longitude, address, city, state, zip_code, label, timezone)
    if zip_place is not None:
        label = f"{zip_place.city}, {zip_place.state} {zip_place.zip_code}"
        return PracticePlace(zip_place.latitude, zip_place.longitude, address, city, state, zip_code, label, timezone)
    query = ", ".join(p for p in (address, city, state) if p)
    if not query:
        raise ServiceError(
            "Enter your ZIP code, or your city and state, so clients nearby can find you.", field="postal_code"
        )
    try:
        found = geocoder.geocode(query)
    except PlaceNotFound as exc:
        raise ServiceError(str(exc), field="city") from None
    zips = found.raw.get("zip_codes") if isinstance(found.raw, dict) else None
    first = lookup_zip(zips[0]) if zips else None
    return PracticePlace(
        found.latitude, found.longitude, address, city, state, "", found.address, first.timezone if first else None
    )
