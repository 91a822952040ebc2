"""Free start times: weekly hours and time off in the therapist's own time zone,
less the time that pending and confirmed bookings already hold.

Everything lives on one quarter-hour grid: weekly hours, offered start times
and the slots a booking holds (every time zone's offset from UTC is a whole
number of quarter hours, so the grid is the same in UTC and locally). A start
off the grid would hold slots that never meet a neighbour's, and the slot key
could not see the overlap.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select

from ..extensions import db
from ..models import ACTIVE_BOOKING_STATUSES, Booking, TherapistProfile, TimeOff, WeeklyHours

SLOT = timedelta(minutes=15)  # the grid, and the grain of booking_slots
START_STEP = timedelta(minutes=30)  # offered start times: every half hour from the start of the day's hours
GRID_RULE = "Times fall on the quarter hour: choose one ending in :00, :15, :30 or :45."
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
LEAD_TIME = timedelta(hours=2)  # no booking starts sooner than this
HORIZON_DAYS = 28


def slots_for(start: datetime, minutes: int) -> list[datetime]:
    """The quarter hours a session starting at `start` (UTC) occupies."""
    return [start + SLOT * i for i in range(minutes // 15)]


def on_grid(moment: time | datetime) -> bool:
    """True for 09:00, 09:15, 09:30, 09:45; False for 09:10 or 09:00:30."""
    return moment.minute % 15 == 0 and moment.second == 0 and moment.microsecond == 0


def _next_on_grid(moment: datetime) -> datetime:
    """The first grid time at or after `moment` (weekly hours stored before the grid rule)."""
    floor = moment.replace(minute=moment.minute - moment.minute % 15, second=0, microsecond=0)
    return floor if floor == moment else floor + SLOT


def _held(therapist_id: int, since: datetime, until: datetime) -> list[tuple[datetime, datetime]]:
    """The (start, end) of every pending or confirmed booking that overlaps [since, until)."""
    rows = db.session.execute(
        select(Booking.starts_at, Booking.ends_at).where(
            Booking.therapist_id == therapist_id,
            Booking.status.in_(ACTIVE_BOOKING_STATUSES),
            Booking.starts_at < until,
            Booking.ends_at > since,
        )
    )
    return [(start, end) for start, end in rows]


def free_starts(
    profile: TherapistProfile, minutes: int, *, now: datetime | None = None, days: int = HORIZON_DAYS
) -> dict[date, list[datetime]]:
    """Local date -> free start times (aware, in the therapist's zone) for the next `days` days."""
    now = now or datetime.now(UTC)
    zone = profile.zone
    hours = {h.weekday: h for h in db.session.scalars(select(WeeklyHours).filter_by(therapist_id=profile.id))}
    if not hours:
        return {}
    first_day = now.astimezone(zone).date()
    last_day = first_day + timedelta(days=days)
    off = db.session.scalars(
        select(TimeOff).where(
            TimeOff.therapist_id == profile.id, TimeOff.ends_on >= first_day, TimeOff.starts_on <= last_day
        )
    ).all()
    held = _held(profile.id, now - timedelta(days=1), now + timedelta(days=days + 2))
    earliest = now + LEAD_TIME
    length = timedelta(minutes=minutes)
    out: dict[date, list[datetime]] = {}
    for offset in range(days + 1):
        day = first_day + timedelta(days=offset)
        span = hours.get(day.weekday())
        if span is None or any(t.starts_on <= day <= t.ends_on for t in off):
            continue
        start = _next_on_grid(datetime.combine(day, span.start_time, zone))
        end = datetime.combine(day, span.end_time, zone)
        starts = []
        while start + length <= end:
            start_utc = start.astimezone(UTC)
            end_utc = start_utc + length
            if start_utc >= earliest and not any(s < end_utc and start_utc < e for s, e in held):
                starts.append(start)
            start += START_STEP
        if starts:
            out[day] = starts
    return out


def is_free(profile: TherapistProfile, start_utc: datetime, minutes: int, *, now: datetime | None = None) -> bool:
    local_day = start_utc.astimezone(profile.zone).date()
    days = free_starts(profile, minutes, now=now)
    return any(s.astimezone(UTC) == start_utc for s in days.get(local_day, []))


def next_free(profile: TherapistProfile, days: int = 14) -> tuple[int, datetime] | None:
    """(length, first free start) for the profile page: 60 minutes when priced, else the shortest."""
    lengths = [p.minutes for p in profile.prices]
    if not lengths:
        return None
    minutes = 60 if 60 in lengths else lengths[0]
    free = free_starts(profile, minutes, days=days)
    first_day = next(iter(free), None)
    return (minutes, free[first_day][0]) if first_day else None
