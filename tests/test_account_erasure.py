"""Deleting a client account erases its health text everywhere: intakes, message bodies,
letters, drafts, reasons, sessions. What must be kept (the therapist's record of a
completed visit and its receipt amounts) is kept without it, and the page says so."""

from __future__ import annotations

import html
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import Enum, String, Text, func, select

from directory import notifications
from directory.account_erasure import KEPT
from directory.bookings import services
from directory.extensions import db
from directory.mail import plain_text
from directory.models import Booking, BookingDraft, BookingStatus, MedicalNecessityLetter, OutboxJob, Receipt, Role
from directory.notifications.delivery import DELIVER
from directory.receipts.services import Payment

from .booking_people import free_on, open_therapist, send
from .conftest import TODAY, login, post_form

HEALTH = "my HIV medication is Biktarvy"

# Dates here are relative to the day: the clock is frozen (conftest.FROZEN_AT).
pytestmark = pytest.mark.usefixtures("frozen")


@pytest.fixture
def therapist(factory):
    return open_therapist(factory)


def text_anywhere(needle: str) -> list[str]:
    """Every table.column whose stored text holds `needle` (case-insensitive)."""
    found = []
    for table in db.metadata.sorted_tables:
        columns = [c for c in table.columns if isinstance(c.type, (String, Text)) and not isinstance(c.type, Enum)]
        for column in columns:
            hit = db.session.execute(select(column).where(column.ilike(f"%{needle}%")).limit(1)).first()
            if hit is not None:
                found.append(f"{table.name}.{column.name}")
    return found


def mail_rows_to(email: str) -> list[int]:
    """The outbox rows of mail addressed to `email`, sent or waiting."""
    rows = db.session.execute(select(OutboxJob.id, OutboxJob.args).where(OutboxJob.name == DELIVER)).all()
    return [job_id for job_id, args in rows if args and args[0].get("to") == email]


def test_deleting_the_account_leaves_the_health_text_nowhere(app, therapist, make_user, outbox):
    client_user = make_user(Role.CLIENT, "hope@example.com")
    c, t = app.test_client(), app.test_client()
    login(c, client_user.email)
    login(t, therapist.user.email)
    # A visit that took place, with its receipt, and one still to come; health text in each place.
    past = services.request_booking(
        client_user, therapist, free_on(therapist, 0, 0), 60, services.IntakeData(medications=HEALTH)
    )
    services.decide(therapist, past, accept=True, message="Bring your HIV medication list")
    past.starts_at, past.ends_at = datetime.now(UTC) - timedelta(hours=3), datetime.now(UTC) - timedelta(hours=2)
    db.session.commit()
    services.complete(past, Payment(Decimal("95.00"), Decimal("10.00")))
    upcoming = services.request_booking(
        client_user, therapist, free_on(therapist, 1, 0), 60, services.IntakeData(history=HEALTH)
    )
    for booking in (past, upcoming):
        post_form(
            c,
            f"/account/bookings/{booking.id}/messages",
            {"body": f"Hello, {HEALTH}."},
            form_page=f"/account/bookings/{booking.id}",
        )
        post_form(
            t,
            f"/account/bookings/{booking.id}/messages",
            {"body": "Noted about your HIV meds."},
            form_page=f"/account/bookings/{booking.id}",
        )
    db.session.add(
        MedicalNecessityLetter(
            client_id=client_user.id,
            expires_on=TODAY + timedelta(days=90),
            original_name="HIV-letter.pdf",
            content_type="application/pdf",
            size=4,
            sha256="0" * 64,
            data=b"%PDF",
        )
    )
    db.session.commit()
    # A booking form kept in another browser while signed out, with health text; then signed in there.
    c = app.test_client()
    assert send(c, therapist, free_on(therapist, 2, 0), medications=HEALTH).status_code == 302
    assert db.session.scalar(select(BookingDraft)) is not None
    login(c, client_user.email)
    assert text_anywhere("HIV")  # the set-up did put it in
    assert mail_rows_to(client_user.email)  # and mail to them was written

    page = html.unescape(c.get("/auth/delete").get_data(as_text=True))
    for what, why in KEPT:
        assert what in page and why in page
    assert "every message on your bookings" in page.lower()
    assert post_form(c, "/auth/delete", {"password": "velvet-harbor-orchid-42"}).status_code == 302

    db.session.expire_all()
    assert text_anywhere("HIV") == [] and text_anywhere("Biktarvy") == []
    assert mail_rows_to("hope@example.com") == []  # rendered mail (address, replies) is erased too
    assert db.session.scalar(select(func.count()).select_from(MedicalNecessityLetter)) == 0
    assert db.session.scalar(select(func.count()).select_from(BookingDraft)) == 0
    kept = db.session.get(Booking, past.id)
    assert kept.status == BookingStatus.COMPLETED and kept.client_id is None and kept.intake is None
    receipt = db.session.scalar(select(Receipt).where(Receipt.booking_id == past.id))
    assert receipt.amount_paid == Decimal("95.00") and receipt.tip_amount == Decimal("10.00")
    assert db.session.get(Booking, upcoming.id).status == BookingStatus.CANCELLED
    # The therapist sees the visit, never the text: the booking pages, the list, the calendar feed.
    for url in (f"/account/bookings/{past.id}", f"/account/bookings/{upcoming.id}", "/account/bookings"):
        body = t.get(url).get_data(as_text=True)
        assert "HIV" not in body and "Biktarvy" not in body
    assert "former client" in t.get(f"/account/bookings/{past.id}").get_data(as_text=True).lower()
    token = services.new_calendar_address(therapist)
    assert "HIV" not in t.get(f"/calendar/{token}.ics").get_data(as_text=True)
    # Mail about the booking, rendered again now, carries none of it either.
    before = len(outbox())
    notifications.review_prompt(kept)
    notifications.booking_reminder(kept)
    notifications.booking_message(kept, "therapist")
    everything = outbox()  # newest first
    again = everything[: len(everything) - before]
    assert again and all("HIV" not in plain_text(m) and "Biktarvy" not in plain_text(m) for m in again)
    # The old session is gone with the account.
    assert c.get("/account/bookings").status_code == 302
