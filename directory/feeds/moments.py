"""Dates and instants as the feeds' query parameters give them."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta


def moment_range(given: str) -> tuple[datetime, datetime] | None:
    """A date (the whole UTC day) or an instant with its offset (that second), as
    [start, end) in UTC; None when it is neither. A time without an offset is
    refused rather than guessed at."""
    try:
        if len(given) == 10:
            start = datetime.combine(date.fromisoformat(given), time(), UTC)
            return start, start + timedelta(days=1)
        start = datetime.fromisoformat(given.replace("Z", "+00:00"))
        if start.tzinfo is None:
            return None
        return start.astimezone(UTC), start.astimezone(UTC) + timedelta(seconds=1)
    except (ValueError, OverflowError):  # e.g. 9999-12-31, or year 1 with a positive offset
        return None
