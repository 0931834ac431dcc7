"""Per-sample calls (SPEC 5.1): every VCF allele ends up reported or filtered with its reason."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ctdna_resistance.assay_calls import call_assay
from ctdna_resistance.background import ErrorModel, error_model
from ctdna_resistance.copy_number import call_copy_number, copy_number_settings, gene_copy_number
from ctdna_resistance.errors import InputError
from ctdna_resistance.fusions import call_fusions, load_gene_table, name_filtered_fusions
from ctdna_resistance.io.copy_number import read_copy_number
from ctdna_resistance.io.fusion_table import read_fusion_table
from ctdna_resistance.io.sv_vcf import read_sv_vcf
from ctdna_resistance.io.vcf import open_vcf
from ctdna_resistance.panel import Panel, file_sha256, minimal_allele
from ctdna_resistance.records import VariantRecord
from ctdna_resistance.samplesheet import Sample
from ctdna_resistance.tables import write_tsv

DEFAULT_DETECTION = {
    "min_depth": 100,
    "min_alt_reads": 3,
    "background_error": 0.0005,
    "alpha": 0.01,
    "germline_vaf_band": 0.1,
    "require_pass": True,
    "vcf_read": "whole_file",
}

ALTERATION_COLUMNS = [
    "sample", "key", "gene", "alteration", "hgvsc", "transcript", "panel_class", "type",
    "mechanism", "chrom", "pos", "ref", "alt", "depth", "alt_reads", "vaf", "p_value", "lod95",
    "background_model", "background_error",
    "copy_number", "log2", "plasma_cn", "tumor_cn", "tumor_fraction", "cn_rule", "segment_bp",
    "n_bins", "partner", "breakpoints", "split_reads", "spanning_reads",
    "filters", "caller", "record_no", "alt_index", "platform",
]  # fmt: skip
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
    "lod95",
    "p_value",
    "platform",
]

# Most non-panel somatic variants one patient's clone analysis uses (SPEC 5.6), and so the most a
# draw's accounting lists. Clone trajectories are pinned down by a few dozen markers each; more
# only cost time (EM is linear in markers, and each is re-genotyped in every BAM) and accounting
# size (a whole-exome VCF has thousands). Above the cap a fixed pseudo-random subset is kept
# (smallest SHA-256 of the key, marker_rank): unbiased between clones, unlike keeping the highest
# VAFs, which would keep truncal variants and drop the subclonal passengers of resistant clones;
# and the same in every draw, so a patient's selection is the draws' selections combined.
MAX_CLONE_MARKERS = 200

# Why a record was filtered, in the order the checks run; documented in docs of accounting.json.
REASONS = {
    "duplicate_allele": "the same allele with the same values in another of the draw's vcf files",
    "inconsistent_record": "the record's values contradict its header or each other (see detail)",
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
    "also_sequenced": "a targeted-assay result for an allele the draw's sequencing reported",
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
            if (
                rec.problem
                or rec.inconsistency
                or (rec.alt_reads is not None and rec.alt_reads <= 0)
            ):
                continue
            found.add((rec.chrom, *minimal_allele(rec.pos, rec.ref, rec.alt)))
    return found


def germline_like(vaf: float | None, band: float) -> bool:
    """VAF near 0.5 or 1 (within ``band``): what a germline allele looks like."""
    return vaf is not None and (abs(vaf - 0.5) <= band or vaf >= 1 - band)


def estimate_tumor_fraction(vafs: list[float]) -> float | None:
    """SPEC 5.3: twice a robust high quantile (90th) of somatic VAFs, capped at 1."""
    if len(vafs) < 3:
        return None
    return float(min(1.0, 2 * np.quantile(np.asarray(sorted(vafs)), 0.9)))


def _input_entry(role: str, path) -> dict:
    return {"role": role, "path": str(path), "sha256": file_sha256(path)}


def choose_tumor_fraction(
    sample: Sample, cn_input, somatic_vafs: list[float], max_disagreement: float = 0.10
) -> dict:
    """SPEC 5.3: the copy-number caller's (ichorCNA, PURPLE, ASCAT, PureCN) when given, else the
    sample sheet's, else twice the 90th percentile of somatic VAFs; every estimate is kept, and
    two that differ by more than ``max_disagreement`` are flagged."""
    estimates = []
    if cn_input is not None and cn_input.tumor_fraction is not None:
        estimates.append(
            {"method": cn_input.tf_source or cn_input.fmt, "value": cn_input.tumor_fraction}
        )
    if sample.tumor_fraction is not None:
        estimates.append({"method": "sample_sheet", "value": sample.tumor_fraction})
    from_vafs = estimate_tumor_fraction(somatic_vafs)
    if from_vafs is not None:
        estimates.append({"method": "somatic_vaf_q90x2", "value": from_vafs})
    chosen = dict(estimates[0]) if estimates else {"value": None, "method": "unavailable"}
    if not estimates:
        chosen["reason"] = (
            "no estimate from a copy-number caller or the sample sheet, and "
            f"{len(somatic_vafs)} somatic VAF{'s' if len(somatic_vafs) != 1 else ''} "
            "(at least 3 are needed)"
        )
    chosen["n_variants"] = len(somatic_vafs)
    chosen["estimates"] = estimates
    values = [e["value"] for e in estimates]
    spread = max(values) - min(values) if len(values) > 1 else 0.0
    chosen["disagree"] = spread > max_disagreement
    if chosen["disagree"]:
        listed = ", ".join(f"{e['method']} {e['value']:.3g}" for e in estimates)
        chosen["note"] = (
            f"estimates disagree by {spread:.3g} (> {max_disagreement:g}): {listed}; "
            f"using {chosen['method']}"
        )
    return chosen


def read_sample_copy_number(sample: Sample, panel: Panel, config: dict | None = None):
    """The sample's copy-number file read for the panel's build (None without one)."""
    if sample.cnv is None:
        return None
    return read_copy_number(
        sample.cnv,
        sample=sample.cnv_sample,
        scale=(config or {}).get("copy_number", {}).get("seg_scale", "log2"),
        expected_build=panel.build,
    )


def call_sample(
    sample: Sample,
    panel: Panel,
    config: dict | None = None,
    copy_number=None,
    errors: ErrorModel | None = None,
) -> SampleCalls:
    """Read the sample's VCF, copy-number and SV files through the panel (SPEC 5.1, 5.4, 3.6).

    Every input record ends up reported or filtered with its reason, and the accounting says so
    per input: VCF alleles, copy-number segments, SV events. ``copy_number`` is the sample's
    (read_sample_copy_number, gene_copy_number) when the caller computed them for several draws
    at once; otherwise they are computed here. ``errors`` is the run's ErrorModel (one per job);
    without it the config's background table, or its scalar error, is opened here.
    """
    det = detection_settings(config)
    errors = errors or error_model(config, det, panel)
    calls = SampleCalls(sample)
    reasons: Counter = Counter()
    inputs = []
    somatic_vafs: list[float] = []
    accounting: dict = {"sample": sample.sample, "patient": sample.patient}
    read_total = 0
    records_reported = 0  # input records behind the reported alterations
    if sample.vcf is not None:
        caller = sample.caller or (config or {}).get("caller") or None
        info, n, somatic_vafs, markers = _call_small_variants(
            sample, panel, det, errors, calls, reasons, caller
        )
        accounting["vcf"] = info
        accounting["somatic_markers_found"] = len(markers)
        kept = sorted(markers, key=marker_rank)[:MAX_CLONE_MARKERS]
        accounting["somatic_markers"] = {key: markers[key] for key in sorted(kept)}
        accounting["alleles_read"] = n
        read_total += n
        records_reported += len(calls.alterations)  # one row per reported allele
        inputs.extend(_input_entry("vcf", path) for path in sample.vcfs)
        if sample.normal_vcf is not None:
            inputs.append(_input_entry("normal_vcf", sample.normal_vcf))
    else:
        accounting["alleles_read"] = 0
    if copy_number is None:
        cn_input = read_sample_copy_number(sample, panel, config)
        genes = gene_copy_number(cn_input.segments, panel) if cn_input is not None else []
    else:
        cn_input, genes = copy_number
    if cn_input is not None:
        inputs.append(_input_entry("cnv", sample.cnv))
    tumor_fraction = choose_tumor_fraction(
        sample,
        cn_input,
        somatic_vafs,
        ((config or {}).get("tumor_fraction") or {}).get("max_disagreement", 0.10),
    )
    if cn_input is not None:
        info = _call_copy_number(
            sample, cn_input, genes, panel, config, tumor_fraction, calls, reasons
        )
        accounting["copy_number"] = info
        read_total += info["segments_read"]
        records_reported += info["segments_reported"]
    if sample.sv is not None:
        info = _call_structural_variants(sample, panel, calls, reasons)
        accounting["sv"] = info
        read_total += info["events_read"]
        records_reported += info["fusions_reported"]
        inputs.append(_input_entry("sv", sample.sv))
    if sample.assay is not None:
        info = _call_assay(sample, panel, config, det, calls, reasons)
        accounting["assay"] = info
        read_total += info["targets_read"]
        records_reported += info["targets_reported"]
        inputs.append(_input_entry("assay", sample.assay))
    for row in calls.alterations:
        row["sample"] = sample.sample
        row.setdefault("platform", "ngs")
    for row in calls.filtered:
        row.setdefault("platform", "ngs")
    calls.alterations.sort(key=lambda r: (r["gene"], r["type"], int(r["pos"]), r["ref"], r["alt"]))
    accounting.update(
        {
            # records: VCF alleles + copy-number segments + SV events; a reported amplification
            # is one row backed by every segment over the gene
            "records_read": read_total,
            "records_reported": records_reported,
            "records_filtered": len(calls.filtered),
            "reconciles": read_total == records_reported + len(calls.filtered),
            "reported": len(calls.alterations),
            "filtered": len(calls.filtered),
            "filtered_by_reason": dict(sorted(reasons.items())),
            "tumor_fraction": tumor_fraction,
            "detection": {k: det[k] for k in sorted(det)},
            "background_model": errors.name,
            "background": _background_entry(config),
            "beyond_normals_depth": _beyond_normals(calls.alterations, errors),
            "inputs": inputs,
        }
    )
    calls.accounting = accounting
    return calls


def _call_assay(sample, panel, config, det, calls, reasons) -> dict:
    """Targeted-assay targets (assay_calls); an allele the draw's sequencing also reported is
    kept from sequencing, and the assay's row is filtered as also_sequenced."""
    assay = call_assay(sample, panel, config, det["alpha"])
    sequenced = {row["key"] for row in calls.alterations}
    for row in assay.filtered:
        reasons[row["reason"]] += 1
        calls.filtered.append(row)
    for row in assay.alterations:
        if row["key"] in sequenced:
            reasons["also_sequenced"] += 1
            calls.filtered.append(
                {k: v for k, v in row.items() if k in FILTERED_COLUMNS}
                | {"reason": "also_sequenced", "detail": f"VAF {row['vaf']:.4g} by the assay"}
            )
            assay.info["targets_reported"] -= 1
        else:
            calls.alterations.append(row)
    return assay.info


