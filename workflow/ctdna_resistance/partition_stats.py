"""Partition statistics for targeted assays (issue 17): ddPCR copies, fractional abundance,
limit of blank, detection and LoD95, so that "not detected" means what it means for sequencing.

Digital PCR. Molecules fall into partitions at random, so copies per partition are Poisson:
with ``negatives`` of ``accepted`` partitions empty, lambda = -ln(negatives / accepted), and the
copies analysed are lambda x accepted (concentration: lambda / partition volume). Wells of one
sample and target are merged by summing their partitions (what QuantaSoft's merged wells do).
The fractional abundance f = lambda_mut / (lambda_mut + lambda_wt); its interval is the profile
likelihood interval of f under the two channels' binomial partition counts (exact enough at any
occupancy, unlike a normal approximation on few positives). BEAMing (and any copy counts) counts
molecules directly: f = mutant / (mutant + wild-type), with a Clopper-Pearson interval.

Blank. False-positive mutant partitions come from the wild-type template (polymerase errors,
probe cross-reactivity: a rate per wild-type copy, ``epsilon``) and from contamination (a rate
per partition, ``r``). The plate's wild-type-only control wells give epsilon (their mutant
copies / their wild-type copies; a clean control gives min(configured rate, 1 / its copies),
since it cannot show a rate below about one in its copies); no-template controls give r
(0 when clean). Without wild-type controls, the configured false-positive rate of the assay
stands in for epsilon. The limit of blank is the 95th percentile of the blank's positives.

Detection. The mutant positives k of N partitions against the blank: p = P(X >= k) for
X ~ Binomial(N, 1 - exp(-(epsilon lambda_wt + r))); detected when p < alpha and k >=
min_positive_partitions (the rule of SPEC 5.2 with partitions for reads). LoD95 is the
fractional abundance detected with probability 0.95 at the copies analysed: the positive
probability q95 at which P(Binomial(N, q) >= k_min) = 0.95, turned into copies per partition.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ctdna_resistance.assay_records import AssayRecord
from ctdna_resistance.stats import beta_quantile, binomial_at_least, min_supported_alt_reads

DEFAULT_PARTITION_VOLUME_NL = 0.85  # QX200/QX600 droplets, as QX Manager computes concentration
DEFAULT_TARGETED_ASSAY = {
    "partition_volume_nl": DEFAULT_PARTITION_VOLUME_NL,
    "false_positive_rate": 0.0001,
    "false_positive_rates": {},
    "min_positive_partitions": 2,
}
_CHI2_95 = 3.841458820694124  # chi-square(1) 0.95 quantile: the 95% likelihood interval


def copies_per_partition(negatives: int, accepted: int) -> float:
    """Poisson mean copies per partition, -ln(negatives / accepted); inf when none is empty."""
    if accepted <= 0:
        raise ValueError("no accepted partitions")
    if negatives <= 0:
        return math.inf
    return math.log(accepted / negatives)  # not -log(n/N): that is -0.0 with no positives


def concentration(copies_per_part: float, volume_nl: float = DEFAULT_PARTITION_VOLUME_NL) -> float:
    """Copies per microlitre of reaction."""
    return copies_per_part / (volume_nl * 1e-3)


def _channel_loglik(positives: int, accepted: int, lam: np.ndarray) -> np.ndarray:
    lam = np.maximum(lam, 1e-300)
    return positives * np.log(-np.expm1(-lam)) - (accepted - positives) * lam


def _profile_total(f: float, k_m: int, k_w: int, n: int) -> float:
    """Total copies per partition T maximising the likelihood at fraction f (it is concave)."""

    def slope(t: float) -> float:
        value = 0.0
        for share, k in ((f, k_m), (1.0 - f, k_w)):
            lam = share * t
            if share > 0:
                value += share * ((k / math.expm1(lam) if lam > 0 else math.inf) - (n - k))
        return value

    low, high = 1e-12, 1.0
    while slope(high) > 0 and high < 1e6:
        high *= 2
    for _ in range(200):
        middle = math.sqrt(low * high)
        if slope(middle) > 0:
            low = middle
        else:
            high = middle
        if high / low < 1 + 1e-12:
            break
    return math.sqrt(low * high)


def _profile_loglik(f: float, k_m: int, k_w: int, n: int) -> float:
    t = _profile_total(f, k_m, k_w, n)
    value = 0.0
    for share, k in ((f, k_m), (1.0 - f, k_w)):
        if share <= 0:
            if k > 0:
                return -math.inf
            continue
        value += float(_channel_loglik(k, n, np.array([share * t]))[0])
    return value


def fraction_interval_partitions(k_m: int, k_w: int, n: int) -> tuple[float, float, float]:
    """(fraction, low, high): MLE and 95% profile-likelihood interval of the mutant fraction."""
    lam_m = copies_per_partition(n - k_m, n)
    lam_w = copies_per_partition(n - k_w, n)
    if not math.isfinite(lam_m) or not math.isfinite(lam_w):
        raise ValueError("a saturated channel (no negative partitions) has no fraction")
    if lam_m + lam_w == 0:
        return math.nan, 0.0, 1.0
    best = lam_m / (lam_m + lam_w)
    top = _profile_loglik(best, k_m, k_w, n)

    def inside(f: float) -> bool:
        return 2 * (top - _profile_loglik(f, k_m, k_w, n)) <= _CHI2_95

    def bound(outside: float, within: float) -> float:
        if inside(outside):
            return outside
        for _ in range(60):
            middle = (outside + within) / 2
            if inside(middle):
                within = middle
            else:
                outside = middle
        return within

    return best, bound(0.0, best), bound(1.0, best)


def fraction_interval_copies(mutant: int, total: int) -> tuple[float, float, float]:
    """(fraction, low, high) with the Clopper-Pearson 95% interval (molecules counted)."""
    if total <= 0:
        return math.nan, 0.0, 1.0
    low = 0.0 if mutant == 0 else beta_quantile(0.025, mutant, total - mutant + 1)
    high = 1.0 if mutant == total else beta_quantile(0.975, mutant + 1, total - mutant)
    return mutant / total, low, high


@dataclass(frozen=True)
class Blank:
    """The assay's false positives: per wild-type copy (epsilon) and per partition (r)."""

    per_wildtype_copy: float
    per_partition: float
    source: str  # what the rates came from, for the report

    def partition_probability(self, wildtype_per_partition: float) -> float:
        """Probability that a partition is mutant-positive with no mutant template."""
        return -math.expm1(-(self.per_wildtype_copy * wildtype_per_partition + self.per_partition))


