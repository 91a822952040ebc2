"""A session ends for good: a cookie copied before sign-out, a password reset,
a suspension or an account deletion opens nothing afterwards, on any device
(issue 11, item 3)."""

from __future__ import annotations

import re

import pytest

from directory.admin import services as admin_services
from directory.extensions import db
from directory.models import Role, User

from .conftest import PASSWORD, csrf_token, login, post_form


def session_cookie(client) -> str:
    cookie = client.get_cookie("session")
    assert cookie is not None, "no session cookie"
    return cookie.value


def opens_bookings(app, cookie: str) -> bool:
    """Does this copied cookie, from another device, open /account/bookings?"""
    thief = app.test_client()
    thief.set_cookie("session", cookie)
    response = thief.get("/account/bookings")
    return response.status_code == 200


@pytest.fixture
def carla(make_user):
    return make_user(Role.CLIENT, "carla@example.com")


def test_a_cookie_copied_before_sign_out_opens_nothing_after(app, client, carla):
    login(client, carla.email)
    copied = session_cookie(client)
    assert opens_bookings(app, copied)  # the copy works while the session lives
    assert post_form(client, "/auth/logout", {}, form_page="/account/bookings").status_code == 302
    assert not opens_bookings(app, copied)


def test_signing_out_on_one_device_signs_out_the_others(app, carla):
    phone, laptop = app.test_client(), app.test_client()
    login(phone, carla.email)
    login(laptop, carla.email)
    post_form(laptop, "/auth/logout", {}, form_page="/account/bookings")
    assert phone.get("/account/bookings").status_code == 302  # back to the sign-in page


def test_a_cookie_copied_before_a_password_reset_opens_nothing_after(app, client, carla, outbox):
    login(client, carla.email)
    copied = session_cookie(client)
    assert opens_bookings(app, copied)
    stranger = app.test_client()
    post_form(stranger, "/auth/forgot", {"email": carla.email})
    link = re.search(r"http://localhost(/auth/reset/\S+)", outbox()[0].get_body(("plain",)).get_content()).group(1)
    new = "brand-new-compass-rose-9"
    assert post_form(stranger, link, {"password": new, "confirm": new}).status_code == 302
    assert not opens_bookings(app, copied)
    assert client.get("/account/bookings").status_code == 302
    assert login(app.test_client(), carla.email, new).status_code == 302  # the new password works


def test_any_new_password_ends_the_sessions(app, client, carla):
    from directory.auth.passwords import hash_password

    login(client, carla.email)
    copied = session_cookie(client)
    user = db.session.get(User, carla.id)
    user.password_hash = hash_password("another-fine-password-7")
    db.session.commit()
    assert not opens_bookings(app, copied)


def test_deleting_the_account_ends_its_sessions(app, client, carla):
    login(client, carla.email)
    copied = session_cookie(client)
    response = post_form(client, "/auth/delete", {"password": PASSWORD})
    assert response.status_code == 302
    assert not opens_bookings(app, copied)


def test_a_suspension_signs_the_therapist_out_everywhere(app, client, therapist_user, make_user):
    login(client, therapist_user.email)
    copied = session_cookie(client)
    assert client.get("/account").status_code == 200
    admin = make_user(Role.ADMIN, "admin@example.com")
    admin_services.set_suspension(admin, therapist_user.therapist, suspend=True, reason="complaint under review")
    assert client.get("/account").status_code == 302
    assert not opens_bookings(app, copied)


def test_a_forged_or_old_style_session_id_is_refused(app, carla):
    """A session naming the user by id alone (as sessions did before) no longer signs anyone in."""
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = str(carla.id)
        session["_fresh"] = True
    assert client.get("/account/bookings").status_code == 302
    with client.session_transaction() as session:
        session["_user_id"] = f"{carla.id}.not-the-token"
    assert client.get("/account/bookings").status_code == 302


def test_signing_in_again_after_sign_out_works(app, client, carla):
    login(client, carla.email)
    token = csrf_token(client, "/account/bookings")
    client.post("/auth/logout", data={"csrf_token": token})
    assert login(client, carla.email).status_code == 302
    assert client.get("/account/bookings").status_code == 200
