"""National Provider Identifiers: ten digits whose last is a Luhn check digit
computed over the nine before it with the card-issuer prefix 80840 in front
(CMS, "Requirements for NPI check digit")."""

from __future__ import annotations

import re

NPI_PREFIX = "80840"
_DIGITS = re.compile(r"^\d{10}$")


def luhn_check_digit(digits: str) -> int:
    """The digit that makes `digits` + it pass the Luhn check."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        d = int(char)
        if position % 2 == 0:  # doubled: the rightmost of the payload, then every other one
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return (10 - total % 10) % 10


def is_valid_npi(value: str) -> bool:
    return bool(_DIGITS.match(value)) and luhn_check_digit(NPI_PREFIX + value[:9]) == int(value[9])


def normalise_npi(value: str) -> str:
    """What a person typed, without the spaces or dashes people put in numbers."""
    return re.sub(r"[\s-]", "", value or "")


def npi_problem(value: str) -> str | None:
    """Why a typed NPI cannot be one (None when it can)."""
    if not _DIGITS.match(value):
        return "An NPI is 10 digits, e.g. 1234567893. Leave it empty if you have none."
    if not is_valid_npi(value):
        return "That is not a valid NPI: its last digit does not match (check digit). Check it against your NPI letter."
    return None


def license_key(number: str) -> str:
    """A license number as the registry and our records are compared: letters and digits, upper case,
    without the zeros that pad its digits ("MA-00123" and "ma123" are one number)."""
    plain = re.sub(r"[^0-9A-Z]", "", (number or "").upper())
    return re.sub(r"^([A-Z]*)0+(?=\d)", r"\1", plain)
