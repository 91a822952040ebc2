"""The listing summary's text: how a therapist's sets and prices are spelled in
the one row the search reads.

`therapists/listing.py` writes these strings on every profile change; the
engine reads them, parsing each distinct string once per search (a national
search sees thousands of rows but only dozens of distinct strings).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal


def techniques_text(slugs: Iterable[str]) -> str:
    return ",".join(sorted(set(slugs)))


def certifications_text(items: Iterable[tuple[str, date | None]]) -> str:
    """Verified certifications, each with its expiry when it has one: `prenatal@2027-01-31`."""
    return ",".join(sorted(slug + (f"@{expires.isoformat()}" if expires else "") for slug, expires in items))


def prices_text(prices: Iterable[tuple[int, Decimal | float]]) -> str:
    """`60:95.00,90:130.00`: minutes and the price, exactly (a float keeps its repr)."""
    return ",".join(
        f"{minutes}:{amount:.2f}" if isinstance(amount, Decimal) else f"{minutes}:{amount!r}"
        for minutes, amount in sorted(prices)
    )


def languages_text(codes: Iterable[str]) -> str:
    return ";".join(codes)


def parse_techniques(text: str) -> frozenset[str]:
    return frozenset(text.split(",")) if text else frozenset()


def parse_certifications(text: str, on: date) -> frozenset[str]:
    """The slugs still current on `on`."""
    slugs = set()
    for item in text.split(",") if text else ():
        slug, _, expires = item.partition("@")
        if not expires or date.fromisoformat(expires) >= on:
            slugs.add(slug)
    return frozenset(slugs)


def parse_prices(text: str) -> dict[int, float]:
    out = {}
    for item in text.split(",") if text else ():
        minutes, _, amount = item.partition(":")
        out[int(minutes)] = float(amount)
    return out


def parse_languages(text: str) -> tuple[str, ...]:
    return tuple(code for code in text.split(";") if code) if text else ()
