"""Bookings: real free times, safety on the intake, no double booking, privacy, reviews."""

import logging
import threading
from datetime import UTC, datetime, time, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from directory.auth.passwords import hash_password
from directory.bookings import services
from directory.bookings.availability import LEAD_TIME, free_starts, slots_for
from directory.extensions import db
from directory.mail import plain_text
from directory.models import (
    Booking,
    BookingSlot,
    BookingStatus,
    Intake,
    Review,
    Role,
    TimeOff,
    User,
    WeeklyHours,
    utcnow,
)
from directory.service_errors import ServiceError

from .conftest import PASSWORD, login, post_form


@pytest.fixture
def therapist(factory):
    t = factory.therapist(
        name="Hana Hours",
        techniques=("swedish", "prenatal"),
        prices={30: 50, 60: 90},
        timezone="America/Chicago",
        commit=False,
    )
    factory.open_for_bookings(t, PASSWORD, hours=(9, 17))
    db.session.commit()
    return t


@pytest.fixture
def client_user(make_user):
    return make_user(Role.CLIENT, "carla@example.com")


def first_free(t, minutes=60, index=0):
    days = free_starts(t, minutes)
    day = next(iter(days))
    return days[day][index].astimezone(UTC)


def book(c, t, start, minutes=60, **intake):
    data = {
        "start": start.isoformat(),
        "minutes": str(minutes),
        "concerns": intake.pop("concerns", "Stiff neck"),
        "medications": intake.pop("medications", ""),
        "history": intake.pop("history", ""),
    }
    data.update(intake)
    return post_form(c, f"/therapists/{t.id}/book", data, form_page=f"/therapists/{t.id}/book")


def test_client_registration(client, ctx, outbox):
    response = post_form(
        client,
        "/auth/register/client",
        {
            "name": "Carl Client",
            "email": "carl@example.com",
            "password": "sunlit-meadow-kettle-4",
            "confirm": "sunlit-meadow-kettle-4",
        },
    )
    assert response.status_code == 302 and response.headers["Location"] == "/auth/login?next=/account/bookings"
    user = db.session.scalar(select(User).filter_by(email="carl@example.com"))
    assert user.role == Role.CLIENT and user.therapist is None
    assert len(outbox()) == 1


def test_free_times_follow_weekly_hours_time_off_lead_time_and_bookings(therapist, client_user):
    now = datetime.now(UTC)
    days = free_starts(therapist, 60, now=now)
    assert 25 <= len(days) <= 29  # four weeks ahead
    for starts in days.values():
        for s in starts:
            assert time(9) <= s.time() and (s + timedelta(minutes=60)).time() <= time(17)
            assert s.astimezone(UTC) >= now + LEAD_TIME
    day_off = sorted(days)[3]
    db.session.add(TimeOff(therapist_id=therapist.id, starts_on=day_off, ends_on=day_off))
    db.session.commit()
    assert day_off not in free_starts(therapist, 60, now=now)
    start = first_free(therapist)
    services.request_booking(client_user, therapist, start, 60, services.IntakeData())
    after = [s.astimezone(UTC) for starts in free_starts(therapist, 60).values() for s in starts]
    assert start not in after and start + timedelta(minutes=30) not in after  # overlapping start gone too
    assert start - timedelta(minutes=30) not in after


def test_booking_stores_the_price_and_intake_and_emails_both(client, therapist, client_user, outbox):
    login(client, client_user.email)
    start = first_free(therapist)
    response = book(client, therapist, start, goals=["stress"], conditions=["varicose_veins"], medications="Ibuprofen")
    assert response.status_code == 302
    booking = db.session.scalar(select(Booking))
    assert booking.status == BookingStatus.PENDING and float(booking.price_amount) == 90.0
    assert booking.intake.medications == "Ibuprofen" and booking.intake.conditions == "varicose_veins"
    assert len(booking.slots) == 4
    recipients = sorted(m["To"] for m in outbox())
    assert recipients == sorted([client_user.email, therapist.user.email])
    assert all("Ibuprofen" not in m.get_content() for m in outbox())  # no health details in mail
    # A later price change does not touch the booking.
    therapist.prices[-1].amount = 200
    db.session.commit()
    db.session.expire_all()
    assert float(db.session.get(Booking, booking.id).price_amount) == 90.0


