"""The matching engine: hard filters, ranking, reasons, explanations, and properties."""

from datetime import date, timedelta

import pytest
from geopy.distance import geodesic
from hypothesis import given, settings
from hypothesis import strategies as st

from directory.matching.engine import REFERENCE_PRICE_PER_MINUTE, Candidate, ClientRequest, first_failed_filter, match
from directory.matching.plan import recommend_plan
from directory.matching.safety import screen_conditions
from directory.matching.scoring import combine, credential_score, goal_fit, price_score, rating_score
from directory.vocabulary import CERTIFICATIONS, CONDITIONS, GENDERS, GOALS, RELATIVE_CONDITIONS, TECHNIQUES

TODAY = date(2026, 6, 1)
ORIGIN = (41.8858, -87.6181)


def at(miles_north: float, miles_east: float = 0.0):
    point = geodesic(miles=miles_north).destination(ORIGIN, 0) if miles_north else None
    lat = point.latitude if point else ORIGIN[0]
    if miles_east:
        p = geodesic(miles=abs(miles_east)).destination((lat, ORIGIN[1]), 90 if miles_east > 0 else 270)
        return p.latitude, p.longitude
    return lat, ORIGIN[1]


def cand(id=1, miles=1.0, techniques=("swedish",), certifications=(), prices=None, **kw):
    lat, lon = at(miles)
    return Candidate(
        id=id,
        name=f"T{id}",
        latitude=lat,
        longitude=lon,
        techniques=frozenset(techniques),
        certifications=frozenset(certifications),
        prices=prices or {60: 90.0},
        **kw,
    )


def req(**kw):
    return ClientRequest(latitude=ORIGIN[0], longitude=ORIGIN[1], **kw)


def ids(outcome):
    return [m.candidate.id for m in outcome.results]


def test_radius_is_measured_geodesically_at_the_edge():
    inside, outside = cand(1, miles=9.995), cand(2, miles=10.005)
    outcome = match(req(radius_miles=10), [inside, outside], on=TODAY)
    assert ids(outcome) == [1]
    assert outcome.results[0].distance_miles == pytest.approx(9.995, abs=1e-6)
    assert outcome.eliminated["distance"] == 1


def test_home_visit_uses_the_therapists_travel_radius_not_the_clients():
    near_no_travel = cand(1, miles=2)
    travels_far = cand(2, miles=30, mobile_radius_miles=35.0)
    travels_short = cand(3, miles=8, mobile_radius_miles=5.0)
    outcome = match(req(radius_miles=10, home_visit=True), [near_no_travel, travels_far, travels_short], on=TODAY)
    assert ids(outcome) == [2]
    assert "Comes to you: 30.0 miles away, within their 35-mile travel area" in outcome.results[0].reasons


@pytest.mark.parametrize("condition", ["pregnancy", "pregnancy_first_trimester"])
def test_pregnancy_requires_a_verified_prenatal_certification(condition):
    certified = cand(1, techniques=("swedish", "prenatal"), certifications=("prenatal",))
    uncertified = cand(2, techniques=("swedish", "prenatal"))
    outcome = match(req(goals=("stress",), conditions=(condition,)), [certified, uncertified], on=TODAY)
    assert ids(outcome) == [1]
    assert "Certified in prenatal massage, as your condition requires" in outcome.results[0].reasons
    assert outcome.eliminated["certification"] == 1


def test_cancer_treatment_requires_oncology_training():
    outcome = match(
        req(conditions=("cancer_treatment",)),
        [cand(1, certifications=("oncology",)), cand(2, certifications=("prenatal",))],
        on=TODAY,
    )
    assert ids(outcome) == [1]


def test_excluded_technique_never_counts_toward_goal_fit():
    # Pregnant client with chronic pain: deep tissue is the best for pain, but not for her.
    deep_and_swedish = cand(1, techniques=("deep_tissue", "swedish"), certifications=("prenatal",))
    outcome = match(req(goals=("pain",), conditions=("pregnancy",)), [deep_and_swedish], on=TODAY)
    reasons = outcome.results[0].reasons
    assert not any("Deep tissue" in r for r in reasons)
    assert "Offers Swedish massage, which helps with chronic pain and tension" in reasons


def test_a_therapist_left_with_no_safe_technique_is_not_matched():
    only_deep = cand(1, techniques=("deep_tissue",), certifications=("prenatal",))
    outcome = match(req(conditions=("pregnancy",)), [only_deep], on=TODAY)
    assert outcome.total == 0 and outcome.eliminated["safe_technique"] == 1
    assert "not safe for you" in outcome.explanation


def test_inflammatory_flare_allows_only_gentle_techniques():
    gentle = cand(1, techniques=("reflexology", "sports"))
    rough = cand(2, techniques=("sports", "trigger_point"))
    outcome = match(req(conditions=("inflammatory_flare",), goals=("circulation",)), [gentle, rough], on=TODAY)
    assert ids(outcome) == [1]
    assert "Offers Reflexology, which helps with circulation, swelling, healing" in outcome.results[0].reasons


