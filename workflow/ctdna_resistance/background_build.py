"""Build a per-site background from normal plasmas (issue 20): count, fit, write one table.

Counting (per normal, at every covered position of the panel's regions and any extra BED):
samtools mpileup itself (pysam's bundled samtools) with the re-genotyper's read filters
(``GenotypeSettings``: duplicate, secondary, supplementary, QC-fail and unmapped reads skipped,
MAPQ and base-quality thresholds, overlapping mates counted once by htslib's overlap rule, orphan
pairs kept, no BAQ: ``-B -A -q Q -Q B --ff ...``), per base and strand (tests compare the counts
with the samtools command). Depth = reads with a base there (A/C/G/T/N); deletions and skips are
not counted. The normals are opened with pysam first, to refuse a missing index or another build.

Fitting, for each position and alternative base (SNVs; MNVs and indels are left to the scalar
model):

1. Context rates: the pooled alt/depth of each trinucleotide context x substitution class
   (``background.context_class``), first over every other site of the class (leave-one-out, so
   that an artefact does not raise its own yardstick), to find the carriers below.
2. Carriers: a normal carries the allele when it has >= ``min_alt_reads`` alt reads and its one-
   sided binomial p-value against the context rate is < ``carrier_alpha``. Sites with >=
   ``min_carriers`` carriers are flagged: ``recurrent_artefact`` when at least
   ``recurrent_fraction`` of the covered normals carry it and its pooled alt reads are
   significantly (``carrier_alpha``) above ``artefact_min_fold`` x its context rate;
   ``chip_like`` when fewer normals carry it, at a VAF of at least ``chip_min_vaf`` among the
   carriers (a minority of donors at a real VAF, as clonal haematopoiesis looks). A site merely
   noisier than its context is not flagged: its own fit already raises its threshold.
3. Context rates again, without the flagged sites (outlier suppression, as INVAR2 does), and the
   spread of the site rates around them: the between-site intra-class correlation rho_c by the
   method of moments, which gives an empirical-Bayes beta prior of strength m_c = (1 - rho_c) /
   rho_c pseudo-reads.
4. Each site's mean error = (its alt reads + m_c x context rate) / (its depth + m_c) (a flagged
   site uses its own reads alone: it is the outlier the prior does not describe); over-dispersion
   between normals by the method of moments across the normals where the site has >= 5 alt reads
   in all, else its class's (the moments pooled over the class's clean sites). The test uses the
   predictive over-dispersion (``stats.predictive_overdispersion``): rho plus the uncertainty of
   a mean learned from that many reads (the site's own plus its prior's), so that a site seen in
   few normal reads is not trusted as if its error were known. Model ``site`` when the normals
   have >= ``min_site_depth`` reads there in all, else ``context`` (the class's rate and rho).
"""

from __future__ import annotations

import os
import re
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.special import bdtrc

from ctdna_resistance.background import (
    COLUMNS,
    FORMAT_NAME,
    FORMAT_VERSION,
    TABLE_NAME,
    context_class,
)
from ctdna_resistance.errors import InputError
from ctdna_resistance.genotype import GenotypeSettings, check_build, open_alignments
from ctdna_resistance.panel import file_sha256
from ctdna_resistance.records import normalise_contig
from ctdna_resistance.stats import (
    clip_overdispersion,
    moment_overdispersion,
    moment_terms,
    predictive_overdispersion,
)

DEFAULT_FIT = {
    "min_site_depth": 5000,
    "min_alt_reads": 3,
    "carrier_alpha": 0.001,
    "min_carriers": 2,
    "recurrent_fraction": 0.5,
    "artefact_min_fold": 5.0,
    "chip_min_vaf": 0.005,
}
_CHUNK = 200_000  # positions counted at once per normal (memory: 10 int32 per position)
_READ_START = re.compile(r"\^.")
_INDEL = re.compile(r"[+-](\d+)")
_BASES = "ACGTN"
_CONTIG_ORDER = {name: rank for rank, name in enumerate([*map(str, range(1, 23)), "X", "Y", "MT"])}
_MIN_ALT_FOR_RHO = 5
_BOOTSTRAPS = 200
_BOOTSTRAP_SEED = 20_261_204


