"""The scheduled booking mails: the reminder a day before, and "How was your visit?".

Each mail is claimed before it is sent: an UPDATE ... WHERE <sent> IS NULL marks the
booking, and the mail is queued to leave with that transaction's commit. Two
schedulers running at once both try the UPDATE; the database lets one of them
change the row (PostgreSQL makes the second wait for the first's commit, then
finds the column set; SQLite runs one writer at a time), so each mail is sent once.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import CursorResult, select, update

from .. import clock
from ..extensions import db
from ..models import Booking, BookingStatus, Review

REMINDER_AHEAD = timedelta(hours=24)
REVIEW_WINDOW = timedelta(days=14)  # visits completed longer ago than this are not asked about


def _claim(booking_id: int, column, *conditions, now: datetime) -> Booking | None:
    """Mark the booking's mail as sent, if nobody has; the booking when this caller won."""
    result = db.session.execute(
        update(Booking)
        .where(Booking.id == booking_id, column.is_(None), *conditions)
        .values({column.key: now})
        .execution_options(synchronize_session=False)
    )
    if cast(CursorResult, result).rowcount != 1:
        db.session.rollback()
        return None
    booking = db.session.get(Booking, booking_id)
    if booking is None:  # the UPDATE above just matched it, in this transaction
        raise RuntimeError(f"booking {booking_id} vanished inside its own transaction")
    db.session.refresh(booking)
    # The same value again, through the ORM: the session now holds a write, so the mail
    # queued next waits for this commit (and is dropped if it rolls back).
    setattr(booking, column.key, now)
    return booking


def send_reminders(send: Callable[[Booking], None], *, now: datetime | None = None) -> int:
    """Remind both sides of each confirmed session starting within a day; how many were sent."""
    now = now or clock.now()
    due = db.session.scalars(
        select(Booking.id).where(
            Booking.status == BookingStatus.CONFIRMED,
            Booking.reminded_at.is_(None),
            Booking.starts_at > now,
            Booking.starts_at <= now + REMINDER_AHEAD,
        )
    ).all()
    db.session.rollback()
    sent = 0
    for booking_id in due:
        booking = _claim(
            booking_id, Booking.reminded_at, Booking.status == BookingStatus.CONFIRMED, Booking.starts_at > now, now=now
        )
        if booking is not None:
            send(booking)
            db.session.commit()
            sent += 1
    return sent


def send_review_prompts(send: Callable[[Booking], None], *, now: datetime | None = None) -> int:
    """Ask each client of a visit completed in the last two weeks, once, how it was."""
    now = now or clock.now()
    reviewed = select(Review.id).where(Review.booking_id == Booking.id).exists()
    due = db.session.scalars(
        select(Booking.id).where(
            Booking.status == BookingStatus.COMPLETED,
            Booking.review_prompted_at.is_(None),
            Booking.client_id.is_not(None),
            Booking.completed_at >= now - REVIEW_WINDOW,
            ~reviewed,
        )
    ).all()
    db.session.rollback()
    sent = 0
    for booking_id in due:
        booking = _claim(booking_id, Booking.review_prompted_at, now=now)
        if booking is not None:
            send(booking)
            db.session.commit()
            sent += 1
    return sent