@pytest.mark.parametrize(
    "condition", ["fever", "skin_infection", "blood_clot", "recent_surgery", "severe_cardiovascular"]
)
def test_absolute_contraindication_matches_nobody(condition):
    outcome = match(req(conditions=(condition,)), [cand(1)], on=TODAY)
    assert outcome.total == 0 and outcome.results == []
    assert outcome.screen.blocked and "healthcare provider" in outcome.explanation


@pytest.mark.parametrize(
    "request_kw, good, bad, filter_name",
    [
        ({"session_minutes": 30}, {"prices": {30: 50.0}}, {"prices": {60: 90.0}}, "session_length"),
        ({"max_price": 80}, {"prices": {60: 80.0}}, {"prices": {60: 80.01}}, "price"),
        ({"techniques": ("sports",)}, {"techniques": ("sports",)}, {"techniques": ("swedish",)}, "techniques"),
        ({"gender": "male"}, {"gender": "male"}, {"gender": "female"}, "gender"),
        ({"languages": ("es", "fr")}, {"languages": ("en", "es")}, {"languages": ("en",)}, "languages"),
        ({"hsa_fsa": True}, {"hsa_fsa": True}, {"hsa_fsa": False}, "hsa_fsa"),
        (
            {"accepting_new_clients": True},
            {"accepting_new_clients": True},
            {"accepting_new_clients": False},
            "accepting_new_clients",
        ),
        ({}, {}, {"suspended": True}, "listing"),
        ({}, {"license_expires": TODAY}, {"license_expires": TODAY - timedelta(days=1)}, "listing"),
        ({}, {}, {"license_verified": False}, "listing"),
    ],
)
def test_each_hard_filter(request_kw, good, bad, filter_name):
    outcome = match(req(**request_kw), [cand(1, **good), cand(2, **bad)], on=TODAY)
    assert ids(outcome) == [1]
    assert outcome.eliminated[filter_name] == 1


def test_false_preferences_do_not_filter():
    outcome = match(
        req(hsa_fsa=False, accepting_new_clients=False), [cand(1, hsa_fsa=False, accepting_new_clients=False)], on=TODAY
    )
    assert ids(outcome) == [1]


def test_requested_technique_that_is_unsafe_does_not_count():
    outcome = match(
        req(techniques=("deep_tissue",), conditions=("pregnancy",)),
        [cand(1, techniques=("deep_tissue", "swedish"), certifications=("prenatal",))],
        on=TODAY,
    )
    assert outcome.total == 0 and outcome.eliminated["techniques"] == 1


def test_ranking_prefers_goal_fit_then_distance_and_explains():
    swedish_far = cand(1, miles=6, techniques=("swedish",))
    deep_near = cand(2, miles=1, techniques=("deep_tissue",))
    outcome = match(req(goals=("stress",)), [deep_near, swedish_far], on=TODAY)
    assert ids(outcome) == [1, 2]
    top = outcome.results[0]
    assert top.reasons[0] == "Offers Swedish massage, among the best for stress and anxiety relief"
    assert "6.0 miles away" in top.reasons
    assert "$90 for 60 minutes" in top.reasons


def test_budget_reason_and_price_for_plan_length():
    outcome = match(req(areas=("neck",), max_price=60), [cand(1, prices={30: 55.0, 60: 95.0})], on=TODAY)
    assert outcome.plan.session_minutes == 30
    assert outcome.results[0].price == 55.0
    assert "$55 for 30 minutes, within your budget of $60" in outcome.results[0].reasons


def test_ties_break_by_distance_price_then_id():
    a, b, c = cand(3, miles=2), cand(1, miles=2), cand(2, miles=1)
    assert ids(match(req(), [a, b, c], on=TODAY)) == [2, 1, 3]


def test_nothing_in_radius_suggests_a_wider_one():
    outcome = match(req(radius_miles=5), [cand(1, miles=20)], on=TODAY)
    assert outcome.explanation == "No verified therapists are within 5 miles."
    assert outcome.suggestions == ["Widen the radius to 15 miles."]


def test_explanation_names_each_filter_that_removed_candidates():
    outcome = match(
        req(conditions=("pregnancy",), max_price=50),
        [cand(1), cand(2, certifications=("prenatal",), prices={60: 120.0})],
        on=TODAY,
    )
    assert outcome.total == 0
    assert "None of the 2 verified therapists within 10 miles" in outcome.explanation
    assert "1 lack the verified certified prenatal massage therapist certification" in outcome.explanation
    assert "1 charge more than $50 for 60 minutes" in outcome.explanation
    assert "Raise your budget or choose a shorter session." in outcome.suggestions


