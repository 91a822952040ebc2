"""Outcome ratings, the change that matters, and the estimator of each therapist's effect (no app needed)."""

import math
import random

import pytest

from directory.matching.effects import RatingPair, estimate_effects
from directory.matching.outcomes import (
    MAX_PAIRS_PER_CLIENT,
    MIN_CLIENTS,
    QUESTIONS,
    change_matters,
    effect_sentence,
    published,
)
from directory.vocabulary import GOALS


@pytest.mark.parametrize(
    ("pre", "post", "matters"),
    [
        (7, 5, True),  # 2 points (29%): the points are enough
        (7, 6, False),  # 1 point, 14%
        (3, 2, True),  # 1 point, but 33%: the percentage is enough
        (4, 3, False),  # 1 point, 25%
        (10, 7, True),  # exactly 30%
        (10, 8, True),  # exactly 2 points
        (9, 8, False),
        (1, 0, True),  # 100%
        (0, 0, False),  # nowhere to fall
        (2, 2, False),
        (5, 7, False),  # worse is never an improvement
        (7, 3, True),
    ],
)
def test_change_that_matters_is_two_points_or_thirty_percent(pre, post, matters):
    assert change_matters(pre, post) is matters


def test_every_rated_goal_is_a_goal_and_the_rules_are_published():
    assert set(QUESTIONS) == {"pain", "stress", "sleep", "mobility"}
    assert set(QUESTIONS) <= set(GOALS)
    assert QUESTIONS["pain"].question == "How much pain have you had in the last 24 hours?"
    rules = published()
    assert rules["min_clients"] == MIN_CLIENTS == 10
    assert rules["change_that_matters"]["points"] == 2 and rules["change_that_matters"]["percent"] == 30
    assert "Farrar" in rules["change_that_matters"]["source"] and "IMMPACT" in rules["change_that_matters"]["source"]
    assert f"fewer than {MIN_CLIENTS} distinct" in rules["rule"]


def test_the_card_sentence_says_it_plainly_and_only_from_ten_clients():
    assert (
        effect_sentence("pain", 2.44, 38)
        == "Clients with pain like yours improved by 2.4 points on average, 38 clients"
    )
    assert effect_sentence("sleep", 1.0, 10) == (
        "Clients with sleep trouble like yours improved by 1.0 point on average, 10 clients"
    )
    assert effect_sentence("pain", -0.3, 12) == "Clients with pain like yours did not improve on average, 12 clients"
    assert effect_sentence("pain", 2.4, 9) is None
    assert effect_sentence("wellness", 2.4, 40) is None  # a goal that is not rated


def _clients(therapist, count, start, fall, spread=0.0, first=0):
    """`count` clients of one therapist, starting around `start`, each falling by fall(start)."""
    out = []
    for i in range(count):
        pre = start + spread * ((i % 5) - 2)
        out.append(RatingPair(therapist, f"{therapist}-{first + i}", pre, pre - fall(pre)))
    return out


def test_fewer_than_ten_distinct_clients_gives_no_estimate():
    pairs = _clients("nine", 9, 7, lambda pre: 4)
    # Nine clients, one of them with three visits: still nine clients.
    pairs += [RatingPair("nine", "nine-0", 7, 3), RatingPair("nine", "nine-0", 7, 3)]
    pairs += _clients("ten", 10, 7, lambda pre: 4)
    model = estimate_effects(pairs)
    assert "nine" not in model.effects
    assert model.fall_for("nine") is None and model.rank_key("nine") == 0.0
    assert model.effects["ten"].clients == 10
    assert model.fall_for("ten") == pytest.approx(4, abs=0.01)


def test_a_client_counts_once_and_only_their_first_pairs():
    # A loyal client's 20 visits: the first MAX_PAIRS_PER_CLIENT show no change; the later ones a big fall.
    loyal = [RatingPair("t", "loyal", 6, 6)] * MAX_PAIRS_PER_CLIENT + [RatingPair("t", "loyal", 9, 0)] * 15
    others = _clients("t", 9, 6, lambda pre: 2)
    model = estimate_effects(loyal + others)
    effect = model.effects["t"]
    assert effect.clients == 10
    assert effect.raw_fall == pytest.approx(9 * 2 / 10)
    assert effect.improved_share == pytest.approx(0.9)


def _regressing(pre):
    return 1.5 + 0.4 * (pre - 6)


def test_baseline_adjustment_removes_the_advantage_of_clients_who_start_high():
    # Two therapists who do exactly the same for any client; one's clients start at 8, the other's at 4.
    pairs = _clients("high", 20, 8, _regressing, spread=0.5) + _clients("low", 20, 4, _regressing, spread=0.5)
    pairs += [p for t in range(8) for p in _clients(f"other{t}", 12, 5 + t % 3, _regressing, spread=0.5)]
    model = estimate_effects(pairs)
    high, low = model.effects["high"], model.effects["low"]
    assert high.raw_fall - low.raw_fall == pytest.approx(0.4 * 4)  # what the raw mean would rank on
    assert model.slope == pytest.approx(0.4, abs=0.01)
    assert high.fall == pytest.approx(low.fall, abs=0.01)
    assert model.rank_key("high") == pytest.approx(model.rank_key("low"), abs=0.01)
    # For a client starting at 8, either one is expected to bring the fall the regression predicts.
    assert model.fall_for("low", start=8) == pytest.approx(_regressing(8), abs=0.05)


