"""The published rules (matching/rules.py): each one walked end to end through the
API, the same table on /api/v1/rules and /about/safety, and the booking intake
held to the domain's oracle."""

from __future__ import annotations

import html
from types import SimpleNamespace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from directory.bookings.services import check_safety
from directory.extensions import db
from directory.matching.rules import CONDITION_RULES, GOAL_TECHNIQUES, published
from directory.service_errors import ServiceError
from directory.vocabulary import CERTIFICATIONS, CONDITIONS, GOALS, TECHNIQUES

from . import oracle


@pytest.fixture
def one_per_technique(factory):
    """For every technique, a therapist offering only it: one holding every
    certification a condition may require, one holding none."""
    made = {}
    for technique in TECHNIQUES:
        for certified in (True, False):
            made[technique, certified] = factory.therapist(
                name=f"{technique} {'certified' if certified else 'plain'}",
                techniques=(technique,),
                certifications=("prenatal", "oncology") if certified else (),
                commit=False,
            )
    db.session.commit()
    return made


def api_search(client, **params):
    response = client.get("/api/v1/search", query_string={"location": "60601", "limit": 50, **params})
    assert response.status_code == 200, response.get_json()
    return response.get_json()


@pytest.mark.parametrize("slug", list(CONDITION_RULES))
def test_each_rule_holds_end_to_end_through_the_api(client, one_per_technique, slug):
    rule = CONDITION_RULES[slug]
    body = api_search(client, conditions=slug, goals=",".join(GOALS))
    if rule.blocks:
        assert body["safety"]["blocked"] is True and body["total"] == 0 and body["results"] == []
        assert rule.notice in body["safety"]["reasons"]
        return
    expected = {
        t.id
        for (technique, certified), t in one_per_technique.items()
        if technique not in rule.ruled_out and (certified or not rule.required_certification)
    }
    assert {r["id"] for r in body["results"]} == expected
    assert body["safety"]["excluded_techniques"] == list(rule.ruled_out)
    required = [rule.required_certification] if rule.required_certification else []
    assert body["safety"]["required_certifications"] == required
    assert any(rule.notice in n and all(e in n for e in rule.effects) for n in body["safety"]["notices"])
    for result in body["results"]:
        for technique in rule.ruled_out:
            assert not any(TECHNIQUES[technique] in reason for reason in result["reasons"])
    for technique in rule.ruled_out:  # chosen, it is said to be ruled out
        chosen = api_search(client, conditions=slug, techniques=technique)
        assert chosen["total"] == 0 and chosen["ruled_out"] == [
            f"{TECHNIQUES[technique]} is not offered {rule.during}."
        ]


@pytest.mark.parametrize("goal", list(GOAL_TECHNIQUES))
def test_each_goal_ranks_its_techniques_strongest_first_through_the_api(client, one_per_technique, goal):
    body = api_search(client, goals=goal)
    reasons = {r["techniques"][0]: r["reasons"][0] for r in body["results"]}
    label = GOALS[goal].lower()
    for rank, technique in enumerate(GOAL_TECHNIQUES[goal]):
        phrase = "among the best for" if rank == 0 else "which helps with"
        assert reasons[technique] == f"Offers {TECHNIQUES[technique]}, {phrase} {label}"
    ranked = [r["techniques"][0] for r in body["results"] if r["techniques"][0] in GOAL_TECHNIQUES[goal]]
    assert list(dict.fromkeys(ranked)) == list(GOAL_TECHNIQUES[goal])  # stronger techniques rank higher


def test_the_rules_endpoint_publishes_the_table(client):
    body = client.get("/api/v1/rules").get_json()
    assert body == published()
    by_slug = {c["slug"]: c for c in body["conditions"]}
    assert list(by_slug) == list(CONDITIONS)
    for slug, c in by_slug.items():  # and the table is the domain's
        assert c["blocks"] == (slug in oracle.ABSOLUTE)
        if slug in oracle.RELATIVE:
            certification, allowed = oracle.RELATIVE[slug]
            assert c["required_certification"] == certification
            assert set(c["allowed_techniques"]) == allowed
            assert set(c["excluded_techniques"]) == oracle.ALL_TECHNIQUES - allowed
    assert {g["slug"]: tuple(g["techniques"]) for g in body["goals"]} == oracle.GOAL_TECHNIQUES
    assert [c["conditions"] for c in body["contradictions"]] == [["pregnancy_first_trimester", "pregnancy"]]


def test_the_safety_page_is_the_table(client):
    page = html.unescape(client.get("/about/safety").get_data(as_text=True))
    for rule in CONDITION_RULES.values():
        assert rule.label in page and rule.notice in page
        assert all(effect in page for effect in rule.effects)
    for goal, techniques in GOAL_TECHNIQUES.items():
        assert f"{GOALS[goal]}</dt>" in page
        assert ", ".join(TECHNIQUES[t] for t in techniques) + "</dd>" in page
    assert "/api/v1/rules" in page


def profile(techniques, certifications):
    return SimpleNamespace(
        name="Robin",
        technique_slugs=list(techniques),
        verified_certifications=[SimpleNamespace(slug=c) for c in certifications],
    )


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.sampled_from(list(CONDITIONS)), unique=True, max_size=4),
    st.lists(st.sampled_from(list(TECHNIQUES)), unique=True, min_size=1, max_size=3),
    st.lists(st.sampled_from(list(CERTIFICATIONS)), unique=True, max_size=3),
)
def test_the_booking_intake_screens_as_the_domain_says(conditions, techniques, certifications):
    refused = oracle.intake_refused(conditions, techniques, certifications)
    try:
        check_safety(profile(techniques, certifications), conditions)
    except ServiceError as exc:
        assert refused, str(exc)
        assert exc.field == "conditions"
    else:
        assert not refused
