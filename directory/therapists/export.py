"""Read queries for the open feeds (HSDS, FHIR) and the bulk export.

Only listable therapists leave the application this way. Pages and the whole
directory are read with everything a published record needs (credentials,
techniques, prices, weekly hours) in a fixed number of queries per chunk, and
the export walks the table by id (keyset paging), forgetting each chunk before
the next, so memory stays bounded however large the directory is.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..models import TherapistProfile, WeeklyHours
from ..vocabulary import SESSION_LENGTHS
from .importer import COLUMNS
from .visibility import Audience, place_of

CHUNK = 500
CSV_COLUMNS = COLUMNS  # the import format


@dataclass
class Practice:
    """A listable therapist with the weekly hours the profile has no relationship for."""

    profile: TherapistProfile
    hours: list[WeeklyHours] = field(default_factory=list)  # by weekday, Monday first


def listable():
    """The select every feed starts from: listable profiles, by id."""
    return select(TherapistProfile).where(TherapistProfile.listable_clause())


def _with_details(stmt):
    return stmt.options(
        selectinload(TherapistProfile.user),
        selectinload(TherapistProfile.licenses),
        selectinload(TherapistProfile.certifications),
        selectinload(TherapistProfile.techniques),
        selectinload(TherapistProfile.prices),
        selectinload(TherapistProfile.booking_settings),  # what of the place may leave (visibility.py)
    )


def _practices(profiles: list[TherapistProfile]) -> list[Practice]:
    hours: dict[int, list[WeeklyHours]] = defaultdict(list)
    if profiles:
        rows = db.session.scalars(
            select(WeeklyHours)
            .where(WeeklyHours.therapist_id.in_([p.id for p in profiles]))
            .order_by(WeeklyHours.therapist_id, WeeklyHours.weekday)
        )
        for row in rows:
            hours[row.therapist_id].append(row)
    return [Practice(p, hours[p.id]) for p in profiles]


def count(stmt) -> int:
    return db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0


def page(stmt, *, offset: int, limit: int) -> list[Practice]:
    """One page of `stmt` (a select of profiles), ordered by id, with details."""
    stmt = _with_details(stmt.order_by(TherapistProfile.id).offset(offset).limit(limit))
    return _practices(list(db.session.scalars(stmt)))


def listed(therapist_id: int | None) -> Practice | None:
    """The listable therapist with this id, if any."""
    if therapist_id is None:
        return None
    found = page(listable().where(TherapistProfile.id == therapist_id), offset=0, limit=1)
    return found[0] if found else None


def iter_directory(chunk: int = CHUNK) -> Iterator[Practice]:
    """Every listable therapist, by id, `chunk` at a time; each chunk is dropped
    from the session before the next is read."""
    last = 0
    while True:
        stmt = _with_details(listable().where(TherapistProfile.id > last).order_by(TherapistProfile.id).limit(chunk))
        practices = _practices(list(db.session.scalars(stmt)))
        if not practices:
            return
        yield from practices
        last = practices[-1].profile.id
        db.session.expunge_all()


def csv_row(profile: TherapistProfile, audience: Audience = Audience.PUBLIC) -> dict[str, str]:
    """The profile as a row of the import format (therapists/importer.py). Only
    verified certifications are written: an import with --verified would otherwise
    verify what no admin has checked.

    The place is written as `audience` may see it (visibility.py): a public export
    leaves out the street of a home practice that shows only its area, and gives
    its area's centre as the position; only an ADMIN (backup) export carries
    everything, so that it imports back unchanged."""
    place = place_of(profile, audience)
    lic = profile.current_license
    prices = profile.price_by_minutes
    number = lambda value: "" if value is None else repr(value)
    row = {
        "name": profile.name,
        "email": profile.user.email,
        "license_number": lic.number if lic else "",
        "license_state": lic.state if lic else "",
        "license_expires": lic.expires_on.isoformat() if lic else "",
        "techniques": ";".join(profile.technique_slugs),
        "certifications": ";".join(c.slug for c in profile.verified_certifications),
        "address": place.street,
        "city": place.city,
        "state": place.state,
        "postal_code": place.postal_code,
        "latitude": number(place.latitude),
        "longitude": number(place.longitude),
        "gender": profile.gender or "",
        "languages": ";".join(profile.language_codes),
        "hsa_fsa": "yes" if profile.hsa_fsa else "no",
        "accepting_new_clients": "yes" if profile.accepting_new_clients else "no",
        "mobile_radius_miles": number(profile.mobile_radius_miles),
        "bio": profile.bio,
    }
    for minutes in SESSION_LENGTHS:
        row[f"price_{minutes}"] = str(prices[minutes]) if minutes in prices else ""
    return {column: row[column] for column in COLUMNS}
