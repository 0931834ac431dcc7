"""Detection statistics (SPEC 5.2): binomial test against background error, and LoD95."""

from __future__ import annotations

from functools import lru_cache

from scipy.special import bdtrc, betaincinv

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