def test_pagination_is_a_window_over_one_ranking():
    candidates = [cand(i, miles=i / 10) for i in range(1, 31)]
    full = ids(match(req(), candidates, on=TODAY, limit=50))
    page2 = match(req(), candidates, on=TODAY, offset=10, limit=10)
    assert page2.total == 30 and ids(page2) == full[10:20]


# --- properties -----------------------------------------------------------------

slugs = lambda table: st.lists(st.sampled_from(list(table)), unique=True, max_size=4)
mostly = lambda value: st.sampled_from([value, value, value, not value])
# Each optional filter in about one request of four, so that many examples have results to check.
sometimes = lambda strategy, absent: mostly(False).flatmap(lambda on: strategy if on else st.just(absent))

candidate_st = st.builds(
    lambda id, north, east, techniques, certs, prices, gender, langs, hsa, accepting, mobile, years, verified, expires_in, suspended: (  # noqa: E501
        Candidate(
            id=id,
            name="",
            latitude=at(north, east)[0],
            longitude=at(north, east)[1],
            techniques=frozenset(techniques),
            certifications=frozenset(certs),
            prices=prices,
            license_verified=verified,
            license_expires=TODAY + timedelta(days=expires_in),
            suspended=suspended,
            gender=gender,
            languages=tuple(langs) or ("en",),
            hsa_fsa=hsa,
            accepting_new_clients=accepting,
            mobile_radius_miles=mobile,
            years_experience=years,
        )
    ),
    st.integers(1, 10_000),
    st.floats(-30, 30),
    st.floats(-30, 30),
    st.lists(st.sampled_from(list(TECHNIQUES)), min_size=1, max_size=4, unique=True),
    slugs(CERTIFICATIONS),
    st.dictionaries(st.sampled_from([30, 45, 60, 90]), st.floats(20, 300), min_size=1),
    st.sampled_from([None, *GENDERS]),
    st.lists(st.sampled_from(["en", "es", "zh", "fr"]), unique=True, max_size=3),
    st.booleans(),
    st.booleans(),
    st.sampled_from([None, 5.0, 15.0, 40.0]),
    st.integers(0, 30),
    mostly(True),
    mostly(True).flatmap(lambda current: st.integers(0, 500) if current else st.integers(-5, -1)),
    mostly(False),
).flatmap(
    lambda c: st.builds(
        lambda count, average: c._replace(rating_count=count, rating_average=average if count else None),
        st.integers(0, 60),
        st.floats(1, 5),
    )
)

request_st = st.builds(
    lambda radius, goals, areas, conditions, techniques, langs, minutes, max_price, gender, hsa, home, accepting: (
        ClientRequest(
            latitude=ORIGIN[0],
            longitude=ORIGIN[1],
            radius_miles=radius,
            goals=tuple(goals),
            areas=tuple(areas),
            conditions=tuple(conditions),
            techniques=tuple(techniques),
            languages=tuple(langs),
            session_minutes=minutes,
            max_price=max_price,
            gender=gender,
            hsa_fsa=hsa,
            home_visit=home,
            accepting_new_clients=accepting,
        )
    ),
    st.floats(1, 100),
    slugs(GOALS),
    st.lists(st.sampled_from(["neck", "back", "feet", "legs", "full_body"]), unique=True),
    st.one_of(
        st.just(()),
        st.lists(st.sampled_from(list(RELATIVE_CONDITIONS)), unique=True, max_size=2),
        st.lists(st.sampled_from(list(CONDITIONS)), unique=True, max_size=2),
    ),
    sometimes(slugs(TECHNIQUES), ()),
    sometimes(st.lists(st.sampled_from(["en", "es", "zh"]), unique=True, max_size=2), ()),
    st.sampled_from([None, 30, 45, 60, 90]),
    sometimes(st.floats(20, 300), None),
    sometimes(st.sampled_from(list(GENDERS)), None),
    sometimes(st.booleans(), None),
    st.booleans(),
    sometimes(st.booleans(), None),
)


