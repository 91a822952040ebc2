"""The whole path at a phone's width, in chromium: search with goals, conditions and a
budget -> a card's time button -> sign up inside the flow -> the intake pre-filled ->
request -> the therapist accepts -> .ics in the mail -> the reminder job -> the visit
completed -> the review prompt -> the review. axe-core checks every new page on the way
(issue 13, "Done means")."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from icalendar import Calendar
from sqlalchemy import select

from directory.extensions import db
from directory.mail import plain_text
from directory.models import Booking, BookingStatus
from directory.schedule import BOOKING_REMINDERS, REVIEW_PROMPTS

from .booking_people import open_therapist
from .browser import ARTIFACTS, axe_violations, chromium, fits_the_width, new_phone_page
from .conftest import PASSWORD

pytestmark = pytest.mark.browser
CLIENT_PASSWORD = "plum-harbour-lantern-58"


def accessible(page, name: str) -> None:
    """No axe violations, nothing wider than the phone; a screenshot for people to look at."""
    violations = axe_violations(page)
    assert violations == [], f"{name}: {violations}"
    assert fits_the_width(page), f"{name} is wider than the phone"
    page.screenshot(path=str(ARTIFACTS / f"path-{name}.png"), full_page=True)


def mail(outbox, test):
    """The one mail that passes `test` (the live server sends it before its answer: browser.py)."""
    found = [m for m in outbox() if test(m)]
    assert len(found) == 1, [m["Subject"] for m in outbox()]
    return found[0]


def local_path(url: str) -> str:
    return re.sub(r"^http://localhost", "", url)


def test_from_search_to_a_reviewed_visit_on_a_phone(app, live_server, factory, outbox):
    rita = open_therapist(
        factory, name="Rita Relax", address="1 W Main St", city="Chicago", state="IL", postal_code="60601"
    )
    with chromium() as browser:
        cleo, therapist = new_phone_page(browser), new_phone_page(browser)

        # Search with goals, conditions and a budget, from the form.
        cleo.goto(live_server + "/search")
        cleo.get_by_label("Where are you?").fill("60601")
        cleo.get_by_label("Stress and anxiety relief").check()
        cleo.get_by_label("Varicose veins").check()
        cleo.get_by_label("Most you want to pay per session ($)").fill("120")
        cleo.get_by_role("button", name="Show my matches").click()
        cleo.wait_for_url("**max_price=120**")
        assert "up to $120 a session" in cleo.locator(".asked").inner_text()
        card = cleo.locator("li.result", has_text="Rita Relax")
        assert card.locator(".next-times a").count() == 3
        accessible(cleo, "search")

        # A card's time button opens the booking form at that time, the intake ticked.
        first_time = card.locator(".next-times a").first
        chosen = first_time.inner_text().split(" with ")[0].strip()
        first_time.click()
        cleo.wait_for_url("**/book?**")
        assert cleo.get_by_label("Stress and anxiety relief").is_checked()
        assert cleo.get_by_label("Varicose veins").is_checked()
        summary = cleo.locator("#choice-summary").inner_text()
        assert summary.endswith(", 60 min, $95") and summary.split(",")[1].strip() in chosen
        accessible(cleo, "booking-form")
        cleo.get_by_label("What would you like help with?").fill("Tight shoulders from desk work")
        cleo.get_by_label("Medications").fill("Ibuprofen now and then")
        cleo.get_by_role("button", name="Request this time").click()

        # Sign up inside the flow: nothing typed is lost.
        cleo.wait_for_url("**/auth/login?**")
        assert "Your booking request is kept" in cleo.locator("main").inner_text()
        accessible(cleo, "sign-in-detour")
        cleo.get_by_role("link", name="Create a client account").click()
        cleo.get_by_label("Your full name").fill("Cleo Client")
        cleo.get_by_label("Email").fill("cleo@example.com")
        cleo.locator("#password").fill(CLIENT_PASSWORD)
        cleo.get_by_label("Repeat the password").fill(CLIENT_PASSWORD)
        cleo.get_by_role("button", name="Create my account").click()
        cleo.wait_for_url("**/auth/login?**")
        cleo.get_by_label("Email").fill("cleo@example.com")
        cleo.get_by_label("Password").fill(CLIENT_PASSWORD)
        cleo.get_by_role("button", name="Sign in").click()
        cleo.wait_for_url("**/book?**")
        assert "Welcome back" in cleo.locator("main").inner_text()
        assert cleo.get_by_label("What would you like help with?").input_value() == "Tight shoulders from desk work"
        assert cleo.get_by_label("Varicose veins").is_checked()
        assert cleo.locator("#choice-summary").inner_text() == summary
        cleo.get_by_role("button", name="Request this time").click()
        assert "Request sent to Rita Relax" in cleo.locator("main").inner_text()
        accessible(cleo, "booking-detail-client")

        # The therapist accepts.
        therapist.goto(live_server + "/auth/login")
        therapist.get_by_label("Email").fill(rita.user.email)
        therapist.get_by_label("Password").fill(PASSWORD)
        therapist.get_by_role("button", name="Sign in").click()
        therapist.goto(live_server + "/account/bookings")
        therapist.locator("section", has_text="Waiting for your answer").locator("h3 a").first.click()
        assert "Tight shoulders from desk work" in therapist.locator("main").inner_text()
        assert therapist.get_by_role("button", name="Cancel the booking").count() == 0
        accessible(therapist, "booking-detail-therapist")
        therapist.get_by_role("button", name="Accept").click()
        assert "Confirmed" in therapist.locator("main").inner_text()
        therapist.goto(live_server + "/account/availability")
        accessible(therapist, "availability")
        therapist.set_viewport_size({"width": 320, "height": 640})  # the smallest phones
        assert fits_the_width(therapist), "the availability page is wider than 320 px"
        therapist.set_viewport_size({"width": 360, "height": 740})

        # The .ics in the mail.
        accepted = mail(outbox, lambda m: m["To"] == "cleo@example.com" and "accepted" in m["Subject"])
        [invite] = [p for p in accepted.iter_attachments() if p.get_content_type() == "text/calendar"]
        cal = Calendar.from_ical(invite.get_content())
        assert cal["METHOD"] == "REQUEST"
        [event] = cal.walk("VEVENT")
        booking = db.session.scalar(select(Booking))
        assert event.decoded("DTSTART") == booking.starts_at.astimezone(rita.zone)
        assert "Ibuprofen" not in accepted.as_string()

        # Cleo's own pages: the booking with where to go, moving it, her account.
        cleo.goto(live_server + f"/account/bookings/{booking.id}")
        assert "1 W Main St" in cleo.locator("main").inner_text()
        cleo.get_by_label("Your message").fill("Is there parking nearby?")
        cleo.get_by_role("button", name="Send message").click()
        assert "Is there parking nearby?" in cleo.locator("#messages").inner_text()
        cleo.get_by_role("link", name="Move to another time").click()
        accessible(cleo, "reschedule")
        cleo.goto(live_server + "/auth/account")
        accessible(cleo, "account")

        # The reminder job, a day before.
        db.session.expire_all()
        booking = db.session.get(Booking, booking.id)
        booking.starts_at = datetime.now(UTC) + timedelta(hours=20)
        booking.ends_at = booking.starts_at + timedelta(minutes=60)
        db.session.commit()
        assert app.extensions["celery"].tasks[BOOKING_REMINDERS].apply().get() == 1
        reminders = [m for m in outbox() if m["Subject"].startswith("Tomorrow:")]
        assert sorted(m["To"] for m in reminders) == sorted(["cleo@example.com", rita.user.email])

        # The visit took place and is completed.
        booking.starts_at = datetime.now(UTC) - timedelta(hours=2)
        booking.ends_at = booking.starts_at + timedelta(minutes=60)
        db.session.commit()
        therapist.goto(live_server + f"/account/bookings/{booking.id}")
        therapist.get_by_role("button", name="Mark the visit completed").click()
        assert "Marked completed" in therapist.locator("main").inner_text()
        db.session.expire_all()
        assert db.session.get(Booking, booking.id).status == BookingStatus.COMPLETED

        # The review prompt, and the review.
        assert app.extensions["celery"].tasks[REVIEW_PROMPTS].apply().get() == 1
        [prompt] = [m for m in outbox() if m["Subject"] == "How was your visit with Rita Relax?"]
        link = re.search(r"http://localhost/\S+#review", plain_text(prompt)).group(0)
        cleo.goto(live_server + local_path(link))
        assert "Reviews are public" in cleo.locator("#review").inner_text()
        accessible(cleo, "review-form")
        cleo.get_by_label("Your rating").select_option("5")
        cleo.get_by_label("Your review").fill("Calm, skilled and on time.")
        cleo.get_by_role("button", name="Publish review").click()
        assert "Thank you for your review" in cleo.locator("main").inner_text()
        cleo.goto(live_server + f"/therapists/{rita.id}")
        assert "5.0 from 1 review" in cleo.locator("main").inner_text()
        accessible(cleo, "profile")
