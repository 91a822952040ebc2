"""Import of therapists from the CSV format in the domain notes, at any size.

All-or-nothing: every row is checked, every bad row is reported with its line
number (the first 1,000, and how many in all), and nothing is written unless
all rows pass. A therapist is identified by (license_state, license_number),
so importing the same row again updates it. This module reads the CSV's text
formats; the rules a value must meet (lengths, price range, the no-license
states...) are the profile service's (profiles.py), the ones the profile
editor applies. The file is read once, a chunk at a time, into staging tables
(bulk.py) that the writes then read set-based: memory stays flat whatever the
length of the file.
"""

from __future__ import annotations

import csv
import heapq
import io
import operator
import re
import sys
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from itertools import islice
from typing import TextIO

from email_validator import EmailNotValidError, validate_email

from .. import clock
from ..extensions import db
from ..geo import GazetteerGeocoder
from ..geocoding import PracticePlace
from ..matching import summary
from ..models import new_session_token
from ..service_errors import ServiceError
from ..vocabulary import CERTIFICATIONS, GENDERS, LANGUAGES, SESSION_LENGTHS, STATES, TECHNIQUES
from . import bulk, profiles

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
# A line, or a value spanning lines, longer than this ends the reading: no value of
# the format comes near it (a bio has at most 3,000 characters), and it bounds memory.
# It is also the csv module's own limit on a value.
MAX_LINE = 128 * 1024
EMAIL_MAX = 254
LABEL_MAX = 200  # the profile's location label (an online geocoder may answer at length)
ERRORS_SHOWN = 1_000
CHUNK_ROWS = 5_000
VACUUM_AFTER = 1_000  # rows: a smaller import leaves it to autovacuum
# Characters no value may hold: NUL, and bytes that were not UTF-8 (read as lone surrogates).
BAD_TEXT = re.compile("[\x00\ud800-\udfff]")
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
    data: profiles.ProfileData | None = field(default=None, repr=False, compare=False)  # as checked
    # As placed (set with the fields above, which nothing changes afterwards): what place() gives.
    where: PracticePlace | None = field(default=None, repr=False, compare=False)

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
        if self.where is not None:
            return self.where
        if self.latitude is None or self.longitude is None:
            raise RuntimeError("the row was placed when it was read")
        label = self.label or (f"{self.city}, {self.state} {self.postal_code}".strip(", ") if self.city else "")
        return PracticePlace(
            self.latitude, self.longitude, self.address, self.city, self.state, self.postal_code, label, self.timezone
        )


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)  # the first ERRORS_SHOWN, by line
    error_count: int = 0  # all of them

    @property
    def ok(self) -> bool:
        return not self.errors


class RowError(ValueError):
    pass


def _list(value: str) -> list[str]:
    return [item.strip() for item in (value or "").split(";") if item.strip()]


# Texts longer than this are parsed without the caches (each cache keeps 4,096 entries: long
# ones would make the memory grow with what a hostile file sends, not with the vocabulary).
CACHED_TEXT_MAX = 400


def _cached(parse, value: str, column: str):
    """`parse(value, column)`, through its cache only when the text is short."""
    return (parse if len(value) <= CACHED_TEXT_MAX else parse.__wrapped__)(value, column)


def _slugs(value: str, column: str) -> list[str]:
    """The column's `;`-separated slugs, each once, checked against its vocabulary."""
    return list(_cached(_slugs_of, value or "", column))


VOCABULARIES = {"techniques": TECHNIQUES, "certifications": CERTIFICATIONS, "languages": LANGUAGES}


@lru_cache(maxsize=4096)  # a roster repeats a few dozen lists of techniques, certifications, languages
def _slugs_of(value: str, column: str) -> tuple[str, ...]:
    allowed = VOCABULARIES[column]
    items = [s.lower() for s in _list(value)]
    unknown = [s for s in items if s not in allowed]
    if unknown:
        raise RowError(
            f"{column}: unknown {'value' if len(unknown) == 1 else 'values'} "
            f"{', '.join(repr(u[:40]) for u in unknown[:5])}; allowed: {', '.join(allowed)}"
        )
    return tuple(dict.fromkeys(items))


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


PRICE_COLUMNS = tuple((minutes, f"price_{minutes}") for minutes in SESSION_LENGTHS)


def _prices(raw: dict[str, str]) -> dict[int, Decimal]:
    prices: dict[int, Decimal] = {}
    for minutes, column in PRICE_COLUMNS:
        value = raw.get(column)
        if value and (value := value.strip().lstrip("$")):
            prices[minutes] = _cached(_amount, value, column)
    return prices


