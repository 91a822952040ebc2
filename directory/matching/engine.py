"""Matching: hard filters, ranking and explanations.

Pure Python: the search service hands over the rows it reads from the search
index (`Listing`, via `match_listings`), all of them listed therapists. The
rules live in one loop, for the page, the API and the tests; what each
condition does comes from the table in rules.py.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from math import ceil
from typing import NamedTuple

from ..geo import distance_miles, local_scale
from ..vocabulary import GOALS, SESSION_LENGTHS, TECHNIQUES
from . import summary
from .plan import Plan, recommend_plan
from .rules import CERTIFICATION_NAMES, GOAL_TECHNIQUES, join_words, technique_list
from .safety import SafetyScreen, screen_conditions
from .scoring import (
    CERTIFICATION_REASONS,
    EXPERIENCE_CAP,
    EXPERIENCE_WEIGHT,
    PRIOR_MEAN,
    PRIOR_WEIGHT,
    WEIGHTS,
    certification_score,
    goal_fit,
    language_names,
    money,
)

# local_distance is within 0.02% of geodesic; closer to the edge than this we ask geodesic.
_EDGE = 0.0005
REFERENCE_PRICE_PER_MINUTE = 100 / 60  # a typical $100 hour, when the client names no budget


class Candidate(NamedTuple):
    """One listed therapist, whole: what each result carries."""

    id: int
    name: str
    latitude: float
    longitude: float
    techniques: frozenset[str]
    certifications: frozenset[str]  # verified and unexpired only
    prices: dict[int, float]
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
    ruled_out: list[str] = field(default_factory=list)  # what the client chose that their conditions rule out


FILTER_ORDER = (
    "distance",
    "certification",
    "safe_technique",
    "techniques",
    "session_length",
    "price",
    "gender",
    "languages",
    "hsa_fsa",
    "accepting_new_clients",
)


class Listing(NamedTuple):
    """A listed therapist as the search index holds it: one flat row, its sets and
    prices as summary text (summary.py). The search reads these straight from the
    database (search/candidates.py)."""

    id: int
    latitude: float
    longitude: float
    techniques: str
    certifications: str  # verified only, with expiry dates
    prices: str
    gender: str | None
    languages: str
    hsa_fsa: bool
    accepting_new_clients: bool
    mobile_radius_miles: float | None
    years_experience: int | None
    rating_average: float | None
    rating_count: int


def to_candidate(row: Listing, on: date) -> Candidate:
    """A listed row as a candidate (for a page of results: a few per search)."""
    return Candidate(
        row[0],
        "",
        row[1],
        row[2],
        summary.parse_techniques(row[3]),
        summary.parse_certifications(row[4], on),
        summary.parse_prices(row[5]),
        row[6],
        summary.parse_languages(row[7]),
        row[8],
        row[9],
        row[10],
        row[11],
        row[12],
        row[13],
    )


class _Memo(dict):
    """A dict that computes a missing value once: `memo[key]` costs a lookup after that."""

    def __init__(self, compute):
        super().__init__()
        self.compute = compute

    def __missing__(self, key):
        value = self[key] = self.compute(key)
        return value


class _Judge:
    """The hard filters and the score for one request, prepared once per search.

    `rank` runs every rule over rows of listed therapists in one loop over plain
    locals: a national search judges thousands of rows, and this keeps each to
    about a microsecond. What depends only on a row's summary text (its
    techniques and certifications, its prices) is judged once per distinct text.
    """

    def __init__(self, req: ClientRequest, screen: SafetyScreen, plan: Plan, on: date):
        self.origin = (req.latitude, req.longitude)
        self.req, self.screen = req, screen
        self._fit = _Memo(lambda techniques: goal_fit(techniques, req.goals, screen.allows))
        self.rank = self._make_rank(req, screen, plan, on)

    def goal_fit(self, techniques: frozenset) -> tuple[float, list[str]]:
        return self._fit[techniques]

    def _profile_verdict(self, screen: SafetyScreen, on: date):
        """(techniques text, certifications text) -> the filter that fails, or the
        score's parts that depend on them alone."""
        required, excluded = screen.required_certifications, frozenset(screen.excluded_techniques)
        wanted = frozenset(t for t in self.req.techniques if t not in excluded)  # never empty when asked
        asked_techniques = bool(self.req.techniques)
        w_goal, w_credentials = 100 * WEIGHTS["goal"], 100 * WEIGHTS["credentials"]

        def verdict(key):
            techniques, certifications = summary.parse_techniques(key[0]), summary.parse_certifications(key[1], on)
            for cert in required:
                if cert not in certifications:
                    return "certification"
            if excluded and techniques <= excluded:
                return "safe_technique"
            if asked_techniques and techniques.isdisjoint(wanted):
                return "techniques"
            return w_goal * self._fit[techniques][0] + w_credentials * certification_score(certifications)

        return _Memo(verdict)

    def _make_rank(self, req: ClientRequest, screen: SafetyScreen, plan: Plan, on: date):
        origin, geodesic_miles = self.origin, distance_miles
        lat0, lon0 = req.latitude, req.longitude
        ky, kx = local_scale(lat0)
        cos, half_rad = math.cos, math.pi / 360
        home_visit, radius = req.home_visit, req.radius_miles
        minutes, max_price = plan.session_minutes, req.max_price
        gender, languages = req.gender, frozenset(req.languages)
        want_hsa, want_accepting = bool(req.hsa_fsa), bool(req.accepting_new_clients)
        optional_filters = bool(max_price is not None or gender or languages or want_hsa or want_accepting)
        verdicts = self._profile_verdict(screen, on)
        price_of = _Memo(lambda text: summary.parse_prices(text).get(minutes))
        languages_of = _Memo(lambda text: frozenset(summary.parse_languages(text)))
        # The score, inlined: credentials (certification_score, and years), rating through
        # the prior, distance within the limit, price against the budget (test_matching_engine
        # holds it to the formula as documented).
        w_distance, w_price = 100 * WEIGHTS["distance"], 100 * WEIGHTS["price"]
        w_years = 100 * WEIGHTS["credentials"] * EXPERIENCE_WEIGHT / EXPERIENCE_CAP
        w_rating = 100 * WEIGHTS["rating"] / 4
        prior_sum = PRIOR_MEAN * PRIOR_WEIGHT
        budget = req.max_price or REFERENCE_PRICE_PER_MINUTE * minutes

        def rank(rows, eliminated: dict[str, int]) -> list[tuple]:
            """(-score, distance, price, id, row) for each row that passes every filter;
            each row that fails counts against the first filter it fails."""
            ranked: list[tuple] = []
            append = ranked.append
            for r in rows:
                limit = r[10] if home_visit else radius
                if not limit:
                    eliminated["distance"] += 1
                    continue
                lat = r[1]  # local_distance(), inlined
                dy, dx = (lat - lat0) * ky, (r[2] - lon0) * kx * cos((lat + lat0) * half_rad)
                d = (dx * dx + dy * dy) ** 0.5
                if d >= limit * (1 - _EDGE):  # near the edge (or past it): measure exactly
                    if d <= limit * (1 + _EDGE):
                        d = geodesic_miles(origin, (lat, r[2]))
                    if d > limit:
                        eliminated["distance"] += 1
                        continue
                fixed = verdicts[r[3], r[4]]
                if fixed.__class__ is str:
                    eliminated[fixed] += 1
                    continue
                price = price_of[r[5]]
                if price is None:
                    eliminated["session_length"] += 1
                    continue
                if optional_filters:
                    failed = (
                        "price"
                        if max_price is not None and price > max_price
                        else "gender"
                        if gender and r[6] != gender
                        else "languages"
                        if languages and languages.isdisjoint(languages_of[r[7]])
                        else "hsa_fsa"
                        if want_hsa and not r[8]
                        else "accepting_new_clients"
                        if want_accepting and not r[9]
                        else None
                    )
                    if failed:
                        eliminated[failed] += 1
                        continue
                years, count = r[11] or 0, r[13]
                price_part = 1.5 - price / budget  # 1 at half the budget, 0 at 1.5 times it
                score = (
                    fixed
                    + w_years * (years if years < EXPERIENCE_CAP else EXPERIENCE_CAP)
                    + w_rating * ((prior_sum + (r[12] or 0.0) * count) / (PRIOR_WEIGHT + count) - 1)
                    + w_distance * (1 - d / limit)
                    + w_price * (0.0 if price_part < 0 else 1.0 if price_part > 1 else price_part)
                )
                append((-score, d, price, r[0], r))
            return ranked

        return rank


