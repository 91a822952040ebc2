"""Each therapist's effect on one goal, from their clients' ratings before and after visits.

The raw mean fall of a therapist's clients mixes three things: the therapist,
where the clients started (a client at 9 falls further than one at 4, whoever
treats them: regression to the mean), and luck (ten clients say little). The
estimator takes them apart, the way outcome reports of hospitals do:

1. Each client counts once: the mean of their first MAX_PAIRS_PER_CLIENT pairs.
2. Where clients started: fall = a + b * (start - c) + therapist + noise. The
   slope b is fitted within therapists (each client's start against their own
   therapist's mean start), so a therapist whose clients start high gets no
   credit for it, and one who attracts hard cases is not blamed for it.
3. Each therapist's adjusted mean fall (for a client starting at c, the mean
   start of all clients) is pulled toward the mean of all therapists in
   proportion to its uncertainty (empirical Bayes): weight = tau^2 /
   (tau^2 + v), v = sigma^2 / n, tau^2 the variance between therapists,
   estimated by restricted maximum likelihood (REML).
4. Only therapists with MIN_CLIENTS distinct clients get an estimate; the
   others still inform a, b, sigma^2, tau^2 and the mean (aggregates over
   every client), never a figure of their own.

Pure Python: the site and bench/outcomes.py run this same function.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Hashable, Iterable
from dataclasses import dataclass

from .outcomes import MAX_PAIRS_PER_CLIENT, MIN_CLIENTS, change_matters

Z95 = 1.959964
# Ratings are whole numbers: even a perfectly steady client carries the rounding
# error of the scale (variance 1/12), so sigma^2 never reaches 0.
ROUNDING_VARIANCE = 1 / 12


@dataclass(frozen=True)
class RatingPair:
    """One visit's ratings on one goal; pairs are given in the order the visits happened."""

    therapist: Hashable
    client: Hashable
    pre: float
    post: float


@dataclass(frozen=True)
class TherapistEffect:
    therapist: Hashable
    clients: int  # distinct clients counted
    raw_fall: float  # their clients' mean fall, as measured
    adjusted_fall: float  # the same, for clients starting at the reference start; not shrunk
    fall: float  # the estimate: adjusted and shrunk
    low: float  # 95% interval of `fall`
    high: float
    weight: float  # the share of `fall` that is their own data (the rest is the mean of all)
    improved_share: float  # the share of clients whose change mattered (outcomes.change_matters)


@dataclass(frozen=True)
class EffectModel:
    reference_start: float  # c: the mean start of all clients counted
    slope: float  # b: extra fall per point of start above c
    mean_fall: float  # the mean therapist's fall for a client starting at c
    between_variance: float  # tau^2
    within_variance: float  # sigma^2, one client
    clients: int  # all distinct (therapist, client) pairs counted
    effects: dict[Hashable, TherapistEffect]  # only therapists with MIN_CLIENTS clients or more

    def fall_for(self, therapist: Hashable, start: float | None = None) -> float | None:
        """The fall expected for a client of this therapist starting at `start` (default: the
        reference start); None without an estimate."""
        effect = self.effects.get(therapist)
        if effect is None:
            return None
        return effect.fall + (0.0 if start is None else self.slope * (start - self.reference_start))

    def rank_key(self, therapist: Hashable) -> float:
        """What ranking adds for this therapist, in points: the estimate above (or below) the
        mean therapist's; 0 without an estimate, so fewer than MIN_CLIENTS clients move nothing."""
        effect = self.effects.get(therapist)
        return 0.0 if effect is None else effect.fall - self.mean_fall


@dataclass
class _Client:
    pairs: int = 0
    pre: float = 0.0
    post: float = 0.0


def _clients(pairs: Iterable[RatingPair], max_pairs: int) -> dict[Hashable, list[tuple[float, float]]]:
    """(mean start, mean end) of each client, per therapist, over their first `max_pairs` pairs."""
    sums: dict[Hashable, dict[Hashable, _Client]] = defaultdict(dict)
    for p in pairs:
        client = sums[p.therapist].setdefault(p.client, _Client())
        if client.pairs < max_pairs:
            client.pairs += 1
            client.pre += p.pre
            client.post += p.post
    return {t: [(c.pre / c.pairs, c.post / c.pairs) for c in cs.values()] for t, cs in sums.items()}


