"""Bulk import of therapists from the CSV format in the domain notes.

All-or-nothing by default: every row is checked first, every bad row is
reported with its line number, and nothing is written unless all rows pass.
A therapist is identified by (license_state, license_number), so importing
the same row again updates it.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import select

from ..extensions import db
from ..geo import PlaceNotFound, lookup_zip
from ..matching import summary
from ..matching.vocabulary import CERTIFICATIONS, GENDERS, LANGUAGES, SESSION_LENGTHS, STATES, TECHNIQUES
from ..models import (
    Certification,
    CredentialStatus,
    License,
    Role,
    SessionPrice,
    TherapistProfile,
    TherapistTechnique,
    User,
)

COLUMNS = (
    "name",
    "email",
    "license_number",
    "license_state",
    "license_expires",
    "techniques",
    "certifications",
    "price_30",
    "price_45",
    "price_60",
    "price_90",
    "address",
    "city",
    "state",
    "postal_code",
    "latitude",
    "longitude",
    "gender",
    "languages",
    "hsa_fsa",
    "accepting_new_clients",
    "mobile_radius_miles",
    "bio",
)
REQUIRED_COLUMNS = ("name", "email", "license_number", "license_state", "license_expires", "techniques")
MAX_PRICE = Decimal("1000")
MAX_MOBILE_RADIUS = 100.0
IMPORT_VIA = "bulk import"


@dataclass
class TherapistRow:
    line: int
    name: str
    email: str
    license_number: str
    license_state: str
    license_expires: date
    techniques: list[str]
    certifications: list[str]
    prices: dict[int, Decimal]
    address: str
    city: str
    state: str
    postal_code: str
    latitude: float
    longitude: float
    timezone: str | None
    gender: str | None
    languages: list[str]
    hsa_fsa: bool
    accepting_new_clients: bool
    mobile_radius_miles: float | None
    bio: str
    years_experience: int | None = None  # not in the CSV; kept when the row has none


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


class RowError(ValueError):
    pass


def _list(value: str) -> list[str]:
    return [item.strip() for item in (value or "").split(";") if item.strip()]


def _slugs(value: str, allowed: dict, column: str) -> list[str]:
    items = [s.lower() for s in _list(value)]
    unknown = [s for s in items if s not in allowed]
    if unknown:
        raise RowError(
            f"{column}: unknown {'value' if len(unknown) == 1 else 'values'} "
            f"{', '.join(repr(u) for u in unknown)}; allowed: {', '.join(allowed)}"
        )
    return list(dict.fromkeys(items))


def _yes_no(value: str, column: str, default: bool) -> bool:
    value = (value or "").strip().lower()
    if not value:
        return default
    if value in ("yes", "no"):
        return value == "yes"
    raise RowError(f"{column}: {value!r} is not yes or no")


def _float(value: str, column: str, low: float, high: float) -> float | None:
    value = (value or "").strip()
    if not value:
        return None
    try:
        number = float(value)
    except ValueError:
        raise RowError(f"{column}: {value!r} is not a number") from None
    if not low <= number <= high:
        raise RowError(f"{column}: {value} is outside {low:g} to {high:g}")
    return number


def _prices(raw: dict[str, str]) -> dict[int, Decimal]:
    prices: dict[int, Decimal] = {}
    for minutes in SESSION_LENGTHS:
        column = f"price_{minutes}"
        value = (raw.get(column) or "").strip().lstrip("$")
        if not value:
            continue
        try:
            amount = Decimal(value)
        except InvalidOperation:
            raise RowError(f"{column}: {value!r} is not a price in dollars, e.g. 95 or 95.50") from None
        if not amount.is_finite() or amount < 0:
            raise RowError(f"{column}: the price cannot be negative ({value})")
        if amount > MAX_PRICE or amount == 0:
            raise RowError(f"{column}: {value} is outside the allowed range of $1 to ${MAX_PRICE}")
        prices[minutes] = amount.quantize(Decimal("0.01"))
    if not prices:
        raise RowError("price: give at least one of price_30, price_45, price_60, price_90")
    return prices


def parse_row(line: int, raw: dict[str, str], geocoder) -> TherapistRow:
    """Check one CSV row; raise RowError naming everything wrong with it."""
    problems: list[str] = []

    def take(fn, *args):
        try:
            return fn(*args)
        except RowError as exc:
            problems.append(str(exc))
            return None

    get = lambda col: " ".join((raw.get(col) or "").split())
    name = get("name")
    if not name:
        problems.append("name: missing")
    email = get("email")
    try:
        email = validate_email(email, check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        problems.append(f"email: {email!r} is not a valid email address ({exc})" if email else "email: missing")
    number = get("license_number").upper()
    if not number:
        problems.append("license_number: missing")
    license_state = get("license_state").upper()
    if license_state not in STATES:
        problems.append(
            f"license_state: {license_state!r} is not a two-letter US state code"
            if license_state
            else "license_state: missing"
        )
    expires = None
    try:
        expires = date.fromisoformat(get("license_expires"))
    except ValueError:
        problems.append(f"license_expires: {get('license_expires')!r} is not a date in YYYY-MM-DD form")
    techniques = take(_slugs, raw.get("techniques"), TECHNIQUES, "techniques")
    if techniques == []:
        problems.append("techniques: list at least one technique, separated by ';'")
    certifications = take(_slugs, raw.get("certifications"), CERTIFICATIONS, "certifications")
    prices = take(_prices, raw)
    gender = get("gender").lower() or None
    if gender and gender not in GENDERS:
        problems.append(f"gender: {gender!r} is not one of {', '.join(GENDERS)}")
    languages = take(_slugs, raw.get("languages"), LANGUAGES, "languages") or ["en"]
    hsa_fsa = take(_yes_no, raw.get("hsa_fsa"), "hsa_fsa", False)
    accepting = take(_yes_no, raw.get("accepting_new_clients"), "accepting_new_clients", True)
    mobile_radius = take(_float, raw.get("mobile_radius_miles"), "mobile_radius_miles", 0, MAX_MOBILE_RADIUS)
    place = _place(raw, get, problems, geocoder)
    if problems:
        raise RowError("; ".join(problems))
    return TherapistRow(
        line=line,
        name=name,
        email=email,
        license_number=number,
        license_state=license_state,
        license_expires=expires,
        techniques=techniques,
        certifications=certifications,
        prices=prices,
        gender=gender,
        languages=languages,
        hsa_fsa=hsa_fsa,
        accepting_new_clients=accepting,
        mobile_radius_miles=mobile_radius,
        bio=(raw.get("bio") or "").strip(),
        **place,
    )


def _place(raw, get, problems: list[str], geocoder) -> dict:
    """Address fields and coordinates, geocoded when the row gives none."""
    address, city, state, postal = get("address"), get("city"), get("state").upper(), get("postal_code")
    if state and state not in STATES:
        problems.append(f"state: {state!r} is not a two-letter US state code")
    zip_place = None
    if postal:
        zip_place = lookup_zip(postal)
        if zip_place is None:
            problems.append(f"postal_code: {postal!r} is not a known US ZIP code")
    try:
        lat = _float(raw.get("latitude"), "latitude", -90, 90)
        lon = _float(raw.get("longitude"), "longitude", -180, 180)
    except RowError as exc:
        problems.append(str(exc))
        return {}
    if (lat is None) != (lon is None):
        problems.append("latitude/longitude: give both or neither")
        return {}
    if lat is None:
        if zip_place is not None:
            lat, lon = zip_place.latitude, zip_place.longitude
        elif not postal:
            query = ", ".join(p for p in (address, city, state) if p)
            if not query:
                problems.append(
                    "location: give a postal_code, an address with city and state, or latitude and longitude"
                )
                return {}
            try:
                found = geocoder.geocode(query)
            except PlaceNotFound as exc:
                problems.append(f"address: {exc}")
                return {}
            lat, lon = found.latitude, found.longitude
        else:
            return {}
    return {
        "address": address,
        "city": city or (zip_place.city if zip_place else ""),
        "state": state or (zip_place.state if zip_place else ""),
        "postal_code": zip_place.zip_code if zip_place else postal,
        "latitude": lat,
        "longitude": lon,
        "timezone": zip_place.timezone if zip_place else None,
    }


def read_rows(text: str, geocoder) -> tuple[list[TherapistRow], list[tuple[int, str]]]:
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    reader.fieldnames = header
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    unknown = [c for c in header if c and c not in COLUMNS]
    if missing or unknown:
        parts = []
        if missing:
            parts.append("missing columns: " + ", ".join(missing))
        if unknown:
            parts.append("unknown columns: " + ", ".join(unknown))
        return [], [(1, "header: " + "; ".join(parts) + ". Expected: " + ", ".join(COLUMNS))]

    rows, errors = [], []
    seen_license: dict[tuple[str, str], int] = {}
    seen_email: dict[str, int] = {}
    start = reader.line_num + 1
    for raw in reader:
        line, start = start, reader.line_num + 1
        if not any((v or "").strip() for k, v in raw.items() if k):
            continue
        if None in raw:
            errors.append((line, f"row has {len(header) + len(raw[None])} fields; the header has {len(header)}"))
            continue
        try:
            row = parse_row(line, raw, geocoder)
        except RowError as exc:
            errors.append((line, str(exc)))
            continue
        key = (row.license_state, row.license_number)
        if key in seen_license:
            errors.append((line, f"license {key[0]} {key[1]} already appears on line {seen_license[key]}"))
            continue
        if row.email in seen_email:
            errors.append((line, f"email {row.email} already appears on line {seen_email[row.email]}"))
            continue
        seen_license[key], seen_email[row.email] = line, line
        rows.append(row)
    return rows, errors


def import_therapists(text: str, geocoder, *, verified: bool = False, on: date | None = None) -> ImportReport:
    """Check every row, then write them all in one transaction (or nothing)."""
    report = ImportReport()
    rows, report.errors = read_rows(text, geocoder)
    if not report.errors:
        report.errors = _conflicts(rows)
    if report.errors:
        return report
    if not rows:
        report.errors = [(1, "the file has no therapist rows")]
        return report
    now = datetime.now(UTC)
    try:
        for row in rows:
            _, created = save_row(row, verified=verified, now=now)
            report.created += created
            report.updated += not created
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return report


def _conflicts(rows: list[TherapistRow]) -> list[tuple[int, str]]:
    """Emails already held by a different therapist (or a non-therapist account)."""
    errors = []
    for row in rows:
        user = db.session.scalar(select(User).filter_by(email=row.email))
        if user is None:
            continue
        lic = _find_license(row)
        if user.role != Role.THERAPIST:
            errors.append((row.line, f"email {row.email} belongs to an existing {user.role.value} account"))
        elif lic is not None and lic.therapist.user_id != user.id:
            errors.append((row.line, f"email {row.email} belongs to a different therapist"))
    return errors


def _find_license(row: TherapistRow) -> License | None:
    return db.session.scalar(select(License).filter_by(state=row.license_state, number=row.license_number))


def save_row(row: TherapistRow, *, verified: bool, now: datetime) -> tuple[TherapistProfile, bool]:
    """Create or update the therapist for `row`; the profile, and True when created."""
    lic = _find_license(row)
    created = lic is None
    if created:
        user = db.session.scalar(select(User).filter_by(email=row.email))
        profile = user.therapist if user is not None else None
        if user is None:
            user = User(email=row.email, role=Role.THERAPIST, name=row.name)
            db.session.add(user)
        if profile is None:
            profile = TherapistProfile(user=user, name=row.name, latitude=row.latitude, longitude=row.longitude)
            db.session.add(profile)
        lic = License(
            therapist=profile,
            state=row.license_state,
            number=row.license_number,
            expires_on=row.license_expires,
            submitted_at=now,
        )
        db.session.add(lic)
    profile = lic.therapist
    profile.user.email, profile.user.name = row.email, row.name
    for attr in (
        "name",
        "address",
        "city",
        "state",
        "postal_code",
        "latitude",
        "longitude",
        "timezone",
        "gender",
        "hsa_fsa",
        "accepting_new_clients",
        "mobile_radius_miles",
        "bio",
    ):
        setattr(profile, attr, getattr(row, attr))
    profile.languages = summary.languages_text(row.languages)
    if row.years_experience is not None:
        profile.years_experience = row.years_experience
    if lic.expires_on != row.license_expires:
        lic.expires_on = row.license_expires
        lic.status = CredentialStatus.PENDING  # a changed expiry must be checked again
        lic.verified_at = lic.verified_by_id = lic.verified_via = None
    if verified:
        mark_verified(lic, now)
    have_techniques = {t.technique: t for t in profile.techniques}
    profile.techniques = [have_techniques.get(t) or TherapistTechnique(technique=t) for t in row.techniques]
    have_prices = {p.minutes: p for p in profile.prices}
    profile.prices = [have_prices.get(m) or SessionPrice(minutes=m) for m in sorted(row.prices)]
    for price in profile.prices:
        price.amount = row.prices[price.minutes]
    kept = {c.slug: c for c in profile.certifications}
    profile.certifications = [
        kept.get(slug) or Certification(slug=slug, submitted_at=now) for slug in row.certifications
    ]
    if verified:
        for cert in profile.certifications:
            mark_verified(cert, now)
    return profile, created


def mark_verified(credential, now: datetime) -> None:
    if credential.status != CredentialStatus.VERIFIED:
        credential.status = CredentialStatus.VERIFIED
        credential.verified_at = now
        credential.verified_by_id = None
        credential.verified_via = IMPORT_VIA
        credential.rejection_reason = None
