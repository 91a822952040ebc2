"""One quarter-hour grid for weekly hours, start times and slots, and on
PostgreSQL an exclusion constraint over booked times (issue 11, item 4).

The attack: with a client booked 18:00-19:00 UTC on a Friday, the therapist
moved Friday's start to 09:10; the site then offered 17:10, and a second client
booked 17:10-18:10, whose quarter hours never met the first booking's.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from directory.bookings import services
from directory.bookings.availability import free_starts, on_grid
from directory.extensions import db
from directory.models import Booking, BookingStatus, Role, WeeklyHours
from directory.service_errors import ServiceError

from .conftest import PASSWORD, TODAY, login, post_form

# Dates here are relative to the day: the clock is frozen (conftest.FROZEN_AT).
pytestmark = pytest.mark.usefixtures("frozen")


def next_friday() -> date:
    day = TODAY + timedelta(days=2)  # well past the lead time
    return day + timedelta(days=(4 - day.weekday()) % 7)


@pytest.fixture
def therapist(factory):
    t = factory.therapist(name="Uma UTC", prices={60: 90}, timezone="UTC", commit=False)
    factory.open_for_bookings(t, PASSWORD, hours=(9, 20))
    db.session.commit()
    return t


@pytest.fixture
def friday_evening(therapist, make_user):
    """The first client's booking: Friday 18:00-19:00 UTC."""
    first = make_user(Role.CLIENT, "first@example.com")
    start = datetime.combine(next_friday(), time(18), UTC)
    return services.request_booking(first, therapist, start, 60, services.IntakeData())


def friday_hours(therapist) -> WeeklyHours:
    return db.session.scalar(select(WeeklyHours).filter_by(therapist_id=therapist.id, weekday=4))


def test_the_form_refuses_a_start_off_the_quarter_hour(client, therapist, friday_evening):
    login(client, therapist.user.email)
    data = {f"d{d}_start": "09:00" for d in range(7)} | {f"d{d}_end": "20:00" for d in range(7)}
    data["d4_start"] = "09:10"
    response = post_form(client, "/account/availability", data)
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "On Friday, 09:10 is not on the quarter hour" in page and ":00, :15, :30 or :45" in page
    db.session.expire_all()
    assert friday_hours(therapist).start_time == time(9)  # nothing saved


def test_the_service_refuses_weekly_hours_off_the_grid(therapist):
    with pytest.raises(ServiceError) as info:
        services.set_weekly_hours(therapist, {4: (time(9, 10), time(17)), 5: (time(9), time(16, 50))})
    assert [p.field for p in info.value.problems] == ["d4_start", "d5_end"]
    assert "quarter hour" in str(info.value)


def test_hours_stored_off_the_grid_never_offer_an_overlapping_time(therapist, friday_evening):
    """Hours saved before the rule (09:10) still give only grid starts, none overlapping 18:00-19:00."""
    friday_hours(therapist).start_time = time(9, 10)
    db.session.commit()
    offered = free_starts(therapist, 60)[next_friday()]
    assert offered and all(on_grid(s) for s in offered)
    booked_start, booked_end = friday_evening.starts_at, friday_evening.ends_at
    for start in offered:
        start = start.astimezone(UTC)
        assert start + timedelta(minutes=60) <= booked_start or start >= booked_end, start
    assert datetime.combine(next_friday(), time(17, 10), UTC) not in offered


def test_a_second_client_cannot_book_across_the_first(client, therapist, friday_evening, make_user):
    second = make_user(Role.CLIENT, "second@example.com")
    friday = next_friday()
    with pytest.raises(ServiceError, match="quarter hour"):
        services.request_booking(
            second, therapist, datetime.combine(friday, time(17, 10), UTC), 60, services.IntakeData()
        )
    with pytest.raises(ServiceError, match="just taken"):
        services.request_booking(
            second, therapist, datetime.combine(friday, time(17, 30), UTC), 60, services.IntakeData()
        )
    login(client, second.email)
    start = datetime.combine(friday, time(17, 10), UTC)
    response = post_form(
        client,
        f"/therapists/{therapist.id}/book",
        {"start": start.isoformat(), "minutes": "60", "concerns": ""},
        form_page=f"/therapists/{therapist.id}/book",
    )
    assert response.status_code == 400 and "Times fall on the quarter hour" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Booking.id))) == 1


@pytest.mark.postgres_only
def test_postgresql_refuses_an_overlapping_booking_inserted_directly(therapist, friday_evening, make_user):
    """No slots, no service: the bookings table itself refuses the overlap."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("the exclusion constraint is PostgreSQL's; SQLite keeps booking_slots' primary key")
    second = make_user(Role.CLIENT, "second@example.com")
    start = datetime.combine(next_friday(), time(17, 10), UTC)

    def insert(status: BookingStatus):
        db.session.add(
            Booking(
                therapist_id=therapist.id,
                client_id=second.id,
                starts_at=start,
                ends_at=start + timedelta(minutes=60),
                minutes=60,
                price_amount=90,
                status=status,
            )
        )
        db.session.commit()

    with pytest.raises(IntegrityError, match="ex_bookings_therapist_time"):
        insert(BookingStatus.PENDING)
    db.session.rollback()
    insert(BookingStatus.CANCELLED)  # a booking that holds no time may overlap
    assert db.session.scalar(select(func.count(Booking.id))) == 2
