"""No cache keeps a page of someone's account or intake, and no shared cache
keeps serving a suspended therapist's photo (issue 11, item 12; the sign-up
half is in test_accounts.py)."""

from __future__ import annotations

import io

import pytest
from PIL import Image
from sqlalchemy import select

from directory.admin import services as admin_services
from directory.bookings import services as booking_services
from directory.bookings.availability import free_starts
from directory.extensions import db
from directory.models import Role, TherapistProfile

from .conftest import PASSWORD, login, post_form


@pytest.fixture
def booked(factory, make_user):
    therapist = factory.therapist(prices={60: 90}, commit=False)
    factory.open_for_bookings(therapist, PASSWORD)
    db.session.commit()
    carla = make_user(Role.CLIENT, "carla@example.com")
    days = free_starts(therapist, 60)
    start = days[next(iter(days))][0]
    intake = booking_services.IntakeData(concerns="Lower back pain after surgery")
    booking = booking_services.request_booking(carla, therapist, start, 60, intake)
    return therapist, carla, booking


def test_pages_with_intakes_or_account_data_are_not_stored(app, booked):
    therapist, carla, booking = booked
    client_side, therapist_side = app.test_client(), app.test_client()
    login(client_side, carla.email)
    login(therapist_side, therapist.user.email)
    for client, urls in (
        (client_side, ["/account/bookings", f"/account/bookings/{booking.id}", "/auth/delete"]),
        (therapist_side, ["/account", "/account/bookings", f"/account/bookings/{booking.id}", "/account/profile"]),
    ):
        for url in urls:
            response = client.get(url)
            assert response.status_code == 200, url
            assert response.headers.get("Cache-Control") == "no-store", url
    intake_page = therapist_side.get(f"/account/bookings/{booking.id}")
    assert "Lower back pain after surgery" in intake_page.get_data(as_text=True)  # the page that must not be cached


def test_public_pages_for_anonymous_visitors_stay_cacheable(app, booked):
    therapist, _, _ = booked
    response = app.test_client().get(f"/therapists/{therapist.id}")
    assert "no-store" not in response.headers.get("Cache-Control", "")


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (60, 60), (20, 140, 90)).save(out, "PNG")
    return out.getvalue()


def test_a_listed_photo_is_revalidated_by_shared_caches_and_gone_after_a_suspension(app, therapist_user, make_user):
    owner = app.test_client()
    login(owner, therapist_user.email)
    post_form(
        owner,
        "/account/photo",
        {"photo": (io.BytesIO(png()), "me.png")},
        form_page="/account/profile",
        content_type="multipart/form-data",
    )
    profile = db.session.scalar(select(TherapistProfile).filter_by(user_id=therapist_user.id))
    visitor = app.test_client()
    first = visitor.get(f"/therapists/{profile.id}/photo")
    first.close()
    cache_control = first.headers["Cache-Control"]
    assert first.status_code == 200
    assert "no-cache" in cache_control or "private" in cache_control
    assert "max-age=3600" not in cache_control
    again = visitor.get(f"/therapists/{profile.id}/photo", headers={"If-None-Match": first.headers["ETag"]})
    again.close()
    assert again.status_code == 304  # revalidation is cheap while nothing changed
    admin = make_user(Role.ADMIN, "admin@example.com")
    admin_services.set_suspension(admin, profile, suspend=True, reason="complaint under review")
    gone = visitor.get(f"/therapists/{profile.id}/photo", headers={"If-None-Match": first.headers["ETag"]})
    assert gone.status_code == 404  # the cache's next revalidation drops it