def plate_blank(controls: list[AssayRecord], target: str, configured_rate: float) -> Blank:
    """The blank of ``target`` from the same file's NTC and wild-type-only wells (module doc)."""
    mine = [c for c in controls if c.target == target]
    wildtype = [c for c in mine if c.role == "wildtype_control"]
    ntc = [c for c in mine if c.role == "ntc" and c.has_partitions]
    parts = []
    epsilon = configured_rate
    if wildtype:
        false_copies = wt_copies = 0.0
        for c in wildtype:
            m, w = record_copies(c)
            false_copies += m
            wt_copies += w or 0.0
        if wt_copies > 0:
            epsilon = (
                false_copies / wt_copies
                if false_copies > 0
                else min(configured_rate, 1.0 / wt_copies)
            )
            parts.append(
                f"{len(wildtype)} wild-type control well(s): {false_copies:.3g} false mutant "
                f"copies in {wt_copies:.4g} wild-type copies"
            )
    if not parts:
        parts.append(f"configured false_positive_rate {configured_rate:g} per wild-type copy")
    rate = 0.0
    if ntc:
        positives = sum(c.mutant_positives for c in ntc)
        accepted = sum(c.accepted_partitions for c in ntc)
        rate = positives / accepted if accepted else 0.0
        parts.append(f"{len(ntc)} NTC well(s): {positives} positive(s) in {accepted} partitions")
    return Blank(epsilon, rate, "; ".join(parts))


