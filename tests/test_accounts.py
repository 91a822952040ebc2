"""Therapist accounts: register, confirm, sign in and out, reset, rate limits, CSRF."""

import re

import pytest
from sqlalchemy import func, select

from directory.auth import tokens
from directory.extensions import db
from directory.mail import plain_text
from directory.models import Role, User

from .conftest import PASSWORD, csrf_token, login, post_form

NEW = {
    "name": "Nora Newcomer",
    "email": "Nora@Example.com",
    "password": "quiet-meadow-lantern-7",
    "confirm": "quiet-meadow-lantern-7",
}


def link_in(message, path):
    body = plain_text(message)  # account mails also carry an HTML part
    match = re.search(r"http://localhost(/auth/" + path + r"/[^\s]+)", body)
    assert match, body
    return match.group(1)


def test_register_creates_a_therapist_with_a_hashed_password_and_sends_a_confirmation(client, ctx, outbox):
    response = post_form(client, "/auth/register", NEW)
    assert response.status_code == 302 and response.headers["Location"] == "/auth/login?next=/account"
    user = db.session.scalar(select(User).filter_by(email="nora@example.com"))
    assert user.role == Role.THERAPIST and user.therapist.name == "Nora Newcomer"
    assert user.password_hash.startswith("scrypt:") and NEW["password"] not in user.password_hash
    assert user.email_confirmed_at is None
    [message] = outbox()
    assert message["To"] == "nora@example.com" and "Confirm your email" in message["Subject"]
    assert client.get("/account").status_code == 302  # not signed in by the sign-up itself
    login(client, "nora@example.com", NEW["password"])
    dashboard = client.get("/account").get_data(as_text=True)
    assert "Please confirm your email" in dashboard and "Hello, Nora Newcomer" in dashboard


@pytest.mark.parametrize(
    "changes, field_message",
    [
        ({"password": "short-1", "confirm": "short-1"}, "Use at least 10 characters."),
        ({"password": "password123", "confirm": "password123"}, "too common or easy to guess"),
        ({"password": "qwertyuiop", "confirm": "qwertyuiop"}, "too common or easy to guess"),
        ({"confirm": "something-else-entirely"}, "The passwords do not match."),
        ({"email": "not-an-email"}, "Enter a valid email address."),
        ({"name": ""}, "Enter your name."),
        ({"name": "Nora\nNewcomer"}, "Write the name on one line"),
        ({"name": "Nora\x1bNewcomer"}, "Write the name on one line"),
    ],
)
def test_register_refuses_bad_input_with_field_errors(client, ctx, changes, field_message):
    response = post_form(client, "/auth/register", {**NEW, **changes})
    assert response.status_code == 400
    assert field_message in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(User)) == 0


def test_register_with_an_email_already_used_answers_as_for_a_new_one_and_mails_the_owner(app, therapist_user, outbox):
    """Item 12: no enumeration. Today's code answered "An account with this email already exists"."""
    new, known = app.test_client(), app.test_client()
    fresh = post_form(new, "/auth/register", {**NEW, "email": "fresh@example.com"})
    taken = post_form(known, "/auth/register", {**NEW, "email": therapist_user.email.upper()})
    assert fresh.status_code == taken.status_code == 302
    assert fresh.headers["Location"] == taken.headers["Location"]

    def page(client, email):
        html = client.get(fresh.headers["Location"]).get_data(as_text=True)
        return re.sub(r'value="[^"]*"', "", html).replace(email, "EMAIL")

    assert page(new, "fresh@example.com") == page(known, therapist_user.email)
    assert db.session.scalar(select(func.count()).select_from(User)) == 2  # no second account for the known email
    by_recipient = {m["To"]: m for m in outbox()}
    assert "Confirm your email" in by_recipient["fresh@example.com"]["Subject"]
    owner_mail = by_recipient[therapist_user.email]
    assert "already have" in owner_mail["Subject"] and "/auth/forgot" in owner_mail.get_content()
    assert db.session.get(User, therapist_user.id).password_hash == therapist_user.password_hash  # untouched


def test_confirmation_link_works_once(client, ctx, outbox):
    post_form(client, "/auth/register", NEW)
    link = link_in(outbox()[0], "confirm")
    assert client.get(link).status_code == 302
    assert db.session.scalar(select(User)).email_confirmed_at is not None
    again = client.get(link)
    assert again.status_code == 400 and "already used" in again.get_data(as_text=True)


def test_tampered_and_expired_confirmation_links_are_refused(client, ctx, outbox, monkeypatch):
    post_form(client, "/auth/register", NEW)
    link = link_in(outbox()[0], "confirm")
    assert "not valid" in client.get(link[:-3] + "abc").get_data(as_text=True)
    monkeypatch.setattr(tokens, "CONFIRM_MAX_AGE", -1)
    response = client.get(link)
    assert response.status_code == 400 and "expired" in response.get_data(as_text=True)


def test_login_answers_the_same_for_unknown_email_and_wrong_password(client, therapist_user):
    unknown = login(client, "nobody@example.com", "whatever-password-1")
    wrong = login(client, therapist_user.email, "wrong-password-123")
    assert unknown.status_code == wrong.status_code == 400
    strip = lambda r: re.sub(r'value="[^"]*"', "", r.get_data(as_text=True))
    assert strip(unknown) == strip(wrong)
    assert "That email and password do not match an account." in wrong.get_data(as_text=True)


