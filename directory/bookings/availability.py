"""Free start times: weekly hours and time off in the therapist's own time zone,
less the time that pending and confirmed bookings already hold (with the buffer
the therapist keeps after each session).

Everything lives on one quarter-hour grid: weekly hours, offered start times
and the slots a booking holds (every time zone's offset from UTC is a whole
number of quarter hours, so the grid is the same in UTC and locally). A start
off the grid would hold slots that never meet a neighbour's, and the slot key
could not see the overlap.

What a therapist's calendar is made of (hours, time off, held times, buffer) is
read for any number of therapists in one query (`load_calendars`): a page of
search results shows each card's next free times for the price of one query.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import (
    BindParameter,
    Date,
    Integer,
    String,
    Time,
    bindparam,
    cast,
    literal_column,
    null,
    select,
    union_all,
)

from .. import clock
from ..booking_states import SLOT, slots_for  # noqa: F401  (slots_for: the grid, for callers of this module)
from ..extensions import db
from ..models import (
    ACTIVE_BOOKING_STATUSES,
    Booking,
    BookingSettings,
    TherapistProfile,
    TimeOff,
    UTCDateTime,
    WeeklyHours,
    zone_named,
)

START_STEP = timedelta(minutes=30)  # offered start times: every half hour from the start of each range
GRID_RULE = "Times fall on the quarter hour: choose one ending in :00, :15, :30 or :45."
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
LEAD_TIME = timedelta(hours=2)  # no booking starts sooner than this
HORIZON_DAYS = 28
CARD_DAYS = 14  # how far a search result looks for its next free times


def on_grid(moment: time | datetime) -> bool:
    """True for 09:00, 09:15, 09:30, 09:45; False for 09:10 or 09:00:30."""
    return moment.minute % 15 == 0 and moment.second == 0 and moment.microsecond == 0


def _next_on_grid(moment: datetime) -> datetime:
    """The first grid time at or after `moment` (weekly hours stored before the grid rule)."""
    floor = moment.replace(minute=moment.minute - moment.minute % 15, second=0, microsecond=0)
    return floor if floor == moment else floor + SLOT


@dataclass
class Calendar:
    """One therapist's working time, as the free times are computed from it."""

    zone: ZoneInfo
    hours: dict[int, list[tuple[time, time]]] = field(default_factory=dict)  # weekday -> ranges
    off: list[tuple[date, date]] = field(default_factory=list)
    held: list[tuple[datetime, datetime]] = field(default_factory=list)  # UTC, each booking's buffer included
    buffer: timedelta = timedelta(0)

    def starts(self, minutes: int, *, now: datetime, days: int) -> Iterator[datetime]:
        """Free start times (aware, local), in order, for the next `days` days."""
        earliest = now + LEAD_TIME
        length, holds = timedelta(minutes=minutes), timedelta(minutes=minutes) + self.buffer
        first_day = now.astimezone(self.zone).date()
        for offset in range(days + 1):
            day = first_day + timedelta(days=offset)
            ranges = self.hours.get(day.weekday())
            if not ranges or any(a <= day <= b for a, b in self.off):
                continue
            for range_start, range_end in ranges:
                start = _next_on_grid(datetime.combine(day, range_start, self.zone))
                end = datetime.combine(day, range_end, self.zone)
                while start + length <= end:
                    start_utc = start.astimezone(UTC)
                    until = start_utc + holds
                    if start_utc >= earliest and not any(s < until and start_utc < e for s, e in self.held):
                        yield start
                    start += START_STEP

    def free_starts(self, minutes: int, *, now: datetime, days: int = HORIZON_DAYS) -> dict[date, list[datetime]]:
        out: dict[date, list[datetime]] = {}
        for start in self.starts(minutes, now=now, days=days):
            out.setdefault(start.date(), []).append(start)
        return out

    def next_starts(self, minutes: int, *, now: datetime, count: int, days: int = CARD_DAYS) -> list[datetime]:
        found = []
        for start in self.starts(minutes, now=now, days=days):
            found.append(start)
            if len(found) == count:
                break
        return found


_ZONE, _HOURS, _OFF, _HELD, _SETTINGS = 0, 1, 2, 3, 4


