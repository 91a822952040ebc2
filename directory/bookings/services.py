"""Booking rules: request, decide, cancel, reschedule, complete; one transaction each.

Two pending or confirmed bookings of one therapist never overlap: each holds
its quarter hours as rows of booking_slots, whose primary key the database
enforces, so of two racing requests for one time exactly one commits. Starts
and weekly hours are held to the quarter-hour grid (availability.py), so those
slots always meet; on PostgreSQL an exclusion constraint over the bookings'
time ranges refuses an overlap on any grid.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from .. import booking_states as states
from .. import clock, notifications
from ..booking_states import TAKEN, Actor
from ..extensions import db
from ..matching.rules import CERTIFICATION_NAMES, join_words, technique_list
from ..matching.safety import screen_conditions
from ..models import (
    Booking,
    BookingMessage,
    BookingSettings,
    BookingStatus,
    Intake,
    TherapistProfile,
    TimeOff,
    User,
    WeeklyHours,
    utcnow,
)
from ..receipts.services import Payment, check_payment, issue
from ..service_errors import Conflict, Forbidden, NotFound, ServiceError, raise_all
from .availability import GRID_RULE, WEEKDAYS, is_free, on_grid


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


def check_request(profile: TherapistProfile, start: datetime, minutes: int, intake: IntakeData, *, now=None) -> None:
    """Everything about a request that does not depend on who sends it: a free time on
    the grid, a priced length, an intake the safety rules accept. ServiceError otherwise."""
    start = start.astimezone(UTC)
    if not on_grid(start):
        raise ServiceError(f"{start:%H:%M} is not an offered start time. {GRID_RULE}", field="start")
    if not profile.is_listable:
        raise ServiceError(f"{profile.name} is not taking bookings through the directory right now.")
    if profile.price_by_minutes.get(minutes) is None:
        raise ServiceError(f"{profile.name} does not offer {minutes}-minute sessions.", field="minutes")
    check_safety(profile, intake.conditions)
    if not is_free(profile, start, minutes, now=now):
        raise Conflict(TAKEN, field="start")


def request_booking(
    client: User,
    profile: TherapistProfile,
    start: datetime,
    minutes: int,
    intake: IntakeData,
    *,
    now: datetime | None = None,
) -> Booking:
    """A pending booking for a free time, at today's price, announced to both sides; ServiceError otherwise."""
    start = start.astimezone(UTC)
    if client.id == profile.user_id:
        raise Forbidden("You cannot book yourself.")
    check_request(profile, start, minutes, intake, now=now)
    booking = Booking(
        therapist_id=profile.id,
        therapist=profile,
        client_id=client.id,
        client=client,
        starts_at=start,
        ends_at=start + timedelta(minutes=minutes),
        minutes=minutes,
        price_amount=profile.price_by_minutes[minutes],
        # The buffer after the session is held with it: the slots' key then keeps it free.
        buffer_minutes=settings_of(profile).buffer_minutes,
        intake=Intake(
            concerns=intake.concerns.strip(),
            goals=";".join(intake.goals),
            conditions=";".join(intake.conditions),
            medications=intake.medications.strip(),
            history=intake.history.strip(),
        ),
    )
    return states.create(booking)


def client_change_deadline(booking: Booking) -> datetime:
    """Until when the client may cancel or move this booking online (the therapist's notice)."""
    return booking.starts_at - timedelta(hours=settings_of(booking.therapist).notice_hours)


def _within_notice(booking: Booking, now: datetime, what: str) -> None:
    deadline = client_change_deadline(booking)
    if now > deadline:
        hours = settings_of(booking.therapist).notice_hours
        raise ServiceError(
            f"{booking.therapist.name} asks for {hours} hours' notice to {what} a booking, so it can no longer "
            f"be done online. Send {booking.therapist.name} a message below instead."
        )