def explain(
    req: ClientRequest, c: Candidate, d: float, price: float, plan: Plan, screen: SafetyScreen, goal_reasons: list[str]
) -> tuple[str, ...]:
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


def refusal(screen: SafetyScreen, plan: Plan) -> MatchOutcome | None:
    """The answer when the client's conditions alone refuse a match (no location
    needed to say so), else None."""
    if not screen.blocked:
        return None
    return MatchOutcome(
        screen,
        plan,
        0,
        [],
        dict.fromkeys(FILTER_ORDER, 0),
        0,
        explanation="We cannot match you with a therapist right now: " + " ".join(screen.reasons),
    )


def settled_by_conditions(req: ClientRequest, screen: SafetyScreen) -> bool:
    """Whether the conditions alone settle the answer, whoever is nearby: they refuse
    a match, or they rule out every technique the client chose."""
    return screen.blocked or (bool(req.techniques) and not any(screen.allows(t) for t in req.techniques))


def ruled_out_choices(req: ClientRequest, screen: SafetyScreen) -> list[str]:
    """What the client chose that their conditions rule out: techniques, and goals
    no technique they may receive serves."""
    notes = [screen.ruled_out(t) for t in req.techniques if not screen.allows(t)]
    for goal in req.goals:
        techniques = GOAL_TECHNIQUES[goal]
        if not any(screen.allows(t) for t in techniques):
            where = screen.during(lambda rule, techniques=techniques: any(t in rule.ruled_out for t in techniques))
            notes.append(
                f"No technique that serves {GOALS[goal].lower()} is offered {where} "
                f"({technique_list(techniques)}), so no therapist is ranked for it."
            )
    return notes