def _beyond_normals(alterations: list[dict], errors: ErrorModel) -> list[str]:
    """Reported small variants whose plasma depth is far beyond the normals' at their site
    (SiteModel.beyond_normals): their test extrapolated the site's error, said in the QC."""
    found = []
    for row in alterations:
        if row.get("background_model") != "site" or row.get("depth") is None:
            continue
        site = errors.site(row["chrom"], int(row["pos"]), row["ref"], row["alt"])
        if site.beyond_normals(int(row["depth"])):
            found.append(
                f"{row['gene']} {row['alteration']} at {int(row['depth'])}x "
                f"(normals {site.normal_depth:.0f}x)"
            )
    return found


def _background_entry(config: dict | None) -> dict | None:
    """The background table a draw was tested against (file name and sha256; not the folder, so
    that the same inputs give the same bytes wherever the run writes), None for the scalar."""
    path = (config or {}).get("background") or None
    if path is None:
        return None
    return {"file": Path(str(path)).name, "sha256": file_sha256(path)}


def _call_small_variants(sample, panel, det, errors, calls, reasons, caller):
    # None: no matched normal, so the germline VAF band is the only germline evidence
    normal = read_normal_alleles(sample.normal_vcf, panel.build) if sample.normal_vcf else None
    regions = panel.regions() if det["vcf_read"] == "panel_regions" else None
    somatic_vafs: list[float] = []
    markers: dict[str, str] = {}
    alleles = 0
    parts = []
    # the draw's alleles across its files (several: issue 18), to find one in two files
    seen: dict[tuple, tuple[str, int, tuple]] = {}
    for path in sample.vcfs:
        with open_vcf(
            path,
            sample=sample.vcf_sample,
            caller=caller,
            expected_build=panel.build,
            regions=regions,
        ) as reader:
            for rec in reader:
                alleles += 1
                duplicate = _duplicate_allele(rec, path, seen, several=len(sample.vcfs) > 1)
                if duplicate:
                    reasons["duplicate_allele"] += 1
                    calls.filtered.append(
                        _filtered_row(sample, rec, {}, "duplicate_allele", duplicate)
                    )
                    continue
                row, reason, detail = _classify(rec, panel, det, normal, errors)
                if reason is None:
                    calls.alterations.append(row)
                else:
                    reasons[reason] += 1
                    calls.filtered.append(_filtered_row(sample, rec, row, reason, detail))
                if _is_somatic_candidate(rec, det, normal, reason):
                    somatic_vafs.append(rec.vaf)
                    # not a panel alteration: a clone marker (SPEC 5.6), when its alleles are
                    # plain bases (a symbolic or '*' allele cannot be counted in a BAM)
                    if reason is not None and _plain_bases(rec.ref) and _plain_bases(rec.alt):
                        markers[marker_key(rec.chrom, rec.pos, rec.ref, rec.alt)] = _gene_of(rec)
            parts.append(
                {
                    "path": str(path),
                    "dialect": reader.dialect,
                    "sample_column": reader.sample,
                    "build": reader.build,
                    "contig_style": reader.contig_style,
                    "used_index": reader.used_index,
                    # panel_regions through the index or by scanning an unindexed text VCF
                    "read_mode": (
                        "whole_file" if reader.read_mode == "whole_file" else "panel_regions"
                    ),
                    "records_read": reader.records_read,
                    # read by the dialect's convention though the header does not declare them
                    **(
                        {"undeclared_fields_read": reader.undeclared_fields}
                        if reader.undeclared_fields
                        else {}
                    ),
                }
            )
    info = dict(parts[0])
    if len(parts) > 1:  # one draw in several files: each file's own facts, in the sheet's order
        info["records_read"] = sum(part["records_read"] for part in parts)
        info["files"] = parts
    return info, alleles, somatic_vafs, dict(sorted(markers.items()))


