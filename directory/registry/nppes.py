"""Import of the NPPES full-replacement file (npidata_pfile_YYYYMMDD-YYYYMMDD.csv).

The federal file lists every provider with an NPI: some eight million rows of
330 columns, gigabytes of text. We keep the individual providers carrying the
massage therapist taxonomy 225700000X in any of their fifteen taxonomy slots,
with the licenses they list. The file is streamed: records are read one at a
time, those without the taxonomy are passed over before the CSV parser sees
them, and the kept ones are written in batches, so memory stays the same
whatever the file's size. The whole import is one transaction that replaces
the previous snapshot: a failed import leaves the old one in place.

Whatever the bytes, memory stays bounded and a malformed file is refused whole,
naming the line and the problem: a line over MAX_LINE, bytes that are not UTF-8,
a NUL, a quote left open (a record may span lines only up to MAX_RECORD), a
massage therapist's row with the wrong number of fields or an NPI that is not ten
digits. Other providers' rows are passed over unparsed, yet checked for all but
the last two.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from typing import BinaryIO

from sqlalchemy import delete, insert
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..models import RegistryLicense, RegistryProvider, RegistrySnapshot
from ..service_errors import ServiceError
from .npi import is_valid_npi, license_key

MASSAGE_THERAPIST = "225700000X"
SLOTS = range(1, 16)
NPI, ENTITY, LAST, FIRST = "NPI", "Entity Type Code", "Provider Last Name (Legal Name)", "Provider First Name"
PRACTICE_STATE = "Provider Business Practice Location Address State Name"
TAXONOMY, LICENSE, LICENSE_STATE = (
    "Healthcare Provider Taxonomy Code_{}",
    "Provider License Number_{}",
    "Provider License Number State Code_{}",
)
INDIVIDUAL = "1"
BATCH_SIZE = 2000
MAX_LINE = 128 * 1024  # characters; an NPPES record is about 5,000
MAX_RECORD = 1024 * 1024  # a record spanning lines (a quoted line break) stops growing here
FILE_NAME = re.compile(r"npidata_pfile_(\d{8})-(\d{8})", re.IGNORECASE)


def required_columns() -> list[str]:
    slotted = [pattern.format(n) for n in SLOTS for pattern in (TAXONOMY, LICENSE, LICENSE_STATE)]
    return [NPI, ENTITY, LAST, FIRST, PRACTICE_STATE, *slotted]


def file_date_from_name(name: str) -> date | None:
    """The date a file covers up to, from its NPPES name (the second date of the pair)."""
    match = FILE_NAME.search(name)
    if not match:
        return None
    try:
        return date(int(match[2][:4]), int(match[2][4:6]), int(match[2][6:]))
    except ValueError:
        return None


@dataclass
class ImportReport:
    rows_read: int = 0
    kept: int = 0
    licenses: int = 0
    organisations: int = 0
    invalid: int = 0
    snapshot: RegistrySnapshot | None = None


class MalformedFile(ServiceError):
    """A line of the file that cannot be read as the NPPES format; nothing is imported."""

    def __init__(self, file_name: str, line: int, problem: str):
        super().__init__(
            f"{file_name}, line {line:,}: {problem}. Nothing imported; the previous snapshot is kept.", field="file"
        )


def text_lines(binary: BinaryIO, *, file_name: str) -> Iterator[str]:
    """The file's lines as text, one at a time, each read with a bound (a file with no line
    break cannot fill memory) and decoded alone (a bad byte is named by its line)."""
    number = 0
    while raw := binary.readline(MAX_LINE + 1):
        number += 1
        if len(raw) > MAX_LINE and not raw.endswith(b"\n"):
            raise MalformedFile(file_name, number, f"longer than {MAX_LINE // 1024} KiB, no NPPES record is")
        try:
            line = raw.decode("utf-8-sig" if number == 1 else "utf-8")
        except UnicodeDecodeError as exc:
            bad = raw[exc.start : exc.start + 1].hex()
            problem = f"byte 0x{bad} at column {exc.start + 1} is not UTF-8 text"
            raise MalformedFile(file_name, number, problem) from None
        yield line


class _Counter:
    """Whole records of the file, counted as they pass; only the massage therapists go on to the CSV parser."""

    def __init__(self, lines: Iterable[str], file_name: str):
        self.lines = lines
        self.file_name = file_name
        self.read = 0
        self.line = 0  # where the record last handed on starts

    def records(self) -> Iterator[str]:
        pending: list[str] = []
        size = quotes = 0
        number = start = 0
        for number, line in enumerate(self.lines, start=1):
            if len(line) > MAX_LINE:
                raise MalformedFile(self.file_name, number, f"longer than {MAX_LINE // 1024} KiB, no NPPES record is")
            if "\x00" in line:
                raise MalformedFile(self.file_name, number, "contains a NUL byte")
            if not pending:
                start = number
            pending.append(line)
            size += len(line)
            quotes += line.count('"')
            if quotes % 2:  # inside a quoted field that holds a line break: read on, so far
                if size > MAX_RECORD:
                    raise MalformedFile(self.file_name, start, "a quote opened here is never closed (a stray quote)")
                continue
            record, pending, size, quotes = "".join(pending), [], 0, 0
            self.read += 1
            if self.read == 1 or MASSAGE_THERAPIST in record:
                self.line = start
                yield record
        if pending:
            raise MalformedFile(self.file_name, start, "a quote opened here is never closed (a stray quote)")


def import_nppes(
    stream: Iterable[str], *, file_name: str, file_date: date, batch_size: int = BATCH_SIZE
) -> ImportReport:
    """Replace the registry snapshot with the massage therapists of an NPPES file; one transaction."""
    counter = _Counter(stream, file_name)
    reader = csv.reader(counter.records(), strict=True)
    try:
        header = next(reader, None)
    except csv.Error as exc:
        raise MalformedFile(file_name, counter.line, f"not readable as CSV ({exc})") from None
    if not header:
        raise ServiceError(f"{file_name} is empty: expected the NPPES header row.", field="file")
    position = {name.strip(): i for i, name in enumerate(header)}
    missing = [name for name in required_columns() if name not in position]
    if missing:
        raise ServiceError(
            f"{file_name} is not an NPPES provider file: missing column{'s' if len(missing) > 1 else ''} "
            f"{', '.join(repr(m) for m in missing[:5])}{' and more' if len(missing) > 5 else ''}.",
            field="file",
        )
    at = {name: position[name] for name in required_columns()}
    slots = [(n, at[TAXONOMY.format(n)], at[LICENSE.format(n)], at[LICENSE_STATE.format(n)]) for n in SLOTS]
    report = ImportReport()
    providers: list[dict] = []
    licenses: list[dict] = []
    session = db.session
    try:
        session.execute(delete(RegistryLicense))
        session.execute(delete(RegistryProvider))
        for row in _rows(reader, counter):
            if len(row) != len(header):
                problem = f"{len(row)} fields where the header has {len(header)}"
                raise MalformedFile(file_name, counter.line, problem)
            if MASSAGE_THERAPIST not in (row[t].strip() for _, t, _, _ in slots):
                continue
            npi = row[at[NPI]].strip()
            if not (len(npi) == 10 and npi.isascii() and npi.isdigit()):
                raise MalformedFile(file_name, counter.line, f"the NPI {npi[:20]!r} is not ten digits")
            if row[at[ENTITY]].strip() != INDIVIDUAL:
                report.organisations += 1
                continue
            if not is_valid_npi(npi):
                report.invalid += 1
                continue
            providers.append(
                {
                    "npi": npi,
                    "last_name": row[at[LAST]].strip()[:100],
                    "first_name": row[at[FIRST]].strip()[:100],
                    "state": row[at[PRACTICE_STATE]].strip()[:40],
                }
            )
            for n, t, number_at, state_at in slots:
                number = row[number_at].strip()[:40]
                if number:
                    licenses.append(
                        {
                            "npi": npi,
                            "slot": n,
                            "state": row[state_at].strip()[:2].upper(),
                            "number": number,
                            "number_key": license_key(number)[:40],
                            "taxonomy": row[t].strip()[:10],
                        }
                    )
            if len(providers) >= batch_size:
                _write(providers, licenses, report)
        _write(providers, licenses, report)
        report.rows_read = max(counter.read - 1, 0)  # the header is not a provider
        report.snapshot = RegistrySnapshot(
            file_name=file_name[:255], file_date=file_date, rows_read=report.rows_read, providers=report.kept
        )
        session.add(report.snapshot)
        session.commit()
    except IntegrityError:
        session.rollback()
        raise ServiceError(
            f"{file_name} lists one NPI more than once: nothing imported, the previous snapshot is kept.", field="file"
        ) from None
    except Exception:
        session.rollback()
        raise
    return report


def _rows(reader, counter: _Counter) -> Iterator[list[str]]:
    """The parsed rows; a record the CSV parser refuses is named by its line."""
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise MalformedFile(counter.file_name, counter.line, f"not readable as CSV ({exc})") from None
        yield row


def _write(providers: list[dict], licenses: list[dict], report: ImportReport) -> None:
    """Insert a batch (providers first, their licenses after) and empty the lists."""
    if providers:
        db.session.execute(insert(RegistryProvider), providers)
        report.kept += len(providers)
    if licenses:
        db.session.execute(insert(RegistryLicense), licenses)
        report.licenses += len(licenses)
    providers.clear()
    licenses.clear()
