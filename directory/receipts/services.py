"""Receipts: issued when a therapist completes a visit, read by that client and that therapist only.

A receipt copies the therapist's details as they stood at the visit (see
models.Receipt). It says what an HSA or FSA administrator asks for and nothing
of the client's intake: no goals, conditions, medications or history.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from .. import clock, uploads
from .. import vocabulary as v
from ..extensions import db
from ..models import Booking, BookingStatus, MedicalNecessityLetter, Receipt, User
from ..service_errors import ServiceError, raise_all
from ..therapists.visibility import Audience, place_of

MAX_AMOUNT = Decimal("10000")
CENT = Decimal("0.01")


@dataclass(frozen=True)
class Payment:
    """What the client paid for a visit, as the therapist confirms it on completing it."""

    amount_paid: Decimal
    tip: Decimal = Decimal("0")
    technique: str | None = None  # the technique given; the profile's first when not said


def _money_problem(amount, what: str, *, allow_zero: bool) -> str | None:
    try:
        amount = Decimal(amount)
    except (InvalidOperation, TypeError, ValueError):
        return f"Enter the {what} in dollars and cents."
    low_ok = amount >= 0 if allow_zero else amount > 0
    if not amount.is_finite() or not low_ok or amount > MAX_AMOUNT or amount != amount.quantize(CENT):
        lowest = "$0" if allow_zero else "more than $0"
        return f"Enter the {what} from {lowest} to ${MAX_AMOUNT:,} in dollars and cents."
    return None


def check_payment(booking: Booking, payment: Payment) -> list[ServiceError]:
    problems = []
    if (problem := _money_problem(payment.amount_paid, "amount paid", allow_zero=False)) is not None:
        problems.append(ServiceError(problem, field="amount_paid"))
    if (problem := _money_problem(payment.tip, "tip", allow_zero=True)) is not None:
        problems.append(ServiceError(problem, field="tip"))
    offered = booking.therapist.technique_slugs
    if payment.technique is not None and payment.technique not in offered:
        names = ", ".join(v.label(v.TECHNIQUES, t) for t in offered) or "none"
        problems.append(ServiceError(f"Choose a technique you offer: {names}.", field="technique"))
    return problems


def receipt_number(booking: Booking) -> str:
    """TT-<year of the visit>-<booking number>: unique, since a visit has one receipt."""
    return f"TT-{clock.visit_day(booking).year}-{booking.id:06d}"


def _address(booking: Booking) -> str:
    """The practice's address as the client of this (completed) visit may be told it."""
    place = place_of(booking.therapist, Audience.CLIENT, booking)
    return "\n".join(place.lines) or place.label


def issue(booking: Booking, payment: Payment) -> Receipt:
    """The receipt of a visit being completed (no commit: the caller's transaction holds both)."""
    raise_all(check_payment(booking, payment))
    profile = booking.therapist
    license = profile.current_license
    technique = payment.technique or (profile.technique_slugs or ["swedish"])[0]
    receipt = Receipt(
        booking=booking,
        number=receipt_number(booking),
        amount_paid=Decimal(payment.amount_paid).quantize(CENT),
        tip_amount=Decimal(payment.tip).quantize(CENT),
        currency=booking.currency,
        technique=technique,
        therapist_name=profile.name,
        practice_address=_address(booking)[:300],
        license_state=license.state if license else None,
        license_number=license.number if license else None,
        license_credential=license.credential if license else None,
        npi=profile.npi,
        visit_starts_at=booking.starts_at,
        visit_minutes=booking.minutes,
        timezone=str(profile.zone.key),
    )
    db.session.add(receipt)
    return receipt


def _receipts():
    return (
        select(Receipt)
        .join(Booking, Booking.id == Receipt.booking_id)
        .options(selectinload(Receipt.booking).selectinload(Booking.client))
    )


