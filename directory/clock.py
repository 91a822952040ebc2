"""One clock, one idea of "the day".

The rule, for everything that asks what day it is:
- A moment is an aware UTC datetime, from `now()` (never a naive one, never the
  server's own zone).
- A visit's day is the therapist's local day: the day its start falls on in
  the practice's time zone (`visit_day`). Receipt numbers, yearly statements and
  "today" on a therapist's pages follow it.
- A license expires at the end of its date in its state's time zone
  (`license_end`): a Hawaii license dated Dec 31 holds until midnight in
  Honolulu, 10:00 UTC on Jan 1. A profile is listed while its latest verified
  license's date has not ended in the zone of its practice's state
  (`listing_day`; the SQL twin is `ListingDays`, used by models.listable_clause
  and the search's candidate query).
- Anything else that is "today" for a person (a letter's expiry, a statistics
  day, an admin's "joined in the last 7 days") is judged in UTC (`today_in(UTC)`),
  unless it belongs to a therapist, whose zone decides.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_TIMEZONE = "America/New_York"

# The zone most of each state keeps (a state split between two zones is read in
# the one where most of its people live).
STATE_ZONES: dict[str, str] = {
    "AL": "America/Chicago",
    "AK": "America/Anchorage",
    "AZ": "America/Phoenix",
    "AR": "America/Chicago",
    "CA": "America/Los_Angeles",
    "CO": "America/Denver",
    "CT": "America/New_York",
    "DE": "America/New_York",
    "DC": "America/New_York",
    "FL": "America/New_York",
    "GA": "America/New_York",
    "HI": "Pacific/Honolulu",
    "ID": "America/Boise",
    "IL": "America/Chicago",
    "IN": "America/Indiana/Indianapolis",
    "IA": "America/Chicago",
    "KS": "America/Chicago",
    "KY": "America/New_York",
    "LA": "America/Chicago",
    "ME": "America/New_York",
    "MD": "America/New_York",
    "MA": "America/New_York",
    "MI": "America/Detroit",
    "MN": "America/Chicago",
    "MS": "America/Chicago",
    "MO": "America/Chicago",
    "MT": "America/Denver",
    "NE": "America/Chicago",
    "NV": "America/Los_Angeles",
    "NH": "America/New_York",
    "NJ": "America/New_York",
    "NM": "America/Denver",
    "NY": "America/New_York",
    "NC": "America/New_York",
    "ND": "America/Chicago",
    "OH": "America/New_York",
    "OK": "America/Chicago",
    "OR": "America/Los_Angeles",
    "PA": "America/New_York",
    "RI": "America/New_York",
    "SC": "America/New_York",
    "SD": "America/Chicago",
    "TN": "America/Chicago",
    "TX": "America/Chicago",
    "UT": "America/Denver",
    "VT": "America/New_York",
    "VA": "America/New_York",
    "WA": "America/Los_Angeles",
    "WV": "America/New_York",
    "WI": "America/Chicago",
    "WY": "America/Denver",
}


def now() -> datetime:
    """This moment, aware, in UTC."""
    return datetime.now(UTC)


def zone_named(name: str | None) -> ZoneInfo:
    """A stored time zone name as a zone; the default when it is empty or unknown."""
    try:
        return ZoneInfo(name or DEFAULT_TIMEZONE)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(DEFAULT_TIMEZONE)


def state_zone(state: str | None) -> ZoneInfo:
    """The zone a state's dates are read in (the default for an unknown state)."""
    return zone_named(STATE_ZONES.get((state or "").upper()))


def today_in(zone: tzinfo, at: datetime | None = None) -> date:
    """The calendar day in `zone` at `at` (now when not given)."""
    return (at or now()).astimezone(zone).date()


def local_day(moment: datetime, zone: tzinfo) -> date:
    return moment.astimezone(zone).date()


def visit_day(booking) -> date:
    """A visit's day: the day its start falls on in the therapist's zone."""
    return local_day(booking.starts_at, booking.therapist.zone)


def end_of_day(day: date, zone: tzinfo) -> datetime:
    """The moment `day` ends in `zone` (the next local midnight), in UTC."""
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone).astimezone(UTC)


def license_end(license) -> datetime:
    """The moment a license stops holding: the end of its date in its state's zone."""
    return end_of_day(license.expires_on, state_zone(license.state))


def license_holds(license, at: datetime | None = None) -> bool:
    return license.expires_on is None or (at or now()) < license_end(license)


@dataclass(frozen=True)
class ListingDays:
    """What "today" is for listing at one moment. The local day is `latest` in
    every state's zone except those in `behind` (the empty state, read in the
    default zone, included when it is behind), where it is the day before.
    US zones span less than a day, so there are never more than two."""

    latest: date
    earliest: date
    behind: tuple[str, ...]

    def day_of(self, state: str | None) -> date:
        return self.earliest if (state or "") in self.behind else self.latest


def listing_days(at: datetime | None = None) -> ListingDays:
    at = at or now()
    days = {code: today_in(zone_named(name), at) for code, name in STATE_ZONES.items()}
    days[""] = today_in(zone_named(DEFAULT_TIMEZONE), at)
    latest = max(days.values())
    behind = tuple(sorted(code for code, day in days.items() if day < latest))
    return ListingDays(latest, min(days.values()), behind)


def listing_day(state: str | None, at: datetime | None = None) -> date:
    """The day a profile in `state` is listed on: its latest license must be dated this day or later."""
    return listing_days(at).day_of(state)