def _duplicate_allele(rec: VariantRecord, path, seen: dict, several: bool) -> str:
    """'' for an allele first met in this draw; the detail of a repeat in another file.

    One draw's files (Strelka2's SNV and indel VCFs, shards with overlapping padding) should not
    share an allele; one written twice with the same values is kept once (the repeat filtered as
    duplicate_allele), with other values it is refused: which one is the draw's is not ours to
    guess. Repeats within one file are left to the classification, as with a single file.
    """
    if not several or rec.problem or rec.inconsistency:
        return ""
    key = (rec.chrom, *minimal_allele(rec.pos, rec.ref, rec.alt))
    values = (rec.depth, rec.alt_reads, rec.vaf, rec.filters)
    first = seen.setdefault(key, (str(path), rec.record_no, values))
    if first[0] == str(path):
        return ""
    if first[2] != values:
        raise InputError(
            path,
            f"{rec.chrom}:{rec.pos} {rec.ref}>{rec.alt} (record {rec.record_no}) is also in "
            f"{first[0]} (record {first[1]}) with other values (depth, alt reads, VAF, FILTER: "
            f"{_shown(values)} here, {_shown(first[2])} there)",
            "list each allele in one of the draw's vcf files, or give one file",
        )
    return f"also in {Path(first[0]).name} record {first[1]} with the same values"


