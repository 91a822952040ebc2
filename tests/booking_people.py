"""People and times for the booking tests: a therapist who works every day, a client."""

from __future__ import annotations

from datetime import UTC, datetime

from directory.bookings.availability import free_starts
from directory.extensions import db
from directory.models import Role

from .conftest import PASSWORD, post_form


def open_therapist(factory, name="Rita Relax", hours=(8, 20), **fields):
    t = factory.therapist(
        name=name,
        techniques=fields.pop("techniques", ("swedish", "reflexology")),
        prices=fields.pop("prices", {30: 50, 60: 95}),
        timezone=fields.pop("timezone", "America/Chicago"),
        commit=False,
        **fields,
    )
    factory.open_for_bookings(t, PASSWORD, hours=hours)
    db.session.commit()
    return t


def client_user(make_user, email="cleo@example.com"):
    return make_user(Role.CLIENT, email)


def free_on(t, day_index=0, index=0, minutes=60, **kwargs) -> datetime:
    """The index-th free start (UTC) of the day_index-th day with free times."""
    days = free_starts(t, minutes, **kwargs)
    day = sorted(days)[day_index]
    return days[day][index].astimezone(UTC)


def send(c, t, start: datetime | None, minutes=60, day=None, **intake):
    data = {
        "minutes": str(minutes),
        "concerns": intake.pop("concerns", "Stiff neck"),
        "medications": intake.pop("medications", ""),
        "history": intake.pop("history", ""),
    }
    if start is not None:
        data["start"] = start.isoformat()
    if day is not None:
        data["day"] = day.isoformat()
    data.update(intake)
    return post_form(c, f"/therapists/{t.id}/book", data, form_page=f"/therapists/{t.id}/book")