@dataclass
class Counts:
    """Every covered position: reference base, context, and per-normal base counts by strand."""

    chrom: list[str]
    pos: np.ndarray  # (P,)
    ref: list[str]
    context: list[str]
    bases: np.ndarray  # (P, normals, 2 strands, 5 bases ACGTN), int32


def read_bed(path) -> list[tuple[str, int, int]]:
    """BED intervals as 1-based inclusive (chrom, start, end) in panel contig style."""
    regions = []
    with open(path) as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip() or line.startswith(("#", "track", "browser")):
                continue
            fields = line.rstrip("\n").split("\t")
            try:
                start, end = int(fields[1]), int(fields[2])
            except (IndexError, ValueError):
                raise InputError(
                    path, "not a BED line (chrom, start, end)", "give a tab-separated BED file",
                    record=number,
                ) from None  # fmt: skip
            if end <= start or start < 0:
                raise InputError(path, f"end {end} <= start {start}", "fix the interval",
                                 record=number)  # fmt: skip
            regions.append((normalise_contig(fields[0]), start + 1, end))
    return regions


def merge_regions(regions) -> list[tuple[str, int, int]]:
    """Overlapping or touching intervals merged, in karyotype order."""
    merged: list[list] = []
    for chrom, start, end in sorted(regions, key=lambda r: (_CONTIG_ORDER.get(r[0], 99), r)):
        if merged and merged[-1][0] == chrom and start <= merged[-1][2] + 1:
            merged[-1][2] = max(merged[-1][2], end)
        else:
            merged.append([chrom, start, end])
    return [tuple(r) for r in merged]


def _open_reference(path):
    import pysam

    if not os.path.isfile(str(path)):
        raise InputError(
            path, "reference FASTA not found", "give the FASTA the normals were aligned to"
        )
    try:
        return pysam.FastaFile(str(path))
    except (OSError, ValueError) as error:
        raise InputError(
            path,
            f"cannot open the reference FASTA ({error})",
            "give an indexed FASTA (samtools faidx)",
        ) from None


def check_reference(path, fasta, panel, regions) -> dict[str, str]:
    """Panel-style contig -> FASTA contig; refuses a FASTA that lacks a region's contig or whose
    bases at the panel's hotspots are not the panel's REF (another build or assembly)."""
    contigs = {normalise_contig(name): name for name in fasta.references}
    for chrom, _, _ in regions:
        if chrom not in contigs:
            raise InputError(
                path,
                f"no contig {chrom} (or chr{chrom}) in the reference FASTA, which the panel's "
                "regions need",
                f"give the {panel.build} FASTA the normals were aligned to",
            )
    checked = 0
    for (chrom, pos, ref, _), hotspot in sorted(panel.hotspots.items()):
        contig = contigs.get(chrom)
        if contig is None or pos - 1 + len(ref) > fasta.get_reference_length(contig):
            continue
        have = fasta.fetch(contig, pos - 1, pos - 1 + len(ref)).upper()
        if set(have) == {"N"}:
            continue  # a partial reference (N outside its windows) cannot say
        checked += 1
        if have != ref:
            raise InputError(
                path,
                f"the reference has {have} at {chrom}:{pos} where the panel's {hotspot.gene} "
                f"{hotspot.protein} needs {ref} ({panel.build}): the FASTA's contigs do not "
                "match the panel's build",
                f"give the {panel.build} FASTA the normals were aligned to",
            )
    return contigs


def _mpileup_arguments(settings: GenotypeSettings) -> list[str]:
    """samtools mpileup options for the re-genotyper's read filters (GenotypeSettings)."""
    flags = [
        name
        for name, skip in (
            ("UNMAP", True), ("SECONDARY", settings.skip_secondary),
            ("QCFAIL", settings.skip_qcfail), ("DUP", settings.skip_duplicates),
            ("SUPPLEMENTARY", settings.skip_supplementary),
        )
        if skip
    ]  # fmt: skip
    arguments = ["-B", "-A", "-d", "0", "-q", str(settings.min_mapping_quality)]
    arguments += ["-Q", str(settings.min_base_quality), "--ff", ",".join(flags)]
    return arguments + ([] if settings.count_overlapping_mates_once else ["-x"])


