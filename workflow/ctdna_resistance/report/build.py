"""Assemble the per-timepoint report (SPEC 6) from a patient's tracked observations."""

from __future__ import annotations

import datetime as dt

from ctdna_resistance import __version__
from ctdna_resistance.clone_tracking import PatientClones
from ctdna_resistance.panel import Panel
from ctdna_resistance.samplesheet import DEFAULT_ANTI_EGFR, Treatment
from ctdna_resistance.tracking import DrawData, Observation, first_alteration_rows, first_seen
from ctdna_resistance.trends import count_vaf, inadequate_absence

SCHEMA_VERSION = "1.3"
# SPEC 5.5: "emerging" = new or rising after baseline (trends.is_emerging).
EMERGING = ("new", "rising")
# Genes whose undetectability is the ctDNA criterion for anti-EGFR rechallenge (SPEC 5.7).
RECHALLENGE_GENES = ("KRAS", "NRAS", "BRAF", "EGFR")


# Numbers behind a copy-number or fusion call, copied from the draw's own row when detected, and
# for a copy-number call that did not fire from the draw's gene-level copy number (tracking).
CALL_DETAIL_FIELDS = {
    "log2": float,
    "plasma_cn": float,
    "tumor_cn": float,
    "cn_rule": str,
    "partner": str,
    "breakpoints": str,
    "split_reads": int,
    "spanning_reads": int,
}


def _value(label_row: dict, field: str, obs: Observation):
    """The field from this draw's row: the call's, or the copy number where no call fired."""
    copy_number = obs.key.endswith((":amplification", ":deep_deletion"))
    row = obs.row if obs.status == "detected" or copy_number else {}
    text = row.get(field, "")
    if text in ("", None):
        return None
    cast = CALL_DETAIL_FIELDS[field]
    return int(float(text)) if cast is int else cast(text)


def anti_egfr_exposure(date: dt.date, treatments: list[Treatment], agents=DEFAULT_ANTI_EGFR):
    """Whether the draw was on anti-EGFR therapy, and days since its start and end."""
    anti = [t for t in treatments if t.is_anti_egfr(agents) and t.start_date <= date]
    if not treatments:
        return {"on_therapy": None, "agents": [], "days_since_start": None, "days_since_end": None}
    on = [t for t in anti if t.end_date is None or date <= t.end_date]
    ended = [t.end_date for t in anti if t.end_date is not None and t.end_date < date]
    return {
        "on_therapy": bool(on),
        "agents": sorted({t.agent for t in on}),
        "days_since_start": (date - min(t.start_date for t in anti)).days if anti else None,
        "days_since_end": (date - max(ended)).days if ended and not on else None,
    }


def draw_platforms(draw: DrawData) -> list[str]:
    """What measured this draw: ngs (any sequencing input) and/or its targeted assay's platform."""
    found = set()
    if any(getattr(draw.sample, role, None) for role in ("vcf", "cnv", "sv", "bam", "coverage")):
        found.add("ngs")
    assay = draw.accounting.get("assay")
    if assay:
        found.update(assay["platform"].split("+"))
    return sorted(found)


def _alteration_entry(obs: Observation, label_row: dict, series, panel: Panel) -> dict:
    gene = panel.genes.get(label_row["gene"])
    return {
        "key": obs.key,
        "gene": label_row["gene"],
        "alteration": label_row["alteration"],
        "hgvsc": label_row.get("hgvsc") or None,
        "transcript": label_row.get("transcript") or None,
        "type": label_row["type"],
        "panel_class": label_row["panel_class"],
        "chrom": label_row["chrom"],
        "pos": int(label_row["pos"]),
        "ref": label_row["ref"],
        "alt": label_row["alt"],
        "vaf": obs.vaf if obs.status == "detected" else None,
        "alt_reads": obs.alt_reads,
        "depth": obs.depth,
        "copy_number": obs.copy_number,
        **{field: _value(label_row, field, obs) for field in CALL_DETAIL_FIELDS},
        "status": obs.status,
        "lod95": obs.lod95,
        "background_model": obs.background_model or None,
        "platform": obs.platform,
        "trend": obs.trend,
        "p_value": obs.trend_p_value,
        "test": obs.trend_test,
        "trend_reason": obs.trend_reason,
        "trend_since": obs.trend_since or None,
        "detection_p_value": obs.p_value,
        "clone": obs.clone,
        "mechanism": label_row["mechanism"],
        "first_seen": first_seen(series),
        "evidence": sorted(gene.evidence) if gene else [],
        "strategies": (
            sorted(s["id"] for s in panel.strategies_for(gene.symbol, label_row["alteration"]))
            if gene
            else []
        ),
    }


