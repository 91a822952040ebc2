"""The one writer of therapist profiles and their credentials.

The profile pages, the CSV import, the demo seed and the admin actions all
change a profile through this module, with one set of field rules
(`check_profile`, `check_license`). It takes plain data (`ProfileData`,
`LicenseData`, `CertificationData`) and raises `ServiceError` naming the field.
Functions named `apply_*` write without committing, for callers that make many
changes in one transaction (the import); the others commit, or roll back and
raise.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import BinaryIO

from sqlalchemy import select

from .. import clock, uploads
from .. import vocabulary as v
from ..extensions import db
from ..geocoding import PracticePlace, place_practice
from ..matching import summary
from ..models import (
    Certification,
    CredentialStatus,
    Document,
    License,
    SessionPrice,
    TherapistProfile,
    TherapistTechnique,
    User,
    utcnow,
)
from ..registry.npi import normalise_npi, npi_problem
from ..service_errors import Conflict, ServiceError, raise_all
from ..text_rules import one_line_problem

# The field rules, one set for every writer.
NAME_MAX = 120
BIO_MAX = 3000
MIN_PRICE, MAX_PRICE = Decimal("20"), Decimal("1000")
CENT = Decimal("0.01")
MAX_YEARS = 70
MAX_MOBILE_RADIUS = 100.0
ADDRESS_MAX, CITY_MAX = 200, 100
LICENSE_NUMBER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 .\-/]{2,39}$")
# An import names no credential: a row from a state that issues no license is
# taken as the credential therapists there hold.
IMPORTED_CREDENTIAL = {"CA": "camtc", "VT": "state_registration"}
IMPORTED_CREDENTIAL_DEFAULT = "national_board"


@dataclass(frozen=True)
class ProfileData:
    """What a therapist (or an import row) says about the practice."""

    name: str
    techniques: tuple[str, ...]
    prices: Mapping[int, Decimal]
    languages: tuple[str, ...] = ("en",)
    bio: str = ""
    gender: str | None = None
    years_experience: int | None = None
    hsa_fsa: bool = False
    accepting_new_clients: bool = True
    mobile_radius_miles: float | None = None
    address: str = ""
    city: str = ""
    state: str = ""
    postal_code: str = ""
    latitude: float | None = None
    longitude: float | None = None
    # National Provider Identifier: "" clears it; None leaves it as it is (the CSV import has no NPI column).
    npi: str | None = None


@dataclass(frozen=True)
class LicenseData:
    number: str
    state: str
    expires_on: date
    credential: str | None = None  # in a no-license state: what is held instead (see vocabulary)


@dataclass(frozen=True)
class CertificationData:
    slug: str
    issuer: str = ""
    expires_on: date | None = None


@dataclass(frozen=True)
class Upload:
    """A file as it came in: its name and a stream of its bytes."""

    filename: str
    stream: BinaryIO

    @classmethod
    def of(cls, storage) -> Upload | None:
        """From a werkzeug FileStorage (or None when no file was chosen)."""
        if storage is None or not getattr(storage, "filename", ""):
            return None
        return cls(storage.filename, storage.stream)


def _price_problem(amount: Decimal) -> str | None:
    if not amount.is_finite() or not (MIN_PRICE <= amount <= MAX_PRICE) or amount != amount.quantize(CENT):
        return f"Enter a price from ${MIN_PRICE} to ${MAX_PRICE} in dollars and cents, or leave it empty."
    return None


# The profile's one-line texts (text_rules.py): they go into mail headers, calendar
# files, CSV cells and feed records, where a line break breaks the line.
ONE_LINE_FIELDS = {
    "name": "name",
    "address": "street address",
    "city": "city",
    "state": "state",
    "postal_code": "ZIP code",
    "npi": "NPI",
}


def check_profile(data: ProfileData) -> list[ServiceError]:
    """Every problem with the data, each naming its field (empty when all is well)."""
    problems: list[ServiceError] = []

    def bad(name: str, message: str) -> None:
        problems.append(ServiceError(message, field=name))

    if not data.name.strip():
        bad("name", "Enter your name.")
    elif len(data.name) > NAME_MAX:
        bad("name", f"Use at most {NAME_MAX} characters for the name.")
    problems += [
        found
        for name, what in ONE_LINE_FIELDS.items()
        if (found := one_line_problem(getattr(data, name), name, what)) is not None
    ]
    if len(data.bio) > BIO_MAX:
        bad("bio", "Keep the bio under 3,000 characters.")
    if data.gender is not None and data.gender not in v.GENDERS:
        bad("gender", f"Gender must be one of: {', '.join(v.GENDERS)}.")
    unknown = [code for code in data.languages if code not in v.LANGUAGES]
    if unknown or not data.languages:
        bad("languages", f"Unknown language {unknown[0]!r}." if unknown else "Choose at least one language.")
    unknown = [slug for slug in data.techniques if slug not in v.TECHNIQUES]
    if unknown:
        bad("techniques", f"Unknown technique {unknown[0]!r}; allowed: {', '.join(v.TECHNIQUES)}.")
    elif not data.techniques:
        bad("techniques", "Choose at least one technique.")
    if data.years_experience is not None and not 0 <= data.years_experience <= MAX_YEARS:
        bad("years_experience", f"Enter a number of years from 0 to {MAX_YEARS}.")
    if data.mobile_radius_miles is not None and not 0 <= data.mobile_radius_miles <= MAX_MOBILE_RADIUS:
        bad("mobile_radius_miles", f"Travel distance must be between 0 and {MAX_MOBILE_RADIUS:g} miles.")
    for minutes, amount in sorted(data.prices.items()):
        if minutes not in v.SESSION_LENGTHS:
            bad("price_60", f"Sessions last {', '.join(map(str, v.SESSION_LENGTHS))} minutes.")
        elif (problem := _price_problem(amount)) is not None:
            bad(f"price_{minutes}", problem)
    if not data.prices:
        bad("price_60", "Give a price for at least one session length.")
    if len(data.address) > ADDRESS_MAX:
        bad("address", f"Use at most {ADDRESS_MAX} characters for the address.")
    if len(data.city) > CITY_MAX:
        bad("city", f"Use at most {CITY_MAX} characters for the city.")
    if data.state and data.state not in v.STATES:
        bad("state", "State must be a two-letter US state code such as IL or NY.")
    has_point = data.latitude is not None and data.longitude is not None
    if (data.latitude is None) != (data.longitude is None):
        bad("latitude", "Give both latitude and longitude, or neither.")
    elif has_point and not (-90 <= data.latitude <= 90 and -180 <= data.longitude <= 180):  # type: ignore[operator]
        bad("latitude", "Latitude must be between -90 and 90 and longitude between -180 and 180.")
    if not has_point and not data.postal_code.strip() and not (data.city.strip() and data.state):
        bad("postal_code", "Enter your ZIP code, or your city and state, so clients nearby can find you.")
    if data.npi and (problem := npi_problem(normalise_npi(data.npi))) is not None:
        bad("npi", problem)
    return problems


def check_license(data: LicenseData, *, require_future: bool = True, today: date | None = None) -> list[ServiceError]:
    """The license rules. An import may record a lapsed license (`require_future=False`):
    it is a fact about the therapist, and a lapsed license is never listed anyway."""
    problems: list[ServiceError] = []
    if not LICENSE_NUMBER.match(data.number):
        problems.append(
            ServiceError("Use letters, digits, spaces, dots, dashes or slashes: 3 to 40 characters.", field="number")
        )
    if data.state not in v.STATES:
        problems.append(ServiceError("Choose a US state or DC from the list.", field="state"))
    elif data.credential is not None and data.credential not in v.CREDENTIAL_KINDS:
        problems.append(ServiceError("Choose one of the listed credentials.", field="credential"))
    else:
        issues_none = data.state in v.NO_LICENSE_STATES
        if issues_none and not data.credential:
            message = f"{v.NO_LICENSE_STATES[data.state]}. Choose the credential you hold above."
            problems.append(ServiceError(message, field="state"))
        if data.credential and not issues_none:
            message = f"{v.STATES[data.state]} issues massage licenses: submit your state license."
            problems.append(ServiceError(message, field="state"))
    if require_future and data.expires_on <= (today or clock.listing_day(data.state)):
        message = "The expiry date must be in the future. An expired license cannot be listed."
        problems.append(ServiceError(message, field="expires_on"))
    return problems


def imported_credential(state: str) -> str | None:
    """The credential an imported row stands for: none (a state license) where the state licenses."""
    if state not in v.NO_LICENSE_STATES:
        return None
    return IMPORTED_CREDENTIAL.get(state, IMPORTED_CREDENTIAL_DEFAULT)


# Creating and changing profiles.


def new_profile(user: User, name: str) -> TherapistProfile:
    """An empty profile for a therapist account (not committed)."""
    profile = TherapistProfile(user=user, name=name.strip())
    db.session.add(profile)
    return profile


def ensure_profile(user: User) -> TherapistProfile:
    """A therapist account always has a profile to fill in (made on first visit if missing)."""
    if user.therapist is None:
        new_profile(user, user.name or user.email.split("@")[0])
        db.session.commit()
    if user.therapist is None:  # new_profile attaches it
        raise RuntimeError("new_profile did not attach a profile")
    return user.therapist


def place(data: ProfileData, geocoder) -> PracticePlace:
    return place_practice(
        geocoder,
        address=data.address.strip(),
        city=data.city.strip(),
        state=data.state,
        postal_code=data.postal_code.strip()[:5],
        latitude=data.latitude,
        longitude=data.longitude,
    )


def profile_values(data: ProfileData, where: PracticePlace) -> dict:
    """The profile's columns for checked data at its resolved place: how each value is stored
    (apply_profile sets them on one profile; the bulk import writes them for many)."""
    return {
        "name": data.name.strip(),
        "bio": data.bio.strip(),
        "gender": data.gender or None,
        "languages": summary.languages_text(data.languages),
        "years_experience": data.years_experience,
        "hsa_fsa": data.hsa_fsa,
        "accepting_new_clients": data.accepting_new_clients,
        "mobile_radius_miles": data.mobile_radius_miles or None,
        "latitude": where.latitude,
        "longitude": where.longitude,
        "timezone": where.timezone,
        "address": where.address,
        "city": where.city,
        "state": where.state,
        "postal_code": where.postal_code,
        "location_label": where.label,
    }


def price_amounts(data: ProfileData) -> dict[int, Decimal]:
    """The prices as stored: in cents, by session length."""
    return {minutes: data.prices[minutes].quantize(CENT) for minutes in sorted(data.prices)}


def apply_profile(profile: TherapistProfile, data: ProfileData, where: PracticePlace) -> None:
    """Write checked data and its resolved place onto the profile (no commit)."""
    for column, value in profile_values(data, where).items():
        setattr(profile, column, value)
    profile.user.name = profile.name
    if data.npi is not None:
        profile.npi = normalise_npi(data.npi) or None
    have = {t.technique: t for t in profile.techniques}
    profile.techniques = [have.get(t) or TherapistTechnique(technique=t) for t in dict.fromkeys(data.techniques)]
    amounts = price_amounts(data)
    have_prices = {p.minutes: p for p in profile.prices}
    profile.prices = [have_prices.get(m) or SessionPrice(minutes=m) for m in amounts]
    for price in profile.prices:
        price.amount = amounts[price.minutes]


def update_profile(profile: TherapistProfile, data: ProfileData, geocoder) -> None:
    """The profile editor's save: check, place, write; one transaction, nothing written on error."""
    raise_all(check_profile(data))
    npi = normalise_npi(data.npi or "")
    holder = db.session.scalar(select(TherapistProfile.id).where(TherapistProfile.npi == npi)) if npi else None
    if holder not in (None, profile.id):
        raise Conflict(f"NPI {npi} is already on another profile. If it is yours, contact us.", field="npi")
    where = place(data, geocoder)
    try:
        apply_profile(profile, data, where)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise


