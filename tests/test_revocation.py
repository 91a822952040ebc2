"""Security events revoke everything they should: pending email-change and reset
links, the private calendar feed, and a browser's booking draft (issue 22, item 6)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from directory.admin import services as admin_services
from directory.bookings import services as booking_services
from directory.extensions import db
from directory.mail import plain_text
from directory.models import BookingDraft, BookingSettings, Role, User

from .booking_people import client_user, free_on, open_therapist, send
from .conftest import PASSWORD, login, post_form

NEW_PASSWORD = "amber-quilted-lighthouse-77"
SECRET = "Secret-Med-4417"


@pytest.fixture
def rita(factory):
    return open_therapist(factory)


@pytest.fixture
def cleo(make_user):
    return client_user(make_user)


def ask_email_change(c, new_email: str, outbox) -> str:
    """Ask for a move to `new_email`; the link mailed there."""
    asked = post_form(
        c,
        "/auth/account/email",
        {"change-email": new_email, "change-current_password": PASSWORD},
        form_page="/auth/account",
    )
    assert asked.status_code == 302
    links = [re.search(r"http://localhost(/auth/email/\S+)", plain_text(m)) for m in outbox() if m["To"] == new_email]
    return [link for link in links if link][-1].group(1)


def email_of(user_id: int) -> str:
    db.session.expire_all()
    return db.session.get(User, user_id).email


def test_an_email_change_link_cannot_be_replayed_after_a_second_change(app, cleo, outbox):
    c = app.test_client()
    login(c, cleo.email)
    to_b = ask_email_change(c, "cleo.b@example.com", outbox)
    assert c.get(to_b).status_code == 302 and email_of(cleo.id) == "cleo.b@example.com"
    to_a = ask_email_change(c, "cleo@example.com", outbox)
    assert c.get(to_a).status_code == 302 and email_of(cleo.id) == "cleo@example.com"

    replay = c.get(to_b)
    assert replay.status_code == 400
    assert "This link no longer works" in replay.get_data(as_text=True)
    assert email_of(cleo.id) == "cleo@example.com"  # not moved back to B
    assert c.get("/account/bookings").status_code == 200  # the browser that followed the links stays signed in


def test_of_two_pending_email_change_links_only_the_first_followed_works(app, cleo, outbox):
    c = app.test_client()
    login(c, cleo.email)
    to_b = ask_email_change(c, "cleo.b@example.com", outbox)
    to_c = ask_email_change(c, "cleo.c@example.com", outbox)
    assert c.get(to_c).status_code == 302
    assert c.get(to_b).status_code == 400 and email_of(cleo.id) == "cleo.c@example.com"


def sign_out(app, user):
    c = app.test_client()
    login(c, user.email)
    assert post_form(c, "/auth/logout", {}, form_page="/account/bookings").status_code == 302


def change_password(app, user):
    c = app.test_client()
    login(c, user.email)
    done = post_form(
        c,
        "/auth/account/password",
        {"current_password": PASSWORD, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
        form_page="/auth/account",
    )
    assert done.status_code == 302


def reset_password(app, user, outbox):
    stranger = app.test_client()
    post_form(stranger, "/auth/forgot", {"email": user.email})
    mail = [m for m in outbox() if m["To"] == user.email and "Reset" in m["Subject"]][-1]
    link = re.search(r"http://localhost(/auth/reset/\S+)", plain_text(mail)).group(1)
    assert post_form(stranger, link, {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}).status_code == 302


def change_email(app, user, outbox):
    c = app.test_client()
    login(c, user.email)
    assert c.get(ask_email_change(c, "rita.new@example.com", outbox)).status_code == 302


def suspend(app, user, make_user):
    admin = make_user(Role.ADMIN, "admin@example.com")
    admin_services.set_suspension(admin, user.therapist, suspend=True, reason="complaint under review")


EVENTS = {
    "sign out everywhere": lambda app, user, outbox, make_user: sign_out(app, user),
    "password change": lambda app, user, outbox, make_user: change_password(app, user),
    "password reset": lambda app, user, outbox, make_user: reset_password(app, user, outbox),
    "email change": lambda app, user, outbox, make_user: change_email(app, user, outbox),
    "suspension": lambda app, user, outbox, make_user: suspend(app, user, make_user),
}


@pytest.mark.parametrize("event", list(EVENTS))
def test_the_calendar_feed_stops_at_each_security_event(app, client, rita, cleo, outbox, make_user, event):
    booking_services.request_booking(cleo, rita, free_on(rita), 60, booking_services.IntakeData())
    token = booking_services.new_calendar_address(rita)
    assert client.get(f"/calendar/{token}.ics").status_code == 200
    EVENTS[event](app, rita.user, outbox, make_user)
    assert client.get(f"/calendar/{token}.ics").status_code == 404
    db.session.expire_all()
    assert db.session.scalar(select(BookingSettings.calendar_token).filter_by(therapist_id=rita.id)) is None


@pytest.mark.parametrize("event", ["sign out everywhere", "password change", "suspension"])
def test_a_pending_email_change_link_dies_with_each_security_event(app, rita, outbox, make_user, event):
    c = app.test_client()
    login(c, rita.user.email)
    link = ask_email_change(c, "rita.elsewhere@example.com", outbox)
    EVENTS[event](app, rita.user, outbox, make_user)
    refused = app.test_client().get(link)
    assert refused.status_code == 400 and "This link no longer works" in refused.get_data(as_text=True)
    assert email_of(rita.user.id) == rita.user.email


def test_a_pending_reset_link_dies_when_the_account_signs_out_everywhere(app, cleo, outbox):
    stranger = app.test_client()
    post_form(stranger, "/auth/forgot", {"email": cleo.email})
    link = re.search(r"http://localhost(/auth/reset/\S+)", plain_text(outbox()[-1])).group(1)
    sign_out(app, cleo)
    assert stranger.get(link).status_code == 400


def test_signing_out_deletes_the_browser_draft_and_the_next_person_gets_an_empty_form(app, rita, cleo, make_user):
    browser = app.test_client()
    assert send(browser, rita, free_on(rita), medications=SECRET).status_code == 302  # kept while cleo signs in
    login(browser, cleo.email)
    assert SECRET in browser.get(f"/therapists/{rita.id}/book").get_data(as_text=True)
    copied = browser.get_cookie("session").value  # a copy of the cookie from before sign-out
    assert post_form(browser, "/auth/logout", {}, form_page="/account/bookings").status_code == 302
    assert db.session.scalar(select(func.count(BookingDraft.id))) == 0  # gone from the server, not only the cookie

    next_person = make_user(Role.CLIENT, "nina@example.com")
    login(browser, next_person.email)
    page = browser.get(f"/therapists/{rita.id}/book").get_data(as_text=True)
    assert SECRET not in page and "Welcome back" not in page
    thief = app.test_client()
    thief.set_cookie("session", copied)
    assert SECRET not in thief.get(f"/therapists/{rita.id}/book").get_data(as_text=True)