@lru_cache(maxsize=4096)  # a roster repeats a few hundred prices
def _amount(value: str, column: str) -> Decimal:
    try:
        return Decimal(value)
    except InvalidOperation:
        raise RowError(f"{column}: {value[:40]!r} is not a price in dollars, e.g. 95 or 95.50") from None


def _joined(raw: dict) -> str:
    """The row's values in one string (those of named columns): what the text checks read."""
    if "" in raw or None in raw:  # a column without a name, or the extra fields of a long row
        return "".join(v for k, v in raw.items() if k and isinstance(v, str))
    return "".join(filter(None, raw.values()))  # (a short row's missing fields are None)


def parse_row(line: int, raw: dict[str, str], geocoder, text: str | None = None) -> TherapistRow:
    """Check one CSV row; raise RowError naming everything wrong with it. `text`: the
    row's values joined (`_joined`), when the caller has them already."""
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

    def get(column: str) -> str:
        value = raw.get(column)
        return " ".join(value.split()) if value else ""

    if BAD_TEXT.search(text if text is not None else _joined(raw)):
        for column, value in raw.items():
            if column and value and (bad := BAD_TEXT.search(value)):
                flag(column, "holds a NUL byte (\\0); remove it" if bad.group() == "\x00" else "is not UTF-8 text")
        raise RowError("; ".join(problems))
    name = get("name")
    if not name:
        flag("name", "missing")
    email = get("email")
    try:
        email = normalise_email(email)
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
    techniques = take("techniques", _slugs, raw.get("techniques"), "techniques")
    if techniques == []:
        flag("techniques", "list at least one technique, separated by ';'")
    certifications = take("certifications", _slugs, raw.get("certifications"), "certifications")
    prices = take("price", _prices, raw)
    if prices == {}:
        flag("price", "give at least one of price_30, price_45, price_60, price_90")
    gender = get("gender").lower() or None
    if gender and gender not in GENDERS:
        flag("gender", f"{gender[:20]!r} is not one of {', '.join(GENDERS)}")
    languages = take("languages", _slugs, raw.get("languages"), "languages") or ["en"]
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
    data = row.data = row.profile_data()
    rule_problems = [(PROFILE_COLUMNS.get(p.field or "", p.field), p) for p in profiles.check_profile(data)]
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
        _place(row, data, geocoder, flag)
    if problems:
        raise RowError("; ".join(problems))
    return row


def _place(row: TherapistRow, data: profiles.ProfileData, geocoder, flag) -> None:
    """Coordinates and the address parts, resolved as the profile editor resolves them."""
    try:
        where = profiles.place(data, geocoder)
    except ServiceError as exc:
        column = {"city": "address"}.get(exc.field or "", exc.field or "location")
        prefix = "" if column != "postal_code" else f"{row.postal_code[:20]!r} is not a known US ZIP code: "
        flag(column, prefix + str(exc))
        return
    row.latitude, row.longitude, row.timezone = where.latitude, where.longitude, where.timezone
    row.city, row.state, row.postal_code, row.label = where.city, where.state, where.postal_code, where.label
    row.where = where


Progress = Callable[[str, int], None]  # (phase, rows read so far): "checking", then "writing"


