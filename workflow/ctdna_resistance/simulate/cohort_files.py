"""The synthetic cohort's files: sample sheet, treatments, truth tables, and per draw the VCF,
copy-number, SV and BAM files written from the patients' plans (``simulate.plan``)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ctdna_resistance.assay_targets import UnknownTarget, resolve_target
from ctdna_resistance.panel import load_panel
from ctdna_resistance.simulate import artefacts
from ctdna_resistance.simulate.assay_plates import (
    expected_status,
    render_quantasoft,
    simulate_plate,
)
from ctdna_resistance.simulate.bam import write_plasma_bam, write_reference
from ctdna_resistance.simulate.cn_writers import (
    FocalGain,
    layout_segments,
    render_cnvkit_cns,
    render_seg,
)
from ctdna_resistance.simulate.genome import CONTIG_RANK
from ctdna_resistance.simulate.normals import BackgroundDesign
from ctdna_resistance.simulate.panel_sites import PanelSites
from ctdna_resistance.simulate.plan import (
    BACKBONES,
    SECOND_LINE_BIOLOGIC,
    Observation,
    PatientPlan,
    Site,
    add_passengers,
    clone_label,
    design_patient,
    patient_params,
    rounded,
    sample_depth,
    sample_normal,
    simulate_draws,
    simulate_passengers,
    site_params,
    tumour_state,
)
from ctdna_resistance.simulate.structural import (
    StructuralPlan,
    amplification_tumour_cn,
    design_structural,
    sample_breakend,
)
from ctdna_resistance.simulate.sv_writers import (
    MIN_RECORD_ALT,
    SV_WRITERS,
    SvCall,
    SvContext,
    render_sv_vcf,
)
from ctdna_resistance.simulate.vcf_writers import (
    WRITERS,
    CallRecord,
    VcfContext,
    is_weak,
    render_vcf,
    write_vcf,
)

BAM_DEPTH_FACTOR = 0.2  # BAM fragments per site relative to the draw's mean depth
BAM_DEPTH_RANGE = (200, 800)  # kept small: the BAMs are committed in test_data
BAM_ERROR_RATE = 1e-3
BAM_WINDOW = 600  # reference bases kept either side of a BAM site
SAMPLE_COLUMNS = (
    "patient", "sample", "collection_date", "vcf", "vcf_sample", "normal_vcf", "tumor_fraction",
    "timepoint", "cnv", "sv", "sv_sample", "bam",
)  # fmt: skip
ASSAY_SAMPLE_COLUMNS = ("assay", "assay_sample")  # only in cohorts with a patient on ddPCR
ASSAY_STREAM = 2000003  # the ddPCR patients' random streams: [seed, ASSAY_STREAM + k, part]
TRUTH_ASSAY_COLUMNS = (
    "patient", "sample", "collection_date", "timepoint", "platform", "well", "role", "target",
    "gene", "protein", "chrom", "pos", "ref", "alt", "clone", "true_fraction", "input_copies",
    "mutant_copies", "wildtype_copies", "false_positive_copies", "accepted_droplets",
    "mutant_positives", "wildtype_positives", "expected_status",
)  # fmt: skip
TREATMENT_COLUMNS = ("patient", "agent", "start_date", "end_date", "line")
TRUTH_COLUMNS = (
    "patient", "sample", "collection_date", "category", "gene", "protein", "chrom", "pos", "ref",
    "alt", "true_vaf", "depth", "alt_reads", "in_vcf", "filter",
    # added for copy number, fusions and clones; empty where they do not apply
    "kind", "clone", "true_tumor_cn", "tumor_fraction", "log2", "n_bins", "split_reads",
    "spanning_reads", "ref_reads",
)  # fmt: skip
TRUTH_SAMPLE_COLUMNS = (
    "patient", "sample", "collection_date", "timepoint", "days_since_baseline", "on_anti_egfr",
    "true_tumor_fraction", "mean_depth",
)  # fmt: skip


def _write_tsv(path: Path, columns: Iterable[str], rows: Iterable[Iterable[object]]) -> None:
    lines = ["\t".join(columns)] + ["\t".join(str(value) for value in row) for row in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _call_record(obs: Observation, normal: tuple[int, int]) -> CallRecord:
    site = obs.site
    return CallRecord(
        site.chrom, site.pos, site.ref, site.alt, obs.depth, obs.alt_reads, obs.filters or (),
        site.category, normal_depth=normal[0], normal_alt_reads=normal[1],
    )  # fmt: skip


def _truth_fields(obs: Observation, tf: float) -> tuple:
    """The truth.tsv columns from category on, for a small variant."""
    site = obs.site
    written = obs.filters is not None
    filter_text = (";".join(obs.filters) or "PASS") if obs.filters is not None else ""
    return (
        site.category, site.gene, site.protein, site.chrom, site.pos, site.ref, site.alt,
        f"{obs.true_vaf:.6f}", obs.depth, obs.alt_reads, int(written), filter_text,
        "snv", clone_label(site), "", f"{tf:.6f}", "", "", "", "", "",
    )  # fmt: skip


@dataclass
class _DrawFiles:
    """Paths (relative to the cohort folder) of one draw's extra inputs, for the sheet."""

    cnv: str = ""
    sv: str = ""
    sv_sample: str = ""
    bam: str = ""


