"""Policies therapists expect: notice for cancelling and moving, a buffer between
sessions, several time ranges a day, copying hours to the weekdays, and clients
moving their own booking in one transaction (issue 13, item 5)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta

import pytest
from sqlalchemy import func, select

from directory.bookings import services
from directory.bookings.availability import free_starts, slots_for
from directory.extensions import db
from directory.models import Booking, BookingSlot, BookingStatus, Intake, WeeklyHours
from directory.service_errors import Conflict, ServiceError

from .booking_people import client_user, free_on, open_therapist
from .conftest import login, post_form


@pytest.fixture
def rita(factory):
    return open_therapist(factory)


@pytest.fixture
def cleo(make_user):
    return client_user(make_user)


def set_policies(app, rita, **changes):
    t = app.test_client()
    login(t, rita.user.email)
    data = {"notice_hours": "0", "buffer_minutes": "0", "phone": ""} | changes
    response = post_form(t, "/account/availability/policies", data, form_page="/account/availability")
    db.session.expire_all()
    return response


def all_starts(rita, minutes=60) -> list[datetime]:
    return [s.astimezone(UTC) for starts in free_starts(rita, minutes).values() for s in starts]


def test_the_notice_is_stated_before_the_client_commits_and_holds_for_clients_only(app, rita, cleo):
    assert set_policies(app, rita, notice_hours="48").status_code == 302
    page = app.test_client().get(f"/therapists/{rita.id}/book").get_data(as_text=True)
    assert page.index("asks for 48 hours' notice") < page.index("Request this time</button>")
    soon = services.request_booking(cleo, rita, free_on(rita), 60, services.IntakeData())
    services.decide(rita, soon, accept=True, message="")
    with pytest.raises(ServiceError, match="48 hours' notice to cancel"):
        services.cancel(soon, by="client", reason="Busy")
    with pytest.raises(ServiceError, match="48 hours' notice to move"):
        services.reschedule(soon, free_on(rita, day_index=6))
    services.cancel(soon, by="therapist", reason="I am ill")  # the therapist may still cancel
    far = services.request_booking(cleo, rita, free_on(rita, day_index=6), 60, services.IntakeData())
    services.decide(rita, far, accept=True, message="")
    services.cancel(far, by="client", reason="Busy")
    assert far.status == BookingStatus.CANCELLED


def test_bad_policies_are_refused_at_their_field(app, rita):
    response = set_policies(app, rita, notice_hours="5")
    assert response.status_code == 400 and "Not a valid choice" in response.get_data(as_text=True)
    response = set_policies(app, rita, phone="call me")
    assert response.status_code == 400
    assert "Give a phone number of 7 or more digits" in response.get_data(as_text=True)
    assert services.settings_of(rita).phone == ""  # nothing stored
    with pytest.raises(ServiceError) as info:
        services.set_policies(rita, services.PolicyData(notice_hours=5, buffer_minutes=20, phone="call me"))
    assert [p.field for p in info.value.problems] == ["notice_hours", "buffer_minutes", "phone"]


def test_the_buffer_keeps_time_free_after_each_session_and_the_database_holds_it(app, rita, cleo, make_user):
    set_policies(app, rita, buffer_minutes="30")
    start = free_on(rita, day_index=1, index=6)  # 11:00, with hours from 08:00
    booking = services.request_booking(cleo, rita, start, 60, services.IntakeData())
    assert booking.buffer_minutes == 30
    assert sorted(s.slot_start for s in booking.slots) == slots_for(start, 90)
    offered = all_starts(rita)
    end = start + timedelta(minutes=60)
    assert end not in offered and end + timedelta(minutes=30) in offered
    assert start - timedelta(minutes=60) not in offered  # would end with no buffer before this one
    assert start - timedelta(minutes=90) in offered
    other = client_user(make_user, "other@example.com")
    with pytest.raises(Conflict):
        services.request_booking(other, rita, end, 60, services.IntakeData())
    # The slots' key itself refuses a session in the buffer, service or not.
    squeezed = Booking(
        therapist_id=rita.id,
        client_id=other.id,
        starts_at=end,
        ends_at=end + timedelta(minutes=30),
        minutes=30,
        price_amount=50,
    )
    squeezed.slots = [BookingSlot(therapist_id=rita.id, slot_start=s) for s in slots_for(end, 30)]
    db.session.add(squeezed)
    with pytest.raises(Exception, match="(?i)unique|duplicate"):
        db.session.commit()
    db.session.rollback()


def hours_form(**spans) -> dict:
    data = {}
    for day in range(7):
        for suffix in ("", "_2", "_3"):
            data[f"d{day}_start{suffix}"] = data[f"d{day}_end{suffix}"] = ""
    data.update(spans)
    return data


def test_several_ranges_a_day_and_the_gap_between_them_is_not_offered(app, rita):
    t = app.test_client()
    login(t, rita.user.email)
    response = post_form(
        t,
        "/account/availability",
        hours_form(d2_start="09:00", d2_end="12:00", d2_start_2="14:00", d2_end_2="18:00"),
    )
    assert response.status_code == 302
    assert services.weekly_hours(rita) == {2: [(time(9), time(12)), (time(14), time(18))]}
    wednesdays = [d for d in free_starts(rita, 60) if d.weekday() == 2]
    assert wednesdays
    for day in wednesdays:
        clock = [s.time() for s in free_starts(rita, 60)[day]]
        assert time(11) in clock and time(14) in clock
        assert not [c for c in clock if time(11) < c < time(14)]  # 11:30 would end in the break
    page = t.get("/account/availability").get_data(as_text=True)
    assert 'name="d2_start_2"' in page and 'value="14:00"' in page


def test_overlapping_ranges_and_half_filled_ranges_are_refused(app, rita):
    t = app.test_client()
    login(t, rita.user.email)
    response = post_form(
        t,
        "/account/availability",
        hours_form(d0_start="09:00", d0_end="13:00", d0_start_2="12:00", d0_end_2="15:00", d4_start_3="10:00"),
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Give both a start and an end time for Friday, or neither." in page
    response = post_form(
        t, "/account/availability", hours_form(d0_start="09:00", d0_end="13:00", d0_start_2="12:00", d0_end_2="15:00")
    )
    assert response.status_code == 400
    assert "On Monday two ranges overlap (12:00 starts before 13:00 ends)" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.scalar(select(func.count(WeeklyHours.id)).filter_by(therapist_id=rita.id)) == 7  # unchanged


def test_copy_to_all_weekdays(app, rita):
    t = app.test_client()
    login(t, rita.user.email)
    data = hours_form(
        d1_start="10:00", d1_end="13:00", d1_start_2="15:00", d1_end_2="19:00", d5_start="09:00", d5_end="12:00"
    )
    response = post_form(t, "/account/availability", data | {"copy_from": "1"})
    assert response.status_code == 302
    hours = services.weekly_hours(rita)
    for day in range(5):
        assert hours[day] == [(time(10), time(13)), (time(15), time(19))]
    assert hours[5] == [(time(9), time(12))] and 6 not in hours
    assert "copied to Monday to Friday" in t.get("/account/availability").get_data(as_text=True)


def test_the_hours_page_fits_a_phone(app, rita):
    """No table: each day is a fieldset whose ranges wrap (site.css), so 320 px is enough."""
    t = app.test_client()
    login(t, rita.user.email)
    page = t.get("/account/availability").get_data(as_text=True)
    assert '<table class="hours"' not in page and page.count('<fieldset class="day-hours">') == 7
    css = app.test_client().get("/static/site.css").get_data(as_text=True)
    assert re.search(r"\.range \{[^}]*flex-wrap: wrap", css)


def test_a_client_moves_the_booking_in_one_transaction_keeping_the_intake(app, rita, cleo, outbox):
    old = free_on(rita, day_index=1, index=0)
    booking = services.request_booking(cleo, rita, old, 60, services.IntakeData(medications="Ibuprofen"))
    services.decide(rita, booking, accept=True, message="")
    new = old + timedelta(minutes=30)  # shares three quarter hours with the old time
    c = app.test_client()
    login(c, cleo.email)
    page = c.get(f"/account/bookings/{booking.id}/reschedule").get_data(as_text=True)
    assert new.isoformat() in page  # its own time does not hide the neighbouring one
    response = post_form(
        c,
        f"/account/bookings/{booking.id}/reschedule",
        {"start": new.isoformat()},
        form_page=f"/account/bookings/{booking.id}/reschedule",
    )
    assert response.status_code == 302
    db.session.expire_all()
    moved = db.session.get(Booking, booking.id)
    assert moved.starts_at == new and moved.status == BookingStatus.CONFIRMED and moved.calendar_sequence == 1
    assert sorted(s.slot_start for s in moved.slots) == slots_for(new, 60)
    assert moved.intake.medications == "Ibuprofen" and db.session.scalar(select(func.count()).select_from(Intake)) == 1
    # The old time's first quarter hour is free again: the only slots held are the new ones.
    assert db.session.scalar(select(func.count()).select_from(BookingSlot)) == 4
    assert old not in {s.slot_start for s in moved.slots}
    mails = [m for m in outbox() if m["Subject"].startswith("A session was moved")]
    assert sorted(m["To"] for m in mails) == sorted([cleo.email, rita.user.email])
    assert all(any(p.get_param("method") == "REQUEST" for p in m.iter_attachments()) for m in mails)


def test_moving_onto_a_taken_time_changes_nothing(rita, cleo, make_user):
    mine = services.request_booking(cleo, rita, free_on(rita, day_index=1), 60, services.IntakeData())
    other = client_user(make_user, "other@example.com")
    taken = free_on(rita, day_index=2)
    services.request_booking(other, rita, taken, 60, services.IntakeData())
    before = (mine.starts_at, sorted(s.slot_start for s in mine.slots))
    with pytest.raises(Conflict):
        services.reschedule(mine, taken)
    db.session.expire_all()
    mine = db.session.get(Booking, mine.id)
    assert (mine.starts_at, sorted(s.slot_start for s in mine.slots)) == before
    with pytest.raises(ServiceError, match="quarter hour"):
        services.reschedule(mine, taken + timedelta(minutes=10))


def test_only_the_client_moves_and_only_an_active_booking(app, rita, cleo):
    booking = services.request_booking(cleo, rita, free_on(rita), 60, services.IntakeData())
    t = app.test_client()
    login(t, rita.user.email)
    assert t.get(f"/account/bookings/{booking.id}/reschedule").status_code == 403
    services.decide(rita, booking, accept=False, message="")
    with pytest.raises(ServiceError, match="declined; it cannot be moved"):
        services.reschedule(booking, free_on(rita, day_index=3))