def test_absolute_contraindication_refuses_the_booking(client, therapist, client_user):
    login(client, client_user.email)
    response = book(client, therapist, first_free(therapist), conditions=["fever"])
    page = response.get_data(as_text=True)
    assert (
        response.status_code == 400
        and "massage is not safe for you right now" in page
        and "healthcare provider" in page
    )
    assert db.session.scalar(select(func.count(Booking.id))) == 0


def test_relative_contraindication_requires_the_certification(client, therapist, client_user, factory):
    login(client, client_user.email)
    response = book(client, therapist, first_free(therapist), conditions=["pregnancy"])
    assert response.status_code == 400
    assert "has no verified prenatal certification, which is required during pregnancy" in response.get_data(
        as_text=True
    )
    from directory.models import Certification, CredentialStatus

    therapist.certifications.append(
        Certification(slug="prenatal", status=CredentialStatus.VERIFIED, verified_at=utcnow())
    )
    db.session.commit()
    assert book(client, therapist, first_free(therapist), conditions=["pregnancy"]).status_code == 302


def test_the_intake_screens_with_the_search_rules(client, therapist, client_user, factory):
    """A flare-up refuses; pregnancy takes gentle techniques only; two stages of pregnancy contradict."""
    login(client, client_user.email)
    response = book(client, therapist, first_free(therapist), conditions=["inflammatory_flare"])
    assert response.status_code == 400 and "book once the flare has settled" in response.get_data(as_text=True)
    sports = factory.therapist(name="Sid Sports", techniques=("sports",), certifications=("prenatal",))
    factory.open_for_bookings(sports, "correct horse battery staple")
    db.session.commit()
    response = book(client, sports, first_free(sports), conditions=["pregnancy"])
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and "Sid Sports offers no technique you may receive now" in page
    response = book(client, therapist, first_free(therapist), conditions=["pregnancy", "pregnancy_first_trimester"])
    assert response.status_code == 400 and "choose the one that applies" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Booking.id))) == 0


def test_times_that_are_not_offered_are_refused(client, therapist, client_user):
    login(client, client_user.email)
    start = first_free(therapist)
    off_grid = book(client, therapist, start + timedelta(minutes=10))
    assert off_grid.status_code == 400 and "Times fall on the quarter hour" in off_grid.get_data(as_text=True)
    assert book(client, therapist, start, minutes=45).status_code == 400  # 45 minutes is not priced
    assert "does not offer 45-minute sessions" in book(client, therapist, start, minutes=45).get_data(as_text=True)
    night = start.replace(hour=5)
    assert book(client, therapist, night).status_code == 409
    assert book(client, therapist, start).status_code == 302
    second = book(client, therapist, start)
    assert second.status_code == 409 and "That time was just taken" in second.get_data(as_text=True)


def test_only_clients_book_and_anonymous_people_are_sent_to_sign_in(app, therapist, make_user):
    anonymous = app.test_client()
    page = anonymous.get(f"/therapists/{therapist.id}/book").get_data(as_text=True)
    assert "create a client account" in page and 'type="radio"' in page
    therapist_client = app.test_client()
    login(therapist_client, therapist.user.email)
    assert book(therapist_client, therapist, first_free(therapist)).status_code == 403


def test_the_database_refuses_overlapping_slots(therapist, client_user):
    start = first_free(therapist)
    booking = services.request_booking(client_user, therapist, start, 60, services.IntakeData())
    other = Booking(
        therapist_id=therapist.id,
        client_id=client_user.id,
        starts_at=start + timedelta(minutes=30),
        ends_at=start + timedelta(minutes=90),
        minutes=60,
        price_amount=90,
    )
    other.slots = [
        BookingSlot(therapist_id=therapist.id, slot_start=s) for s in slots_for(start + timedelta(minutes=30), 60)
    ]
    db.session.add(other)
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()
    assert db.session.scalar(select(func.count(Booking.id))) == 1 and booking.id