@settings(max_examples=200, deadline=None)
@given(request_st, st.lists(candidate_st, min_size=1, max_size=25, unique_by=lambda c: c.id))
def test_no_result_ever_breaks_a_safety_rule_or_hard_filter(request, candidates):
    outcome = match(request, candidates, on=TODAY, limit=50)
    screen = screen_conditions(request.conditions)
    plan = recommend_plan(request.areas, request.goals, request.session_minutes)
    if screen.blocked:
        assert outcome.results == [] and outcome.total == 0
        return
    assert (
        outcome.total
        == len(outcome.results)
        == sum(first_failed_filter(request, screen, plan, c, TODAY) is None for c in candidates)
    )
    for m in outcome.results:
        c = m.candidate
        exact = geodesic((request.latitude, request.longitude), (c.latitude, c.longitude)).miles
        assert m.distance_miles == pytest.approx(exact, abs=1e-9)
        assert exact <= (c.mobile_radius_miles if request.home_visit else request.radius_miles)
        assert not c.suspended and c.license_verified and c.license_expires >= TODAY
        assert set(screen.required_certifications) <= c.certifications
        safe = c.techniques - set(screen.excluded_techniques)
        assert safe, "matched with no technique the client may receive"
        if request.techniques:
            assert safe & set(request.techniques)
        assert plan.session_minutes in c.prices and m.price == c.prices[plan.session_minutes]
        assert request.max_price is None or m.price <= request.max_price
        assert not request.gender or c.gender == request.gender
        assert not request.languages or set(request.languages) & set(c.languages)
        assert not request.hsa_fsa or c.hsa_fsa
        assert not request.accepting_new_clients or c.accepting_new_clients
        for excluded in screen.excluded_techniques:  # an excluded technique is never a reason
            assert not any(r.startswith(f"Offers {TECHNIQUES[excluded]},") for r in m.reasons)


def reference_failure(request, screen, plan, c):
    """The hard filters as the domain states them, written plainly: the oracle the
    engine's fast loop is held to."""
    if c.suspended or not c.license_verified or c.license_expires < TODAY:
        return "listing"
    reach = c.mobile_radius_miles if request.home_visit else request.radius_miles
    if not reach or geodesic((request.latitude, request.longitude), (c.latitude, c.longitude)).miles > reach:
        return "distance"
    if not set(screen.required_certifications) <= c.certifications:
        return "certification"
    safe = c.techniques - set(screen.excluded_techniques)
    if not safe:
        return "safe_technique"
    if request.techniques and not safe & set(request.techniques):
        return "techniques"
    price = c.prices.get(plan.session_minutes)
    checks = [
        ("session_length", price is not None),
        ("price", request.max_price is None or price is None or price <= request.max_price),
        ("gender", not request.gender or c.gender == request.gender),
        ("languages", not request.languages or bool(set(request.languages) & set(c.languages))),
        ("hsa_fsa", not request.hsa_fsa or c.hsa_fsa),
        ("accepting_new_clients", not request.accepting_new_clients or c.accepting_new_clients),
    ]
    return next((name for name, ok in checks if not ok), None)


@settings(max_examples=200, deadline=None)
@given(request_st, st.lists(candidate_st, min_size=1, max_size=25, unique_by=lambda c: c.id))
def test_every_candidate_is_counted_against_the_filter_that_removes_it(request, candidates):
    screen = screen_conditions(request.conditions)
    if screen.blocked:
        return
    plan = recommend_plan(request.areas, request.goals, request.session_minutes)
    outcome = match(request, candidates, on=TODAY, limit=50)
    expected, passing = dict.fromkeys(outcome.eliminated, 0), set()
    for c in candidates:
        failure = reference_failure(request, screen, plan, c)
        if failure:
            expected[failure] += 1
        else:
            passing.add(c.id)
    assert outcome.eliminated == expected
    assert outcome.considered == len(candidates)
    assert {m.candidate.id for m in outcome.results} == passing


@settings(max_examples=200, deadline=None)
@given(request_st, st.lists(candidate_st, min_size=1, max_size=25, unique_by=lambda c: c.id))
def test_scores_are_the_scoring_parts_combined(request, candidates):
    outcome = match(request, candidates, on=TODAY, limit=50)
    screen = screen_conditions(request.conditions)
    budget = request.max_price or REFERENCE_PRICE_PER_MINUTE * outcome.plan.session_minutes
    for m in outcome.results:
        c = m.candidate
        reach = c.mobile_radius_miles if request.home_visit else request.radius_miles
        expected = combine(
            goal_fit(c.techniques, request.goals, screen.allows)[0],
            1 - m.distance_miles / reach,
            price_score(m.price, budget),
            credential_score(c.certifications, c.years_experience),
            rating_score(c.rating_average, c.rating_count),
        )
        # The ranking measures distance on a local flat earth (within 0.02% of geodesic).
        assert m.score == pytest.approx(expected, abs=0.011)


@settings(max_examples=100, deadline=None)
@given(request_st, st.lists(candidate_st, max_size=25, unique_by=lambda c: c.id), st.randoms(use_true_random=False))
def test_ranking_is_deterministic_whatever_the_input_order(request, candidates, rnd):
    first = match(request, candidates, on=TODAY, limit=50)
    shuffled = list(candidates)
    rnd.shuffle(shuffled)
    second = match(request, shuffled, on=TODAY, limit=50)
    assert [(m.candidate.id, m.score, m.reasons) for m in first.results] == [
        (m.candidate.id, m.score, m.reasons) for m in second.results
    ]
    scores = [m.score for m in first.results]
    assert scores == sorted(scores, reverse=True)