def _changes(series: dict[str, list[Observation]], reference: int, now: int) -> dict:
    """Alteration keys that changed between a reference draw and this one, told as each allele's
    own trend labels tell it (one story per allele, issue 18).

    Detected now, not at the reference draw, and first detected after it: the label of its first
    detection (new, or first_seen when no earlier draw could have seen it), so that "What
    changed" never calls first_seen what the trend calls new. Detected before the reference draw
    and missed there: returned when that draw could have seen it (trends.inadequate_absence),
    else nothing changed. Detected at the reference draw and not now: cleared when this draw's
    trend says so (trends.absence_clears), else unconfirmed_absence.
    """
    found: dict[str, list[str]] = {
        "new": [],
        "first_seen": [],
        "returned": [],
        "cleared": [],
        "unconfirmed_absence": [],
    }
    for key, observations in series.items():
        then, here = observations[reference], observations[now]
        if here.status == "detected" and then.status != "detected":
            first = next(i for i, o in enumerate(observations) if o.status == "detected")
            if first > reference:
                emerged = observations[first].trend
                if emerged not in ("new", "first_seen"):  # e.g. baseline of a one-draw series
                    emerged = "first_seen"
                found[emerged].append(key)
            elif not inadequate_absence(then, count_vaf(here), here.lod95):
                found["returned"].append(key)
        elif then.status == "detected" and here.status != "detected":
            found["cleared" if here.trend == "cleared" else "unconfirmed_absence"].append(key)
    return found


def _ras_braf_egfr_ecd(alterations: list[dict], missing: list[dict], sample) -> dict:
    """The rechallenge criterion (SPEC 5.7) of one draw, and what it rests on.

    True only when the draw was searched for small variants and every RAS/BRAF/EGFR alteration
    seen in the patient is absent with an adequate LoD95 (not_detected); None ("cannot tell")
    when one of them is not_evaluable or not_assessed here, or the draw has no small-variant
    input; False when one is detected.
    """
    found = [a for a in alterations if a["gene"] in RECHALLENGE_GENES]
    if found:
        value, basis = False, "detected: " + ", ".join(_named(a) for a in found)
    elif sample.vcf is None and sample.bam is None:
        value, basis = None, "cannot tell: no small-variant calls or BAM for this draw"
    else:
        unclear = [
            a
            for a in missing
            if a["gene"] in RECHALLENGE_GENES and a["status"] in ("not_evaluable", "not_assessed")
        ]
        if unclear:
            value = None
            basis = "cannot tell: " + ", ".join(
                f"{_named(a)} {a['status'].replace('_', ' ')}" for a in unclear
            )
        else:
            value, basis = True, "none detected in the panel's RAS/BRAF/EGFR hotspots"
    return {"ras_braf_egfr_ecd_undetectable": value, "ras_braf_egfr_ecd_basis": basis}


def _level_entry(level) -> dict:
    """The draw's pooled ctDNA level as the report holds it (not assessed without one)."""
    if level is None:
        return {"status": "not_assessed", "markers": 0, "response": None}
    return level.as_dict()


def _named(alteration: dict) -> str:
    return f"{alteration['gene']} {alteration['alteration']}"