def write_cohort(
    root: Path, seed: int, n_patients: int, n_draws: int, panel: PanelSites, build: str,
    pre_existing_index: int | None, panel_path: Path, design: BackgroundDesign,
    n_assay_patients: int = 0,
) -> tuple[list[dict], dict | None]:  # fmt: skip
    """Write samples, treatments, truth, VCFs, copy-number and SV files and BAMs into ``root``;
    return per-patient parameters and the BAM reference's parameters (None without BAMs).

    The ``n_assay_patients`` patients after the others are followed by ddPCR between their first
    and last (sequenced) draws: a QuantaSoft export per assayed draw (``assay/``), the sheet's
    ``assay`` and ``assay_sample`` columns, and truth_assays.tsv. They draw from streams of
    their own (ASSAY_STREAM), so the other patients are the same with or without them."""
    for folder in ("vcf", "normal", "cnv", "sv") + (("assay",) if n_assay_patients else ()):
        (root / folder).mkdir()
    full_panel = load_panel(panel_path, build)
    bam_index = 1 if n_patients >= 2 else 0
    sample_rows, treatment_rows, truth_rows, truth_sample_rows, all_params = [], [], [], [], []
    assay_truth_rows = []
    # a ddPCR patient's alleles are not at the normals' artefacts, which its sequenced draws show
    artefact_sites = frozenset((allele.chrom, allele.pos) for allele in design.special)
    reference_params = None
    for index in range(n_patients + n_assay_patients):
        followed_by_ddpcr = index >= n_patients
        stream = ASSAY_STREAM + index - n_patients if followed_by_ddpcr else index
        design_rng = np.random.default_rng([seed, stream, 0])
        counts_rng = np.random.default_rng([seed, stream, 1])
        cosmetic_rng = np.random.default_rng([seed, stream, 2])
        # copy number, SVs and BAMs draw from their own streams, so the small variants stay the
        # same whatever is added here
        structural_rng = np.random.default_rng([seed, stream, 3])
        evidence_rng = np.random.default_rng([seed, stream, 4])
        bam_rng = np.random.default_rng([seed, stream, 5])
        passenger_rng = np.random.default_rng([seed, stream, 6])
        plate_rng = np.random.default_rng([seed, stream, 7])
        artefact_rng, artefact_cosmetic_rng = artefacts.patient_streams(seed, stream)
        plan = design_patient(
            index, n_draws, panel, build, design_rng,
            pre_existing=index == pre_existing_index or followed_by_ddpcr,
            on_anti_egfr_throughout=followed_by_ddpcr,
            avoid=artefact_sites if followed_by_ddpcr else frozenset(),
        )  # fmt: skip
        assay_draws = range(1, n_draws - 1) if followed_by_ddpcr else range(0)
        add_passengers(plan, panel, build, passenger_rng)
        normal_counts = sample_normal(plan, counts_rng)
        draws = simulate_draws(plan, counts_rng)
        states = [tumour_state(plan, day) for day in plan.draw_days]
        passenger_normal, passenger_draws = simulate_passengers(plan, states, passenger_rng)
        normal_counts |= passenger_normal
        draws = [
            sorted(observations + extra, key=lambda obs: obs.site.sort_key)
            for observations, extra in zip(draws, passenger_draws, strict=True)
        ]
        structural = design_structural(plan, full_panel, build, structural_rng, states)
        writer = WRITERS[plan.dialect]
        normal_name = f"{plan.patient}_WBC"
        normal_rel = f"normal/{normal_name}.vcf"
        files = [_DrawFiles() for _ in plan.draw_days]
        if index == bam_index:
            reference_params = _write_bams(
                root, plan, draws, states, build, seed, bam_rng, files, full_panel
            )
        tumour_fractions = []
        for draw, (day, observations) in enumerate(zip(plan.draw_days, draws, strict=True)):
            sample = plan.sample_id(draw)
            collected = plan.day_date(day)
            if draw in assay_draws:
                tf, ccf = states[draw]
                tumour_fractions.append(tf)
                sheet_row, truth = _write_assay_draw(
                    root, plan, draw, tf, ccf, full_panel, plate_rng
                )
                sample_rows.append(sheet_row)
                assay_truth_rows += truth
                where = (plan.patient, sample, collected.isoformat())
                on_therapy = int(plan.on_anti_egfr(day))
                truth_sample_rows.append((*where, f"T{draw}", day, on_therapy, f"{tf:.6f}", ""))
                continue
            ctx = VcfContext(build, plan.chr_style, sample, normal_name, collected)
            records = [
                _call_record(obs, normal_counts[obs.site])
                for obs in observations
                if obs.filters is not None
            ]
            suffix = ".vcf.gz" if plan.compressed else ".vcf"
            vcf_rel = f"vcf/{sample}{suffix}"
            text = render_vcf(writer, ctx, records, cosmetic_rng)
            artefact_obs = artefacts.observe_artefacts(
                design, plan, draw, writer, sample_depth, artefact_rng
            )
            text = artefacts.add_to_vcf(text, artefact_obs, writer, ctx, artefact_cosmetic_rng)
            write_vcf(root / vcf_rel, text)
            tf, ccf = states[draw]
            tumour_fractions.append(tf)
            strelka = plan.dialect == "strelka2_somatic"
            where = (plan.patient, sample, collected.isoformat())
            truth_rows += [(*where, *_truth_fields(obs, tf)) for obs in observations]
            truth_rows += [(*where, *artefacts.truth_fields(obs, tf)) for obs in artefact_obs]
            truth_rows += _write_copy_number(
                root, plan, structural, full_panel, build, draw, tf, ccf, evidence_rng, files
            )
            truth_rows += _write_structural_variants(
                root, plan, structural, build, draw, tf, ccf, evidence_rng, files
            )
            sheet_tf = f"{tf:.4f}" if structural.sheet_tumor_fraction else ""
            extra = files[draw]
            sheet_fields = (
                vcf_rel, "TUMOR" if strelka else "", normal_rel, sheet_tf, f"T{draw}",
                extra.cnv, extra.sv, extra.sv_sample, extra.bam,
            )  # fmt: skip
            sample_rows.append((*where, *sheet_fields) + (("", "") if n_assay_patients else ()))
            on_therapy = int(plan.on_anti_egfr(day))
            depth_text = f"{plan.mean_depths[draw]:.0f}"
            truth_sample_rows.append((*where, f"T{draw}", day, on_therapy, f"{tf:.6f}", depth_text))
        _write_normal_vcf(root / normal_rel, plan, normal_counts, build, cosmetic_rng)
        treatment_rows += _treatment_rows(plan)
        params = patient_params(plan, tumour_fractions)
        params["structural"] = _structural_params(structural, index == bam_index, plan)
        if followed_by_ddpcr:
            params["assay"] = {
                "platform": "ddpcr",
                "stream": f"numpy default_rng([seed, {stream}, part])",
                "timepoints": [f"T{draw}" for draw in assay_draws],
                "targets": [_assay_target_name(clone.site, full_panel) for clone in plan.clones],
            }
        all_params.append(params)

    def by_patient_and_date(row: tuple) -> tuple:
        return (row[0], row[2], row[1])

    kind_order = {"snv": 0, "amplification": 1, "fusion": 2, "sv": 3}

    def truth_key(row: tuple) -> tuple:
        kind = kind_order[row[15]]
        return (row[0], row[2], row[1], CONTIG_RANK[row[6]], row[7], kind, row[8], row[9])

    sample_columns = SAMPLE_COLUMNS + (ASSAY_SAMPLE_COLUMNS if n_assay_patients else ())
    _write_tsv(root / "samples.tsv", sample_columns, sorted(sample_rows, key=by_patient_and_date))
    if n_assay_patients:
        _write_tsv(root / "truth_assays.tsv", TRUTH_ASSAY_COLUMNS, assay_truth_rows)
    _write_tsv(root / "treatments.tsv", TREATMENT_COLUMNS, sorted(treatment_rows))
    _write_tsv(root / "truth.tsv", TRUTH_COLUMNS, sorted(truth_rows, key=truth_key))
    _write_tsv(
        root / "truth_samples.tsv",
        TRUTH_SAMPLE_COLUMNS,
        sorted(truth_sample_rows, key=by_patient_and_date),
    )
    return all_params, reference_params