def test_login_and_logout(client, therapist_user):
    response = login(client, therapist_user.email.upper(), PASSWORD)
    assert response.status_code == 302 and response.headers["Location"] == "/account"
    assert client.get("/account").status_code == 200
    assert client.get("/auth/logout").status_code == 405  # signing out is a POST
    token = csrf_token(client, "/account")
    assert client.post("/auth/logout", data={"csrf_token": token}).status_code == 302
    assert client.get("/account").status_code == 302


@pytest.mark.parametrize(
    "next_url, lands",
    [
        ("/account/profile", "/account/profile"),
        ("https://evil.example/x", "/account"),
        ("//evil.example", "/account"),
        ("/\\evil.example", "/account"),
        ("javascript:alert(1)", "/account"),
    ],
)
def test_next_redirects_stay_on_the_site(client, therapist_user, next_url, lands):
    token = csrf_token(client, "/auth/login")
    response = client.post(
        "/auth/login",
        query_string={"next": next_url},
        data={"email": therapist_user.email, "password": PASSWORD, "csrf_token": token},
    )
    assert response.headers["Location"] == lands


def test_anonymous_users_are_sent_to_login_with_next(client):
    response = client.get("/account/profile")
    assert response.status_code == 302 and response.headers["Location"].startswith("/auth/login?next=")


def test_password_reset_is_single_use_and_changes_the_password(client, therapist_user, outbox):
    response = post_form(client, "/auth/forgot", {"email": therapist_user.email})
    assert response.status_code == 302
    link = link_in(outbox()[0], "reset")
    new = "brand-new-compass-rose-9"
    assert post_form(client, link, {"password": new, "confirm": new}).status_code == 302
    again = client.get(link)
    assert again.status_code == 400 and "already used" in again.get_data(as_text=True)
    assert login(client, therapist_user.email, PASSWORD).status_code == 400
    assert login(client, therapist_user.email, new).status_code == 302


def test_reset_answers_the_same_for_unknown_emails_and_sends_nothing(client, ctx, outbox):
    response = post_form(client, "/auth/forgot", {"email": "ghost@example.com"}, follow_redirects=True)
    assert "If an account uses that email" in response.get_data(as_text=True)
    assert outbox() == []


def test_imported_therapist_sets_a_first_password_by_reset(client, factory, outbox):
    profile = factory.therapist()  # created as an import does: no password
    assert profile.user.password_hash is None
    assert login(client, profile.user.email, "anything-at-all-1").status_code == 400
    post_form(client, "/auth/forgot", {"email": profile.user.email})
    link = link_in(outbox()[0], "reset")
    post_form(client, link, {"password": "first-ever-lighthouse-3", "confirm": "first-ever-lighthouse-3"})
    assert login(client, profile.user.email, "first-ever-lighthouse-3").status_code == 302
    db.session.expire_all()
    assert db.session.get(User, profile.user.id).email_confirmed_at is not None


def test_reset_refuses_a_weak_new_password(client, therapist_user, outbox):
    post_form(client, "/auth/forgot", {"email": therapist_user.email})
    link = link_in(outbox()[0], "reset")
    response = post_form(client, link, {"password": "password1234", "confirm": "password1234"})
    assert response.status_code == 400 and "too common" in response.get_data(as_text=True)


def test_repeated_wrong_passwords_are_rate_limited_with_a_clear_page(client, therapist_user):
    attempt = lambda pw: post_form(client, "/auth/login", {"email": therapist_user.email, "password": pw})
    for _ in range(5):
        assert attempt("wrong-password-xyz").status_code == 400
    response = attempt("wrong-password-xyz")
    page = response.get_data(as_text=True)
    assert response.status_code == 429
    assert re.search(r"Try again in \d+ minutes?\.", page)
    # Even the right password waits: the limit is on attempts, not on failures alone.
    assert attempt(PASSWORD).status_code == 429


def test_reset_requests_are_rate_limited(client, therapist_user, outbox):
    for _ in range(3):
        post_form(client, "/auth/forgot", {"email": therapist_user.email})
    assert post_form(client, "/auth/forgot", {"email": therapist_user.email}).status_code == 429
    assert len(outbox()) == 3


@pytest.mark.parametrize("url", ["/auth/login", "/auth/register", "/auth/forgot", "/auth/logout"])
def test_forms_without_a_csrf_token_are_refused(client, therapist_user, url):
    response = client.post(url, data={"email": therapist_user.email, "password": PASSWORD})
    assert response.status_code == 400
    assert "The form expired or was not sent from this site" in response.get_data(as_text=True)


def test_every_auth_form_field_has_a_label(client):
    for url in ("/auth/register", "/auth/login", "/auth/forgot"):
        page = client.get(url).get_data(as_text=True)
        for element_id in re.findall(r'<input[^>]*\bid="([^"]+)"', page):
            if element_id != "csrf_token":
                assert f'for="{element_id}"' in page, (url, element_id)


def test_dev_outbox_is_for_admins_in_development_only(app, make_user, outbox, client):
    from directory.models import Role

    admin = make_user(Role.ADMIN, "admin@example.com")
    app.config["DEV_OUTBOX_PAGE"] = True
    try:
        post_form(client, "/auth/forgot", {"email": admin.email})
        therapist_client = app.test_client()
        therapist = make_user(Role.THERAPIST, "t@example.com")
        login(therapist_client, therapist.email)
        assert therapist_client.get("/auth/dev/outbox").status_code == 403
        login(client, admin.email)
        page = client.get("/auth/dev/outbox").get_data(as_text=True)
        assert "Reset your TrueTouch Directory password" in page
    finally:
        app.config["DEV_OUTBOX_PAGE"] = False
    assert client.get("/auth/dev/outbox").status_code == 404
