"""A therapist's own profile and credentials: the rules, without Flask views."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from .. import uploads
from ..extensions import db
from ..geo import PlaceNotFound, lookup_zip
from ..matching import summary
from ..models import (
    Certification,
    CredentialStatus,
    Document,
    License,
    SessionPrice,
    TherapistProfile,
    TherapistTechnique,
    utcnow,
)


class ProfileError(ValueError):
    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


def ensure_profile(user) -> TherapistProfile:
    """A therapist account always has a profile to fill in (made on first visit if missing)."""
    if user.therapist is None:
        user.therapist = TherapistProfile(name=user.name or user.email.split("@")[0])
        db.session.commit()
    return user.therapist


def place_profile(
    profile: TherapistProfile, *, address: str, city: str, state: str, postal_code: str, geocoder
) -> None:
    """Geocode the practice location onto the profile, or ProfileError naming the field."""
    postal_code = (postal_code or "").strip()[:5]
    if postal_code:
        place = lookup_zip(postal_code)
        if place is None:
            raise ProfileError("postal_code", f"We could not find the ZIP code {postal_code}.")
        profile.latitude, profile.longitude, profile.timezone = place.latitude, place.longitude, place.timezone
        profile.city, profile.state, profile.postal_code = city or place.city, state or place.state, place.zip_code
        profile.location_label = f"{place.city}, {place.state} {place.zip_code}"
    else:
        query = ", ".join(p for p in (address, city, state) if p)
        try:
            found = geocoder.geocode(query)
        except PlaceNotFound as exc:
            raise ProfileError("city", str(exc)) from None
        profile.latitude, profile.longitude = found.latitude, found.longitude
        profile.city, profile.state, profile.postal_code = city, state, ""
        profile.location_label = found.address
        zips = found.raw.get("zip_codes") if isinstance(found.raw, dict) else None
        first = lookup_zip(zips[0]) if zips else None
        profile.timezone = first.timezone if first else None
    profile.address = address


def update_profile(profile: TherapistProfile, form, geocoder) -> None:
    """Apply a validated ProfileForm; one transaction, nothing written on error."""
    try:
        place_profile(
            profile,
            address=(form.address.data or "").strip(),
            city=(form.city.data or "").strip(),
            state=form.state.data or "",
            postal_code=form.postal_code.data or "",
            geocoder=geocoder,
        )
        profile.name = form.name.data.strip()
        profile.user.name = profile.name
        profile.bio = (form.bio.data or "").strip()
        profile.gender = form.gender.data or None
        profile.languages = summary.languages_text(form.languages.data)
        profile.years_experience = form.years_experience.data
        profile.hsa_fsa = bool(form.hsa_fsa.data)
        profile.accepting_new_clients = bool(form.accepting_new_clients.data)
        radius = form.mobile_radius_miles.data
        profile.mobile_radius_miles = float(radius) if radius else None
        have = {t.technique: t for t in profile.techniques}
        profile.techniques = [have.get(t) or TherapistTechnique(technique=t) for t in form.techniques.data]
        prices = form.prices()
        have_prices = {p.minutes: p for p in profile.prices}
        profile.prices = [have_prices.get(m) or SessionPrice(minutes=m) for m in sorted(prices)]
        for price in profile.prices:
            price.amount = prices[price.minutes]
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise


def set_photo(profile: TherapistProfile, storage) -> None:
    checked = uploads.check_photo(storage)
    old = profile.photo
    profile.photo = uploads.store("photos", checked)
    db.session.commit()
    uploads.remove("photos", old)


def remove_photo(profile: TherapistProfile) -> None:
    old, profile.photo = profile.photo, None
    db.session.commit()
    uploads.remove("photos", old)


def _save_document(owner_id: int, storage) -> Document:
    checked = uploads.check_document(storage)
    document = Document(
        owner_id=owner_id,
        stored_name=uploads.store("documents", checked),
        original_name=checked.original_name,
        content_type=checked.content_type,
        size=len(checked.data),
        sha256=checked.sha256,
    )
    db.session.add(document)
    return document


def _back_to_pending(credential) -> None:
    credential.status = CredentialStatus.PENDING
    credential.verified_at = credential.verified_by_id = credential.verified_via = None
    credential.rejection_reason = None
    credential.submitted_at = utcnow()


@dataclass
class LicenseChange:
    license: License
    returned_to_pending: bool


def save_license(profile: TherapistProfile, form, license: License | None = None) -> LicenseChange:
    """Add a license, or change one. Changing what was verified sends it back for checking."""
    number, state = form.number.data.strip().upper(), form.state.data
    credential = form.credential.data or None
    clash = db.session.scalar(select(License).where(License.state == state, License.number == number))
    if clash is not None and clash is not license:
        raise ProfileError("number", f"License {state} {number} is already on file. If it is yours, contact us.")
    has_file = bool(form.document.data and getattr(form.document.data, "filename", ""))
    if license is None and not has_file:
        raise ProfileError("document", "Attach a scan or photo of the license.")
    try:
        document = _save_document(profile.user_id, form.document.data) if has_file else None
    except uploads.UploadError as exc:
        raise ProfileError("document", str(exc)) from None
    try:
        if license is None:
            license = License(
                therapist=profile,
                number=number,
                state=state,
                expires_on=form.expires_on.data,
                credential=credential,
                document=document,
            )
            db.session.add(license)
            changed = True
        else:
            changed = (license.number, license.state, license.expires_on, license.credential) != (
                number,
                state,
                form.expires_on.data,
                credential,
            ) or document is not None
            license.number, license.state, license.expires_on, license.credential = (
                number,
                state,
                form.expires_on.data,
                credential,
            )
            if document is not None:
                license.document = document
        was_verified = license.status == CredentialStatus.VERIFIED
        if changed and license.status != CredentialStatus.PENDING:
            _back_to_pending(license)
        db.session.commit()
    except Exception:
        db.session.rollback()
        if document is not None:
            uploads.remove("documents", document.stored_name)
        raise
    return LicenseChange(license, changed and was_verified)


def save_certification(profile: TherapistProfile, form) -> Certification:
    """Add a certification, or submit a new document for one; either way it waits for checking."""
    has_file = bool(form.document.data and getattr(form.document.data, "filename", ""))
    if not has_file:
        raise ProfileError("document", "Attach the certificate.")
    try:
        document = _save_document(profile.user_id, form.document.data)
    except uploads.UploadError as exc:
        raise ProfileError("document", str(exc)) from None
    cert = next((c for c in profile.certifications if c.slug == form.slug.data), None)
    if cert is None:
        cert = Certification(slug=form.slug.data)
        profile.certifications.append(cert)
    cert.issuer = (form.issuer.data or "").strip() or None
    cert.expires_on = form.expires_on.data
    cert.document = document
    _back_to_pending(cert)
    db.session.commit()
    return cert


def owned_license(profile: TherapistProfile, license_id: int) -> License | None:
    return next((lic for lic in profile.licenses if lic.id == license_id), None)


def owned_document(user, document_id: int) -> Document | None:
    """The document if this user may read it: its owner, or an admin."""
    document = db.session.get(Document, document_id)
    if document is None or not (document.owner_id == user.id or user.is_admin):
        return None
    return document


@dataclass(frozen=True)
class Step:
    done: bool
    text: str
    endpoint: str


def completeness(profile: TherapistProfile) -> tuple[int, list[Step]]:
    """How complete the profile is (percent) and the steps, in the order to take them."""
    licenses = profile.licenses
    steps = [
        Step(profile.user.email_confirmed_at is not None, "Confirm your email address", "account.dashboard"),
        Step(profile.latitude is not None, "Add your practice location", "account.profile"),
        Step(bool(profile.techniques), "Choose the techniques you offer", "account.profile"),
        Step(bool(profile.prices), "Set your prices", "account.profile"),
        Step(len(profile.bio or "") >= 80, "Write a bio of a few sentences", "account.profile"),
        Step(profile.photo is not None, "Add a photo", "account.profile"),
        Step(bool(licenses), "Submit your license", "account.credentials"),
        Step(any(lic.is_current for lic in licenses), "Get your license verified", "account.credentials"),
    ]
    percent = round(100 * sum(s.done for s in steps) / len(steps))
    return percent, steps


def pending_requests(profile: TherapistProfile) -> int:
    """Booking requests waiting for this therapist's answer."""
    from sqlalchemy import func

    from ..models import Booking, BookingStatus

    return (
        db.session.scalar(
            select(func.count(Booking.id)).where(
                Booking.therapist_id == profile.id, Booking.status == BookingStatus.PENDING
            )
        )
        or 0
    )
