"""Two web processes, one site: two gunicorn servers on two ports share only
PostgreSQL (the suite's database), Redis (REDIS_URL, index 8) and the S3 server,
each with its own empty instance folder, as two machines behind a load balancer.

Runs in the PostgreSQL run of the suite, with Redis answering; every wait is
bounded and the servers are always terminated.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
from datetime import UTC
from pathlib import Path

import pytest
import redis
import requests
from sqlalchemy import func, select

from directory import ROOT
from directory.bookings.availability import free_starts
from directory.extensions import db
from directory.models import Booking, Role

from .conftest import PASSWORD
from .servers import REDIS_URL, S3_KEYS, free_port, new_bucket, redis_answers, s3_client

PRIMARY_URL = os.environ.get("TEST_DATABASE_URL", "")
WEB_PORTS = range(5201, 5300)
START_SECONDS = 90  # bounds, not measurements
REQUEST_SECONDS = 30
CSRF = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')


def why_not() -> str | None:
    if not PRIMARY_URL.startswith("postgresql"):
        return "two web processes share one PostgreSQL: runs in the PostgreSQL run of the suite"
    if not redis_answers():
        return f"two web processes share Redis: none answered at {REDIS_URL}"
    return None


pytestmark = [pytest.mark.postgres_only, pytest.mark.skipif(why_not() is not None, reason=str(why_not()))]


class WebProcess:
    """`gunicorn wsgi:app` (gunicorn.conf.py) on 127.0.0.1:port with the shared settings."""

    def __init__(self, name: str, env: dict[str, str], folder: Path, taken: set[int]):
        self.port = free_port(p for p in WEB_PORTS if p not in taken)  # the other one may not have bound yet
        self.url = f"http://127.0.0.1:{self.port}"
        self.instance = folder / f"instance-{name}"
        self.log = folder / f"{name}.log"
        env = {**env, "BIND": f"127.0.0.1:{self.port}", "INSTANCE_PATH": str(self.instance), "WEB_CONCURRENCY": "1"}
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "--threads", "8", "--timeout", "60", "wsgi:app"],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def wait_until_serving(self, deadline: float) -> None:
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(
                    f"{self.url} exited with {self.process.returncode}:\n{self.log.read_text()[-3000:]}"
                )
            try:
                if requests.get(self.url + "/healthz", timeout=5).status_code == 200:
                    return
            except requests.RequestException:  # bound but still starting its worker
                pass
            time.sleep(0.2)
        raise AssertionError(f"{self.url} did not serve within {START_SECONDS} s:\n{self.log.read_text()[-3000:]}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=15)


@pytest.fixture(scope="module")
def site(app, s3_endpoint, tmp_path_factory):
    """Two web processes, A and B, and the bucket they share."""
    bucket = new_bucket(s3_endpoint)
    env = {
        **os.environ,
        **S3_KEYS,
        "APP_ENV": "development",
        "SECRET_KEY": "two-processes-share-this-secret",
        "DATABASE_URL": PRIMARY_URL,
        "REDIS_URL": REDIS_URL,
        "STORAGE_URL": f"s3://{bucket}",
        "AWS_ENDPOINT_URL": s3_endpoint,
        "GEOCODER": "gazetteer",
        "ACCESS_LOG": "-",
    }
    env.pop("DATABASE_REPLICA_URL", None)
    folder = tmp_path_factory.mktemp("two-processes")
    servers: list[WebProcess] = []
    try:
        for name in ("a", "b"):
            servers.append(WebProcess(name, env, folder, {s.port for s in servers}))
        deadline = time.monotonic() + START_SECONDS
        for server in servers:
            server.wait_until_serving(deadline)
        yield {"a": servers[0], "b": servers[1], "bucket": bucket, "endpoint": s3_endpoint}
    finally:
        for server in servers:
            server.stop()


@pytest.fixture(autouse=True)
def fresh_rate_limits():
    """Redis index 8 is this suite's: each test starts with no counted requests."""
    if why_not() is None:
        redis.Redis.from_url(REDIS_URL).flushdb()


def csrf(browser: requests.Session, url: str) -> str:
    page = browser.get(url, timeout=REQUEST_SECONDS)
    found = CSRF.search(page.text)
    assert found, f"no form on {url}: {page.status_code}"
    return found.group(1)


def sign_in(browser: requests.Session, base: str, email: str, password: str = PASSWORD) -> requests.Response:
    token = csrf(browser, base + "/auth/login")
    return browser.post(
        base + "/auth/login",
        data={"csrf_token": token, "email": email, "password": password},
        allow_redirects=False,
        timeout=REQUEST_SECONDS,
    )


