"""Per-draw HTML report: one self-contained page per plasma sample, rendered from the report dict.

The dict is the per-timepoint JSON (workflow/schemas/report.schema.yaml). This module only turns it
into something people read: it formats numbers, groups evidence by mechanism and lays out the page.
It decides nothing about biology. Jinja2 autoescaping is on, so every string from the dict is
escaped; the only pre-built markup is the SVG plot, which escapes its own text (see `svg.py`).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable, Mapping
from importlib import resources

import jinja2

from ctdna_resistance.report.svg import format_percent, render_vaf_plot

TEMPLATE_PACKAGE = "ctdna_resistance.report"
TEMPLATE_FOLDER = "templates"
DRAW_TEMPLATE = "draw_report.html.j2"

MECHANISM_LABELS = {
    "ras_mapk": "RAS/MAPK reactivation",
    "egfr_target": "EGFR target alteration",
    "bypass_rtk": "Bypass receptor tyrosine kinase",
    "pi3k": "PI3K pathway",
    "other": "Other",
}
TYPE_LABELS = {
    "snv": "SNV",
    "mnv": "MNV",
    "insertion": "insertion",
    "deletion": "deletion",
    "indel": "indel",
    "amplification": "amplification",
    "deletion_cn": "copy-number loss",
    "fusion": "fusion",
}
STATUS_LABELS = {
    "detected": "detected",
    "not_detected": "not detected",
    "not_evaluable": "not evaluable",
    "not_assessed": "not assessed",
}
TREND_LABELS = {
    "new": "new",
    "persistent": "persistent",
    "pre_existing": "pre-existing",
    "cleared": "cleared",
    "first_seen": "first seen",
    "not_detected": "not detected",
    "not_assessed": "not assessed",
}
# The change lists of a report, as the "What changed" section names them (report/build.py).
CHANGE_KINDS = {
    "new": "New",
    "first_seen": "Seen; no draw before its first detection could have seen it",
    "returned": "Detected again; not called at that draw, which could have seen it",
    "cleared": "Cleared",
    "unconfirmed_absence": "Not called now; this draw could not have seen it",
}
RESISTANCE_STATUS_LABELS = {
    "emerging": "Emerging resistance",
    "detected": "Resistance alterations detected",
    "none_detected": "No resistance alteration detected",
}
# Outcome keys as the panel writes them (review Table 1) -> the abbreviation people read.
OUTCOME_LABELS = {
    "ORR": "ORR",
    "DCR": "DCR",
    "median_PFS": "Median PFS",
    "median_OS": "Median OS",
    "PFS": "PFS",
    "OS": "OS",
}
_QC_KNOWN_KEYS = ("records_read", "reported", "filtered", "filter_reasons", "median_panel_depth")


def render_draw_report(report: Mapping) -> str:
    """Render one per-timepoint report dict as a complete, self-contained HTML5 document."""
    return _environment().get_template(DRAW_TEMPLATE).render(view=_draw_view(report))


@functools.cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FunctionLoader(_template_source),
        bytecode_cache=_bytecode_cache(),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def _bytecode_cache() -> jinja2.BytecodeCache | None:
    """Jinja's per-user bytecode cache in the temp folder, or none where it cannot be made safely.

    Compiling the templates costs ~0.1 s in every patient job; the cache is keyed by the template
    source's checksum (a changed template is recompiled) and written atomically (jobs share it).
    """
    try:
        return jinja2.FileSystemBytecodeCache()
    except (OSError, RuntimeError):  # e.g. a temp folder owned by someone else
        return None


def _template_source(name: str) -> str | None:
    """Template text from the installed package data (works from a wheel or an editable install)."""
    resource = resources.files(TEMPLATE_PACKAGE).joinpath(TEMPLATE_FOLDER).joinpath(name)
    if not resource.is_file():
        return None
    return resource.read_text(encoding="utf-8")


# ----------------------------------------------------------------------------- formatting


def format_count(value: int | None) -> str:
    """Integer with thousands separators ("15,234"); "—" for None."""
    return "—" if value is None else f"{int(value):,}"


def format_p_value(value: float | None) -> str:
    """Two significant digits without exponent notation down to 0.0001, then "< 0.0001"."""
    if value is None:
        return ""
    if value < 0.0001:
        return "p < 0.0001"
    if value >= 0.01:
        return f"p = {value:.2f}"
    decimals = 1 - math.floor(math.log10(value))
    return f"p = {value:.{decimals}f}"


def format_number(value: float | None, decimals: int = 1) -> str:
    """Fixed-decimal number; "—" for None."""
    return "—" if value is None else f"{float(value):.{decimals}f}"


def _label(mapping: Mapping[str, str], value: object) -> str:
    """Human label of an enumerated value; an unknown value is shown as it is."""
    text = "" if value is None else str(value)
    return mapping.get(text, text.replace("_", " "))


def _outcome_label(key: str) -> str:
    if key in OUTCOME_LABELS:
        return OUTCOME_LABELS[key]
    words = key.replace("_", " ")
    return words[:1].upper() + words[1:]


# ----------------------------------------------------------------------------- view model


def _alteration_name(alteration: Mapping) -> str:
    return f"{alteration.get('gene', '')} {alteration.get('alteration', '')}".strip()


def _detected_row(alteration: Mapping) -> dict:
    depth = alteration.get("depth")
    alt_reads = alteration.get("alt_reads")
    reads = (
        "—"
        if alt_reads is None and depth is None
        else (f"{format_count(alt_reads)} / {format_count(depth)}")
    )
    copy_number = alteration.get("copy_number")
    return {
        "gene": alteration.get("gene", ""),
        "alteration": alteration.get("alteration", ""),
        "hgvsc": alteration.get("hgvsc") or "",
        "transcript": alteration.get("transcript") or "",
        "key": alteration.get("key", ""),
        "type": _label(TYPE_LABELS, alteration.get("type")),
        "vaf": format_percent(alteration.get("vaf")),
        "copy_number": "" if copy_number is None else f"CN {format_number(copy_number)}",
        "reads": reads,
        # a targeted assay's counts are copies, not reads: the platform says so
        "platform": PLATFORM_LABELS.get(alteration.get("platform"), ""),
        "lod95": format_percent(alteration.get("lod95")),
        "background_model": BACKGROUND_MODEL_LABELS.get(alteration.get("background_model"), ""),
        "trend": _label(TREND_LABELS, alteration.get("trend")),
        "trend_class": "trend-" + str(alteration.get("trend", "")),
        "p_value": format_p_value(alteration.get("p_value")),
        "test": alteration.get("test") or "",
        "clone": alteration.get("clone") or "—",
        "first_seen": alteration.get("first_seen") or "—",
        "mechanism": _label(MECHANISM_LABELS, alteration.get("mechanism")),
        "status": _label(STATUS_LABELS, alteration.get("status")),
        "status_class": "status-" + str(alteration.get("status", "")),
        "basis": _call_basis(alteration),
        "trend_reason": alteration.get("trend_reason") or "",
    }


PLATFORM_LABELS = {"ddpcr": "ddPCR copies", "beaming": "BEAMing copies"}
BACKGROUND_MODEL_LABELS = {
    "site": "site background",
    "context": "context background",
    "scalar": "scalar background",
    # targeted assays (assay_calls): the blank of the plate's controls, else the configured rate
    "plate_controls": "blank from plate controls",
    "configured": "configured assay blank",
}
RESPONSE_LABELS = {
    "baseline": "baseline",
    "molecular_response": "molecular response",
    "stable": "stable",
    "rise": "rise",
}


def _level_view(level: Mapping | None) -> dict:
    """The draw's pooled ctDNA level (report['ctdna_level']) as the headline shows it."""
    level = level or {}
    status = level.get("status", "not_assessed")
    if status == "not_assessed":
        label = "ctDNA level not assessed (no marker of the patient was read in this draw)"
    elif status == "detected":
        label = (
            f"ctDNA detected: {format_percent(level.get('estimate'))} mutant allele fraction "
            f"(95% CI {format_percent(level.get('low'))}-{format_percent(level.get('high'))}, "
            f"{format_p_value(level.get('p_value'))})"
        )
    else:
        label = f"ctDNA not detected (LoD95 {format_percent(level.get('lod95'))})"
    markers = level.get("markers", 0)
    basis = (
        f"{markers} marker{'s' if markers != 1 else ''} pooled, "
        f"{format_count(level.get('alt_reads'))} alt reads of {format_count(level.get('depth'))}; "
        f"background: {', '.join(level.get('background_models') or []) or 'none'}"
        if markers
        else ""
    )
    if level.get("markers_left_out"):
        basis += f"; {level['markers_left_out']} at artefact/CHIP-like sites left out"
    response = level.get("response")
    return {
        "status": status,
        "label": label,
        "basis": basis,
        "response": RESPONSE_LABELS.get(response, "") if response else "",
        "response_reason": level.get("response_reason", ""),
    }


