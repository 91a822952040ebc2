"""Mail is rendered from templates, leaves after the commit and after the response,
and links only to the configured public address."""

import logging
import smtplib

import pytest
from sqlalchemy import select

from directory import notifications
from directory.auth import tokens
from directory.extensions import db
from directory.mail import plain_text
from directory.models import Role, User

from .conftest import CSRF_INPUT, csrf_token, post_form

EVIL = {"Host": "evil.example"}


@pytest.fixture
def user(make_user):
    return make_user(Role.THERAPIST, "tina@example.com")


def test_a_request_for_an_unknown_host_is_refused_and_mails_nothing(client, user, outbox):
    token = csrf_token(client, "/auth/forgot")
    response = client.post("/auth/forgot", data={"email": user.email, "csrf_token": token}, headers=EVIL)
    assert response.status_code == 400
    assert "does not answer to that host" in response.get_data(as_text=True)
    assert outbox() == []


def test_reset_links_use_the_public_url_whatever_the_host_header_says(app, client, user, outbox, monkeypatch):
    # Even with the host check off, the mailed link is built on PUBLIC_URL, not on the Host header.
    monkeypatch.setitem(app.config, "TRUSTED_HOSTS", None)
    monkeypatch.setitem(app.config, "PUBLIC_URL", "https://truetouch.example")
    page = client.get("/auth/forgot", base_url="http://evil.example").get_data(as_text=True)
    token = CSRF_INPUT.search(page).group(1)
    response = client.post(
        "/auth/forgot", data={"email": user.email, "csrf_token": token}, base_url="http://evil.example"
    )
    assert response.status_code == 302
    [message] = outbox()
    text, html = plain_text(message), message.get_body(preferencelist=("html",)).get_content()
    assert "https://truetouch.example/auth/reset/" in text and 'href="https://truetouch.example/auth/reset/' in html
    assert "evil.example" not in message.as_string()


def test_mail_leaves_only_after_the_response_has_been_sent(client, user, outbox):
    data = {"email": user.email, "csrf_token": csrf_token(client, "/auth/forgot")}
    response = client.post("/auth/forgot", data=data, buffered=False)
    assert response.status_code == 302
    assert outbox() == []  # the response is still open: nothing sent yet
    response.close()
    [message] = outbox()
    assert message["Subject"] == "Reset your TrueTouch Directory password" and message["To"] == user.email


def test_mail_waits_for_the_commit_and_is_dropped_with_a_rollback(ctx, user, outbox):
    user.name = "Tina Renamed"
    notifications.password_reset(user, tokens.make_reset_token(user))
    db.session.flush()
    assert outbox() == []  # the change behind it is not committed yet
    db.session.rollback()
    assert outbox() == []  # and never will be: the mail goes with it

    user = db.session.scalar(select(User).where(User.email == "tina@example.com"))
    user.name = "Tina Renamed"
    notifications.confirm_email(user, tokens.make_confirm_token(user))
    assert outbox() == []
    db.session.commit()
    [message] = outbox()
    assert message["Subject"] == "Confirm your email for TrueTouch Directory"
    assert plain_text(message).startswith("Hello Tina Renamed,")


def test_a_mail_asked_for_after_the_commit_leaves_at_once_outside_a_request(ctx, user, outbox):
    notifications.confirm_email(user, tokens.make_confirm_token(user))
    assert [m["To"] for m in outbox()] == [user.email]


def test_a_failing_mail_server_never_fails_the_page_and_the_log_names_no_one(
    app, client, user, outbox, monkeypatch, caplog
):
    def refuse(*args, **kwargs):
        raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")

    monkeypatch.setattr(app.extensions["mailer"], "send", refuse)
    with caplog.at_level(logging.INFO):
        response = post_form(client, "/auth/forgot", {"email": user.email})
    assert response.status_code == 302
    assert "(directory.notifications.deliver) failed on attempt 1: SMTPServerDisconnected; retry in" in caplog.text
    assert user.email not in caplog.text


def test_every_mail_template_has_a_subject_line_and_a_greeting(ctx):
    letter = notifications.render("a@example.com", "booking_cancelled", name="Ada", when="Monday", who="the client")
    assert letter["subject"] == "A booking was cancelled"
    assert letter["text"].startswith("Hello Ada,\n\nThe session on Monday was cancelled by the client.")
    assert "\n\n\n" not in letter["text"] and letter["html"] is None


def test_the_delivery_job_leaves_retries_to_the_outbox():
    from directory.notifications.delivery import deliver

    # A Celery retry would be a second copy of the job outside the outbox's row: none.
    assert not getattr(deliver, "autoretry_for", ())
