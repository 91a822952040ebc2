"""Booking rules: request, decide, cancel, complete; one transaction each.

Two pending or confirmed bookings of one therapist never overlap: each holds
its quarter hours as rows of booking_slots, whose primary key the database
enforces, so of two racing requests for one time exactly one commits. Starts
and weekly hours are held to the quarter-hour grid (availability.py), so those
slots always meet; on PostgreSQL an exclusion constraint over the bookings'
time ranges refuses an overlap on any grid.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..matching.rules import CERTIFICATION_NAMES, join_words, technique_list
from ..matching.safety import screen_conditions
from ..models import Booking, BookingSlot, BookingStatus, Intake, TherapistProfile, TimeOff, User, WeeklyHours, utcnow
from ..receipts.services import Payment, issue
from ..service_errors import Conflict, Forbidden, ServiceError, raise_all
from .availability import GRID_RULE, WEEKDAYS, is_free, on_grid, slots_for

TAKEN = "That time was just taken. Please choose another time."


@dataclass(frozen=True)
class IntakeData:
    concerns: str = ""
    goals: tuple[str, ...] = ()
    conditions: tuple[str, ...] = ()
    medications: str = ""
    history: str = ""


def check_safety(profile: TherapistProfile, conditions) -> None:
    """The search's screening again, by the same rules, on the intake: refuse when a
    condition refuses, when the therapist lacks a certification a condition requires,
    or when they offer no technique the client may receive."""
    try:
        screen = screen_conditions(conditions)
    except ValueError as exc:
        raise ServiceError(str(exc), field="conditions") from None
    if screen.blocked:
        raise ServiceError(" ".join(screen.reasons), field="conditions")
    held = {c.slug for c in profile.verified_certifications}
    missing = [CERTIFICATION_NAMES[c] for c in screen.required_certifications if c not in held]
    if missing:
        needed = screen.during(
            lambda rule: bool(rule.required_certification) and rule.required_certification not in held
        )
        raise ServiceError(
            f"{profile.name} has no verified {join_words(missing)}, which is required {needed}. "
            "Choose a therapist who does.",
            field="conditions",
        )
    if screen.excluded_techniques and not any(screen.allows(t) for t in profile.technique_slugs):
        raise ServiceError(
            f"{profile.name} offers no technique you may receive now: you may receive "
            f"{technique_list(screen.allowed_techniques, 'or')}.",
            field="conditions",
        )


def request_booking(
    client: User,
    profile: TherapistProfile,
    start: datetime,
    minutes: int,
    intake: IntakeData,
    *,
    now: datetime | None = None,
) -> Booking:
    """A pending booking for a free time, at today's price; BookingError otherwise."""
    start = start.astimezone(UTC)
    if not on_grid(start):
        raise ServiceError(f"{start:%H:%M} is not an offered start time. {GRID_RULE}", field="start")
    if client.id == profile.user_id:
        raise Forbidden("You cannot book yourself.")
    if not profile.is_listable:
        raise ServiceError(f"{profile.name} is not taking bookings through the directory right now.")
    price = profile.price_by_minutes.get(minutes)
    if price is None:
        raise ServiceError(f"{profile.name} does not offer {minutes}-minute sessions.", field="minutes")
    check_safety(profile, intake.conditions)
    if not is_free(profile, start, minutes, now=now):
        raise Conflict(TAKEN, field="start")
    booking = Booking(
        therapist_id=profile.id,
        client_id=client.id,
        starts_at=start,
        ends_at=start + timedelta(minutes=minutes),
        minutes=minutes,
        price_amount=price,
        status=BookingStatus.PENDING,
        intake=Intake(
            concerns=intake.concerns.strip(),
            goals=";".join(intake.goals),
            conditions=";".join(intake.conditions),
            medications=intake.medications.strip(),
            history=intake.history.strip(),
        ),
    )
    booking.slots = [BookingSlot(therapist_id=profile.id, slot_start=s) for s in slots_for(start, minutes)]
    db.session.add(booking)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise Conflict(TAKEN, field="start") from None
    return booking