def _call_basis(alteration: Mapping) -> str:
    """The numbers behind a copy-number or fusion call, in one line (empty for small variants)."""
    parts = []
    if alteration.get("log2") is not None:
        parts.append(f"log2 {alteration['log2']:.2f}")
    if alteration.get("plasma_cn") is not None:
        parts.append(f"plasma CN {alteration['plasma_cn']:.1f}")
    if alteration.get("tumor_cn") is not None:
        parts.append(f"tumour CN {alteration['tumor_cn']:.1f}")
    if alteration.get("partner"):
        parts.append(f"partner {alteration['partner']}")
    if alteration.get("breakpoints"):
        parts.append(f"breakpoints {alteration['breakpoints']}")
    if alteration.get("split_reads") is not None or alteration.get("spanning_reads") is not None:
        parts.append(
            f"split {format_count(alteration.get('split_reads'))}, "
            f"spanning {format_count(alteration.get('spanning_reads'))} reads"
        )
    if alteration.get("cn_rule"):
        parts.append(f"rule: {alteration['cn_rule']}")
    return " · ".join(parts)


def _therapy_text(anti_egfr: Mapping) -> str:
    agents = ", ".join(anti_egfr.get("agents") or [])
    on_therapy = anti_egfr.get("on_therapy")
    if on_therapy is None:
        return "anti-EGFR status unknown (no treatment timeline given)"
    if on_therapy:
        text = "on anti-EGFR"
        details = [agents] if agents else []
        if anti_egfr.get("days_since_start") is not None:
            details.append(f"day {anti_egfr['days_since_start']} of treatment")
    else:
        text = "off anti-EGFR"
        details = [agents] if agents else []
        if anti_egfr.get("days_since_end") is not None:
            details.append(f"{anti_egfr['days_since_end']} days since it stopped")
    return f"{text} ({'; '.join(details)})" if details else text


