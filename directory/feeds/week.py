"""Weekly hours as the feeds publish them: days that share the same hours grouped."""

from __future__ import annotations

from datetime import datetime, time

from ..models import TherapistProfile, WeeklyHours


def spans(hours: list[WeeklyHours]) -> list[tuple[tuple[int, ...], time, time]]:
    """(weekdays, start, end) for each distinct span of hours, Monday = 0, in the
    therapist's own time zone (as they entered them)."""
    grouped: dict[tuple[time, time], list[int]] = {}
    for row in sorted(hours, key=lambda r: r.weekday):
        grouped.setdefault((row.start_time, row.end_time), []).append(row.weekday)
    return [(tuple(days), start, end) for (start, end), days in grouped.items()]


def utc_offset(profile: TherapistProfile, now: datetime) -> str:
    """The practice's offset from UTC at `now`, as '-05:00'."""
    offset = now.astimezone(profile.zone).utcoffset()
    minutes = int(offset.total_seconds() // 60) if offset is not None else 0
    sign = "-" if minutes < 0 else "+"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"