def _shown(values: tuple) -> str:
    depth, alt_reads, vaf, filters = values
    return f"{depth}/{alt_reads}/{vaf}/{';'.join(filters) or 'PASS'}"


def marker_key(chrom: str, pos: int, ref: str, alt: str) -> str:
    """Key of a small variant, in the form of panel alteration keys (minimal representation)."""
    pos, ref, alt = minimal_allele(int(pos), ref, alt)
    return f"{chrom}:{pos}:{ref}>{alt}"


def marker_rank(key: str) -> str:
    """Order in which clone markers are kept under MAX_CLONE_MARKERS (fixed, pseudo-random)."""
    return hashlib.sha256(key.encode()).hexdigest()


def _plain_bases(allele: str) -> bool:
    return bool(allele) and set(allele.upper()) <= set("ACGT")


def _gene_of(rec: VariantRecord) -> str:
    """The gene the caller's annotation names (first one), or '' without annotation."""
    return next((a.gene for a in rec.annotations if a.gene), "")


def copy_number_key(gene, status: str) -> str:
    """Alteration key of a gene-level copy-number change, stable across draws."""
    return f"{gene.chrom}:{gene.start}-{gene.end}:{status}"


# Per gene in the accounting's copy_number.genes, called or not (with `called` and `rule`).
_ASSESSED_GENE_FIELDS = (
    "key", "gene", "copy_number", "log2", "plasma_cn", "tumor_cn", "n_bins", "segment_bp",
)  # fmt: skip