def _strip_markers(bases: str) -> str:
    """mpileup's read bases without read starts (^ and its MAPQ), ends ($) and indel markers."""
    bases = _READ_START.sub("", bases).replace("$", "")
    if "+" not in bases and "-" not in bases:
        return bases
    kept, index = [], 0
    for marker in _INDEL.finditer(bases):
        if marker.start() < index:
            continue
        kept.append(bases[index : marker.start()])
        index = marker.end() + int(marker.group(1))
    kept.append(bases[index:])
    return "".join(kept)


def count_normal(path, contig: str, start: int, end: int, settings: GenotypeSettings) -> dict:
    """Base counts per covered position (1-based) of one BAM over a 1-based inclusive span:
    {pos: (2 strands, ACGTN) int32 array}. samtools mpileup itself (pysam's bundled samtools)
    with the re-genotyper's filters: upper case = forward strand, lower case = reverse. Unlike
    pysam's pileup "samtools" stepper it needs no FASTA, which htslib would load whole for
    every region."""
    import pysam

    try:
        text = pysam.mpileup(
            *_mpileup_arguments(settings), "-r", f"{contig}:{start}-{end}", str(path)
        )
    except pysam.SamtoolsError as error:
        message = str(error).strip().splitlines()[-1] if str(error).strip() else "failed"
        raise InputError(
            path, f"samtools mpileup cannot read {contig}:{start}-{end} ({message})",
            "the BAM is truncated or corrupt: re-copy or regenerate it",
        ) from None  # fmt: skip
    counts = {}
    for line in text.splitlines():
        fields = line.split("\t")
        if len(fields) < 5 or fields[3] == "0":
            continue
        bases = _strip_markers(fields[4])
        row = np.zeros((2, len(_BASES)), dtype=np.int32)
        for index, base in enumerate(_BASES):
            row[0, index] = bases.count(base)
            row[1, index] = bases.count(base.lower())
        counts[int(fields[1])] = row
    return counts


def count_normals(normals, fasta, regions, settings, build) -> Counts:
    """Counts at every position of ``regions`` that at least one normal covers (ref base ACGT)."""
    contigs = {normalise_contig(name): name for name in fasta.references}
    bams = []  # (path, panel contig -> the BAM's name); each BAM opened only to check it
    for _, path in normals:
        bam = open_alignments(str(path), fasta.filename.decode())
        try:
            check_build(str(path), bam, build)
            bams.append((path, {normalise_contig(n): n for n in bam.references}))
        finally:
            bam.close()
    chrom_list, pos_list, ref_list, context_list, base_chunks = [], [], [], [], []
    empty = np.zeros((2, len(_BASES)), dtype=np.int32)
    for chrom, region_start, region_end in regions:
        for start in range(region_start, region_end + 1, _CHUNK):
            end = min(region_end, start + _CHUNK - 1)
            per_normal = []
            for path, names in bams:
                if chrom not in names:
                    raise InputError(
                        path, f"no contig {chrom} (or chr{chrom}) in the BAM header",
                        "give BAMs aligned to the same reference as the patients",
                    )  # fmt: skip
                per_normal.append(count_normal(path, names[chrom], start, end, settings))
            positions = sorted({pos for found in per_normal for pos in found})
            if not positions:
                continue
            fetch_end = min(end + 1, fasta.get_reference_length(contigs[chrom]))
            window = fasta.fetch(contigs[chrom], max(0, start - 2), fetch_end).upper()
            offset = start - 1 - max(0, start - 2)
            for pos in positions:
                at = offset + pos - start
                ref = window[at] if at < len(window) else "N"
                if ref not in "ACGT":
                    continue
                context = window[at - 1 : at + 2] if at >= 1 else ""
                chrom_list.append(chrom)
                pos_list.append(pos)
                ref_list.append(ref)
                context_list.append(context if len(context) == 3 else "")
                # (normals, 2 strands, ACGTN): zeros where a normal has no read there
                base_chunks.append(np.stack([found.get(pos, empty) for found in per_normal]))
    shape = (0, len(normals), 2, len(_BASES))
    return Counts(
        chrom_list,
        np.asarray(pos_list, dtype=np.int64),
        ref_list,
        context_list,
        np.stack(base_chunks) if base_chunks else np.zeros(shape, dtype=np.int32),
    )


