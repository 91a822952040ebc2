"""The outbox against real processes (issue 22, item 5): the development server (`flask
run`, threaded, no Redis: its own delivery thread) on a loopback port, sharing the
suite's database (the SQLite file, or PostgreSQL in that run) with this test.

- A web process killed with SIGKILL right after a booking's commit: the mail goes once
  the next process serves, none lost, none twice.
- Twenty bookings made in a real browser (chromium) give twenty pairs of mails, whether
  or not the server closes each response.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from email import policy
from email.parser import BytesParser
from pathlib import Path

import pytest
import requests
from sqlalchemy import select

from directory import ROOT
from directory.auth.passwords import hash_password
from directory.extensions import db
from directory.models import Booking, OutboxJob, Role, User, utcnow

from .browser import chromium, new_page
from .servers import free_port

PASSWORD = "copper-lantern-meadow-8"
CSRF = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')
START = re.compile(r'name="start" value="([^"]+)"')
PORTS = range(5401, 5500)
WAIT = 60  # seconds: bounds, not measurements


class DevServer:
    """`flask --app wsgi run` (threaded, the development config) on 127.0.0.1."""

    def __init__(self, database_url: str, folder: Path, **env: str):
        self.port = free_port(PORTS)
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = folder / f"server-{self.port}.log"
        settings = {
            **{k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "MAIL_SERVER", "APP_ENV")},
            "APP_ENV": "development",
            "DATABASE_URL": database_url,
            "INSTANCE_PATH": str(folder / "instance"),
            "SECRET_KEY": "outbox-test-secret-key-0123456789-abcdef",
            "PUBLIC_URL": self.url,
            "TRUSTED_HOSTS": "127.0.0.1,localhost",
            **env,
        }
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "flask", "--app", "wsgi", "run", "--host", "127.0.0.1"]
                + ["--port", str(self.port), "--with-threads", "--no-reload"],
                cwd=ROOT,
                env=settings,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"the server exited:\n{self.log.read_text()[-3000:]}")
            try:
                if requests.get(self.url + "/healthz", timeout=5).status_code == 200:
                    return
            except requests.RequestException:
                time.sleep(0.2)
        self.stop()
        raise AssertionError(f"the server did not answer in {WAIT}s:\n{self.log.read_text()[-3000:]}")

    def kill(self) -> None:
        """SIGKILL: no handler, no clean-up, no response closed."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()


@pytest.fixture
def servers(app, tmp_path):
    """Start dev servers on the suite's database; every one is stopped at the end."""
    started: list[DevServer] = []

    def start(**env: str) -> DevServer:
        server = DevServer(app.config["SQLALCHEMY_DATABASE_URI"], tmp_path, **env)
        started.append(server)
        return server

    start.folder = tmp_path  # type: ignore[attr-defined]
    yield start
    for server in started:
        server.stop()


def mail_in(folder: Path) -> list:
    parser = BytesParser(policy=policy.default)
    return [parser.parsebytes(p.read_bytes()) for p in sorted((folder / "instance" / "outbox").glob("*.eml"))]


def wait_for_mail(folder: Path, count: int) -> list:
    deadline = time.monotonic() + WAIT
    while len(mail_in(folder)) < count and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(0.5)  # and nothing more comes
    return mail_in(folder)


@pytest.fixture
def people(factory):
    therapist = factory.therapist(
        name="Rita Relax", techniques=("swedish",), prices={60: 95}, timezone="America/Chicago", commit=False
    )
    factory.open_for_bookings(therapist, PASSWORD, hours=(7, 21))
    client = User(
        email="cleo@example.com",
        name="Cleo Client",
        role=Role.CLIENT,
        password_hash=hash_password(PASSWORD),
        email_confirmed_at=utcnow(),
    )
    db.session.add(client)
    db.session.commit()
    return therapist, client


