"""Safety screening of a client's conditions (the domain's contraindication tables)."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..vocabulary import ABSOLUTE_CONDITIONS, CONDITIONS, RELATIVE_CONDITIONS, STANDING_ADVICE, TECHNIQUES

GENTLE_TECHNIQUES = frozenset({"swedish", "reflexology", "prenatal"})


@dataclass(frozen=True)
class ConditionRule:
    required_certification: str | None = None
    excluded_techniques: frozenset[str] = frozenset()
    notice: str = ""


RELATIVE_RULES: dict[str, ConditionRule] = {
    "pregnancy_first_trimester": ConditionRule(
        "prenatal",
        frozenset({"deep_tissue"}),
        "Pregnant, first trimester: consult your healthcare provider before you book. We only show "
        "therapists with a verified prenatal certification, and you will not be matched for deep tissue work.",
    ),
    "pregnancy": ConditionRule(
        "prenatal",
        frozenset({"deep_tissue"}),
        "Pregnancy: expect gentle, slow work with oils meant for pregnancy, and no deep tissue work. "
        "We only show therapists with a verified prenatal certification.",
    ),
    "cancer_treatment": ConditionRule(
        "oncology",
        frozenset(),
        "Cancer treatment: you need medical clearance from your care team first, and the therapist "
        "will adjust pressure. We only show therapists with verified oncology massage training.",
    ),
    "varicose_veins": ConditionRule(None, frozenset(), "Varicose veins: no direct pressure on the affected areas."),
    "inflammatory_flare": ConditionRule(
        None,
        frozenset(TECHNIQUES) - GENTLE_TECHNIQUES,
        "Inflammatory flare-up: gentle techniques only (Swedish massage, reflexology, prenatal "
        "massage), and no massage during acute inflammation.",
    ),
    "low_blood_pressure": ConditionRule(
        None,
        frozenset(),
        "Low blood pressure or dizziness: massage can lower blood pressure further, so rise slowly afterwards.",
    ),
}


@dataclass(frozen=True)
class SafetyScreen:
    blocked: bool
    reasons: tuple[str, ...] = ()
    notices: tuple[str, ...] = ()
    required_certifications: tuple[str, ...] = ()
    excluded_techniques: tuple[str, ...] = ()
    conditions: tuple[str, ...] = field(default=())

    def allows(self, technique: str) -> bool:
        return technique not in self.excluded_techniques

    def as_dict(self) -> dict:
        return {
            "blocked": self.blocked,
            "reasons": list(self.reasons),
            "notices": list(self.notices),
            "required_certifications": list(self.required_certifications),
            "excluded_techniques": list(self.excluded_techniques),
        }


def screen_conditions(conditions) -> SafetyScreen:
    """What the client's conditions do to a match.

    Any absolute contraindication blocks matching altogether; relative ones add
    required certifications, exclude techniques and add notices. The standing
    advice closes every answer.
    """
    unknown = [c for c in conditions if c not in CONDITIONS]
    if unknown:
        raise ValueError(f"unknown conditions: {', '.join(unknown)}")
    ordered = tuple(c for c in CONDITIONS if c in set(conditions))
    absolute = [c for c in ordered if c in ABSOLUTE_CONDITIONS]
    if absolute:
        reasons = tuple(f"{ABSOLUTE_CONDITIONS[c]}: massage is not safe for you right now." for c in absolute) + (
            "Please see a healthcare provider first; come back when they say massage is safe for you.",
        )
        return SafetyScreen(blocked=True, reasons=reasons, notices=STANDING_ADVICE, conditions=ordered)

    rules = [RELATIVE_RULES[c] for c in ordered if c in RELATIVE_CONDITIONS]
    required = sorted({r.required_certification for r in rules if r.required_certification})
    excluded = sorted(set().union(*(r.excluded_techniques for r in rules)) if rules else set())
    notices = tuple(r.notice for r in rules) + STANDING_ADVICE
    return SafetyScreen(
        blocked=False,
        notices=notices,
        required_certifications=tuple(required),
        excluded_techniques=tuple(t for t in TECHNIQUES if t in excluded),
        conditions=ordered,
    )
