"""Loading match candidates: one single-table query over the radius box.

The profile's listing summary (therapists/listing.py) carries everything the
matching needs, so the search reads each candidate row once and joins nothing.
"""
from __future__ import annotations

import math
from datetime import date, datetime
from typing import NamedTuple

from sqlalchemy import select

from ..extensions import db
from ..geo import bounding_box, local_scale
from ..matching.engine import Candidate
from ..models import CredentialStatus, License, TherapistProfile

P = TherapistProfile
MAX_MOBILE_RADIUS = 100.0
# Exactly the columns of ix_therapist_profiles_search, so the box is read from the index alone.
COLUMNS = (
    P.id, P.latitude, P.longitude, P.search_techniques, P.search_certifications,
    P.search_prices, P.gender, P.languages, P.hsa_fsa, P.accepting_new_clients,
    P.mobile_radius_miles, P.years_experience, P.rating_average, P.rating_count,
)


def _box(lat: float, lon: float, miles: float):
    min_lat, max_lat, min_lon, max_lon = bounding_box(lat, lon, miles)
    return P.latitude.between(min_lat, max_lat), P.longitude.between(min_lon, max_lon)


def _circle(lat: float, lon: float, miles: float):
    """A conservative circle test the database can evaluate on the index entries.

    Flat-earth distance with the box's smallest longitude scale: it never
    overstates a distance, so no therapist inside the radius is lost; the
    engine then measures each remaining one exactly.
    """
    min_lat, max_lat, _, _ = bounding_box(lat, lon, miles)
    ky, kx = local_scale(lat)
    kx *= math.cos(math.radians(min(90.0, max(abs(min_lat), abs(max_lat)))))
    reach = (miles * 1.005) ** 2
    dy, dx = (P.latitude - lat) * ky, (P.longitude - lon) * kx
    return dy * dy + dx * dx <= reach


def candidate_query(lat: float, lon: float, miles: float, on: date, *, mobile_only: bool = False):
    stmt = select(*COLUMNS).where(*_box(lat, lon, miles), P.listed_until >= on)
    if mobile_only:  # each therapist's own travel radius applies: the engine checks it
        return stmt.where(P.mobile_radius_miles > 0)
    return stmt.where(_circle(lat, lon, miles))


def floor_query(lat: float, lon: float, miles: float):
    """The bare fetch of the same columns for every row in the radius box:
    what no search over this table can beat."""
    return select(*COLUMNS).where(*_box(lat, lon, miles))


class _Parsed(dict):
    """Memo of parsed summary strings: a national search sees few distinct ones."""

    def __init__(self, parse):
        super().__init__()
        self.parse = parse

    def __missing__(self, key):
        value = self[key] = self.parse(key)
        return value


def _certifications(text: str, on: date) -> frozenset[str]:
    slugs = set()
    for item in text.split(",") if text else ():
        slug, _, expires = item.partition("@")
        if not expires or date.fromisoformat(expires) >= on:
            slugs.add(slug)
    return frozenset(slugs)


def _prices(text: str) -> dict[int, float]:
    out = {}
    for item in text.split(",") if text else ():
        minutes, _, amount = item.partition(":")
        out[int(minutes)] = float(amount)
    return out


def to_candidates(rows, on: date) -> list[Candidate]:
    techniques = _Parsed(lambda s: frozenset(s.split(",")) if s else frozenset())
    certifications = _Parsed(lambda s: _certifications(s, on))
    prices = _Parsed(_prices)
    languages = _Parsed(lambda s: tuple(s.split(";")))
    new = tuple.__new__  # Candidate's fields in order, without argument binding: thousands per search
    return [
        # listed_until >= on was checked by the query, so the license is current.
        new(Candidate, (
            r[0], "", r[1], r[2], techniques[r[3]], certifications[r[4]], prices[r[5]],
            True, None, False, r[6], languages[r[7]], r[8], r[9], r[10], r[11], r[12], r[13], None,
        ))
        for r in rows
    ]


def load_candidates(lat: float, lon: float, miles: float, on: date, *, home_visit: bool = False) -> list[Candidate]:
    if home_visit:
        miles = MAX_MOBILE_RADIUS
    # Core execution (no ORM row handling) on the session's connection and transaction.
    rows = db.session.connection().execute(candidate_query(lat, lon, miles, on, mobile_only=home_visit)).all()
    return to_candidates(rows, on)


def fill_page(candidates: list[Candidate], on: date) -> tuple[list[Candidate], dict[int, PageLicense]]:
    """The page's candidates with names and places, and the license each is listed on
    (its latest-expiring verified license), in one query."""
    ids = [c.id for c in candidates]
    if not ids:
        return [], {}
    rows = db.session.connection().execute(
        select(P.id, P.name, P.city, P.state, P.postal_code,
               License.state, License.number, License.expires_on, License.verified_at)
        .join(License, License.therapist_id == P.id)
        .where(P.id.in_(ids), License.status == CredentialStatus.VERIFIED, License.expires_on >= on)
        .order_by(P.id, License.expires_on)
    )
    details, licenses = {}, {}
    for r in rows:  # ordered by expiry, so the last license seen per id is the one listed
        details[r[0]] = {"city": r[2], "state": r[3], "postal_code": r[4], "name": r[1]}
        licenses[r[0]] = PageLicense(r[5], r[6], r[7], r[8])
    filled = [c._replace(name=details[c.id].pop("name"), extra=details[c.id]) for c in candidates]
    return filled, licenses


class PageLicense(NamedTuple):
    state: str
    number: str
    expires_on: date
    verified_at: datetime | None

    is_current = True  # only current licenses are loaded for a page