def signed_in(base: str, email: str) -> requests.Session:
    browser = requests.Session()
    token = CSRF.search(browser.get(base + "/auth/login", timeout=30).text).group(1)
    answer = browser.post(
        base + "/auth/login",
        data={"csrf_token": token, "email": email, "password": PASSWORD},
        allow_redirects=False,
        timeout=30,
    )
    assert answer.status_code == 302, answer.text[-2000:]
    return browser


def book(browser: requests.Session, base: str, therapist_id: int) -> None:
    form = browser.get(f"{base}/therapists/{therapist_id}/book", timeout=30).text
    data = {
        "csrf_token": CSRF.search(form).group(1),
        "start": START.search(form).group(1),
        "minutes": "60",
        "concerns": "Secret-shoulder-4411",
    }
    answer = browser.post(f"{base}/therapists/{therapist_id}/book", data=data, allow_redirects=False, timeout=30)
    assert answer.status_code == 302 and "/account/bookings/" in answer.headers["Location"], answer.text[-2000:]


def outbox_rows() -> list[OutboxJob]:
    db.session.expire_all()
    rows = list(db.session.scalars(select(OutboxJob).order_by(OutboxJob.id)))
    db.session.commit()
    return rows


def test_a_server_killed_right_after_the_commit_sends_the_mail_once_it_is_back(servers, people):
    therapist, client = people
    folder = servers.folder
    # This process delivers nothing itself (no thread): it dies with the mail not yet sent.
    first = servers(OUTBOX_THREAD="0")
    book(signed_in(first.url, client.email), first.url, therapist.id)
    first.kill()
    assert [r.status for r in outbox_rows()] == ["pending", "pending"]  # committed with the booking
    assert mail_in(folder) == []

    second = servers()
    messages = wait_for_mail(folder, 2)
    assert sorted(m["Subject"] for m in messages) == ["New booking request", "Your booking request was sent"]
    assert {m["To"] for m in messages} == {therapist.user.email, client.email}
    assert all("Secret-shoulder" not in m.as_string() for m in messages)
    assert [r.status for r in outbox_rows()] == ["sent", "sent"]

    # A process that delivers at once, killed the instant the page answers: whatever it
    # managed to do, the next one completes it, and no mail leaves twice.
    book(signed_in(second.url, client.email), second.url, therapist.id)
    second.kill()
    servers()
    messages = wait_for_mail(folder, 4)
    assert len(messages) == 4, [m["Subject"] for m in messages]
    assert len({m["Message-ID"] for m in messages}) == 4
    assert [r.status for r in outbox_rows()] == ["sent"] * 4
    assert len(db.session.scalars(select(Booking)).all()) == 2


@pytest.mark.browser
def test_twenty_bookings_in_a_browser_give_twenty_pairs_of_mails(servers, people):
    therapist, client = people
    server = servers()
    with chromium() as browser:
        page = new_page(browser)
        page.goto(server.url + "/auth/login")
        page.get_by_label("Email").fill(client.email)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        for n in range(20):
            page.goto(f"{server.url}/therapists/{therapist.id}/book")
            page.locator("fieldset.times input[type=radio]").first.check()
            page.get_by_label("What would you like help with?").fill(f"Tension, visit {n}")
            page.get_by_role("button", name="Request this time").click()
            assert "Request sent to Rita Relax" in page.locator("main").inner_text(), n
    messages = wait_for_mail(servers.folder, 40)
    subjects = [m["Subject"] for m in messages]
    assert subjects.count("New booking request") == 20 and subjects.count("Your booking request was sent") == 20
    assert len(messages) == 40
    bookings = db.session.scalars(select(Booking)).all()
    assert len(bookings) == 20
    for booking in bookings:  # a pair for each booking: one to each side
        link = re.compile(rf"/account/bookings/{booking.id}(?!\d)")
        pair = [m for m in messages if link.search(m.get_body(preferencelist=("plain",)).get_content())]
        assert sorted(m["To"] for m in pair) == sorted([client.email, therapist.user.email]), booking.id
