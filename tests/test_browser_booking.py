"""A client searches, books, the therapist accepts, the visit happens, the client reviews."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from directory.auth.passwords import hash_password
from directory.extensions import db
from directory.models import Booking, Role, User, utcnow

from .browser import ARTIFACTS, chromium, new_page

pytestmark = pytest.mark.browser
PASSWORD = "copper-lantern-meadow-8"


def sign_in(page, base, email):
    page.goto(base + "/auth/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


@pytest.fixture
def people(factory):
    t = factory.therapist(
        name="Rita Relax",
        techniques=("swedish", "reflexology"),
        prices={60: 95},
        timezone="America/Chicago",
        commit=False,
    )
    factory.open_for_bookings(t, PASSWORD, hours=(8, 20))
    client = User(
        email="cleo@example.com",
        name="Cleo Client",
        role=Role.CLIENT,
        password_hash=hash_password(PASSWORD),
        email_confirmed_at=utcnow(),
    )
    db.session.add(client)
    db.session.commit()
    return t, client


def test_search_book_accept_complete_review(live_server, people):
    therapist, client = people
    with chromium() as browser:
        cleo, rita = new_page(browser), new_page(browser)
        sign_in(cleo, live_server, client.email)
        cleo.goto(live_server + "/search?location=60601&goals=stress")
        cleo.locator("li.result h3 a", has_text="Rita Relax").click()
        cleo.get_by_role("link", name="Book a session").click()
        cleo.locator("fieldset.times input[type=radio]").first.check()
        cleo.get_by_label("What would you like help with?").fill("Tension from desk work")
        cleo.get_by_role("button", name="Request this time").click()
        assert "Request sent to Rita Relax" in cleo.locator("main").inner_text(), cleo.locator(
            ".field-errors, .error"
        ).all_inner_texts()

        sign_in(rita, live_server, therapist.user.email)
        rita.goto(live_server + "/account/bookings")
        rita.locator("section", has_text="Waiting for your answer").locator("h3 a").first.click()
        assert "Tension from desk work" in rita.locator("main").inner_text()
        rita.get_by_label("Message to the client").fill("See you soon")
        rita.get_by_role("button", name="Accept").click()
        assert "Confirmed" in rita.locator("main").inner_text()

        # Time passes: the visit has taken place.
        booking = db.session.scalar(select(Booking))
        booking.starts_at = datetime.now(UTC) - timedelta(hours=2)
        booking.ends_at = booking.starts_at + timedelta(minutes=60)
        db.session.commit()
        rita.reload()
        rita.get_by_role("button", name="Mark the visit completed").click()
        assert "Marked completed" in rita.locator("main").inner_text()

        cleo.goto(live_server + "/account/bookings")
        cleo.get_by_role("link", name="Review this visit").click()
        cleo.get_by_label("Your rating").select_option("5")
        cleo.get_by_label("Your review").fill("Calm, skilled and on time.")
        cleo.get_by_role("button", name="Publish review").click()
        assert "Thank you for your review" in cleo.locator("main").inner_text()

        cleo.goto(live_server + f"/therapists/{therapist.id}")
        profile = cleo.locator("main").inner_text()
        assert "5.0 from 1 review" in profile and "Calm, skilled and on time." in profile
        cleo.screenshot(path=str(ARTIFACTS / "profile-with-review.png"), full_page=True)