def _panel_genes_in(panel) -> callable:
    """CNVkit's gene column: the panel genes a segment overlaps, else '-'."""

    def genes_in(chrom: str, start: int, end: int) -> str:
        names = sorted(
            g.symbol for g in panel.genes.values()
            if g.chrom == chrom and g.start <= end and start <= g.end
        )  # fmt: skip
        return ",".join(names) or "-"

    return genes_in


def _write_copy_number(
    root, plan, structural: StructuralPlan, panel, build, draw, tf, ccf, rng, files
) -> list[tuple]:
    """One draw's segment file (whole genome); truth rows for its amplifications."""
    sample = plan.sample_id(draw)
    focal = []
    amp_cn = {}
    for amp in structural.amplifications:
        tumour_cn = amplification_tumour_cn(amp, ccf.get(amp.carrier, 0.0))
        amp_cn[amp.gene] = tumour_cn
        if ccf.get(amp.carrier, 0.0) > 0:  # no focal segment while the clone is absent
            focal.append(FocalGain(amp.chrom, amp.amplicon_start, amp.amplicon_end, tumour_cn,
                                   amp.gene))  # fmt: skip
    arm_cn = {(gain.chrom, gain.arm): gain.tumour_cn for gain in structural.arm_gains}
    segments = layout_segments(
        build, tf, rng, arm_cn=arm_cn, focal=focal, genes_in=_panel_genes_in(panel)
    )
    if structural.cn_format == "cnvkit":
        rel = f"cnv/{sample}.cns"
        text = render_cnvkit_cns(segments, plan.chr_style)
    else:
        rel = f"cnv/{sample}.seg"
        text = render_seg(segments, sample, plan.chr_style)
    (root / rel).write_text(text, encoding="ascii")
    files[draw].cnv = rel
    rows = []
    where = (plan.patient, sample, plan.day_date(plan.draw_days[draw]).isoformat())
    for amp in structural.amplifications:
        covering = next(
            s for s in segments if s.chrom == amp.chrom and s.start <= amp.gene_start <= s.end
        )
        clone_ccf = ccf.get(amp.carrier, 0.0)
        rows.append(
            (
                *where, "resistance", amp.gene, "amplification", amp.chrom, amp.gene_start, "", "",
                f"{tf * clone_ccf / 2:.6f}", "", "", 1, "", "amplification",
                clone_label(amp.carrier), f"{amp_cn[amp.gene]:.4f}", f"{tf:.6f}",
                f"{covering.log2:.4f}", covering.n_bins, "", "", "",
            )
        )  # fmt: skip
    return rows