def import_therapists(
    source: TextIO | str, geocoder, *, verified: bool = False, progress: Progress | None = None
) -> ImportReport:
    """Check every row and write them all in one transaction (or nothing).

    The rows are read, checked and written a chunk at a time (bulk.py); PostgreSQL writes
    one chunk while this thread checks the next. Any bad row and the
    transaction is rolled back, so nothing is written. `source` is the file as text (open it
    with newline="" and, to report bytes that are not UTF-8 by line, errors="surrogateescape")."""
    fh = io.StringIO(source, newline="") if isinstance(source, str) else source
    report = ImportReport()
    writer: bulk.BulkWriter | None = None
    try:
        writer = bulk.BulkWriter(db.session.connection(), verified=verified, now=clock.now(), via=IMPORT_VIA)
        found = _Problems()
        # strict: a quote where it cannot be (`"a"b`) is an error at its line, not a guess
        reader = csv.DictReader(_lines(fh), strict=True)
        header_problem = _check_header(reader)
        if header_problem:
            found.add(1, header_problem)
        else:
            rows = _checked_rows(reader, _Remembering(geocoder), found)
            # Offline places touch no database, so on PostgreSQL the writes go on beside the
            # checks: the server works in a process of its own while psycopg waits without the
            # interpreter. SQLite works inside this process, and a thread beside it costs more in
            # handing the interpreter over than it gains (measured at 400,000 rows: 72-80 s
            # one after the other against 77-98 s beside, with more CPU).
            beside = isinstance(geocoder, GazetteerGeocoder) and writer.postgres
            with _Pipeline(beside) as pipeline:
                for chunk in _chunks(rows, CHUNK_ROWS):
                    ready = writer.chunk([staged(row, verified) for row in chunk])
                    found.extend(pipeline.wait())
                    pipeline.submit(writer.add, ready, write=not found.count)
                    if progress:
                        progress("checking", writer.staged + ready.count + found.count)
                if progress:
                    progress("writing", writer.staged + found.count)
                found.extend(pipeline.wait())
        if not found.count and not writer.staged:
            found.add(1, "the file has no therapist rows")
        if found.count:
            report.errors, report.error_count = found.sorted(), found.count
            db.session.rollback()  # the staging tables too
            return report
        report.created = writer.created()
        report.updated = writer.staged - report.created
        writer.discard()
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    finally:
        if writer is not None:
            writer.close()
    if writer.staged >= VACUUM_AFTER:
        bulk.vacuum(db.engine)
    return report


class _Pipeline:
    """Runs each chunk's database work in one thread beside this one (`beside`), or in
    this thread. One chunk at a time: `wait` before the next `submit`."""

    # While both threads run, the interpreter hands over between them every half millisecond
    # rather than every 5: the writing thread, back from the database, waits less for its turn
    # to send the next statement (measured: a tenth less time for the whole import).
    SWITCH_INTERVAL = 0.0005

    def __init__(self, beside: bool):
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="import") if beside else None
        self.pending: Future | None = None
        self.done: list = []
        self.interval = sys.getswitchinterval()

    def submit(self, fn, *args, **kwargs) -> None:
        if self.executor is None:
            self.done = fn(*args, **kwargs)
        else:
            self.pending = self.executor.submit(fn, *args, **kwargs)

    def wait(self) -> list:
        done, self.done = self.done, []
        if self.pending is not None:
            pending, self.pending = self.pending, None
            done = pending.result()
        return done

    def __enter__(self) -> _Pipeline:
        if self.executor is not None:
            sys.setswitchinterval(self.SWITCH_INTERVAL)
        return self

    def __exit__(self, *exc) -> None:
        if self.executor is not None:
            if self.pending is not None:  # an error in this thread: let the database finish first
                wait([self.pending])
            self.executor.shutdown()
            sys.setswitchinterval(self.interval)


def staged(row: TherapistRow, verified: bool) -> bulk.StagedRow:
    """A checked row as the staging tables hold it: the profile's columns as the profile
    service stores them, and the listing summary a new profile would have."""
    data = row.data or row.profile_data()
    values = profiles.profile_values(data, row.place())
    amounts = profiles.price_amounts(data)
    techniques, certifications = tuple(dict.fromkeys(row.techniques)), tuple(row.certifications)
    prices = tuple(amounts.items())
    techniques_text, certifications_text, prices_text = _summary_texts(techniques, certifications, prices)
    values.update(
        line=row.line,
        email=row.email,
        session_token=new_session_token(),
        location_label=values["location_label"][:LABEL_MAX],
        license_number=row.license_number,
        license_state=row.license_state,
        license_expires=row.license_expires,
        credential=profiles.imported_credential(row.license_state),
        listed_until=row.license_expires if verified else None,
        search_techniques=techniques_text,
        search_certifications=certifications_text if verified else "",
        search_prices=prices_text,
    )
    return bulk.StagedRow(_LOADED(values), techniques, certifications, amounts)


_LOADED = operator.itemgetter(*bulk.LOADED)  # a staged row's values, in the chunk table's column order


@lru_cache(maxsize=4096)  # a roster repeats a few hundred combinations
def _summary_texts(
    techniques: tuple[str, ...], certifications: tuple[str, ...], prices: tuple[tuple[int, Decimal], ...]
) -> tuple[str, str, str]:
    """The listing summary's text for a row's techniques, certifications (as verified) and prices."""
    return (
        summary.techniques_text(techniques),
        summary.certifications_text((c, None) for c in certifications),
        summary.prices_text(prices),
    )


