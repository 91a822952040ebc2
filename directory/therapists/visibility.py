"""What of a therapist's place may leave the site, and to whom: the one rule.

A therapist who works from home may choose "show only the area until a booking
is confirmed" (BookingSettings.address_after_confirmation). For such a practice
the street, an exact position and a label naming either stay on the site,
except for the therapist, an admin, and the client of a confirmed (or
completed) booking with that therapist. Everyone else (pages, the API, the open
feeds, the public export, the client of a booking not yet confirmed) gets the
area: city, state, the 5-digit ZIP code, and the centre of a grid cell of
AREA_CELL degrees (about 2.8 km north to south) instead of the position.

Search measures its distances from the same centre (the profile's
`shown_latitude` / `shown_longitude`, kept by the listing summary with
`shown_position` and its SQL twin `shown_position_sql`), so no number of
searches from chosen points can place the practice inside its cell, and the
order of results by distance tells no more.

Every output asks `place_of`; nothing else reads `address`, `latitude` or
`longitude` of a profile for a reader outside the site.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass

from sqlalchemy import and_, case, exists, func, select

from ..models import Booking, BookingSettings, BookingStatus, TherapistProfile

AREA_CELL = 0.025  # degrees of latitude and of longitude: 2.8 km by 2.1 km at 40°N


class Audience(enum.Enum):
    PUBLIC = "public"  # anyone: pages, API, feeds, public exports, a booking not yet confirmed
    CLIENT = "client"  # the client of one booking (given with it)
    THERAPIST = "therapist"  # the therapist themself
    ADMIN = "admin"  # an admin, or an explicitly private (backup) export


@dataclass(frozen=True)
class Place:
    """A practice's place as one reader may see it."""

    street: str  # "" when withheld (or never given)
    city: str
    state: str
    postal_code: str
    latitude: float | None
    longitude: float | None
    label: str  # a name for the place: the geocoder's label, or the area
    exact: bool  # the street and the exact position are given
    withheld: bool  # the practice hides its street from this reader (say when it is given)

    @property
    def area(self) -> str:
        """Where the practice is, without the street: "Chicago, IL"."""
        return f"{self.city}, {self.state}" if self.city else self.state or self.postal_code or self.label

    @property
    def lines(self) -> list[str]:
        """The address as printed: street (when given), then "City, ST 60601"."""
        town = f"{self.city}, {self.state}" if self.city else self.state
        place = " ".join(p for p in (town, self.postal_code) if p)
        return [line for line in (self.street, place) if line]

    @property
    def one_line(self) -> str:
        return ", ".join(self.lines) or self.area

    @property
    def map_link(self) -> str | None:
        """An OpenStreetMap link (no embedded map, no tracker): the practice marked
        when exact, otherwise the area's cell, at a zoom that shows the neighbourhood."""
        if self.latitude is None or self.longitude is None:
            return None
        if self.exact:
            lat, lon = f"{self.latitude:.5f}", f"{self.longitude:.5f}"
            return f"https://www.openstreetmap.org/?mlat={lat}&mlon={lon}#map=17/{lat}/{lon}"
        return f"https://www.openstreetmap.org/#map=14/{self.latitude:.4f}/{self.longitude:.4f}"


def hides_street(profile: TherapistProfile) -> bool:
    """The therapist shows only the area until a booking is confirmed (a home practice)."""
    settings = profile.booking_settings
    return bool(settings and settings.address_after_confirmation)


def street_shown(profile: TherapistProfile, audience: Audience, booking: Booking | None = None) -> bool:
    """Whether this reader may have the street and the exact position."""
    if not hides_street(profile) or audience in (Audience.THERAPIST, Audience.ADMIN):
        return True
    return (
        audience is Audience.CLIENT
        and booking is not None
        and booking.therapist_id == profile.id
        and booking.status in (BookingStatus.CONFIRMED, BookingStatus.COMPLETED)
    )


def place_of(profile: TherapistProfile, audience: Audience = Audience.PUBLIC, booking: Booking | None = None) -> Place:
    """The practice's place as `audience` may see it (the client's view needs their booking)."""
    if street_shown(profile, audience, booking):
        return Place(
            street=profile.address.strip(),
            city=profile.city,
            state=profile.state,
            postal_code=profile.postal_code,
            latitude=profile.latitude,
            longitude=profile.longitude,
            label=profile.location_label,
            exact=True,
            withheld=False,
        )
    lat, lon = area_point(profile.latitude, profile.longitude)
    place = Place("", profile.city, profile.state, profile.postal_code[:5], lat, lon, "", exact=False, withheld=True)
    return Place(**{**place.__dict__, "label": place.area})


def area_point(latitude: float | None, longitude: float | None) -> tuple[float | None, float | None]:
    """The centre of the AREA_CELL grid cell holding the point (None when there is none)."""
    if latitude is None or longitude is None:
        return None, None
    centre = lambda degrees: (math.floor(degrees / AREA_CELL) + 0.5) * AREA_CELL
    return centre(latitude), centre(longitude)


def shown_position(profile: TherapistProfile) -> tuple[float | None, float | None]:
    """The position search and the feeds measure from: exact, or the area's centre."""
    if hides_street(profile):
        return area_point(profile.latitude, profile.longitude)
    return profile.latitude, profile.longitude


def hides_street_sql(profile_id):
    """`hides_street` in SQL: a condition on the profile id (for searches that must not
    match what the public is not shown, and for statements that write without the ORM)."""
    s = BookingSettings
    return exists(select(s.therapist_id).where(and_(s.therapist_id == profile_id, s.address_after_confirmation)))


def shown_position_sql(profile_id, latitude, longitude) -> tuple:
    """`shown_position` in SQL (the same arithmetic, so both give the same floats),
    for statements that write profiles without the ORM."""
    hidden = hides_street_sql(profile_id)
    centre = lambda degrees: (func.floor(degrees / AREA_CELL) + 0.5) * AREA_CELL
    return case((hidden, centre(latitude)), else_=latitude), case((hidden, centre(longitude)), else_=longitude)
