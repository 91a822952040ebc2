"""Test data: therapists in a known place with known credentials."""

from __future__ import annotations

import io
import itertools
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from pypdf import PdfWriter

from directory.auth.passwords import hash_password
from directory.clock import today_in
from directory.models import (
    Certification,
    CredentialStatus,
    License,
    Role,
    SessionPrice,
    TherapistProfile,
    TherapistTechnique,
    User,
    WeeklyHours,
)

_seq = itertools.count(1)
CHICAGO_LOOP = (41.8858, -87.6181)  # ZIP 60601


class Factory:
    def __init__(self, session):
        self.session = session

    def therapist(
        self,
        *,
        name: str | None = None,
        lat_lon: tuple[float, float] = CHICAGO_LOOP,
        city: str = "Chicago",
        state: str = "IL",
        postal_code: str = "60601",
        techniques=("swedish",),
        certifications=(),
        prices=None,
        license_status: CredentialStatus = CredentialStatus.VERIFIED,
        license_expires: date | None = None,
        cert_status: CredentialStatus = CredentialStatus.VERIFIED,
        suspended: bool = False,
        commit: bool = True,
        **fields,
    ) -> TherapistProfile:
        n = next(_seq)
        name = name or f"Therapist {n}"
        user = User(email=f"therapist{n}@example.com", role=Role.THERAPIST, name=name)
        now = datetime.now(UTC)
        profile = TherapistProfile(
            user=user,
            name=name,
            latitude=lat_lon[0],
            longitude=lat_lon[1],
            city=city,
            state=state,
            postal_code=postal_code,
            **fields,
        )
        profile.licenses = [
            License(
                number=f"LMT-{n:06d}",
                state=state,
                expires_on=license_expires or today_in(UTC) + timedelta(days=365),
                status=license_status,
                verified_at=now if license_status == CredentialStatus.VERIFIED else None,
                verified_via="test" if license_status == CredentialStatus.VERIFIED else None,
            )
        ]
        profile.techniques = [TherapistTechnique(technique=t) for t in techniques]
        prices = prices if prices is not None else {60: 90}
        profile.prices = [SessionPrice(minutes=m, amount=Decimal(str(a))) for m, a in sorted(prices.items())]
        profile.certifications = [
            Certification(
                slug=c, status=cert_status, verified_at=now if cert_status == CredentialStatus.VERIFIED else None
            )
            for c in certifications
        ]
        if suspended:
            profile.suspended_at = now
            profile.suspension_reason = "test"
        self.session.add(profile)
        if commit:
            self.session.commit()
        return profile

    def open_for_bookings(self, profile: TherapistProfile, password: str, hours: tuple[int, int] = (9, 17)) -> None:
        """A therapist who can sign in and works every day from hours[0] to hours[1] o'clock."""
        profile.user.password_hash = hash_password(password)
        profile.user.email_confirmed_at = datetime.now(UTC)
        self.session.flush()
        for day in range(7):
            self.session.add(
                WeeklyHours(therapist_id=profile.id, weekday=day, start_time=time(hours[0]), end_time=time(hours[1]))
            )


def pdf_bytes(pages: int = 1) -> bytes:
    """A small, real PDF (blank pages), as a scanner or "print to PDF" makes."""
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=612, height=792)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
