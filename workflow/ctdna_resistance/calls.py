"""Per-sample calls (SPEC 5.1): every VCF allele ends up reported or filtered with its reason."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from ctdna_resistance.io.vcf import open_vcf
from ctdna_resistance.panel import Panel, file_sha256, minimal_allele
from ctdna_resistance.records import VariantRecord
from ctdna_resistance.samplesheet import Sample
from ctdna_resistance.stats import detection_p_value, lod95
from ctdna_resistance.tables import write_tsv

DEFAULT_DETECTION = {
    "min_depth": 100,
    "min_alt_reads": 3,
    "background_error": 0.0005,
    "alpha": 0.01,
    "germline_vaf_band": 0.1,
    "require_pass": True,
    "vcf_read": "panel_regions",
}

ALTERATION_COLUMNS = [
    "sample",
    "key",
    "gene",
    "alteration",
    "hgvsc",
    "transcript",
    "panel_class",
    "type",
    "mechanism",
    "chrom",
    "pos",
    "ref",
    "alt",
    "depth",
    "alt_reads",
    "vaf",
    "p_value",
    "lod95",
    "filters",
    "caller",
    "record_no",
    "alt_index",
]
FILTERED_COLUMNS = [
    "sample",
    "record_no",
    "alt_index",
    "chrom",
    "pos",
    "ref",
    "alt",
    "key",
    "filters",
    "depth",
    "alt_reads",
    "vaf",
    "gene",
    "alteration",
    "reason",
    "detail",
]

# Why a record was filtered, in the order the checks run; documented in docs of accounting.json.
REASONS = {
    "unreadable_record": "the reader could not take counts from this record (see detail)",
    "not_in_panel": "outside every panel gene",
    "panel_gene_not_resistance_allele": "in a panel gene but not a listed resistance allele",
    "synonymous_at_panel_codon": "at a panel codon but does not change the amino acid",
    "panel_gene_unannotated": "in a gene whose resistance class needs a consequence annotation",
    "not_pass": "the caller's FILTER is not PASS",
    "low_depth": "depth below detection.min_depth",
    "low_alt_reads": "alt reads below detection.min_alt_reads",
    "in_normal": "present in the matched normal (germline or clonal haematopoiesis)",
    "germline_like": "VAF near 0.5 or 1 (germline-like)",
    "not_significant": "not significant against the background error rate",
}


@dataclass
class SampleCalls:
    sample: Sample
    alterations: list[dict] = field(default_factory=list)
    filtered: list[dict] = field(default_factory=list)
    accounting: dict = field(default_factory=dict)


def detection_settings(config: dict | None) -> dict:
    settings = dict(DEFAULT_DETECTION)
    settings.update((config or {}).get("detection", {}) or {})
    return settings


def read_normal_alleles(path, build: str) -> set[tuple[str, int, str, str]]:
    """Alleles seen in the matched normal (any alt support), in minimal representation."""
    found = set()
    with open_vcf(path, expected_build=build) as reader:
        for rec in reader:
            if rec.problem or (rec.alt_reads is not None and rec.alt_reads <= 0):
                continue
            found.add((rec.chrom, *minimal_allele(rec.pos, rec.ref, rec.alt)))
    return found


def _germline_like(vaf: float | None, band: float) -> bool:
    return vaf is not None and (abs(vaf - 0.5) <= band or vaf >= 1 - band)


def estimate_tumor_fraction(vafs: list[float]) -> float | None:
    """SPEC 5.3: twice a robust high quantile (90th) of somatic VAFs, capped at 1."""
    if len(vafs) < 3:
        return None
    return float(min(1.0, 2 * np.quantile(np.asarray(sorted(vafs)), 0.9)))


def call_sample(sample: Sample, panel: Panel, config: dict | None = None) -> SampleCalls:
    """Read the sample's VCF through the panel: reported alterations, filtered records, counts."""
    det = detection_settings(config)
    calls = SampleCalls(sample)
    normal = read_normal_alleles(sample.normal_vcf, panel.build) if sample.normal_vcf else set()
    reasons: Counter = Counter()
    somatic_vafs: list[float] = []
    regions = panel.regions() if det["vcf_read"] == "panel_regions" else None
    inputs = []
    reader_info: dict = {}
    alleles = 0
    if sample.vcf is not None:
        with open_vcf(
            sample.vcf,
            sample=sample.vcf_sample,
            caller=sample.caller,
            expected_build=panel.build,
            regions=regions,
        ) as reader:
            for rec in reader:
                alleles += 1
                row, reason, detail = _classify(rec, panel, det, normal)
                if reason is None:
                    calls.alterations.append(row)
                else:
                    reasons[reason] += 1
                    calls.filtered.append(_filtered_row(sample, rec, row, reason, detail))
                if _is_somatic_candidate(rec, det, normal, reason):
                    somatic_vafs.append(rec.vaf)
            reader_info = {
                "path": str(sample.vcf),
                "dialect": reader.dialect,
                "sample_column": reader.sample,
                "build": reader.build,
                "contig_style": reader.contig_style,
                "used_index": reader.used_index,
                "read_mode": "panel_regions" if reader.used_index else "whole_file",
                "records_read": reader.records_read,
            }
        inputs.append({"role": "vcf", "path": str(sample.vcf), "sha256": file_sha256(sample.vcf)})
    if sample.normal_vcf is not None:
        inputs.append(
            {
                "role": "normal_vcf",
                "path": str(sample.normal_vcf),
                "sha256": file_sha256(sample.normal_vcf),
            }
        )
    for row in calls.alterations:
        row["sample"] = sample.sample
    calls.alterations.sort(key=lambda r: (r["gene"], int(r["pos"]), r["ref"], r["alt"]))
    if sample.tumor_fraction is not None:
        tumor_fraction = {"value": sample.tumor_fraction, "method": "sample_sheet"}
    else:
        estimate = estimate_tumor_fraction(somatic_vafs)
        tumor_fraction = {
            "value": estimate,
            "method": "somatic_vaf_q90x2" if estimate is not None else "unavailable",
            "n_variants": len(somatic_vafs),
        }
    calls.accounting = {
        "sample": sample.sample,
        "patient": sample.patient,
        "vcf": reader_info,
        "alleles_read": alleles,
        "reported": len(calls.alterations),
        "filtered": len(calls.filtered),
        "filtered_by_reason": dict(sorted(reasons.items())),
        "reconciles": alleles == len(calls.alterations) + len(calls.filtered),
        "tumor_fraction": tumor_fraction,
        "detection": {k: det[k] for k in sorted(det)},
        "inputs": inputs,
    }
    return calls


