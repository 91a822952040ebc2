"""Bookings as iCalendar (RFC 5545), written by the `icalendar` package.

A confirmation mail carries METHOD:REQUEST, a cancellation METHOD:CANCEL, for the
same UID, so a calendar app adds the session and later removes or moves it
(SEQUENCE rises with each change). Times are given in the therapist's time zone
(DTSTART;TZID=...) with its VTIMEZONE. The therapist's private feed lists their
sessions the same way. Nothing from an intake is ever written here.
"""

from __future__ import annotations

from datetime import date, timedelta

from icalendar import Calendar, Event, vCalAddress, vText

from .. import clock
from ..models import Booking, BookingStatus
from ..text_rules import on_one_line

PRODUCT = "-//TrueTouch Directory//Bookings//EN"


def _calendar(method: str | None, name: str | None = None) -> Calendar:
    cal = Calendar()
    cal.add("prodid", PRODUCT)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    if method:
        cal.add("method", method)
    if name:
        cal.add("x-wr-calname", on_one_line(name))
    return cal


def _event(booking: Booking, *, summary: str, location: str, link: str, host: str, cancelled: bool) -> Event:
    zone = booking.therapist.zone
    event = Event()
    event.add("uid", f"booking-{booking.id}@{host}")
    event.add("sequence", booking.calendar_sequence or 0)
    event.add("dtstamp", clock.now())
    event.add("dtstart", booking.starts_at.astimezone(zone))
    event.add("dtend", booking.ends_at.astimezone(zone))
    # Names stored before the services refused control characters still make one line.
    event.add("summary", on_one_line(summary))
    if location:
        event.add("location", on_one_line(location))
    event.add("description", f"{booking.minutes}-minute session. Details and messages: {link}")
    event.add("url", link)
    if cancelled:
        status = "CANCELLED"
    elif booking.status == BookingStatus.PENDING:
        status = "TENTATIVE"
    else:
        status = "CONFIRMED"
    event.add("status", status)
    return event


def invitation(
    booking: Booking,
    *,
    method: str,
    summary: str,
    location: str,
    link: str,
    organizer: str,
    attendee: str,
    sent_by: str | None = None,
    host: str,
) -> str:
    """One booking as an invitation (REQUEST) or its withdrawal (CANCEL) for one recipient.
    The therapist organizes (ORGANIZER, with `sent_by`, the site's address, when the
    organizer's address is theirs and the site sends for them); the client attends."""
    cal = _calendar(method)
    event = _event(booking, summary=summary, location=location, link=link, host=host, cancelled=method == "CANCEL")
    who = vCalAddress(f"mailto:{organizer}")
    who.params["cn"] = vText(on_one_line(booking.therapist.name))
    if sent_by and sent_by != organizer:
        who.params["sent-by"] = vText(f"mailto:{sent_by}")
    event.add("organizer", who)
    guest = vCalAddress(f"mailto:{attendee}")
    guest.params["cn"] = vText(on_one_line(booking.client.name if booking.client else "A former client"))
    guest.params["cutype"] = vText("INDIVIDUAL")
    guest.params["role"] = vText("REQ-PARTICIPANT")
    guest.params["partstat"] = vText("ACCEPTED")
    event.add("attendee", guest)
    cal.add_component(event)
    _zones(cal, booking.starts_at.date())
    return cal.to_ical().decode()


def feed(title: str, entries: list[tuple[Booking, str, str, str]], *, host: str) -> str:
    """A therapist's private feed: (booking, summary, location, link) each."""
    cal = _calendar(None, title)
    for booking, summary, location, link in entries:
        cal.add_component(_event(booking, summary=summary, location=location, link=link, host=host, cancelled=False))
    first = min((b.starts_at.date() for b, *_ in entries), default=clock.now().date())
    _zones(cal, first)
    return cal.to_ical().decode()


def _zones(cal: Calendar, first: date) -> None:
    """The VTIMEZONE of every TZID used, with its rules around the dates in question."""
    cal.add_missing_timezones(first_date=first - timedelta(days=366), last_date=first + timedelta(days=3 * 366))
    # icalendar notes the span of the rules as a COMMENT on the VTIMEZONE itself, where
    # RFC 5545 (3.6.5) allows none (libical rejects it): it belongs on STANDARD / DAYLIGHT.
    for zone in cal.walk("VTIMEZONE"):
        zone.pop("COMMENT", None)