def set_suspension(profile: TherapistProfile, *, suspended: bool, reason: str | None) -> None:
    """Suspend (gone from the directory at once, signed out everywhere) or lift a
    suspension (no commit: the admin service audits it)."""
    profile.suspended_at = utcnow() if suspended else None
    profile.suspension_reason = reason if suspended else None
    if suspended:
        profile.user.end_sessions()


# Photos.


def set_photo(profile: TherapistProfile, upload: Upload | None) -> None:
    if upload is None:
        raise uploads.UploadError("Choose a photo to upload.", field="photo")
    checked = uploads.check_photo(upload)
    old = profile.photo
    profile.photo = uploads.store("photos", checked)
    db.session.commit()
    uploads.remove("photos", old)


def remove_photo(profile: TherapistProfile) -> None:
    old, profile.photo = profile.photo, None
    db.session.commit()
    uploads.remove("photos", old)


# Credentials.


def _store_document(owner_id: int, upload: Upload) -> Document:
    checked = uploads.check_document(upload)
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


@dataclass
class LicenseChange:
    license: License
    returned_to_pending: bool
    created: bool = field(default=False)


def find_license(state: str, number: str) -> License | None:
    return db.session.scalar(select(License).where(License.state == state, License.number == number))


def apply_license(
    profile: TherapistProfile, data: LicenseData, license: License | None = None, *, document: Document | None = None
) -> LicenseChange:
    """Add a license or change one (no commit). A change to what was checked sends it back to pending."""
    if license is None:
        license = License(
            therapist=profile,
            number=data.number,
            state=data.state,
            expires_on=data.expires_on,
            credential=data.credential,
            document=document,
        )
        db.session.add(license)
        return LicenseChange(license, returned_to_pending=False, created=True)
    fields = (data.number, data.state, data.expires_on, data.credential)
    changed = (license.number, license.state, license.expires_on, license.credential) != fields
    license.number, license.state, license.expires_on, license.credential = fields
    if document is not None:
        license.document, changed = document, True
    was_verified = license.status == CredentialStatus.VERIFIED
    if changed and license.status != CredentialStatus.PENDING:
        license.submit()
    return LicenseChange(license, returned_to_pending=changed and was_verified)


