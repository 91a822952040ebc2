"""Time off, narrower weekly hours, a longer buffer or notice never silently contradict a
booked visit: the page names the visits in the way and saves nothing until the therapist
chooses to keep them or to cancel them with a message to each client."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from directory.bookings import services
from directory.extensions import db
from directory.mail import plain_text
from directory.models import Booking, BookingSettings, BookingStatus, Role, TimeOff, WeeklyHours

from .booking_people import free_on, open_therapist
from .conftest import login, post_form
from .test_booking_states import check_invariant, mails

PAGE = "/account/availability"


@pytest.fixture
def therapist(factory):
    return open_therapist(factory, hours=(8, 20))


@pytest.fixture
def visits(therapist, make_user):
    """On one day: Ann's request at 10:00 and Bob's confirmed visit at 14:00 (local)."""
    ann, bob = make_user(Role.CLIENT, "ann@example.com"), make_user(Role.CLIENT, "bob@example.com")
    ten, two = free_on(therapist, 1, 4), free_on(therapist, 1, 12)
    pending = services.request_booking(ann, therapist, ten, 60, services.IntakeData())
    confirmed = services.request_booking(bob, therapist, two, 60, services.IntakeData())
    services.decide(therapist, confirmed, accept=True, message="")
    return pending, confirmed


@pytest.fixture
def tess(app, therapist):
    t = app.test_client()
    login(t, therapist.user.email)
    return t


def local_day(therapist, booking):
    return booking.starts_at.astimezone(therapist.zone).date()


def status_of(booking) -> BookingStatus:
    db.session.expire_all()
    return db.session.get(Booking, booking.id).status


def test_time_off_over_booked_visits_asks_then_keeps(therapist, visits, tess):
    pending, confirmed = visits
    day = local_day(therapist, pending).isoformat()
    off = {"starts_on": day, "ends_on": day, "note": "Dentist"}
    asked = post_form(tess, f"{PAGE}/time-off", off, form_page=PAGE)
    page = asked.get_data(as_text=True)
    assert asked.status_code == 409
    assert "2 booked visits would fall on these days off" in page and "Nothing is saved yet" in page
    assert f"/account/bookings/{pending.id}" in page and f"/account/bookings/{confirmed.id}" in page
    assert db.session.scalar(select(func.count(TimeOff.id))) == 0
    kept = post_form(tess, f"{PAGE}/time-off", off | {"settle": "keep"}, form_page=PAGE)
    assert kept.status_code == 302
    assert db.session.scalar(select(TimeOff)).note == "Dentist"
    assert status_of(pending) == BookingStatus.PENDING and status_of(confirmed) == BookingStatus.CONFIRMED
    check_invariant()


def test_time_off_over_booked_visits_cancels_them_with_a_message(therapist, visits, tess, outbox):
    pending, confirmed = visits
    day = local_day(therapist, pending).isoformat()
    off = {"starts_on": day, "ends_on": day, "settle": "cancel"}
    silent = post_form(tess, f"{PAGE}/time-off", off, form_page=PAGE)
    assert silent.status_code == 409 and "Write a message to the clients" in silent.get_data(as_text=True)
    assert status_of(pending) == BookingStatus.PENDING and db.session.scalar(select(func.count(TimeOff.id))) == 0
    done = post_form(tess, f"{PAGE}/time-off", off | {"settle_message": "Family emergency, sorry"}, form_page=PAGE)
    assert done.status_code == 302
    assert status_of(pending) == BookingStatus.DECLINED and status_of(confirmed) == BookingStatus.CANCELLED
    assert db.session.scalar(select(func.count(TimeOff.id))) == 1
    check_invariant()
    assert mails(outbox, pending.id)["Your booking was declined"] == 1
    assert mails(outbox, confirmed.id)["A booking was cancelled"] == 2
    to_clients = [m for m in outbox() if m["To"] in ("ann@example.com", "bob@example.com")]
    assert sum("Family emergency, sorry" in plain_text(m) for m in to_clients) == 2


def test_narrower_weekly_hours_name_the_visit_left_outside(therapist, visits, tess):
    pending, confirmed = visits
    weekday = pending.starts_at.astimezone(therapist.zone).weekday()
    hours = {f"d{i}_start": "08:00" for i in range(7)} | {f"d{i}_end": "20:00" for i in range(7)}
    hours |= {f"d{weekday}_end": "12:00"}  # the 14:00 visit falls outside, the 10:00 one does not
    asked = post_form(tess, PAGE, hours)
    page = asked.get_data(as_text=True)
    assert asked.status_code == 409 and "1 booked visit would fall outside the new weekly hours" in page
    assert f"/account/bookings/{confirmed.id}" in page and f"/account/bookings/{pending.id}" not in page
    assert db.session.scalar(select(WeeklyHours.end_time).filter_by(weekday=weekday)).hour == 20  # nothing saved
    done = post_form(tess, PAGE, hours | {"settle": "cancel", "settle_message": "New hours"})
    assert done.status_code == 302
    assert db.session.scalar(select(WeeklyHours.end_time).filter_by(weekday=weekday)).hour == 12
    assert status_of(confirmed) == BookingStatus.CANCELLED and status_of(pending) == BookingStatus.PENDING
    check_invariant()


def policies(notice=0, buffer=0, **extra):
    return {"notice_hours": str(notice), "buffer_minutes": str(buffer), "phone": ""} | extra


def test_a_longer_buffer_names_the_visit_that_follows_too_closely(therapist, make_user, tess, outbox):
    cleo = make_user(Role.CLIENT, "cleo@example.com")
    first = services.request_booking(cleo, therapist, free_on(therapist, 1, 4), 60, services.IntakeData())
    second = services.request_booking(cleo, therapist, first.ends_at, 60, services.IntakeData())
    asked = post_form(tess, f"{PAGE}/policies", policies(buffer=30), form_page=PAGE)
    page = asked.get_data(as_text=True)
    assert asked.status_code == 409 and "would leave less than 30 minutes free after the visit before" in page
    assert f"/account/bookings/{second.id}" in page and f"/account/bookings/{first.id}" not in page
    assert db.session.get(BookingSettings, therapist.id) is None  # nothing saved
    done = post_form(tess, f"{PAGE}/policies", policies(buffer=30, settle="cancel", settle_message="Need a break"))
    assert done.status_code == 302
    assert status_of(second) == BookingStatus.DECLINED and status_of(first) == BookingStatus.PENDING
    db.session.expire_all()
    assert services.settings_of(therapist).buffer_minutes == 30
    check_invariant()
    assert mails(outbox, second.id)["Your booking was declined"] == 1


def test_a_longer_notice_names_the_visits_it_takes_out_of_the_clients_hands(therapist, visits, tess):
    pending, confirmed = visits
    hours_away = (confirmed.starts_at - confirmed.created_at) / timedelta(hours=1)
    notice = next(h for h in services.NOTICE_CHOICES if h > hours_away)
    asked = post_form(tess, f"{PAGE}/policies", policies(notice=notice), form_page=PAGE)
    page = asked.get_data(as_text=True)
    assert asked.status_code == 409 and f"would start within {notice} hours" in page
    assert f"/account/bookings/{confirmed.id}" in page
    kept = post_form(tess, f"{PAGE}/policies", policies(notice=notice, settle="keep"), form_page=PAGE)
    assert kept.status_code == 302
    db.session.expire_all()
    assert services.settings_of(therapist).notice_hours == notice
    assert status_of(confirmed) == BookingStatus.CONFIRMED and status_of(pending) == BookingStatus.PENDING
    # A shorter notice contradicts nothing: saved at once.
    assert post_form(tess, f"{PAGE}/policies", policies(notice=0), form_page=PAGE).status_code == 302