def _is_somatic_candidate(rec: VariantRecord, det: dict, normal: set, reason) -> bool:
    if reason not in (None, "not_in_panel", "panel_gene_not_resistance_allele"):
        return False
    if rec.problem or not rec.is_pass or rec.vaf is None or rec.depth is None:
        return False
    if rec.depth < det["min_depth"] or (rec.alt_reads or 0) < det["min_alt_reads"]:
        return False
    if _germline_like(rec.vaf, det["germline_vaf_band"]):
        return False
    return (rec.chrom, *minimal_allele(rec.pos, rec.ref, rec.alt)) not in normal


def _classify(rec: VariantRecord, panel: Panel, det: dict, normal: set):
    """(alteration row, None, '') when reported, else (partial row, reason, detail)."""
    if rec.problem:
        return {}, "unreadable_record", rec.problem
    match, *why = panel.match(rec.chrom, rec.pos, rec.ref, rec.alt, rec.annotations)
    if match is None:
        reason, gene = why
        return {"gene": gene}, reason, ""
    row = {
        "key": f"{rec.chrom}:{match.pos}:{match.ref}>{match.alt}",
        "gene": match.gene.symbol,
        "alteration": match.alteration,
        "hgvsc": match.hgvsc,
        "transcript": match.gene.refseq,
        "panel_class": match.panel_class,
        "type": match.type,
        "mechanism": match.gene.mechanism,
        "chrom": rec.chrom,
        "pos": match.pos,
        "ref": match.ref,
        "alt": match.alt,
        "depth": rec.depth,
        "alt_reads": rec.alt_reads,
        "vaf": rec.vaf,
        "filters": ";".join(rec.filters) or "PASS",
        "caller": rec.caller,
        "record_no": rec.record_no,
        "alt_index": rec.alt_index,
    }
    if rec.depth is not None:
        row["lod95"] = lod95(
            rec.depth,
            background_error=det["background_error"],
            alpha=det["alpha"],
            min_alt_reads=det["min_alt_reads"],
        )
    if det["require_pass"] and not rec.is_pass:
        return row, "not_pass", ";".join(rec.filters)
    if rec.depth is None:
        return row, "unreadable_record", "no depth for this record"
    if rec.depth < det["min_depth"]:
        return row, "low_depth", f"depth {rec.depth} < {det['min_depth']}"
    if rec.alt_reads is None:
        return row, "unreadable_record", "no alt read count for this allele"
    if rec.alt_reads < det["min_alt_reads"]:
        return row, "low_alt_reads", f"{rec.alt_reads} < {det['min_alt_reads']}"
    if (rec.chrom, match.pos, match.ref, match.alt) in normal:
        return row, "in_normal", "allele present in normal_vcf"
    if _germline_like(rec.vaf, det["germline_vaf_band"]):
        return row, "germline_like", f"VAF {rec.vaf:.3f}"
    p_value = detection_p_value(rec.alt_reads, rec.depth, det["background_error"])
    row["p_value"] = p_value
    if p_value >= det["alpha"]:
        return row, "not_significant", f"binomial p={p_value:.3g} >= alpha {det['alpha']}"
    return row, None, ""


def _filtered_row(sample: Sample, rec: VariantRecord, row: dict, reason: str, detail: str):
    return {
        "sample": sample.sample,
        "record_no": rec.record_no,
        "alt_index": rec.alt_index,
        "chrom": rec.chrom,
        "pos": rec.pos,
        "ref": rec.ref,
        "alt": rec.alt,
        "key": row.get("key", ""),
        "filters": ";".join(rec.filters) or "PASS",
        "depth": rec.depth,
        "alt_reads": rec.alt_reads,
        "vaf": rec.vaf,
        "gene": row.get("gene", ""),
        "alteration": row.get("alteration", ""),
        "reason": reason,
        "detail": detail,
    }


def write_sample_calls(calls: SampleCalls, alterations_path, filtered_path, accounting_path):
    """Write the three per-sample outputs (SPEC 6), deterministic."""
    write_tsv(alterations_path, ALTERATION_COLUMNS, calls.alterations)
    write_tsv(filtered_path, FILTERED_COLUMNS, calls.filtered)
    with open(accounting_path, "w") as handle:
        json.dump(calls.accounting, handle, indent=2, sort_keys=True)
        handle.write("\n")
