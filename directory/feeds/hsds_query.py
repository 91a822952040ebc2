"""The /hsds/services query: its parameters parsed in one place, then run.

The parameters are the HSDS API reference's for /services; they combine with
AND, as the reference requires. A parameter the reference defines but we do not
serve (`minimal`, `format=ndjson`), or one it does not define, is refused with
a 400 naming it rather than ignored.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from sqlalchemy import Float, exists, func, literal, or_

from ..geo import METERS_PER_MILE, bounding_box, local_scale, lookup_zip
from ..models import TherapistProfile, TherapistTechnique
from ..service_errors import ServiceError
from ..therapists import export
from ..vocabulary import TECHNIQUES
from .ids import Kind, number_of, record_id
from .moments import moment_range

P = TherapistProfile
PER_PAGE = 20
MAX_PER_PAGE = 100
MAX_PROXIMITY_METERS = 100 * METERS_PER_MILE
PARAMETERS = (
    "search",
    "page",
    "per_page",
    "organization_id",
    "modified_after",
    "taxonomy_term_id",
    "taxonomy_id",
    "postcode",
    "proximity",
    "full",
    "format",
    "minimal",
)


@dataclass(frozen=True)
class ServiceQuery:
    search: str = ""
    page: int = 1
    per_page: int = PER_PAGE
    organization: int | None = None  # our therapist id; 0 matches nothing
    modified_after: datetime | None = None
    technique: str | None = None  # a technique slug; "" matches nothing
    other_taxonomy: bool = False
    near: tuple[float, float, float] | None = None  # latitude, longitude, miles
    postcode: str = ""
    full: bool = False

    @classmethod
    def parse(cls, args, endpoint: str = "services", known: tuple[str, ...] = PARAMETERS) -> ServiceQuery:
        unknown = [name for name in args if name not in known]
        if unknown:
            raise ServiceError(
                f"Unknown parameter {unknown[0]!r}; /hsds/{endpoint} takes: {', '.join(known)}.", field=unknown[0]
            )
        value = {}
        for name in args:
            given = args.getlist(name)
            if len(given) > 1:
                raise ServiceError(f"Give {name} once.", field=name)
            value[name] = given[0].strip()
        if value.get("format", "json") != "json":
            raise ServiceError(
                "format: only json is served here; the whole directory as ndjson comes from the bulk export.",
                field="format",
            )
        if _flag(value, "minimal"):
            raise ServiceError("minimal: not offered; page through /hsds/services instead.", field="minimal")
        postcode, near = value.get("postcode", ""), None
        if postcode:
            place = lookup_zip(postcode)
            if place is None:
                raise ServiceError(f"postcode: {postcode[:20]!r} is not a known US ZIP code.", field="postcode")
            postcode = place.zip_code
            if "proximity" in value:
                meters = _number(value, "proximity", 1, MAX_PROXIMITY_METERS)
                near = (place.latitude, place.longitude, meters / METERS_PER_MILE)
        elif "proximity" in value:
            raise ServiceError("proximity: give it with a postcode (meters from that ZIP code).", field="proximity")
        term = value.get("taxonomy_term_id")
        return cls(
            search=value.get("search", "")[:200],
            page=int(_number(value, "page", 1, 1_000_000, default=1, whole=True)),
            per_page=int(_number(value, "per_page", 1, MAX_PER_PAGE, default=PER_PAGE, whole=True)),
            organization=_our_id(value, "organization_id", Kind.ORGANIZATION),
            modified_after=_moment(value.get("modified_after")),
            technique=None if term is None else _technique(term),
            other_taxonomy="taxonomy_id" in value and _uuid(value, "taxonomy_id") != record_id(Kind.TAXONOMY, 0),
            near=near,
            postcode=postcode if near is None else "",
            full=_flag(value, "full"),
        )

    def statement(self):
        stmt = export.listable()
        if self.search:
            words = or_(
                *(
                    func.lower(column).contains(self.search.lower(), autoescape=True)
                    for column in (P.name, P.bio, P.city)
                )
            )
            stmt = stmt.where(words)
        if self.organization is not None:
            stmt = stmt.where(P.id == self.organization)
        if self.modified_after is not None:
            stmt = stmt.where(P.updated_at >= self.modified_after)
        if self.technique is not None:
            stmt = stmt.where(
                exists().where(TherapistTechnique.therapist_id == P.id, TherapistTechnique.technique == self.technique)
            )
        if self.other_taxonomy:
            stmt = stmt.where(literal(False))
        if self.postcode:
            stmt = stmt.where(P.postal_code == self.postcode)
        if self.near is not None:
            lat, lon, miles = self.near
            min_lat, max_lat, min_lon, max_lon = bounding_box(lat, lon, miles)
            ky, kx = local_scale(lat)
            kx *= math.cos(math.radians(lat))
            # From the position that may leave the site (therapists/visibility.py).
            dy, dx = (P.shown_latitude - lat) * ky, (P.shown_longitude - lon) * kx
            stmt = stmt.where(
                P.shown_latitude.between(min_lat, max_lat),
                P.shown_longitude.between(min_lon, max_lon),
                (dy * dy + dx * dx) <= literal(miles * miles, Float),
            )
        return stmt


SAL_PARAMETERS = tuple(p for p in PARAMETERS if p != "minimal")  # the reference's /service_at_locations


@dataclass(frozen=True)
class ListQuery:
    """/taxonomies, /taxonomy_terms, /organizations: paging, search and their own filters."""

    search: str = ""
    page: int = 1
    per_page: int = PER_PAGE
    taxonomy_id: str | None = None
    parent_id: str | None = None
    top_only: bool = False
    full: bool = False

    @classmethod
    def parse(cls, args, endpoint: str, extra: tuple[str, ...] = ()) -> ListQuery:
        allowed = ("search", "page", "per_page", "format", *extra)
        unknown = [name for name in args if name not in allowed]
        if unknown:
            raise ServiceError(
                f"Unknown parameter {unknown[0]!r}; /hsds/{endpoint} takes: {', '.join(allowed)}.", field=unknown[0]
            )
        value = {}
        for name in args:
            given = args.getlist(name)
            if len(given) > 1:
                raise ServiceError(f"Give {name} once.", field=name)
            value[name] = given[0].strip()
        if value.get("format", "json") != "json":
            raise ServiceError("format: only json is served here.", field="format")
        return cls(
            search=value.get("search", "")[:200],
            page=int(_number(value, "page", 1, 1_000_000, default=1, whole=True)),
            per_page=int(_number(value, "per_page", 1, MAX_PER_PAGE, default=PER_PAGE, whole=True)),
            taxonomy_id=_uuid(value, "taxonomy_id") if "taxonomy_id" in value else None,
            parent_id=_uuid(value, "parent_id") if "parent_id" in value else None,
            top_only="top_only" in value and _flag(value, "top_only"),
            full=("full" in value and _flag(value, "full"))
            or ("full_service" in value and _flag(value, "full_service")),
        )

    def window(self, items: list) -> tuple[int, list]:
        start = (self.page - 1) * self.per_page
        return len(items), items[start : start + self.per_page]

    def matches(self, *texts: str) -> bool:
        return not self.search or any(self.search.lower() in text.lower() for text in texts)


def find_organizations(query: ListQuery) -> tuple[int, list[export.Practice]]:
    stmt = export.listable()
    if query.search:
        stmt = stmt.where(func.lower(P.name).contains(query.search.lower(), autoescape=True))
    total = export.count(stmt)
    return total, export.page(stmt, offset=(query.page - 1) * query.per_page, limit=query.per_page)


def find(query: ServiceQuery) -> tuple[int, list[export.Practice]]:
    """(how many services match, the requested page of them)."""
    stmt = query.statement()
    total = export.count(stmt)
    return total, export.page(stmt, offset=(query.page - 1) * query.per_page, limit=query.per_page)


def _flag(value: dict, name: str) -> bool:
    given = value.get(name, "false").lower()
    if given not in ("true", "false"):
        raise ServiceError(f"{name}: {given[:20]!r} is not true or false.", field=name)
    return given == "true"


def _number(value: dict, name: str, low: float, high: float, *, default: float = 0, whole: bool = False) -> float:
    if name not in value:
        return default
    try:
        number = int(value[name]) if whole else float(value[name])
    except ValueError:
        number = math.nan
    if not low <= number <= high:
        kind = "a whole number" if whole else "a number"
        raise ServiceError(
            f"{name}: {value[name][:20]!r} must be {kind} from {_plainly(low)} to {_plainly(high)}.", field=name
        )
    return number


def _plainly(number: float) -> str:
    """1000000 as "1,000,000" (never "1e+06"), 160934.4 as "160,934.4"."""
    return f"{number:,.0f}" if number == int(number) else f"{number:,.1f}"


def _uuid(value: dict, name: str) -> str:
    try:
        return str(UUID(value[name]))
    except ValueError:
        raise ServiceError(f"{name}: {value[name][:40]!r} is not a UUID.", field=name) from None


def _our_id(value: dict, name: str, kind: Kind) -> int | None:
    if name not in value:
        return None
    return number_of(_uuid(value, name), kind) or 0


def _technique(term: str) -> str:
    ids = {record_id(Kind.TAXONOMY_TERM, 0, i): slug for i, slug in enumerate(TECHNIQUES)}
    return ids.get(_uuid({"taxonomy_term_id": term}, "taxonomy_term_id"), "")


def _moment(given: str | None) -> datetime | None:
    if given is None:
        return None
    found = moment_range(given)
    if found is None:
        raise ServiceError(
            f"modified_after: {given[:40]!r} must be a date (2025-01-31) or a date-time with its offset "
            "(2025-01-31T09:00:00Z).",
            field="modified_after",
        )
    return found[0]