def _mean(values) -> float:
    values = list(values)
    return sum(values) / len(values)


def _reml(means: list[float], variances: list[float]) -> tuple[float, float, float]:
    """(tau^2, weighted mean, variance of that mean) of a random-effects model by REML,
    started from the DerSimonian-Laird moment estimate."""
    k = len(means)
    w = [1 / v for v in variances]
    sw = sum(w)
    mu = sum(wi * m for wi, m in zip(w, means)) / sw
    tau2 = 0.0
    if k > 1:
        q = sum(wi * (m - mu) ** 2 for wi, m in zip(w, means))
        tau2 = max(0.0, (q - (k - 1)) / (sw - sum(wi * wi for wi in w) / sw))
        for _ in range(200):
            w = [1 / (v + tau2) for v in variances]
            sw = sum(w)
            mu = sum(wi * m for wi, m in zip(w, means)) / sw
            sw2 = sum(wi * wi for wi in w)
            new = max(0.0, sum(wi * wi * ((m - mu) ** 2 - v) for wi, m, v in zip(w, means, variances)) / sw2 + 1 / sw)
            if abs(new - tau2) < 1e-10:
                tau2 = new
                break
            tau2 = new
    w = [1 / (v + tau2) for v in variances]
    sw = sum(w)
    return tau2, sum(wi * m for wi, m in zip(w, means)) / sw, 1 / sw


def estimate_effects(
    pairs: Iterable[RatingPair], *, min_clients: int = MIN_CLIENTS, max_pairs: int = MAX_PAIRS_PER_CLIENT
) -> EffectModel:
    """Every therapist's effect on one goal (see the module's docstring). Pairs in visit order."""
    by_therapist = _clients(pairs, max_pairs)
    everyone = [c for cs in by_therapist.values() for c in cs]
    if not everyone:
        return EffectModel(0.0, 0.0, 0.0, 0.0, 0.0, 0, {})
    c = _mean(pre for pre, _ in everyone)

    # The slope within therapists, and the variance of one client around their therapist's line.
    sxy = sxx = 0.0
    start_means: dict[Hashable, float] = {}
    fall_means: dict[Hashable, float] = {}
    for t, cs in by_therapist.items():
        start_means[t] = xm = _mean(pre for pre, _ in cs)
        fall_means[t] = ym = _mean(pre - post for pre, post in cs)
        for pre, post in cs:
            sxy += (pre - xm) * (pre - post - ym)
            sxx += (pre - xm) ** 2
    # Between 0 and 1 whatever a handful of clients suggest: starting a point higher never means
    # falling less, nor falling more than that point (b = 1 is an end rating unrelated to the start).
    b = min(1.0, max(0.0, sxy / sxx)) if sxx > 0 else 0.0
    residual = sum(
        (pre - post - fall_means[t] - b * (pre - start_means[t])) ** 2
        for t, cs in by_therapist.items()
        for pre, post in cs
    )
    dof = len(everyone) - len(by_therapist) - (1 if sxx > 0 else 0)
    sigma2 = max(ROUNDING_VARIANCE, residual / dof if dof > 0 else 0.0)
    slope_variance = sigma2 / sxx if sxx > 0 else 0.0

    therapists = list(by_therapist)
    adjusted = [fall_means[t] - b * (start_means[t] - c) for t in therapists]
    variances = [sigma2 / len(by_therapist[t]) + (start_means[t] - c) ** 2 * slope_variance for t in therapists]
    tau2, mu, mu_variance = _reml(adjusted, variances)

    effects: dict[Hashable, TherapistEffect] = {}
    for t, d, v in zip(therapists, adjusted, variances):
        cs = by_therapist[t]
        if len(cs) < min_clients:
            continue
        weight = tau2 / (tau2 + v)
        fall = weight * d + (1 - weight) * mu
        se = math.sqrt(weight * v + (1 - weight) ** 2 * mu_variance)
        effects[t] = TherapistEffect(
            therapist=t,
            clients=len(cs),
            raw_fall=fall_means[t],
            adjusted_fall=d,
            fall=fall,
            low=fall - Z95 * se,
            high=fall + Z95 * se,
            weight=weight,
            improved_share=sum(change_matters(pre, post) for pre, post in cs) / len(cs),
        )
    return EffectModel(c, b, mu, tau2, sigma2, len(everyone), effects)