def record_copies(record: AssayRecord) -> tuple[float, float | None]:
    """(mutant copies, wild-type copies or None) analysed in one record."""
    if record.has_partitions:
        n = record.accepted_partitions
        mutant = copies_per_partition(n - record.mutant_positives, n) * n
        wild = (
            None
            if record.wildtype_positives is None
            else copies_per_partition(n - record.wildtype_positives, n) * n
        )
        return mutant, wild
    return float(record.mutant_copies or 0.0), record.wildtype_copies


def merge_wells(records: list[AssayRecord]) -> dict[tuple[str, str], list[AssayRecord]]:
    """Records of each (sample, target), in file order; a QuantaSoft merged row is left out
    when its wells are all listed (their sum is the merged row)."""
    groups: dict[tuple[str, str], list[AssayRecord]] = {}
    for record in records:
        groups.setdefault((record.sample, record.target), []).append(record)
    for key, group in groups.items():
        wells = {r.well for r in group}
        groups[key] = [r for r in group if not (r.merged_wells and set(r.merged_wells) <= wells)]
    return groups


@dataclass(frozen=True)
class Measurement:
    """One sample and target, wells merged: counts, fraction, blank, detection, LoD95."""

    sample: str
    target: str
    platform: str
    wells: tuple[str, ...]
    mutant_positives: int | None
    wildtype_positives: int | None
    accepted_partitions: int | None
    mutant_copies: float
    wildtype_copies: float | None
    fraction: float | None
    fraction_low: float | None
    fraction_high: float | None
    concentration: float | None  # mutant copies per uL (partition assays)
    blank: Blank
    limit_of_blank: int | None  # 95th percentile of the blank's positives (partitions/copies)
    p_value: float | None
    detected: bool
    lod95: float | None
    note: str = ""

    @property
    def depth(self) -> int | None:
        """Copies analysed (mutant + wild-type), the depth of sequencing's tables."""
        if self.wildtype_copies is None:
            return None
        total = self.mutant_copies + self.wildtype_copies
        return round(total) if math.isfinite(total) else None  # a saturated channel: unknown

    @property
    def alt_reads(self) -> int | None:
        """Mutant copies, rounded: the alt reads of sequencing's tables (None when saturated)."""
        return round(self.mutant_copies) if math.isfinite(self.mutant_copies) else None


def _positives_quantile(n: int, p: float, q: float = 0.95) -> int:
    """Smallest k with P(Binomial(n, p) <= k) >= q."""
    k = 0
    while k < n and binomial_at_least(k + 1, n, p) > 1 - q:
        k += 1
    return k


def measure(
    group: list[AssayRecord],
    blank: Blank,
    *,
    alpha: float,
    min_positive_partitions: int,
    volume_nl: float = DEFAULT_PARTITION_VOLUME_NL,
) -> Measurement:
    """Merge a (sample, target)'s wells and call it (module docstring)."""
    first = group[0]
    wells = tuple(r.well for r in group)
    if all(r.has_partitions for r in group):
        return _measure_partitions(group, blank, alpha, min_positive_partitions, volume_nl)
    if any(r.has_partitions for r in group):
        raise ValueError(f"{first.sample} {first.target}: partition and copy rows mixed")
    mutant = round(sum(r.mutant_copies or 0 for r in group))
    wild_values = [r.wildtype_copies for r in group]
    wild = None if None in wild_values else round(sum(wild_values))
    fraction = low = high = lod = p_value = lob = None
    detected = False
    if wild is not None:
        total = mutant + wild
        fraction, low, high = fraction_interval_copies(mutant, total)
        epsilon = max(blank.per_wildtype_copy, 1e-12)
        p_value = binomial_at_least(mutant, total, epsilon)
        detected = p_value < alpha and mutant >= min_positive_partitions
        k_min = min_supported_alt_reads(total, epsilon, alpha, min_positive_partitions)
        lod = beta_quantile(0.95, k_min, total - k_min + 1) if 0 < k_min <= total else None
        lob = _positives_quantile(total, epsilon)
    return Measurement(
        first.sample, first.target, first.platform, wells, None, None, None, float(mutant),
        None if wild is None else float(wild), fraction, low, high, None, blank, lob, p_value,
        detected, lod,
    )  # fmt: skip


