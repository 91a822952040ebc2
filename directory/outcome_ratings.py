"""Clients' outcome ratings: the one writer of OutcomeRating rows, a therapist's
results and a client's own history.

The questions, the change that matters and the privacy floor are data in
matching/outcomes.py; each therapist's effect comes from matching/effects.py,
fitted over every counted pair of the goal. A pair counts only when its visit
is completed, the client is still known, rated again after the visit, and the
client chose to let it count.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from .extensions import db
from .matching.effects import EffectModel, RatingPair, estimate_effects
from .matching.outcomes import POST_WINDOW_DAYS, QUESTIONS, SCALE, change_matters, effect_sentence
from .models import Booking, BookingStatus, OutcomeRating, TherapistProfile, User, utcnow
from .service_errors import Conflict, Forbidden, ServiceError, raise_all

BEFORE_VISIT = (BookingStatus.PENDING, BookingStatus.CONFIRMED)


@dataclass(frozen=True)
class GoalResult:
    """A therapist's results on one goal, from MIN_CLIENTS consenting clients or more."""

    goal: str
    clients: int  # distinct consenting clients counted
    improved_share: float  # of those, the share whose change mattered
    fall: float  # the adjusted effect: expected fall for a typical client, in points
    low: float  # its 95% interval
    high: float
    sentence: str

    def as_dict(self) -> dict:
        return {
            "goal": self.goal,
            "clients": self.clients,
            "improved_share": round(self.improved_share, 3),
            "fall": round(self.fall, 2),
            "interval": [round(self.low, 2), round(self.high, 2)],
            "sentence": self.sentence,
        }


@dataclass(frozen=True)
class HistoryPoint:
    """One visit on a client's chart of one goal."""

    booking_id: int
    therapist_name: str
    starts_at: datetime
    pre: int
    post: int | None  # None until they answer the follow-up
    matters: bool  # the fall is a change that matters (False until there is a post)


def field_name(goal: str) -> str:
    """The form and JSON field of a goal's rating: 'rating_pain'."""
    return f"rating_{goal}"


def _parse(ratings: Mapping[str, object], allowed: set[str]) -> dict[str, int]:
    """Whole numbers on the scale, one per allowed goal; every problem at its field."""
    low, high = SCALE
    out: dict[str, int] = {}
    problems: list[ServiceError] = []
    for goal, value in ratings.items():
        if goal not in allowed:
            known = ", ".join(sorted(allowed)) or "none"
            problems.append(ServiceError(f"No rating is asked for {goal!r} on this visit (asked: {known}).", "ratings"))
            continue
        text = str(value).strip() if not isinstance(value, bool) else ""
        if not text.isdigit() or not low <= int(text) <= high:
            problems.append(ServiceError(f"Choose a whole number from {low} to {high}.", field_name(goal)))
            continue
        out[goal] = int(text)
    raise_all(problems)
    return out


def _own(client: User, booking: Booking) -> None:
    if booking.client_id is None or booking.client_id != client.id:
        raise Forbidden("You can only rate your own visits.")


def _rows(booking: Booking) -> dict[str, OutcomeRating]:
    return {r.goal: r for r in db.session.scalars(select(OutcomeRating).where(OutcomeRating.booking_id == booking.id))}


def record_pre(client: User, booking: Booking, ratings: Mapping[str, object], consent: bool) -> list[OutcomeRating]:
    """The ratings given when a visit is requested, for the goals of its intake that are rated.

    Part of the booking request: flushed, committed by the caller with the booking."""
    _own(client, booking)
    if booking.status not in BEFORE_VISIT:
        raise ServiceError("Ratings before a visit are given when it is requested.")
    goals = set(QUESTIONS)
    if booking.intake is not None and booking.intake.goals:
        goals &= set(booking.intake.goals.split(";"))
    parsed = _parse(ratings, goals)
    if _rows(booking):
        raise Conflict("This visit already has your ratings.")
    rows = [OutcomeRating(booking_id=booking.id, goal=g, pre=v, consent=bool(consent)) for g, v in parsed.items()]
    db.session.add_all(rows)
    db.session.flush()
    return rows


