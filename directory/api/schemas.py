"""The shapes the API answers with, as pydantic models: the OpenAPI document is
generated from them, and the test configuration checks every answer against
them (serializers.py builds the answers; these say what they are)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class Shape(BaseModel):
    # An answer with a key the document does not name fails the suite: the two never drift apart.
    model_config = ConfigDict(extra="forbid")


class ErrorDetail(Shape):
    code: str = Field(description="invalid, not_found, too_many_requests, ...", examples=["invalid"])
    message: str = Field(description="What was wrong and what is allowed.")
    field: str | None = Field(description="The parameter at fault, when there is one.")


class ErrorAnswer(Shape):
    """Every error under /api: a 400 names the parameter and what it allows."""

    error: ErrorDetail


class Rating(Shape):
    average: float | None
    count: int


class License(Shape):
    state: str = Field(description="Two-letter code of the issuing state.")
    number: str
    expires: str = Field(description="YYYY-MM-DD")
    verified: str | None = Field(description="The day an administrator verified it (YYYY-MM-DD).")


class Price(Shape):
    session_minutes: int
    amount: float
    currency: Literal["USD"]


class Therapist(Shape):
    """A listed therapist's public profile."""

    id: int
    name: str
    url: str
    bio: str
    techniques: list[str]
    certifications: list[str] = Field(description="Verified, unexpired certifications only.")
    license: License | None
    prices: list[Price]
    hsa_fsa: bool
    gender: str | None
    languages: list[str]
    accepting_new_clients: bool
    years_experience: int | None
    mobile_radius_miles: float | None
    rating: Rating
    city: str
    state: str
    postal_code: str


class Place(Shape):
    query: str
    label: str
    latitude: float
    longitude: float


class Safety(Shape):
    blocked: bool = Field(description="True when a condition rules massage out: no therapist is offered.")
    reasons: list[str]
    notices: list[str]
    required_certifications: list[str]
    excluded_techniques: list[str]


class Plan(Shape):
    session_minutes: int
    frequency: str = Field(description="weekly_or_biweekly, monthly or single_session")
    frequency_label: str
    sessions_per_month: list[float] = Field(description="[low, high]")


class Cost(Shape):
    per_session: float
    per_month_low: float
    per_month_high: float


class Match(Shape):
    id: int
    name: str
    url: str
    distance_miles: float
    score: float
    reasons: list[str] = Field(description="Why this therapist was matched, in words.")
    techniques: list[str]
    certifications: list[str]
    license: License | None
    price: Price
    cost: Cost
    hsa_fsa: bool
    gender: str | None
    languages: list[str]
    accepting_new_clients: bool
    mobile_radius_miles: float | None
    years_experience: int | None
    rating: Rating
    city: str
    state: str
    postal_code: str


class SearchAnswer(Shape):
    """Ranked therapists with the safety screening and the session plan."""

    location: Place | None = Field(description="null when a condition rules massage out and no place was given.")
    radius_miles: float
    home_visit: bool
    safety: Safety
    ruled_out: list[str] = Field(description="What the client chose that their conditions rule out, in words.")
    plan: Plan
    total: int
    offset: int
    limit: int
    explanation: str | None = Field(description="Why nothing matched, when nothing did.")
    suggestions: list[str] = Field(description="Only changes that would find someone.")
    results: list[Match]


class Slug(Shape):
    slug: str
    label: str


class Vocabulary(Shape):
    """Every slug the API accepts or answers with, and its label."""

    techniques: list[Slug]
    certifications: list[Slug]
    goals: list[Slug]
    conditions_absolute: list[Slug]
    conditions_relative: list[Slug]
    body_areas: list[Slug]
    frequencies: list[Slug]
    session_lengths: list[Slug]
    genders: list[Slug]
    languages: list[Slug]
    states: list[Slug]


class ConditionRule(Shape):
    slug: str
    label: str
    kind: Literal["absolute", "relative"]
    blocks: bool
    required_certification: str | None
    allowed_techniques: list[str]
    excluded_techniques: list[str]
    notice: str
    effects: list[str]


class Contradiction(Shape):
    conditions: list[str]
    message: str


class GoalRule(Shape):
    slug: str
    label: str
    techniques: list[str] = Field(description="Strongest first.")


class Rules(Shape):
    """The safety rules and the goal table, exactly as matching applies them."""

    conditions: list[ConditionRule]
    block_advice: str
    several_conditions: str
    contradictions: list[Contradiction]
    gentle_techniques: list[str]
    goals: list[GoalRule]
    standing_advice: list[str]
