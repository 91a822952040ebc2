"""Reading a therapist's own practice: what they own, how complete the profile
is, what waits for them. Changes go through the profile service
(therapists/profiles.py)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from ..extensions import db
from ..models import Booking, BookingStatus, Document, License, TherapistProfile


def owned_license(profile: TherapistProfile, license_id: int) -> License | None:
    return next((lic for lic in profile.licenses if lic.id == license_id), None)


def owned_document(user, document_id: int) -> Document | None:
    """The document if this user may read it: its owner, or an admin."""
    document = db.session.get(Document, document_id)
    if document is None or not (document.owner_id == user.id or user.is_admin):
        return None
    return document


@dataclass(frozen=True)
class Step:
    done: bool
    text: str
    endpoint: str


def completeness(profile: TherapistProfile) -> tuple[int, list[Step]]:
    """How complete the profile is (percent) and the steps, in the order to take them."""
    licenses = profile.licenses
    steps = [
        Step(profile.user.email_confirmed_at is not None, "Confirm your email address", "practice.dashboard"),
        Step(profile.latitude is not None, "Add your practice location", "practice.profile"),
        Step(bool(profile.techniques), "Choose the techniques you offer", "practice.profile"),
        Step(bool(profile.prices), "Set your prices", "practice.profile"),
        Step(len(profile.bio or "") >= 80, "Write a bio of a few sentences", "practice.profile"),
        Step(profile.photo is not None, "Add a photo", "practice.profile"),
        Step(bool(licenses), "Submit your license", "practice.credentials"),
        Step(any(lic.is_current for lic in licenses), "Get your license verified", "practice.credentials"),
    ]
    percent = round(100 * sum(s.done for s in steps) / len(steps))
    return percent, steps


def pending_requests(profile: TherapistProfile) -> int:
    """Booking requests waiting for this therapist's answer."""
    return (
        db.session.scalar(
            select(func.count(Booking.id)).where(
                Booking.therapist_id == profile.id, Booking.status == BookingStatus.PENDING
            )
        )
        or 0
    )