def reschedule(booking: Booking, start: datetime, *, now: datetime | None = None) -> Booking:
    """The client moves their booking: the old time is freed and the new one taken in one
    transaction; the length, price, status and intake stay. Both sides are emailed."""
    now = now or clock.now()
    start = start.astimezone(UTC)
    states.check(booking, "reschedule", Actor.CLIENT)
    if booking.status == BookingStatus.CONFIRMED:
        _within_notice(booking, now, "move")
    if start == booking.starts_at:
        raise ServiceError("Choose a time other than the one you have.", field="start")
    profile = booking.therapist
    if not on_grid(start):
        raise ServiceError(f"{start:%H:%M} is not an offered start time. {GRID_RULE}", field="start")
    if not is_free(profile, start, booking.minutes, now=now, moving=booking):
        raise Conflict(TAKEN, field="start")
    old_when = notifications.when_of(booking)
    return states.apply(
        booking,
        "reschedule",
        Actor.CLIENT,
        changes={
            "starts_at": start,
            "ends_at": start + timedelta(minutes=booking.minutes),
            "buffer_minutes": settings_of(profile).buffer_minutes,
            "reminded_at": None,  # the reminder belongs to the new time
        },
        mail={"old_when": old_when},
    )


def decide(profile: TherapistProfile, booking: Booking, *, accept: bool, message: str) -> Booking:
    """The therapist accepts or declines a request; the client is emailed either way."""
    if booking.therapist_id != profile.id:
        raise NotFound("No such booking.")
    return states.apply(
        booking,
        "accept" if accept else "decline",
        Actor.THERAPIST,
        changes={"decided_at": utcnow(), "therapist_message": (message or "").strip() or None},
    )


def cancel(booking: Booking, *, by: str, reason: str, now: datetime | None = None) -> Booking:
    """Either side cancels with a reason; a client only until the therapist's notice."""
    now = now or clock.now()
    reason = (reason or "").strip()
    if not reason:
        raise ServiceError("Give a reason for cancelling: the other side will read it.", field="reason")
    actor = Actor(by)
    states.check(booking, "cancel", actor)
    if booking.starts_at <= now:
        raise ServiceError("This session has already started.")
    if actor == Actor.CLIENT and booking.status == BookingStatus.CONFIRMED:
        _within_notice(booking, now, "cancel")
    return states.apply(booking, "cancel", actor, changes={"cancelled_by": by, "cancel_reason": reason})


def complete(booking: Booking, payment: Payment | None = None, *, now: datetime | None = None) -> Booking:
    """The visit took place: completed, with its receipt for what was paid (the booked price
    when the caller does not say), in one transaction."""
    now = now or clock.now()
    states.check(booking, "complete", Actor.THERAPIST)
    if booking.starts_at > now:
        raise ServiceError("A visit can be marked completed once it has started.")
    payment = payment or Payment(booking.price_amount)
    raise_all(check_payment(booking, payment))
    with states.settling():
        states.apply(booking, "complete", Actor.THERAPIST, changes={"completed_at": now}, commit=False)
        issue(booking, payment)
    return booking


def mark_no_show(booking: Booking, *, now: datetime | None = None) -> Booking:
    """The client never came: once the visit's time has begun, the therapist says so."""
    now = now or clock.now()
    states.check(booking, "no_show", Actor.THERAPIST)
    if booking.starts_at > now:
        raise ServiceError("A visit can be marked missed once its time has begun.")
    return states.apply(booking, "no_show", Actor.THERAPIST)


def expire_unanswered(*, now: datetime | None = None) -> int:
    """Requests nobody answered before their time expire (the scheduled job); each is its own
    transition, so one answered at this very moment simply is not expired."""
    now = now or clock.now()
    due = db.session.scalars(
        select(Booking.id).where(Booking.status == BookingStatus.PENDING, Booking.starts_at <= now)
    ).all()
    expired = 0
    for booking_id in due:
        booking = db.session.get(Booking, booking_id)
        if booking is None:
            continue
        try:
            states.apply(booking, "expire", Actor.SYSTEM)
            expired += 1
        except Conflict:
            continue  # answered or cancelled a moment ago: nothing to expire
    return expired


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


def weekly_hours(profile: TherapistProfile) -> dict[int, list[tuple[time, time]]]:
    """weekday -> its time ranges, earliest first."""
    hours: dict[int, list[tuple[time, time]]] = {}
    rows = db.session.scalars(
        select(WeeklyHours).filter_by(therapist_id=profile.id).order_by(WeeklyHours.weekday, WeeklyHours.start_time)
    )
    for h in rows:
        hours.setdefault(h.weekday, []).append((h.start_time, h.end_time))
    return hours


