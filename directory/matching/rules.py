"""The matching rules as data: what each client condition does to a match, and
which techniques serve each goal (domain.md, drawn from the article).

Everything that applies or explains these rules reads this one table: the
safety screening (safety.py), goal fit (scoring.py), the engine's explanations,
the booking intake, the /about/safety page and GET /api/v1/rules. What a client
reads is therefore what the code does.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..vocabulary import ABSOLUTE_CONDITIONS, CERTIFICATIONS, CONDITIONS, GOALS, STANDING_ADVICE, TECHNIQUES

# The article: "gentle techniques only"; "gentle and slow, without deep tissue work".
GENTLE_TECHNIQUES: tuple[str, ...] = ("swedish", "reflexology", "prenatal")


@dataclass(frozen=True)
class ConditionRule:
    slug: str
    blocks: bool = False  # an absolute contraindication: no match at all
    required_certification: str | None = None  # verified, held by every therapist matched
    allowed_techniques: tuple[str, ...] | None = None  # "X only"; None: any technique not excluded
    excluded_techniques: tuple[str, ...] = ()  # "no X"
    notice: str = ""  # what the client reads (for a block: why, and what to do)
    during: str = ""  # how an explanation names the condition: "during pregnancy"

    @property
    def label(self) -> str:
        return CONDITIONS[self.slug]

    @property
    def ruled_out(self) -> tuple[str, ...]:
        """The techniques a client with this condition is never matched for."""
        allowed = self.allowed_techniques
        return tuple(
            t for t in TECHNIQUES if t in self.excluded_techniques or (allowed is not None and t not in allowed)
        )

    @property
    def effects(self) -> tuple[str, ...]:
        """What the rule does to a match, in words generated from its fields (a block says it itself)."""
        out: list[str] = []
        if self.blocks:
            return ()
        if self.required_certification:
            out.append(f"We only show therapists with a verified {CERTIFICATION_NAMES[self.required_certification]}.")
        if self.allowed_techniques is not None:
            kind = "gentle techniques" if set(self.allowed_techniques) == set(GENTLE_TECHNIQUES) else "these techniques"
            out.append(f"You are matched for {kind} only: {technique_list(self.allowed_techniques)}.")
        elif self.ruled_out:
            out.append(f"You are never matched for {technique_list(self.ruled_out, 'or')}.")
        return tuple(out)

    def as_dict(self) -> dict:
        return {
            "slug": self.slug,
            "label": self.label,
            "kind": "absolute" if self.blocks else "relative",
            "blocks": self.blocks,
            "required_certification": self.required_certification,
            "allowed_techniques": [t for t in TECHNIQUES if t not in self.ruled_out] if not self.blocks else [],
            "excluded_techniques": list(self.ruled_out) if not self.blocks else list(TECHNIQUES),
            "notice": self.notice,
            "effects": list(self.effects),
        }


def _refuses(slug: str, notice: str = "") -> ConditionRule:
    return ConditionRule(
        slug, blocks=True, notice=notice or f"{CONDITIONS[slug]}: massage is not safe for you right now."
    )


CONDITION_RULES: dict[str, ConditionRule] = {
    rule.slug: rule
    for rule in (
        _refuses("fever"),
        _refuses("skin_infection"),
        _refuses("blood_clot"),
        _refuses("recent_surgery"),
        _refuses("severe_cardiovascular"),
        _refuses(
            "inflammatory_flare",
            "A flare-up is acute inflammation, and massage is never safe during acute inflammation: "
            "book once the flare has settled.",
        ),
        ConditionRule(
            "pregnancy_first_trimester",
            required_certification="prenatal",
            allowed_techniques=GENTLE_TECHNIQUES,
            notice="Consult your healthcare provider before you book.",
            during="in the first trimester of pregnancy",
        ),
        ConditionRule(
            "pregnancy",
            required_certification="prenatal",
            allowed_techniques=GENTLE_TECHNIQUES,
            notice="Expect gentle, slow work with oils meant for pregnancy, and no deep tissue work.",
            during="during pregnancy",
        ),
        ConditionRule(
            "cancer_treatment",
            required_certification="oncology",
            excluded_techniques=("deep_tissue", "trigger_point"),
            notice="You need medical clearance from your care team first; pressure and technique will be adjusted.",
            during="during cancer treatment",
        ),
        ConditionRule(
            "varicose_veins",
            notice="No direct pressure on the affected areas: tell your therapist where they are.",
            during="with varicose veins",
        ),
        ConditionRule(
            "inflammatory_condition",
            allowed_techniques=GENTLE_TECHNIQUES,
            notice="Not during acute inflammation: if it flares, postpone and book once the flare has settled.",
            during="with an inflammatory condition",
        ),
        ConditionRule(
            "low_blood_pressure",
            notice="Massage can lower blood pressure further: rise slowly afterwards.",
            during="with low blood pressure",
        ),
    )
}
if list(CONDITION_RULES) != list(CONDITIONS):  # checked at import, also under python -O
    raise RuntimeError("every condition of the vocabulary has exactly one rule")
if not all(CONDITION_RULES[slug].blocks for slug in ABSOLUTE_CONDITIONS):
    raise RuntimeError("every absolute contraindication blocks")

BLOCK_ADVICE = "Please see a healthcare provider first; come back when they say massage is safe for you."

# Conditions that cannot apply together: a request naming them is refused.
CONTRADICTIONS: tuple[tuple[tuple[str, ...], str], ...] = (
    (
        ("pregnancy_first_trimester", "pregnancy"),
        "A pregnancy is either in its first trimester or in its second or third: choose the one that applies.",
    ),
)

SEVERAL_CONDITIONS = (
    "When several conditions apply, every one applies: any absolute condition refuses, every required "
    "certification is required, and every excluded technique stays excluded. A therapist left with no "
    "technique you may receive is not matched."
)

# Goals and the techniques that serve them, strongest first.
GOAL_TECHNIQUES: dict[str, tuple[str, ...]] = {
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
if list(GOAL_TECHNIQUES) != list(GOALS):
    raise RuntimeError("every goal of the vocabulary has its techniques")

# How a certification reads inside a sentence: "no verified prenatal certification".
CERTIFICATION_NAMES: dict[str, str] = {
    "prenatal": "prenatal certification",
    "oncology": "oncology massage training",
    "sports": "sports massage certification",
    "reflexology": "reflexology certification",
    "board_certified": "national board certification",
}
if set(CERTIFICATION_NAMES) != set(CERTIFICATIONS):
    raise RuntimeError("every certification has its name in a sentence")


def technique_name(slug: str) -> str:
    """A technique inside a sentence: 'deep tissue massage', but 'Swedish massage'."""
    label = TECHNIQUES[slug]
    return label if label.startswith("Swedish") else label[0].lower() + label[1:]


def join_words(words, conjunction: str = "and") -> str:
    words = list(words)
    if len(words) < 2:
        return "".join(words)
    return ", ".join(words[:-1]) + f" {conjunction} " + words[-1]


def technique_list(slugs, conjunction: str = "and") -> str:
    return join_words((technique_name(t) for t in slugs), conjunction)


def contradiction(conditions) -> str | None:
    """Why these conditions cannot all apply, or None."""
    given = set(conditions)
    return next((message for slugs, message in CONTRADICTIONS if given.issuperset(slugs)), None)


def refuses(conditions) -> bool:
    """Whether these conditions refuse a match, wherever the client is (unknown slugs aside)."""
    return any(CONDITION_RULES[c].blocks for c in conditions if c in CONDITION_RULES)


def published() -> dict:
    """The rules as the API and the safety page publish them."""
    return {
        "conditions": [rule.as_dict() for rule in CONDITION_RULES.values()],
        "block_advice": BLOCK_ADVICE,
        "several_conditions": SEVERAL_CONDITIONS,
        "contradictions": [{"conditions": list(slugs), "message": message} for slugs, message in CONTRADICTIONS],
        "gentle_techniques": list(GENTLE_TECHNIQUES),
        "goals": [
            {"slug": slug, "label": GOALS[slug], "techniques": list(techniques)}
            for slug, techniques in GOAL_TECHNIQUES.items()
        ],
        "standing_advice": list(STANDING_ADVICE),
    }
