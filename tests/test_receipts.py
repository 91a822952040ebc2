"""Receipts for HSA/FSA: issued on completion with what the therapist confirms, read back
from the PDF, for that client and that therapist only; the yearly statement; the letter
of medical necessity."""

import io
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from html import unescape

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from directory.bookings import services as bookings
from directory.bookings.availability import free_starts
from directory.extensions import db
from directory.models import Booking, BookingStatus, MedicalNecessityLetter, Receipt, Role
from directory.receipts.services import Payment

from .conftest import PASSWORD, TODAY, login, post_form
from .factories import pdf_bytes

# Dates here are relative to the day: the clock is frozen (conftest.FROZEN_AT).
pytestmark = pytest.mark.usefixtures("frozen")

PDF = pdf_bytes()
SECRET = dict(concerns="Secret-Concern-881", medications="Secret-Med-4471", history="Secret-History-7")


@pytest.fixture
def therapist(factory):
    t = factory.therapist(
        name="Renée Okafor",
        techniques=("swedish", "deep_tissue"),
        prices={60: 95},
        timezone="America/Chicago",
        address="233 S Wacker Dr, Suite 400",
        npi="1234567893",
        commit=False,
    )
    t.licenses[0].number = "227.012345"
    factory.open_for_bookings(t, PASSWORD, hours=(0, 23))
    db.session.commit()
    return t


@pytest.fixture
def client_user(make_user):
    user = make_user(Role.CLIENT, "cleo@example.com")
    user.name = "Cleo Client"
    db.session.commit()
    return user


def visit(therapist, client_user, *, payment=None, hours_ago=3, index=0):
    days = free_starts(therapist, 60)
    start = days[next(iter(days))][index * 2]  # an hour apart: each visit keeps its own quarter hours
    intake = bookings.IntakeData(goals=("pain",), conditions=("varicose_veins",), **SECRET)
    booking = bookings.request_booking(client_user, therapist, start, 60, intake)
    bookings.decide(therapist, booking, accept=True, message="")
    booking.starts_at = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=hours_ago)
    booking.ends_at = booking.starts_at + timedelta(minutes=60)
    db.session.commit()
    if payment is not False:
        bookings.complete(booking, payment or Payment(Decimal("95.00"), Decimal("15.00"), "deep_tissue"))
    return booking


def signed_in(app, email):
    c = app.test_client()
    login(c, email)
    return c


def pdf_text(response) -> str:
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    reader = PdfReader(io.BytesIO(response.get_data()))
    return "\n".join(page.extract_text() for page in reader.pages)


def local(booking):
    return booking.starts_at.astimezone(booking.therapist.zone)


def test_the_receipt_pdf_holds_every_field_and_no_health_detail(app, therapist, client_user):
    booking = visit(therapist, client_user)
    c = signed_in(app, client_user.email)
    response = c.get(f"/account/bookings/{booking.id}/receipt.pdf")
    assert response.headers["Cache-Control"] == "private, no-store"
    assert f"receipt-TT-{booking.starts_at.year}-{booking.id:06d}.pdf" in response.headers["Content-Disposition"]
    text = pdf_text(response)
    start, end = local(booking), local(booking) + timedelta(minutes=60)
    clock = lambda t: t.strftime("%I:%M %p").lstrip("0")
    for expected in (
        f"Receipt TT-{booking.starts_at.year}-{booking.id:06d}",
        "Renée Okafor",
        "233 S Wacker Dr, Suite 400",
        "Chicago, IL 60601",
        "Illinois massage therapist license 227.012345",
        "1234567893",
        "Cleo Client",
        f"{start:%B} {start.day}, {start.year}",
        f"{clock(start)} to {clock(end)} {start.tzname()}",
        "Therapeutic massage",
        "Deep tissue massage",
        "60 minutes",
        "Massage therapy: Deep tissue massage, 60 minutes",
        "$95.00",
        "Tip (gratuity): not eligible for HSA/FSA",
        "$15.00",
        "Not eligible",
        "Total paid",
        "$110.00",
        "HSA/FSA-eligible amount",
        "No letter of medical necessity on file.",
    ):
        assert expected in text, (expected, text)
    for secret in (*SECRET.values(), "Varicose", "varicose", "Chronic pain"):
        assert secret not in text


def test_the_printable_page_says_the_same(app, therapist, client_user):
    booking = visit(therapist, client_user)
    page = signed_in(app, client_user.email).get(f"/account/bookings/{booking.id}/receipt")
    text = unescape(re.sub(r"<[^>]+>", " ", page.get_data(as_text=True)))
    assert page.headers["Cache-Control"] == "private, no-store"
    for expected in (
        "Receipt TT-",
        "Renée Okafor",
        "NPI",
        "1234567893",
        "Cleo Client",
        "Deep tissue massage",
        "Tip (gratuity): not eligible for HSA/FSA",
        "$110.00",
        "HSA/FSA-eligible amount",
    ):
        assert expected in text
    assert all(secret not in text for secret in SECRET.values())