def _change_list(keys: Iterable[str], names_by_key: Mapping[str, str]) -> list[dict]:
    """Change entries are alteration keys; show the gene and change next to each when known."""
    return [{"name": names_by_key.get(key, ""), "key": key} for key in keys]


def _strategy_view(strategy: Mapping) -> dict:
    outcomes = strategy.get("outcomes")
    if isinstance(outcomes, Mapping):
        outcome_rows = [(_outcome_label(str(key)), str(value)) for key, value in outcomes.items()]
    elif isinstance(outcomes, list | tuple):
        outcome_rows = [("", str(value)) for value in outcomes]
    elif outcomes is None:
        outcome_rows = []
    else:
        outcome_rows = [("", str(outcomes))]
    return {
        "id": strategy.get("id", ""),
        "study": strategy.get("study", ""),
        "mechanism": strategy.get("mechanism") or "",
        "regimen": strategy.get("regimen", ""),
        "note": strategy.get("note") or "",
        "outcomes": outcome_rows,
        "source": _source_text(strategy),
    }


def _evidence_view(evidence: Mapping) -> dict:
    return {
        "id": evidence.get("id", ""),
        "study": evidence.get("study", ""),
        "setting": evidence.get("setting") or "",
        "finding": evidence.get("finding", ""),
        "source": _source_text(evidence),
    }


def _source_text(entry: Mapping) -> str:
    parts = [str(entry[name]) for name in ("source", "section") if entry.get(name)]
    return ", ".join(parts)


def _mechanism_sections(report: Mapping) -> list[dict]:
    """Evidence and strategies grouped by the mechanism of each detected alteration.

    Mechanisms come in the order of resistance.mechanisms, then any other mechanism of a detected
    alteration; entries keep the order in which the alterations cite them.
    """
    detected = list(report.get("alterations", []))
    order = list(report.get("resistance", {}).get("mechanisms", []))
    for alteration in detected:
        if alteration.get("mechanism") not in order:
            order.append(alteration.get("mechanism"))
    evidence_by_id = {entry.get("id"): entry for entry in report.get("evidence", [])}
    strategies_by_id = {entry.get("id"): entry for entry in report.get("strategies", [])}

    sections = []
    for mechanism in order:
        members = [a for a in detected if a.get("mechanism") == mechanism]
        if not members:
            continue
        evidence_ids = _unique(i for a in members for i in a.get("evidence", []))
        strategy_ids = _unique(i for a in members for i in a.get("strategies", []))
        sections.append(
            {
                "label": _label(MECHANISM_LABELS, mechanism),
                "alterations": [_alteration_name(a) for a in members],
                "evidence": [
                    _evidence_view(evidence_by_id[i]) for i in evidence_ids if i in evidence_by_id
                ],
                "strategies": [
                    _strategy_view(strategies_by_id[i])
                    for i in strategy_ids
                    if i in strategies_by_id
                ],
                # An id the alteration cites but the report does not carry is shown, not dropped.
                "missing": [i for i in evidence_ids if i not in evidence_by_id]
                + [i for i in strategy_ids if i not in strategies_by_id],
            }
        )
    return sections


def _unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))


