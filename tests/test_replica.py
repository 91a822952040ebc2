"""Read replicas: with DATABASE_REPLICA_URL set, search, listing, profile and API
reads go to the replica; writes, the reads after them, the signed-in user and
every other page (bookings above all) go to the primary.

These tests need the PostgreSQL run of the suite and a real streaming replica of
that cluster (`.ci/replica.sh`, run by `.ci/run` as root, makes one on port 5433).
They pause the replica's replay (pg_wal_replay_pause) so that it lags for sure.
"""

from __future__ import annotations

import os
import re
import time
from contextlib import contextmanager
from datetime import UTC

import psycopg
import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from directory import create_app
from directory.bookings.availability import free_starts
from directory.extensions import REPLICA, db, reading_from
from directory.models import Booking, Role, User

from .conftest import PASSWORD, IsolatedClient, login, post_form

PRIMARY_URL = os.environ.get("TEST_DATABASE_URL", "")
CATCH_UP_SECONDS = 30  # a bound on waiting for replay, not a measured time


def replica_url() -> str:
    """TEST_REPLICA_URL, or the primary's URL on port 5433: the replica serves the same databases."""
    if os.environ.get("TEST_REPLICA_URL"):
        return os.environ["TEST_REPLICA_URL"]
    return make_url(PRIMARY_URL).set(port=5433).render_as_string(hide_password=False)


def libpq(url: str) -> str:
    return url.replace("+psycopg", "")


def why_no_replica() -> str | None:
    if not PRIMARY_URL.startswith("postgresql"):
        return "read-replica tests run in the PostgreSQL run of the suite (TEST_DATABASE_URL=postgresql+psycopg://...)"
    url = replica_url()
    try:
        with psycopg.connect(libpq(url), connect_timeout=3, autocommit=True) as conn:
            if not conn.execute("SELECT pg_is_in_recovery()").fetchone()[0]:
                return f"the server at {url} answers but is not a replica (not in recovery)"
    except psycopg.Error as exc:
        return f"no read replica answered at {url} (`bash .ci/replica.sh` as root makes one): {str(exc)[:120]}"
    return None


pytestmark = [pytest.mark.postgres_only, pytest.mark.skipif(why_no_replica() is not None, reason=str(why_no_replica()))]


def wait_until_replayed() -> None:
    """Block until the replica has replayed everything the primary has written so far."""
    with psycopg.connect(libpq(PRIMARY_URL), autocommit=True) as primary:
        lsn = primary.execute("SELECT pg_current_wal_lsn()").fetchone()[0]
    deadline = time.monotonic() + CATCH_UP_SECONDS
    with psycopg.connect(libpq(replica_url()), autocommit=True) as replica:
        while time.monotonic() < deadline:
            if replica.execute("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", (lsn,)).fetchone()[0]:
                return
            time.sleep(0.05)
    raise AssertionError(f"the replica did not replay up to {lsn} within {CATCH_UP_SECONDS} s")


@contextmanager
def replica_paused():
    """The replica keeps answering but replays nothing: it lags the primary for sure."""
    with psycopg.connect(libpq(replica_url()), autocommit=True) as replica:
        replica.execute("SELECT pg_wal_replay_pause()")
        try:
            deadline = time.monotonic() + CATCH_UP_SECONDS
            while replica.execute("SELECT pg_get_wal_replay_pause_state()").fetchone()[0] != "paused":
                assert time.monotonic() < deadline, "replay did not pause"
                time.sleep(0.02)
            yield
        finally:
            replica.execute("SELECT pg_wal_replay_resume()")


def count_on(url: str, sql: str, *params) -> int:
    with psycopg.connect(libpq(url), autocommit=True) as conn:
        return conn.execute(sql, params).fetchone()[0]


@pytest.fixture(scope="module")
def replica_app(app, tmp_path_factory):
    """The application as production runs it with a replica; `app` made the tables on the primary."""
    routed = create_app(
        "testing",
        SQLALCHEMY_DATABASE_URI=PRIMARY_URL,
        DATABASE_REPLICA_URL=replica_url(),
        WTF_CSRF_ENABLED=True,
        INSTANCE_PATH=str(tmp_path_factory.mktemp("replica-instance")),
    )
    routed.test_client_class = IsolatedClient
    yield routed
    with routed.app_context():
        db.session.remove()
        db.engine.dispose()
    routed.extensions[REPLICA].dispose()


