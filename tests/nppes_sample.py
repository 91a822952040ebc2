"""A small file in the NPPES full-replacement format, written by the tests themselves.

The real file has 330 columns; the sample carries every column the import
reads, in the real file's order, plus a few it ignores, so a missing or moved
column would show."""

from __future__ import annotations

import csv
from pathlib import Path

from directory.registry.npi import NPI_PREFIX, luhn_check_digit
from directory.registry.nppes import LICENSE, LICENSE_STATE, SLOTS, TAXONOMY

MASSAGE = "225700000X"
NURSE = "163W00000X"


def npi(n: int) -> str:
    """A valid NPI made from a number (the check digit computed)."""
    body = f"1{n:08d}"
    return body + str(luhn_check_digit(NPI_PREFIX + body))


def header() -> list[str]:
    columns = [
        "NPI",
        "Entity Type Code",
        "Replacement NPI",
        "Provider Organization Name (Legal Business Name)",
        "Provider Last Name (Legal Name)",
        "Provider First Name",
        "Provider Business Practice Location Address State Name",
    ]
    for n in SLOTS:
        columns += [
            TAXONOMY.format(n),
            LICENSE.format(n),
            LICENSE_STATE.format(n),
            f"Healthcare Provider Primary Taxonomy Switch_{n}",
        ]
    return columns


def row(
    number: str, last: str, first: str, state: str, slots=(), *, entity: str = "1", organisation: str = ""
) -> list[str]:
    """A provider; `slots` lists (taxonomy, license number, license state) from slot 1 on."""
    values = [number, entity, "", organisation, last, first, state]
    filled = list(slots) + [("", "", "")] * (15 - len(slots))
    for taxonomy, license_number, license_state in filled:
        values += [taxonomy, license_number, license_state, "Y" if taxonomy else ""]
    return values


def write(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, quoting=csv.QUOTE_ALL)  # NPPES quotes every field
        writer.writerow(header())
        writer.writerows(rows)
    return path