def test_twenty_concurrent_requests_for_one_slot_exactly_one_wins(app, therapist, make_user):
    clients = [make_user(Role.CLIENT, f"racer{i}@example.com") for i in range(20)]
    start = first_free(therapist)
    therapist_id, ids = therapist.id, [c.id for c in clients]
    db.session.commit()
    barrier = threading.Barrier(20, timeout=30)
    outcomes: list[str] = []

    def attempt(client_id):
        with app.app_context():
            from directory.models import TherapistProfile

            profile = db.session.get(TherapistProfile, therapist_id)
            user = db.session.get(User, client_id)
            db.session.rollback()  # hold no pooled connection while waiting for the others
            barrier.wait()
            try:
                services.request_booking(user, profile, start, 60, services.IntakeData(concerns="race"))
                outcomes.append("won")
            except ServiceError as exc:
                outcomes.append(str(exc))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=attempt, args=(i,)) for i in ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes.count("won") == 1, outcomes
    assert all(o == services.TAKEN for o in outcomes if o != "won")
    db.session.expire_all()
    assert db.session.scalar(select(func.count(Booking.id))) == 1
    assert db.session.scalar(select(func.count()).select_from(BookingSlot)) == 4


def test_therapist_accepts_or_declines_and_either_side_cancels_with_a_reason(app, therapist, client_user, outbox):
    c, t = app.test_client(), app.test_client()
    login(c, client_user.email)
    login(t, therapist.user.email)
    book(c, therapist, first_free(therapist, index=0))
    book(c, therapist, first_free(therapist, index=2))
    first, second = db.session.scalars(select(Booking).order_by(Booking.id)).all()
    post_form(
        t,
        f"/account/bookings/{first.id}/decide",
        {"decision": "accept", "message": "See you then"},
        form_page=f"/account/bookings/{first.id}",
    )
    post_form(
        t,
        f"/account/bookings/{second.id}/decide",
        {"decision": "decline", "message": "I am away"},
        form_page=f"/account/bookings/{second.id}",
    )
    db.session.expire_all()
    first, second = db.session.get(Booking, first.id), db.session.get(Booking, second.id)
    assert first.status == BookingStatus.CONFIRMED and first.therapist_message == "See you then"
    assert second.status == BookingStatus.DECLINED and second.slots == []  # the time is free again
    assert any(m["Subject"] == "Your booking was declined" and "I am away" in m.get_content() for m in outbox())
    no_reason = post_form(
        c, f"/account/bookings/{first.id}/cancel", {"reason": ""}, form_page=f"/account/bookings/{first.id}"
    )
    assert no_reason.status_code == 302
    db.session.expire_all()
    assert db.session.get(Booking, first.id).status == BookingStatus.CONFIRMED
    post_form(
        c, f"/account/bookings/{first.id}/cancel", {"reason": "I am ill"}, form_page=f"/account/bookings/{first.id}"
    )
    db.session.expire_all()
    first = db.session.get(Booking, first.id)
    assert first.status == BookingStatus.CANCELLED and first.cancelled_by == "client" and first.slots == []
    cancelled = [m for m in outbox() if m["Subject"] == "A booking was cancelled"]
    assert sorted(m["To"] for m in cancelled) == sorted([client_user.email, therapist.user.email])
    assert all("I am ill" in plain_text(m) for m in cancelled)  # beside the .ics (METHOD:CANCEL)


def test_a_client_cannot_decide_their_own_request(app, therapist, client_user):
    c = app.test_client()
    login(c, client_user.email)
    book(c, therapist, first_free(therapist))
    booking = db.session.scalar(select(Booking))
    response = post_form(
        c, f"/account/bookings/{booking.id}/decide", {"decision": "accept"}, form_page=f"/account/bookings/{booking.id}"
    )
    assert response.status_code == 403


