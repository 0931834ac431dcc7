"""A ctDNA level per draw from every marker of the patient, and molecular response (issue 20).

Tumour-informed and pooled, as INVAR2 does: at one draw, marker j (a panel allele or a clone
marker seen in any draw of the patient) has alt reads k_j of depth n_j and a background error e_j
(its site's, background.ErrorModel). With one mutant allele fraction f common to the markers, a
read there shows the alt with probability p_j = f + (1 - f) e_j, and

    l(f) = sum_j k_j log p_j + (n_j - k_j) log(1 - p_j)

is concave in f. The estimate maximises it on [0, 1); the test of f = 0 is the likelihood ratio
2 (l(f_hat) - l(0)), whose null law on the boundary is the 50:50 mixture of 0 and chi-square(1),
so p = P(chi2_1 >= LR) / 2; the 95% interval is the profile-likelihood one (l within 1.92 of its
maximum). Markers at sites the normals flag (recurrent artefact, CHIP-like) are left out, as
INVAR2 leaves out noisy loci. The pooled LoD95 is that of the summed count: K = sum k_j is about
Poisson(sum n_j e_j + f sum n_j), the smallest K significant at alpha is k*, and the LoD95 is the f
at which P(K >= k*) = 0.95.

Molecular response compares a draw's level with the baseline draw's: ``molecular_response`` when
the draw's upper 95% bound is below ``response_fraction`` x the baseline estimate, ``rise`` when its
lower bound is above ``rise_fold`` x the baseline estimate (or ctDNA is detected now and was not
at baseline), else ``stable``; the reason gives the numbers. A draw measured only by a targeted
assay (ddPCR, BEAMing) pools just the alleles the assay was designed for, usually subclonal
resistance alleles, not the markers the baseline pooled: its response is None, with the reason.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
from scipy.special import erfc, pdtrc

DEFAULT_CTDNA_LEVEL = {"response_fraction": 0.5, "rise_fold": 2.0}
_CHI2_95_HALF = 1.920729410347062  # chi2(1) 0.95 quantile / 2: the profile interval's drop


@dataclass(frozen=True)
class MarkerCount:
    """One marker at one draw: its reads and its background error."""

    key: str
    alt_reads: int
    depth: int
    error: float
    model: str  # background model of the error: site, context, scalar


@dataclass
class CtdnaLevel:
    """The pooled ctDNA level of one draw (all fractions are mutant allele fractions)."""

    status: str  # detected, not_detected, not_assessed
    estimate: float | None = None
    low: float | None = None
    high: float | None = None
    p_value: float | None = None
    lod95: float | None = None
    markers: int = 0  # markers with reads at this draw
    markers_left_out: int = 0  # at flagged background sites
    alt_reads: int = 0
    depth: int = 0
    background_models: tuple[str, ...] = ()
    response: str | None = None  # baseline, molecular_response, stable, rise, or None
    response_reason: str = ""

    def as_dict(self) -> dict:
        data = asdict(self)
        data["background_models"] = list(self.background_models)
        return data


def _log_likelihood(f: float, k: np.ndarray, n: np.ndarray, e: np.ndarray) -> float:
    p = f + (1.0 - f) * e
    return float((k * np.log(p) + (n - k) * np.log1p(-p)).sum())


def _slope(f: float, k, n, e) -> float:
    p = f + (1.0 - f) * e
    return float(((k / p - (n - k) / (1.0 - p)) * (1.0 - e)).sum())


def _bisect(function, low: float, high: float, iterations: int = 200) -> float:
    """A root of a monotone function with a sign change on [low, high]."""
    f_low = function(low)
    for _ in range(iterations):
        middle = 0.5 * (low + high)
        value = function(middle)
        if (value > 0) == (f_low > 0):
            low, f_low = middle, value
        else:
            high = middle
        if high - low < 1e-12:
            break
    return 0.5 * (low + high)


def pooled_level(counts: list[MarkerCount], alpha: float = 0.01) -> CtdnaLevel:
    """The likelihood-ratio test, estimate and interval of the module docstring."""
    used = [c for c in counts if c.depth > 0]
    if not used:
        return CtdnaLevel("not_assessed")
    k = np.array([c.alt_reads for c in used], dtype=float)
    n = np.array([c.depth for c in used], dtype=float)
    # an error of exactly 0 would make one alt read infinitely significant
    e = np.clip(np.array([c.error for c in used], dtype=float), 1e-7, 0.5)
    upper = 1.0 - 1e-9
    if _slope(0.0, k, n, e) <= 0:
        estimate = 0.0
    elif _slope(upper, k, n, e) >= 0:
        estimate = upper
    else:
        estimate = _bisect(lambda f: _slope(f, k, n, e), 0.0, upper)
    top = _log_likelihood(estimate, k, n, e)
    ratio = max(0.0, 2.0 * (top - _log_likelihood(0.0, k, n, e)))
    p_value = 0.5 * float(erfc(math.sqrt(ratio / 2.0))) if estimate > 0 else 1.0
    floor = top - _CHI2_95_HALF

    def drop(f: float) -> float:
        return _log_likelihood(f, k, n, e) - floor

    low = 0.0 if drop(0.0) >= 0 else _bisect(drop, 0.0, estimate)
    high = upper if drop(upper) >= 0 else _bisect(drop, estimate, upper)
    return CtdnaLevel(
        "detected" if p_value < alpha else "not_detected",
        estimate=estimate,
        low=low,
        high=high,
        p_value=p_value,
        lod95=pooled_lod95(n, e, alpha),
        markers=len(used),
        alt_reads=int(k.sum()),
        depth=int(n.sum()),
        background_models=tuple(sorted({c.model for c in used})),
    )


def pooled_lod95(depth: np.ndarray, error: np.ndarray, alpha: float) -> float | None:
    """The mutant fraction at which the summed alt count is significant with probability 0.95."""
    reads = float(np.sum(depth))
    if reads <= 0:
        return None
    expected = float(np.sum(np.asarray(depth) * np.asarray(error)))
    critical = 1
    while pdtrc(critical - 1, expected) >= alpha:
        critical += 1
    # the Poisson mean at which P(K >= k*) = pdtrc(k* - 1, mean) reaches 0.95
    high = expected + critical + 10.0 * math.sqrt(critical) + 10.0
    mean = _bisect(lambda m: float(pdtrc(critical - 1, m)) - 0.95, expected, high)
    return max(0.0, (mean - expected) / reads)


def molecular_response(level: CtdnaLevel, baseline: CtdnaLevel, settings: dict) -> tuple[str, str]:
    """(label, reason) of a draw's level against the baseline draw's (module docstring)."""
    if level.status == "not_assessed" or baseline.status == "not_assessed":
        return "", "no marker read at this draw or at baseline"
    base = baseline.estimate or 0.0
    fraction, fold = settings["response_fraction"], settings["rise_fold"]
    now = f"{_percent(level.estimate)} (95% CI {_percent(level.low)}-{_percent(level.high)})"
    if baseline.status != "detected":
        if level.status == "detected":
            return "rise", f"ctDNA {now} detected; not detected at baseline"
        return "stable", "ctDNA not detected now or at baseline"
    if level.high is not None and level.high < fraction * base:
        return "molecular_response", (
            f"ctDNA {now}: upper bound below {fraction:g} x the baseline {_percent(base)}"
        )
    if level.low is not None and level.low > fold * base:
        return "rise", f"ctDNA {now}: lower bound above {fold:g} x the baseline {_percent(base)}"
    return "stable", (
        f"ctDNA {now}: the interval reaches from {fraction:g} to {fold:g} x the baseline "
        f"{_percent(base)}"
    )


def _percent(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.3g}%"


def draw_levels(draws, series, markers, errors, detection: dict, settings: dict | None = None):
    """Each draw's CtdnaLevel (sample -> level), with molecular response against the first draw.

    ``series``: tracking.track_patient's observations (the panel small variants' reads at every
    draw); ``markers``: the patient's clone markers (tracking.clone_marker_sites), counted at
    each draw from the caller's record, the BAM or not at all (tracking.marker_counts)."""
    from ctdna_resistance.tracking import marker_counts, site_of_key, small_variant_rows

    settings = {**DEFAULT_CTDNA_LEVEL, **(settings or {})}
    levels, assay_only = {}, set()
    for index, draw in enumerate(draws):
        counts, left_out, platforms = [], 0, set()
        for key, observations in series.items():
            site = site_of_key(key)
            obs = observations[index]
            if site is None or not obs.depth or obs.alt_reads is None:
                continue
            platforms.add(obs.platform or "ngs")
            model = errors.site(*site)
            if model.flag:
                left_out += 1
                continue
            counts.append(MarkerCount(key, obs.alt_reads, obs.depth, model.mean, model.model))
        rows = small_variant_rows(draw)
        for key, marker in markers.items():
            if key in series:
                continue
            alt, depth = marker_counts(draw, key, rows)
            model = errors.site(marker.chrom, marker.pos, marker.ref, marker.alt)
            if model.flag:
                left_out += 1
                continue
            if depth:
                counts.append(MarkerCount(key, alt, depth, model.mean, model.model))
                platforms.add("ngs")
        level = pooled_level(counts, detection["alpha"])
        level.markers_left_out = left_out
        levels[draw.sample.sample] = level
        if platforms and "ngs" not in platforms:
            assay_only.add(draw.sample.sample)
    baseline = levels[draws[0].sample.sample] if draws else None
    for index, draw in enumerate(draws):
        level = levels[draw.sample.sample]
        if index == 0:
            level.response = "baseline" if level.status != "not_assessed" else None
            continue
        if draw.sample.sample in assay_only:
            # a targeted assay measures the resistance alleles it was designed for, not the
            # markers the baseline pooled (truncal ones among them): the two levels are of
            # different things, so no response is claimed (issue 17)
            level.response = None
            level.response_reason = (
                f"not compared with baseline: this draw's level pools only the {level.markers} "
                "allele(s) its targeted assay measured, the baseline's the patient's markers"
            )
            continue
        label, reason = molecular_response(level, baseline, settings)
        level.response, level.response_reason = (label or None), reason
    return levels
