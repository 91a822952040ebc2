"""Stable, reversible UUIDs for the records the HSDS feed publishes.

HSDS requires UUIDs for every id. Ours are version 8 UUIDs (RFC 9562's custom
layout) that carry the kind of record, a small index (a weekday, a session
length, a language's place in the list) and our integer id: the same record
always gets the same id, on every export and every server, and
/hsds/services/{id} finds its therapist without a table of mappings.
"""

from __future__ import annotations

import enum
from uuid import UUID

from ..security import DATABASE_ID_MAX

PREFIX = 0x7C2E5A91D3B4  # 48 bits that mark the id as ours
VERSION = 8
VARIANT = 0b10
NUMBER_BITS = 62


class Kind(enum.IntEnum):
    SERVICE = 1
    ORGANIZATION = 2
    LOCATION = 3
    SERVICE_AT_LOCATION = 4
    ADDRESS = 5
    SCHEDULE = 6
    COST_OPTION = 7
    LANGUAGE = 8
    ACCESSIBILITY = 9
    ATTRIBUTE = 10
    TAXONOMY_TERM = 11
    TAXONOMY = 12


def record_id(kind: Kind, number: int, index: int = 0) -> str:
    if not (0 <= number < 1 << NUMBER_BITS and 0 <= index < 256):
        raise ValueError(f"no id for number {number}, index {index}")
    value = PREFIX << 80 | VERSION << 76 | int(kind) << 72 | index << 64 | VARIANT << 62 | number
    return str(UUID(int=value))


def number_of(value: str, kind: Kind) -> int | None:
    """Our id inside `value` when it is an id of that kind (index 0) and a database
    id (1 to DATABASE_ID_MAX: the UUID has room for more), else None."""
    try:
        n = UUID(value).int
    except ValueError:
        return None
    expected = PREFIX << 80 | VERSION << 76 | int(kind) << 72 | VARIANT << 62
    mask = ((1 << 128) - 1) ^ ((1 << NUMBER_BITS) - 1)
    if n & mask != expected or str(UUID(int=n)) != value.lower():
        return None
    number = n & ((1 << NUMBER_BITS) - 1)
    return number if 1 <= number <= DATABASE_ID_MAX else None
