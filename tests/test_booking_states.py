"""One booking state machine: races have one winner and a 409 for the loser, never a 500;
a booking holds slot rows iff it is active (exactly its minutes plus buffer); the mails
sent match what happened. Run on SQLite and on PostgreSQL (TEST_DATABASE_URL)."""

from __future__ import annotations

import random
import re
import threading
import time
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from directory import booking_states as states
from directory.bookings import services
from directory.extensions import db
from directory.models import Booking, BookingSlot, BookingStatus, Role, TherapistProfile, User
from directory.service_errors import Conflict, ServiceError

from .booking_people import free_on, open_therapist
from .conftest import csrf_token, login

README = Path(__file__).resolve().parent.parent / "README.md"


@pytest.fixture
def therapist(factory):
    t = open_therapist(factory, hours=(8, 20))
    services.set_policies(t, services.PolicyData(buffer_minutes=15))  # every booking holds 60 + 15 minutes
    return t


@pytest.fixture
def client_user(make_user):
    return make_user(Role.CLIENT, "racer@example.com")


def check_invariant() -> None:
    """Every booking holds exactly the slot rows its state says, and no row belongs to nothing."""
    db.session.expire_all()
    held: dict[int, list[datetime]] = {}
    for slot in db.session.scalars(select(BookingSlot)):
        held.setdefault(slot.booking_id, []).append(slot.slot_start)
    bookings = db.session.scalars(select(Booking)).all()
    for b in bookings:
        want = states.slots_for(b.starts_at, b.minutes + b.buffer_minutes) if b.holds_time else []
        assert sorted(held.pop(b.id, [])) == want, (b.id, b.status, b.starts_at)
    assert held == {}, f"slot rows of no booking: {held}"


def mails(outbox, booking_id: int) -> Counter:
    """Subjects of the mails about one booking (their link names it), counted."""
    link = re.compile(rf"/account/bookings/{booking_id}\b")
    found: Counter = Counter()
    for m in outbox():
        body = m.get_body(("plain",)).get_content()
        if link.search(body):
            found[m["Subject"].split(" to ")[0].split(" on ")[0]] += 1
    return found


def signed_in(app, email: str):
    c = app.test_client()
    login(c, email)
    return c


def race(*calls):
    """Run the calls at the same moment, one thread each; their results, in order."""
    barrier = threading.Barrier(len(calls), timeout=30)
    results: list = [None] * len(calls)

    def run(i, call):
        barrier.wait()
        try:
            results[i] = call()
        except BaseException as exc:  # a crash is a result the test reports
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def poster(c, url: str, data: dict, form_page: str):
    data = dict(data, csrf_token=csrf_token(c, form_page))  # fetched before the race starts
    return lambda: c.post(url, data=data).status_code


def new_booking(therapist, client_user, day=0, index=0, accept=True) -> Booking:
    start = free_on(therapist, day, index)
    booking = services.request_booking(client_user, therapist, start, 60, services.IntakeData(concerns="race"))
    if accept:
        services.decide(therapist, booking, accept=True, message="")
    return booking


def test_three_reschedules_at_once_one_moves_the_others_get_409(app, therapist, client_user, outbox):
    booking = new_booking(therapist, client_user)
    targets = [free_on(therapist, 1, i, moving=booking) for i in (0, 6, 12)]
    url, page = f"/account/bookings/{booking.id}/reschedule", f"/account/bookings/{booking.id}/reschedule"
    clients = [signed_in(app, client_user.email) for _ in targets]
    calls = [poster(c, url, {"start": s.isoformat()}, page) for c, s in zip(clients, targets)]
    codes = race(*calls)
    assert sorted(codes) == [302, 409, 409], codes
    check_invariant()
    moved = db.session.get(Booking, booking.id)
    assert moved.starts_at in targets and moved.status == BookingStatus.CONFIRMED and moved.version == 2
    assert len(moved.slots) == 5  # 60 minutes and the 15-minute buffer, nothing more
    # The times the losers asked for are free again for anyone.
    for other in targets:
        if other != moved.starts_at:
            assert services.is_free(therapist, other, 60)
    assert mails(outbox, booking.id)["A session was moved"] == 2  # one move, to both sides


def test_a_loser_is_told_what_happened(app, therapist, client_user):
    booking = new_booking(therapist, client_user)
    c = signed_in(app, client_user.email)
    form = {"start": free_on(therapist, 1, 0, moving=booking).isoformat()}
    data = dict(form, csrf_token=csrf_token(c, f"/account/bookings/{booking.id}/reschedule"))
    # The therapist cancels between the client's page load and the click.
    version = booking.version
    services.cancel(booking, by="therapist", reason="I am ill")
    response = c.post(f"/account/bookings/{booking.id}/reschedule", data=data)
    assert response.status_code == 409
    assert "This booking is cancelled; it cannot be moved." in response.get_data(as_text=True)
    # Lost in the compare-and-set itself: the message names the winner's transition.
    assert states._what_happened(booking.id, version) == (
        "This booking was cancelled a moment ago. Reload the page to see it now."
    )