def range_field(day: int, index: int, end: str) -> str:
    """The form field of a day's range: d0_start, d0_end for the first; d0_start_2 for the second."""
    return f"d{day}_{end}" + (f"_{index + 1}" if index else "")


def set_weekly_hours(profile: TherapistProfile, spans: dict, settle: Settle | None = None) -> None:
    """Replace the weekly hours, one transaction: weekday -> a list of (start, end) ranges
    (or one range, or None for a day off). Every time on the grid, each range's end
    after its start, and a day's ranges apart from each other. Booked visits the new hours
    leave out are kept or cancelled as `settle` says (InTheWay when it says nothing)."""
    days = {
        day: [] if span is None else [span] if isinstance(span, tuple) else list(span) for day, span in spans.items()
    }
    problems = []
    for day, ranges in sorted(days.items()):
        for index, (start, end) in enumerate(ranges):
            for moment, which in ((start, "start"), (end, "end")):
                if not on_grid(moment):
                    problems.append(
                        ServiceError(
                            f"On {WEEKDAYS[day]}, {moment:%H:%M} is not on the quarter hour. {GRID_RULE}",
                            field=range_field(day, index, which),
                        )
                    )
            if start >= end:
                problems.append(
                    ServiceError(
                        f"On {WEEKDAYS[day]} the end must come after the start.", field=range_field(day, index, "end")
                    )
                )
        ordered = sorted(ranges)
        for (_, earlier_end), (later_start, _) in zip(ordered, ordered[1:]):
            if later_start < earlier_end:
                index = ranges.index(next(r for r in ranges if r[0] == later_start))
                problems.append(
                    ServiceError(
                        f"On {WEEKDAYS[day]} two ranges overlap ({later_start:%H:%M} starts before "
                        f"{earlier_end:%H:%M} ends): make them apart, or one range.",
                        field=range_field(day, index, "start"),
                    )
                )
    raise_all(problems)
    in_the_way = [b for b in _upcoming(profile) if _outside_hours(b, profile, days)]
    with states.settling():
        _settle(in_the_way, settle, "would fall outside the new weekly hours")
        for hours in db.session.scalars(
            select(WeeklyHours).where(WeeklyHours.therapist_id == profile.id, WeeklyHours.weekday.in_(list(days)))
        ):
            db.session.delete(hours)
        db.session.flush()
        for day, ranges in days.items():
            for start, end in sorted(ranges):
                db.session.add(WeeklyHours(therapist_id=profile.id, weekday=day, start_time=start, end_time=end))


def time_off(profile: TherapistProfile) -> list[TimeOff]:
    return list(db.session.scalars(select(TimeOff).filter_by(therapist_id=profile.id).order_by(TimeOff.starts_on)))


def add_time_off(profile: TherapistProfile, starts_on, ends_on, note: str, settle: Settle | None = None) -> TimeOff:
    """Days off; booked visits on them are kept or cancelled as `settle` says (InTheWay when
    it says nothing), in the same transaction."""
    zone = profile.zone
    in_the_way = [b for b in _upcoming(profile) if starts_on <= b.starts_at.astimezone(zone).date() <= ends_on]
    off = TimeOff(therapist_id=profile.id, starts_on=starts_on, ends_on=ends_on, note=(note or "").strip())
    with states.settling():
        _settle(in_the_way, settle, "would fall on these days off")
        db.session.add(off)
    return off


def remove_time_off(profile: TherapistProfile, off_id: int) -> bool:
    off = db.session.get(TimeOff, off_id)
    if off is None or off.therapist_id != profile.id:
        return False
    db.session.delete(off)
    db.session.commit()
    return True


# --- changes of hours and policies that meet booked visits ----------------------------


@dataclass(frozen=True)
class Settle:
    """The therapist's answer about booked visits a change would contradict."""

    keep: bool
    message: str = ""  # to each client, when cancelling


class InTheWay(Conflict):
    """The change contradicts booked visits: nothing was saved; ask to keep or cancel them."""

    def __init__(self, bookings: list[Booking], clash: str, *, needs_message: bool = False):
        count = f"{len(bookings)} booked visit{'s' if len(bookings) != 1 else ''}"
        super().__init__(f"{count} {clash}. Keep them, or cancel them with a message to each client.")
        self.bookings = bookings
        self.needs_message = needs_message  # asked to cancel, without the message for the clients