# Orders a page of results may take: each ranked entry is (-score, distance, price, id, row).
ORDERS = {
    "best": None,  # the entry itself: best score, then nearer, cheaper, older
    "nearest": lambda e: (e[1], e[0], e[3]),
    "price": lambda e: (e[2], e[0], e[1], e[3]),
}


def match_listings(
    req: ClientRequest, rows: Sequence, *, on: date, offset: int = 0, limit: int = 20, order: str = "best"
) -> MatchOutcome:
    """Filter, rank and explain rows of listed therapists, as the search index holds them.

    Deterministic: ties go to the nearer, cheaper, older profile, whatever the input order.
    `order` (one of ORDERS) sorts the page by the best match, the nearest or the lowest price.
    """
    screen = screen_conditions(req.conditions)
    plan = recommend_plan(req.areas, req.goals, req.session_minutes)
    refused = refusal(screen, plan)
    if refused:
        return refused
    eliminated = dict.fromkeys(FILTER_ORDER, 0)
    ruled_out = ruled_out_choices(req, screen)
    if settled_by_conditions(req, screen):
        # No therapist, near or far, can be matched for these: say so, and nothing else.
        return MatchOutcome(
            screen,
            plan,
            0,
            [],
            eliminated,
            0,
            explanation=" ".join(ruled_out),
            suggestions=[
                f"Choose a technique you may receive ({technique_list(screen.allowed_techniques, 'or')}), "
                "or remove the technique filter."
            ],
            ruled_out=ruled_out,
        )
    judge = _Judge(req, screen, plan, on)
    # Scores and distances are computed from the row alone, so equal inputs give
    # equal floats; ids are unique, so tuples never compare as far as the row.
    ranked = judge.rank(rows, eliminated)
    considered = len(ranked) + sum(eliminated.values())
    page = []
    for neg_score, _, price, _, row in heapq.nsmallest(offset + limit, ranked, key=ORDERS[order])[offset:]:
        c = to_candidate(row, on)
        exact = distance_miles(judge.origin, (c.latitude, c.longitude))
        reasons = explain(req, c, exact, price, plan, screen, judge.goal_fit(c.techniques)[1])
        page.append(Match(c, exact, round(-neg_score, 2), price, reasons))
    outcome = MatchOutcome(screen, plan, len(ranked), page, eliminated, considered, ruled_out=ruled_out)
    if not ranked:
        explanation, outcome.suggestions = explain_no_match(req, screen, plan, eliminated, considered, rows, on)
        outcome.explanation = " ".join([*ruled_out, explanation])
    return outcome


def _wider_radius(radius: float) -> int:
    return int(min(100, max(radius + 5, ceil(radius * 2.5 / 5) * 5)))


# The client's own filters, each with the requests that drop it (a condition's
# rules are not the client's to drop).
_RELAXED = {
    "techniques": lambda req: [replace(req, techniques=())],
    "session_length": lambda req: [replace(req, session_minutes=m) for m in SESSION_LENGTHS],
    "price": lambda req: [replace(req, max_price=None)],
    "gender": lambda req: [replace(req, gender=None)],
    "languages": lambda req: [replace(req, languages=())],
    "hsa_fsa": lambda req: [replace(req, hsa_fsa=None)],
    "accepting_new_clients": lambda req: [replace(req, accepting_new_clients=None)],
}