def receipt_to_read(user: User, booking_id: int) -> tuple[Receipt, str, ReceiptText] | None:
    """The receipt, the reader's side and what it says to them; None when it is not theirs.
    The client's letter is looked up for the client's copy only."""
    found = receipt_for(user, booking_id)
    if found is None:
        return None
    receipt, side = found
    client = receipt.booking.client
    letter = letter_of(client) if side == "client" and client is not None else None
    return receipt, side, receipt_text(receipt, letter, for_client=side == "client")


def receipt_for(user: User, booking_id: int) -> tuple[Receipt, str] | None:
    """The receipt of a completed visit and the reader's side, for its client or its therapist only."""
    receipt = db.session.scalar(_receipts().where(Receipt.booking_id == booking_id))
    if receipt is None or receipt.booking.status != BookingStatus.COMPLETED:
        return None
    if receipt.booking.client_id == user.id:
        return receipt, "client"
    if user.therapist is not None and receipt.booking.therapist_id == user.therapist.id:
        return receipt, "therapist"
    return None


# What a receipt says, once, for the printable page and the PDF.


@dataclass(frozen=True)
class Line:
    label: str
    amount: Decimal
    eligible: bool


@dataclass(frozen=True)
class ReceiptText:
    number: str
    issued_on: date
    therapist_name: str
    practice_address: str
    license: str
    npi: str
    client_name: str
    visit_date: str
    visit_time: str
    service: str
    technique: str
    duration: str
    lines: Sequence[Line]
    total_paid: Decimal
    eligible_total: Decimal
    letter: str

    @property
    def footer(self) -> str:
        if any(not line.eligible for line in self.lines):
            return "Paid in full. Tips are a gift to the therapist, not a medical expense, and are not eligible."
        return "Paid in full."

    def rows(self) -> list[tuple[str, str]]:
        """The receipt's facts, label and value, in the order they print."""
        return [
            ("Receipt number", self.number),
            ("Issued", _long(self.issued_on)),
            ("Provider", self.therapist_name),
            ("Practice address", self.practice_address),
            ("License", self.license),
            ("NPI", self.npi),
            ("Client", self.client_name),
            ("Date of service", self.visit_date),
            ("Time", self.visit_time),
            ("Service", self.service),
            ("Technique", self.technique),
            ("Duration", self.duration),
        ]


def _long(day: date) -> str:
    return f"{day:%B} {day.day}, {day.year}"


def money(amount: Decimal) -> str:
    return f"${amount:,.2f}"


def license_text(state: str | None, number: str | None, credential: str | None) -> str:
    if not number or not state:
        return "None on file"
    if credential:
        return f"{v.CREDENTIAL_KINDS.get(credential, credential)} {number} ({v.STATES.get(state, state)})"
    return f"{v.STATES.get(state, state)} massage therapist license {number}"


def receipt_text(receipt: Receipt, letter: MedicalNecessityLetter | None, *, for_client: bool = True) -> ReceiptText:
    """What the receipt says to its reader. The letter of medical necessity is the
    client's health information: only the client's copy mentions it (on file or not);
    the therapist's copy says nothing of it."""
    local = receipt.visit_starts_at.astimezone(receipt.zone)
    end = local + timedelta(minutes=receipt.visit_minutes)
    technique = v.label(v.TECHNIQUES, receipt.technique)
    lines = [Line(f"Massage therapy: {technique}, {receipt.visit_minutes} minutes", receipt.amount_paid, True)]
    if receipt.tip_amount:
        lines.append(Line("Tip (gratuity): not eligible for HSA/FSA", receipt.tip_amount, False))
    client = receipt.booking.client
    letter_note = "No letter of medical necessity on file." if for_client else ""
    if for_client and letter is not None and letter.covers(local.date()):
        letter_note = (
            f"A letter of medical necessity is on file with the client, valid until {_long(letter.expires_on)}."
        )
    return ReceiptText(
        number=receipt.number,
        issued_on=receipt.issued_at.astimezone(receipt.zone).date(),
        therapist_name=receipt.therapist_name,
        practice_address=receipt.practice_address or "Not given",
        license=license_text(receipt.license_state, receipt.license_number, receipt.license_credential),
        npi=receipt.npi or "None on file",
        client_name=client.name if client is not None else "Former client",
        visit_date=_long(local.date()),
        visit_time=f"{_clock(local)} to {_clock(end)} {local.tzname()}",
        service="Therapeutic massage",
        technique=technique,
        duration=f"{receipt.visit_minutes} minutes",
        lines=lines,
        total_paid=receipt.amount_paid + receipt.tip_amount,
        eligible_total=receipt.amount_paid,
        letter=letter_note,
    )


