"""Trend of one alteration across a patient's draws (SPEC 5.5).

Labels, per draw:

* ``pre_existing``: detected at baseline (the first draw): primary, not acquired, resistance.
* ``new``: detected now, never detected before, and some earlier draw was ``not_detected`` with an
  adequate LoD (below).
* ``first_seen``: detected now, never detected before, but no earlier draw could have seen it (not
  assessed, not evaluable, or too shallow); the reason names each earlier draw and why.
* ``rising`` / ``falling`` / ``stable``: detected now and before; a two-sample test of the
  (alt reads, depth) pair against the previous draw with counts decides.
* ``cleared``: detected before, ``not_detected`` now, with an LoD95 at or below the VAF of the last
  detection (so the level last seen would have been found with probability >= 0.95).
* otherwise the draw's status: ``not_detected``, ``not_evaluable``, ``not_assessed``.

Two-sample test: Fisher's exact test (two-sided, conditional on the total alt reads). In plasma the
alt counts being compared are often a handful of reads, where the normal approximation behind a
two-proportion z-test is anti-conservative; Fisher's test keeps the false "rising"/"falling" rate at
or below alpha at any count. It assumes binomial sampling only: extra-binomial variation between
draws (pre-analytical, library) is not modelled, so at very high depth small changes in VAF test as
significant.

Adequate LoD. An earlier ``not_detected`` draw could have seen the alteration when its LoD95 is at
or below the VAF now (it would have found today's level with probability >= 0.95), or at or below
this draw's own LoD95 (it was at least as sensitive as the draw that finds it now). The second arm
matters near the limit: at equal depth, a detection with the fewest supported reads has a VAF below
its own draw's LoD95, yet the earlier draw's absence is exactly as informative as this draw's
presence. Without it, sensitivity for ``new`` falls far below the binomial test's power
(tests/validation/power_grid.py). ``cleared`` is kept strict (LoD95 at or below the VAF last seen)
because it claims absence.

Copy number and fusions have no LoD95. Their ``not_detected`` is assigned upstream only where the
call's own rule would have fired at the least extreme level seen in the patient (tracking, with
structural_absence), else they are ``not_evaluable``; such a draw (``absence_by_rule``) counts as an
adequate absence for ``new`` and ``cleared`` as it stands.
"""

from __future__ import annotations

import datetime
import math
from dataclasses import dataclass

import numpy as np
from scipy.special import betaln

STATUSES = ("detected", "not_detected", "not_evaluable", "not_assessed")
LABELS = (
    "new",
    "rising",
    "falling",
    "stable",
    "cleared",
    "pre_existing",
    "first_seen",
    "not_detected",
    "not_evaluable",
    "not_assessed",
)
TEST_NAME = "fisher_exact_two_sided"
# Relative tolerance when comparing hypergeometric probabilities to the observed one, so that
# tables as likely as the observed one are not lost to rounding (the convention of R's fisher.test).
_FISHER_RELATIVE_TOLERANCE = 1e-7
# Why a draw keeps its status as its label, unless the draw gives its own reason.
_STATUS_REASONS = {
    "not_evaluable": "depth too low or LoD95 above the VAF seen elsewhere",
    "not_assessed": "nothing tells the depth at this draw",
}


@dataclass(frozen=True)
class Draw:
    """One alteration at one draw: its status and read counts (counts may be unknown)."""

    sample: str
    date: datetime.date
    status: str
    alt_reads: int | None
    depth: int | None
    lod95: float | None
    # Copy number and fusions have no LoD95: their not_detected says the call's own rule would
    # have fired at the level seen in the patient (structural_absence), so the absence is adequate
    # as it stands; ``reason`` says why, for the status labels.
    absence_by_rule: bool = False
    reason: str = ""


@dataclass(frozen=True)
class TrendCall:
    """The trend label of one alteration at one draw, with the test that decided it."""

    label: str
    p_value: float | None
    test: str | None
    reason: str
    # the draw the label is relative to (new: the latest earlier draw that could have seen it and
    # did not; rising/falling/stable: the draw compared; cleared: the last detection), else None
    since: str | None = None


def _hypergeom_logpmf(k: np.ndarray, total: int, good: int, drawn: int) -> np.ndarray:
    """log P(K = k) for the hypergeometric law, written as scipy.stats.hypergeom.logpmf writes it.

    The same betaln expression gives the same numbers without importing scipy.stats (~0.8 s in
    every patient job, issue 6).
    """
    bad = total - good
    return (
        betaln(good + 1, 1)
        + betaln(bad + 1, 1)
        + betaln(total - drawn + 1, drawn + 1)
        - betaln(k + 1, good - k + 1)
        - betaln(drawn - k + 1, bad - drawn + k + 1)
        - betaln(total + 1, 1)
    )


