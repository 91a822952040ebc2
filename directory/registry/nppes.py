"""Import of the NPPES full-replacement file (npidata_pfile_YYYYMMDD-YYYYMMDD.csv).

The federal file lists every provider with an NPI: some eight million rows of
330 columns, gigabytes of text. We keep the individual providers carrying the
massage therapist taxonomy 225700000X in any of their fifteen taxonomy slots,
with the licenses they list. The file is streamed: records are read one at a
time, those without the taxonomy are passed over before the CSV parser sees
them, and the kept ones are written in batches, so memory stays the same
whatever the file's size. The whole import is one transaction that replaces
the previous snapshot: a failed import leaves the old one in place.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from typing import TextIO

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


class _Counter:
    """Whole records of the file, counted as they pass; only the massage therapists go on to the CSV parser."""

    def __init__(self, lines: Iterable[str]):
        self.lines = lines
        self.read = 0

    def records(self) -> Iterator[str]:
        pending: list[str] = []
        quotes = 0
        for line in self.lines:
            pending.append(line)
            quotes += line.count('"')
            if quotes % 2:  # inside a quoted field that holds a line break: read on
                continue
            record, pending, quotes = "".join(pending), [], 0
            self.read += 1
            if self.read == 1 or MASSAGE_THERAPIST in record:
                yield record
        if pending:
            self.read += 1
            yield "".join(pending)


def import_nppes(stream: TextIO, *, file_name: str, file_date: date, batch_size: int = BATCH_SIZE) -> ImportReport:
    """Replace the registry snapshot with the massage therapists of an NPPES file; one transaction."""
    counter = _Counter(stream)
    reader = csv.reader(counter.records())
    header = next(reader, None)
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
    width = max(at.values()) + 1
    report = ImportReport()
    providers: list[dict] = []
    licenses: list[dict] = []
    session = db.session
    try:
        session.execute(delete(RegistryLicense))
        session.execute(delete(RegistryProvider))
        for row in reader:
            if len(row) < width or MASSAGE_THERAPIST not in (row[t].strip() for _, t, _, _ in slots):
                continue
            npi = row[at[NPI]].strip()
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