def build_draw_reports(
    patient: str,
    draws: list[DrawData],
    series: dict[str, list[Observation]],
    panel: Panel,
    treatments: list[Treatment],
    agents=DEFAULT_ANTI_EGFR,
    clones: PatientClones | None = None,
    levels: dict | None = None,
) -> list[dict]:
    """One report dict per draw, in date order; each validates against report.schema.yaml.

    ``levels``: each draw's pooled ctDNA level (ctdna_level.draw_levels), by sample."""
    draws = sorted(draws, key=lambda d: d.sample.collection_date)
    baseline = draws[0].sample
    labels = first_alteration_rows(draws)
    reports = []
    for index, draw in enumerate(draws):
        sample = draw.sample
        here = {key: obs[index] for key, obs in series.items()}
        detected = [k for k, o in here.items() if o.status == "detected"]
        absent = [k for k, o in here.items() if o.status != "detected"]
        alterations = [_alteration_entry(here[k], labels[k], series[k], panel) for k in detected]
        missing = [_alteration_entry(here[k], labels[k], series[k], panel) for k in absent]
        emerging = [a for a in alterations if a["trend"] in EMERGING and index > 0]
        previous = draws[index - 1].sample if index else None

        genes = sorted({a["gene"] for a in alterations})
        evidence = _dedupe(e for g in genes for e in panel.evidence_for(g))
        # the ids each alteration entry already holds (strategies_for with its alteration)
        strategies = _dedupe(panel.strategies[i] for a in alterations for i in a["strategies"])
        mechanisms = sorted({a["mechanism"] for a in alterations})
        acct = draw.accounting
        searched = _searched(panel, sample, acct)
        reports.append(
            {
                "schema_version": SCHEMA_VERSION,
                "research_use_only": True,
                "patient": patient,
                "sample": sample.sample,
                "collection_date": sample.collection_date.isoformat(),
                "timepoint": sample.timepoint,
                "timepoint_index": index,
                "platforms": draw_platforms(draw),
                "days_since_baseline": (sample.collection_date - baseline.collection_date).days,
                "previous_sample": previous.sample if previous else None,
                "baseline_sample": baseline.sample,
                "genome_build": panel.build,
                "panel": {"name": panel.name, "version": panel.version, "sha256": panel.sha256},
                "anti_egfr": anti_egfr_exposure(sample.collection_date, treatments, agents),
                "tumor_fraction": {
                    key: acct["tumor_fraction"][key]
                    for key in ("value", "method", "estimates", "note", "reason")
                    if key in acct["tumor_fraction"]
                },
                "ctdna_level": _level_entry((levels or {}).get(sample.sample)),
                "alterations": alterations,
                "not_detected": missing,
                "changes": {
                    # at the baseline draw both compare it with itself: nothing changed
                    "since_previous": _changes(series, max(index - 1, 0), index),
                    "since_baseline": _changes(series, 0, index),
                },
                "resistance": {
                    "status": "emerging"
                    if emerging
                    else "detected"
                    if alterations
                    else "none_detected",
                    "headline": _headline(alterations, emerging, previous, searched, clones, index),
                    "mechanisms": mechanisms,
                    "polyclonal": clones.polyclonal_at(index) if clones else None,
                    **_ras_braf_egfr_ecd(alterations, missing, sample),
                },
                "evidence": evidence,
                "strategies": strategies,
                "clones": _clone_entries(clones, index),
                "searched": searched,
                "history": [
                    {
                        "key": key,
                        "gene": labels[key]["gene"],
                        "alteration": labels[key]["alteration"],
                        "points": [
                            {
                                "sample": o.sample.sample,
                                "collection_date": o.sample.collection_date.isoformat(),
                                "vaf": o.vaf if o.status == "detected" else None,
                                "status": o.status,
                                "lod95": o.lod95,
                            }
                            for o in obs[: index + 1]
                        ],
                    }
                    for key, obs in series.items()
                ],
                "qc": {
                    # every input record of the draw, as the accounting reconciles them:
                    # records_read = reported + filtered (VCF alleles, segments, SV events)
                    "records_read": acct["records_read"],
                    "reported": acct["records_reported"],
                    "filtered": acct["records_filtered"],
                    "alleles_read": acct["alleles_read"],
                    **(
                        {"segments_read": acct["copy_number"]["segments_read"]}
                        if "copy_number" in acct
                        else {}
                    ),
                    **({"sv_events_read": acct["sv"]["events_read"]} if "sv" in acct else {}),
                    "alterations_reported": acct["reported"],
                    "filter_reasons": acct["filtered_by_reason"],
                    # reported alleles whose test extrapolated the normals' error (README)
                    **(
                        {"beyond_normals_depth": "; ".join(acct["beyond_normals_depth"])}
                        if acct.get("beyond_normals_depth")
                        else {}
                    ),
                    "vcf_dialect": acct.get("vcf", {}).get("dialect"),
                    "read_mode": acct.get("vcf", {}).get("read_mode"),
                },
                "provenance": {
                    "software": "ctdna-resistance",
                    "version": __version__,
                    "inputs": [
                        {"role": "panel", "path": panel.path, "sha256": panel.sha256},
                        *acct["inputs"],
                    ],
                },
            }
        )
    return reports


def _dedupe(entries) -> list[dict]:
    seen = {}
    for entry in entries:
        seen.setdefault(entry["id"], entry)
    return [seen[k] for k in sorted(seen)]