def save_license(
    profile: TherapistProfile, data: LicenseData, license: License | None = None, *, upload: Upload | None = None
) -> LicenseChange:
    """A therapist adds or changes a license, with the document for a new one; one transaction."""
    data = LicenseData(data.number.strip().upper(), data.state, data.expires_on, data.credential or None)
    raise_all(check_license(data))
    clash = find_license(data.state, data.number)
    if clash is not None and clash is not license:
        raise Conflict(
            f"License {data.state} {data.number} is already on file. If it is yours, contact us.", field="number"
        )
    if license is None and upload is None:
        raise ServiceError("Attach a scan or photo of the license.", field="document")
    document = _document_or_field_error(profile, upload)
    with _committed(document):
        change = apply_license(profile, data, license, document=document)
    return change


@contextmanager
def _committed(document: Document | None):
    """Commit what the block wrote; if anything fails, roll back and remove the stored file."""
    try:
        yield
        db.session.commit()
    except Exception:
        db.session.rollback()
        if document is not None:
            uploads.remove("documents", document.stored_name)
        raise


def _document_or_field_error(profile: TherapistProfile, upload: Upload | None) -> Document | None:
    if upload is None:
        return None
    try:
        return _store_document(profile.user_id, upload)
    except uploads.UploadError as exc:
        raise ServiceError(str(exc), field="document") from None


def apply_certification(profile: TherapistProfile, data: CertificationData) -> Certification:
    """Add a certification or find the one held (no commit); its fields updated, its status untouched."""
    cert = next((c for c in profile.certifications if c.slug == data.slug), None)
    if cert is None:
        cert = Certification(slug=data.slug)
        profile.certifications.append(cert)
    cert.issuer = data.issuer.strip() or None
    cert.expires_on = data.expires_on
    return cert


def save_certification(profile: TherapistProfile, data: CertificationData, *, upload: Upload | None) -> Certification:
    """Add a certification, or submit a new document for one; either way it waits for checking."""
    if data.slug not in v.CERTIFICATIONS:
        raise ServiceError("Choose one of the listed certifications.", field="slug")
    if data.expires_on is not None and data.expires_on <= clock.listing_day(profile.state):
        raise ServiceError("The expiry date must be in the future.", field="expires_on")
    if upload is None:
        raise ServiceError("Attach the certificate.", field="document")
    document = _document_or_field_error(profile, upload)
    with _committed(document):
        cert = apply_certification(profile, data)
        cert.document = document
        cert.submit()
    return cert
