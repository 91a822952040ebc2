"""A real Celery worker, started as `make worker` would (without beat), against the local
Redis, delivers the mail a booking wrote to the outbox, kicked after the commit, to an
SMTP server this test runs; a server that refuses the first attempt with a 4xx gets the
mail on a retry.

Both the app and the worker use one SQLite file; each run has a queue of its own on the
test Redis database (TEST_REDIS_DB, default 12), so no other run's jobs get in.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from datetime import UTC
from email import message_from_bytes, policy

import pytest
import redis
from aiosmtpd.controller import Controller

from directory import ROOT, create_app
from directory.auth.passwords import hash_password
from directory.bookings.availability import free_starts
from directory.extensions import db
from directory.mail import plain_text
from directory.models import Role, User, utcnow

from .conftest import PASSWORD, REDIS_TEST_URL, IsolatedClient, login, post_form
from .factories import Factory

DELIVERY_TIMEOUT = 60  # seconds: a worker start and a retry take a few


class Inbox:
    """An SMTP server's DATA handler: refuses the next `refuse` attempts with 451, then accepts."""

    def __init__(self):
        self.messages, self.attempts, self.refuse = [], 0, 0

    async def handle_DATA(self, server, session, envelope):
        self.attempts += 1
        if self.refuse > 0:
            self.refuse -= 1
            return "451 4.3.0 Mailbox busy, try again later"
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 2.0.0 OK"

    def wait_for(self, count: int):
        deadline = time.monotonic() + DELIVERY_TIMEOUT
        while len(self.messages) < count and time.monotonic() < deadline:
            time.sleep(0.1)
        return list(self.messages)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def queue_setup(tmp_path_factory):
    """SMTP server, app and worker, shared by this module's tests; the worker always ends."""
    redis_url = REDIS_TEST_URL
    try:
        redis.Redis.from_url(redis_url, socket_connect_timeout=1).ping()
    except redis.RedisError as exc:
        pytest.skip(f"the worker test needs Redis at {redis_url} (TEST_REDIS_DB picks the index): {exc}")
    tmp = tmp_path_factory.mktemp("worker")
    inbox = Inbox()
    smtp = Controller(inbox, hostname="127.0.0.1", port=free_port())
    smtp.start()
    settings = {
        "DATABASE_URL": f"sqlite:///{tmp / 'app.sqlite3'}",
        "REDIS_URL": redis_url,
        "JOBS_QUEUE": f"test-{uuid.uuid4().hex}",
        "PUBLIC_URL": "https://truetouch.example",
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": str(smtp.port),
        "MAIL_USE_TLS": "false",
        "INSTANCE_PATH": str(tmp / "instance"),
        "SECRET_KEY": "worker-test",
    }
    app = create_app(
        "testing",
        SQLALCHEMY_DATABASE_URI=settings["DATABASE_URL"],
        REDIS_URL=redis_url,
        JOBS_QUEUE=settings["JOBS_QUEUE"],
        PUBLIC_URL=settings["PUBLIC_URL"],
        INSTANCE_PATH=settings["INSTANCE_PATH"],
        WTF_CSRF_ENABLED=True,
    )
    app.test_client_class = IsolatedClient
    with app.app_context():
        db.create_all()
    log = open(tmp / "worker.log", "w+")  # noqa: SIM115 (closed below, after the worker)
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "worker:celery", "worker", "--pool=solo", "--without-gossip"]
        + ["--without-mingle", "--without-heartbeat", "--loglevel=INFO"],
        cwd=ROOT,
        env={**os.environ, "APP_ENV": "development", **settings},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        yield app, inbox, log
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=15)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait(timeout=5)
        log.close()
        smtp.stop()
        queue = settings["JOBS_QUEUE"]
        leftovers = redis.Redis.from_url(redis_url)
        leftovers.delete(queue, f"_kombu.binding.{queue}", f"_kombu.binding_permanent.{queue}")
        leftovers.zrem("_kombu.binding_deadlines", queue)
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def worker_log(log) -> str:
    log.flush()
    log.seek(0)
    return log.read()


def book_a_session(app, client_email: str) -> tuple[str, str]:
    """A client books through the pages; returns (therapist email, client email)."""
    with app.app_context():
        factory = Factory(db.session)
        therapist = factory.therapist(name="Wendy Worker", prices={60: 90}, timezone="America/Chicago", commit=False)
        factory.open_for_bookings(therapist, PASSWORD, hours=(9, 17))
        confirmed, password_hash = utcnow(), hash_password(PASSWORD)
        db.session.add(
            User(
                email=client_email,
                name="Quinn",
                role=Role.CLIENT,
                email_confirmed_at=confirmed,
                password_hash=password_hash,
            )
        )
        db.session.commit()
        days = free_starts(therapist, 60)
        start = days[next(iter(days))][0].astimezone(UTC)
        therapist_id, therapist_email = therapist.id, therapist.user.email
        client = app.test_client()
        assert login(client, client_email).status_code == 302
        url = f"/therapists/{therapist_id}/book"
        data = {"start": start.isoformat(), "minutes": "60", "concerns": "Secret-knee-7731", "medications": ""}
        response = post_form(client, url, data, form_page=url)
        assert response.status_code == 302, response.get_data(as_text=True)
        db.session.remove()
    return therapist_email, client_email


def test_the_worker_delivers_the_mail_a_booking_queued(queue_setup):
    app, inbox, log = queue_setup
    therapist_email, client_email = book_a_session(app, "quinn@example.com")
    messages = inbox.wait_for(2)
    assert len(messages) == 2, worker_log(log)
    by_recipient = {m["To"]: m for m in messages}
    assert by_recipient[therapist_email]["Subject"] == "New booking request"
    assert by_recipient[client_email]["Subject"] == "Your booking request was sent"
    for message in messages:
        assert "https://truetouch.example/account/bookings/" in plain_text(message)
        assert "Secret-knee" not in message.as_string()  # the intake never leaves in mail
    assert "directory.jobs.deliver_rows" in worker_log(log) and "succeeded" in worker_log(log)
    # The app itself sent nothing: its outbox is empty, the worker did the sending.
    assert app.extensions["mailer"].outbox() == []


def test_a_refused_delivery_is_retried_until_the_server_accepts(queue_setup):
    app, inbox, log = queue_setup
    before = len(inbox.messages)
    attempts_before = inbox.attempts
    inbox.refuse = 1  # the first attempt of the first mail is refused with a 451
    book_a_session(app, "rita@example.com")
    messages = inbox.wait_for(before + 2)
    assert len(messages) == before + 2, worker_log(log)
    assert inbox.attempts - attempts_before == 3  # two mails, one of them twice
    assert "(directory.notifications.deliver) failed on attempt 1: SMTPDataError 451; retry in" in worker_log(log)