def test_only_that_client_and_that_therapist_get_the_receipt(app, therapist, client_user, factory, make_user):
    booking = visit(therapist, client_user)
    url = f"/account/bookings/{booking.id}/receipt.pdf"
    assert signed_in(app, client_user.email).get(url).status_code == 200
    assert signed_in(app, therapist.user.email).get(url).status_code == 200
    other_therapist = factory.therapist(name="Other Therapist", commit=False)
    factory.open_for_bookings(other_therapist, PASSWORD)
    db.session.commit()
    for outsider in (
        make_user(Role.CLIENT, "other@example.com"),
        make_user(Role.ADMIN, "admin@example.com"),
        other_therapist.user,
    ):
        c = signed_in(app, outsider.email)
        assert c.get(url).status_code == 404, outsider.email
        assert c.get(f"/account/bookings/{booking.id}/receipt").status_code == 404
    anonymous = app.test_client().get(url)
    assert anonymous.status_code == 302 and anonymous.headers["Location"].startswith("/auth/login")


def test_no_receipt_before_the_visit_is_completed(app, therapist, client_user):
    booking = visit(therapist, client_user, payment=False)
    c = signed_in(app, client_user.email)
    assert c.get(f"/account/bookings/{booking.id}/receipt.pdf").status_code == 404
    assert "Receipt TT-" not in c.get(f"/account/bookings/{booking.id}").get_data(as_text=True)


def test_the_therapist_confirms_amount_tip_and_technique_when_completing(app, therapist, client_user):
    booking = visit(therapist, client_user, payment=False)
    t = signed_in(app, therapist.user.email)
    detail = t.get(f"/account/bookings/{booking.id}").get_data(as_text=True)
    assert re.search(r'<input[^>]*id="amount_paid"[^>]*value="95\.00"', detail)  # the booked price, to confirm
    assert '<option value="deep_tissue">Deep tissue massage</option>' in detail
    url = f"/account/bookings/{booking.id}/complete"
    for data, field, message in (
        ({"amount_paid": "", "technique": "swedish"}, "amount_paid", "Enter the amount the client paid"),
        (
            {"amount_paid": "0", "technique": "swedish"},
            "amount_paid",
            "Enter the amount paid from more than $0 to $10,000",
        ),
        ({"amount_paid": "80", "tip": "-5", "technique": "swedish"}, "tip", "Enter the tip from $0"),
        ({"amount_paid": "80", "technique": "reflexology"}, "technique", "Choose a technique you offer"),
    ):
        response = post_form(t, url, data, form_page=f"/account/bookings/{booking.id}")
        page = unescape(response.get_data(as_text=True))
        assert response.status_code == 400, data
        assert f'<ul class="field-errors" id="{field}-error"><li>{message}' in page, (data, page[-3000:])
        db.session.expire_all()
        assert db.session.get(Booking, booking.id).status == BookingStatus.CONFIRMED
        assert db.session.scalar(select(func.count()).select_from(Receipt)) == 0
    ok = post_form(
        t, url, {"amount_paid": "80.50", "tip": "", "technique": "swedish"}, form_page=f"/account/bookings/{booking.id}"
    )
    assert ok.status_code == 302
    receipt = db.session.scalar(select(Receipt))
    assert (receipt.amount_paid, receipt.tip_amount, receipt.technique) == (
        Decimal("80.50"),
        Decimal("0.00"),
        "swedish",
    )
    text = pdf_text(signed_in(app, client_user.email).get(f"/account/bookings/{booking.id}/receipt.pdf"))
    assert "$80.50" in text and "Tip" not in text


def test_a_receipt_keeps_the_details_of_the_day_of_the_visit(app, therapist, client_user):
    booking = visit(therapist, client_user)
    therapist.address, therapist.npi = "1 New Street", None
    therapist.licenses[0].number = "227.999999"
    db.session.commit()
    text = pdf_text(signed_in(app, client_user.email).get(f"/account/bookings/{booking.id}/receipt.pdf"))
    assert "233 S Wacker Dr, Suite 400" in text and "1234567893" in text and "227.012345" in text
    assert "1 New Street" not in text


def test_the_yearly_statement_sums_the_receipts(app, therapist, client_user):
    first = visit(therapist, client_user, hours_ago=50, index=0)
    second = visit(
        therapist, client_user, payment=Payment(Decimal("120.00"), Decimal("0"), "swedish"), hours_ago=26, index=1
    )
    year = local(first).year
    c = signed_in(app, client_user.email)
    index = c.get("/account/receipts").get_data(as_text=True)
    assert f'href="/account/receipts/{year}"' in index
    page = unescape(re.sub(r"<[^>]+>", " ", c.get(f"/account/receipts/{year}").get_data(as_text=True)))
    assert f"Massage therapy statement for {year}" in page and "$215.00" in page and "$15.00" in page
    text = pdf_text(c.get(f"/account/receipts/{year}.pdf"))
    for expected in (
        first.receipt.number,
        second.receipt.number,
        "Renée Okafor",
        "HSA/FSA-eligible total: $215.00",
        "Tips (not eligible): $15.00",
        "Cleo Client",
    ):
        assert expected in text, expected
    assert "Showing" not in text and all(secret not in text for secret in SECRET.values())
    other_year = c.get(f"/account/receipts/{year - 1}").get_data(as_text=True)
    assert f"No completed visits in {year - 1}." in other_year
    assert c.get("/account/receipts/1999").status_code == 404
    assert signed_in(app, therapist.user.email).get(f"/account/receipts/{year}").status_code == 403