@pytest.mark.parametrize("round_", range(4))
def test_reschedule_and_cancel_at_once(app, therapist, client_user, outbox, round_):
    booking = new_booking(therapist, client_user, index=round_)
    target = free_on(therapist, 2, round_ * 3, moving=booking)
    mover, canceller = signed_in(app, client_user.email), signed_in(app, client_user.email)
    detail = f"/account/bookings/{booking.id}"
    codes = race(
        poster(mover, f"{detail}/reschedule", {"start": target.isoformat()}, f"{detail}/reschedule"),
        poster(canceller, f"{detail}/cancel", {"reason": "Changed my mind"}, detail),
    )
    assert set(codes) <= {302, 409} and 302 in codes, codes
    check_invariant()
    final = db.session.get(Booking, booking.id)
    moved, cancelled = codes[0] == 302, codes[1] == 302
    sent = mails(outbox, booking.id)
    assert sent["A session was moved"] == (2 if moved else 0)
    assert sent["A booking was cancelled"] == (2 if cancelled else 0)
    assert final.status == (BookingStatus.CANCELLED if cancelled else BookingStatus.CONFIRMED)
    if not cancelled:
        assert final.starts_at == target
    assert final.slots == [] if cancelled else len(final.slots) == 5


@pytest.mark.parametrize("round_", range(3))
def test_accept_and_decline_at_once(app, therapist, client_user, outbox, round_):
    booking = new_booking(therapist, client_user, index=round_, accept=False)
    detail = f"/account/bookings/{booking.id}"
    a, d = signed_in(app, therapist.user.email), signed_in(app, therapist.user.email)
    codes = race(
        poster(a, f"{detail}/decide", {"decision": "accept"}, detail),
        poster(d, f"{detail}/decide", {"decision": "decline"}, detail),
    )
    assert sorted(codes) == [302, 409], codes
    check_invariant()
    final = db.session.get(Booking, booking.id)
    sent = mails(outbox, booking.id)
    if codes[0] == 302:
        assert final.status == BookingStatus.CONFIRMED and len(final.slots) == 5
        assert sent["Your booking was accepted"] == 1 and sent["Your booking was declined"] == 0
    else:
        assert final.status == BookingStatus.DECLINED and final.slots == []
        assert sent["Your booking was declined"] == 1 and sent["Your booking was accepted"] == 0


def test_the_table_decides_who_may_do_what(therapist, client_user):
    booking = new_booking(therapist, client_user, accept=False)
    with pytest.raises(ServiceError, match="only therapist"):
        states.apply(booking, "accept", states.Actor.CLIENT)
    with pytest.raises(ServiceError, match="only system"):
        states.apply(booking, "expire", states.Actor.THERAPIST)
    with pytest.raises(Conflict, match="This booking is pending; it cannot be marked completed."):
        states.apply(booking, "complete", states.Actor.THERAPIST)
    assert db.session.get(Booking, booking.id).version == 0


def test_an_unanswered_request_expires_at_its_time_and_frees_it(therapist, client_user, outbox):
    booking = new_booking(therapist, client_user, accept=False)
    confirmed = new_booking(therapist, client_user, index=4)
    assert services.expire_unanswered(now=booking.starts_at - timedelta(minutes=1)) == 0
    assert services.expire_unanswered(now=booking.starts_at + timedelta(minutes=1)) == 1
    check_invariant()
    assert db.session.get(Booking, booking.id).status == BookingStatus.EXPIRED
    assert db.session.get(Booking, confirmed.id).status == BookingStatus.CONFIRMED
    assert mails(outbox, booking.id)["A booking request expired"] == 2


def test_a_no_show_is_marked_once_its_time_began_and_the_client_is_told(app, therapist, client_user, outbox):
    booking = new_booking(therapist, client_user)
    t = signed_in(app, therapist.user.email)
    detail = f"/account/bookings/{booking.id}"
    early = t.post(f"{detail}/no-show", data={"csrf_token": csrf_token(t, detail)})
    assert early.status_code == 302 and db.session.get(Booking, booking.id).status == BookingStatus.CONFIRMED
    services.mark_no_show(booking, now=booking.starts_at + timedelta(minutes=20))
    check_invariant()
    assert db.session.get(Booking, booking.id).status == BookingStatus.NO_SHOW
    assert mails(outbox, booking.id)["Your session was marked as missed"] == 1


