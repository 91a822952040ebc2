"""What a result card says about one therapist, beyond distance, price and rating
(which the card shows on their own lines): the reasons that set this therapist
apart, at most four, the goal fit first."""

from __future__ import annotations

from ..matching.engine import ClientRequest, Match
from ..matching.safety import SafetyScreen
from ..matching.scoring import CERTIFICATION_REASONS, goal_fit, language_names
from ..vocabulary import TECHNIQUES

MAX_REASONS = 4


def card_reasons(match: Match, req: ClientRequest, screen: SafetyScreen) -> list[str]:
    c = match.candidate
    allowed = sorted(t for t in c.techniques if screen.allows(t))
    goal_lines = goal_fit(c.techniques, req.goals, screen.allows)[1]
    named = {t for t in allowed if any(TECHNIQUES[t] in line for line in goal_lines)}
    others = [TECHNIQUES[t] for t in allowed if t not in named]
    lines = list(goal_lines)
    if others:
        lines.append(("Also offers " if named else "Offers ") + ", ".join(others[:3]))
    for cert in sorted(c.certifications):
        if cert in screen.required_certifications:
            lines.append(CERTIFICATION_REASONS[cert] + ", as your condition requires")
        elif cert in CERTIFICATION_REASONS:
            lines.append(CERTIFICATION_REASONS[cert])
    if c.years_experience:
        lines.append(f"{c.years_experience} year{'s' if c.years_experience != 1 else ''} in practice")
    other_languages = [code for code in c.languages if code != "en"]
    if other_languages:
        lines.append("Also speaks " + language_names(other_languages))
    if c.hsa_fsa:
        lines.append("Accepts HSA/FSA cards")
    if c.mobile_radius_miles:
        lines.append(f"Home visits up to {c.mobile_radius_miles:g} miles")
    return lines[:MAX_REASONS]
