"""The domain's rules written out again, plainly, from domain.md ("Client
conditions" and "Client goals"): the oracle the product is held to.

Deliberately independent of the product's rule table (directory/matching/rules.py):
nothing here imports it, so a rule changed there and not in the domain fails.
"""

from __future__ import annotations

ALL_TECHNIQUES = frozenset({"swedish", "deep_tissue", "sports", "trigger_point", "reflexology", "prenatal", "oncology"})
GENTLE = frozenset({"swedish", "reflexology", "prenatal"})  # "gentle techniques only"

# Absolute contraindications: no match is offered at all.
ABSOLUTE = frozenset(
    {"fever", "skin_infection", "blood_clot", "recent_surgery", "severe_cardiovascular", "inflammatory_flare"}
)

# Relative: (verified certification required, techniques the client may receive).
RELATIVE: dict[str, tuple[str | None, frozenset[str]]] = {
    "pregnancy_first_trimester": ("prenatal", GENTLE),
    "pregnancy": ("prenatal", GENTLE),
    "cancer_treatment": ("oncology", ALL_TECHNIQUES - {"deep_tissue", "trigger_point"}),
    "varicose_veins": (None, ALL_TECHNIQUES),
    "inflammatory_condition": (None, GENTLE),
    "low_blood_pressure": (None, ALL_TECHNIQUES),
}

# Words each relative condition's notice must carry (domain.md's "notice:").
NOTICE_WORDS = {
    "pregnancy_first_trimester": "consult your healthcare provider",
    "pregnancy": "oils meant for pregnancy",
    "cancer_treatment": "medical clearance",
    "varicose_veins": "no direct pressure",
    "inflammatory_condition": "not during acute inflammation",
    "low_blood_pressure": "rise slowly",
}

CONTRADICTORY = (frozenset({"pregnancy_first_trimester", "pregnancy"}),)

GOAL_TECHNIQUES = {
    "stress": ("swedish", "reflexology"),
    "sleep": ("swedish", "reflexology"),
    "pain": ("deep_tissue", "trigger_point", "swedish"),
    "headaches": ("trigger_point", "deep_tissue"),
    "circulation": ("swedish", "reflexology", "sports"),
    "mobility": ("deep_tissue", "sports", "trigger_point"),
    "injury_recovery": ("deep_tissue", "sports", "trigger_point"),
    "athletic": ("sports", "trigger_point", "deep_tissue"),
    "posture": ("deep_tissue", "trigger_point"),
    "wellness": ("swedish",),
    "post_event": ("sports", "swedish"),
}


def contradictory(conditions) -> bool:
    return any(pair <= set(conditions) for pair in CONTRADICTORY)


def refuses(conditions) -> bool:
    return bool(ABSOLUTE & set(conditions))


def required_certifications(conditions) -> set[str]:
    return {RELATIVE[c][0] for c in conditions if c in RELATIVE and RELATIVE[c][0]}


def may_receive(conditions) -> frozenset[str]:
    """Every exclusion applies: the techniques allowed by all the conditions at once."""
    allowed = ALL_TECHNIQUES
    for c in conditions:
        if c in RELATIVE:
            allowed = allowed & RELATIVE[c][1]
    return allowed


def best_for_goal(goal, techniques, conditions) -> tuple[str, int] | None:
    """The strongest technique for a goal that the therapist offers and the client may receive."""
    allowed = may_receive(conditions)
    for rank, technique in enumerate(GOAL_TECHNIQUES[goal]):
        if technique in techniques and technique in allowed:
            return technique, rank
    return None


def intake_refused(conditions, techniques, certifications) -> bool:
    """Whether booking this therapist with this intake must be refused."""
    if contradictory(conditions) or refuses(conditions):
        return True
    if not required_certifications(conditions) <= set(certifications):
        return True
    return not (set(techniques) & may_receive(conditions))