# --- privacy -------------------------------------------------------------------------


@pytest.fixture
def booked(app, therapist, client_user):
    c = app.test_client()
    login(c, client_user.email)
    book(c, therapist, first_free(therapist), medications="Secret-Med-4471", history="Old knee surgery XQZ")
    return db.session.scalar(select(Booking)), c


def test_intake_is_visible_to_the_client_and_that_therapist_only(app, booked, therapist, factory, make_user):
    booking, c = booked
    assert "Secret-Med-4471" in c.get(f"/account/bookings/{booking.id}").get_data(as_text=True)
    t = app.test_client()
    login(t, therapist.user.email)
    assert "Secret-Med-4471" in t.get(f"/account/bookings/{booking.id}").get_data(as_text=True)
    strangers = [make_user(Role.CLIENT, "other@example.com"), make_user(Role.ADMIN, "admin@example.com")]
    other_t = factory.therapist(name="Other T", commit=False)
    other_t.user.password_hash = hash_password(PASSWORD)
    db.session.commit()
    strangers.append(other_t.user)
    for user in strangers:
        s = app.test_client()
        login(s, user.email)
        response = s.get(f"/account/bookings/{booking.id}")
        assert response.status_code == 404 and "Secret-Med-4471" not in response.get_data(as_text=True), user.email
    admin = app.test_client()
    login(admin, "admin@example.com")
    listing = admin.get("/admin/bookings").get_data(as_text=True)
    assert therapist.name in listing and "Secret-Med-4471" not in listing and "knee" not in listing


def test_intake_never_reaches_the_logs(app, therapist, client_user, caplog, monkeypatch):
    c = app.test_client()
    login(c, client_user.email)
    import directory.bookings.services as booking_services

    def fail(*args, **kwargs):
        raise RuntimeError("mail server down")

    monkeypatch.setattr("directory.notifications.booking_requested", fail)
    with caplog.at_level(logging.DEBUG):
        response = book(
            c,
            therapist,
            first_free(therapist),
            medications="Secret-Med-4471",
            history="XQZ-history",
            concerns="XQZ-concern",
        )
    assert response.status_code == 500
    assert "Secret-Med-4471" not in caplog.text and "XQZ" not in caplog.text
    assert "Secret-Med" not in repr(db.session.scalar(select(Intake)))
    assert booking_services


# --- reviews -------------------------------------------------------------------------


def completed_booking(therapist, client_user, minutes_ago=120):
    start = first_free(therapist)
    booking = services.request_booking(client_user, therapist, start, 60, services.IntakeData())
    services.decide(therapist, booking, accept=True, message="")
    booking.starts_at = datetime.now(UTC) - timedelta(minutes=minutes_ago)
    booking.ends_at = booking.starts_at + timedelta(minutes=60)
    db.session.commit()
    return booking


def test_review_only_after_a_completed_visit_once_and_escaped(app, therapist, client_user):
    c = app.test_client()
    login(c, client_user.email)
    booking = completed_booking(therapist, client_user)
    early = post_form(
        c,
        f"/account/bookings/{booking.id}/review",
        {"rating": "5", "text": "Great"},
        form_page=f"/account/bookings/{booking.id}",
        follow_redirects=True,
    )
    assert "once it is completed" in early.get_data(as_text=True)
    t = app.test_client()
    login(t, therapist.user.email)
    post_form(
        t,
        f"/account/bookings/{booking.id}/complete",
        {"amount_paid": "90.00", "technique": "swedish"},
        form_page=f"/account/bookings/{booking.id}",
    )
    db.session.expire_all()
    assert db.session.get(Booking, booking.id).status == BookingStatus.COMPLETED
    text = "<script>alert(1)</script> Wonderful hands"
    post_form(
        c,
        f"/account/bookings/{booking.id}/review",
        {"rating": "5", "text": text},
        form_page=f"/account/bookings/{booking.id}",
    )
    again = post_form(
        c,
        f"/account/bookings/{booking.id}/review",
        {"rating": "1", "text": "Changed"},
        form_page=f"/account/bookings/{booking.id}",
        follow_redirects=True,
    )
    assert "already reviewed" in again.get_data(as_text=True) or db.session.scalar(select(func.count(Review.id))) == 1
    assert db.session.scalar(select(func.count(Review.id))) == 1
    profile_page = app.test_client().get(f"/therapists/{therapist.id}").get_data(as_text=True)
    assert (
        "&lt;script&gt;alert(1)&lt;/script&gt; Wonderful hands" in profile_page
        and "<script>alert(1)" not in profile_page
    )
    assert "5.0</strong> from 1 review" in profile_page