def _write_structural_variants(
    root, plan, structural: StructuralPlan, build, draw, tf, ccf, rng, files
) -> list[tuple]:
    """One draw's SV VCF (Manta or Delly); truth rows for its fusions and non-panel SVs."""
    sample = plan.sample_id(draw)
    day = plan.draw_days[draw]
    where = (plan.patient, sample, plan.day_date(day).isoformat())
    calls, rows = [], []
    events = [(fusion, "resistance") for fusion in structural.fusions]
    events += [(event, "truncal") for event in structural.non_panel]
    for number, (event, category) in enumerate(events, start=1):
        if category == "resistance":
            clone_ccf = ccf.get(event.carrier, 0.0)
            vaf = tf * clone_ccf / 2
            first, second = event.five, event.three
            kind = "BND" if first.chrom != second.chrom else "INV"
        else:
            vaf = tf / 2
            first, second = event.a, event.b
            kind = event.kind
        counts = sample_breakend(
            rng, sample_depth, plan.mean_depths[draw], plan.normal_mean_depth, vaf
        )
        # a is the breakend first in contig order (Delly writes POS < END on one contig)
        a, b = sorted((first, second), key=lambda end: (CONTIG_RANK[end.chrom], end.pos))
        written = counts.alt_reads >= MIN_RECORD_ALT
        call = SvCall(
            number, kind, a.chrom, a.pos, a.strand, b.chrom, b.pos, b.strand,
            counts.split_reads, counts.spanning_reads, counts.ref_split, counts.ref_pairs,
            counts.normal_ref_split, counts.normal_ref_pairs,
        )  # fmt: skip
        if written:
            calls.append(call)
        filter_text = ("PASS" if not call.weak else _weak_sv_filter(structural)) if written else ""
        if category == "resistance":
            gene, protein, anchor = event.kinase, event.label, event.three
            clone = clone_label(event.carrier)
        else:
            gene = ";".join(dict.fromkeys((event.gene_a, event.gene_b)))
            protein, anchor, clone = "", a, "truncal"  # the breakend first in contig order
        rows.append(
            (
                *where, category, gene, protein, anchor.chrom, anchor.pos, "", "", f"{vaf:.6f}",
                counts.depth, counts.alt_reads, int(written), filter_text,
                "fusion" if category == "resistance" else "sv", clone, "", f"{tf:.6f}", "", "",
                counts.split_reads, counts.spanning_reads, counts.ref_reads,
            )
        )  # fmt: skip
    writer = SV_WRITERS[structural.sv_caller]
    normal = f"{plan.patient}_WBC"
    ctx = SvContext(build, plan.chr_style, sample, normal, plan.day_date(day))
    rel = f"sv/{sample}.{structural.sv_caller}.vcf"
    (root / rel).write_text(render_sv_vcf(writer, ctx, calls), encoding="ascii")
    files[draw].sv = rel
    # Delly names its columns by sample, so the sheet says which one is the plasma
    files[draw].sv_sample = sample if structural.sv_caller == "delly" else ""
    return rows


