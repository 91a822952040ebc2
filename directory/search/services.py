"""The search service: where the client is, their request, and the ranked answer."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

from ..geocoding import Place, locate
from ..matching.engine import ClientRequest, MatchOutcome, match_listings
from ..matching.safety import screen_conditions
from .candidates import PageLicense, fill_page, load_listings


@dataclass(frozen=True)
class SearchQuery:
    """What a client asked for, as plain values (the page and the API build it from their input)."""

    location: str
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
    place: Place
    request: ClientRequest
    outcome: MatchOutcome
    licenses: dict[int, PageLicense]  # therapist id -> the license listed, for the page of results
    offset: int
    limit: int


def search(query: SearchQuery, geocoder, *, on: date | None = None) -> SearchResult:
    """Run a search. Raises ServiceError (field `location`) for an unknown place."""
    on = on or date.today()
    place = locate(query.location, geocoder)
    return run(query.request_at(place), place, on=on, offset=query.offset, limit=query.limit)


def run(request: ClientRequest, place: Place, *, on: date, offset: int = 0, limit: int = 20) -> SearchResult:
    blocked = screen_conditions(request.conditions).blocked
    rows = (
        []
        if blocked
        else load_listings(request.latitude, request.longitude, request.radius_miles, on, home_visit=request.home_visit)
    )
    outcome = match_listings(request, rows, on=on, offset=offset, limit=limit)
    filled, licenses = fill_page([m.candidate for m in outcome.results], on)
    outcome.results = [replace(m, candidate=c) for m, c in zip(outcome.results, filled)]
    return SearchResult(place, request, outcome, licenses, offset, limit)
