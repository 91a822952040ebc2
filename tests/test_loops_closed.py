"""Loops closed: reviews say they are public, clients change their email and password,
a chosen photo is never silently dropped, a pending request is answered with Accept
or Decline only (issue 13, item 7)."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime, timedelta

import pytest
from PIL import Image
from sqlalchemy import select

from directory.bookings import services
from directory.extensions import db
from directory.mail import plain_text
from directory.models import Role, TherapistProfile, User

from .booking_people import client_user, free_on, open_therapist
from .conftest import PASSWORD, login, post_form

NEW_PASSWORD = "amber-quilted-lighthouse-77"


@pytest.fixture
def rita(factory):
    return open_therapist(factory)


@pytest.fixture
def cleo(make_user):
    return client_user(make_user)


def test_the_review_form_says_reviews_are_public_and_warns_against_health_details(app, rita, cleo):
    booking = services.request_booking(cleo, rita, free_on(rita), 60, services.IntakeData())
    services.decide(rita, booking, accept=True, message="")
    booking.starts_at = datetime.now(UTC) - timedelta(hours=2)
    booking.ends_at = booking.starts_at + timedelta(hours=1)
    db.session.commit()
    services.complete(booking)
    c = app.test_client()
    login(c, cleo.email)
    page = c.get(f"/account/bookings/{booking.id}").get_data(as_text=True)
    form = page[page.index('id="review"') :]
    assert "Reviews are public" in form and "leave out health details" in form
    assert form.index("Reviews are public") < form.index("Publish review")


def test_a_pending_request_shows_accept_and_decline_not_cancel(app, rita, cleo):
    booking = services.request_booking(cleo, rita, free_on(rita), 60, services.IntakeData())
    t = app.test_client()
    login(t, rita.user.email)
    page = t.get(f"/account/bookings/{booking.id}").get_data(as_text=True)
    assert ">Accept</button>" in page and ">Decline</button>" in page
    assert "Cancel this booking" not in page and "Cancel the booking" not in page
    c = app.test_client()
    login(c, cleo.email)
    assert "Withdraw this request" in c.get(f"/account/bookings/{booking.id}").get_data(as_text=True)
    services.decide(rita, booking, accept=True, message="")
    assert "Cancel this booking" in t.get(f"/account/bookings/{booking.id}").get_data(as_text=True)


def test_a_client_changes_the_password_and_other_devices_are_signed_out(app, cleo, outbox):
    here, elsewhere = app.test_client(), app.test_client()
    login(here, cleo.email)
    login(elsewhere, cleo.email)
    wrong = post_form(
        here,
        "/auth/account/password",
        {"current_password": "not-it-at-all-9", "password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
        form_page="/auth/account",
    )
    assert wrong.status_code == 400 and "That is not your current password." in wrong.get_data(as_text=True)
    weak = post_form(
        here,
        "/auth/account/password",
        {"current_password": PASSWORD, "password": "password123", "confirm": "password123"},
        form_page="/auth/account",
    )
    assert weak.status_code == 400 and "too common" in weak.get_data(as_text=True)
    token_before = cleo.session_token
    done = post_form(
        here,
        "/auth/account/password",
        {"current_password": PASSWORD, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
        form_page="/auth/account",
    )
    assert done.status_code == 302
    db.session.expire_all()
    assert db.session.get(User, cleo.id).session_token != token_before  # a new password rotates the token
    assert here.get("/account/bookings").status_code == 200  # this device stays signed in
    assert elsewhere.get("/account/bookings").status_code == 302  # every other one is signed out
    assert any(m["Subject"] == "Your password was changed" for m in outbox())
    assert login(app.test_client(), cleo.email, NEW_PASSWORD).status_code == 302


def link_in(message) -> str:
    return re.search(r"http://localhost(/auth/email/\S+)", plain_text(message)).group(1)


def test_a_client_changes_the_email_once_the_new_address_confirms_it(app, cleo, outbox):
    c = app.test_client()
    login(c, cleo.email)
    asked = post_form(
        c,
        "/auth/account/email",
        {"change-email": "cleo.new@example.com", "change-current_password": PASSWORD},
        form_page="/auth/account",
    )
    assert asked.status_code == 302
    [mail] = [m for m in outbox() if m["To"] == "cleo.new@example.com"]
    db.session.expire_all()
    assert db.session.get(User, cleo.id).email == "cleo@example.com"  # not before the link is followed
    assert c.get(link_in(mail)).status_code == 302
    db.session.expire_all()
    user = db.session.get(User, cleo.id)
    assert user.email == "cleo.new@example.com" and user.email_confirmed_at is not None
    [notice] = [
        m for m in outbox() if m["To"] == "cleo@example.com" and m["Subject"] == "Your email address was changed"
    ]
    assert "cleo.new@example.com" in plain_text(notice)
    assert c.get(link_in(mail)).status_code == 400  # used once


def test_an_address_that_has_an_account_is_told_so_by_mail_not_on_the_page(app, cleo, make_user, outbox):
    make_user(Role.CLIENT, "taken@example.com")
    c = app.test_client()
    login(c, cleo.email)
    wrong = post_form(
        c,
        "/auth/account/email",
        {"change-email": "x@example.com", "change-current_password": "nope-nope-nope-1"},
        form_page="/auth/account",
    )
    assert wrong.status_code == 400 and "That is not your current password." in wrong.get_data(as_text=True)
    asked = post_form(
        c,
        "/auth/account/email",
        {"change-email": "taken@example.com", "change-current_password": PASSWORD},
        form_page="/auth/account",
        follow_redirects=True,
    )
    assert "We sent a link to taken@example.com" in asked.get_data(as_text=True)  # the same answer as for a free one
    [mail] = [m for m in outbox() if m["To"] == "taken@example.com"]
    assert "already has an account" in plain_text(mail) and "/auth/email/" not in plain_text(mail)
    db.session.expire_all()
    assert db.session.get(User, cleo.id).email == "cleo@example.com"


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 40), (10, 120, 90)).save(out, "PNG")
    return out.getvalue()


def test_a_photo_chosen_in_the_profile_form_is_saved_with_it(app, therapist_user):
    c = app.test_client()
    login(c, therapist_user.email)
    page = c.get("/account/profile").get_data(as_text=True)
    form = page[page.index('id="profile-form"') : page.index("Save profile")]
    assert 'name="photo"' in form and 'enctype="multipart/form-data"' in page[page.index('id="profile-form"') - 200 :]
    data = {
        "name": "Tess Therapist",
        "bio": "Calm and careful. " * 6,
        "gender": "female",
        "languages": ["en"],
        "years_experience": "7",
        "techniques": ["swedish"],
        "price_60": "95",
        "hsa_fsa": "y",
        "accepting_new_clients": "y",
        "postal_code": "60601",
        "photo": (io.BytesIO(png()), "me.png"),
    }
    response = post_form(c, "/account/profile", data, content_type="multipart/form-data")
    assert response.status_code == 302
    assert "Profile and photo saved" in c.get("/account/profile").get_data(as_text=True)
    profile = db.session.scalar(select(TherapistProfile).filter_by(user_id=therapist_user.id))
    assert profile.photo and profile.bio.startswith("Calm and careful.")
    # A file that is not an image is refused at the photo, and nothing is saved.
    data |= {"photo": (io.BytesIO(b"not an image"), "me.png"), "bio": "Changed " * 10}
    bad = post_form(c, "/account/profile", data, form_page="/account/profile", content_type="multipart/form-data")
    assert bad.status_code == 400 and 'id="photo-error"' in bad.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(TherapistProfile, profile.id).bio.startswith("Calm and careful.")
    # A photo chosen beside a mistake elsewhere is not dropped without a word.
    data |= {"photo": (io.BytesIO(png()), "me.png"), "postal_code": "not a zip"}
    mistake = post_form(c, "/account/profile", data, form_page="/account/profile", content_type="multipart/form-data")
    assert mistake.status_code == 400 and "Your photo was not saved" in mistake.get_data(as_text=True)
