"""The search service: where the client is, their request, and the ranked answer."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

from ..geo import PlaceNotFound, parse_lat_lon
from ..matching.engine import ClientRequest, MatchOutcome, match_listings
from ..validation import FieldError
from .candidates import fill_page, load_listings
from .forms import SearchForm


@dataclass(frozen=True)
class Place:
    query: str
    label: str
    latitude: float
    longitude: float


@dataclass
class SearchResult:
    place: Place
    request: ClientRequest
    outcome: MatchOutcome
    licenses: dict  # therapist id -> License, for the page of results
    offset: int
    limit: int


def locate(query: str, geocoder) -> Place:
    """A ZIP, 'City, ST', an address, or 'lat,lon' -> a Place; FieldError if unknown."""
    try:
        pair = parse_lat_lon(query)
        if pair is not None:
            return Place(query, f"{pair[0]:.4f}, {pair[1]:.4f}", *pair)
        found = geocoder.geocode(query)
    except PlaceNotFound as exc:
        raise FieldError("location", str(exc)) from None
    return Place(query, found.address, found.latitude, found.longitude)


def request_from_form(form: SearchForm, place: Place) -> ClientRequest:
    minutes = form.session_minutes.data
    return ClientRequest(
        latitude=place.latitude,
        longitude=place.longitude,
        radius_miles=float(form.radius.data) if form.radius.data is not None else 10.0,
        goals=tuple(form.goals.data or ()),
        areas=tuple(form.areas.data or ()),
        conditions=tuple(form.conditions.data or ()),
        techniques=tuple(form.techniques.data or ()),
        languages=tuple(form.languages.data or ()),
        session_minutes=int(minutes) if minutes else None,
        max_price=float(form.max_price.data) if form.max_price.data is not None else None,
        gender=form.gender.data or None,
        hsa_fsa=form.hsa_fsa.value,
        home_visit=bool(form.home_visit.value),
        accepting_new_clients=form.accepting_new_clients.value,
    )


def search(form: SearchForm, geocoder, *, on: date | None = None) -> SearchResult:
    """Run a validated search form. Raises FieldError for an unknown place."""
    on = on or date.today()
    place = locate(form.location.data.strip(), geocoder)
    request = request_from_form(form, place)
    offset = form.offset.data or 0
    limit = form.limit.data or 20
    return run(request, place, on=on, offset=offset, limit=limit)


def run(request: ClientRequest, place: Place, *, on: date, offset: int = 0, limit: int = 20) -> SearchResult:
    rows = (
        []
        if _blocked(request)
        else load_listings(request.latitude, request.longitude, request.radius_miles, on, home_visit=request.home_visit)
    )
    outcome = match_listings(request, rows, on=on, offset=offset, limit=limit)
    filled, licenses = fill_page([m.candidate for m in outcome.results], on)
    outcome.results = [replace(m, candidate=c) for m, c in zip(outcome.results, filled)]
    return SearchResult(place, request, outcome, licenses, offset, limit)


def _blocked(request: ClientRequest) -> bool:
    from ..matching.safety import screen_conditions

    return screen_conditions(request.conditions).blocked
