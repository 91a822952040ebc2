"""The search service: where the client is, their request, and the ranked answer."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

from ..geocoding import Place, locate
from ..matching.engine import ClientRequest, MatchOutcome, match_listings, refusal, settled_by_conditions
from ..matching.plan import recommend_plan
from ..matching.safety import SafetyScreen, screen_conditions
from ..service_errors import ServiceError
from .candidates import PageLicense, fill_page, load_listings


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

    def request_at(self, place: Place) -> ClientRequest:
        return ClientRequest(
            latitude=place.latitude,
            longitude=place.longitude,
            radius_miles=self.radius_miles,
            goals=self.goals,
            areas=self.areas,
            conditions=self.conditions,
            techniques=self.techniques,
            languages=self.languages,
            session_minutes=self.session_minutes,
            max_price=self.max_price,
            gender=self.gender,
            hsa_fsa=self.hsa_fsa,
            home_visit=self.home_visit,
            accepting_new_clients=self.accepting_new_clients,
        )


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


def screen(conditions) -> SafetyScreen:
    """The conditions' screening; ServiceError (field `conditions`) when they are unknown or contradict."""
    try:
        return screen_conditions(conditions)
    except ValueError as exc:
        raise ServiceError(str(exc), field="conditions") from None


def search(query: SearchQuery, geocoder, *, on: date | None = None) -> SearchResult:
    """Run a search. Raises ServiceError (field `location`) for an unknown or missing
    place, unless the conditions refuse a match anyway; then no place is looked up."""
    on = on or date.today()
    refused = refusal(screen(query.conditions), recommend_plan(query.areas, query.goals, query.session_minutes))
    if refused:
        return SearchResult(
            None, query.radius_miles, query.home_visit, query.session_minutes, refused, {}, query.offset, query.limit
        )
    if not query.location:
        raise ServiceError("Enter a ZIP code, a city and state, or an address.", field="location")
    place = locate(query.location, geocoder)
    return run(query.request_at(place), place, on=on, offset=query.offset, limit=query.limit)


def run(request: ClientRequest, place: Place, *, on: date, offset: int = 0, limit: int = 20) -> SearchResult:
    rows = (
        []
        if settled_by_conditions(request, screen(request.conditions))
        else load_listings(request.latitude, request.longitude, request.radius_miles, on, home_visit=request.home_visit)
    )
    outcome = match_listings(request, rows, on=on, offset=offset, limit=limit)
    filled, licenses = fill_page([m.candidate for m in outcome.results], on)
    outcome.results = [replace(m, candidate=c) for m, c in zip(outcome.results, filled)]
    return SearchResult(
        place, request.radius_miles, request.home_visit, request.session_minutes, outcome, licenses, offset, limit
    )
