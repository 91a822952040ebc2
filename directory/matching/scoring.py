"""The score's weights and the parts of it that depend on a therapist's profile
alone, and the reasons a client reads for one therapist.

The engine combines them, with distance, price and rating, inline in its loop
(engine.py `_Judge`); this module holds the numbers it uses.
"""

from __future__ import annotations

from ..vocabulary import GOALS, LANGUAGES, TECHNIQUES
from .rules import GOAL_TECHNIQUES

AFFINITY = (1.0, 0.75, 0.5)  # a goal's techniques, strongest first
WEIGHTS = {"goal": 0.40, "distance": 0.25, "price": 0.12, "credentials": 0.11, "rating": 0.12}
# Reviews count through a Bayesian average: few reviews are pulled toward an
# ordinary 4 stars, so two five-star reviews do not outrank fifty of 4.5.
PRIOR_MEAN, PRIOR_WEIGHT = 4.0, 10
# The credentials part: board certification 0.4, certifications 0.3 (up to
# three), years of practice 0.3 (up to 20).
EXPERIENCE_CAP, EXPERIENCE_WEIGHT = 20, 0.3

CERTIFICATION_REASONS = {
    "prenatal": "Certified in prenatal massage",
    "oncology": "Trained in oncology massage",
    "sports": "Certified in sports massage",
    "reflexology": "Certified in reflexology",
    "board_certified": "Nationally board certified",
}


def goal_fit(techniques, goals, allowed) -> tuple[float, list[str]]:
    """Mean over the goals of the best affinity among allowed techniques, and the reasons.

    A technique the client may not receive never counts, nor is it named.
    """
    if not goals:
        return 0.0, []
    total = 0.0
    best_by_goal: list[tuple[str, int, str]] = []
    for goal in goals:
        for rank, technique in enumerate(GOAL_TECHNIQUES[goal]):
            if technique in techniques and allowed(technique):
                total += AFFINITY[rank]
                best_by_goal.append((technique, rank, GOALS[goal].lower()))
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


def certification_score(certifications) -> float:
    """The credentials part from certifications (0-0.7): board certification, and up to three."""
    board = 1.0 if "board_certified" in certifications else 0.0
    return 0.4 * board + 0.3 * min(len(certifications), 3) / 3


def money(amount: float) -> str:
    return f"${amount:,.0f}" if float(amount).is_integer() else f"${amount:,.2f}"


def language_names(codes) -> str:
    return ", ".join(LANGUAGES.get(c, c) for c in codes)
