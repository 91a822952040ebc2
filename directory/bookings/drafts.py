"""A booking form kept on the server while its visitor signs in or creates an account.

The visitor's session cookie holds only a random key; the row holds the digest
of that key and what was typed, so no health detail goes into a URL or a cookie.
A draft is removed when its booking is sent, when the visitor starts another,
and by the hourly job once older than DRAFT_HOURS (reading ignores older ones).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import cast

from sqlalchemy import CursorResult, delete, select

from ..extensions import db
from ..models import BookingDraft
from .services import IntakeData

DRAFT_HOURS = 3


@dataclass(frozen=True)
class Draft:
    therapist_id: int
    start: datetime | None
    minutes: int
    intake: IntakeData


def keep(old_key: str | None, therapist_id: int, start: datetime | None, minutes: int, intake: IntakeData) -> str:
    """Store the form, replacing the visitor's previous draft; the new key for their session."""
    if old_key:
        db.session.execute(delete(BookingDraft).where(BookingDraft.key_digest == BookingDraft.digest(old_key)))
    key = secrets.token_urlsafe(32)
    db.session.add(
        BookingDraft(
            key_digest=BookingDraft.digest(key),
            therapist_id=therapist_id,
            starts_at=start,
            minutes=minutes,
            concerns=intake.concerns,
            goals=";".join(intake.goals),
            conditions=";".join(intake.conditions),
            medications=intake.medications,
            history=intake.history,
        )
    )
    db.session.commit()
    return key


def find(key: str | None, *, now: datetime | None = None) -> Draft | None:
    """The visitor's draft, if it is there and still fresh."""
    if not key:
        return None
    row = db.session.scalar(select(BookingDraft).where(BookingDraft.key_digest == BookingDraft.digest(key)))
    if row is None or row.created_at < (now or datetime.now(UTC)) - timedelta(hours=DRAFT_HOURS):
        return None
    split = lambda text: tuple(s for s in (text or "").split(";") if s)
    return Draft(
        row.therapist_id,
        row.starts_at,
        row.minutes,
        IntakeData(row.concerns, split(row.goals), split(row.conditions), row.medications, row.history),
    )


def discard(key: str | None) -> None:
    if key:
        db.session.execute(delete(BookingDraft).where(BookingDraft.key_digest == BookingDraft.digest(key)))
        db.session.commit()


def purge(*, now: datetime | None = None) -> int:
    """Remove drafts older than DRAFT_HOURS (the hourly job); how many went."""
    cutoff = (now or datetime.now(UTC)) - timedelta(hours=DRAFT_HOURS)
    result = db.session.execute(delete(BookingDraft).where(BookingDraft.created_at < cutoff))
    gone = cast(CursorResult, result).rowcount
    db.session.commit()
    return gone or 0