def _measure_partitions(group, blank, alpha, min_positive_partitions, volume_nl) -> Measurement:
    first = group[0]
    n = sum(r.accepted_partitions for r in group)
    k_m = sum(r.mutant_positives for r in group)
    has_wild = all(r.wildtype_positives is not None for r in group)
    k_w = sum(r.wildtype_positives for r in group) if has_wild else None
    volume = first.partition_volume_nl or volume_nl
    lam_m = copies_per_partition(n - k_m, n)
    lam_w = copies_per_partition(n - k_w, n) if has_wild else None
    note = ""
    fraction = low = high = lod = None
    if lam_w is not None and math.isfinite(lam_m) and math.isfinite(lam_w):
        if lam_m + lam_w > 0:
            fraction, low, high = fraction_interval_partitions(k_m, k_w, n)
    else:
        note = (
            "saturated channel (no negative partitions): dilute the sample and rerun the well"
            if has_wild
            else "no wild-type channel"
        )
    p0 = blank.partition_probability(lam_w if lam_w is not None and math.isfinite(lam_w) else 0.0)
    p_value, detected, k_min = detect_partitions(k_m, n, p0, alpha, min_positive_partitions)
    if lam_w is not None and not math.isfinite(lam_w):
        # wild-type copies unknown, so the blank's false positives are too: no call either way
        p_value, detected = None, False
    if lam_w is not None and math.isfinite(lam_w) and math.isfinite(lam_m) and k_min <= n:
        lod = lod95_partitions(n, k_min, lam_m + lam_w, blank)
    return Measurement(
        first.sample, first.target, first.platform, tuple(r.well for r in group), k_m, k_w, n,
        lam_m * n, None if lam_w is None else lam_w * n, fraction, low, high,
        concentration(lam_m, volume) if math.isfinite(lam_m) else None, blank,
        _positives_quantile(n, p0), p_value, detected, lod, note,
    )  # fmt: skip


def detect_partitions(
    positives: int, n: int, blank_probability: float, alpha: float, min_positive: int
) -> tuple[float, bool, int]:
    """(p-value, detected, fewest positives detected) of ``positives`` mutant partitions of
    ``n`` against a blank that makes a partition positive with ``blank_probability``."""
    p0 = max(blank_probability, 1e-300)
    p_value = binomial_at_least(positives, n, p0)
    k_min = min_supported_alt_reads(n, p0, alpha, min_positive)
    return p_value, p_value < alpha and positives >= min_positive, k_min


def lod95_partitions(n: int, k_min: int, total_per_partition: float, blank: Blank) -> float | None:
    """Mutant fraction detected with probability 0.95 at ``total_per_partition`` copies/partition.

    At fraction f the positive probability is 1 - exp(-(f T + epsilon (1 - f) T + r)); it must
    reach q95, the positive probability at which P(Binomial(n, q) >= k_min) = 0.95."""
    if total_per_partition <= 0:
        return None
    q95 = beta_quantile(0.95, k_min, n - k_min + 1)
    needed = -math.log1p(-q95) - blank.per_wildtype_copy * total_per_partition
    needed -= blank.per_partition
    f = needed / (total_per_partition * (1.0 - blank.per_wildtype_copy))
    return min(1.0, max(0.0, f)) if f <= 1.0 else None


def detection_power(
    fraction: float, n: int, total_per_partition: float, blank: Blank, k_min: int
) -> float:
    """Exact probability that a plate with this fraction is detected (k_min positives or more)."""
    rate = fraction * total_per_partition + blank.per_wildtype_copy * (1 - fraction) * (
        total_per_partition
    )
    q = -math.expm1(-(rate + blank.per_partition))
    return binomial_at_least(k_min, n, q)