def test_readme_states_table_matches_the_transitions():
    assert states.table_markdown() in README.read_text()


# --- the randomized stress test ------------------------------------------------------

THREADS, SECONDS, SEED = 8, 6.0, 2212


def test_random_transitions_from_many_threads_keep_the_invariant(app, therapist, make_user, outbox):
    clients = [make_user(Role.CLIENT, f"stress{i}@example.com") for i in range(3)]
    starts = [free_on(therapist, day, i) for day in (0, 1) for i in (0, 2, 4, 6)]  # overlapping candidates
    for c, s in zip(clients, starts[::3]):
        services.request_booking(c, therapist, s, 60, services.IntakeData())
    therapist_id, client_ids = therapist.id, [c.id for c in clients]
    db.session.commit()
    wins: Counter = Counter()
    crashes: list[str] = []
    lock = threading.Lock()
    deadline = time.monotonic() + SECONDS
    barrier = threading.Barrier(THREADS, timeout=30)

    def step(rnd: random.Random) -> str | None:
        profile = db.session.get(TherapistProfile, therapist_id)
        ids = db.session.scalars(select(Booking.id).order_by(Booking.id)).all()
        action = rnd.choice(["request", "accept", "decline", "cancel", "cancel", "reschedule", "reschedule"])
        if action == "request":
            client = db.session.get(User, rnd.choice(client_ids))
            services.request_booking(client, profile, rnd.choice(starts), 60, services.IntakeData())
            return action
        booking = db.session.get(Booking, rnd.choice(ids))
        assert booking is not None
        if action in ("accept", "decline"):
            services.decide(profile, booking, accept=action == "accept", message="")
        elif action == "cancel":
            services.cancel(booking, by=rnd.choice(["client", "therapist"]), reason="stress")
        else:
            services.reschedule(booking, rnd.choice(starts))
        return action

    def worker(n: int) -> None:
        rnd = random.Random(SEED + n)
        with app.app_context():
            barrier.wait()
            while time.monotonic() < deadline:
                try:
                    done = step(rnd)
                    with lock:
                        wins[done] += 1
                except ServiceError:
                    db.session.rollback()
                except Exception as exc:  # anything else would have been a 500
                    with lock:
                        crashes.append(f"{type(exc).__name__}: {exc}")
                    db.session.rollback()
                finally:
                    db.session.remove()

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert crashes == []
    assert sum(wins.values()) >= 10, wins  # the threads did race, and some won
    check_invariant()
    # Every transition that committed sent its two mails (client and therapist); no loser sent any.
    expected = 2 * (sum(wins.values()) + len(clients))
    assert len(outbox()) == expected, (wins, len(outbox()))
    bookings = db.session.scalars(select(Booking)).all()
    assert sum(b.version for b in bookings) == sum(wins.values()) - wins["request"]


def test_booking_states_is_the_one_writer_of_status_and_slot_rows():
    """No other module sets a booking's status or its slot rows: every change is a transition."""
    package = Path(__file__).resolve().parent.parent / "directory"
    writes = re.compile(
        r"\.slots\s*=|(?<!class )BookingSlot\(|\bstatus\s*=\s*BookingStatus\.|\.status\s*=\s*BookingStatus"
    )
    offenders = [
        f"{path.relative_to(package)}:{n}"
        for path in package.rglob("*.py")
        if path.name != "booking_states.py"
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if writes.search(line)
    ]
    assert offenders == []


def test_unanswered_requests_are_expired_by_a_beat_job():
    from directory.schedule import BEAT_SCHEDULE, EXPIRE_REQUESTS

    assert any(entry["task"] == EXPIRE_REQUESTS for entry in BEAT_SCHEDULE.values())


class _Orig(Exception):
    def __init__(self, sqlstate=None, sqlite_errorcode=None):
        super().__init__("database says no")
        self.sqlstate, self.sqlite_errorcode = sqlstate, sqlite_errorcode


@pytest.mark.parametrize(
    "orig, race",
    [
        (_Orig(sqlstate="40P01"), True),  # deadlock detected
        (_Orig(sqlstate="40001"), True),  # serialization failure
        (_Orig(sqlite_errorcode=5), True),  # SQLITE_BUSY
        (_Orig(sqlite_errorcode=517), True),  # SQLITE_BUSY_SNAPSHOT
        (_Orig(sqlstate="42P01"), False),  # a missing table is a bug: a 500, logged
        (_Orig(sqlite_errorcode=1), False),
    ],
)
def test_only_a_lost_race_becomes_a_409(orig, race):
    from sqlalchemy.exc import OperationalError

    assert states.lost_race(OperationalError("UPDATE bookings", {}, orig)) is race