@dataclass
class Fit:
    """The fitted table: rows (dicts by COLUMNS) and the context classes' rates."""

    rows: list[dict]
    contexts: dict  # class -> dict(alt_reads, depth, mean_error, overdispersion, prior_depth)


def fit_background(counts: Counts, settings: dict | None = None) -> Fit:
    """Per-site beta-binomial error and flags from the counts (module docstring, steps 1-4)."""
    fit = {**DEFAULT_FIT, **(settings or {})}
    depth = counts.bases.sum(axis=(2, 3))  # (P, normals)
    alleles = []  # (position index, alt, class, per-normal alt (normals,), strand alt (2,))
    for index, ref in enumerate(counts.ref):
        for alt in "ACGT":
            if alt == ref:
                continue
            column = _BASES.index(alt)
            per_normal = counts.bases[index, :, :, column].sum(axis=1)
            strands = counts.bases[index, :, :, column].sum(axis=0)
            label = context_class(counts.context[index], alt) if counts.context[index] else None
            alleles.append((index, alt, label, per_normal, strands))

    def totals_of(keep) -> dict[str, list[int]]:
        totals: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        for (index, _, label, per_normal, _), use in zip(alleles, keep, strict=True):
            if label and use:
                totals[label][0] += int(per_normal.sum())
                totals[label][1] += int(depth[index].sum())
        return totals

    def pooled(keep) -> dict:
        # half a read of prior: no class has a zero rate (it would make every alt read significant)
        return {label: (a + 0.5) / (n + 1.0) for label, (a, n) in totals_of(keep).items()}

    overall = totals_of([True] * len(alleles))
    global_rate = _global_rate(alleles, depth)
    flags, carriers = [], []
    for index, _, label, per_normal, _ in alleles:
        reads = depth[index]
        # the context's rate without this site: an artefact must not raise its own yardstick
        if label in overall:
            alt_rest = overall[label][0] - int(per_normal.sum())
            reads_rest = overall[label][1] - int(reads.sum())
            rate = (alt_rest + 0.5) / (reads_rest + 1.0) if reads_rest > 0 else global_rate
        else:
            rate = global_rate
        p_values = bdtrc(np.maximum(per_normal - 1, 0), reads, rate)
        carrying = (per_normal >= fit["min_alt_reads"]) & (p_values < fit["carrier_alpha"])
        count = int(carrying.sum())
        covered = int((reads > 0).sum())
        flag = ""
        if count >= fit["min_carriers"]:
            carrier_vaf = float(per_normal[carrying].sum()) / max(float(reads[carrying].sum()), 1.0)
            if count >= fit["recurrent_fraction"] * covered:
                # most donors, and significantly above artefact_min_fold x its context: an
                # artefact of the assay at this base, not a site merely noisier than its context
                above = bdtrc(
                    max(int(per_normal.sum()) - 1, 0),
                    int(reads.sum()),
                    min(fit["artefact_min_fold"] * rate, 0.5),
                )
                if above < fit["carrier_alpha"]:
                    flag = "recurrent_artefact"
            elif carrier_vaf >= fit["chip_min_vaf"]:
                # a few donors at a real VAF, the others clean: clonal haematopoiesis looks so
                flag = "chip_like"
        flags.append(flag)
        carriers.append(count)
    clean = [not flag for flag in flags]
    rates = pooled(clean)
    classes = _class_spread(alleles, depth, clean, rates)
    # over-dispersion between normals: pooled over the clean sites of each class (a site's own
    # few alt reads cannot tell rho ~ 1e-4 from 0), a site's own when it has the reads for it
    pooled_terms: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
    estimates = []
    for (index, _, label, per_normal, _), flag in zip(alleles, flags, strict=True):
        excess, denominator = moment_terms(per_normal, depth[index])
        if label and not flag:
            pooled_terms[label][0] += excess
            pooled_terms[label][1] += denominator
        enough = int(per_normal.sum()) >= _MIN_ALT_FOR_RHO and int((depth[index] > 0).sum()) >= 3
        estimates.append(_upper_overdispersion(per_normal, depth[index], index) if enough else None)
    class_rho = {label: clip_overdispersion(*terms) for label, terms in pooled_terms.items()}
    contexts = {}
    for label in sorted(rates):
        alt_reads, reads, prior = classes[label]
        contexts[label] = {
            "alt_reads": alt_reads,
            "depth": reads,
            "mean_error": rates[label],
            "overdispersion": class_rho.get(label, 0.0),
            "prior_depth": prior,
        }
    rows = []
    for (index, alt, label, per_normal, strands), flag, count, rho in zip(
        alleles, flags, carriers, estimates, strict=True
    ):
        reads = depth[index]
        total_alt, total_depth = int(per_normal.sum()), int(reads.sum())
        rate = rates.get(label, global_rate)
        prior = classes[label][2] if label in classes else 0.0
        # a flagged site, or one whose reads are significantly above its class: an outlier that
        # the class's prior does not describe, so its own reads alone give its mean
        outlier = flag or (
            total_depth > 0
            and bdtrc(max(total_alt - 1, 0), total_depth, rate) < fit["carrier_alpha"]
        )
        if outlier:
            prior = 0.0
            mean = (total_alt + 0.5) / (total_depth + 1.0)
        else:
            mean = (
                (total_alt + prior * rate) / (total_depth + prior) if total_depth + prior else rate
            )
        model = "site" if total_depth >= fit["min_site_depth"] else "context"
        learned_from = total_depth + prior
        if model == "context" and not outlier:
            mean = rate
            learned_from = classes[label][1] if label in classes else total_depth
        rho_used = rho if rho is not None else class_rho.get(label, 0.0)
        strand_depth = counts.bases[index].sum(axis=(0, 2))
        rows.append(
            {
                "chrom": counts.chrom[index],
                "pos": int(counts.pos[index]),
                "ref": counts.ref[index],
                "alt": alt,
                "context": label or "",
                "n_normals": int((reads > 0).sum()),
                "depth": total_depth,
                "alt_reads": total_alt,
                "depth_fwd": int(strand_depth[0]),
                "depth_rev": int(strand_depth[1]),
                "alt_fwd": int(strands[0]),
                "alt_rev": int(strands[1]),
                "n_carriers": count,
                "normal_alt_reads": ",".join(str(int(v)) for v in per_normal),
                "normal_depth": ",".join(str(int(v)) for v in reads),
                "mean_error": mean,
                "overdispersion": rho_used,
                "model_overdispersion": predictive_overdispersion(rho_used, learned_from),
                "model": model,
                "flag": flag,
            }
        )
    return Fit(rows, contexts)