def test_a_photo_uploaded_through_one_process_is_served_by_the_other(site, therapist_user):
    import io

    from PIL import Image

    a, b = site["a"].url, site["b"].url
    browser = requests.Session()
    assert sign_in(browser, a, therapist_user.email).status_code == 302
    picture = io.BytesIO()
    Image.new("RGB", (32, 32), (90, 160, 40)).save(picture, "PNG")
    uploaded = browser.post(
        a + "/account/photo",
        data={"csrf_token": csrf(browser, a + "/account/profile")},
        files={"photo": ("me.png", picture.getvalue(), "image/png")},
        allow_redirects=False,
        timeout=REQUEST_SECONDS,
    )
    assert uploaded.status_code == 302, uploaded.text[:2000]
    db.session.expire_all()
    photo = therapist_user.therapist.photo
    served = requests.get(f"{b}/therapists/{therapist_user.therapist.id}/photo", timeout=REQUEST_SECONDS)  # anonymous
    stored = s3_client(site["endpoint"]).get_object(Bucket=site["bucket"], Key=f"photos/{photo}")
    assert served.status_code == 200 and served.content == stored["Body"].read()
    assert not (site["a"].instance / "uploads").exists() and not (site["b"].instance / "uploads").exists()


def test_a_session_started_on_one_process_is_valid_on_the_other_and_sign_out_ends_it(site, therapist_user):
    a, b = site["a"].url, site["b"].url
    browser = requests.Session()
    assert sign_in(browser, a, therapist_user.email).status_code == 302
    # Flask's sessions are signed cookies: any process holding SECRET_KEY reads them.
    assert browser.get(b + "/account", allow_redirects=False, timeout=REQUEST_SECONDS).status_code == 200
    token = csrf(browser, b + "/account/profile")  # a CSRF token made by B is good on A
    signed_out = browser.post(a + "/auth/logout", data={"csrf_token": token}, allow_redirects=False, timeout=30)
    assert signed_out.status_code == 302
    after = browser.get(b + "/account", allow_redirects=False, timeout=REQUEST_SECONDS)
    assert after.status_code == 302 and "/auth/login" in after.headers["Location"]


def test_a_copy_of_the_cookie_taken_before_sign_out_is_refused_by_the_other_process(site, therapist_user):
    a, b = site["a"].url, site["b"].url
    browser = requests.Session()
    assert sign_in(browser, a, therapist_user.email).status_code == 302
    copied = requests.Session()
    copied.cookies.update(browser.cookies)
    token = csrf(browser, a + "/account/profile")
    assert browser.post(a + "/auth/logout", data={"csrf_token": token}, allow_redirects=False, timeout=30).ok
    replayed = copied.get(b + "/account", allow_redirects=False, timeout=REQUEST_SECONDS)
    assert replayed.status_code == 302 and "/auth/login" in replayed.headers["Location"]


def test_the_sign_in_rate_limit_counts_requests_to_both_processes(site):
    a, b = site["a"].url, site["b"].url
    browser = requests.Session()
    token = csrf(browser, a + "/auth/login")
    statuses = []
    for attempt in range(6):  # "5 per minute" per address: A, B, A, B, A, then B
        base = (a, b)[attempt % 2]
        response = browser.post(
            base + "/auth/login",
            data={"csrf_token": token, "email": "nobody@example.com", "password": "wrong-password-123"},
            allow_redirects=False,
            timeout=REQUEST_SECONDS,
        )
        statuses.append(response.status_code)
    assert statuses == [400, 400, 400, 400, 400, 429]
    assert redis.Redis.from_url(REDIS_URL).dbsize() > 0  # the counts live in Redis


def test_twenty_racing_booking_requests_split_across_both_processes_make_one_booking(site, factory, make_user):
    a, b = site["a"].url, site["b"].url
    t = factory.therapist(name="Rae Race", prices={60: 90}, timezone="America/Chicago", commit=False)
    factory.open_for_bookings(t, PASSWORD)
    db.session.commit()
    clients = [make_user(Role.CLIENT, f"racer{i}@example.com") for i in range(4)]
    days = free_starts(t, 60)
    start = days[next(iter(days))][0].astimezone(UTC).isoformat()
    browsers = []
    for i, client in enumerate(clients):
        browser = requests.Session()
        assert sign_in(browser, (a, b)[i % 2], client.email).status_code == 302
        browsers.append((browser, csrf(browser, f"{a}/therapists/{t.id}/book")))

    go = threading.Barrier(20)
    results: list[tuple[int, str]] = []
    lock = threading.Lock()

    def attempt(i: int) -> None:
        browser, token = browsers[i % len(browsers)]
        own = requests.Session()
        own.cookies.update(browser.cookies)  # one connection per request: a Session is not shared across threads
        go.wait(timeout=REQUEST_SECONDS)
        response = own.post(
            f"{(a, b)[i % 2]}/therapists/{t.id}/book",
            data={"csrf_token": token, "start": start, "minutes": "60", "concerns": "Stiff neck"},
            allow_redirects=False,
            timeout=REQUEST_SECONDS,
        )
        with lock:
            results.append((response.status_code, response.text))

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=REQUEST_SECONDS * 2)
    assert len(results) == 20
    codes = sorted(code for code, _ in results)
    assert codes.count(302) == 1, codes
    assert all("That time was just taken" in text for code, text in results if code != 302), codes
    db.session.expire_all()
    assert db.session.scalar(select(func.count(Booking.id)).where(Booking.therapist_id == t.id)) == 1