def fisher_exact_two_sided(alt1: int, depth1: int, alt2: int, depth2: int) -> float:
    """Two-sided Fisher exact p-value for alt1/depth1 versus alt2/depth2.

    Sums the hypergeometric probabilities of all tables with the same margins that are no more
    likely than the observed one. Only the alt-read margin's support is enumerated, which is small
    for ctDNA counts, so this is much faster than scipy.stats.fisher_exact at plasma depths.
    """
    total_alt = alt1 + alt2
    total = depth1 + depth2
    if total_alt == 0 or total_alt == total:
        return 1.0
    low = max(0, total_alt - depth2)
    high = min(depth1, total_alt)
    support = np.arange(low, high + 1)
    log_pmf = _hypergeom_logpmf(support, total, total_alt, depth1)
    observed = _hypergeom_logpmf(np.array([alt1]), total, total_alt, depth1)[0]
    as_extreme = log_pmf <= observed + math.log1p(_FISHER_RELATIVE_TOLERANCE)
    return float(min(1.0, np.exp(log_pmf[as_extreme]).sum()))


def classify_trends(
    draws: list[Draw], *, alpha: float, max_vaf_elsewhere: float | None = None
) -> list[TrendCall]:
    """One TrendCall per draw, in the order given (draws must be sorted by date; first = baseline).

    ``max_vaf_elsewhere`` is the highest VAF this alteration reaches anywhere in the patient. A
    ``not_detected`` draw whose LoD95 is above it, and above the LoD95 of the first draw that
    detected the alteration, could not have seen it and is labelled ``not_evaluable`` (SPEC 5.2).
    Pass such draws as ``not_detected`` with their LoD95 rather than as ``not_evaluable``: whether
    an absence is informative depends on the draw it is compared with (see the module docstring).
    """
    _check(draws)
    first_detected = next((d for d in draws if d.status == "detected"), None)
    lod_first_detection = first_detected.lod95 if first_detected else None
    return [
        _classify_one(draws, index, alpha, max_vaf_elsewhere, lod_first_detection)
        for index in range(len(draws))
    ]


def is_emerging(call: TrendCall, index: int) -> bool:
    """Emerging (what the report leads with): new or rising, after baseline."""
    return index > 0 and call.label in ("new", "rising")


def _check(draws: list[Draw]) -> None:
    for draw in draws:
        if draw.status not in STATUSES:
            raise ValueError(f"{draw.sample}: unknown status {draw.status!r}")
        if draw.status == "detected" and draw.alt_reads is not None and not draw.depth:
            raise ValueError(f"{draw.sample}: detected with alt reads but no depth")
    dates = [draw.date for draw in draws]
    if dates != sorted(dates):
        raise ValueError("draws must be sorted by date (the first is the baseline)")


def count_vaf(draw) -> float | None:
    """alt reads / depth of anything with ``alt_reads`` and ``depth`` (a Draw, an Observation):
    the VAF the trend rules compare, not a caller's own AF estimate."""
    if draw.alt_reads is None or not draw.depth:
        return None
    return draw.alt_reads / draw.depth


def _has_counts(draw: Draw) -> bool:
    return draw.alt_reads is not None and bool(draw.depth)


def _fmt(vaf: float | None) -> str:
    return "unknown" if vaf is None else f"{100 * vaf:.3g}%"


def _classify_one(
    draws: list[Draw],
    index: int,
    alpha: float,
    max_vaf_elsewhere: float | None,
    lod_first_detection: float | None,
) -> TrendCall:
    draw = draws[index]
    earlier = draws[:index]
    detected_before = [d for d in earlier if d.status == "detected"]
    if draw.status == "detected":
        if index == 0:
            return TrendCall("pre_existing", None, None, "detected at baseline")
        if detected_before:
            return _change(draw, earlier, alpha)
        return _new_or_first_seen(draw, earlier)
    if draw.status == "not_detected":
        if draw.absence_by_rule:
            if detected_before:
                return _cleared(draw, detected_before[-1])
            return TrendCall("not_detected", None, None, draw.reason or "not detected")
        if _blind(draw.lod95, max_vaf_elsewhere, lod_first_detection):
            return TrendCall(
                "not_evaluable",
                None,
                None,
                f"LoD95 {_fmt(draw.lod95)} above the highest VAF seen ({_fmt(max_vaf_elsewhere)})",
            )
        if detected_before:
            return _cleared(draw, detected_before[-1])
        return TrendCall("not_detected", None, None, f"not detected, LoD95 {_fmt(draw.lod95)}")
    return TrendCall(draw.status, None, None, draw.reason or _STATUS_REASONS[draw.status])


def _change(draw: Draw, earlier: list[Draw], alpha: float) -> TrendCall:
    """Rising / falling / stable against the most recent earlier draw with read counts."""
    previous = next((d for d in reversed(earlier) if _has_counts(d)), None)
    if previous is None or not _has_counts(draw):
        last = next(d for d in reversed(earlier) if d.status == "detected")
        return TrendCall(
            "stable", None, None, "detected before; no read counts to compare", last.sample
        )
    p_value = fisher_exact_two_sided(previous.alt_reads, previous.depth, draw.alt_reads, draw.depth)
    before, now = count_vaf(previous), count_vaf(draw)
    comparison = f"VAF {_fmt(before)} at {previous.sample} -> {_fmt(now)}, p={p_value:.3g}"
    if p_value < alpha:
        label = "rising" if now > before else "falling"
        return TrendCall(
            label, p_value, TEST_NAME, f"{comparison} < alpha {alpha}", previous.sample
        )
    return TrendCall(
        "stable", p_value, TEST_NAME, f"{comparison} >= alpha {alpha}", previous.sample
    )