def _upper_overdispersion(alt: np.ndarray, reads: np.ndarray, index: int) -> float:
    """A site's over-dispersion between normals, taken at the 90th percentile of 200 bootstrap
    resamples of the normals: a moment estimate from a handful of normals is noisy, and one
    that is too low lets the site's own error through as calls. Seeded by the position's index,
    so the same counts give the same table."""
    rng = np.random.default_rng(_BOOTSTRAP_SEED + index)
    picks = rng.integers(0, len(alt), size=(_BOOTSTRAPS, len(alt)))
    values = [moment_overdispersion(alt[pick], reads[pick]) for pick in picks]
    return max(moment_overdispersion(alt, reads), float(np.quantile(values, 0.9)))


def _global_rate(alleles, depth) -> float:
    alt = sum(int(a[3].sum()) for a in alleles)
    reads = sum(int(depth[a[0]].sum()) for a in alleles)
    return (alt + 0.5) / (reads + 1.0)


def _class_spread(alleles, depth, clean, rates) -> dict[str, tuple[int, int, float]]:
    """Per class: (alt reads, depth, prior strength m) from the spread of its clean sites' rates."""
    by_class: dict[str, tuple[list[int], list[int]]] = defaultdict(lambda: ([], []))
    for (index, _, label, per_normal, _), use in zip(alleles, clean, strict=True):
        if label and use and depth[index].sum() > 0:
            by_class[label][0].append(int(per_normal.sum()))
            by_class[label][1].append(int(depth[index].sum()))
    spread = {}
    for label, (alt, reads) in by_class.items():
        rho = moment_overdispersion(np.asarray(alt), np.asarray(reads))
        # rho = 0: the sites agree within sampling noise, so the class rate is the site's rate;
        # capped so that a site's own reads always count for something
        prior = 1e7 if rho <= 0 else min(1e7, (1 - rho) / rho)
        spread[label] = (sum(alt), sum(reads), prior)
    for label in rates:
        spread.setdefault(label, (0, 0, 1e7))
    return spread