@pytest.fixture
def web(replica_app):
    return replica_app.test_client()


def test_search_listing_profile_and_api_read_the_replica_and_the_booking_page_the_primary(web, factory):
    wait_until_replayed()
    with replica_paused():
        t = factory.therapist(name="Rita Replica")  # committed on the primary only, for now
        assert web.get(f"/therapists/{t.id}").status_code == 404
        assert web.get(f"/api/v1/therapists/{t.id}").status_code == 404
        assert web.get("/api/v1/search?location=60601").get_json()["total"] == 0
        assert "Rita Replica" not in web.get("/therapists").get_data(as_text=True)
        assert "Rita Replica" not in web.get("/search?location=60601").get_data(as_text=True)
        assert web.get(f"/therapists/{t.id}/book").status_code == 200  # not marked: the primary
    wait_until_replayed()
    assert web.get(f"/therapists/{t.id}").status_code == 200
    assert web.get("/api/v1/search?location=60601").get_json()["total"] == 1
    assert "Rita Replica" in web.get("/therapists").get_data(as_text=True)


def test_a_write_goes_to_the_primary_and_the_request_then_reads_its_own_write(replica_app, app):
    wait_until_replayed()
    with replica_paused(), replica_app.test_request_context("/therapists"), reading_from(replica=True):
        assert db.session.get_bind() is replica_app.extensions[REPLICA]
        before = db.session.scalar(select(func.count(User.id)))
        db.session.add(User(email="written@example.com", name="Written", role=Role.CLIENT))
        db.session.commit()  # the flush goes to the primary
        assert db.session.get_bind() is db.engine  # after a write, this request reads the primary
        assert db.session.scalar(select(func.count(User.id))) == before + 1
        assert db.session.scalar(select(User.name).filter_by(email="written@example.com")) == "Written"
        query = "SELECT count(*) FROM users WHERE email = 'written@example.com'"
        assert count_on(PRIMARY_URL, query) == 1 and count_on(replica_url(), query) == 0
        db.session.remove()


def test_the_signed_in_user_is_read_from_the_primary_on_replica_pages(web, make_user):
    wait_until_replayed()
    with replica_paused():
        make_user(Role.CLIENT, "fresh@example.com")  # not on the replica yet
        assert login(web, "fresh@example.com").status_code == 302
        page = web.get("/therapists").get_data(as_text=True)  # a replica page
        assert "Sign out" in page


def test_a_lagging_replica_never_lets_a_booked_slot_be_booked_again(web, factory, make_user):
    t = factory.therapist(name="Lena Lag", prices={60: 90}, timezone="America/Chicago", commit=False)
    factory.open_for_bookings(t, PASSWORD)
    db.session.commit()
    first, second = make_user(Role.CLIENT, "first@example.com"), make_user(Role.CLIENT, "second@example.com")
    days = free_starts(t, 60)
    start = days[next(iter(days))][0].astimezone(UTC)
    wait_until_replayed()
    next_free_before = re.search(r"Next free: [^<]+", web.get(f"/therapists/{t.id}").get_data(as_text=True))
    assert next_free_before is not None

    with replica_paused():
        login(web, first.email)
        booked = post_form(web, f"/therapists/{t.id}/book", {"start": start.isoformat(), "minutes": "60"})
        assert booked.status_code == 302, booked.get_data(as_text=True)[:2000]
        post_form(web, "/auth/logout", {}, form_page="/account/bookings")
        # The replica has not seen the booking: its profile page still offers that time first.
        assert count_on(replica_url(), "SELECT count(*) FROM bookings") == 0
        stale = re.search(r"Next free: [^<]+", web.get(f"/therapists/{t.id}").get_data(as_text=True))
        assert stale is not None and stale.group(0) == next_free_before.group(0)
        # The booking page and the booking itself are decided on the primary.
        login(web, second.email)
        page = web.get(f"/therapists/{t.id}/book?minutes=60").get_data(as_text=True)
        assert start.isoformat() not in page
        again = post_form(web, f"/therapists/{t.id}/book", {"start": start.isoformat(), "minutes": "60"})
        assert again.status_code in (400, 409) and "That time was just taken" in again.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.scalar(select(func.count(Booking.id))) == 1