def _qc_view(qc: Mapping) -> dict:
    reasons = sorted(
        (qc.get("filter_reasons") or {}).items(), key=lambda item: (-int(item[1]), str(item[0]))
    )
    extras = [
        (str(key).replace("_", " "), _scalar_text(value))
        for key, value in sorted(qc.items())
        if key not in _QC_KNOWN_KEYS and not isinstance(value, Mapping | list)
    ]
    depth = qc.get("median_panel_depth")
    return {
        "records_read": format_count(qc.get("records_read")),
        "reported": format_count(qc.get("reported")),
        "filtered": format_count(qc.get("filtered")),
        "reasons": [(str(reason), format_count(count)) for reason, count in reasons],
        "median_panel_depth": None if depth is None else f"{format_number(depth, 0)}x",
        "extras": extras,
    }


def _scalar_text(value: object) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return format_count(value)
    if isinstance(value, float):
        return f"{value:.4g}"
    return "—" if value is None else str(value)


def _draw_view(report: Mapping) -> dict:
    """Everything the template shows, already formatted as strings."""
    detected = list(report.get("alterations", []))
    not_found = list(report.get("not_detected", []))
    names_by_key = {
        entry.get("key"): _alteration_name(entry)
        for entry in [*report.get("history", []), *not_found, *detected]
    }
    changes = report.get("changes", {})
    resistance = report.get("resistance", {})
    tumor_fraction = report.get("tumor_fraction", {})
    searched = report.get("searched")
    panel = report.get("panel", {})
    provenance = report.get("provenance", {})
    polyclonal = resistance.get("polyclonal")
    return {
        "patient": report.get("patient", ""),
        "sample": report.get("sample", ""),
        "timepoint": report.get("timepoint", ""),
        "collection_date": report.get("collection_date", ""),
        "days_since_baseline": report.get("days_since_baseline"),
        "therapy": _therapy_text(report.get("anti_egfr", {})),
        "genome_build": report.get("genome_build", ""),
        "headline": resistance.get("headline", ""),
        "ctdna_level": _level_view(report.get("ctdna_level")),
        "status": resistance.get("status", ""),
        "status_label": _label(RESISTANCE_STATUS_LABELS, resistance.get("status")),
        "mechanisms": [_label(MECHANISM_LABELS, m) for m in resistance.get("mechanisms", [])],
        "polyclonal": {True: "yes", False: "no", None: "not assessed"}[polyclonal],
        "ras_braf_egfr_ecd": {
            True: "none detectable in this draw",
            False: "detectable in this draw",
            None: "cannot tell from this draw",
        }[resistance.get("ras_braf_egfr_ecd_undetectable")],
        "ras_braf_egfr_ecd_basis": resistance.get("ras_braf_egfr_ecd_basis", ""),
        "tumor_fraction": (
            "not estimated"
            if tumor_fraction.get("value") is None
            else format_percent(tumor_fraction["value"])
        ),
        "tumor_fraction_method": tumor_fraction.get("method", ""),
        "tumor_fraction_others": ", ".join(
            f"{e['method']} {format_percent(e['value'])}"
            for e in tumor_fraction.get("estimates", [])[1:]
        ),
        "tumor_fraction_note": tumor_fraction.get("note", ""),
        "tumor_fraction_reason": tumor_fraction.get("reason", ""),
        "detected": [_detected_row(a) for a in detected],
        "previous_sample": report.get("previous_sample"),
        "first_draw": report.get("timepoint_index") == 0
        or ("previous_sample" in report and report["previous_sample"] is None),
        "baseline_sample": report.get("baseline_sample"),
        "change_kinds": CHANGE_KINDS,
        "since_previous": {
            kind: _change_list(changes.get("since_previous", {}).get(kind, []), names_by_key)
            for kind in CHANGE_KINDS
        },
        "since_baseline": {
            kind: _change_list(changes.get("since_baseline", {}).get(kind, []), names_by_key)
            for kind in CHANGE_KINDS
        },
        "not_found": [_detected_row(a) for a in not_found],
        "searched_genes": None if searched is None else ", ".join(searched.get("genes", [])),
        "searched_hotspots": None if searched is None else format_count(searched.get("hotspots")),
        "searched_amplification": ", ".join((searched or {}).get("amplification_genes", [])),
        "searched_fusions": ", ".join((searched or {}).get("fusion_genes", [])),
        "inputs_missing": ", ".join((searched or {}).get("inputs_missing", [])),
        "plot": render_vaf_plot(
            report.get("history", []), current_date=report.get("collection_date")
        )
        if report.get("history")
        else None,
        "mechanism_sections": _mechanism_sections(report),
        "qc": _qc_view(report.get("qc", {})),
        "software": provenance.get("software", ""),
        "version": provenance.get("version", ""),
        "schema_version": report.get("schema_version", ""),
        "panel_name": panel.get("name", ""),
        "panel_version": panel.get("version", ""),
        "panel_sha256": panel.get("sha256", ""),
        "inputs": [
            {"role": i.get("role", ""), "path": i.get("path", ""), "sha256": i.get("sha256", "")}
            for i in provenance.get("inputs", [])
        ],
    }