def decide(profile: TherapistProfile, booking: Booking, *, accept: bool, message: str) -> Booking:
    if booking.status != BookingStatus.PENDING:
        raise Conflict(f"This request was already {booking.status.value}.")
    booking.status = BookingStatus.CONFIRMED if accept else BookingStatus.DECLINED
    booking.decided_at, booking.therapist_message = utcnow(), (message or "").strip() or None
    if not accept:
        booking.slots = []  # its time is free again
    db.session.commit()
    return booking


def cancel(booking: Booking, *, by: str, reason: str) -> Booking:
    reason = (reason or "").strip()
    if not reason:
        raise ServiceError("Give a reason for cancelling: the other side will read it.", field="reason")
    if not booking.holds_time:
        raise Conflict(f"This booking is {booking.status.value}; it cannot be cancelled.")
    if booking.starts_at <= datetime.now(UTC):
        raise ServiceError("This session has already started.")
    booking.cancel(by=by, reason=reason)
    db.session.commit()
    return booking


def complete(booking: Booking, payment: Payment | None = None, *, now: datetime | None = None) -> Booking:
    """The visit took place: completed, with its receipt for what was paid (the booked price
    when the caller does not say), in one transaction."""
    now = now or datetime.now(UTC)
    if booking.status != BookingStatus.CONFIRMED:
        raise ServiceError("Only a confirmed booking can be marked completed.")
    if booking.starts_at > now:
        raise ServiceError("A visit can be marked completed once it has started.")
    try:
        issue(booking, payment or Payment(booking.price_amount))
        booking.status, booking.completed_at = BookingStatus.COMPLETED, now
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return booking


def for_client(client: User) -> list[Booking]:
    return list(
        db.session.scalars(
            select(Booking)
            .where(Booking.client_id == client.id)
            .options(selectinload(Booking.therapist), selectinload(Booking.review), selectinload(Booking.receipt))
            .order_by(Booking.starts_at.desc())
        )
    )


def for_therapist(profile: TherapistProfile) -> list[Booking]:
    return list(
        db.session.scalars(
            select(Booking)
            .where(Booking.therapist_id == profile.id)
            .options(selectinload(Booking.client), selectinload(Booking.intake))
            .order_by(Booking.starts_at)
        )
    )


def visible_to(user: User, booking_id: int) -> tuple[Booking, str] | None:
    """The booking and the viewer's side ('client' or 'therapist'), if this user is one of them."""
    booking = db.session.get(Booking, booking_id)
    if booking is None:
        return None
    if booking.client_id == user.id:
        return booking, "client"
    if user.therapist is not None and booking.therapist_id == user.therapist.id:
        return booking, "therapist"
    return None


def weekly_hours(profile: TherapistProfile) -> dict[int, WeeklyHours]:
    return {h.weekday: h for h in db.session.scalars(select(WeeklyHours).filter_by(therapist_id=profile.id))}


def set_weekly_hours(profile: TherapistProfile, spans: dict) -> None:
    """Replace the weekly hours: weekday -> (start, end), or None for a day off; one transaction."""
    problems = [
        ServiceError(f"On {WEEKDAYS[day]}, {moment:%H:%M} is not on the quarter hour. {GRID_RULE}", field=field)
        for day, span in sorted(spans.items())
        if span is not None
        for moment, field in zip(span, (f"d{day}_start", f"d{day}_end"))
        if not on_grid(moment)
    ]
    raise_all(problems)
    have = weekly_hours(profile)
    for day, span in spans.items():
        if span is None:
            if day in have:
                db.session.delete(have[day])
            continue
        hours = have.get(day) or WeeklyHours(therapist_id=profile.id, weekday=day)
        hours.start_time, hours.end_time = span
        db.session.add(hours)
    db.session.commit()


def time_off(profile: TherapistProfile) -> list[TimeOff]:
    return list(db.session.scalars(select(TimeOff).filter_by(therapist_id=profile.id).order_by(TimeOff.starts_on)))


def add_time_off(profile: TherapistProfile, starts_on, ends_on, note: str) -> TimeOff:
    off = TimeOff(therapist_id=profile.id, starts_on=starts_on, ends_on=ends_on, note=(note or "").strip())
    db.session.add(off)
    db.session.commit()
    return off


def remove_time_off(profile: TherapistProfile, off_id: int) -> bool:
    off = db.session.get(TimeOff, off_id)
    if off is None or off.therapist_id != profile.id:
        return False
    db.session.delete(off)
    db.session.commit()
    return True
