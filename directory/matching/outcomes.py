"""Outcome ratings as data: the question asked for each goal, the change that
matters, the privacy floor, and the words a client reads about them.

A client answers one 0-10 question per goal when they request a visit and the
same question in the "How was your visit?" follow-up a day after. The
estimator of each therapist's effect (effects.py), the client's chart, the
therapist's results, the ranking, the card sentence, /about/safety and
GET /api/v1/rules all read this one module, so what is published is what the
code does.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..vocabulary import GOALS

SCALE = (0, 10)

# No aggregate (page, API, export, ranking) over fewer distinct consenting clients.
MIN_CLIENTS = 10
# Pairs of ratings counted per client per therapist: a client's first ones, so a
# result does not move as one loyal (or friendly) client keeps booking.
MAX_PAIRS_PER_CLIENT = 5
# The rating after a visit is taken from its end until this many days later (the
# follow-up asks a day after); a rating weeks later says little about the visit.
POST_WINDOW_DAYS = 7


@dataclass(frozen=True)
class RatingQuestion:
    goal: str  # the goal slug it measures (vocabulary.GOALS)
    topic: str  # how a sentence names what is rated: "pain", "sleep trouble"
    question: str
    low: str  # what 0 means
    high: str  # what 10 means

    @property
    def label(self) -> str:
        return GOALS[self.goal]

    def as_dict(self) -> dict:
        return {
            "goal": self.goal,
            "goal_label": self.label,
            "topic": self.topic,
            "question": self.question,
            "scale": list(SCALE),
            "low": self.low,
            "high": self.high,
        }


# Goals without a question here are not rated (nothing is measured for them).
QUESTIONS: dict[str, RatingQuestion] = {
    q.goal: q
    for q in (
        RatingQuestion(
            "pain", "pain", "How much pain have you had in the last 24 hours?", "no pain", "worst imaginable"
        ),
        RatingQuestion(
            "stress",
            "stress",
            "How stressed or anxious have you felt in the last 24 hours?",
            "not at all",
            "worst imaginable",
        ),
        RatingQuestion(
            "sleep",
            "sleep trouble",
            "How much trouble have you had sleeping in the last 24 hours?",
            "none",
            "worst imaginable",
        ),
        RatingQuestion(
            "mobility",
            "stiffness",
            "How stiff have you felt in the last 24 hours?",
            "not stiff at all",
            "worst imaginable",
        ),
    )
}
if not set(QUESTIONS) <= set(GOALS):
    raise ValueError("every rated goal must be a goal of the vocabulary")

CONSENT_WORDS = "Let my ratings count, anonymously, toward this therapist's results."

# The thresholds: a fall of at least 2 points, or of at least 30% of where the
# client started, on a 0-10 scale (either one is enough).
MATTERS_POINTS = 2
MATTERS_PERCENT = 30

MATTERS_SOURCE = (
    "For pain, a fall of at least 2 points or at least 30% on a 0-10 rating is the change patients rated "
    '"much improved": Farrar et al., Pain 2001 (94:149-158), and the IMMPACT recommendations, Dworkin et al., '
    "J Pain 2008 (9:105-121), which call a 30% fall moderately important. No comparable threshold has been "
    "published for one 0-10 rating of stress, sleep trouble or stiffness, so the site applies the same "
    "convention to them (a product rule, not a finding)."
)


def change_matters(pre: float, post: float) -> bool:
    """Whether going from `pre` to `post` is a fall that matters: at least 2 points or at least 30% of `pre`.

    A rise, or no change, never matters as an improvement; from 0 there is nowhere to fall.
    """
    fall = pre - post
    if fall <= 0:
        return False
    # Multiplied out rather than divided: exact for whole-number ratings (3 of 10 is 30%, not 29.999...%).
    return fall >= MATTERS_POINTS or 100 * fall >= MATTERS_PERCENT * pre


def effect_sentence(goal: str, fall: float, clients: int) -> str | None:
    """The card's plain sentence for a therapist's adjusted effect on a goal, or None
    when it may not be shown (fewer than MIN_CLIENTS clients, or a goal not rated)."""
    question = QUESTIONS.get(goal)
    if question is None or clients < MIN_CLIENTS:
        return None
    shown = round(fall, 1)
    if shown <= 0:
        return f"Clients with {question.topic} like yours did not improve on average, {clients} clients"
    unit = "point" if shown == 1 else "points"
    return f"Clients with {question.topic} like yours improved by {shown:.1f} {unit} on average, {clients} clients"


RULE_TEXT = (
    f"Clients may rate each goal of a visit on a 0-10 scale when they book and again a day after the visit, "
    f"and may choose separately to let their ratings count, anonymously, toward the therapist's results. "
    f"Only completed visits count, rated again within {POST_WINDOW_DAYS} days after the visit, one pair of "
    f"ratings per goal per visit, and at most {MAX_PAIRS_PER_CLIENT} pairs per "
    f"client per therapist (the first ones). No result is shown or used over fewer than {MIN_CLIENTS} distinct "
    f"consenting clients, anywhere: pages, API, exports or ranking. A therapist's effect on a goal is adjusted "
    f"for where their clients started (a client who starts high tends to fall further, whoever treats them) "
    f"and pulled toward the average of all therapists in proportion to its uncertainty (empirical Bayes), so a "
    f"few lucky results do not outrank many good ones; the average and the adjustment are measured over every "
    f"consenting client of every therapist, including those still under the floor, whose own results stay "
    f"unshown. The card's figure is the fall expected for a client who starts where you do. It only reorders "
    f"matches that are already safe; it never overrides safety screening or listing rules."
)


def published() -> dict:
    """The outcome rules as /about/safety and GET /api/v1/rules publish them."""
    return {
        "questions": [q.as_dict() for q in QUESTIONS.values()],
        "consent": CONSENT_WORDS,
        "change_that_matters": {
            "points": MATTERS_POINTS,
            "percent": MATTERS_PERCENT,
            "rule": (
                f"A fall of at least {MATTERS_POINTS} points or at least {MATTERS_PERCENT}% of where the client "
                "started."
            ),
            "source": MATTERS_SOURCE,
        },
        "min_clients": MIN_CLIENTS,
        "max_pairs_per_client": MAX_PAIRS_PER_CLIENT,
        "rule": RULE_TEXT,
    }