def _blind(lod: float | None, max_vaf: float | None, lod_first_detection: float | None) -> bool:
    """LoD95 above the highest VAF seen and less sensitive than the draw that first saw it."""
    if lod is None or max_vaf is None or lod <= max_vaf:
        return False
    return lod_first_detection is None or lod > lod_first_detection


def _new_or_first_seen(draw: Draw, earlier: list[Draw]) -> TrendCall:
    vaf_now = count_vaf(draw)
    adequate, why_not = [], []
    for prior in earlier:
        problem = inadequate_absence(prior, vaf_now, draw.lod95)
        if problem:
            why_not.append(f"{prior.sample}: {problem}")
        else:
            adequate.append(prior)
    if not adequate:
        return TrendCall(
            "first_seen",
            None,
            None,
            "no earlier draw could have seen it (" + "; ".join(why_not) + ")",
        )
    reference = next((d for d in reversed(adequate) if _has_counts(d)), None)
    absent_at = ", ".join(f"{d.sample} ({_absence_basis(d)})" for d in adequate)
    reason = f"detected at VAF {_fmt(vaf_now)}; not detected at {absent_at}"
    since = adequate[-1].sample
    if reference is None or not _has_counts(draw):
        return TrendCall("new", None, None, reason, since)
    p_value = fisher_exact_two_sided(
        reference.alt_reads, reference.depth, draw.alt_reads, draw.depth
    )
    reason = f"{reason}; vs {reference.sample} p={p_value:.3g}"
    return TrendCall("new", p_value, TEST_NAME, reason, since)


def _absence_basis(draw: Draw) -> str:
    return "the call would have fired" if draw.absence_by_rule else f"LoD95 {_fmt(draw.lod95)}"


def inadequate_absence(prior, vaf_now: float | None, lod_now: float | None) -> str:
    """Why an earlier draw's absence says nothing about the alteration ('' when it is adequate).

    ``prior``: anything with ``status``, ``lod95`` and ``absence_by_rule`` (a Draw, or
    tracking's Observation).
    """
    if prior.status != "not_detected":
        return prior.status.replace("_", " ")
    if prior.absence_by_rule:
        return ""  # the call's rule would have fired at the least extreme level seen
    if prior.lod95 is None:
        # not_detected is only assigned where the depth is known; without an LoD or a VAF to
        # compare, the upstream status is the only evidence and is taken at its word.
        return "" if vaf_now is None else "LoD95 unknown"
    if vaf_now is None:
        return ""
    threshold = max(vaf_now, lod_now) if lod_now is not None else vaf_now
    if prior.lod95 <= threshold:
        return ""
    return (
        f"too shallow: LoD95 {_fmt(prior.lod95)} above the VAF now ({_fmt(vaf_now)}) and this "
        f"draw's LoD95 ({_fmt(lod_now)})"
    )


def clearance_is_adequate(lod_now: float | None, vaf_then: float | None) -> bool:
    """A draw's absence clears an alteration: its LoD95 at or below the VAF last seen."""
    return lod_now is not None and vaf_then is not None and lod_now <= vaf_then


def absence_clears(draw, vaf_then: float | None) -> bool:
    """A not_detected draw clears an alteration last seen at ``vaf_then``: its LoD95 at or below
    that VAF, or (copy number, fusions) the call's rule would have fired there."""
    if draw.status != "not_detected":
        return False
    return draw.absence_by_rule or clearance_is_adequate(draw.lod95, vaf_then)


def _cleared(draw: Draw, last_detected: Draw) -> TrendCall:
    last_vaf = count_vaf(last_detected)
    p_value = None
    test = None
    if _has_counts(draw) and _has_counts(last_detected):
        p_value = fisher_exact_two_sided(
            last_detected.alt_reads, last_detected.depth, draw.alt_reads, draw.depth
        )
        test = TEST_NAME
    versus = f"last detected at {last_detected.sample} (VAF {_fmt(last_vaf)})"
    since = last_detected.sample
    if draw.absence_by_rule:
        return TrendCall("cleared", p_value, test, f"{draw.reason}; {versus}", since)
    if clearance_is_adequate(draw.lod95, last_vaf):
        return TrendCall("cleared", p_value, test, f"LoD95 {_fmt(draw.lod95)}; {versus}", since)
    if draw.lod95 is None:
        # copy number and fusions: the call did not fire, but no LoD95 says what it could see
        why = f"not detected, no LoD95 at this draw ({versus}): cannot call it cleared"
    else:
        why = (
            f"not detected but LoD95 {_fmt(draw.lod95)} is above the VAF when {versus}: "
            "cannot call it cleared"
        )
    return TrendCall("not_detected", p_value, test, why)
