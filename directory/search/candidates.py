"""Loading match candidates: one single-table query over the radius box.

The profile's listing summary (therapists/listing.py) carries everything the
matching needs, so the search reads each candidate row once, joins nothing, and
hands the rows to the engine as they come; only the page of results is then
filled in with names, places and licenses.
"""

from __future__ import annotations

import math
from datetime import date, datetime
from typing import NamedTuple

from sqlalchemy import Date, Float, bindparam, select

from ..clock import ListingDays
from ..extensions import db
from ..geo import bounding_box, local_scale
from ..matching.engine import Candidate, Listing
from ..models import CredentialStatus, License, TherapistProfile
from ..therapists.profiles import MAX_MOBILE_RADIUS  # the farthest anyone may travel

P = TherapistProfile
# Exactly the columns of ix_therapist_profiles_search, so the box is read from the
# index alone; and the engine's Listing, field by field, so each row is one.
COLUMNS = (
    P.id,
    # Where the practice may be said to be (therapists/visibility.py): for a practice that
    # shows only its area, its cell's centre, so distances and their order tell no more.
    P.shown_latitude.label("latitude"),
    P.shown_longitude.label("longitude"),
    P.search_techniques.label("techniques"),
    P.search_certifications.label("certifications"),
    P.search_prices.label("prices"),
    P.gender,
    P.languages,
    P.hsa_fsa,
    P.accepting_new_clients,
    P.mobile_radius_miles,
    P.years_experience,
    P.rating_average,
    P.rating_count,
)


# The statements are built once, with parameters: building and keying a select
# costs more than a sparse search's whole fetch.
_BOX = (
    P.shown_latitude.between(bindparam("min_lat", type_=Float), bindparam("max_lat", type_=Float)),
    P.shown_longitude.between(bindparam("min_lon", type_=Float), bindparam("max_lon", type_=Float)),
)
_DY = (P.shown_latitude - bindparam("lat0", type_=Float)) * bindparam("ky", type_=Float)
_DX = (P.shown_longitude - bindparam("lon0", type_=Float)) * bindparam("kx", type_=Float)
# TherapistProfile.listable_clause with parameters (clock.ListingDays).
_LISTED = P.listed_on(
    bindparam("on", type_=Date), bindparam("on_behind", type_=Date), bindparam("behind", expanding=True)
)
_CANDIDATES = select(*COLUMNS).where(*_BOX, _LISTED, bindparam("reach", type_=Float) >= _DY * _DY + _DX * _DX)
_MOBILE_CANDIDATES = select(*COLUMNS).where(*_BOX, _LISTED, P.mobile_radius_miles > 0)
_FLOOR = select(*COLUMNS).where(*_BOX)


def _box(lat: float, lon: float, miles: float) -> dict[str, float]:
    min_lat, max_lat, min_lon, max_lon = bounding_box(lat, lon, miles)
    return {"min_lat": min_lat, "max_lat": max_lat, "min_lon": min_lon, "max_lon": max_lon}


def _circle(lat: float, lon: float, miles: float, box: dict[str, float]) -> dict[str, float]:
    """A conservative circle test the database can evaluate on the index entries.

    Flat-earth distance with the box's smallest longitude scale: it never
    overstates a distance, so no therapist inside the radius is lost; the
    engine then measures each remaining one exactly.
    """
    ky, kx = local_scale(lat)
    kx *= math.cos(math.radians(min(90.0, max(abs(box["min_lat"]), abs(box["max_lat"])))))
    return {"lat0": lat, "lon0": lon, "ky": ky, "kx": kx, "reach": (miles * 1.005) ** 2}


def candidate_query(lat: float, lon: float, miles: float, days: ListingDays, *, mobile_only: bool = False):
    """The statement and its parameters: listed therapists in the radius (in the
    box, for home visits, where each therapist's own travel radius applies and
    the engine checks it)."""
    box = _box(lat, lon, miles)
    listed = {"on": days.latest, "on_behind": days.earliest, "behind": list(days.behind)}
    if mobile_only:
        return _MOBILE_CANDIDATES, {**box, **listed}
    return _CANDIDATES, {**box, **_circle(lat, lon, miles, box), **listed}


def floor_query(lat: float, lon: float, miles: float):
    """The bare fetch of the same columns for every row in the radius box:
    what no search over this table can beat. The statement and its parameters."""
    return _FLOOR, _box(lat, lon, miles)


def load_listings(
    lat: float, lon: float, miles: float, days: ListingDays, *, home_visit: bool = False
) -> list[Listing]:
    """Rows of listed therapists near the point, as the engine reads them."""
    if home_visit:
        miles = MAX_MOBILE_RADIUS
    # Core execution (no ORM row handling) on the session's connection and transaction.
    rows = db.session.connection().execute(*candidate_query(lat, lon, miles, days, mobile_only=home_visit)).all()
    return rows  # type: ignore[return-value]  # each Row is a Listing, column for column


_PAGE = (
    select(
        P.id,
        P.name,
        P.city,
        P.state,
        P.postal_code,
        P.photo,
        License.state,
        License.number,
        License.expires_on,
        License.verified_at,
    )
    .join(License, License.therapist_id == P.id)
    .where(
        P.id.in_(bindparam("ids", expanding=True)),
        License.status == CredentialStatus.VERIFIED,
        License.expires_on >= bindparam("on", type_=Date),
    )
    .order_by(P.id, License.expires_on)
)


def fill_page(candidates: list[Candidate], on: date) -> tuple[list[Candidate], dict[int, PageLicense]]:
    """The page's candidates with names and places, and the license each is listed on
    (its latest-expiring verified license), in one query."""
    if not candidates:
        return [], {}
    rows = db.session.connection().execute(_PAGE, {"ids": [c.id for c in candidates], "on": on})
    details, licenses = {}, {}
    for r in rows:  # ordered by expiry, so the last license seen per id is the one listed
        details[r[0]] = (r[1], {"city": r[2], "state": r[3], "postal_code": r[4], "photo": bool(r[5])})
        licenses[r[0]] = PageLicense(r[6], r[7], r[8], r[9])
    filled = [c._replace(name=details[c.id][0], extra=details[c.id][1]) for c in candidates]
    return filled, licenses


class PageLicense(NamedTuple):
    """The license a result is listed on: only current licenses are loaded for a page."""

    state: str
    number: str
    expires_on: date
    verified_at: datetime | None

    @property
    def is_current(self) -> bool:
        return True