def _weak_sv_filter(structural: StructuralPlan) -> str:
    return "MinSomaticScore" if structural.sv_caller == "manta" else "LowQual"


def _write_bams(root, plan, draws, states, build, seed, rng, files, panel) -> dict:
    """Indexed BAMs of every draw at the patient's resistance sites, and their reference.

    The reference holds the panel's REF bases at every hotspot inside the windows (not only the
    patient's sites), so that tools checking a FASTA against the panel (the background step)
    accept it."""
    sites = [clone.site for clone in plan.clones]
    windows = [(site.chrom, site.pos - BAM_WINDOW, site.pos + BAM_WINDOW) for site in sites]
    hotspot_bases = sorted(
        {
            (chrom, pos + offset, base)
            for (chrom, pos, ref, _) in panel.hotspots
            for offset, base in enumerate(ref)
            if any(c == chrom and s <= pos <= e for c, s, e in windows)
        }
    )
    (root / "bam").mkdir()
    (root / "reference").mkdir()
    reference_rel = f"reference/{build}.bam_sites.fa.gz"
    write_reference(
        root / reference_rel,
        windows,
        build=build,
        seed=seed,
        known_bases=sorted(
            {(site.chrom, site.pos, site.ref) for site in sites} | set(hotspot_bases)
        ),
        chr_style=plan.chr_style,
    )
    depths = []
    for draw, observations in enumerate(draws):
        vaf = {obs.site: obs.true_vaf for obs in observations}
        fragments = int(np.clip(round(plan.mean_depths[draw] * BAM_DEPTH_FACTOR), *BAM_DEPTH_RANGE))
        depths.append(fragments)
        rel = f"bam/{plan.sample_id(draw)}.bam"
        write_plasma_bam(
            root / rel,
            root / reference_rel,
            [site_params(site) | {"vaf": vaf[site]} for site in sites],
            sample=plan.sample_id(draw),
            seed=int(rng.integers(2**31)),
            depth=fragments,
            error_rate=BAM_ERROR_RATE,
            build=build,
        )
        files[draw].bam = rel
    return {
        "path": reference_rel,
        "patient": plan.patient,
        "regions": [[s.chrom, s.pos - BAM_WINDOW, s.pos + BAM_WINDOW] for s in sites],
        "contig_style": "chr" if plan.chr_style else "nochr",
        "fragments_per_site": depths,
    }


