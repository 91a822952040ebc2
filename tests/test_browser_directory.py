"""A person goes home -> listing -> a profile in real chromium."""

import pytest

from .browser import ARTIFACTS

pytestmark = pytest.mark.browser


def test_home_to_listing_to_profile(page, live_server, factory):
    factory.therapist(
        name="Rosa Rivera", techniques=("swedish", "prenatal"), certifications=("prenatal",), prices={60: 105}
    )
    factory.therapist(name="Hidden Hal", suspended=True)
    page.goto(live_server + "/")
    assert page.get_by_role("heading", level=1).inner_text() == "Find a qualified massage therapist near you"
    page.get_by_role("link", name="Browse therapists").click()
    page.wait_for_url("**/therapists")
    assert page.get_by_text("1 therapist · page 1 of 1").is_visible()
    assert page.get_by_text("Hidden Hal").count() == 0
    page.get_by_label("Technique").select_option("prenatal")
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url("**technique=prenatal**")
    page.get_by_role("link", name="Rosa Rivera").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Rosa Rivera"
    assert page.get_by_text("Licensed in IL").is_visible()
    assert page.get_by_text("Certified prenatal massage therapist").is_visible()
    assert page.locator("table.prices").inner_text().count("$105") == 1
    page.screenshot(path=str(ARTIFACTS / "profile.png"), full_page=True)
    # On a phone the page still reads without sideways scrolling.
    page.set_viewport_size({"width": 375, "height": 800})
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.screenshot(path=str(ARTIFACTS / "profile-phone.png"), full_page=True)
