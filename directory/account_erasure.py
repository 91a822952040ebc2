"""What deleting a client account erases, and what it keeps (and why): one list, read by
the service that erases and by the page that asks the client to confirm.

Erased: every intake, every message on the client's bookings (theirs, and the
therapist's replies, which may quote them), the reasons written on their bookings,
their letter of medical necessity, the booking form this browser kept for a sign-in,
and the account itself, so every session and remember-me cookie stops working.
Upcoming bookings are cancelled through the booking state machine (the therapist is
told the time is free again). Kept, without any health text: the therapist's record of
each visit (day, length, price, receipt amounts, as "Former client"), because the
therapist must keep their own business and tax records, and a receipt handed in for an
HSA or FSA claim must stay checkable; reviews, without the name.
"""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.orm import selectinload

from . import booking_states as states
from . import clock
from .extensions import db
from .models import Booking, BookingDraft, BookingMessage, MedicalNecessityLetter, OutboxJob, Review, User
from .notifications.delivery import DELIVER

ERASED = (
    "every intake you filled in (concerns, conditions, medications, history)",
    "every message on your bookings, yours and the therapist's replies (they may quote yours)",
    "the reasons and notes written on your bookings",
    "your letter of medical necessity",
    "a booking form this browser kept while you signed in",
    "your account: your name, your email, your password, every session and remember-me sign-in",
)
KEPT = (
    (
        "The therapist's record of each visit: its day, length and price, and for a completed visit "
        "the receipt's amounts, shown as “Former client”, with none of your health details.",
        "A therapist must keep their own business and tax records, and a receipt you handed in for "
        "an HSA or FSA claim must stay checkable.",
    ),
    (
        "Your reviews, as “Former client”.",
        "They describe the therapist's work to others; they no longer carry your name.",
    ),
)
CANCELLED = "Upcoming bookings are cancelled, and each therapist is told the time is free again."
REASON = "The client deleted their account."


def erase_client(user: User, *, draft_key: str | None = None) -> None:
    """Erase the client's health text and settle their bookings (no commit: the caller
    deletes the account in the same transaction, wrapped in booking_states.settling())."""
    now = clock.now()
    bookings = db.session.scalars(
        select(Booking)
        .where(Booking.client_id == user.id)
        .options(selectinload(Booking.intake), selectinload(Booking.therapist))
        .order_by(Booking.id)  # one lock order
    ).all()
    for booking in bookings:
        # A visit that already began stays for the therapist to complete or mark missed.
        if booking.holds_time and booking.starts_at > now:
            states.apply(
                booking,
                "cancel",
                states.Actor.SYSTEM,
                changes={"cancelled_by": "client", "cancel_reason": REASON},
                mail={"tell_client": False},  # the therapist learns the time is free again
                commit=False,
            )
        booking.intake = None
        booking.therapist_message = None
        if booking.cancel_reason != REASON:
            booking.cancel_reason = None
    ids = [b.id for b in bookings]
    if ids:
        db.session.execute(delete(BookingMessage).where(BookingMessage.booking_id.in_(ids)))
    db.session.execute(delete(BookingMessage).where(BookingMessage.author_id == user.id))
    db.session.execute(delete(MedicalNecessityLetter).where(MedicalNecessityLetter.client_id == user.id))
    if draft_key:
        db.session.execute(delete(BookingDraft).where(BookingDraft.key_is(draft_key)))
    for review in db.session.scalars(select(Review).where(Review.client_id == user.id)):
        review.client_id, review.author_name = None, "Former client"
    # Mail to them, sent or waiting, is rendered text (their address, reasons, replies): gone too.
    letters = db.session.execute(select(OutboxJob.id, OutboxJob.args).where(OutboxJob.name == DELIVER)).all()
    addressed = [job_id for job_id, args in letters if _addressed_to(args, user.email)]
    if addressed:
        db.session.execute(delete(OutboxJob).where(OutboxJob.id.in_(addressed)))


def _addressed_to(args, email: str) -> bool:
    letter = args[0] if isinstance(args, list) and args else None
    return isinstance(letter, dict) and str(letter.get("to", "")).lower() == email.lower()
