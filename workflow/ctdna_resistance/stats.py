"""Detection statistics (SPEC 5.2): tests against background error, and LoD95.

The binomial test against one scalar error rate, and its beta-binomial generalisation for a
site's own error learned from normal plasmas (issue 20): mean error ``mean`` and over-dispersion
``rho`` (the intra-class correlation of reads within one sample, so that a + b = (1 - rho) / rho);
rho = 0 is the binomial.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from scipy.special import bdtrc, betaincinv, betaln, gammaln

# scipy.special rather than scipy.stats: the same numbers (scipy.stats calls these) without the
# ~0.8 s import of scipy.stats, which every patient job would pay (issue 6).


def binomial_at_least(successes: int, trials: int, probability: float) -> float:
    """P(X >= successes) for X ~ Binomial(trials, probability)."""
    if successes <= 0:
        return 1.0
    return float(bdtrc(successes - 1, trials, probability))


def beta_quantile(q: float, a: float, b: float) -> float:
    """The q quantile of Beta(a, b) (Clopper-Pearson bounds and the LoD95 use it)."""
    return float(betaincinv(a, b, q))


def detection_p_value(alt_reads: int, depth: int, background_error: float) -> float:
    """P(X >= alt_reads) for X ~ Binomial(depth, background_error)."""
    return binomial_at_least(alt_reads, depth, background_error)


def is_supported(alt_reads: int, depth: int, *, background_error, alpha, min_alt_reads) -> bool:
    """The SPEC 5.2 rule: significant against background and at least min_alt_reads."""
    if depth <= 0 or alt_reads < min_alt_reads:
        return False
    return detection_p_value(alt_reads, depth, background_error) < alpha


@lru_cache(maxsize=65536)
def min_supported_alt_reads(depth: int, background_error: float, alpha: float, min_alt: int) -> int:
    """Smallest alt count that the detection rule accepts at this depth."""
    k = max(min_alt, 1)
    while k <= depth and detection_p_value(k, depth, background_error) >= alpha:
        k += 1
    return k


def lod95(depth: int | None, *, background_error, alpha, min_alt_reads) -> float | None:
    """Smallest VAF detected with probability >= 0.95 at this depth under the same rule.

    P(X >= k | n, v) equals the regularised incomplete beta I_v(k, n - k + 1), so the VAF at which
    it reaches 0.95 is that beta distribution's 0.95 quantile.
    """
    if not depth or depth <= 0:
        return None
    k = min_supported_alt_reads(int(depth), background_error, alpha, min_alt_reads)
    if k > depth:
        return None
    return beta_quantile(0.95, k, depth - k + 1)


def beta_parameters(mean: float, rho: float) -> tuple[float, float]:
    """Beta(a, b) with this mean and intra-class correlation rho (0 < rho < 1)."""
    size = (1.0 - rho) / rho
    return mean * size, (1.0 - mean) * size


def _betabinomial_log_pmf(x: np.ndarray, n: int, a: float, b: float) -> np.ndarray:
    return (
        gammaln(n + 1) - gammaln(x + 1) - gammaln(n - x + 1)
        + betaln(x + a, n - x + b) - betaln(a, b)
    )  # fmt: skip


def error_at_least(successes: int, trials: int, mean: float, rho: float) -> float:
    """P(X >= successes) for X ~ BetaBinomial(trials, mean, rho); the binomial when rho is 0."""
    if successes <= 0:
        return 1.0
    if successes > trials:
        return 0.0
    if rho <= 0:
        return binomial_at_least(successes, trials, mean)
    a, b = beta_parameters(mean, rho)
    log_pmf = _betabinomial_log_pmf(np.arange(successes, trials + 1), trials, a, b)
    top = float(log_pmf.max())
    return float(min(1.0, np.exp(top) * np.exp(log_pmf - top).sum()))


@lru_cache(maxsize=65536)
def min_alt_reads_against(depth: int, mean: float, rho: float, alpha: float, min_alt: int) -> int:
    """Smallest alt count whose P(X >= k | BetaBinomial(depth, mean, rho)) is below alpha (and
    at least min_alt); depth + 1 when none is."""
    if rho <= 0:
        return min_supported_alt_reads(depth, mean, alpha, min_alt)
    a, b = beta_parameters(mean, rho)
    pmf = np.exp(_betabinomial_log_pmf(np.arange(depth + 1), depth, a, b))
    tail = np.cumsum(pmf[::-1])[::-1]  # tail[k] = P(X >= k), summed from the smallest terms
    below = np.flatnonzero(tail[max(min_alt, 1) :] < alpha)
    return int(below[0]) + max(min_alt, 1) if below.size else depth + 1


def lod95_against(depth: int | None, mean: float, rho: float, alpha: float, min_alt: int):
    """LoD95 (as lod95) when the test is against BetaBinomial(depth, mean, rho)."""
    if not depth or depth <= 0:
        return None
    k = min_alt_reads_against(int(depth), mean, rho, alpha, min_alt)
    if k > depth:
        return None
    return beta_quantile(0.95, k, depth - k + 1)


def moment_terms(alt: np.ndarray, depth: np.ndarray) -> tuple[float, float]:
    """(S / p(1-p) - (I - 1), N - sum(depth_i^2)/N - (I - 1)) of moment_overdispersion, whose
    ratio estimates rho; summed over many sites they give one pooled estimate. (0, 0) when the
    groups cannot tell (fewer than 2 with reads, or no alt read at all)."""
    alt = np.asarray(alt, dtype=float)
    depth = np.asarray(depth, dtype=float)
    keep = depth > 0
    alt, depth = alt[keep], depth[keep]
    groups, total = len(depth), float(depth.sum())
    if groups < 2 or total <= 0:
        return 0.0, 0.0
    mean = float(alt.sum()) / total
    if mean <= 0 or mean >= 1:
        return 0.0, 0.0
    spread = float((depth * (alt / depth - mean) ** 2).sum()) / (mean * (1 - mean))
    denominator = total - float((depth**2).sum()) / total - (groups - 1)
    if denominator <= 0:
        return 0.0, 0.0
    return spread - (groups - 1), denominator


def moment_overdispersion(alt: np.ndarray, depth: np.ndarray) -> float:
    """Method-of-moments intra-class correlation of alt/depth across groups (0 when binomial).

    With p = sum(alt)/sum(depth) and S = sum(depth_i (p_i - p)^2), E[S] = p(1-p)((I - 1) +
    rho (N - sum(depth_i^2)/N - (I - 1))) for I groups and N reads, so rho is solved from S and
    clipped to [0, 0.5]. Groups without reads are ignored."""
    excess, denominator = moment_terms(alt, depth)
    return clip_overdispersion(excess, denominator)


def clip_overdispersion(excess: float, denominator: float) -> float:
    """rho = excess / denominator of moment_terms (summed or not), clipped to [0, 0.5]."""
    if denominator <= 0:
        return 0.0
    return float(min(0.5, max(0.0, excess / denominator)))


def predictive_overdispersion(rho: float, reads: float) -> float:
    """The over-dispersion of a new sample's error when the mean itself was learned from
    ``reads`` reads: Var(p) = mean (1 - mean) (rho + (1 - rho) / (reads + 1)), so the test
    allows for the uncertainty of the mean as well as the spread between samples."""
    if reads <= 0:
        return rho
    return float(min(0.5, rho + (1.0 - rho) / (reads + 1.0)))
