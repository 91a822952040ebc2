"""The domain tables, row by row: safety screening and the session plan (no app needed)."""

import pytest

from directory.matching.plan import SESSIONS_PER_MONTH, frequency_for_goals, minutes_for_areas, recommend_plan
from directory.matching.safety import screen_conditions
from directory.vocabulary import (
    ABSOLUTE_CONDITIONS,
    BODY_AREAS,
    GOALS,
    RELATIVE_CONDITIONS,
    STANDING_ADVICE,
    TECHNIQUES,
    vocabulary,
)


@pytest.mark.parametrize("condition", list(ABSOLUTE_CONDITIONS))
def test_each_absolute_contraindication_blocks_and_sends_to_a_provider(condition):
    screen = screen_conditions([condition, "pregnancy"])
    assert screen.blocked
    assert any(ABSOLUTE_CONDITIONS[condition] in r for r in screen.reasons)
    assert any("healthcare provider" in r for r in screen.reasons)
    assert list(screen.notices) == list(STANDING_ADVICE)


@pytest.mark.parametrize(
    "condition, certs, excluded, notice",
    [
        ("pregnancy_first_trimester", ["prenatal"], ["deep_tissue"], "consult your healthcare provider"),
        ("pregnancy", ["prenatal"], ["deep_tissue"], "oils meant for pregnancy"),
        ("cancer_treatment", ["oncology"], [], "medical clearance"),
        ("varicose_veins", [], [], "no direct pressure on the affected areas"),
        (
            "inflammatory_flare",
            [],
            ["deep_tissue", "sports", "trigger_point", "oncology"],
            "no massage during acute inflammation",
        ),
        ("low_blood_pressure", [], [], "rise slowly"),
    ],
)
def test_each_relative_contraindication_modifies_the_match(condition, certs, excluded, notice):
    screen = screen_conditions([condition])
    assert not screen.blocked and screen.reasons == ()
    assert list(screen.required_certifications) == certs
    assert list(screen.excluded_techniques) == excluded
    assert notice in screen.notices[0]
    assert screen.notices[-2:] == STANDING_ADVICE


def test_relative_conditions_combine():
    screen = screen_conditions(["cancer_treatment", "pregnancy", "inflammatory_flare"])
    assert set(screen.required_certifications) == {"prenatal", "oncology"}
    assert "deep_tissue" in screen.excluded_techniques and "sports" in screen.excluded_techniques
    assert len(screen.notices) == 3 + len(STANDING_ADVICE)


def test_no_conditions_still_carries_the_standing_advice():
    screen = screen_conditions([])
    assert not screen.blocked and screen.notices == STANDING_ADVICE
    assert screen.required_certifications == () and screen.excluded_techniques == ()


def test_unknown_condition_is_rejected():
    with pytest.raises(ValueError, match="unknown conditions: flu"):
        screen_conditions(["flu"])


@pytest.mark.parametrize(
    "areas, minutes",
    [
        ((), None),
        (("neck",), 30),
        (("neck", "back"), 45),
        (("neck", "back", "feet"), 45),
        (("neck", "back", "feet", "legs"), 60),
        (("full_body",), 60),
        (("face", "full_body"), 60),
        (tuple(a for a in BODY_AREAS if a != "full_body"), 60),
    ],
)
def test_minutes_from_body_areas(areas, minutes):
    assert minutes_for_areas(areas) == minutes


@pytest.mark.parametrize(
    "goal, frequency",
    [
        ("pain", "weekly_or_biweekly"),
        ("injury_recovery", "weekly_or_biweekly"),
        ("stress", "monthly"),
        ("sleep", "monthly"),
        ("wellness", "monthly"),
        ("headaches", "monthly"),
        ("circulation", "monthly"),
        ("mobility", "monthly"),
        ("athletic", "monthly"),
        ("posture", "monthly"),
        ("post_event", "single_session"),
    ],
)
def test_frequency_for_each_goal(goal, frequency):
    assert frequency_for_goals([goal]) == frequency


@pytest.mark.parametrize(
    "goals, frequency",
    [
        (("post_event", "stress"), "monthly"),
        (("post_event", "pain"), "weekly_or_biweekly"),
        (("sleep", "injury_recovery"), "weekly_or_biweekly"),
        ((), "monthly"),
    ],
)
def test_the_strongest_need_wins(goals, frequency):
    assert frequency_for_goals(goals) == frequency


def test_plan_length_defaults_and_client_choice():
    assert recommend_plan().session_minutes == 60
    assert recommend_plan(areas=("neck",)).session_minutes == 30
    chosen = recommend_plan(areas=("neck",), session_minutes=90)
    assert chosen.session_minutes == 90 and chosen.minutes_from_areas == 30


@pytest.mark.parametrize(
    "goals, low, high",
    [(("pain",), 200.0, 430.0), (("stress",), 100.0, 200.0), (("post_event",), 100.0, 100.0)],
)
def test_cost_per_session_and_month(goals, low, high):
    cost = recommend_plan(goals=goals).cost(100)
    assert cost == {"per_session": 100, "per_month_low": low, "per_month_high": high}


def test_vocabulary_lists_every_slug_with_a_label():
    vocab = vocabulary()
    assert [t["slug"] for t in vocab["techniques"]] == list(TECHNIQUES)
    assert [g["slug"] for g in vocab["goals"]] == list(GOALS)
    assert {c["slug"] for c in vocab["conditions_absolute"]} == set(ABSOLUTE_CONDITIONS)
    assert {c["slug"] for c in vocab["conditions_relative"]} == set(RELATIVE_CONDITIONS)
    assert all(row["label"] for rows in vocab.values() for row in rows)
    assert set(SESSIONS_PER_MONTH) == {f["slug"] for f in vocab["frequencies"]}
