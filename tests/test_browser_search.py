"""A pregnant client and a client with a fever search in real chromium."""

import pytest

from .browser import ARTIFACTS

pytestmark = pytest.mark.browser


@pytest.fixture
def nearby(factory):
    factory.therapist(
        name="Priya Prenatal", techniques=("swedish", "prenatal"), certifications=("prenatal",), prices={60: 105}
    )
    factory.therapist(name="Sven Swedish", techniques=("swedish", "reflexology"), prices={60: 85})
    factory.therapist(
        name="Una Unverified",
        techniques=("swedish", "prenatal"),
        certifications=("prenatal",),
        cert_status="pending",
        prices={60: 80},
    )


def test_pregnant_client_sees_only_prenatal_certified_therapists(page, live_server, nearby):
    page.goto(live_server + "/")
    page.get_by_label("Your ZIP code, or city and state").fill("60601")
    page.get_by_role("button", name="Find therapists").click()
    page.wait_for_url("**/search?**")
    page.get_by_label("Stress and anxiety relief").check()
    page.get_by_label("Pregnant, second or third trimester").check()
    page.get_by_role("button", name="Show my matches").click()
    page.wait_for_url("**conditions=pregnancy**")
    results = page.locator("li.result")
    assert results.count() == 1
    assert results.first.locator("h3").inner_text() == "Priya Prenatal"
    assert "Certified in prenatal massage, as your condition requires" in results.first.inner_text()
    safety = page.locator(".safety-box").inner_text()
    assert "oils meant for pregnancy" in safety and "no deep tissue work" in safety
    assert "60-minute sessions" in page.locator(".plan-box").inner_text()
    assert page.get_by_text("Sven Swedish").count() == 0 and page.get_by_text("Una Unverified").count() == 0
    page.screenshot(path=str(ARTIFACTS / "search-pregnancy.png"), full_page=True)


def test_client_with_a_fever_sees_no_therapists_and_is_told_to_see_a_provider(page, live_server, nearby):
    page.goto(live_server + "/search")
    page.get_by_label("Where are you?").fill("Chicago, IL")
    page.get_by_label("Fever or contagious illness").check()
    page.keyboard.press("Enter")  # the form works from the keyboard
    page.wait_for_url("**conditions=fever**")
    alert = page.get_by_role("alert")
    assert "Massage is not safe for you right now" in alert.inner_text()
    assert "healthcare provider" in alert.inner_text()
    assert page.locator("li.result").count() == 0
    page.set_viewport_size({"width": 375, "height": 800})
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.screenshot(path=str(ARTIFACTS / "search-fever-phone.png"), full_page=True)


def test_bad_location_is_shown_next_to_the_field(page, live_server):
    page.goto(live_server + "/search?location=00000")
    error = page.locator("#location-error")
    assert "could not find the ZIP code 00000" in error.inner_text()
    assert page.get_by_label("Where are you?").get_attribute("aria-invalid") == "true"
