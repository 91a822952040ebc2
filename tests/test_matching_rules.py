"""The domain tables, row by row: safety screening and the session plan (no app needed)."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from directory.matching.plan import SESSIONS_PER_MONTH, frequency_for_goals, minutes_for_areas, recommend_plan
from directory.matching.safety import screen_conditions
from directory.vocabulary import (
    ABSOLUTE_CONDITIONS,
    BODY_AREAS,
    CONDITIONS,
    GOALS,
    RELATIVE_CONDITIONS,
    STANDING_ADVICE,
    TECHNIQUES,
    vocabulary,
)

from . import oracle


@pytest.mark.parametrize("condition", list(ABSOLUTE_CONDITIONS))
def test_each_absolute_contraindication_blocks_and_sends_to_a_provider(condition):
    screen = screen_conditions([condition, "pregnancy"])
    assert screen.blocked
    assert any("healthcare provider" in r for r in screen.reasons)
    assert list(screen.notices) == list(STANDING_ADVICE)


def test_the_vocabulary_and_the_domain_agree_on_every_condition():
    assert set(ABSOLUTE_CONDITIONS) == oracle.ABSOLUTE
    assert set(RELATIVE_CONDITIONS) == set(oracle.RELATIVE)
    assert "inflammatory_flare" in ABSOLUTE_CONDITIONS and "inflammatory_condition" in RELATIVE_CONDITIONS


def test_a_flare_up_is_acute_inflammation_and_refuses_until_it_has_settled():
    screen = screen_conditions(["inflammatory_flare"])
    assert screen.blocked and any("book once the flare has settled" in r for r in screen.reasons)


@pytest.mark.parametrize("condition", list(oracle.RELATIVE))
def test_each_relative_contraindication_modifies_the_match(condition):
    screen = screen_conditions([condition])
    certification, allowed = oracle.RELATIVE[condition]
    assert not screen.blocked and screen.reasons == ()
    assert list(screen.required_certifications) == ([certification] if certification else [])
    assert set(screen.excluded_techniques) == oracle.ALL_TECHNIQUES - allowed
    assert oracle.NOTICE_WORDS[condition] in screen.notices[0].lower()
    assert screen.notices[-2:] == STANDING_ADVICE


def test_the_pregnancy_notice_says_what_the_match_does():
    notice = screen_conditions(["pregnancy"]).notices[0]
    assert "no deep tissue work" in notice and "verified prenatal certification" in notice
    assert "gentle techniques only: Swedish massage, reflexology and prenatal massage" in notice


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(list(CONDITIONS)), unique=True, max_size=5))
def test_any_set_of_conditions_screens_as_the_domain_says(conditions):
    if oracle.contradictory(conditions):
        with pytest.raises(ValueError, match="first trimester"):
            screen_conditions(conditions)
        return
    screen = screen_conditions(conditions)
    assert screen.blocked == oracle.refuses(conditions)
    if not screen.blocked:
        assert set(screen.required_certifications) == oracle.required_certifications(conditions)
        assert set(screen.allowed_techniques) == oracle.may_receive(conditions)
        assert len(screen.notices) == len(conditions) + len(STANDING_ADVICE)


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
