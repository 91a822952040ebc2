"""The search service: where the client is, their request, and the ranked answer."""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from datetime import UTC, datetime

from .. import clock
from ..bookings.availability import next_free_for
from ..geocoding import Place, locate
from ..matching.engine import ClientRequest, MatchOutcome, match_listings, refusal, settled_by_conditions
from ..matching.plan import recommend_plan
from ..matching.safety import SafetyScreen, screen_conditions
from ..service_errors import ServiceError
from .candidates import PageLicense, fill_page, load_listings
from .cards import card_reasons

# How results may be sorted on the page: the engine's orders, and the soonest free time.
SORTS = {"best": "Best match", "nearest": "Nearest", "soonest": "Soonest available", "price": "Lowest price"}
# "Soonest available" sorts the best matches by their next free time: this many of them.
SOONEST_POOL = 200
NEXT_TIMES = 3  # free start times on each card


@dataclass(frozen=True)
class SearchQuery:
    """What a client asked for, as plain values (the page and the API build it from their input)."""

    location: str | None  # not needed when the conditions refuse a match
    radius_miles: float = 10.0
    goals: tuple[str, ...] = ()
    areas: tuple[str, ...] = ()
    conditions: tuple[str, ...] = ()
    techniques: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    session_minutes: int | None = None
    max_price: float | None = None
    gender: str | None = None
    hsa_fsa: bool | None = None
    home_visit: bool = False
    accepting_new_clients: bool | None = None
    offset: int = 0
    limit: int = 20
    sort: str = "best"  # the page's order (one of SORTS); the API keeps the best match

    def request_at(self, place: Place) -> ClientRequest:
        """The engine's request: the same criteria, at the resolved place."""
        criteria = {f.name: getattr(self, f.name) for f in fields(ClientRequest) if hasattr(self, f.name)}
        return ClientRequest(**{**criteria, "latitude": place.latitude, "longitude": place.longitude})


@dataclass
class SearchResult:
    place: Place | None  # None when the conditions refused a match before any place was needed
    radius_miles: float
    home_visit: bool
    session_minutes: int | None  # the length the client chose, if any
    outcome: MatchOutcome
    licenses: dict[int, PageLicense]  # therapist id -> the license listed, for the page of results
    offset: int
    limit: int
    sort: str = "best"
    # For the page (`for_page`): each card's next free starts and its own reasons.
    next_times: dict[int, list[datetime]] = field(default_factory=dict)
    card_reasons: dict[int, list[str]] = field(default_factory=dict)
    sorted_among: int | None = None  # "soonest" sorted only this many best matches

    @property
    def pages_total(self) -> int:
        """How many results the pages run through."""
        total = self.outcome.total
        return min(total, self.sorted_among) if self.sorted_among else total


def screen(conditions) -> SafetyScreen:
    """The conditions' screening; ServiceError (field `conditions`) when they are unknown or contradict."""
    try:
        return screen_conditions(conditions)
    except ValueError as exc:
        raise ServiceError(str(exc), field="conditions") from None


def search(query: SearchQuery, geocoder, *, at: datetime | None = None, for_page: bool = False) -> SearchResult:
    """Run a search. Raises ServiceError (field `location`) for an unknown or missing
    place, unless the conditions refuse a match anyway; then no place is looked up."""
    refused = refusal(screen(query.conditions), recommend_plan(query.areas, query.goals, query.session_minutes))
    if refused:
        return SearchResult(
            None, query.radius_miles, query.home_visit, query.session_minutes, refused, {}, query.offset, query.limit
        )
    if not query.location:
        raise ServiceError("Enter a ZIP code, a city and state, or an address.", field="location")
    place = locate(query.location, geocoder)
    return run(
        query.request_at(place),
        place,
        at=at,
        offset=query.offset,
        limit=query.limit,
        sort=query.sort,
        for_page=for_page,
    )


def run(
    request: ClientRequest,
    place: Place,
    *,
    at: datetime | None = None,
    offset: int = 0,
    limit: int = 20,
    sort: str = "best",
    for_page: bool = False,
    now: datetime | None = None,
) -> SearchResult:
    """The ranked answer. `for_page`: also each card's next free times (one query for the
    page) and its reasons; `sort` "soonest" needs them, for the best SOONEST_POOL matches.
    `at`: the moment whose listing day decides who is listed (clock.listing_days; now by default)."""
    days = clock.listing_days(at)
    on = days.latest  # certifications' expiry dates are read on the latest local day
    if sort not in SORTS:
        raise ServiceError("Sort by " + ", ".join(SORTS) + ".", field="sort")
    rows = (
        []
        if settled_by_conditions(request, screen(request.conditions))
        else load_listings(
            request.latitude, request.longitude, request.radius_miles, days, home_visit=request.home_visit
        )
    )
    times: dict[int, list[datetime]] = {}
    sorted_among = None
    if sort == "soonest":
        outcome = match_listings(request, rows, on=on, offset=0, limit=SOONEST_POOL)
        times = _next_times(outcome, now)
        never = datetime.max.replace(tzinfo=UTC)
        ranked = sorted(outcome.results, key=lambda m: times[m.candidate.id][0] if times[m.candidate.id] else never)
        outcome.results = ranked[offset : offset + limit]
        sorted_among = SOONEST_POOL if outcome.total > SOONEST_POOL else None
    else:
        outcome = match_listings(request, rows, on=on, offset=offset, limit=limit, order=sort)
        if for_page:
            times = _next_times(outcome, now)
    # Each listed candidate's license holds in its own zone: read them on the earliest local day.
    filled, licenses = fill_page([m.candidate for m in outcome.results], days.earliest)
    outcome.results = [replace(m, candidate=c) for m, c in zip(outcome.results, filled)]
    result = SearchResult(
        place, request.radius_miles, request.home_visit, request.session_minutes, outcome, licenses, offset, limit, sort
    )
    if for_page:
        result.next_times = {m.candidate.id: times.get(m.candidate.id, []) for m in outcome.results}
        result.card_reasons = {m.candidate.id: card_reasons(m, request, outcome.screen) for m in outcome.results}
        result.sorted_among = sorted_among
    return result


def _next_times(outcome: MatchOutcome, now: datetime | None) -> dict[int, list[datetime]]:
    """The next free starts of every result, at the plan's session length, in one query."""
    minutes = outcome.plan.session_minutes
    return next_free_for({m.candidate.id: minutes for m in outcome.results}, count=NEXT_TIMES, now=now)
