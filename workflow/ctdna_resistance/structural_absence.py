"""Could a draw have called the copy-number change or fusion seen at another draw? (SPEC 5.5)

Small variants have an LoD95 at a depth (stats.lod95). Copy number and fusions have none, so an
absence is judged by asking whether the product's own rule would have fired at this draw for the
alteration as it was seen where it was called:

* Amplification: the tumour copy number C of the draws that called it, at this draw's tumour
  fraction p and with the thresholds this draw was called with (accounting
  ``copy_number.settings``).
  With p >= min_tumor_fraction the tumour-CN rule applies, on the purity-corrected scale where the
  expected tumour CN does not depend on p: it fires when C >= amp_copies. With 0 <= p <
  min_tumor_fraction the plasma rule applies to the expected plasma CN 2(1-p) + C p. With p unknown
  the plasma rule applies to a plasma CN that cannot be predicted without p: not evaluable.
  Segment noise (which grows as 1/p) is not modelled; min_tumor_fraction is where the rule itself
  stops trusting C.
* Deep deletion: only called with p >= min_tumor_fraction; it fires when C <= deletion_max_copies.
* Fusion: the supporting reads of the draws that called it, scaled by the tumour-fraction ratio
  (and by the depth ratio where this draw's caller wrote the fusion's record filtered, whose
  reference reads give the depth at the breakpoint; otherwise the calling draw's depth stands in).
  The absence is adequate when a Poisson count with that mean reaches the product's minimum
  supporting reads (detection.min_alt_reads) with probability >= 0.95, the LoD95 criterion.

Which level is looked for: the least extreme one called in the patient (the lowest tumour CN of
an amplification, the highest of a deep deletion, the fewest expected fusion reads). A draw has one
status, and every comparison made with it (new at each later call, cleared after the last one,
the reports' What-changed lists) reads that status: an absence adequate for the weakest call is
adequate for every call, while one judged against the strongest would be taken as adequate against
a weaker call it could not have seen. Only calls whose tumour fraction was known count: a
copy-number call made with the plasma rule has no tumour CN to carry to another draw, and fusion
reads cannot be scaled without both tumour fractions.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ctdna_resistance.calls import DEFAULT_DETECTION
from ctdna_resistance.copy_number import copy_number_settings

NOT_DETECTED = "not_detected"
NOT_EVALUABLE = "not_evaluable"
# Probability with which an adequate absence would have shown the fusion (as for LoD95).
ADEQUATE_PROBABILITY = 0.95


@dataclass(frozen=True)
class Detection:
    """One draw that called the alteration: its alterations.tsv row and its accounting."""

    sample: str
    row: dict
    accounting: dict


@dataclass(frozen=True)
class Absence:
    """The status of a draw where the call did not fire, and why."""

    status: str  # not_detected (the rule would have fired) or not_evaluable
    reason: str


def _num(value) -> float | None:
    return None if value in (None, "") else float(value)


def _pct(fraction: float) -> str:
    return f"{100 * fraction:.3g}%"


def _tumour_fraction(accounting: dict) -> tuple[float | None, str]:
    tf = accounting.get("tumor_fraction") or {}
    return _num(tf.get("value")), tf.get("method", "unavailable")


def _cn_settings(accounting: dict) -> dict:
    return copy_number_settings((accounting.get("copy_number") or {}).get("settings"))


def _called_tumour_cn(detections: list[Detection], deletion: bool) -> tuple[float, str] | None:
    """(tumour CN, sample) of the least extreme call made with a usable tumour fraction."""
    usable = []
    for found in detections:
        tf, cn = _num(found.row.get("tumor_fraction")), _num(found.row.get("tumor_cn"))
        settings = _cn_settings(found.accounting)
        if tf is not None and cn is not None and tf > 0 and tf >= settings["min_tumor_fraction"]:
            usable.append((cn, found.sample))
    if not usable:
        return None
    return max(usable) if deletion else min(usable)


def copy_number_absence(
    gene: dict, accounting: dict, detections: list[Detection], *, deletion: bool
) -> Absence:
    """Whether this draw's copy-number rule would have called the change seen elsewhere.

    ``gene`` is this draw's entry in accounting ``copy_number.genes`` (the call did not fire);
    ``detections`` are the patient's draws that called it.
    """
    settings = _cn_settings(accounting)
    here = f"here: {gene['rule']}"
    bins = gene.get("n_bins")
    if bins is not None and bins < settings["min_bins"]:
        return Absence(NOT_EVALUABLE, f"no call is possible with {here}")
    called = _called_tumour_cn(detections, deletion)
    if called is None:
        return Absence(
            NOT_EVALUABLE,
            "no draw that called it had a tumour fraction >= min_tumor_fraction, so the tumour "
            f"copy number to look for is unknown; {here}",
        )
    tumour_cn, where = called
    level = (
        f"the {'highest' if deletion else 'lowest'} tumour CN called in this patient "
        f"({tumour_cn:.2f} at {where})"
    )
    tf, method = _tumour_fraction(accounting)
    if tf is None:
        why = (accounting.get("tumor_fraction") or {}).get("reason")
        unknown = f"tumour fraction unknown at this draw{f' ({why})' if why else ''}"
        if deletion:
            return Absence(NOT_EVALUABLE, f"{unknown}: a deep deletion needs it; {here}")
        return Absence(
            NOT_EVALUABLE,
            f"{unknown}: the plasma rule (plasma CN >= plasma_amp_copies "
            f"{settings['plasma_amp_copies']:g}) applies, and the plasma CN that {level} gives "
            f"cannot be predicted without it; {here}",
        )
    at = f"at tumour fraction {_pct(tf)} ({method})"
    usable = tf > 0 and tf >= settings["min_tumor_fraction"]
    if deletion:
        if not usable:
            return Absence(
                NOT_EVALUABLE,
                f"{at}, below min_tumor_fraction {settings['min_tumor_fraction']:g}, a deep "
                f"deletion cannot be called; {here}",
            )
        fires = round(tumour_cn, 2) <= settings["deletion_max_copies"]
        sign = "<=" if fires else ">"
        judgement = f"{level} {sign} deletion_max_copies {settings['deletion_max_copies']:g}"
    elif usable:
        fires = round(tumour_cn, 2) >= settings["amp_copies"]
        sign = ">=" if fires else "<"
        judgement = (
            f"the tumour-CN rule applies: {level} {sign} amp_copies {settings['amp_copies']:g}"
        )
    else:
        plasma = 2.0 * (1.0 - tf) + tumour_cn * tf
        fires = round(plasma, 2) >= settings["plasma_amp_copies"]
        judgement = (
            f"(below min_tumor_fraction {settings['min_tumor_fraction']:g}: the plasma rule "
            f"applies) {level} gives plasma CN {plasma:.2f}, "
            f"{'at or above' if fires else 'below'} plasma_amp_copies "
            f"{settings['plasma_amp_copies']:g}"
        )
    verdict = "the call would have fired" if fires else "the call could not have fired"
    return Absence(NOT_DETECTED if fires else NOT_EVALUABLE, f"{at} {judgement}: {verdict}; {here}")


def poisson_at_least(count: int, mean: float) -> float:
    """P(X >= count) for X ~ Poisson(mean)."""
    if count <= 0:
        return 1.0
    if mean <= 0:
        return 0.0
    term = math.exp(-mean)
    below = term
    for k in range(1, count):
        term *= mean / k
        below += term
    return max(0.0, 1.0 - below)


def fusion_absence(accounting: dict, record: dict | None, detections: list[Detection]) -> Absence:
    """Whether this draw's SV calls could have shown the fusion seen elsewhere.

    ``record`` is this draw's accounting ``sv.filtered_fusions`` entry of the fusion (the caller
    wrote it but did not pass it), or None when the caller wrote nothing for it.
    """
    det = {**DEFAULT_DETECTION, **(accounting.get("detection") or {})}
    minimum = int(det["min_alt_reads"])
    written = ""
    depth_here = None
    if record is not None:
        alt, ref = record.get("alt_reads"), record.get("ref_reads")
        written = (
            f"; the caller wrote it filtered ({record.get('filters') or 'not PASS'}) with "
            f"{'unknown' if alt is None else alt} supporting reads"
        )
        if ref is not None:
            depth_here = ref + (alt or 0)
    tf, method = _tumour_fraction(accounting)
    if tf is None:
        why = (accounting.get("tumor_fraction") or {}).get("reason")
        return Absence(
            NOT_EVALUABLE,
            f"tumour fraction unknown at this draw{f' ({why})' if why else ''}: the supporting "
            f"reads seen elsewhere cannot be scaled to it{written}",
        )
    candidates = []
    for found in detections:
        tf_there, _ = _tumour_fraction(found.accounting)
        alt_there, depth_there = _num(found.row.get("alt_reads")), _num(found.row.get("depth"))
        if not tf_there or alt_there is None:
            continue
        if depth_here is not None and depth_there:
            expected = alt_there / depth_there * tf / tf_there * depth_here
            depth_text = f"depth {depth_here} at the breakpoint from the caller's filtered record"
        elif depth_there:
            expected = alt_there * tf / tf_there
            depth_text = (
                f"depth unknown here: the depth at {found.sample} ({int(depth_there)}) taken as "
                "a proxy"
            )
        else:
            expected = alt_there * tf / tf_there
            depth_text = f"depth unknown here and at {found.sample}: taken as equal"
        candidates.append((expected, found.sample, int(alt_there), tf_there, depth_text))
    if not candidates:
        return Absence(
            NOT_EVALUABLE,
            "no draw that called it has both a tumour fraction and supporting reads to scale "
            f"from{written}",
        )
    expected, where, alt_there, tf_there, depth_text = min(candidates)
    probability = poisson_at_least(minimum, expected)
    adequate = probability >= ADEQUATE_PROBABILITY
    reason = (
        f"at tumour fraction {_pct(tf)} ({method}) the {alt_there} supporting reads at {where} "
        f"(tumour fraction {_pct(tf_there)}) scale to {expected:.1f} expected ({depth_text}); "
        f"P(>= {minimum} reads) = {probability:.2f} {'>=' if adequate else '<'} "
        f"{ADEQUATE_PROBABILITY:g}{written}"
    )
    return Absence(NOT_DETECTED if adequate else NOT_EVALUABLE, reason)