def record_post(client: User, booking: Booking, ratings: Mapping[str, object]) -> list[OutcomeRating]:
    """The same questions answered after the visit ("How was your visit?"); committed."""
    _own(client, booking)
    if booking.status != BookingStatus.COMPLETED:
        raise ServiceError("You can rate how you feel after the visit once it is completed.")
    if utcnow() > booking.ends_at + timedelta(days=POST_WINDOW_DAYS):
        raise ServiceError(f"Ratings after a visit are taken within {POST_WINDOW_DAYS} days of it.")
    rows = _rows(booking)
    parsed = _parse(ratings, set(rows))
    if any(rows[g].post is not None for g in parsed):
        raise Conflict("You already rated how you felt after this visit.")
    now = utcnow()
    for goal, value in parsed.items():
        rows[goal].post, rows[goal].post_at = value, now
    db.session.commit()
    return [rows[g] for g in parsed]


def set_consent(client: User, booking: Booking, consent: bool) -> None:
    """Let this visit's ratings count toward the therapist's results, or stop them counting."""
    _own(client, booking)
    rows = _rows(booking)
    if not rows:
        raise ServiceError("This visit has no ratings.")
    for row in rows.values():
        row.consent = bool(consent)
    db.session.commit()


def counted_pairs(goal: str) -> list[RatingPair]:
    """Every pair that counts toward results on a goal, in the order the visits happened."""
    rows = db.session.execute(
        select(Booking.therapist_id, Booking.client_id, OutcomeRating.pre, OutcomeRating.post)
        .join(Booking, Booking.id == OutcomeRating.booking_id)
        .where(
            OutcomeRating.goal == goal,
            OutcomeRating.consent.is_(True),
            OutcomeRating.post.is_not(None),
            Booking.status == BookingStatus.COMPLETED,
            Booking.client_id.is_not(None),
        )
        .order_by(Booking.starts_at, Booking.id)
    )
    return [RatingPair(therapist, client, float(pre), float(post)) for therapist, client, pre, post in rows]


def goal_model(goal: str) -> EffectModel:
    """Every therapist's effect on a goal (only those with MIN_CLIENTS clients or more have one)."""
    return estimate_effects(counted_pairs(goal))


def therapist_results(profile: TherapistProfile) -> dict[str, GoalResult | None]:
    """Per rated goal, the therapist's results; None where fewer than MIN_CLIENTS clients count."""
    out: dict[str, GoalResult | None] = {}
    for goal in QUESTIONS:
        effect = goal_model(goal).effects.get(profile.id)
        sentence = effect_sentence(goal, effect.fall, effect.clients) if effect else None
        out[goal] = (
            GoalResult(goal, effect.clients, effect.improved_share, effect.fall, effect.low, effect.high, sentence)
            if effect and sentence
            else None
        )
    return out


def client_history(user: User) -> dict[str, list[HistoryPoint]]:
    """A client's own ratings of each goal across their completed visits, oldest first."""
    rows = db.session.execute(
        select(OutcomeRating, Booking.starts_at, TherapistProfile.name)
        .join(Booking, Booking.id == OutcomeRating.booking_id)
        .join(TherapistProfile, TherapistProfile.id == Booking.therapist_id)
        .where(Booking.client_id == user.id, Booking.status == BookingStatus.COMPLETED)
        .order_by(Booking.starts_at, Booking.id)
    )
    out: dict[str, list[HistoryPoint]] = {}
    for rating, starts_at, name in rows:
        matters = rating.post is not None and change_matters(rating.pre, rating.post)
        out.setdefault(rating.goal, []).append(
            HistoryPoint(rating.booking_id, name, starts_at, rating.pre, rating.post, matters)
        )
    return out
