"""Safety screening of a client's conditions, by the rules of rules.py."""

from __future__ import annotations

from dataclasses import dataclass

from ..vocabulary import CONDITIONS, STANDING_ADVICE, TECHNIQUES
from .rules import BLOCK_ADVICE, CONDITION_RULES, contradiction, join_words


@dataclass(frozen=True)
class SafetyScreen:
    blocked: bool
    reasons: tuple[str, ...] = ()
    notices: tuple[str, ...] = ()
    required_certifications: tuple[str, ...] = ()
    excluded_techniques: tuple[str, ...] = ()
    conditions: tuple[str, ...] = ()

    def allows(self, technique: str) -> bool:
        return technique not in self.excluded_techniques

    @property
    def allowed_techniques(self) -> tuple[str, ...]:
        return tuple(t for t in TECHNIQUES if t not in self.excluded_techniques)

    def during(self, why=lambda rule: True) -> str:
        """How the explanations name the client's conditions (those `why` picks)."""
        return join_words([r.during for c in self.conditions if (r := CONDITION_RULES[c]).during and why(r)], "or")

    def ruled_out(self, technique: str) -> str:
        """Why a technique the client chose is not offered to them."""
        where = self.during(lambda rule: technique in rule.ruled_out)
        return f"{TECHNIQUES[technique]} is not offered {where}."

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

    Any absolute contraindication blocks matching altogether; every relative
    one applies: its required certification, its excluded techniques, its
    notice. The standing advice closes every answer. Raises ValueError for an
    unknown condition or conditions that cannot apply together.
    """
    unknown = [c for c in conditions if c not in CONDITIONS]
    if unknown:
        raise ValueError(f"unknown conditions: {', '.join(unknown)}")
    clash = contradiction(conditions)
    if clash:
        raise ValueError(clash)
    given = set(conditions)
    rules = [rule for slug, rule in CONDITION_RULES.items() if slug in given]
    ordered = tuple(rule.slug for rule in rules)
    if any(rule.blocks for rule in rules):
        reasons = tuple(rule.notice for rule in rules if rule.blocks) + (BLOCK_ADVICE,)
        return SafetyScreen(blocked=True, reasons=reasons, notices=STANDING_ADVICE, conditions=ordered)
    excluded = {t for rule in rules for t in rule.ruled_out}
    notices = tuple(" ".join((f"{rule.label}.", rule.notice, *rule.effects)) for rule in rules)
    return SafetyScreen(
        blocked=False,
        notices=notices + STANDING_ADVICE,
        required_certifications=tuple(sorted({r.required_certification for r in rules if r.required_certification})),
        excluded_techniques=tuple(t for t in TECHNIQUES if t in excluded),
        conditions=ordered,
    )
