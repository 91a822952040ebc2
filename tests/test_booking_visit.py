"""A confirmed booking says where to go and who to call, carries a thread of messages,
reaches calendars (.ics by mail and a private feed) and sends its reminders once
(issue 13, items 3 and 4)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from icalendar import Calendar
from sqlalchemy import select

from directory.bookings import reminders, services
from directory.extensions import db
from directory.mail import plain_text
from directory.models import Booking, BookingSettings, User
from directory.schedule import BEAT_SCHEDULE, BOOKING_REMINDERS, REVIEW_PROMPTS

from .booking_people import client_user, free_on, open_therapist
from .conftest import login, post_form

SECRET = "Secret-Med-5521"


@pytest.fixture
def rita(factory):
    return open_therapist(factory, address="1 W Main St", city="Chicago", state="IL", postal_code="60601")


@pytest.fixture
def cleo(make_user):
    return client_user(make_user)


def request(rita, cleo, start=None, **intake) -> Booking:
    return services.request_booking(
        cleo, rita, start or free_on(rita), 60, services.IntakeData(medications=SECRET, **intake)
    )


def accept(app, rita, booking):
    t = app.test_client()
    login(t, rita.user.email)
    post_form(
        t, f"/account/bookings/{booking.id}/decide", {"decision": "accept"}, form_page=f"/account/bookings/{booking.id}"
    )
    db.session.expire_all()
    return t


def private_address(rita, phone=""):
    db.session.add(
        BookingSettings(
            therapist_id=rita.id, notice_hours=0, buffer_minutes=0, address_after_confirmation=True, phone=phone
        )
    )
    db.session.commit()


def ics_of(message) -> tuple[str, Calendar]:
    [part] = [p for p in message.iter_attachments() if p.get_content_type() == "text/calendar"]
    return part.get_param("method"), Calendar.from_ical(part.get_content())


# --- where to go and who to call ----------------------------------------------------------


def test_the_address_and_a_map_link_are_shown_on_the_profile_and_the_booking(app, client, rita, cleo):
    page = client.get(f"/therapists/{rita.id}").get_data(as_text=True)
    assert "1 W Main St, Chicago, IL 60601" in page
    assert "https://www.openstreetmap.org/?mlat=41.88580&amp;mlon=-87.61810" in page
    booking = request(rita, cleo)
    c = app.test_client()
    login(c, cleo.email)
    assert "1 W Main St" in c.get(f"/account/bookings/{booking.id}").get_data(as_text=True)


def test_a_home_practice_shows_only_the_area_until_the_booking_is_confirmed(app, client, rita, cleo, outbox):
    private_address(rita, phone="(312) 555-0142")
    profile = client.get(f"/therapists/{rita.id}").get_data(as_text=True)
    assert "1 W Main St" not in profile and "Chicago, IL" in profile and "mlat=" not in profile
    assert "#map=14/41.8875/-87.6125" in profile  # the centre of the area's cell, not the door
    booking = request(rita, cleo)
    c = app.test_client()
    login(c, cleo.email)
    pending = c.get(f"/account/bookings/{booking.id}").get_data(as_text=True)
    assert "1 W Main St" not in pending and "555-0142" not in pending
    accept(app, rita, booking)
    confirmed = c.get(f"/account/bookings/{booking.id}").get_data(as_text=True)
    assert "1 W Main St, Chicago, IL 60601" in confirmed and 'href="tel:(312)555-0142"' in confirmed
    [mail] = [m for m in outbox() if m["To"] == cleo.email and m["Subject"] == "Your booking was accepted"]
    text = plain_text(mail)
    assert "1 W Main St, Chicago, IL 60601" in text and "openstreetmap.org/?mlat=" in text and "555-0142" in text


def test_messages_reach_the_other_side_and_the_mail_never_quotes_them(app, rita, cleo, outbox, make_user):
    booking = request(rita, cleo)
    c = app.test_client()
    login(c, cleo.email)
    sent = post_form(
        c,
        f"/account/bookings/{booking.id}/messages",
        {"body": f"I take {SECRET}; is that fine?"},
        form_page=f"/account/bookings/{booking.id}",
    )
    assert sent.status_code == 302
    [notice] = [m for m in outbox() if m["Subject"].startswith("New message about your booking on")]
    assert notice["To"] == rita.user.email and SECRET not in plain_text(notice)
    assert f"/account/bookings/{booking.id}" in plain_text(notice)
    t = app.test_client()
    login(t, rita.user.email)
    assert f"I take {SECRET}; is that fine?" in t.get(f"/account/bookings/{booking.id}").get_data(as_text=True)
    empty = post_form(t, f"/account/bookings/{booking.id}/messages", {"body": "  "}, form_page="/account/bookings")
    assert empty.status_code == 400 and "Write a message first." in empty.get_data(as_text=True)
    stranger = make_user(User.role.type.enum_class.CLIENT, "stranger@example.com")
    s = app.test_client()
    login(s, stranger.email)
    other = post_form(s, f"/account/bookings/{booking.id}/messages", {"body": "hi"}, form_page="/account/bookings")
    assert other.status_code == 404


# --- calendars ------------------------------------------------------------------------------


def test_confirmation_and_cancellation_mails_carry_an_ics_in_the_therapists_zone(app, rita, cleo, outbox):
    booking = request(rita, cleo, concerns="XQ-concern")
    accept(app, rita, booking)
    [mail] = [m for m in outbox() if m["To"] == cleo.email and m["Subject"] == "Your booking was accepted"]
    method, cal = ics_of(mail)
    assert method == "REQUEST" and cal["METHOD"] == "REQUEST" and cal["VERSION"] == "2.0"
    [event] = cal.walk("VEVENT")
    assert event["DTSTART"].params["TZID"] == "America/Chicago"
    assert event.decoded("DTSTART") == booking.starts_at.astimezone(rita.zone)
    assert event.decoded("DTEND") - event.decoded("DTSTART") == timedelta(minutes=60)
    assert [tz["TZID"] for tz in cal.walk("VTIMEZONE")] == ["America/Chicago"]
    assert str(event["STATUS"]) == "CONFIRMED" and "Rita Relax" in str(event["SUMMARY"])
    assert str(event["ATTENDEE"]) == f"mailto:{cleo.email}" and "1 W Main St" in str(event["LOCATION"])
    whole = mail.as_string()
    assert SECRET not in whole and "XQ-concern" not in whole
    uid = str(event["UID"])
    [therapist_mail] = [m for m in outbox() if m["To"] == rita.user.email and m["Subject"] == "You accepted a booking"]
    [own] = ics_of(therapist_mail)[1].walk("VEVENT")
    assert str(own["UID"]) == uid
    # The therapist organizes (her name; her own address in her copy, the site sending for her);
    # the client attends. Neither copy carries the other party's address.
    site = "no-reply@truetouch.example"
    assert str(event["ORGANIZER"]).lower() == f"mailto:{site}" and event["ORGANIZER"].params["CN"] == "Rita Relax"
    assert event["ATTENDEE"].params["CN"] == cleo.name and event["ATTENDEE"].params["PARTSTAT"] == "ACCEPTED"
    assert str(own["ORGANIZER"]) == f"mailto:{rita.user.email}" and own["ORGANIZER"].params["CN"] == "Rita Relax"
    assert own["ORGANIZER"].params["SENT-BY"] == f"mailto:{site}"
    assert own["ATTENDEE"].params["CN"] == cleo.name and cleo.email not in therapist_mail.as_string()
    assert rita.user.email not in mail.as_string()
    # RFC 5545 3.6.5: no COMMENT on a VTIMEZONE itself
    for zone in cal.walk("VTIMEZONE"):
        assert "COMMENT" not in zone
    assert "COMMENT" not in ics_of(therapist_mail)[1].walk("VTIMEZONE")[0]

    c = app.test_client()
    login(c, cleo.email)
    post_form(
        c, f"/account/bookings/{booking.id}/cancel", {"reason": "Ill"}, form_page=f"/account/bookings/{booking.id}"
    )
    cancelled = [m for m in outbox() if m["Subject"] == "A booking was cancelled"]
    assert sorted(m["To"] for m in cancelled) == sorted([cleo.email, rita.user.email])
    for m in cancelled:
        method, cal = ics_of(m)
        [gone] = cal.walk("VEVENT")
        assert method == "CANCEL" and cal["METHOD"] == "CANCEL" and str(gone["UID"]) == uid
        assert str(gone["STATUS"]) == "CANCELLED" and gone["SEQUENCE"] > event["SEQUENCE"]


def test_each_therapist_has_a_private_revocable_calendar_feed(app, client, rita, cleo):
    booking = request(rita, cleo, concerns="XQ-concern")
    t = app.test_client()
    login(t, rita.user.email)
    assert "Create my calendar address" in t.get("/account/availability").get_data(as_text=True)
    post_form(t, "/account/availability/calendar", {"action": "rotate"}, form_page="/account/availability")
    token = db.session.scalar(select(BookingSettings.calendar_token).filter_by(therapist_id=rita.id))
    assert token and f"http://localhost/calendar/{token}.ics" in t.get("/account/availability").get_data(as_text=True)
    feed = client.get(f"/calendar/{token}.ics")
    assert feed.status_code == 200 and feed.mimetype == "text/calendar"
    assert all("COMMENT" not in zone for zone in Calendar.from_ical(feed.get_data()).walk("VTIMEZONE"))
    assert "BEGIN:VTIMEZONE" in feed.get_data(as_text=True)
    assert feed.headers["Cache-Control"] == "private, no-store"
    cal = Calendar.from_ical(feed.get_data(as_text=True))
    [event] = cal.walk("VEVENT")
    assert event.decoded("DTSTART") == booking.starts_at.astimezone(rita.zone) and "cleo" in str(event["SUMMARY"])
    assert str(event["STATUS"]) == "TENTATIVE" and cal.walk("VTIMEZONE")
    assert SECRET not in feed.get_data(as_text=True) and "XQ-concern" not in feed.get_data(as_text=True)
    # A new address revokes the old one; turning the feed off revokes both.
    post_form(t, "/account/availability/calendar", {"action": "rotate"}, form_page="/account/availability")
    db.session.expire_all()
    new = db.session.scalar(select(BookingSettings.calendar_token).filter_by(therapist_id=rita.id))
    assert new != token and client.get(f"/calendar/{token}.ics").status_code == 404
    assert client.get(f"/calendar/{new}.ics").status_code == 200
    post_form(t, "/account/availability/calendar", {"action": "stop"}, form_page="/account/availability")
    assert client.get(f"/calendar/{new}.ics").status_code == 404
    assert client.get("/calendar/not-a-token.ics").status_code == 404


def test_a_name_stored_with_a_line_break_still_makes_a_calendar_feed(app, client, rita, cleo):
    """Issue 23, item 8: a therapist named "Rita\nRelax" made her feed answer 500. The
    services now refuse such names; one stored before that is written on one line."""
    request(rita, cleo)
    rita.name, cleo.name = "Rita\nRelax", "Cleo\r\nClient\x0b"
    db.session.commit()
    token = services.new_calendar_address(rita)
    feed = client.get(f"/calendar/{token}.ics")
    assert feed.status_code == 200
    cal = Calendar.from_ical(feed.get_data(as_text=True))
    assert str(cal["X-WR-CALNAME"]) == "Rita Relax: bookings"
    [event] = cal.walk("VEVENT")
    assert str(event["SUMMARY"]).startswith("Massage: Cleo Client")


# --- reminders and the review prompt ------------------------------------------------------


def confirmed_tomorrow(app, rita, cleo) -> Booking:
    booking = request(rita, cleo)
    accept(app, rita, booking)
    booking = db.session.get(Booking, booking.id)
    booking.starts_at = datetime.now(UTC) + timedelta(hours=20)
    booking.ends_at = booking.starts_at + timedelta(minutes=60)
    db.session.commit()
    return booking


def test_reminders_go_to_both_sides_once_whoever_runs_the_job(app, rita, cleo, outbox):
    booking = confirmed_tomorrow(app, rita, cleo)
    later = services.request_booking(cleo, rita, free_on(rita, day_index=5), 60, services.IntakeData())
    job = app.extensions["celery"].tasks[BOOKING_REMINDERS]
    assert job.apply().get() == 1
    assert job.apply().get() == 0
    sent = [m for m in outbox() if m["Subject"].startswith("Tomorrow:")]
    assert sorted(m["To"] for m in sent) == sorted([cleo.email, rita.user.email])
    client_mail = next(m for m in sent if m["To"] == cleo.email)
    assert "Where: 1 W Main St, Chicago, IL 60601" in plain_text(client_mail)
    assert SECRET not in client_mail.as_string()
    db.session.expire_all()
    assert db.session.get(Booking, booking.id).reminded_at is not None
    assert db.session.get(Booking, later.id).reminded_at is None  # pending and far: not yet
    assert any(e["task"] == BOOKING_REMINDERS for e in BEAT_SCHEDULE.values())


def test_two_schedulers_at_once_still_send_each_reminder_once(app, rita, cleo, outbox):
    confirmed_tomorrow(app, rita, cleo)
    db.session.remove()
    barrier = threading.Barrier(2, timeout=30)
    counts: list[int] = []

    def scheduler():
        with app.app_context():
            from directory import notifications

            barrier.wait()
            try:
                counts.append(reminders.send_reminders(notifications.booking_reminder))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=scheduler) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(counts) == [0, 1]
    assert len([m for m in outbox() if m["Subject"].startswith("Tomorrow:")]) == 2  # one to each side


def test_a_reminder_that_rolls_back_sends_nothing(app, rita, cleo, outbox):
    confirmed_tomorrow(app, rita, cleo)

    def fail(booking):
        from directory import notifications

        notifications.booking_reminder(booking)
        raise RuntimeError("the job died before its commit")

    with pytest.raises(RuntimeError):
        reminders.send_reminders(fail)
    db.session.rollback()
    assert not [m for m in outbox() if m["Subject"].startswith("Tomorrow:")]
    assert db.session.scalar(select(Booking.reminded_at)) is None  # it will be tried again


def test_after_a_completed_visit_the_client_is_asked_once_how_it_was(app, rita, cleo, outbox):
    booking = confirmed_tomorrow(app, rita, cleo)
    booking.starts_at = datetime.now(UTC) - timedelta(hours=2)
    booking.ends_at = booking.starts_at + timedelta(minutes=60)
    db.session.commit()
    services.complete(booking)
    job = app.extensions["celery"].tasks[REVIEW_PROMPTS]
    assert job.apply().get() == 1 and job.apply().get() == 0
    [prompt] = [m for m in outbox() if m["Subject"] == "How was your visit with Rita Relax?"]
    text = plain_text(prompt)
    assert prompt["To"] == cleo.email and f"/account/bookings/{booking.id}#review" in text
    assert "Reviews are public" in text and SECRET not in prompt.as_string()
