"""The booking state machine: every change of a booking is one transition of TRANSITIONS.

The table is the rule: which states a transition leaves from, where it goes, who may
make it (client, therapist, admin, system) and which mail announces it. `apply` makes
one as a compare-and-set, `UPDATE bookings ... WHERE id = :id AND status = :expected
AND version = :version`, and in the same transaction sets the booking's slot rows
(booking_slots) to what its new state holds: exactly its minutes plus its buffer when
pending or confirmed, nothing otherwise. The lock order is always the same: the
booking's row first (the compare-and-set), then its slot rows.

Of two people acting on one booking at once, one wins; the other's UPDATE matches no
row (or the database stops it: a deadlock, a lock timeout, a slot just taken), the
transaction is rolled back with its queued mail, and they get a Conflict (409) naming
what happened: "This booking was cancelled a moment ago." Never a 500.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, select, update
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import selectinload

from . import notifications
from .extensions import db
from .models import ACTIVE_BOOKING_STATUSES, Booking, BookingSlot, BookingStatus, TherapistProfile, utcnow
from .service_errors import Conflict, Forbidden

SLOT = timedelta(minutes=15)  # the grain of booking_slots (and of the booking grid)
TAKEN = "That time was just taken. Please choose another time."
BUSY = "Someone else is changing this booking at this moment. Reload the page and try again."


class Actor(enum.StrEnum):
    CLIENT = "client"
    THERAPIST = "therapist"
    ADMIN = "admin"
    SYSTEM = "system"  # the scheduled jobs and the cascades of a suspension or a deletion


@dataclass(frozen=True)
class Transition:
    action: str
    sources: tuple[BookingStatus, ...]  # empty: the booking is created by it
    target: BookingStatus | None  # None: the state stays (a move)
    who: tuple[Actor, ...]
    mail: str | None  # the function of notifications that announces it, to both sides
    done: str  # "This booking was <done> a moment ago."
    meaning: str


PENDING, CONFIRMED = BookingStatus.PENDING, BookingStatus.CONFIRMED
CLIENT, THERAPIST, ADMIN, SYSTEM = Actor.CLIENT, Actor.THERAPIST, Actor.ADMIN, Actor.SYSTEM

TRANSITIONS: dict[str, Transition] = {
    t.action: t
    for t in (
        Transition(
            "request", (), PENDING, (CLIENT,), "booking_requested", "requested", "A client asks for a free time."
        ),
        Transition(
            "accept", (PENDING,), CONFIRMED, (THERAPIST,), "booking_decided", "accepted", "The therapist says yes."
        ),
        Transition(
            "decline",
            (PENDING,),
            BookingStatus.DECLINED,
            (THERAPIST, ADMIN, SYSTEM),
            "booking_decided",
            "declined",
            "The therapist says no; a suspension or delisting declines every request.",
        ),
        Transition(
            "cancel",
            (PENDING, CONFIRMED),
            BookingStatus.CANCELLED,
            (CLIENT, THERAPIST, ADMIN, SYSTEM),
            "booking_cancelled",
            "cancelled",
            "Either side, with a reason (a client only until the therapist's notice); a suspension, "
            "delisting or deleted account cancels confirmed visits.",
        ),
        Transition(
            "reschedule",
            (PENDING, CONFIRMED),
            None,
            (CLIENT,),
            "booking_rescheduled",
            "moved",
            "The client moves it to another free time (until the therapist's notice).",
        ),
        Transition(
            "complete",
            (CONFIRMED,),
            BookingStatus.COMPLETED,
            (THERAPIST,),
            None,
            "marked completed",
            "The visit took place; its receipt is issued (the review prompt follows later).",
        ),
        Transition(
            "no_show",
            (CONFIRMED,),
            BookingStatus.NO_SHOW,
            (THERAPIST,),
            "booking_no_show",
            "marked a no-show",
            "The visit's time came and the client did not.",
        ),
        Transition(
            "expire",
            (PENDING,),
            BookingStatus.EXPIRED,
            (SYSTEM,),
            "booking_expired",
            "expired",
            "Nobody answered the request before its time.",
        ),
    )
}


def state_words(status: BookingStatus) -> str:
    return status.value.replace("_", "-")


def slots_for(start: datetime, minutes: int) -> list[datetime]:
    """The quarter hours a session starting at `start` (UTC) occupies."""
    return [start + SLOT * i for i in range(minutes // 15)]


def held_by(booking: Booking) -> list[datetime]:
    """The slot rows a booking in its state must hold: its minutes and buffer when active."""
    if booking.status not in ACTIVE_BOOKING_STATUSES:
        return []
    return slots_for(booking.starts_at, booking.minutes + (booking.buffer_minutes or 0))


class Lost(Exception):
    """The compare-and-set matched no row: someone else changed the booking first."""


@contextmanager
def settling() -> Iterator[None]:
    """One transaction of transitions: committed at the end (with the mail it queued), or
    rolled back, the mail with it, and a race turned into a Conflict naming what happened."""
    try:
        yield
        db.session.commit()
    except Lost as lost:
        db.session.rollback()
        raise Conflict(str(lost)) from None
    except IntegrityError:
        db.session.rollback()
        raise Conflict(TAKEN, field="start") from None
    except DBAPIError as exc:
        db.session.rollback()
        if not lost_race(exc):
            raise  # a real failure: the error page and the log, not a 409
        raise Conflict(BUSY) from None
    except BaseException:
        db.session.rollback()
        raise


# PostgreSQL: serialization failure, deadlock, lock not available. SQLite: busy, locked.
RACE_SQLSTATES = frozenset({"40001", "40P01", "55P03"})
RACE_SQLITE_CODES = frozenset({5, 6})


def lost_race(exc: DBAPIError) -> bool:
    """Whether the database stopped this transaction because another one holds what it needs."""
    if exc.connection_invalidated:
        return False
    sqlstate = getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None)
    sqlite_code = getattr(exc.orig, "sqlite_errorcode", None)
    return sqlstate in RACE_SQLSTATES or (sqlite_code is not None and sqlite_code & 0xFF in RACE_SQLITE_CODES)


def create(booking: Booking) -> Booking:
    """The "request" transition: a new pending booking with its slot rows, announced."""
    t = TRANSITIONS["request"]
    booking.status, booking.version, booking.last_change = PENDING, 0, t.action
    booking.slots = [BookingSlot(therapist_id=booking.therapist_id, slot_start=s) for s in held_by(booking)]
    db.session.add(booking)
    with settling():
        db.session.flush()
        _announce(t, booking, {})
    return booking


def check(booking: Booking, action: str, by: Actor) -> Transition:
    """The transition if `by` may make it on the booking as loaded; Forbidden or Conflict otherwise."""
    t = TRANSITIONS[action]
    if by not in t.who:
        raise Forbidden(f"A {by.value} cannot do this: only {' or '.join(w.value for w in t.who)}.")
    # A visit that already took place is still the therapist's to complete or mark missed.
    settles_the_past = action in ("complete", "no_show")
    if (
        by in (CLIENT, THERAPIST)
        and not (action == "cancel" and by == CLIENT)
        and not settles_the_past
        and not booking.therapist.is_listable
    ):
        if by == CLIENT:
            raise Conflict(
                f"{booking.therapist.name} is not taking bookings through the directory right now: "
                "this booking can only be cancelled."
            )
        raise Conflict("Your profile is not listed right now, so only the client may cancel this booking.")
    if booking.status not in t.sources:
        raise Conflict(f"This booking is {state_words(booking.status)}; it cannot be {t.done}.")
    return t


def apply(
    booking: Booking,
    action: str,
    by: Actor,
    *,
    changes: Mapping[str, Any] | None = None,
    mail: Mapping[str, Any] | None = None,
    commit: bool = True,
) -> Booking:
    """Make one transition: compare-and-set, its columns (`changes`), its slot rows and its
    mail, in one transaction (committed here unless `commit` is False: then the caller
    wraps several in `settling()`). Conflict for the loser of a race."""
    t = check(booking, action, by)
    expected, version = booking.status, booking.version or 0
    target = t.target or expected
    with settling() if commit else nullcontext():
        swapped = db.session.execute(
            update(Booking)
            .where(Booking.id == booking.id, Booking.status == expected, Booking.version == version)
            .values(status=target, version=version + 1, last_change=action)
            .execution_options(synchronize_session=False)
        )
        if cast(CursorResult, swapped).rowcount != 1:
            raise Lost(_what_happened(booking.id, version))
        changes = dict(changes or {})
        moved = any(changes.get(k, getattr(booking, k)) != getattr(booking, k) for k in ("starts_at", "ends_at"))
        for name, value in changes.items():
            setattr(booking, name, value)
        booking.status, booking.version, booking.last_change = target, version + 1, action
        if moved or target not in ACTIVE_BOOKING_STATUSES:  # calendars must follow (RFC 5545 SEQUENCE)
            booking.calendar_sequence = (booking.calendar_sequence or 0) + 1
        _hold(booking)
        _announce(t, booking, mail or {})
    return booking


# --- a therapist leaves the directory: their future bookings are settled at once -----------

SETTLED = {"decline": "declined (the client is told)", "cancel": "cancelled (the client is told)"}


def settlement(profile: TherapistProfile, *, now: datetime | None = None) -> list[tuple[Booking, str]]:
    """The future bookings a suspension or delisting settles, each with its transition:
    requests are declined, confirmed visits cancelled. The admin's page and the service
    both read this list."""
    now = now or utcnow()
    bookings = db.session.scalars(
        select(Booking)
        .where(
            Booking.therapist_id == profile.id,
            Booking.status.in_(ACTIVE_BOOKING_STATUSES),
            Booking.starts_at > now,
        )
        .options(selectinload(Booking.client))
        .order_by(Booking.id)  # one lock order
    ).all()
    return [(b, "decline" if b.status == PENDING else "cancel") for b in bookings]


def settle_delisted(profile: TherapistProfile, *, now: datetime | None = None) -> int:
    """Decline or cancel every future booking of a therapist who is no longer listed; each
    client is mailed, without the admin's reason (no commit: the caller's transaction
    holds the suspension or expiry and these together). How many were settled."""
    settled = settlement(profile, now=now)
    for booking, action in settled:
        why = (
            f"{profile.name} is not taking bookings through the directory at present, "
            f"so this booking was {TRANSITIONS[action].done}."
        )
        if action == "decline":
            changes: dict[str, Any] = {"decided_at": utcnow(), "therapist_message": why}
        else:
            changes = {"cancelled_by": "directory", "cancel_reason": why}
        apply(booking, action, SYSTEM, changes=changes, commit=False)
    return len(settled)


def settle_unlisted(*, now: datetime | None = None) -> int:
    """The daily sweep: every therapist holding future bookings who is not listed today (a
    license lapsed by date, expired, or rejected) has them settled, each in its own
    transaction. How many bookings were settled."""
    now = now or utcnow()
    ids = db.session.scalars(
        select(Booking.therapist_id)
        .where(Booking.status.in_(ACTIVE_BOOKING_STATUSES), Booking.starts_at > now)
        .distinct()
    ).all()
    settled = 0
    for therapist_id in sorted(ids):
        profile = db.session.get(TherapistProfile, therapist_id)
        if profile is None or profile.is_listable:
            continue
        try:
            with settling():
                settled += settle_delisted(profile, now=now)
        except Conflict:
            continue  # a client acted at this moment: the next sweep settles the rest
    return settled


def _hold(booking: Booking) -> None:
    """Set the booking's slot rows to what its state holds, read afresh under the booking's lock."""
    db.session.flush()
    db.session.expire(booking, ["slots"])
    want = held_by(booking)
    if sorted(s.slot_start for s in booking.slots) == want:
        return
    booking.slots = []  # freed first, so a move may reuse its own quarter hours
    db.session.flush()
    booking.slots = [BookingSlot(therapist_id=booking.therapist_id, slot_start=s) for s in want]
    db.session.flush()


def _what_happened(booking_id: int, version: int) -> str:
    row = db.session.execute(
        select(Booking.status, Booking.last_change, Booking.version).where(Booking.id == booking_id)
    ).first()
    if row is None:
        return "This booking no longer exists."
    if row.version != version and row.last_change in TRANSITIONS:
        return f"This booking was {TRANSITIONS[row.last_change].done} a moment ago. Reload the page to see it now."
    return BUSY


def _announce(t: Transition, booking: Booking, mail: Mapping[str, Any]) -> None:
    """Queue the transition's mail inside the transaction: it leaves with the commit, or never."""
    if t.mail:
        getattr(notifications, t.mail)(booking, **mail)


def table_markdown() -> str:
    """The transitions as the README's table (a test keeps the two the same)."""
    lines = [
        "| Transition | From | To | Who may | Mail (notifications.…) |",
        "|---|---|---|---|---|",
    ]
    for t in TRANSITIONS.values():
        sources = ", ".join(s.value for s in t.sources) or "(new)"
        target = t.target.value if t.target else "(same)"
        who = ", ".join(w.value for w in t.who)
        lines.append(f"| {t.action} | {sources} | {target} | {who} | {t.mail or 'none'} |")
    return "\n".join(lines)