@pytest.mark.parametrize(
    "rating, text, message",
    [
        ("0", "ok", "Choose 1 to 5 stars."),
        ("6", "ok", "Choose 1 to 5 stars."),
        ("4", "", "Write a few words"),
        ("4", "x" * 2001, "under 2000"),
    ],
)
def test_bad_reviews_are_refused(app, therapist, client_user, rating, text, message):
    c = app.test_client()
    login(c, client_user.email)
    booking = completed_booking(therapist, client_user)
    services.complete(booking)
    response = post_form(
        c,
        f"/account/bookings/{booking.id}/review",
        {"rating": rating, "text": text},
        form_page=f"/account/bookings/{booking.id}",
        follow_redirects=True,
    )
    assert message in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Review.id))) == 0


def test_therapist_replies_once_and_admin_hides_with_a_reason(app, therapist, client_user, make_user):
    from directory.reviews import services as reviews

    booking = completed_booking(therapist, client_user)
    services.complete(booking)
    review = reviews.add_review(client_user, booking, 2, "Late start")
    t = app.test_client()
    login(t, therapist.user.email)
    post_form(
        t,
        f"/account/reviews/{review.id}/reply",
        {"text": "Sorry, traffic."},
        form_page=f"/account/bookings/{booking.id}",
    )
    second = post_form(
        t,
        f"/account/reviews/{review.id}/reply",
        {"text": "Again"},
        form_page=f"/account/bookings/{booking.id}",
        follow_redirects=True,
    )
    assert "already replied" in second.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Review, review.id).reply == "Sorry, traffic."
    admin = make_user(Role.ADMIN, "admin@example.com")
    a = app.test_client()
    login(a, admin.email)
    post_form(a, f"/admin/reviews/{review.id}/hide", {"reason": "Names another client"}, form_page="/admin/reviews")
    db.session.expire_all()
    assert db.session.get(Review, review.id).hidden_reason == "Names another client"
    assert "Late start" not in app.test_client().get(f"/therapists/{therapist.id}").get_data(as_text=True)
    from directory.models import AuditEntry, TherapistProfile

    assert db.session.get(TherapistProfile, therapist.id).rating_count == 0
    assert db.session.scalar(select(AuditEntry).filter_by(action="review_hidden")).note == "Names another client"


def test_ranking_uses_a_prior_so_two_fives_do_not_beat_fifty_four_and_a_halfs(client, factory):
    few = factory.therapist(name="Two Fives", rating_count=2, rating_average=5.0, techniques=("swedish",))
    many = factory.therapist(name="Fifty", rating_count=50, rating_average=4.5, techniques=("swedish",))
    body = client.get("/api/v1/search?location=60601&goals=stress").get_json()
    assert [r["name"] for r in body["results"]] == ["Fifty", "Two Fives"]
    assert "4.5 from 50 reviews" in body["results"][0]["reasons"]
    assert few.id and many.id