# --- the letter of medical necessity ------------------------------------------------


def upload_letter(c, expires_on, content=PDF, name="letter.pdf"):
    return post_form(
        c,
        "/account/receipts/letter",
        {"document": (io.BytesIO(content), name), "expires_on": expires_on},
        form_page="/account/receipts",
        content_type="multipart/form-data",
    )


def test_a_letter_on_file_shows_on_receipts_and_only_its_client_can_open_it(app, therapist, client_user, make_user):
    booking = visit(therapist, client_user)
    c = signed_in(app, client_user.email)
    expires = TODAY + timedelta(days=300)
    assert upload_letter(c, expires.isoformat()).status_code == 302
    until = f"{expires:%B} {expires.day}, {expires.year}"
    note = f"A letter of medical necessity is on file with the client, valid until {until}."
    assert note in pdf_text(c.get(f"/account/bookings/{booking.id}/receipt.pdf"))
    assert note in c.get(f"/account/bookings/{booking.id}/receipt").get_data(as_text=True)
    # The therapist's copy says nothing of the client's letter, not even that there is none (issue 23, item 8).
    theirs = signed_in(app, therapist.user.email)
    for copy in (
        pdf_text(theirs.get(f"/account/bookings/{booking.id}/receipt.pdf")),
        theirs.get(f"/account/bookings/{booking.id}/receipt").get_data(as_text=True),
    ):
        assert "Cleo" in copy or "Former client" in copy or "Client" in copy
        assert "letter" not in copy.lower() and "necessity" not in copy.lower()
    own = c.get("/account/receipts/letter")
    assert own.status_code == 200 and own.get_data().startswith(b"%PDF")
    assert own.headers["Cache-Control"] == "private, no-store"
    assert own.headers["Content-Disposition"].startswith("attachment")
    assert own.headers["Content-Security-Policy"] == "sandbox; default-src 'none'"
    assert own.headers["X-Content-Type-Options"] == "nosniff"
    for outsider in (therapist.user, make_user(Role.ADMIN, "admin@example.com")):
        assert signed_in(app, outsider.email).get("/account/receipts/letter").status_code == 403
    assert "Secret" not in repr(db.session.scalar(select(MedicalNecessityLetter)))


@pytest.mark.parametrize(
    "expires_on, content, name, field, message",
    [
        ("", PDF, "l.pdf", "expires_on", "Enter the date the letter expires."),
        ("2001-01-01", PDF, "l.pdf", "expires_on", "That letter has expired: upload a current one."),
        (
            "2099-01-01",
            b"MZ\x90\x00not a document",
            "l.exe",
            "document",
            "The document must be a PDF, JPEG or PNG file.",
        ),
    ],
)
def test_a_wrong_letter_is_refused_at_its_field(app, client_user, expires_on, content, name, field, message):
    c = signed_in(app, client_user.email)
    response = upload_letter(c, expires_on, content, name)
    assert response.status_code == 400
    assert f'<ul class="field-errors" id="{field}-error"><li>{message}</li>' in unescape(
        response.get_data(as_text=True)
    )
    assert db.session.scalar(select(func.count()).select_from(MedicalNecessityLetter)) == 0


def test_removing_the_letter_or_the_account_deletes_it(app, client_user):
    c = signed_in(app, client_user.email)
    upload_letter(c, "2099-01-01")
    post_form(c, "/account/receipts/letter/remove", {}, form_page="/account/receipts")
    assert db.session.scalar(select(func.count()).select_from(MedicalNecessityLetter)) == 0
    upload_letter(c, "2099-01-01")
    response = post_form(c, "/auth/delete", {"password": PASSWORD}, form_page="/auth/delete")
    assert response.status_code in (302, 303)
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(MedicalNecessityLetter)) == 0


def test_the_receipt_pdf_has_a_title_and_a_language(app, therapist, client_user):
    booking = visit(therapist, client_user)
    response = signed_in(app, client_user.email).get(f"/account/bookings/{booking.id}/receipt.pdf")
    reader = PdfReader(io.BytesIO(response.get_data()))
    assert reader.metadata["/Title"] == f"Receipt TT-{booking.starts_at.year}-{booking.id:06d}"
    assert reader.trailer["/Root"]["/Lang"] == "en-US"
    assert reader.trailer["/Root"]["/ViewerPreferences"]["/DisplayDocTitle"] == True  # noqa: E712 (a PDF boolean)
