"""Matching: hard filters, ranking and explanations over plain candidates.

Pure Python: the search service loads candidates from the database and hands
them here; the rules live in one place for the page, the API and the tests.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
import heapq
import math
from math import ceil
from typing import NamedTuple

from ..geo import distance_miles, local_scale
from .plan import Plan, recommend_plan
from .safety import SafetyScreen, screen_conditions
from .scoring import (
    CERTIFICATION_REASONS, WEIGHTS, credential_score, goal_fit, language_names, money, rating_score,
)
from .vocabulary import CERTIFICATIONS, CONDITIONS, TECHNIQUES

# local_distance is within 0.02% of geodesic; closer to the edge than this we ask geodesic.
_EDGE = 0.0005
REFERENCE_PRICE_PER_MINUTE = 100 / 60  # a typical $100 hour, when the client names no budget


class Candidate(NamedTuple):
    """One therapist as matching sees it (a tuple: searches build thousands)."""

    id: int
    name: str
    latitude: float
    longitude: float
    techniques: frozenset[str]
    certifications: frozenset[str]  # verified and unexpired only
    prices: dict[int, float]
    license_verified: bool = True
    license_expires: date | None = None
    suspended: bool = False
    gender: str | None = None
    languages: tuple[str, ...] = ("en",)
    hsa_fsa: bool = False
    accepting_new_clients: bool = True
    mobile_radius_miles: float | None = None
    years_experience: int | None = None
    rating_average: float | None = None
    rating_count: int = 0
    extra: dict | None = None  # display fields the search adds for the page of results


@dataclass(frozen=True)
class ClientRequest:
    latitude: float
    longitude: float
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


@dataclass(frozen=True)
class Match:
    candidate: Candidate
    distance_miles: float
    score: float
    price: float
    reasons: tuple[str, ...]


@dataclass
class MatchOutcome:
    screen: SafetyScreen
    plan: Plan
    total: int
    results: list[Match]
    eliminated: dict[str, int]
    considered: int
    explanation: str | None = None
    suggestions: list[str] = field(default_factory=list)


FILTER_ORDER = (
    "listing", "distance", "certification", "safe_technique", "techniques", "session_length",
    "price", "gender", "languages", "hsa_fsa", "accepting_new_clients",
)


class _Judge:
    """The hard filters and the score for one request, prepared once per search.

    `check` and `score` are closures over plain locals: a national search runs
    them thousands of times, and this keeps each call to a few microseconds.
    """

    def __init__(self, req: ClientRequest, screen: SafetyScreen, plan: Plan, on: date):
        self.origin = (req.latitude, req.longitude)
        self._fit: dict[frozenset, tuple[float, list[str]]] = {}
        self.req, self.screen = req, screen
        self.check = self._make_check(req, screen, plan, on)

    def _make_check(self, req: ClientRequest, screen: SafetyScreen, plan: Plan, on: date):
        origin, geodesic_miles = self.origin, distance_miles
        lat0, lon0 = req.latitude, req.longitude
        ky, kx = local_scale(lat0)
        cos, half_rad = math.cos, math.pi / 360
        home_visit, radius = req.home_visit, req.radius_miles
        required, excluded = screen.required_certifications, frozenset(screen.excluded_techniques)
        asked_techniques = bool(req.techniques)
        wanted = frozenset(t for t in req.techniques if t not in excluded)
        minutes, max_price = plan.session_minutes, req.max_price
        gender, languages = req.gender, req.languages
        want_hsa, want_accepting = bool(req.hsa_fsa), bool(req.accepting_new_clients)
        # Scoring (scoring.py's parts, inlined): weights, budget, and memos of the
        # parts that depend on few distinct values (technique sets, credentials).
        w_goal, w_distance, w_price, w_credentials, w_rating = (
            100 * WEIGHTS[k] for k in ("goal", "distance", "price", "credentials", "rating")
        )
        budget = req.max_price or REFERENCE_PRICE_PER_MINUTE * minutes
        fits, goal_fit_of, static = self._fit, self.goal_fit, {}
        optional_filters = bool(max_price is not None or gender or languages or want_hsa or want_accepting)

        def check(c: Candidate):
            """(first hard filter `c` fails or None, distance when known, score when it passes)."""
            if c.suspended or not c.license_verified or (c.license_expires is not None and c.license_expires < on):
                return "listing", None, None
            limit = c.mobile_radius_miles if home_visit else radius
            if not limit:
                return "distance", None, None
            lat = c.latitude  # local_distance(), inlined: this runs for every candidate
            dy, dx = (lat - lat0) * ky, (c.longitude - lon0) * kx * cos((lat + lat0) * half_rad)
            d = (dx * dx + dy * dy) ** 0.5
            if d > limit * (1 + _EDGE):
                return "distance", None, None
            if d >= limit * (1 - _EDGE):
                d = geodesic_miles(origin, (lat, c.longitude))
                if d > limit:
                    return "distance", None, None
            for cert in required:
                if cert not in c.certifications:
                    return "certification", d, None
            techniques = c.techniques
            if excluded and techniques <= excluded:
                return "safe_technique", d, None
            if asked_techniques and techniques.isdisjoint(wanted):
                return "techniques", d, None
            price = c.prices.get(minutes)
            if price is None:
                return "session_length", d, None
            if optional_filters:
                if max_price is not None and price > max_price:
                    return "price", d, None
                if gender and c.gender != gender:
                    return "gender", d, None
                if languages and not any(lang in c.languages for lang in languages):
                    return "languages", d, None
                if want_hsa and not c.hsa_fsa:
                    return "hsa_fsa", d, None
                if want_accepting and not c.accepting_new_clients:
                    return "accepting_new_clients", d, None
            # The parts of the score that depend only on the profile: few distinct values.
            key = (techniques, c.certifications, c.years_experience, c.rating_average, c.rating_count)
            fixed = static.get(key)
            if fixed is None:
                fit = fits.get(techniques) or goal_fit_of(techniques)
                fixed = static[key] = (w_goal * fit[0] + w_credentials * credential_score(key[1], key[2])
                                       + w_rating * rating_score(key[3], key[4]))
            price_part = 1.5 - price / budget  # price_score(), inlined
            price_part = 0.0 if price_part < 0 else 1.0 if price_part > 1 else price_part
            return None, d, fixed + w_distance * (1 - d / limit) + w_price * price_part

        return check

    def goal_fit(self, techniques: frozenset) -> tuple[float, list[str]]:
        fit = self._fit.get(techniques)
        if fit is None:
            fit = self._fit[techniques] = goal_fit(techniques, self.req.goals, self.screen.allows)
        return fit


def first_failed_filter(req: ClientRequest, screen: SafetyScreen, plan: Plan, c: Candidate, on: date):
    """The first hard filter `c` fails (or None), and its distance when known."""
    return _Judge(req, screen, plan, on).check(c)[:2]


def explain(req: ClientRequest, c: Candidate, d: float, price: float, plan: Plan,
            screen: SafetyScreen, goal_reasons: list[str]) -> tuple[str, ...]:
    reasons = list(goal_reasons)
    if req.home_visit:
        reasons.append(f"Comes to you: {d:.1f} miles away, within their {c.mobile_radius_miles:g}-mile travel area")
    else:
        reasons.append(f"{d:.1f} miles away")
    budget = f", within your budget of {money(req.max_price)}" if req.max_price is not None else ""
    reasons.append(f"{money(price)} for {plan.session_minutes} minutes{budget}")
    for cert in screen.required_certifications:
        reasons.append(CERTIFICATION_REASONS[cert] + ", as your condition requires")
    if "board_certified" in c.certifications:
        reasons.append(CERTIFICATION_REASONS["board_certified"])
    if req.techniques:
        offered = [TECHNIQUES[t] for t in req.techniques if t in c.techniques and screen.allows(t)]
        reasons.append("Offers what you asked for: " + ", ".join(offered))
    if req.languages:
        reasons.append("Speaks " + language_names([lang for lang in req.languages if lang in c.languages]))
    if req.hsa_fsa:
        reasons.append("Accepts HSA/FSA cards")
    if c.rating_count:
        reasons.append(f"{c.rating_average:.1f} from {c.rating_count} review{'s' if c.rating_count != 1 else ''}")
    if c.years_experience and c.years_experience >= 5:
        reasons.append(f"{c.years_experience} years of experience")
    return tuple(reasons)


def match(req: ClientRequest, candidates, *, on: date, offset: int = 0, limit: int = 20) -> MatchOutcome:
    """Filter, rank and explain. Deterministic: ties go to the nearer, cheaper, older profile."""
    screen = screen_conditions(req.conditions)
    plan = recommend_plan(req.areas, req.goals, req.session_minutes)
    eliminated = dict.fromkeys(FILTER_ORDER, 0)
    if screen.blocked:
        return MatchOutcome(screen, plan, 0, [], eliminated, 0,
                            explanation="We cannot match you with a therapist right now: " + " ".join(screen.reasons))
    judge = _Judge(req, screen, plan, on)
    check = judge.check
    minutes = plan.session_minutes
    ranked = []
    considered = 0
    for c in candidates:
        considered += 1
        failed, d, total = check(c)
        if failed is not None:
            eliminated[failed] += 1
            continue
        # Scores and distances are computed from the candidate alone, so equal
        # inputs give equal floats and the order never depends on input order.
        ranked.append((-total, d, c.prices[minutes], c.id, c))
    # Ids are unique, so tuples never compare as far as the candidate itself.
    top = heapq.nsmallest(offset + limit, ranked)
    page = []
    for neg_score, _, price, _, c in top[offset:]:
        exact = distance_miles(judge.origin, (c.latitude, c.longitude))
        reasons = explain(req, c, exact, price, plan, screen, judge.goal_fit(c.techniques)[1])
        page.append(Match(c, exact, round(-neg_score, 2), price, reasons))
    outcome = MatchOutcome(screen, plan, len(ranked), page, eliminated, considered)
    if not ranked:
        outcome.explanation, outcome.suggestions = explain_no_match(req, screen, plan, eliminated, considered)
    return outcome


def _wider_radius(radius: float) -> int:
    return min(100, max(radius + 5, ceil(radius * 2.5 / 5) * 5))


def explain_no_match(req, screen, plan, eliminated, considered) -> tuple[str, list[str]]:
    """Say which filters removed the candidates and what to widen."""
    nearby = considered - eliminated["listing"] - eliminated["distance"]
    where = ("who travel to you" if req.home_visit else f"within {req.radius_miles:g} miles")
    if nearby <= 0:
        if req.home_visit:
            return ("No verified therapist offers home visits that reach you.",
                    ["Search without a home visit to see therapists you can visit."])
        suggestion = (f"Widen the radius to {_wider_radius(req.radius_miles)} miles."
                      if req.radius_miles < 100 else "Try a nearby larger city.")
        return f"No verified therapists are {where}.", [suggestion]
    parts, suggestions = [], []
    conditions = [CONDITIONS[c].lower() for c in screen.conditions]
    texts = {
        "certification": ("lack the verified {} certification your condition requires".format(
            " and ".join(CERTIFICATIONS[c].lower() for c in screen.required_certifications)),
            "Widen the radius: fewer therapists hold this certification."),
        "safe_technique": ("offer only techniques that are not safe for you now",
                           "Widen the radius to find therapists offering gentler techniques."),
        "techniques": ("do not offer the techniques you chose", "Remove some technique filters."),
        "session_length": (f"do not offer {plan.session_minutes}-minute sessions",
                           "Choose another session length."),
        "price": (f"charge more than {money(req.max_price or 0)} for {plan.session_minutes} minutes",
                  "Raise your budget or choose a shorter session."),
        "gender": ("are not of the gender you chose", "Remove the gender preference."),
        "languages": ("do not speak the languages you chose", "Remove the language filter."),
        "hsa_fsa": ("do not accept HSA/FSA cards", "Remove the HSA/FSA filter."),
        "accepting_new_clients": ("are not taking new clients", "Include therapists with a waiting list."),
    }
    for name in FILTER_ORDER[2:]:
        if eliminated[name]:
            text, suggestion = texts[name]
            parts.append(f"{eliminated[name]} {text}")
            suggestions.append(suggestion)
    message = (f"None of the {nearby} verified therapist{'s' if nearby != 1 else ''} {where} fit"
               f"{'s' if nearby == 1 else ''} everything you asked for: " + "; ".join(parts) + ".")
    if conditions and eliminated["certification"]:
        message += f" (Required for: {', '.join(conditions)}.)"
    return message, suggestions