def _noisy_population(rng, therapists):
    truth, pairs = {}, []
    for t in range(therapists):
        truth[t] = rng.gauss(0, 0.5)
        own = rng.gauss(6, 1.2)
        visits = min(300, max(3, round(math.exp(math.log(20) + 0.8 * rng.gauss(0, 1)))))
        for v in range(visits):
            pre = min(10.0, max(0.0, rng.gauss(own, 1.5)))
            post = min(10.0, max(0.0, pre - 1.5 - truth[t] - 0.4 * (pre - 6) + rng.gauss(0, 1.5)))
            pairs.append(RatingPair(t, (t, v), pre, post))
    return truth, pairs


def test_shrinkage_pulls_small_samples_toward_the_mean_more_than_large_ones():
    truth, pairs = _noisy_population(random.Random(5), 150)
    # Two therapists whose clients all fall by 3 points more than the regression predicts: 10 and 200 clients.
    pairs += _clients("few", 10, 6, lambda pre: _regressing(pre) + 3, spread=0.5)
    pairs += _clients("many", 200, 6, lambda pre: _regressing(pre) + 3, spread=0.5)
    model = estimate_effects(pairs)
    few, many = model.effects["few"], model.effects["many"]
    assert few.adjusted_fall == pytest.approx(many.adjusted_fall, abs=0.01)
    assert model.mean_fall < few.fall < few.adjusted_fall
    assert few.weight < many.weight < 1
    assert few.adjusted_fall - few.fall > many.adjusted_fall - many.fall
    assert few.low < few.fall < few.high and many.low < many.fall < many.high
    assert many.high - many.low < few.high - few.low
    assert model.rank_key("many") > model.rank_key("few") > 0


def _ranks(values):
    order = sorted(range(len(values)), key=values.__getitem__)
    out = [0] * len(values)
    for rank, i in enumerate(order):
        out[i] = rank
    return out


def _spearman(a, b):
    ra, rb = _ranks(a), _ranks(b)
    n = len(a)
    return 1 - 6 * sum((x - y) ** 2 for x, y in zip(ra, rb)) / (n * (n * n - 1))


def _top_decile(estimate, truth):
    k = len(truth) // 10
    top = lambda values: set(sorted(range(len(values)), key=lambda i: -values[i])[:k])
    return len(top(estimate) & top(truth)) / k


def test_the_estimator_ranks_closer_to_the_truth_than_the_raw_mean():
    # A smaller run of bench/outcomes.py's simulation (issue 27, item 6), one fixed seed.
    truth, pairs = _noisy_population(random.Random(27), 400)
    model = estimate_effects(pairs, min_clients=1)
    sums: dict[int, list[float]] = {}
    for p in pairs:
        sums.setdefault(p.therapist, []).append(p.pre - p.post)
    therapists = sorted(truth)
    true = [truth[t] for t in therapists]
    raw = [sum(sums[t]) / len(sums[t]) for t in therapists]
    estimate = [model.effects[t].fall for t in therapists]
    assert model.slope == pytest.approx(0.4, abs=0.05)
    assert _spearman(estimate, true) >= _spearman(raw, true) + 0.1
    assert _spearman(estimate, true) >= 0.7
    assert _top_decile(estimate, true) > _top_decile(raw, true)


def test_no_pairs_or_one_therapist_alone_gives_no_ranking_signal():
    empty = estimate_effects([])
    assert empty.effects == {} and empty.rank_key("anyone") == 0.0 and empty.fall_for("anyone") is None
    # One therapist alone: her clients' mean is the mean of all, so she is estimated as exactly average.
    alone = estimate_effects(_clients("alone", 12, 7, lambda pre: 4))
    assert alone.effects["alone"].fall == pytest.approx(4)
    assert alone.rank_key("alone") == pytest.approx(0)
    assert alone.within_variance > 0  # whole-number ratings are never exact: the interval has a width
    assert alone.effects["alone"].low < 4 < alone.effects["alone"].high


def test_the_slope_stays_between_nought_and_one_on_thin_data():
    # Two clients: one starting at 5 who does not move, one at 6 who falls 4: a slope of 4 taken literally.
    steep = estimate_effects([RatingPair("t", "a", 5, 5), RatingPair("t", "b", 6, 2)])
    assert steep.slope == 1.0
    backwards = estimate_effects([RatingPair("t", "a", 5, 1), RatingPair("t", "b", 8, 8)])
    assert backwards.slope == 0.0
