"""Queries over therapist profiles shared by the pages, the API and the CLI."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import exists, func, select
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..models import Certification, License, TherapistProfile, TherapistTechnique
from ..service_errors import ServiceError
from ..vocabulary import STATES, TECHNIQUES


@dataclass(frozen=True)
class ListingFilters:
    city: str = ""
    state: str = ""
    technique: str = ""

    @classmethod
    def parse(cls, args) -> ListingFilters:
        city = " ".join((args.get("city") or "").split())[:100]
        state = (args.get("state") or "").strip().upper()
        technique = (args.get("technique") or "").strip().lower()
        if state and state not in STATES:
            raise ServiceError("State must be a two-letter US state code such as IL or NY.", field="state")
        if technique and technique not in TECHNIQUES:
            raise ServiceError("Technique must be one of: " + ", ".join(TECHNIQUES) + ".", field="technique")
        return cls(city, state, technique)


def _with_details(stmt):
    return stmt.options(
        selectinload(TherapistProfile.licenses).selectinload(License.verified_by),
        selectinload(TherapistProfile.certifications).selectinload(Certification.verified_by),
        selectinload(TherapistProfile.techniques),
        selectinload(TherapistProfile.prices),
    )


def listing_query(filters: ListingFilters):
    stmt = select(TherapistProfile).where(TherapistProfile.listable_clause())
    if filters.city:
        stmt = stmt.where(func.lower(TherapistProfile.city) == filters.city.lower())
    if filters.state:
        stmt = stmt.where(TherapistProfile.state == filters.state)
    if filters.technique:
        stmt = stmt.where(
            exists().where(
                TherapistTechnique.therapist_id == TherapistProfile.id,
                TherapistTechnique.technique == filters.technique,
            )
        )
    return _with_details(stmt.order_by(TherapistProfile.name, TherapistProfile.id))


def get_listable(therapist_id: int) -> TherapistProfile | None:
    """The profile if the public may see it, else None."""
    stmt = _with_details(
        select(TherapistProfile).where(TherapistProfile.id == therapist_id, TherapistProfile.listable_clause())
    )
    return db.session.scalar(stmt)


def listed_cities(limit: int = 24) -> list[tuple[str, str, int]]:
    """The cities with the most listed therapists, for browsing from the home page."""
    stmt = (
        select(TherapistProfile.city, TherapistProfile.state, func.count())
        .where(TherapistProfile.listable_clause())
        .group_by(TherapistProfile.city, TherapistProfile.state)
        .order_by(func.count().desc(), TherapistProfile.city)
        .limit(limit)
    )
    return [tuple(row) for row in db.session.execute(stmt)]