def _call_copy_number(sample, cn_input, genes, panel, config, tumor_fraction, calls, reasons):
    """Gene-level calls; each segment is reported (behind a called gene) or filtered."""
    settings = {
        k: v for k, v in ((config or {}).get("copy_number") or {}).items() if k != "seg_scale"
    }
    results = call_copy_number(
        genes,
        tumor_fraction["value"],
        tumor_fraction["method"],
        settings,
        absolute=cn_input.absolute and tumor_fraction["method"] == cn_input.tf_source,
    )
    called_genes = []
    assessed = []
    for gene_cn, result in zip(genes, results, strict=True):
        gene = panel.genes[gene_cn.gene]
        status = result.status if result.called else "amplification"
        if "amplification" not in gene.classes and "deletion" in gene.classes:
            status = result.status if result.called else "deep_deletion"
        row = {
            "key": copy_number_key(gene, status),
            "gene": gene.symbol,
            "alteration": status.replace("_", " "),
            "hgvsc": "",
            "transcript": gene.refseq,
            "panel_class": "amplification" if status == "amplification" else "deletion",
            "type": "amplification" if status == "amplification" else "deletion_cn",
            "mechanism": gene.mechanism,
            "chrom": gene.chrom,
            "pos": gene.start,
            "ref": "",
            "alt": "",
            "copy_number": result.tumor_cn if result.tumor_cn is not None else result.plasma_cn,
            "log2": result.log2,
            "plasma_cn": result.plasma_cn,
            "tumor_cn": result.tumor_cn,
            "tumor_fraction": result.tumor_fraction,
            "cn_rule": result.rule,
            "segment_bp": result.segment_bp,
            "n_bins": result.n_bins,
            "filters": "PASS",
            "caller": cn_input.fmt,
        }
        if result.called:
            calls.alterations.append(row)
            called_genes.append(gene)
        assessed.append({k: row[k] for k in _ASSESSED_GENE_FIELDS} | {
            "called": result.called, "rule": result.rule
        })  # fmt: skip
    counts = Counter()
    for segment in cn_input.segments:
        gene = panel.gene_at(segment.chrom, segment.start) or panel.gene_at(
            segment.chrom, segment.end
        )
        covering = [
            g for g in called_genes if g.chrom == segment.chrom and segment.start <= g.end
            and g.start <= segment.end
        ]  # fmt: skip
        if covering:
            counts["reported"] += 1
            continue
        overlapping = [
            g for g in panel.genes.values() if g.chrom == segment.chrom
            and segment.start <= g.end and g.start <= segment.end
        ]  # fmt: skip
        reason = "copy_number_not_called" if overlapping else "not_in_panel"
        gene = overlapping[0].symbol if overlapping else ""
        counts["filtered"] += 1
        reasons[reason] += 1
        calls.filtered.append(
            {
                "sample": sample.sample,
                "record_no": segment.record_no,
                "chrom": segment.chrom,
                "pos": segment.start,
                "ref": "",
                "alt": "",
                "key": "",
                "filters": "",
                "gene": gene,
                "alteration": "",
                "reason": reason,
                "detail": f"segment {segment.chrom}:{segment.start}-{segment.end} "
                f"log2 {segment.log2:.3f}",
            }
        )
    return {
        "path": str(sample.cnv),
        "format": cn_input.fmt,
        "segments_read": len(cn_input.segments),
        "segments_reported": counts["reported"],
        "segments_filtered": counts["filtered"],
        # Every panel gene assessed, called or not: what tracking needs to say "not detected".
        "genes": assessed,
        # the thresholds this draw was called with: tracking asks whether the same rule would
        # have fired for the copy number seen at another draw (its limit of detection)
        "settings": copy_number_settings(settings),
        "tumor_fraction_from_file": cn_input.tumor_fraction,
        "ploidy_from_file": cn_input.ploidy,
        # PURPLE/ASCAT-like inputs: their absolute copy number is used as the tumour CN
        "absolute": cn_input.absolute,
        "purity_source": cn_input.purity_source,
    }