def _clone_entries(clones: PatientClones | None, index: int) -> list[dict]:
    """This draw's clones: prevalence with its interval, members, and decay after withdrawal."""
    if clones is None or clones.result is None:
        return []
    entries = []
    for clone in sorted(clones.members):
        estimate, low, high = clones.result.prevalence[clone][index]
        fit = clones.decay.get(clone)
        entries.append(
            {
                "clone": clone,
                "members": sorted(clones.members[clone]),
                "resistant": clone in clones.result.resistant_clones,
                # None: no member of the clone was measured at this draw (e.g. a ddPCR draw
                # whose assays target other alleles), so neither seen nor ruled out
                "detected": (
                    True
                    if clone in clones.present[index]
                    else (False if clone in clones.assessed[index] else None)
                ),
                "prevalence": _finite(estimate),
                "prevalence_low": _finite(low),
                "prevalence_high": _finite(high),
                "half_life_days": fit.half_life_days if fit else None,
                "half_life_low": fit.low if fit else None,
                "half_life_high": fit.high if fit else None,
                "projected_below_lod": (
                    fit.projected_below_lod.isoformat() if fit and fit.projected_below_lod else None
                ),
                "decay_note": (fit.reason or fit.method) if fit else None,
            }
        )
    return entries


def _finite(value: float) -> float | None:
    """JSON has no NaN: an unknown prevalence (tumour fraction unknown) is null."""
    return None if value != value else float(value)


def _searched(panel: Panel, sample, accounting: dict | None = None) -> dict:
    """What this draw's inputs let the panel search for, and which inputs it lacked (a targeted
    assay searched only its own targets: assay_targets)."""
    given = {
        "small-variant calls": sample.vcf is not None,
        "copy number": sample.cnv is not None,
        "structural variants": sample.sv is not None,
    }
    small = given["small-variant calls"]
    return {
        "genes": panel.small_variant_genes if small else [],
        "hotspots": len(panel.hotspots) if small else 0,
        "amplification_genes": (
            panel.genes_with_classes("amplification") if given["copy number"] else []
        ),
        "fusion_genes": panel.genes_with_classes("fusion") if given["structural variants"] else [],
        "inputs_missing": [kind for kind, present in given.items() if not present],
        **_assay_searched((accounting or {}).get("assay")),
    }


def _assay_searched(assay: dict | None) -> dict:
    if not assay:
        return {}
    return {
        "assay_platform": assay["platform"],
        "assay_targets": [target["alteration"] for target in assay["targets"]],
    }


def _searched_text(searched: dict) -> str:
    parts = []
    if searched["hotspots"]:
        parts.append(f"{searched['hotspots']} hotspots in {len(searched['genes'])} genes")
    if searched["amplification_genes"]:
        parts.append(f"amplification of {len(searched['amplification_genes'])} genes")
    if searched["fusion_genes"]:
        parts.append(f"fusions of {len(searched['fusion_genes'])} genes")
    if searched.get("assay_targets"):
        labels = {"ddpcr": "ddPCR", "beaming": "BEAMing"}
        platform = labels.get(searched["assay_platform"], searched["assay_platform"])
        parts.append(f"{', '.join(searched['assay_targets'])} by {platform}")
    text = (", ".join(parts) + " searched") if parts else "nothing searched"
    if searched["inputs_missing"]:
        text += "; no " + ", no ".join(searched["inputs_missing"]) + " for this draw"
    return text


def _headline(alterations, emerging, previous, searched: dict, clones=None, index=0) -> str:
    text = _headline_text(alterations, emerging, previous, searched)
    if clones is not None and clones.polyclonal_at(index):
        text += f"; polyclonal: {len(clones.resistance_present[index])} resistant clones"
    return text


def _headline_text(alterations, emerging, previous, searched: dict) -> str:
    def names(entries) -> str:
        return ", ".join(f"{a['gene']} {a['alteration']}" for a in entries)

    if emerging:
        # each alteration with its own trend and the draw that trend is relative to
        groups: dict[tuple[str, str], list[dict]] = {}
        for trend in EMERGING:
            for a in emerging:
                if a["trend"] == trend:
                    since = a.get("trend_since") or (previous.sample if previous else "")
                    groups.setdefault((trend, since), []).append(a)
        parts = [
            f"{names(group)} ({trend}{f' since {since}' if since else ''})"
            for (trend, since), group in groups.items()
        ]
        others = [a for a in alterations if a not in emerging]
        tail = f"; also detected: {names(others)}" if others else ""
        return f"Emerging resistance: {'; '.join(parts)}{tail}"
    if alterations:
        return f"Resistance alterations detected: {names(alterations)}"
    return f"No resistance alteration detected ({_searched_text(searched)})"
