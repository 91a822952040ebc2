"""Therapists for the feed and export tests: listed ones with everything a
record can carry, and the unlisted kinds that must never appear."""

from __future__ import annotations

from datetime import time

from directory.extensions import db
from directory.models import CredentialStatus, WeeklyHours


def directory(factory) -> dict:
    """Two listed therapists (one in full), one pending, one suspended; by role."""
    full = factory.therapist(
        name="Ana Maria Lopez",
        techniques=("swedish", "prenatal"),
        certifications=("prenatal",),
        prices={30: 55, 60: 95, 90: 130},
        languages="en;es",
        hsa_fsa=True,
        mobile_radius_miles=12.5,
        bio="Gentle, attentive work.",
        address="233 S Wacker Dr",
        timezone="America/Chicago",
        location_label="Chicago, IL 60601",
        commit=False,
    )
    plain = factory.therapist(
        name="Ben Okafor",
        city="Evanston",
        postal_code="60201",
        lat_lon=(42.0411, -87.6901),
        techniques=("sports",),
        accepting_new_clients=False,
        commit=False,
    )
    pending = factory.therapist(name="Pat Pending", license_status=CredentialStatus.PENDING, commit=False)
    suspended = factory.therapist(name="Sam Suspended", suspended=True, commit=False)
    db.session.flush()
    for weekday, (start, end) in {0: (9, 17), 1: (9, 17), 3: (12, 20), 5: (10, 14)}.items():
        db.session.add(WeeklyHours(therapist_id=full.id, weekday=weekday, start_time=time(start), end_time=time(end)))
    db.session.commit()
    return {"full": full, "plain": plain, "pending": pending, "suspended": suspended}
