"""Side by side: a therapist submits a license, an admin decides, the directory follows."""

import pytest

from directory.auth.passwords import hash_password
from directory.extensions import db
from directory.models import Role, User, utcnow

from .browser import ARTIFACTS, chromium, new_page
from .factories import pdf_bytes

pytestmark = pytest.mark.browser
PDF = pdf_bytes()
PASSWORD = "granite-willow-sparrow-5"


@pytest.fixture
def two_browsers(live_server):
    with chromium() as browser:
        yield new_page(browser), new_page(browser)


def sign_in(page, base, email):
    page.goto(base + "/auth/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def therapist_submits(page, base, factory_user, number, tmp_path):
    sign_in(page, base, factory_user)
    page.goto(base + "/account/credentials")
    document = tmp_path / f"{number}.pdf"
    document.write_bytes(PDF)
    page.get_by_label("License or credential number").last.fill(number)
    page.get_by_label("Issuing state").last.select_option("IL")
    page.get_by_label("Expires on").first.fill("2030-01-31")
    page.get_by_label("Document").last.set_input_files(str(document))
    page.get_by_role("button", name="Submit for verification").first.click()
    assert "Pending: waiting for an administrator" in page.locator("main").inner_text()


@pytest.fixture
def people(ctx):
    def user(role, email, name):
        u = User(email=email, name=name, role=role, password_hash=hash_password(PASSWORD), email_confirmed_at=utcnow())
        db.session.add(u)
        return u

    admin = user(Role.ADMIN, "admin@example.com", "Ada Admin")
    ok = user(Role.THERAPIST, "ok@example.com", "Olivia Okay")
    bad = user(Role.THERAPIST, "bad@example.com", "Brent Blurry")
    db.session.commit()
    return admin, ok, bad


def complete_profile(factory_profile_user):
    from decimal import Decimal

    from directory.models import SessionPrice, TherapistProfile, TherapistTechnique

    profile = TherapistProfile(
        user=factory_profile_user,
        name=factory_profile_user.name,
        latitude=41.8858,
        longitude=-87.6181,
        city="Chicago",
        state="IL",
        postal_code="60601",
        bio="Careful work.",
    )
    profile.techniques = [TherapistTechnique(technique="swedish")]
    profile.prices = [SessionPrice(minutes=60, amount=Decimal("90"))]
    db.session.add(profile)
    db.session.commit()


def test_admin_approval_lists_the_therapist_and_rejection_shows_the_reason(two_browsers, live_server, people, tmp_path):
    therapist, admin_page = two_browsers
    admin, ok, bad = people
    complete_profile(ok)
    complete_profile(bad)

    therapist_submits(therapist, live_server, ok.email, "IL-OK-1001", tmp_path)
    therapist.goto(live_server + "/search?location=60601")
    assert "Olivia Okay" not in therapist.locator("main").inner_text()

    sign_in(admin_page, live_server, admin.email)
    assert admin_page.url.endswith("/admin/verifications")
    item = admin_page.locator("article.queue-item", has_text="IL-OK-1001")
    assert item.get_by_role("link", name="Download the document").count() == 1  # a PDF is never shown inline
    item.get_by_role("button", name="Approve").click()
    assert "Approved: Olivia Okay" in admin_page.locator("main").inner_text()

    therapist.goto(live_server + "/search?location=60601")
    assert therapist.locator("li.result h3", has_text="Olivia Okay").count() == 1
    therapist.screenshot(path=str(ARTIFACTS / "search-after-approval.png"), full_page=True)

    therapist.context.clear_cookies()
    therapist_submits(therapist, live_server, bad.email, "IL-BAD-2002", tmp_path)
    admin_page.goto(live_server + "/admin/verifications")
    item = admin_page.locator("article.queue-item", has_text="IL-BAD-2002")
    item.get_by_label("Reason for rejecting").fill("The scan is unreadable; please upload a clearer copy.")
    item.get_by_role("button", name="Reject").click()
    therapist.goto(live_server + "/account")
    dashboard = therapist.locator("main").inner_text()
    assert "Rejected" in dashboard and "The scan is unreadable; please upload a clearer copy." in dashboard
    admin_page.goto(live_server + "/admin/audit")
    audit = admin_page.locator("main").inner_text()
    assert "license approved" in audit and "license rejected" in audit
    admin_page.screenshot(path=str(ARTIFACTS / "admin-audit.png"), full_page=True)