def _call_structural_variants(sample, panel, calls, reasons) -> dict:
    """Fusions of interest reported; every other SV event filtered with its reason."""
    path = str(sample.sv)
    if path.endswith((".vcf", ".vcf.gz", ".bcf")):
        result = read_sv_vcf(path, sample=sample.sv_sample, expected_build=panel.build)
        events, caller, lines = result.events, result.caller, result.records_read
    else:
        events = read_fusion_table(path)
        caller, lines = "fusion_table", len(events)
    gene_table = load_gene_table(panel.build)
    fusions, others = call_fusions(events, panel, gene_table)
    for fusion in fusions:
        gene = panel.genes[fusion.panel_gene]
        side = (
            fusion.event.a
            if gene.contains(fusion.event.a.chrom, fusion.event.a.pos)
            else (fusion.event.b)
        )
        # a table that names genes without breakend positions (LINX): place it at the gene
        chrom, pos = (side.chrom, side.pos) if side.pos else (gene.chrom, gene.start)
        alt = sum(v for v in (fusion.split_reads, fusion.spanning_reads) if v is not None)
        has_counts = fusion.split_reads is not None or fusion.spanning_reads is not None
        calls.alterations.append(
            {
                "key": fusion_key(fusion.label),
                "gene": gene.symbol,
                "alteration": fusion.label,
                "hgvsc": "",
                "transcript": gene.refseq,
                "panel_class": "fusion",
                "type": "fusion",
                "mechanism": gene.mechanism,
                "chrom": chrom,
                "pos": pos,
                "ref": "",
                "alt": "",
                "alt_reads": alt if has_counts else None,
                "depth": alt + fusion.ref_reads
                if has_counts and fusion.ref_reads is not None
                else None,
                "vaf": fusion.vaf,
                "partner": fusion.partner,
                "breakpoints": fusion.breakpoints,
                "split_reads": fusion.split_reads,
                "spanning_reads": fusion.spanning_reads,
                "filters": ";".join(fusion.event.filters) or "PASS",
                "caller": caller,
                "record_no": fusion.event.record_no,
            }
        )
    for event, reason in others:
        reasons[reason] += 1
        calls.filtered.append(
            {
                "sample": sample.sample,
                "record_no": event.record_no,
                "chrom": event.a.chrom,
                "pos": event.a.pos,
                "ref": "",
                "alt": "",
                "key": "",
                "filters": ";".join(event.filters) or "PASS",
                "gene": _panel_gene_of(panel, event),
                "alteration": f"{event.sv_type} {event.a.chrom}:{event.a.pos}"
                f"-{event.b.chrom}:{event.b.pos}",
                "reason": reason,
                "detail": event.problem or "",
            }
        )
    return {
        "path": path,
        "caller": caller,
        "records_read": lines,
        "events_read": len(events),
        "fusions_reported": len(fusions),
        "events_filtered": len(others),
        # panel fusions the caller wrote but did not pass: their reads at the breakpoint are
        # what tracking needs to say whether the fusion seen at another draw could be seen here
        "filtered_fusions": sorted(
            (
                {
                    "key": fusion_key(fusion.label),
                    "alt_reads": _fusion_alt_reads(fusion),
                    "ref_reads": fusion.ref_reads,
                    "filters": ";".join(fusion.event.filters),
                    "record_no": fusion.event.record_no,
                }
                for fusion in name_filtered_fusions(others, panel, gene_table)
            ),
            key=lambda entry: (entry["key"], entry["record_no"]),
        ),
    }


