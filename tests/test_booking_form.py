"""The booking page keeps the day, length, time and everything typed through every
error and through signing in or signing up (issue 13, items 1 and 2)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, quote, unquote, urlsplit

import pytest
from sqlalchemy import func, select

from directory.auth.decorators import PENDING_BOOKING
from directory.bookings import drafts
from directory.bookings.services import IntakeData
from directory.extensions import db
from directory.models import Booking, BookingDraft

from .booking_people import client_user, free_on, open_therapist, send
from .conftest import PASSWORD, login, post_form

SECRET = "Secret-Med-9931"


@pytest.fixture
def rita(factory):
    return open_therapist(factory)


@pytest.fixture
def cleo(make_user):
    return client_user(make_user)


def checked_start(page: str) -> str | None:
    found = re.search(r'name="start" value="([^"]+)"[^>]*checked', page)
    return found.group(1) if found else None


def shown_day(page: str) -> str:
    return re.search(r'name="day" value="([^"]+)"', page).group(1)


def test_an_error_without_a_time_keeps_the_day_and_the_intake(client, rita, cleo):
    login(client, cleo.email)
    later = free_on(rita, day_index=3)
    day = later.astimezone(rita.zone).date()
    response = send(
        client, rita, None, day=day, concerns="Tight shoulders XQ", goals=["stress"], history="Old fracture"
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert shown_day(page) == day.isoformat()  # the day chosen, not today
    assert f"Start time on {day:%A, %B} {day.day}" in page
    assert "Tight shoulders XQ" in page and "Old fracture" in page
    assert re.search(r'value="stress"[^>]*checked', page)
    # The message sits at the top, before the times, and links to them.
    assert page.index("Your request was not sent") < page.index('id="times"')
    assert 'href="#times">Choose a start time.' in page
    # Choosing a time on that page books that day.
    ten = free_on(rita, day_index=3, index=4)
    assert send(client, rita, ten, day=day).status_code == 302
    booking = db.session.scalar(select(Booking))
    assert booking.starts_at == ten and booking.starts_at.astimezone(rita.zone).date() == day


def test_a_refused_intake_keeps_the_chosen_time_and_says_why_at_the_top(client, rita, cleo):
    login(client, cleo.email)
    start = free_on(rita, day_index=2, index=3)
    response = send(client, rita, start, conditions=["blood_clot"], medications=SECRET)
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert checked_start(page) == start.isoformat()
    assert shown_day(page) == start.astimezone(rita.zone).date().isoformat()
    assert SECRET in page and re.search(r'value="blood_clot"[^>]*checked', page)
    top = page.index("Your request was not sent")
    assert top < page.index('id="times"') and "blood clot" in page[top : page.index('id="times"')].lower()
    assert db.session.scalar(select(func.count(Booking.id))) == 0


def test_the_chosen_slot_is_summarised_beside_the_button(client, rita):
    start = free_on(rita, day_index=1, index=2)
    local = start.astimezone(rita.zone)
    page = client.get(f"/therapists/{rita.id}/book?minutes=60&start={quote(start.isoformat())}").get_data(as_text=True)
    summary = re.search(r'id="choice-summary"[^>]*>([^<]*)<', page).group(1)
    assert summary == f"{local:%a %b} {local.day}, {local:%I:%M %p}".replace(" 0", " ") + ", 60 min, $95"
    assert checked_start(page) == start.isoformat()
    assert page.index('id="choice-summary"') < page.index("Request this time</button>")
    # Every time carries its own summary, for the page's script.
    assert page.count('data-summary="') >= 2 and ", 60 min, $95" in page


def session_of(client, app) -> dict:
    cookie = client.get_cookie("session")
    return app.session_interface.get_signing_serializer(app).loads(cookie.value)


def test_a_signed_out_visitor_keeps_everything_through_sign_up(app, client, rita, outbox):
    page = client.get(f"/therapists/{rita.id}/book").get_data(as_text=True)
    assert page.index("you need a client account") < page.index("Your intake")  # said at the top
    start = free_on(rita, day_index=2, index=1)
    response = send(
        client, rita, start, concerns="Desk neck", medications=SECRET, goals=["stress"], conditions=["varicose_veins"]
    )
    assert response.status_code == 302
    location = unquote(response.headers["Location"])
    assert location.startswith("/auth/login?next=/therapists/")
    next_url = parse_qs(urlsplit(response.headers["Location"]).query)["next"][0]
    # Health details never go into a URL or a cookie: the cookie holds a random key.
    for text in (location, client.get_cookie("session").value, str(session_of(client, app))):
        assert SECRET not in text and "Desk neck" not in text and "varicose" not in text
    assert set(session_of(client, app)) >= {PENDING_BOOKING}
    assert "Your booking request is kept" in client.get(response.headers["Location"]).get_data(as_text=True)

    # Sign up inside the flow, then sign in: back at the form, everything there.
    register = post_form(
        client,
        f"/auth/register/client?next={quote(next_url)}",
        {"name": "Cleo Client", "email": "cleo@example.com", "password": PASSWORD, "confirm": PASSWORD},
    )
    assert register.status_code == 302
    signed_in = post_form(client, register.headers["Location"], {"email": "cleo@example.com", "password": PASSWORD})
    assert signed_in.headers["Location"] == next_url
    page = client.get(next_url).get_data(as_text=True)
    assert "Welcome back" in page and "Desk neck" in page and SECRET in page
    assert checked_start(page) == start.isoformat()
    assert re.search(r'value="varicose_veins"[^>]*checked', page) and re.search(r'value="stress"[^>]*checked', page)

    sent = send(client, rita, start, concerns="Desk neck", medications=SECRET, conditions=["varicose_veins"])
    assert sent.status_code == 302
    booking = db.session.scalar(select(Booking))
    assert booking.intake.medications == SECRET and booking.starts_at == start
    assert db.session.scalar(select(func.count(BookingDraft.id))) == 0  # used, so removed


def test_a_draft_is_refused_when_the_intake_would_be(client, rita):
    """The safety screening runs before the detour: nobody signs up to be refused."""
    response = send(client, rita, free_on(rita), conditions=["fever"])
    assert response.status_code == 400 and "healthcare provider" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(BookingDraft.id))) == 0


def test_drafts_expire_and_the_hourly_job_removes_them(app, rita):
    key = drafts.keep(None, rita.id, None, 60, IntakeData(concerns="x"))
    assert drafts.find(key) is not None
    later = datetime.now(UTC) + timedelta(hours=drafts.DRAFT_HOURS, minutes=1)
    assert drafts.find(key, now=later) is None
    assert drafts.purge(now=later) == 1
    assert db.session.scalar(select(func.count(BookingDraft.id))) == 0
    assert "Secret" not in repr(BookingDraft(concerns="Secret"))


def test_signing_out_leaves_no_draft_for_the_next_person(app, client, rita, cleo):
    send(client, rita, free_on(rita), medications=SECRET)
    login(client, cleo.email)
    post_form(client, "/auth/logout", {}, form_page=f"/therapists/{rita.id}/book")
    assert SECRET not in client.get(f"/therapists/{rita.id}/book").get_data(as_text=True)


@pytest.mark.parametrize("start", ["0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-05:00"])
def test_a_start_at_the_edge_of_time_is_refused_not_crashed(start):
    from directory.bookings.forms import parse_start

    assert parse_start(start) is None