def _upcoming(profile: TherapistProfile, now: datetime | None = None) -> list[Booking]:
    """The pending and confirmed visits still to come, earliest first."""
    return list(
        db.session.scalars(
            select(Booking)
            .where(
                Booking.therapist_id == profile.id,
                Booking.status.in_((BookingStatus.PENDING, BookingStatus.CONFIRMED)),
                Booking.starts_at > (now or clock.now()),
            )
            .options(selectinload(Booking.client))
            .order_by(Booking.starts_at)
        )
    )


def _outside_hours(booking: Booking, profile: TherapistProfile, days: dict) -> bool:
    """Whether the session falls outside the new ranges of its weekday (days not changed: no)."""
    start = booking.starts_at.astimezone(profile.zone)
    end = booking.ends_at.astimezone(profile.zone)
    if start.weekday() not in days:
        return False
    if end.date() != start.date():
        return True
    return not any(s <= start.time() and end.time() <= e for s, e in days[start.weekday()])


def _squeezed_by_buffer(profile: TherapistProfile, buffer_minutes: int) -> list[Booking]:
    """Visits that start sooner after the visit before them than the new buffer allows."""
    if buffer_minutes <= settings_of(profile).buffer_minutes:
        return []
    gap = timedelta(minutes=buffer_minutes)
    upcoming = _upcoming(profile)
    return [b for a, b in zip(upcoming, upcoming[1:]) if a.ends_at <= b.starts_at < a.ends_at + gap]


def _inside_new_notice(profile: TherapistProfile, old_hours: int, new_hours: int) -> list[Booking]:
    """Visits a client could still change online today and could not under the longer notice."""
    if new_hours <= old_hours:
        return []
    now = clock.now()
    lo, hi = now + timedelta(hours=old_hours), now + timedelta(hours=new_hours)
    return [b for b in _upcoming(profile) if lo < b.starts_at <= hi]


def _policy_clash(old: BookingSettings, new: PolicyData) -> str:
    parts = []
    if new.buffer_minutes > old.buffer_minutes:
        parts.append(f"would leave less than {new.buffer_minutes} minutes free after the visit before")
    if new.notice_hours > old.notice_hours:
        parts.append(f"would start within {new.notice_hours} hours: clients could no longer change them online")
    return " or ".join(parts)


def _settle(bookings: list[Booking], settle: Settle | None, clash: str) -> None:
    """Keep the visits in the way, or cancel each through the state machine with the
    therapist's message (a request is declined); InTheWay when the therapist has not said."""
    if not bookings:
        return
    if settle is None:
        raise InTheWay(bookings, clash)
    if settle.keep:
        return
    message = (settle.message or "").strip()
    if not message:
        raise InTheWay(bookings, clash, needs_message=True)
    for booking in sorted(bookings, key=lambda b: b.id):  # one lock order
        if booking.status == BookingStatus.PENDING:
            changes: dict = {"decided_at": utcnow(), "therapist_message": message}
            states.apply(booking, "decline", Actor.THERAPIST, changes=changes, commit=False)
        else:
            changes = {"cancelled_by": "therapist", "cancel_reason": message}
            states.apply(booking, "cancel", Actor.THERAPIST, changes=changes, commit=False)


# --- policies and the private calendar ---------------------------------------------

NOTICE_CHOICES = (0, 2, 6, 12, 24, 48, 72)
BUFFER_CHOICES = (0, 15, 30, 45, 60)


@dataclass(frozen=True)
class PolicyData:
    notice_hours: int = 0
    buffer_minutes: int = 0
    address_after_confirmation: bool = False
    phone: str = ""


def settings_of(profile: TherapistProfile) -> BookingSettings:
    """The therapist's settings, or the defaults (not stored) when they never saved any."""
    found = db.session.get(BookingSettings, profile.id)
    if found is not None:
        return found
    return BookingSettings(
        therapist_id=profile.id, notice_hours=0, buffer_minutes=0, address_after_confirmation=False, phone=""
    )


def _stored_settings(profile: TherapistProfile) -> BookingSettings:
    found = db.session.get(BookingSettings, profile.id)
    if found is None:
        found = settings_of(profile)
        db.session.add(found)
    return found


