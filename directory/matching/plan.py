"""The recommended session plan: length from body areas, frequency from goals, cost."""

from __future__ import annotations

from dataclasses import dataclass

from ..vocabulary import FREQUENCIES

DEFAULT_MINUTES = 60  # product rule: with no body areas named, a full session
# Sessions a month at each frequency (domain product rule), as a range.
SESSIONS_PER_MONTH: dict[str, tuple[float, float]] = {
    "weekly_or_biweekly": (2.0, 4.3),
    "monthly": (1.0, 2.0),
    "single_session": (1.0, 1.0),
}
_STRENGTH = {"single_session": 0, "monthly": 1, "weekly_or_biweekly": 2}


@dataclass(frozen=True)
class Plan:
    session_minutes: int
    frequency: str
    minutes_from_areas: int | None = None

    @property
    def frequency_label(self) -> str:
        return FREQUENCIES[self.frequency]

    def cost(self, price_per_session: float) -> dict:
        low, high = SESSIONS_PER_MONTH[self.frequency]
        return {
            "per_session": round(price_per_session, 2),
            "per_month_low": round(price_per_session * low, 2),
            "per_month_high": round(price_per_session * high, 2),
        }

    def as_dict(self) -> dict:
        return {
            "session_minutes": self.session_minutes,
            "frequency": self.frequency,
            "frequency_label": self.frequency_label,
            "sessions_per_month": list(SESSIONS_PER_MONTH[self.frequency]),
        }


def minutes_for_areas(areas) -> int | None:
    areas = set(areas)
    if not areas:
        return None
    if "full_body" in areas or len(areas) >= 4:
        return 60
    return 30 if len(areas) == 1 else 45


def frequency_for_goals(goals) -> str:
    """The strongest need wins: weekly_or_biweekly > monthly > single_session."""
    goals = set(goals)
    if not goals:
        return "monthly"
    wanted = {
        "weekly_or_biweekly"
        if g in ("pain", "injury_recovery")
        else "single_session"
        if g == "post_event"
        else "monthly"
        for g in goals
    }
    return max(wanted, key=_STRENGTH.__getitem__)


def recommend_plan(areas=(), goals=(), session_minutes: int | None = None) -> Plan:
    """The plan for these areas and goals; a length the client chose wins over the areas."""
    from_areas = minutes_for_areas(areas)
    minutes = session_minutes or from_areas or DEFAULT_MINUTES
    return Plan(session_minutes=minutes, frequency=frequency_for_goals(goals), minutes_from_areas=from_areas)
