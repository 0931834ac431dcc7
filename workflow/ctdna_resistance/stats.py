"""Detection statistics (SPEC 5.2): binomial test against background error, and LoD95."""

from __future__ import annotations

from functools import lru_cache

from scipy.stats import beta, binom


def detection_p_value(alt_reads: int, depth: int, background_error: float) -> float:
    """P(X >= alt_reads) for X ~ Binomial(depth, background_error)."""
    if alt_reads <= 0:
        return 1.0
    return float(binom.sf(alt_reads - 1, depth, background_error))


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
    return float(beta.ppf(0.95, k, depth - k + 1))
