"""Events cascade from the writer: a suspension or delisting settles every future booking
(requests declined, visits cancelled, each client mailed without the admin's reason), and
afterwards only the client's own cancel is possible."""

from __future__ import annotations

from datetime import timedelta

import pytest

from directory.admin import services as admin_services
from directory.bookings import services
from directory.extensions import db
from directory.mail import plain_text
from directory.models import Booking, BookingStatus, CredentialStatus, Role, utcnow
from directory.schedule import expire_licenses_today
from directory.service_errors import Conflict

from .booking_people import free_on, open_therapist
from .conftest import TODAY, login, post_form
from .test_booking_states import check_invariant, mails

SECRET_REASON = "Complaint 7731 under review"

# Dates here are relative to the day: the clock is frozen (conftest.FROZEN_AT).
pytestmark = pytest.mark.usefixtures("frozen")


@pytest.fixture
def therapist(factory):
    return open_therapist(factory)


@pytest.fixture
def admin(make_user):
    return make_user(Role.ADMIN, "boss@example.com")


@pytest.fixture
def two_bookings(therapist, make_user):
    """A pending request and a confirmed visit, both in the future, of two clients."""
    ann, bob = make_user(Role.CLIENT, "ann@example.com"), make_user(Role.CLIENT, "bob@example.com")
    pending = services.request_booking(ann, therapist, free_on(therapist, 0, 0), 60, services.IntakeData())
    confirmed = services.request_booking(bob, therapist, free_on(therapist, 1, 0), 60, services.IntakeData())
    services.decide(therapist, confirmed, accept=True, message="")
    return pending, confirmed


def assert_settled(outbox, pending, confirmed) -> None:
    db.session.expire_all()
    p, c = db.session.get(Booking, pending.id), db.session.get(Booking, confirmed.id)
    assert p.status == BookingStatus.DECLINED and c.status == BookingStatus.CANCELLED
    check_invariant()  # their time is free: no slot rows left
    assert mails(outbox, p.id)["Your booking was declined"] == 1
    assert mails(outbox, c.id)["A booking was cancelled"] == 2  # the client and the therapist
    for m in outbox():  # the clients never read the admin's reason (the therapist's own rejection notice may)
        if m["To"] != pending.therapist.user.email:
            assert SECRET_REASON not in plain_text(m)
    told = {m["To"] for m in outbox() if m["Subject"] in ("Your booking was declined", "A booking was cancelled")}
    assert {"ann@example.com", "bob@example.com"} <= told


def test_the_suspension_page_lists_what_happens_and_suspending_settles_it(app, therapist, admin, two_bookings, outbox):
    pending, confirmed = two_bookings
    a = app.test_client()
    login(a, admin.email)
    page = a.get(f"/admin/therapists/{therapist.id}/suspension").get_data(as_text=True)
    assert "ann@example.com" not in page  # names, not addresses
    assert "declined (the client is told)" in page and "cancelled (the client is told)" in page
    assert page.count("<tr>") == 3  # the header and the two bookings
    response = post_form(
        a,
        f"/admin/therapists/{therapist.id}/suspension",
        {"action": "suspend", "reason": SECRET_REASON},
        form_page=f"/admin/therapists/{therapist.id}/suspension",
    )
    assert response.status_code == 302
    assert_settled(outbox, pending, confirmed)
    client_page = db.session.get(Booking, pending.id)
    assert "not taking bookings through the directory" in client_page.therapist_message


def test_the_license_job_settles_the_bookings_of_a_therapist_whose_license_lapsed(therapist, two_bookings, outbox):
    pending, confirmed = two_bookings
    therapist.licenses[0].expires_on = TODAY - timedelta(days=1)
    db.session.commit()
    counts = expire_licenses_today()
    assert counts["expired"] == 1 and counts["bookings_settled"] == 2
    assert_settled(outbox, pending, confirmed)
    assert expire_licenses_today()["bookings_settled"] == 0  # run again: nothing left to settle


def test_a_rejection_that_delists_settles_the_bookings(therapist, admin, two_bookings, outbox):
    pending, confirmed = two_bookings
    license = therapist.licenses[0]
    license.submit()  # the therapist changed it: it waits for an administrator again
    db.session.commit()
    admin_services.decide(admin, "license", license.id, approve=False, reason=SECRET_REASON)
    assert license.status == CredentialStatus.REJECTED
    assert_settled(outbox, pending, confirmed)


def test_on_an_unlisted_therapist_only_the_clients_own_cancel_is_possible(app, therapist, two_bookings, outbox):
    pending, confirmed = two_bookings
    therapist.suspended_at = utcnow()  # written behind the service's back: no cascade ran
    db.session.commit()
    bob = app.test_client()
    login(bob, "bob@example.com")
    page = bob.get(f"/account/bookings/{confirmed.id}").get_data(as_text=True)
    assert "this booking can only be cancelled" in page and "Move to another time" not in page
    assert "Cancel this booking" in page
    with pytest.raises(Conflict, match="can only be cancelled"):
        services.reschedule(confirmed, confirmed.starts_at + timedelta(hours=3))
    with pytest.raises(Conflict, match="only the client may cancel"):
        services.decide(therapist, pending, accept=True, message="")
    with pytest.raises(Conflict, match="only the client may cancel"):
        services.cancel(confirmed, by="therapist", reason="Sorry")
    services.cancel(pending, by="client", reason="Found another time")
    assert db.session.get(Booking, pending.id).status == BookingStatus.CANCELLED
    check_invariant()


def test_a_visit_that_already_took_place_is_still_completed_after_a_suspension(app, therapist, admin, two_bookings):
    """The cascade settles what is to come; a visit that began before stays the therapist's to
    complete (the client's receipt) and is not cancelled by it."""
    _, confirmed = two_bookings
    confirmed.starts_at -= timedelta(days=3)
    confirmed.ends_at -= timedelta(days=3)
    db.session.commit()
    admin_services.set_suspension(admin, therapist, suspend=True, reason=SECRET_REASON)
    db.session.expire_all()
    visit = db.session.get(Booking, confirmed.id)
    assert visit.status == BookingStatus.CONFIRMED
    services.complete(visit)
    assert db.session.get(Booking, confirmed.id).status == BookingStatus.COMPLETED
    check_invariant()