def _format(value) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def write_table(out_dir, fit: Fit, header: list[str]) -> Path:
    """DIR/background.tsv.gz (bgzip) + .tbi, deterministic."""
    import pysam

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    plain = out_dir / TABLE_NAME.removesuffix(".gz")
    rows = sorted(
        fit.rows, key=lambda r: (_CONTIG_ORDER.get(r["chrom"], 99), r["chrom"], r["pos"], r["alt"])
    )
    with open(plain, "w") as handle:
        for line in header:
            handle.write(line + "\n")
        for label, values in sorted(fit.contexts.items()):
            fields = ";".join(
                f"{key}:{_format(values[key])}"
                for key in ("alt_reads", "depth", "mean_error", "overdispersion", "prior_depth")
            )
            handle.write(f"##context=class:{label};{fields}\n")
        handle.write("#" + "\t".join(COLUMNS) + "\n")
        for row in rows:
            handle.write("\t".join(_format(row[c]) for c in COLUMNS) + "\n")
    pysam.tabix_index(
        str(plain),
        seq_col=0,
        start_col=1,
        end_col=1,
        meta_char="#",
        force=True,
        keep_original=False,
    )
    return out_dir / TABLE_NAME


_DESCRIPTIONS = [
    "chrom/pos/ref/alt: the SNV (1-based; panel contig style)",
    "context: trinucleotide context x substitution class, pyrimidine-centred (T[C>T]G)",
    "n_normals: normals with reads there; depth/alt_reads: summed over the normals",
    "depth_fwd/depth_rev/alt_fwd/alt_rev: the same by read strand",
    "n_carriers: normals whose alt reads are significant against the context rate",
    "normal_alt_reads/normal_depth: per normal, in ##normal order",
    "mean_error/overdispersion: the fitted beta-binomial (mean, intra-class correlation rho)",
    "model_overdispersion: what the test uses: rho plus the uncertainty of the mean",
    "model: site (own fit) or context (normals too shallow: the class's rate)",
    "flag: recurrent_artefact, chip_like or empty",
]


def build_background(
    normals_sheet,
    reference,
    out_dir,
    panel,
    *,
    extra_bed=None,
    genotype_settings: GenotypeSettings | None = None,
    fit_settings: dict | None = None,
) -> Path:
    """Count the normals of ``normals_sheet`` over the panel's regions (+ BED), fit, write."""
    from ctdna_resistance.samplesheet import read_normals_sheet

    normals = read_normals_sheet(normals_sheet)
    settings = genotype_settings or GenotypeSettings()
    fit_settings = {**DEFAULT_FIT, **(fit_settings or {})}
    regions = list(panel.small_variant_regions())
    if extra_bed:
        regions += read_bed(extra_bed)
    regions = merge_regions(regions)
    fasta = _open_reference(reference)
    try:
        check_reference(reference, fasta, panel, regions)
        counts = count_normals(normals, fasta, regions, settings, panel.build)
    finally:
        fasta.close()
    fit = fit_background(counts, fit_settings)
    header = [
        f"##{FORMAT_NAME}={FORMAT_VERSION}",
        f"##genome_build={panel.build}",
        f"##panel=name:{panel.name};version:{panel.version};sha256:{panel.sha256}",
        "##regions=" + ",".join(f"{c}:{s}-{e}" for c, s, e in regions),
        f"##reference=file:{Path(str(reference)).name}",
        *(
            f"##normal=sample:{name};file:{Path(path).name};sha256:{file_sha256(path)}"
            for name, path in normals
        ),
        "##read_filters="
        + ";".join(
            f"{key}:{getattr(settings, key)}"
            for key in (
                "min_base_quality",
                "min_mapping_quality",
                "skip_duplicates",
                "skip_secondary",
                "skip_supplementary",
                "skip_qcfail",
                "count_overlapping_mates_once",
            )
        ),
        "##fit=" + ";".join(f"{key}:{fit_settings[key]}" for key in sorted(fit_settings)),
        *(f"##column={text}" for text in _DESCRIPTIONS),
    ]
    return write_table(out_dir, fit, header)
