"""Bulk import of therapists from the CSV format in the domain notes.

All-or-nothing: every row is checked first, every bad row is reported with its
line number, and nothing is written unless all rows pass. A therapist is
identified by (license_state, license_number), so importing the same row again
updates it. The import reads the CSV's text formats here; the rules a value
must meet (lengths, price range, the no-license states...) are the profile
service's (profiles.py), the same ones the profile editor applies, and the
writes go through it too.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import select

from ..extensions import db
from ..geocoding import PracticePlace
from ..models import CredentialStatus, Role, TherapistProfile, User
from ..service_errors import ServiceError
from ..vocabulary import CERTIFICATIONS, GENDERS, LANGUAGES, SESSION_LENGTHS, STATES, TECHNIQUES
from . import profiles

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
IMPORT_VIA = "bulk import"
MAX_FIELD_BYTES = 64 * 1024  # far above any real value; keeps a hostile file from costing memory
EMAIL_MAX = 254
# Where each rule's field is found in the CSV.
PROFILE_COLUMNS = {"latitude": "latitude", "mobile_radius_miles": "mobile_radius_miles"}
LICENSE_COLUMNS = {"number": "license_number", "state": "license_state", "expires_on": "license_expires"}


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
    latitude: float | None  # None until the row is placed (geocoded)
    longitude: float | None
    timezone: str | None
    gender: str | None
    languages: list[str]
    hsa_fsa: bool
    accepting_new_clients: bool
    mobile_radius_miles: float | None
    bio: str
    years_experience: int | None = None  # not in the CSV; kept when the row has none
    label: str = ""

    def profile_data(self) -> profiles.ProfileData:
        return profiles.ProfileData(
            name=self.name,
            techniques=tuple(self.techniques),
            prices=self.prices,
            languages=tuple(self.languages),
            bio=self.bio,
            gender=self.gender,
            years_experience=self.years_experience,
            hsa_fsa=self.hsa_fsa,
            accepting_new_clients=self.accepting_new_clients,
            mobile_radius_miles=self.mobile_radius_miles,
            address=self.address,
            city=self.city,
            state=self.state,
            postal_code=self.postal_code,
            latitude=self.latitude,
            longitude=self.longitude,
        )

    def license_data(self) -> profiles.LicenseData:
        return profiles.LicenseData(
            self.license_number,
            self.license_state,
            self.license_expires,
            profiles.imported_credential(self.license_state),
        )

    def place(self) -> PracticePlace:
        assert self.latitude is not None and self.longitude is not None, "the row was placed when it was read"
        label = self.label or (f"{self.city}, {self.state} {self.postal_code}".strip(", ") if self.city else "")
        return PracticePlace(
            self.latitude, self.longitude, self.address, self.city, self.state, self.postal_code, label, self.timezone
        )


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
            f"{', '.join(repr(u[:40]) for u in unknown[:5])}; allowed: {', '.join(allowed)}"
        )
    return list(dict.fromkeys(items))


def _yes_no(value: str, column: str, default: bool) -> bool:
    value = (value or "").strip().lower()
    if not value:
        return default
    if value in ("yes", "no"):
        return value == "yes"
    raise RowError(f"{column}: {value[:40]!r} is not yes or no")


def _float(value: str, column: str) -> float | None:
    value = (value or "").strip()
    if not value:
        return None
    try:
        number = float(value)
    except ValueError:
        raise RowError(f"{column}: {value[:40]!r} is not a number") from None
    if number != number or number in (float("inf"), float("-inf")):
        raise RowError(f"{column}: {value[:40]!r} is not a number")
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
            raise RowError(f"{column}: {value[:40]!r} is not a price in dollars, e.g. 95 or 95.50") from None
        prices[minutes] = amount
    return prices


def parse_row(line: int, raw: dict[str, str], geocoder) -> TherapistRow:
    """Check one CSV row; raise RowError naming everything wrong with it."""
    problems: list[str] = []
    flagged: set[str] = set()

    def take(column: str, fn, *args):
        try:
            return fn(*args)
        except RowError as exc:
            problems.append(str(exc))
            flagged.add(column)
            return None

    def flag(column: str, message: str) -> None:
        problems.append(f"{column}: {message}")
        flagged.add(column)

    get = lambda col: " ".join((raw.get(col) or "").split())
    for column, value in raw.items():
        if column and value and "\x00" in value:
            flag(column, "holds a NUL byte (\\0); remove it")
    if problems:
        raise RowError("; ".join(problems))
    name = get("name")
    if not name:
        flag("name", "missing")
    email = get("email")
    try:
        if len(email) > EMAIL_MAX:
            raise EmailNotValidError(f"longer than {EMAIL_MAX} characters")
        email = validate_email(email, check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        flag("email", f"{email[:60]!r} is not a valid email address ({exc})" if email else "missing")
    number = get("license_number").upper()
    if not number:
        flag("license_number", "missing")
    license_state = get("license_state").upper()
    if license_state not in STATES:
        flag(
            "license_state",
            f"{license_state[:20]!r} is not a two-letter US state code" if license_state else "missing",
        )
    expires = None
    try:
        expires = date.fromisoformat(get("license_expires"))
    except ValueError:
        flag("license_expires", f"{get('license_expires')[:40]!r} is not a date in YYYY-MM-DD form")
    techniques = take("techniques", _slugs, raw.get("techniques"), TECHNIQUES, "techniques")
    if techniques == []:
        flag("techniques", "list at least one technique, separated by ';'")
    certifications = take("certifications", _slugs, raw.get("certifications"), CERTIFICATIONS, "certifications")
    prices = take("price", _prices, raw)
    if prices == {}:
        flag("price", "give at least one of price_30, price_45, price_60, price_90")
    gender = get("gender").lower() or None
    if gender and gender not in GENDERS:
        flag("gender", f"{gender[:20]!r} is not one of {', '.join(GENDERS)}")
    languages = take("languages", _slugs, raw.get("languages"), LANGUAGES, "languages") or ["en"]
    hsa_fsa = take("hsa_fsa", _yes_no, raw.get("hsa_fsa"), "hsa_fsa", False)
    accepting = take("accepting_new_clients", _yes_no, raw.get("accepting_new_clients"), "accepting_new_clients", True)
    mobile_radius = take("mobile_radius_miles", _float, raw.get("mobile_radius_miles"), "mobile_radius_miles")
    lat = take("latitude", _float, raw.get("latitude"), "latitude")
    lon = take("longitude", _float, raw.get("longitude"), "longitude")
    if (lat is None) != (lon is None) and not {"latitude", "longitude"} & flagged:
        flag("latitude/longitude", "give both or neither")
    row = TherapistRow(
        line=line,
        name=name,
        email=email,
        license_number=number,
        license_state=license_state,
        license_expires=expires or date.max,
        techniques=techniques or [],
        certifications=certifications or [],
        prices=prices or {},
        address=get("address"),
        city=get("city"),
        state=get("state").upper(),
        postal_code=get("postal_code"),
        latitude=lat,
        longitude=lon,
        timezone=None,
        gender=gender,
        languages=languages,
        hsa_fsa=bool(hsa_fsa),
        accepting_new_clients=accepting if accepting is not None else True,
        mobile_radius_miles=mobile_radius,
        bio=(raw.get("bio") or "").strip(),
    )
    # The shared rules, for what parsed; each reported once, at its column.
    rule_problems = [
        (PROFILE_COLUMNS.get(p.field or "", p.field), p) for p in profiles.check_profile(row.profile_data())
    ]
    if expires is not None and license_state in STATES and number:
        rule_problems += [
            (LICENSE_COLUMNS.get(p.field or "", p.field), p)
            for p in profiles.check_license(row.license_data(), require_future=False)
        ]
    for rule_column, problem in rule_problems:
        column = rule_column or "row"
        if column.startswith("price") and "price" in flagged:
            continue
        if column not in flagged and not (column == "postal_code" and "latitude/longitude" in flagged):
            flag(column, str(problem))
    if not problems:
        _place(row, geocoder, flag)
    if problems:
        raise RowError("; ".join(problems))
    return row


def _place(row: TherapistRow, geocoder, flag) -> None:
    """Coordinates and the address parts, resolved as the profile editor resolves them."""
    try:
        where = profiles.place(row.profile_data(), geocoder)
    except ServiceError as exc:
        column = {"city": "address"}.get(exc.field or "", exc.field or "location")
        prefix = "" if column != "postal_code" else f"{row.postal_code[:20]!r} is not a known US ZIP code: "
        flag(column, prefix + str(exc))
        return
    row.latitude, row.longitude, row.timezone = where.latitude, where.longitude, where.timezone
    row.city, row.state, row.postal_code, row.label = where.city, where.state, where.postal_code, where.label


def read_rows(text: str, geocoder) -> tuple[list[TherapistRow], list[tuple[int, str]]]:
    csv.field_size_limit(MAX_FIELD_BYTES)
    reader = csv.DictReader(io.StringIO(text, newline=""))
    try:
        header = [h.strip().lower() for h in (reader.fieldnames or [])]
    except csv.Error as exc:
        return [], [(1, f"header: not readable as CSV ({exc})")]
    reader.fieldnames = header
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    unknown = [c for c in header if c and c not in COLUMNS]
    if missing or unknown:
        parts = []
        if missing:
            parts.append("missing columns: " + ", ".join(missing))
        if unknown:
            parts.append("unknown columns: " + ", ".join(u[:40] for u in unknown[:10]))
        return [], [(1, "header: " + "; ".join(parts) + ". Expected: " + ", ".join(COLUMNS))]

    rows, errors = [], []
    seen_license: dict[tuple[str, str], int] = {}
    seen_email: dict[str, int] = {}
    start = reader.line_num + 1
    while True:
        try:
            raw = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            errors.append((start, f"not readable as CSV ({exc}); a field may be over {MAX_FIELD_BYTES // 1024} KiB"))
            break  # the reader cannot find the next row reliably after this
        line, start = start, reader.line_num + 1
        if not any((v or "").strip() for k, v in raw.items() if k and isinstance(v, str)):
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
    """Emails already held by another account, and claimed accounts whose email a row would change."""
    errors = []
    for row in rows:
        lic = profiles.find_license(row.license_state, row.license_number)
        owner = lic.therapist.user if lic is not None else None
        if owner is not None and owner.email != row.email and owner.password_hash is not None:
            errors.append(
                (
                    row.line,
                    f"license {row.license_state} {row.license_number} belongs to an account its therapist has "
                    f"claimed; an import never changes that account's email ({row.email} given)",
                )
            )
            continue
        user = db.session.scalar(select(User).filter_by(email=row.email))
        if user is None:
            continue
        if user.role != Role.THERAPIST:
            errors.append((row.line, f"email {row.email} belongs to an existing {user.role.value} account"))
        elif lic is not None and lic.therapist.user_id != user.id:
            errors.append((row.line, f"email {row.email} belongs to a different therapist"))
    return errors


def save_row(row: TherapistRow, *, verified: bool, now: datetime) -> tuple[TherapistProfile, bool]:
    """Create or update the therapist for `row` (no commit); the profile, and True when created."""
    lic = profiles.find_license(row.license_state, row.license_number)
    created = lic is None
    if lic is None:
        user = db.session.scalar(select(User).filter_by(email=row.email))
        if user is None:
            user = User(email=row.email, role=Role.THERAPIST, name=row.name)
            db.session.add(user)
        profile = user.therapist or profiles.new_profile(user, row.name)
    else:
        profile = lic.therapist
    profile.user.email = row.email
    years = row.years_experience if row.years_experience is not None else profile.years_experience
    data = row.profile_data()
    profiles.apply_profile(profile, replace(data, years_experience=years), row.place())
    change = profiles.apply_license(profile, row.license_data(), lic)
    if verified:
        _verify(change.license, now)
    kept = {c.slug for c in profile.certifications}
    for slug in row.certifications:
        if slug not in kept:
            profiles.apply_certification(profile, profiles.CertificationData(slug)).submitted_at = now
    profile.certifications = [c for c in profile.certifications if c.slug in row.certifications]
    if verified:
        for cert in profile.certifications:
            _verify(cert, now)
    return profile, created


def _verify(credential, now: datetime) -> None:
    if credential.status != CredentialStatus.VERIFIED:
        credential.verify(via=IMPORT_VIA, at=now)