def _matches_any(req: ClientRequest, screen: SafetyScreen, rows: Sequence, on: date) -> bool:
    plan = recommend_plan(req.areas, req.goals, req.session_minutes)
    return bool(_Judge(req, screen, plan, on).rank(rows, dict.fromkeys(FILTER_ORDER, 0)))


def explain_no_match(req, screen, plan, eliminated, considered, rows, on) -> tuple[str, list[str]]:
    """Say which filters removed the therapists nearby, and suggest only what would help:
    a filter of the client's is suggested for removal only if removing it finds someone."""
    nearby = considered - eliminated["distance"]
    can_widen = not req.home_visit and req.radius_miles < 100
    where = "who travel to you" if req.home_visit else f"within {req.radius_miles:g} miles"
    if nearby <= 0:
        if req.home_visit:
            return (
                "No verified therapist offers home visits that reach you.",
                ["Search without a home visit to see therapists you can visit."],
            )
        suggestion = (
            f"Widen the radius to {_wider_radius(req.radius_miles)} miles."
            if can_widen
            else "Try a nearby larger city."
        )
        return f"No verified therapists are {where}.", [suggestion]
    certs = [CERTIFICATION_NAMES[c] for c in screen.required_certifications]
    needed = screen.during(lambda rule: bool(rule.required_certification))
    wanted = [t for t in req.techniques if screen.allows(t)]
    texts = {
        "certification": (
            f"have no verified {certs[0]}" if len(certs) == 1 else f"lack verified {join_words(certs, 'or')}"
        )
        + f" (required {needed})",
        "safe_technique": "offer none of the techniques you may receive now "
        f"({technique_list(screen.allowed_techniques, 'or')})",
        "techniques": f"do not offer {technique_list(wanted, 'or')}" if wanted else "",
        "session_length": f"do not offer {plan.session_minutes}-minute sessions",
        "price": f"charge more than {money(req.max_price or 0)} for {plan.session_minutes} minutes",
        "gender": "are not of the gender you chose",
        "languages": "do not speak the languages you chose",
        "hsa_fsa": "do not accept HSA/FSA cards",
        "accepting_new_clients": "are not taking new clients",
    }
    parts = [f"{eliminated[name]} {texts[name]}" for name in FILTER_ORDER[1:] if eliminated[name]]
    message = (
        f"None of the {nearby} verified therapist{'s' if nearby != 1 else ''} {where} fit"
        f"{'s' if nearby == 1 else ''} everything you asked for: " + "; ".join(parts) + "."
    )
    return message, _suggestions(req, screen, plan, eliminated, rows, on, can_widen)


def _suggestions(req, screen, plan, eliminated, rows, on, can_widen) -> list[str]:
    suggestions = []
    if eliminated["certification"] or eliminated["safe_technique"]:
        # What the conditions require cannot be dropped; more therapists farther away may meet it.
        if can_widen:
            suggestions.append(
                f"Widen the radius to {_wider_radius(req.radius_miles)} miles: fewer therapists meet what "
                "your conditions require."
            )
        elif req.home_visit:
            suggestions.append("Search without a home visit: more therapists can see you at their practice.")
    # A filter that removed no one cannot be what stands in the way, except the
    # session length, which also sets the price compared with the budget.
    counted = [name for name in _RELAXED if eliminated[name] or (name == "session_length" and eliminated["price"])]
    helps = {
        name: [
            r
            for r in _RELAXED[name](req)
            if (name != "session_length" or r.session_minutes != plan.session_minutes)
            and _matches_any(r, screen, rows, on)
        ]
        for name in counted
    }
    texts = {
        "techniques": "Remove the technique filter.",
        "session_length": "Choose a {}-minute session.".format(
            join_words([str(r.session_minutes) for r in helps.get("session_length", ())] or [""], "or")
        ),
        "price": "Raise your budget.",
        "gender": "Remove the gender preference.",
        "languages": "Remove the language filter.",
        "hsa_fsa": "Remove the HSA/FSA filter.",
        "accepting_new_clients": "Include therapists with a waiting list.",
    }
    suggestions += [texts[name] for name in counted if helps[name]]
    if counted and not any(helps.values()):
        relaxed = req
        for name, relax in _RELAXED.items():
            if name != "session_length":
                relaxed = relax(relaxed)[0]
        if any(_matches_any(r, screen, rows, on) for r in _RELAXED["session_length"](relaxed)):
            suggestions.append("No single change is enough: remove several of your preferences.")
    return suggestions