def set_policies(profile: TherapistProfile, data: PolicyData, settle: Settle | None = None) -> BookingSettings:
    """Notice, buffer, address and phone; bookings already made keep the buffer they hold.
    A longer buffer that leaves too little time after a booked visit, or a longer notice
    that takes away a client's chance to change a visit online, names those visits
    (InTheWay) until `settle` says to keep or to cancel them."""
    problems = []
    if data.notice_hours not in NOTICE_CHOICES:
        problems.append(
            ServiceError(
                "Choose a notice of " + ", ".join(str(h) for h in NOTICE_CHOICES) + " hours.", field="notice_hours"
            )
        )
    if data.buffer_minutes not in BUFFER_CHOICES:
        problems.append(ServiceError("Choose a buffer of 0, 15, 30, 45 or 60 minutes.", field="buffer_minutes"))
    phone = " ".join((data.phone or "").split())
    if phone and (
        len(phone) > 30 or sum(ch.isdigit() for ch in phone) < 7 or not set(phone) <= set("0123456789+-() .x")
    ):
        problems.append(
            ServiceError(
                "Give a phone number of 7 or more digits, such as (312) 555-0123, or leave it empty.", field="phone"
            )
        )
    raise_all(problems)
    old = settings_of(profile)
    in_the_way = _squeezed_by_buffer(profile, data.buffer_minutes) + _inside_new_notice(
        profile, old.notice_hours, data.notice_hours
    )
    with states.settling():
        _settle(sorted(set(in_the_way), key=lambda b: b.id), settle, _policy_clash(old, data))
        settings = _stored_settings(profile)
        settings.notice_hours, settings.buffer_minutes = data.notice_hours, data.buffer_minutes
        settings.address_after_confirmation, settings.phone = data.address_after_confirmation, phone
    return settings


def new_calendar_address(profile: TherapistProfile) -> str:
    """A new secret for the private iCal feed: the previous address stops working at once."""
    settings = _stored_settings(profile)
    settings.calendar_token = secrets.token_urlsafe(32)
    db.session.commit()
    return settings.calendar_token


def stop_calendar_feed(profile: TherapistProfile) -> None:
    settings = _stored_settings(profile)
    settings.calendar_token = None
    db.session.commit()


def feed_owner(token: str) -> TherapistProfile | None:
    """The therapist whose feed this secret opens, if any."""
    if not token or len(token) > 64:
        return None
    settings = db.session.scalar(select(BookingSettings).where(BookingSettings.calendar_token == token))
    if settings is None or settings.therapist.suspended_at is not None:
        return None
    return settings.therapist


def feed_bookings(profile: TherapistProfile, *, now: datetime | None = None) -> list[Booking]:
    """What the therapist's calendar shows: pending and confirmed sessions from 30 days back."""
    since = (now or clock.now()) - timedelta(days=30)
    return list(
        db.session.scalars(
            select(Booking)
            .where(
                Booking.therapist_id == profile.id,
                Booking.status.in_((BookingStatus.PENDING, BookingStatus.CONFIRMED, BookingStatus.COMPLETED)),
                Booking.starts_at >= since,
            )
            .options(selectinload(Booking.client))
            .order_by(Booking.starts_at)
        )
    )


# --- messages ------------------------------------------------------------------------

MESSAGE_MAX = 2000


def messages(booking: Booking) -> list[BookingMessage]:
    return list(
        db.session.scalars(
            select(BookingMessage).where(BookingMessage.booking_id == booking.id).order_by(BookingMessage.id)
        )
    )


def post_message(booking: Booking, author: User, side: str, body: str) -> BookingMessage:
    """A message from one side of the booking to the other."""
    body = (body or "").strip()
    if not body:
        raise ServiceError("Write a message first.", field="body")
    if len(body) > MESSAGE_MAX:
        raise ServiceError(f"Keep a message under {MESSAGE_MAX} characters.", field="body")
    if side == "therapist" and booking.client_id is None:
        raise Conflict("This client has deleted their account: messages can no longer reach them.")
    if side not in ("client", "therapist"):
        raise NotFound("No such booking.")
    message = BookingMessage(booking_id=booking.id, author_id=author.id, side=side, body=body)
    db.session.add(message)
    notifications.booking_message(booking, side)  # its notice is written with it (the outbox)
    db.session.commit()
    return message