def _calendar_rows():
    """Time zones, hours, time off, held bookings and buffers of the therapists `ids`, as
    one statement. Built once, with parameters: building a statement costs more than
    running this one for a page of results."""

    def row(therapist_id, kind, n=None, t1=None, t2=None, d1=None, d2=None, m1=None, m2=None, s=None):
        def value(column, type_):
            return column if column is not None else cast(null(), type_)

        return (
            therapist_id.label("therapist_id"),
            literal_column(str(kind), Integer).label("kind"),
            value(n, Integer).label("n"),
            value(t1, Time).label("t1"),
            value(t2, Time).label("t2"),
            value(d1, Date).label("d1"),
            value(d2, Date).label("d2"),
            value(m1, UTCDateTime()).label("m1"),
            value(m2, UTCDateTime()).label("m2"),
            value(s, String(64)).label("s"),
        )

    ids: BindParameter[list[int]] = bindparam("ids", expanding=True)
    P = TherapistProfile
    return union_all(
        select(*row(P.id, _ZONE, s=P.timezone)).where(P.id.in_(ids)),
        select(
            *row(WeeklyHours.therapist_id, _HOURS, WeeklyHours.weekday, WeeklyHours.start_time, WeeklyHours.end_time)
        ).where(WeeklyHours.therapist_id.in_(ids)),
        select(*row(TimeOff.therapist_id, _OFF, d1=TimeOff.starts_on, d2=TimeOff.ends_on)).where(
            TimeOff.therapist_id.in_(ids),
            TimeOff.ends_on >= bindparam("first_day", type_=Date),
            TimeOff.starts_on <= bindparam("last_day", type_=Date),
        ),
        select(
            *row(Booking.therapist_id, _HELD, Booking.buffer_minutes, m1=Booking.starts_at, m2=Booking.ends_at)
        ).where(
            Booking.therapist_id.in_(ids),
            Booking.status.in_(ACTIVE_BOOKING_STATUSES),
            Booking.starts_at < bindparam("until", type_=UTCDateTime()),
            Booking.ends_at > bindparam("since", type_=UTCDateTime()),
        ),
        select(*row(BookingSettings.therapist_id, _SETTINGS, BookingSettings.buffer_minutes)).where(
            BookingSettings.therapist_id.in_(ids)
        ),
    )


_CALENDARS = _calendar_rows()


def load_calendars(ids: Iterable[int], *, now: datetime, days: int = HORIZON_DAYS) -> dict[int, Calendar]:
    """therapist id -> Calendar, for any number of therapists, in one query."""
    calendars = {therapist_id: Calendar(zone_named(None)) for therapist_id in ids}
    if not calendars:
        return calendars
    until = now + timedelta(days=days + 1)
    window = {
        "ids": list(calendars),
        "first_day": (now - timedelta(days=2)).date(),  # a day either side for every time zone
        "last_day": (until + timedelta(days=1)).date(),
        "since": now - timedelta(days=1),  # a booking ending just before now may still hold its buffer
        "until": until + timedelta(days=1),
    }
    rows = db.session.execute(_CALENDARS, window)
    for therapist_id, kind, n, t1, t2, d1, d2, m1, m2, zone in rows:
        cal = calendars[therapist_id]
        if kind == _ZONE:
            cal.zone = zone_named(zone)
        elif kind == _HOURS:
            cal.hours.setdefault(n, []).append((t1, t2))
        elif kind == _OFF:
            cal.off.append((d1, d2))
        elif kind == _HELD:
            cal.held.append((m1, m2 + timedelta(minutes=n or 0)))
        else:
            cal.buffer = timedelta(minutes=n or 0)
    for cal in calendars.values():
        for ranges in cal.hours.values():
            ranges.sort()
    return calendars


def calendar_of(
    profile: TherapistProfile, *, now: datetime, days: int = HORIZON_DAYS, moving: Booking | None = None
) -> Calendar:
    """The therapist's calendar; `moving`: a booking being moved, whose own time does not count."""
    cal = load_calendars([profile.id], now=now, days=days)[profile.id]
    if moving is not None:
        own = (moving.starts_at, moving.ends_at + timedelta(minutes=moving.buffer_minutes or 0))
        cal.held = [span for span in cal.held if span != own]
    return cal


def free_starts(
    profile: TherapistProfile,
    minutes: int,
    *,
    now: datetime | None = None,
    days: int = HORIZON_DAYS,
    moving: Booking | None = None,
) -> dict[date, list[datetime]]:
    """Local date -> free start times (aware, in the therapist's zone) for the next `days` days."""
    now = now or clock.now()
    return calendar_of(profile, now=now, days=days, moving=moving).free_starts(minutes, now=now, days=days)


def is_free(
    profile: TherapistProfile,
    start_utc: datetime,
    minutes: int,
    *,
    now: datetime | None = None,
    moving: Booking | None = None,
) -> bool:
    """Whether `start_utc` is one of the offered free starts."""
    local_day = start_utc.astimezone(profile.zone).date()
    days = free_starts(profile, minutes, now=now, moving=moving)
    return any(s.astimezone(UTC) == start_utc for s in days.get(local_day, []))


def default_length(lengths: list[int]) -> int | None:
    """The length a page offers first: 60 minutes when priced, else the shortest."""
    return 60 if 60 in lengths else (min(lengths) if lengths else None)


def next_free(
    profile: TherapistProfile, days: int = CARD_DAYS, minutes: int | None = None
) -> tuple[int, datetime] | None:
    """(length, first free start) for the profile page."""
    lengths = [p.minutes for p in profile.prices]
    minutes = minutes if minutes in lengths else default_length(lengths)
    if minutes is None:
        return None
    now = clock.now()
    found = calendar_of(profile, now=now, days=days).next_starts(minutes, now=now, count=1, days=days)
    return (minutes, found[0]) if found else None


def next_free_for(
    lengths: Mapping[int, int | None], *, count: int = 3, now: datetime | None = None
) -> dict[int, list[datetime]]:
    """therapist id -> its next `count` free starts (local), for the session length given
    for it in `lengths` (none when the length is None); one query for them all."""
    now = now or clock.now()
    calendars = load_calendars(lengths, now=now, days=CARD_DAYS)
    return {
        i: calendars[i].next_starts(minutes, now=now, count=count) if minutes else [] for i, minutes in lengths.items()
    }
