"""In chromium: an admin finds one pending therapist among 200 by license number, sees the
registry's evidence and approves, errors land at their field, suspending asks first, and the
audit log keeps its labels on a phone; a client downloads the receipt of a completed visit."""

import io
from datetime import UTC, datetime, timedelta

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from directory.auth.passwords import hash_password
from directory.extensions import db
from directory.models import Booking, CredentialStatus, Role, User, utcnow

from . import nppes_sample as sample
from .browser import ARTIFACTS, chromium

pytestmark = pytest.mark.browser
PASSWORD = "harbor-lantern-quartz-77"
MARIA_NPI = sample.npi(4242)
PHONE = {"width": 390, "height": 844}


def open_page(browser, viewport=None):
    page = browser.new_context(viewport=viewport or {"width": 1200, "height": 900}).new_page()
    page.set_default_timeout(10_000)
    return page


def sign_in(page, base, email):
    page.goto(base + "/auth/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def person(role, email, name):
    user = User(email=email, name=name, role=role, password_hash=hash_password(PASSWORD), email_confirmed_at=utcnow())
    db.session.add(user)
    return user


@pytest.fixture
def crowd(factory, runner, tmp_path):
    """200 therapists waiting, Maria Garcia among them; the registry file of November 9, 2026 lists her."""
    for n in range(200):
        t = factory.therapist(name=f"Waiting {n:03d}", license_status=CredentialStatus.PENDING, commit=False)
        t.licenses[0].number = f"IL-{n:05d}"
    maria = factory.therapist(name="Maria Garcia", license_status=CredentialStatus.PENDING, npi=MARIA_NPI, commit=False)
    maria.licenses[0].number = "IL-MG-4242"
    admin = person(Role.ADMIN, "ada@example.com", "Ada Admin")
    db.session.commit()
    rows = [sample.row(MARIA_NPI, "GARCIA", "MARIA", "IL", [(sample.MASSAGE, "IL-MG-4242", "IL")])]
    result = runner.invoke(
        args=["registry", "import-nppes", str(sample.write(tmp_path / "npidata_pfile_20050523-20261109.csv", rows))]
    )
    assert result.exit_code == 0, result.output
    return admin, maria


def no_sideways_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


@pytest.mark.parametrize("viewport", [None, PHONE], ids=["desktop", "phone"])
def test_an_admin_finds_checks_and_approves_one_among_200(live_server, crowd, viewport):
    admin, maria = crowd
    with chromium() as browser:
        page = open_page(browser, viewport)
        sign_in(page, live_server, admin.email)
        assert page.url.endswith("/admin/verifications")
        assert "Showing 1–25 of 201 credentials." in page.locator("main").inner_text()
        page.get_by_label("Name, email or license number").fill("IL-MG-4242")
        page.get_by_role("button", name="Search").click()
        items = page.locator("article.queue-item")
        assert items.count() == 1
        evidence = page.get_by_role("region", name="Registry evidence for Maria Garcia's license IL IL-MG-4242")
        text = evidence.inner_text()
        assert "Checked against the NPPES file of November 9, 2026" in text
        assert "The registry confirms NPI, name, state and license number." in text
        assert f"Massage therapist with NPI {MARIA_NPI}" in text
        if viewport:
            assert no_sideways_scroll(page)
        page.screenshot(
            path=str(ARTIFACTS / f"admin-queue-evidence-{'phone' if viewport else 'desktop'}.png"), full_page=True
        )
        page.get_by_role("button", name="Approve Maria Garcia's license IL IL-MG-4242").click()
        assert "Approved: Maria Garcia's license" in page.locator("main").inner_text()
        assert "q=IL-MG-4242" in page.url  # back on the same search

        # Rejecting without a reason: the error is at that credential's reason field, which has the focus.
        page.get_by_label("Name, email or license number").fill("IL-00150")
        page.get_by_role("button", name="Search").click()
        page.get_by_role("button", name="Reject Waiting 150's license IL IL-00150").click()
        field = page.get_by_label("Reason for rejecting (the therapist reads this) (Waiting 150's license IL IL-00150)")
        assert field.get_attribute("aria-invalid") == "true"
        assert page.evaluate("document.activeElement.id") == field.get_attribute("id")
        error = page.locator(f"#{field.get_attribute('id')}-error")
        assert "Give the reason for the rejection" in error.inner_text()
        box, message = field.bounding_box(), error.bounding_box()
        assert 0 <= message["y"] - (box["y"] + box["height"]) < 40  # right under the field, not far away
        page.screenshot(
            path=str(ARTIFACTS / f"admin-reject-error-{'phone' if viewport else 'desktop'}.png"), full_page=True
        )


def test_suspending_asks_first_and_the_audit_keeps_its_labels_on_a_phone(live_server, crowd):
    admin, maria = crowd
    with chromium() as browser:
        page = open_page(browser)
        sign_in(page, live_server, admin.email)
        page.goto(live_server + "/admin/therapists")
        page.get_by_label("Name, email, NPI or license number").fill(MARIA_NPI)
        page.get_by_role("button", name="Search").click()
        page.get_by_role("link", name="Suspend Maria Garcia").click()
        assert page.get_by_role("heading", name="Suspend Maria Garcia?").count() == 1
        page.get_by_role("button", name="Suspend Maria Garcia").click()
        reason = page.get_by_label("Reason (kept in the audit log)")
        assert (
            reason.get_attribute("aria-invalid") == "true"
            and "Give the reason." in page.locator("#reason-error").inner_text()
        )
        reason.fill("Complaint under review")
        page.get_by_role("button", name="Suspend Maria Garcia").click()
        assert "Maria Garcia is suspended" in page.locator("main").inner_text()
        assert page.get_by_role("link", name="Lift the suspension of Maria Garcia").count() == 1

        phone = open_page(browser, PHONE)
        sign_in(phone, live_server, admin.email)
        phone.goto(live_server + "/admin/audit?kind=suspensions")
        cells = phone.locator("table.admin-table tbody tr").first.locator("td")
        labels = [cells.nth(i).evaluate("td => getComputedStyle(td, '::before').content") for i in range(cells.count())]
        assert labels == ['"When (UTC)"', '"Who"', '"What"', '"Subject"', '"Changes"', '"Note"']
        row = phone.locator("table.admin-table tbody tr").first.inner_text()
        assert "Suspended at" in row and "Complaint under review" in row and '{"' not in row
        assert no_sideways_scroll(phone)
        phone.screenshot(path=str(ARTIFACTS / "admin-audit-phone.png"), full_page=True)


@pytest.fixture
def visit(factory):
    t = factory.therapist(
        name="Renée Okafor",
        techniques=("swedish", "deep_tissue"),
        prices={60: 95},
        timezone="America/Chicago",
        address="233 S Wacker Dr",
        npi="1234567893",
        commit=False,
    )
    t.licenses[0].number = "227.012345"
    factory.open_for_bookings(t, PASSWORD, hours=(0, 23))
    t.user.password_hash = hash_password(PASSWORD)
    client = person(Role.CLIENT, "cleo@example.com", "Cleo Client")
    db.session.flush()
    start = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(hours=3)
    booking = Booking(
        therapist_id=t.id,
        client_id=client.id,
        starts_at=start,
        ends_at=start + timedelta(minutes=60),
        minutes=60,
        price_amount=95,
        status="confirmed",
    )
    db.session.add(booking)
    db.session.commit()
    return t, client, booking


def test_a_client_downloads_the_receipt_of_a_completed_visit(live_server, visit, tmp_path):
    therapist, client, booking = visit
    with chromium() as browser:
        rita = open_page(browser)
        sign_in(rita, live_server, therapist.user.email)
        rita.goto(live_server + f"/account/bookings/{booking.id}")
        assert rita.get_by_label("Amount paid for the session ($)").input_value() == "95.00"
        rita.get_by_label("Tip ($)").fill("15")
        rita.get_by_label("Technique given").select_option("deep_tissue")
        rita.get_by_role("button", name="Mark the visit completed").click()
        assert "Marked completed" in rita.locator("main").inner_text()

        cleo = open_page(browser)
        sign_in(cleo, live_server, client.email)
        cleo.goto(live_server + f"/account/bookings/{booking.id}")
        with cleo.expect_download() as download:
            cleo.get_by_role("link", name="Download the receipt (PDF)").click()
        path = tmp_path / download.value.suggested_filename
        download.value.save_as(path)
        text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(path.read_bytes())).pages)
        local = booking.starts_at.astimezone(therapist.zone)
        number = f"TT-{booking.starts_at.year}-{booking.id:06d}"
        for expected in (
            f"Receipt {number}",
            "Renée Okafor",
            "233 S Wacker Dr",
            "Chicago, IL 60601",
            "Illinois massage therapist license 227.012345",
            "NPI",
            "1234567893",
            "Cleo Client",
            f"{local:%B} {local.day}, {local.year}",
            local.strftime("%I:%M %p").lstrip("0"),
            "Therapeutic massage",
            "Deep tissue massage",
            "60 minutes",
            "$95.00",
            "Tip (gratuity): not eligible for HSA/FSA",
            "$15.00",
            "HSA/FSA-eligible amount",
        ):
            assert expected in text, (expected, text)
        cleo.get_by_role("link", name="Open the receipt").click()
        assert number in cleo.locator("main").inner_text()
        cleo.screenshot(path=str(ARTIFACTS / "receipt-page.png"), full_page=True)
    assert db.session.scalar(select(Booking.status).where(Booking.id == booking.id)).value == "completed"