class _Problems:
    """Bad rows as they are found, in line order: the first ERRORS_SHOWN kept, all counted."""

    def __init__(self, shown: list[tuple[int, str]] | None = None, count: int = 0):
        self.shown, self.count = shown or [], count

    def add(self, line: int, message: str) -> None:
        self.extend([(line, message)])

    def extend(self, more: Iterable[tuple[int, str]]) -> None:
        """Problems found by the database, for lines already passed: kept in line order."""
        for line, message in more:
            self.count += 1
            self.shown.append((line, message))
        if len(self.shown) > 2 * ERRORS_SHOWN:
            self.shown = self.sorted()

    def sorted(self) -> list[tuple[int, str]]:
        return heapq.nsmallest(ERRORS_SHOWN, self.shown)


class _Remembering:
    """The geocoder, keeping its latest answers for one import: a roster names the same
    towns thousands of times (and an online geocoder's cache need not be asked again)."""

    def __init__(self, geocoder):
        self.geocode = lru_cache(maxsize=10_000)(geocoder.geocode)


class _LineTooLong(ValueError):
    pass


def _lines(fh: TextIO) -> Iterator[str]:
    """The file's lines, refusing one longer than MAX_LINE before it is all in memory."""
    while line := fh.readline(MAX_LINE + 1):
        if len(line) > MAX_LINE and line[-1] not in "\r\n":
            raise _LineTooLong
        yield line


def _check_header(reader: csv.DictReader) -> str | None:
    try:
        header = [h.strip().lower() for h in (reader.fieldnames or [])]
    except (csv.Error, _LineTooLong) as exc:
        return f"header: not readable as CSV ({str(exc) or 'a line over 128 KiB'})"
    reader.fieldnames = header
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    unknown = [c for c in header if c and c not in COLUMNS]
    if not missing and not unknown:
        return None
    parts = []
    if missing:
        parts.append("missing columns: " + ", ".join(missing))
    if unknown:
        parts.append(
            "unknown columns: " + ", ".join(repr(u[:40]) if BAD_TEXT.search(u) else u[:40] for u in unknown[:10])
        )
    return "header: " + "; ".join(parts) + ". Expected: " + ", ".join(COLUMNS)


def _checked_rows(reader: csv.DictReader, geocoder, found: _Problems) -> Iterator[TherapistRow]:
    """The rows that pass the row rules; the others go to `found` with their line."""
    width = len(reader.fieldnames or ())
    start = reader.line_num + 1
    while True:
        try:
            raw = next(reader)
        except StopIteration:
            return
        except (csv.Error, _LineTooLong) as exc:
            reason = f"not readable as CSV ({exc})" if isinstance(exc, csv.Error) else "a line over 128 KiB"
            found.add(start, f"{reason}: no value is that long, or a quote was left open; nothing after it was read")
            return  # the reader cannot find the next row reliably after this
        line, start = start, reader.line_num + 1
        text = _joined(raw)
        if text.isspace() or not text:
            continue
        if None in raw or None in raw.values():  # more fields than the header, or fewer
            fields = sum(value is not None for name, value in raw.items() if name is not None) + len(raw.get(None, ()))
            problem = f"row has {fields} fields; the header has {width}"
            if re.search("[\ud800-\udfff]", text):
                problem += "; the row is not UTF-8 text"
            found.add(line, problem + ("; it holds a NUL byte" if "\x00" in text else ""))
            continue
        try:
            yield parse_row(line, raw, geocoder, text)
        except RowError as exc:
            found.add(line, str(exc))


def _chunks(items: Iterable[TherapistRow], size: int) -> Iterator[list[TherapistRow]]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


# An address of the common plain form is checked by a pattern, its domain once per
# import; anything else goes to the library whole. Both give the library's answer.
_PLAIN_LOCAL = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*")


def normalise_email(email: str) -> str:
    """The address as accounts store it (lower case); EmailNotValidError saying why not."""
    if len(email) > EMAIL_MAX:
        raise EmailNotValidError(f"longer than {EMAIL_MAX} characters")
    local, at, domain = email.rpartition("@")
    if at and len(local) <= 64 and _PLAIN_LOCAL.fullmatch(local):
        return f"{local}@{_email_domain(domain)}".lower()
    return validate_email(email, check_deliverability=False).normalized.lower()


@lru_cache(maxsize=4096)
def _email_domain(domain: str) -> str:
    return validate_email(f"postmaster@{domain}", check_deliverability=False).domain
