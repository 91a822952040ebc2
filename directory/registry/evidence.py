"""What the registry says about a license an admin is deciding on.

For each license: does the latest NPPES snapshot hold a massage therapist with
the therapist's NPI, and does that record carry the same name, the license's
state and the license number? When the therapist gave no NPI (or another one),
the registry is also searched by license state and number. A page of the queue
asks in a fixed number of queries, however many licenses it shows.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..models import RegistryLicense, RegistryProvider, RegistrySnapshot
from .npi import license_key


@dataclass(frozen=True)
class LicenseFacts:
    """A license as the queue shows it: plain values, keyed by whatever the caller likes."""

    key: Any
    therapist_name: str
    npi: str | None
    state: str
    number: str


@dataclass(frozen=True)
class Evidence:
    snapshot: RegistrySnapshot | None
    npi: str | None
    record: RegistryProvider | None = None  # the registry's record for the therapist's NPI
    name_matches: bool = False
    state_matches: bool = False
    license_matches: bool = False
    by_license: list[RegistryProvider] = field(default_factory=list)  # records listing this license, by number

    @property
    def confirmed(self) -> bool:
        """The registry has a massage therapist with this NPI, name, state and license number."""
        return self.record is not None and self.name_matches and self.state_matches and self.license_matches


def latest_snapshot() -> RegistrySnapshot | None:
    return db.session.scalar(select(RegistrySnapshot).order_by(RegistrySnapshot.id.desc()).limit(1))


def _words(name: str) -> list[str]:
    """A name's words, without accents or case: "José García-Ruiz" -> jose, garcia, ruiz."""
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().casefold()
    return "".join(c if c.isalnum() else " " for c in plain).split()


def name_matches(therapist_name: str, record: RegistryProvider) -> bool:
    """Every word of the registry's last name and the first word of its first name appear in the profile's name."""
    have = set(_words(therapist_name))
    last, first = _words(record.last_name), _words(record.first_name)
    return bool(last) and set(last) <= have and (not first or first[0] in have)


def _lists_license(record: RegistryProvider, state: str, number: str) -> bool:
    key = license_key(number)
    return any(lic.state == state and lic.number_key == key for lic in record.licenses)


def evidence_for(licenses: Iterable[LicenseFacts]) -> dict[Any, Evidence]:
    """Evidence for each license, by its key (three queries for the lot, one more per kind found)."""
    facts = list(licenses)
    snapshot = latest_snapshot()
    if snapshot is None or not facts:
        return {f.key: Evidence(snapshot, f.npi) for f in facts}
    npis = {f.npi for f in facts if f.npi}
    records: dict[str, RegistryProvider] = {}
    if npis:
        found = db.session.scalars(
            select(RegistryProvider)
            .where(RegistryProvider.npi.in_(npis))
            .options(selectinload(RegistryProvider.licenses))
        )
        records = {r.npi: r for r in found}
    keys = {license_key(f.number) for f in facts} - {""}
    listed: dict[tuple[str, str], list[RegistryProvider]] = {}
    if keys:
        rows = db.session.scalars(
            select(RegistryLicense)
            .where(RegistryLicense.number_key.in_(keys))
            .options(selectinload(RegistryLicense.provider).selectinload(RegistryProvider.licenses))
        )
        for lic in rows:
            listed.setdefault((lic.state, lic.number_key), []).append(lic.provider)
    result = {}
    for f in facts:
        record = records.get(f.npi) if f.npi else None
        others = [p for p in listed.get((f.state, license_key(f.number)), []) if p.npi != f.npi]
        result[f.key] = Evidence(
            snapshot,
            f.npi,
            record,
            name_matches=record is not None and name_matches(f.therapist_name, record),
            state_matches=record is not None
            and (record.state.upper() == f.state or any(lic.state == f.state for lic in record.licenses)),
            license_matches=record is not None and _lists_license(record, f.state, f.number),
            by_license=others,
        )
    return result