def _clock(moment: datetime) -> str:
    return moment.strftime("%I:%M %p").lstrip("0")


# The yearly statement.


@dataclass(frozen=True)
class Statement:
    year: int
    client_name: str
    receipts: list[tuple[Receipt, ReceiptText]]
    eligible_total: Decimal
    tips_total: Decimal
    letter: str


def statement(client: User, year: int) -> Statement:
    """The client's receipts of one year (by the visit's local date), summed."""
    start, end = datetime(year, 1, 1, tzinfo=UTC) - timedelta(days=1), datetime(year + 1, 1, 2, tzinfo=UTC)
    found = db.session.scalars(
        _receipts()
        .where(
            Booking.client_id == client.id,
            Booking.status == BookingStatus.COMPLETED,
            Receipt.visit_starts_at >= start,
            Receipt.visit_starts_at < end,
        )
        .order_by(Receipt.visit_starts_at, Receipt.id)
    )
    letter = letter_of(client)
    rows = [(r, receipt_text(r, letter)) for r in found if r.visit_day.year == year]
    note = "No letter of medical necessity on file."
    if letter is not None:
        note = f"A letter of medical necessity is on file with the client, valid until {_long(letter.expires_on)}."
    return Statement(
        year=year,
        client_name=client.name,
        receipts=rows,
        eligible_total=sum((r.amount_paid for r, _ in rows), Decimal("0")),
        tips_total=sum((r.tip_amount for r, _ in rows), Decimal("0")),
        letter=note,
    )


def receipt_years(client: User) -> list[int]:
    """The years with receipts, newest first."""
    found = db.session.scalars(
        select(Receipt)
        .join(Booking, Booking.id == Receipt.booking_id)
        .where(Booking.client_id == client.id, Booking.status == BookingStatus.COMPLETED)
    )
    return sorted({r.visit_day.year for r in found}, reverse=True)


# The letter of medical necessity.


def letter_of(client: User) -> MedicalNecessityLetter | None:
    return db.session.scalar(select(MedicalNecessityLetter).where(MedicalNecessityLetter.client_id == client.id))


def save_letter(client: User, upload, expires_on: date | None, *, today: date | None = None) -> MedicalNecessityLetter:
    """Keep (or replace) the client's letter: a PDF, JPEG or PNG up to 5 MB, with its expiry date."""
    problems = []
    if expires_on is None:
        problems.append(ServiceError("Enter the date the letter expires.", field="expires_on"))
    elif expires_on <= (today or clock.today_in(UTC)):
        problems.append(ServiceError("That letter has expired: upload a current one.", field="expires_on"))
    if upload is None:
        problems.append(ServiceError("Choose the letter to upload.", field="document"))
    raise_all(problems)
    try:
        checked = uploads.check_document(upload)
    except uploads.UploadError as exc:
        raise ServiceError(str(exc), field="document") from None
    letter = letter_of(client) or MedicalNecessityLetter(client_id=client.id)
    letter.expires_on = expires_on  # type: ignore[assignment]
    letter.original_name = checked.original_name
    letter.content_type = checked.content_type
    letter.size = len(checked.data)
    letter.sha256 = checked.sha256
    letter.data = checked.data
    letter.uploaded_at = clock.now()
    db.session.add(letter)
    db.session.commit()
    return letter


def remove_letter(client: User) -> bool:
    letter = letter_of(client)
    if letter is None:
        return False
    db.session.delete(letter)
    db.session.commit()
    return True