def _fusion_alt_reads(fusion) -> int | None:
    """Split + spanning support, None when the caller gives neither."""
    if fusion.split_reads is None and fusion.spanning_reads is None:
        return None
    return (fusion.split_reads or 0) + (fusion.spanning_reads or 0)


def _panel_gene_of(panel: Panel, event) -> str:
    """The panel gene either breakend lies in, so a weak panel fusion is findable when filtered."""
    for end in (event.a, event.b):
        gene = panel.gene_at(end.chrom, end.pos)
        if gene is not None:
            return gene.symbol
    return ""


def fusion_key(label: str) -> str:
    """Alteration key of a fusion, stable across draws whatever the exact breakpoints."""
    return f"fusion:{label}"


def _is_somatic_candidate(rec: VariantRecord, det: dict, normal: set | None, reason) -> bool:
    if reason not in (None, "not_in_panel", "panel_gene_not_resistance_allele"):
        return False
    if rec.problem or rec.inconsistency or not rec.is_pass or rec.vaf is None or rec.depth is None:
        return False
    if rec.depth < det["min_depth"] or (rec.alt_reads or 0) < det["min_alt_reads"]:
        return False
    if germline_like(rec.vaf, det["germline_vaf_band"]):
        return False
    return (rec.chrom, *minimal_allele(rec.pos, rec.ref, rec.alt)) not in (normal or ())


def _classify(rec: VariantRecord, panel: Panel, det: dict, normal: set | None, errors=None):
    """(alteration row, None, '') when reported, else (partial row, reason, detail).

    ``normal`` is the matched normal's alleles, or None when the sample has no normal_vcf. The
    germline VAF band applies to a panel allele only without a normal: with one, an allele the
    normal lacks is somatic whatever its VAF (a clonal KRAS/BRAF allele in plasma with a high
    tumour fraction, or on an amplified locus, sits near 0.5). ``errors`` (ErrorModel) gives the
    allele's background: its test, its LoD95, and at a flagged site the filter reason.
    """
    if rec.inconsistency:
        return {}, "inconsistent_record", rec.inconsistency
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
    site = (errors or ErrorModel(det)).site(rec.chrom, match.pos, match.ref, match.alt)
    row["background_model"] = site.model
    row["background_error"] = site.mean
    if rec.depth is not None:
        row["lod95"] = site.lod95(rec.depth, alpha=det["alpha"], min_alt_reads=det["min_alt_reads"])
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
    if normal is not None and (rec.chrom, match.pos, match.ref, match.alt) in normal:
        return row, "in_normal", "allele present in normal_vcf"
    if normal is None and germline_like(rec.vaf, det["germline_vaf_band"]):
        return row, "germline_like", f"VAF {rec.vaf:.3f}"
    p_value = site.p_value(rec.alt_reads, rec.depth)
    row["p_value"] = p_value
    if p_value >= det["alpha"]:
        test = "binomial" if site.overdispersion <= 0 else "beta-binomial"
        detail = f"{test} p={p_value:.3g} >= alpha {det['alpha']} ({site.detail})"
        # at a site the normals carry, the reason says so: not a weak call but a known artefact
        return row, site.flag or "not_significant", detail
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
        handle.write(json.dumps(calls.accounting, indent=2, sort_keys=True) + "\n")