def _structural_params(structural: StructuralPlan, has_bam: bool, plan) -> dict:
    low_tf = structural.low_tf_target
    return {
        "copy_number_format": structural.cn_format,
        "sv_caller": structural.sv_caller,
        "tumor_fraction_in_sheet": structural.sheet_tumor_fraction,
        "amplifications": [
            {
                "gene": amp.gene, "clone": clone_label(amp.carrier),
                "clone_copy_number": rounded(amp.clone_cn),
                "amplicon": [amp.chrom, amp.amplicon_start, amp.amplicon_end],
            }
            for amp in structural.amplifications
        ],
        "diluted_amplification_target": None if low_tf is None else {
            "timepoint": f"T{low_tf['draw']}",
            "tumor_fraction": rounded(low_tf["tumour_fraction"]),
            "clone_ccf": rounded(low_tf["clone_ccf"]),
            "tumor_cn": rounded(low_tf["tumour_cn"]),
            "plasma_cn": low_tf["plasma_cn"],
        },
        "arm_gains": [
            {"chrom": g.chrom, "arm": g.arm, "tumor_cn": rounded(g.tumour_cn),
             "covers": list(g.covers)}
            for g in structural.arm_gains
        ],
        "fusions": [
            {
                "label": f.label, "clone": clone_label(f.carrier),
                "five_prime": [f.five.chrom, f.five.pos, f.five.strand],
                "three_prime": [f.three.chrom, f.three.pos, f.three.strand],
            }
            for f in structural.fusions
        ],
        "non_panel_svs": [
            {"kind": e.kind, "genes": [e.gene_a, e.gene_b], "a": [e.a.chrom, e.a.pos, e.a.strand],
             "b": [e.b.chrom, e.b.pos, e.b.strand]}
            for e in structural.non_panel
        ],
        "bam": has_bam,
    }  # fmt: skip