def test_deleting_a_client_account_removes_intakes_and_anonymises_reviews(app, therapist, client_user):
    from directory.reviews import services as reviews

    past = completed_booking(therapist, client_user)
    services.complete(past)
    reviews.add_review(client_user, past, 4, "Good")
    upcoming = services.request_booking(
        client_user, therapist, first_free(therapist, index=4), 60, services.IntakeData(medications="Secret-Med")
    )
    c = app.test_client()
    login(c, client_user.email)
    wrong = post_form(c, "/auth/delete", {"password": "not-my-password-1"})
    assert wrong.status_code == 400 and "That password is not right." in wrong.get_data(as_text=True)
    assert post_form(c, "/auth/delete", {"password": PASSWORD}).status_code == 302
    db.session.expire_all()
    assert db.session.scalar(select(User).filter_by(email=client_user.email)) is None
    assert db.session.scalar(select(func.count()).select_from(Intake)) == 0
    review = db.session.scalar(select(Review))
    assert review.client_id is None and review.author_name == "Former client" and review.text == "Good"
    upcoming = db.session.get(Booking, upcoming.id)
    assert upcoming.status == BookingStatus.CANCELLED and upcoming.slots == [] and upcoming.client_id is None
    told = [m for m in app.extensions["mailer"].outbox() if m["Subject"] == "A booking was cancelled"]
    assert [m["To"] for m in told] == [therapist.user.email]  # the therapist learns the time is free
    assert "Secret-Med" not in told[0].get_body(("plain",)).get_content()


def test_therapist_dashboard_shows_waiting_requests(app, therapist, client_user):
    services.request_booking(client_user, therapist, first_free(therapist), 60, services.IntakeData())
    t = app.test_client()
    login(t, therapist.user.email)
    assert "1 booking request</strong> waiting for your answer" in t.get("/account").get_data(as_text=True)


def test_therapist_sets_weekly_hours_and_time_off_through_the_pages(app, therapist, factory):
    t = app.test_client()
    login(t, therapist.user.email)
    hours = {f"d{i}_start": "" for i in range(7)} | {f"d{i}_end": "" for i in range(7)}
    hours.update(d0_start="10:00", d0_end="14:00", d2_start="09:30", d2_end="12:00")
    assert post_form(t, "/account/availability", hours).status_code == 302
    db.session.expire_all()
    saved = {
        h.weekday: (h.start_time, h.end_time)
        for h in db.session.scalars(select(WeeklyHours).filter_by(therapist_id=therapist.id))
    }
    assert saved == {0: (time(10), time(14)), 2: (time(9, 30), time(12))}
    bad = post_form(t, "/account/availability", hours | {"d1_start": "15:00", "d1_end": "11:00", "d3_start": "09:00"})
    page = bad.get_data(as_text=True)
    assert bad.status_code == 400 and "On Tuesday the end must come after the start." in page
    assert "Give both a start and an end time for Thursday, or neither." in page
    db.session.expire_all()
    assert db.session.scalar(select(func.count(WeeklyHours.id)).filter_by(therapist_id=therapist.id)) == 2
    day = datetime.now(UTC).date() + timedelta(days=3)
    wrong = post_form(
        t,
        "/account/availability/time-off",
        {"starts_on": day.isoformat(), "ends_on": (day - timedelta(days=1)).isoformat()},
        form_page="/account/availability",
    )
    assert wrong.status_code == 400 and "The last day cannot be before the first." in wrong.get_data(as_text=True)
    assert (
        post_form(
            t,
            "/account/availability/time-off",
            {"starts_on": day.isoformat(), "ends_on": day.isoformat(), "note": "Conference"},
            form_page="/account/availability",
        ).status_code
        == 302
    )
    off = db.session.scalar(select(TimeOff))
    assert off.note == "Conference" and day not in free_starts(therapist, 60)
    other = factory.therapist(name="Other", commit=False)
    other.user.password_hash = hash_password(PASSWORD)
    db.session.commit()
    o = app.test_client()
    login(o, other.user.email)
    assert (
        post_form(
            o, f"/account/availability/time-off/{off.id}/remove", {}, form_page="/account/availability"
        ).status_code
        == 404
    )
    assert (
        post_form(
            t, f"/account/availability/time-off/{off.id}/remove", {}, form_page="/account/availability"
        ).status_code
        == 302
    )
    assert db.session.scalar(select(func.count(TimeOff.id))) == 0
