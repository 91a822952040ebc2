"""Scores and the reasons a client reads for one therapist."""

from __future__ import annotations

from ..vocabulary import GOALS, LANGUAGES, TECHNIQUES

AFFINITY = (1.0, 0.75, 0.5)  # a goal's techniques, strongest first
WEIGHTS = {"goal": 0.40, "distance": 0.25, "price": 0.12, "credentials": 0.11, "rating": 0.12}
# Reviews count through a Bayesian average: few reviews are pulled toward an
# ordinary 4 stars, so two five-star reviews do not outrank fifty of 4.5.
PRIOR_MEAN, PRIOR_WEIGHT = 4.0, 10


def rated(average: float | None, count: int) -> float:
    """The rating used for ranking, in stars."""
    return (PRIOR_MEAN * PRIOR_WEIGHT + (average or 0.0) * count) / (PRIOR_WEIGHT + count)


def rating_score(average: float | None, count: int) -> float:
    """0-1: 1 star -> 0, 5 stars -> 1, after the prior."""
    return (rated(average, count) - 1) / 4


CERTIFICATION_REASONS = {
    "prenatal": "Certified in prenatal massage",
    "oncology": "Trained in oncology massage",
    "sports": "Certified in sports massage",
    "reflexology": "Certified in reflexology",
    "board_certified": "Nationally board certified",
}


def goal_fit(techniques, goals, allowed) -> tuple[float, list[str]]:
    """Mean over the goals of the best affinity among allowed techniques, and the reasons."""
    if not goals:
        return 0.0, []
    total = 0.0
    best_by_goal: list[tuple[str, int, str]] = []
    for goal_slug in goals:
        goal = GOALS[goal_slug]
        for rank, technique in enumerate(goal.techniques):
            if technique in techniques and allowed(technique):
                total += AFFINITY[rank]
                best_by_goal.append((technique, rank, goal.label.lower()))
                break
    reasons: list[str] = []
    grouped: dict[tuple[str, bool], list[str]] = {}
    for technique, rank, goal_label in best_by_goal:
        grouped.setdefault((technique, rank == 0), []).append(goal_label)
    for (technique, strongest), labels in grouped.items():
        joined = labels[0] if len(labels) == 1 else ", ".join(labels[:-1]) + " and " + labels[-1]
        phrase = "among the best for" if strongest else "which helps with"
        reasons.append(f"Offers {TECHNIQUES[technique]}, {phrase} {joined}")
    return total / len(goals), reasons


def price_score(price: float, budget: float) -> float:
    """1 at half the budget or less, 0.5 at the budget, 0 at one and a half times it."""
    return max(0.0, min(1.0, 1.5 - price / budget))


EXPERIENCE_CAP, EXPERIENCE_WEIGHT = 20, 0.3  # years count up to 20


def certification_score(certifications) -> float:
    """The credentials score's part from certifications: board certification, and up to three."""
    board = 1.0 if "board_certified" in certifications else 0.0
    return 0.4 * board + 0.3 * min(len(certifications), 3) / 3


def experience_score(years_experience) -> float:
    """The credentials score's part from years of practice."""
    return EXPERIENCE_WEIGHT * min(years_experience or 0, EXPERIENCE_CAP) / EXPERIENCE_CAP


def credential_score(certifications, years_experience) -> float:
    """0-1: board certification 0.4, years of practice 0.3, certifications 0.3."""
    return certification_score(certifications) + experience_score(years_experience)


def combine(goal: float, distance: float, price: float, credentials: float, rating: float) -> float:
    return 100 * (
        WEIGHTS["goal"] * goal
        + WEIGHTS["distance"] * distance
        + WEIGHTS["price"] * price
        + WEIGHTS["credentials"] * credentials
        + WEIGHTS["rating"] * rating
    )


def money(amount: float) -> str:
    return f"${amount:,.0f}" if float(amount).is_integer() else f"${amount:,.2f}"


def language_names(codes) -> str:
    return ", ".join(LANGUAGES.get(c, c) for c in codes)