def _write_normal_vcf(
    path: Path, plan: PatientPlan, normal_counts: dict[Site, tuple[int, int]], build: str,
    rng: np.random.Generator,
) -> None:  # fmt: skip
    """The white-blood-cell calls: every site with alt reads in the normal (germline and CH)."""
    writer = WRITERS["mutect2_tumor_only"]
    records = []
    for site in plan.all_sites():
        depth, alt = normal_counts[site]
        if alt == 0:
            continue
        # a CH/germline call set: the lab keeps every allele the blood carries, so no germline label
        filters = ("weak_evidence",) if is_weak(depth, alt) else ()
        records.append(
            CallRecord(site.chrom, site.pos, site.ref, site.alt, depth, alt, filters, site.category)
        )
    ctx = VcfContext(build, plan.chr_style, f"{plan.patient}_WBC", "", plan.baseline_date)
    write_vcf(path, render_vcf(writer, ctx, records, rng))


def _treatment_rows(plan: PatientPlan) -> list[tuple]:
    start = plan.day_date(plan.therapy_start_day).isoformat()
    end = "" if plan.withdrawal_day is None else plan.day_date(plan.withdrawal_day).isoformat()
    rows = [
        (plan.patient, plan.anti_egfr_agent, start, end, 1),
        (plan.patient, plan.backbone, start, end, 1),
    ]
    if plan.second_line_start_day is not None:
        second = plan.day_date(plan.second_line_start_day).isoformat()
        other_backbone = next(name for name in BACKBONES if name != plan.backbone)
        rows += [
            (plan.patient, other_backbone, second, "", 2),
            (plan.patient, SECOND_LINE_BIOLOGIC, second, "", 2),
        ]
    return rows


def _assay_target_name(site: Site, panel) -> str:
    """The name a lab gives the allele's ddPCR assay: 'KRAS G12D', else the coding change when
    the protein change is more than one panel allele."""
    name = f"{site.gene} {site.protein.removeprefix('p.')}"
    try:
        if resolve_target(name, panel).key == f"{site.chrom}:{site.pos}:{site.ref}>{site.alt}":
            return name
    except UnknownTarget:
        pass
    spot = next(
        s for s in panel.hotspots.values()
        if (s.chrom, s.pos, s.ref, s.alt) == (site.chrom, site.pos, site.ref, site.alt)
    )  # fmt: skip
    return f"{site.gene} {spot.hgvsc.rsplit(':', 1)[-1]}"


def _write_assay_draw(root, plan, draw, tf, ccf, panel, rng) -> tuple[tuple, list[tuple]]:
    """One ddPCR draw: the plate's QuantaSoft export of the patient's resistance alleles; its
    sample-sheet row and truth rows."""
    sample = plan.sample_id(draw)
    collected = plan.day_date(plan.draw_days[draw]).isoformat()
    name_in_file = f"{plan.patient} {collected}"  # the lab's name: the sheet's assay_sample
    sites = [clone.site for clone in plan.clones]
    targets = [
        (_assay_target_name(site, panel), f"{site.gene} WT", tf * ccf[site] / 2) for site in sites
    ]
    wells = simulate_plate(rng, name_in_file, targets)
    rel = f"assay/{sample}.ddpcr.csv"
    (root / rel).write_text(render_quantasoft(wells), encoding="ascii")
    where = (plan.patient, sample, collected)
    sheet_row = (*where, "", "", "", "", f"T{draw}", "", "", "", "", rel, name_in_file)
    site_of = {name: site for (name, _, _), site in zip(targets, sites, strict=True)}
    rows = []
    for well in wells:
        site = site_of[well.target]
        rows.append(
            (
                *where, f"T{draw}", "ddpcr", well.well, well.role, well.target, site.gene,
                site.protein, site.chrom, site.pos, site.ref, site.alt, clone_label(site),
                f"{well.true_fraction:.6f}", well.input_copies, well.mutant_copies,
                well.wildtype_copies, well.false_positive_copies, well.accepted,
                well.mutant_positives, well.wildtype_positives, expected_status(well),
            )
        )  # fmt: skip
    return sheet_row, rows
