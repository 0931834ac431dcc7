"""Normal plasmas (healthy-donor cfDNA) with a known per-site error, for the background model.

What is written (``write_normal_plasmas``), next to the cohort:

* ``normals/normals.tsv``: sample, bam (relative to that folder); one indexed, coordinate-sorted
  BAM per normal (``HD01.bam`` ...) whose @RG SM is the normal's sample;
* ``normals/truth_sites.tsv``: every simulated (chrom, pos, ref, alt) with its true error model;
* ``normals/truth_contexts.tsv``: the 96 trinucleotide-context x substitution-class rates;
* the cohort's reference FASTA is re-written with the normals' windows added (random but fixed
  bases, the panel's codon and REF bases at hotspots); the bases it already held (the patients'
  BAM windows) are kept as they were, so those BAMs still match it.

Error model (all draws from numpy Generators seeded by (seed, NORMALS_STREAM, part), apart from
every patient's streams, so adding normals changes no patient file):

* each panel hotspot codon chosen (those of the recurrent artefacts, the CHIP-like site, the
  patients' resistance SNVs and a few clean codons) is padded by WINDOW_PAD bp: a *window*;
* for every window position and each of its 3 ALT bases, the true mean error is the context rate
  (pyrimidine-centred trinucleotide x substitution class: class rate x a fixed per-context
  lognormal factor, C>T at CpG much higher) x a per-site mean-one lognormal multiplier (sd 0.5);
  the over-dispersion rho is log-uniform in RHO_RANGE; each normal's own error at the allele is
  Beta(mean (1/rho - 1), (1 - mean)(1/rho - 1)) (mean ``mean``, intra-class correlation rho);
* recurrent artefacts: panel hotspot alleles that most normals carry at a mean error of 0.2-0.6%;
  CHIP-like: one panel hotspot allele where 2-3 normals carry a true variant at similar 1-4% VAFs;
* reads: fragments drawn so that one mate covers the whole window; the substitution is on the
  molecule (damage/library-like), so both mates and a flagged duplicate carry it and an overlap
  is counted once; positions outside the windows carry no error (true error 0); base qualities
  are binned as on recent Illumina instruments (37/25/11/2, ~8% below 20) and independent of the
  base, so the base-quality filter removes reads of either allele alike; duplicates, low MAPQ,
  QC-fail, secondary and supplementary copies as in ``simulate.bam``, so read filters matter.
"""

from __future__ import annotations

import array
import functools
import gzip
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pysam

from ctdna_resistance.errors import InputError
from ctdna_resistance.genome import CONTIG_LENGTHS
from ctdna_resistance.panel import load_panel
from ctdna_resistance.records import normalise_contig
from ctdna_resistance.simulate.bam import (
    _BGZF_EOF,
    _CONTIG_ORDER,
    _DUP,
    _MATE_REVERSE,
    _PAIRED,
    _PROPER,
    _QCFAIL,
    _READ1,
    _READ2,
    _REVERSE,
    _SECONDARY,
    _SUPPLEMENTARY,
    _bgzf_block,
    link_mates,
    write_reference,
)

# Far above any patient index, so (seed, NORMALS_STREAM, part) never meets a patient's stream
# (seed, patient, part); numpy pads seeds with zeros, so the stream tag must differ, not the length.
NORMALS_STREAM = 1_000_003
N_NORMALS = 6
WINDOW_PAD = 20  # bases either side of a hotspot codon
REFERENCE_FLANK = 400  # reference bases either side of a window (fragments up to 320 bp)
N_CLEAN_CODONS = 4  # hotspot codons added with no artefact, CHIP or patient variant
FRAGMENTS_PER_WINDOW = (1500, 2500)  # per normal, uniform: its depth at its windows
READ_LENGTH = 75  # short, to keep the committed BAMs small
COVER_MARGIN = 3  # the covering mate reaches this far past the window on each side
DUPLICATE_FRACTION = 0.05
# Binned base qualities as on NovaSeq (37/25/11/2): 2% Q25 and 2% Q11 scattered, and a quarter
# of the reads ending (at their 3' end) in a run of 1-30 Q2 bases, Illumina's tail marker; about
# 7% of bases fall below the re-genotyper's default of 20. Runs compress well: the BAMs are kept.
Q_HIGH, Q_MID, Q_LOW, Q_TAIL = 37, 25, 11, 2
SCATTERED_Q = (0.02, 0.02)  # fractions of Q25 and Q11 bases
TAIL_FRACTION, TAIL_LENGTH = 0.25, (1, 30)

# Mean error per substitution class (pyrimidine-centred); C>T at CpG (context xCG) apart.
CLASS_RATES = {
    "C>A": 2e-4,  # G>T on the other strand: oxidative damage (8-oxoG)
    "C>G": 3e-5,
    "C>T": 1e-4,
    "T>A": 3e-5,
    "T>C": 1e-4,
    "T>G": 5e-5,
}
CPG_CT_RATE = 5e-4  # deamination of methylated CpG
CONTEXT_SD = 0.3  # lognormal sd of the fixed per-context factor
SITE_SD = 0.5  # lognormal sd of the per-site multiplier (mean one)
RHO_RANGE = (1e-4, 1e-3)  # log-uniform over-dispersion

# Recurrent artefacts and the CHIP-like site: panel hotspot alleles (gene, protein, ALT), the
# first ones the panel has in the build; none is carried by a demo patient (seed 1).
ARTEFACT_ALLELES = (("KRAS", "p.G12V", "A"), ("PIK3CA", "p.E545K", "A"), ("NRAS", "p.Q61K", "T"))
ARTEFACT_MEAN_RANGE = (0.002, 0.006)
CHIP_ALLELES = (("NRAS", "p.G12D", "T"), ("KRAS", "p.G13D", "T"))
CHIP_VAF_RANGE = (0.015, 0.03)  # centre of the carriers' VAFs
CHIP_VAF_SPREAD = (0.85, 1.15)  # each carrier's VAF = centre x this factor

_BGZF_PAYLOAD = 0xFF00  # htslib's block payload
_COMPLEMENT = str.maketrans("ACGT", "TGCA")
_BASES = "ACGT"
SITE_COLUMNS = (
    "chrom", "pos", "ref", "alt", "context", "substitution_class", "kind", "gene", "protein",
    "true_mean_error", "true_overdispersion", "n_normals_carrying", "carriers",
)  # fmt: skip


def normal_names(n_normals: int) -> list[str]:
    """Sample names of the normals: HD01, HD02, ... (healthy donor)."""
    return [f"HD{i + 1:02d}" for i in range(n_normals)]


def substitution_class(context: str, alt: str) -> tuple[str, str]:
    """(pyrimidine-centred context, class) of REF context[1] > ``alt``, e.g. ('ACG', 'C>T')."""
    if context[1] in "AG":
        context = context.translate(_COMPLEMENT)[::-1]
        alt = alt.translate(_COMPLEMENT)
    return context, f"{context[1]}>{alt}"


def _context_classes() -> list[tuple[str, str]]:
    """The 96 (pyrimidine-centred context, class) pairs, in the conventional order."""
    pairs = []
    for ref, alts in (("C", "AGT"), ("T", "ACG")):
        for alt in alts:
            for five in _BASES:
                for three in _BASES:
                    pairs.append((f"{five}{ref}{three}", f"{ref}>{alt}"))
    return pairs


@dataclass(frozen=True, slots=True)
class SpecialAllele:
    """A recurrent artefact or the CHIP-like allele, with its carriers' true alt fractions."""

    kind: str  # recurrent_artefact | chip_like
    gene: str
    protein: str
    chrom: str
    pos: int
    ref: str
    alt: str
    mean: float  # artefact: mean error in carriers; CHIP: centre VAF
    rho: float  # artefact: over-dispersion of carriers' errors; CHIP: 0 (VAFs drawn directly)
    carriers: tuple[int, ...]  # normal indices
    fractions: tuple[float, ...]  # per carrier: its error (artefact) or VAF (CHIP)


@dataclass(frozen=True, slots=True)
class BackgroundDesign:
    """What is drawn before any window is known: context rates, artefacts and the CHIP site."""

    seed: int
    panel_path: Path
    build: str
    n_normals: int
    context_rates: dict[tuple[str, str], float]
    special: tuple[SpecialAllele, ...]

    @property
    def artefacts(self) -> tuple[SpecialAllele, ...]:
        return tuple(a for a in self.special if a.kind == "recurrent_artefact")


@functools.lru_cache(maxsize=4)
def _panel(panel_path: Path, build: str):
    return load_panel(panel_path, build)


def _stream(seed: int, part: int, *more: int) -> np.random.Generator:
    return np.random.default_rng([seed, NORMALS_STREAM, part, *more])


def _beta(rng: np.random.Generator, mean: float, rho: float, size: int) -> np.ndarray:
    """``size`` draws with mean ``mean`` and intra-class correlation ``rho``."""
    scale = 1 / rho - 1
    return rng.beta(mean * scale, (1 - mean) * scale, size=size)


def _log_uniform(rng: np.random.Generator, low: float, high: float) -> float:
    return float(np.exp(rng.uniform(np.log(low), np.log(high))))


def design_background(
    seed: int, panel_path: Path, build: str, n_normals: int = N_NORMALS
) -> BackgroundDesign:
    """Context rates, recurrent artefacts and the CHIP-like allele (independent of the patients)."""
    if not isinstance(n_normals, int) or not 0 <= n_normals <= 99:
        raise InputError(None, f"n_normals must be 0-99, got {n_normals!r}", "pass --normals 6")
    rng = _stream(seed, 0)
    rates = {}
    for context, klass in _context_classes():
        base = CPG_CT_RATE if klass == "C>T" and context[2] == "G" else CLASS_RATES[klass]
        rates[(context, klass)] = base * float(np.exp(rng.normal(-(CONTEXT_SD**2) / 2, CONTEXT_SD)))
    panel = _panel(Path(panel_path), build)
    by_name = {(h.gene, h.protein, h.alt): h for h in panel.hotspots.values()}

    def first_snvs(choices, limit):
        found = [by_name[c] for c in choices if c in by_name and len(by_name[c].ref) == 1]
        return found[:limit]

    special = []
    for spot in first_snvs(ARTEFACT_ALLELES, 3) if n_normals else ():
        mean = float(rng.uniform(*ARTEFACT_MEAN_RANGE))
        rho = _log_uniform(rng, *RHO_RANGE)
        n_carriers = max(1, n_normals - int(rng.integers(0, 2)))  # all, or all but one
        carriers = tuple(sorted(int(i) for i in rng.choice(n_normals, n_carriers, replace=False)))
        fractions = tuple(float(x) for x in _beta(rng, mean, rho, n_carriers))
        special.append(
            SpecialAllele("recurrent_artefact", spot.gene, spot.protein, spot.chrom, spot.pos,
                          spot.ref, spot.alt, mean, rho, carriers, fractions)
        )  # fmt: skip
    for spot in first_snvs(CHIP_ALLELES, 1) if n_normals else ():
        centre = float(rng.uniform(*CHIP_VAF_RANGE))
        n_carriers = min(2 + int(rng.integers(0, 2)), max(1, n_normals // 2))
        carriers = tuple(sorted(int(i) for i in rng.choice(n_normals, n_carriers, replace=False)))
        fractions = tuple(centre * float(rng.uniform(*CHIP_VAF_SPREAD)) for _ in carriers)
        special.append(
            SpecialAllele("chip_like", spot.gene, spot.protein, spot.chrom, spot.pos, spot.ref,
                          spot.alt, centre, 0.0, carriers, fractions)
        )  # fmt: skip
    return BackgroundDesign(seed, Path(panel_path), build, n_normals, rates, tuple(special))


def _merged_windows(spans) -> list[list]:
    """Spans padded by WINDOW_PAD and merged where they touch, in karyotype order."""
    windows: list[list] = []
    for chrom, start, end in sorted(spans, key=lambda c: (_CONTIG_ORDER.get(c[0], 99), c[1:])):
        start, end = start - WINDOW_PAD, end + WINDOW_PAD
        if windows and windows[-1][0] == chrom and start <= windows[-1][2] + 1:
            windows[-1][2] = max(windows[-1][2], end)
        else:
            windows.append([chrom, start, end])
    return windows


def choose_windows(
    design: BackgroundDesign, patient_sites: list[tuple[str, int]]
) -> list[tuple[str, int, int]]:
    """Merged (chrom, start, end) windows: hotspot codons (+-WINDOW_PAD) of the special alleles,
    of the patients' sites and N_CLEAN_CODONS more; a site on no panel codon gets its own."""
    panel = _panel(design.panel_path, design.build)
    codons = sorted({(c.chrom, c.start, c.end) for c in panel.codons},
                    key=lambda c: (_CONTIG_ORDER.get(c[0], 99), c[1:]))  # fmt: skip
    wanted = [(a.chrom, a.pos) for a in design.special] + list(patient_sites)
    ordered: list[tuple[str, int, int]] = []  # by priority: special alleles, patients' sites
    for chrom, pos in wanted:
        hit = [c for c in codons if c[0] == chrom and c[1] <= pos <= c[2]]
        ordered += [s for s in (hit or [(chrom, pos, pos)]) if s not in ordered]
    rest = [c for c in codons
            if not any(s[0] == c[0] and abs(s[1] - c[1]) < 200 for s in ordered)]  # fmt: skip
    rng = _stream(design.seed, 1)
    for index in sorted(rng.choice(len(rest), min(N_CLEAN_CODONS, len(rest)), replace=False)):
        ordered.append(rest[int(index)])
    # a span whose window would merge with earlier ones into more than one read can cover is
    # left out (neighbouring codons of one gene: the first, most wanted, keeps its window)
    longest = READ_LENGTH - 2 * COVER_MARGIN
    spans: list[tuple[str, int, int]] = []
    for span in ordered:
        if all(e - s + 1 <= longest for _, s, e in _merged_windows([*spans, span])):
            spans.append(span)
    windows = _merged_windows(spans)
    for chrom, start, end in windows:
        if end - start + 1 > longest:
            raise ValueError(f"window {chrom}:{start}-{end} is longer than {longest} bp")
    return [tuple(w) for w in windows]


def _window_bases(
    reference: Path, kept_regions: list[tuple[str, int, int]], windows: list[tuple[str, int, int]],
    build: str, chr_style: bool, panel_path: Path, seed: int,
) -> None:  # fmt: skip
    """Re-write ``reference`` with ``windows`` (+- REFERENCE_FLANK) added; the bases of
    ``kept_regions`` (those it holds already) are copied as they are."""
    kept: list[tuple[str, int, str]] = []
    if kept_regions:
        with pysam.FastaFile(str(reference)) as fasta:
            style = {normalise_contig(name): name for name in fasta.references}
            for chrom, start, end in kept_regions:
                chrom, start, end = normalise_contig(str(chrom)), int(start), int(end)
                kept.append((chrom, start, fasta.fetch(style[chrom], start - 1, end)))
    covered = [(c, s, s + len(b) - 1) for c, s, b in kept]
    regions = list(covered)

    def is_kept(chrom: str, pos: int) -> bool:
        return any(c == chrom and s <= pos <= e for c, s, e in covered)

    panel = _panel(panel_path, build)
    known = []
    # the reference spans each window plus its flank: every panel base there is the panel's
    for chrom, start, end in ((c, s - REFERENCE_FLANK, e + REFERENCE_FLANK) for c, s, e in windows):
        for codon in panel.codons:
            if codon.chrom == chrom and codon.start <= end and start <= codon.end:
                genomic = codon.ref_codon
                if codon.strand == "-":
                    genomic = genomic.translate(_COMPLEMENT)[::-1]
                known += [(chrom, codon.start + i, b) for i, b in enumerate(genomic)]
        for spot in panel.hotspots.values():
            if spot.chrom == chrom and start <= spot.pos <= end:
                known += [(chrom, spot.pos + i, b) for i, b in enumerate(spot.ref)]
    known = [k for k in known if not is_kept(k[0], k[1])]
    regions += [(c, s - REFERENCE_FLANK, e + REFERENCE_FLANK) for c, s, e in windows]
    write_reference(reference, regions, build=build, seed=int(_stream(seed, 3).integers(2**31)),
                    known_bases=known + kept, chr_style=chr_style)  # fmt: skip


@dataclass
class _WindowModel:
    """One window's bases and each normal's cumulative alt probabilities (W x 3 per normal)."""

    chrom: str
    start: int
    end: int
    region: str  # reference bases from start - REFERENCE_FLANK to end + REFERENCE_FLANK
    alts: list[str]  # per position, its 3 ALT bases in ACGT order
    cumulative: np.ndarray  # (normals, W, 3)


def _site_rows(
    design: BackgroundDesign, windows: list[tuple[str, int, int]], reference: Path
) -> tuple[list[tuple], list[_WindowModel]]:
    """Truth rows per (chrom, pos, ref, alt) and the window models the BAM writer samples."""
    rng = _stream(design.seed, 2)
    panel = _panel(design.panel_path, design.build)
    special = {(a.chrom, a.pos, a.alt): a for a in design.special}
    names = normal_names(design.n_normals)
    rows, models = [], []
    with pysam.FastaFile(str(reference)) as fasta:
        style = {normalise_contig(name): name for name in fasta.references}
        for chrom, start, end in windows:
            region = fasta.fetch(
                style[chrom], start - REFERENCE_FLANK - 1, end + REFERENCE_FLANK
            ).upper()
            width = end - start + 1
            probabilities = np.zeros((design.n_normals, width, 3))
            alts_at = []
            for offset in range(width):
                pos = start + offset
                at = REFERENCE_FLANK + offset
                context = region[at - 1 : at + 2]
                ref = context[1]
                alts = [b for b in _BASES if b != ref]
                alts_at.append(alts)
                for k, alt in enumerate(alts):
                    centred, klass = substitution_class(context, alt)
                    multiplier = float(np.exp(rng.normal(-(SITE_SD**2) / 2, SITE_SD)))
                    mean = design.context_rates[(centred, klass)] * multiplier
                    rho = _log_uniform(rng, *RHO_RANGE)
                    errors = _beta(rng, mean, rho, design.n_normals)
                    fractions = errors.copy()
                    kind, carriers = "clean", ()
                    allele = special.get((chrom, pos, alt))
                    if allele is not None and allele.ref == ref:
                        kind, carriers = allele.kind, allele.carriers
                        for carrier, value in zip(carriers, allele.fractions, strict=True):
                            if kind == "chip_like":  # a true variant, with the site's error
                                fractions[carrier] = value + (1 - value) * errors[carrier]
                            else:
                                fractions[carrier] = value
                        if kind == "recurrent_artefact":
                            mean, rho = allele.mean, allele.rho
                    probabilities[:, offset, k] = fractions
                    spot = panel.hotspots.get((chrom, pos, ref, alt))
                    rows.append(
                        (chrom, pos, ref, alt, context, klass, kind,
                         spot.gene if spot else "", spot.protein if spot else "",
                         f"{mean:.4g}", f"{rho:.4g}", len(carriers),
                         ",".join(names[i] for i in carriers),
                         *(f"{x:.4g}" for x in fractions))
                    )  # fmt: skip
            models.append(
                _WindowModel(chrom, start, end, region, alts_at, np.cumsum(probabilities, axis=2))
            )
    return rows, models


def write_normal_bam(
    path: str | os.PathLike, models: list[_WindowModel], normal: int, *, sample: str, seed: int,
    fragments: int, build: str, chr_style: bool,
) -> None:  # fmt: skip
    """One normal's coordinate-sorted, indexed BAM over ``models`` (see the module docstring)."""
    rng = np.random.default_rng(seed)
    names = sorted(CONTIG_LENGTHS[build], key=lambda c: _CONTIG_ORDER[c])
    sq = [{"SN": f"chr{c}" if chr_style else c, "LN": CONTIG_LENGTHS[build][c]} for c in names]
    tid = {normalise_contig(entry["SN"]): i for i, entry in enumerate(sq)}
    header = {
        "HD": {"VN": "1.6", "SO": "coordinate"},
        "SQ": sq,
        "RG": [{"ID": sample, "SM": sample, "PL": "ILLUMINA", "DS": "healthy-donor plasma"}],
    }
    hdr = pysam.AlignmentHeader.from_dict(header)
    reads = []
    for number, model in enumerate(models):
        reads += _window_reads(rng, hdr, tid[model.chrom], model, normal, sample, number, fragments)
    reads.sort(key=lambda r: (r.reference_id, r.reference_start, r.query_name, r.flag))
    # pysam writes BGZF at zlib level 6; re-block the BAM at level 8 (10% smaller, for git; 9
    # gains 1% more in twice the time)
    plain = Path(f"{path}.level0.bam")
    with pysam.AlignmentFile(str(plain), "wb0", header=header) as out:
        for read in reads:
            out.write(read)
    data = gzip.decompress(plain.read_bytes())
    plain.unlink()
    with open(path, "wb") as out:
        for at in range(0, len(data), _BGZF_PAYLOAD):
            out.write(_bgzf_block(data[at : at + _BGZF_PAYLOAD], level=8))
        out.write(_BGZF_EOF)
    pysam.index(str(path))


def _window_reads(rng, hdr, ref_id, model: _WindowModel, normal, sample, number, fragments):
    """Read pairs of ``fragments`` molecules over one window, one mate covering all of it."""
    width = model.end - model.start + 1
    lengths = np.where(
        rng.random(fragments) < 0.6,
        rng.integers(140, 191, size=fragments),
        rng.integers(200, 321, size=fragments),
    )
    left_covers = rng.random(fragments) < 0.5
    # 1-based fragment starts: the left mate, or the right one, spans the window +- margin
    low = np.where(
        left_covers,
        model.end + COVER_MARGIN - READ_LENGTH + 1,
        model.end + COVER_MARGIN + 1 - lengths,
    )
    high = np.where(
        left_covers,
        model.start - COVER_MARGIN,
        model.start - COVER_MARGIN + READ_LENGTH - lengths,
    )
    starts = low + np.floor(rng.random(fragments) * (high - low + 1)).astype(int)
    # molecule errors at the window positions: alt index 0-2, or 3 for the REF
    draws = rng.random((fragments, width))
    picked = (draws[:, :, None] >= model.cumulative[normal][None, :, :]).sum(axis=2)
    duplicate = rng.random(fragments) < DUPLICATE_FRACTION
    low_mapq = rng.random(fragments) < 0.03
    mapqs = rng.integers(0, 20, size=fragments)
    qcfail = rng.random(fragments) < 0.01
    secondary = rng.random(fragments) < 0.01
    supplementary = rng.random(fragments) < 0.005
    first_is_read1 = rng.random(fragments) < 0.5
    qualities = _qualities(rng, fragments + int(duplicate.sum()))
    region_start = model.start - REFERENCE_FLANK  # 1-based position of model.region[0]
    window_offset = model.start - region_start
    reads = []
    copy = 0
    for f in range(fragments):
        start, length = int(starts[f]), int(lengths[f])
        at = start - region_start
        molecule = list(model.region[at : at + length])
        for w in np.flatnonzero(picked[f] < 3):
            molecule[window_offset + w - at] = model.alts[w][picked[f, w]]
        sequence = "".join(molecule)
        name = f"{number}:{f}"
        mapq = int(mapqs[f]) if low_mapq[f] else 60
        extra = _QCFAIL if qcfail[f] else 0
        for qname, flag in ((name, 0), (f"{name}:dup", _DUP))[: 1 + int(duplicate[f])]:
            pair = _mates(hdr, ref_id, sequence, start, length, qname, flag | extra, mapq,
                          qualities[copy], bool(first_is_read1[f]), sample)  # fmt: skip
            copy += 1
            reads += pair
            if flag:
                continue
            for kind, wanted in ((_SECONDARY, secondary[f]), (_SUPPLEMENTARY, supplementary[f])):
                if wanted:
                    clone = pysam.AlignedSegment.fromstring(pair[0].to_string(), hdr)
                    clone.flag = pair[0].flag | kind
                    reads.append(clone)
    return reads


def _qualities(rng: np.random.Generator, n_pairs: int) -> np.ndarray:
    """(pairs, 2, READ_LENGTH) base qualities in reference order (see Q_HIGH ... TAIL_LENGTH)."""
    draws = rng.random((n_pairs, 2, READ_LENGTH))
    qualities = np.full(draws.shape, Q_HIGH, dtype=np.uint8)
    qualities[draws < SCATTERED_Q[0] + SCATTERED_Q[1]] = Q_MID
    qualities[draws < SCATTERED_Q[1]] = Q_LOW
    tails = np.where(
        rng.random((n_pairs, 2)) < TAIL_FRACTION,
        rng.integers(TAIL_LENGTH[0], TAIL_LENGTH[1] + 1, size=(n_pairs, 2)),
        0,
    )
    offsets = np.arange(READ_LENGTH)
    # the left mate is read forward (3' end on the right), the right mate in reverse
    qualities[:, 0][offsets[None, :] >= READ_LENGTH - tails[:, 0:1]] = Q_TAIL
    qualities[:, 1][offsets[None, :] < tails[:, 1:2]] = Q_TAIL
    return qualities


def _mates(hdr, ref_id, sequence, start, length, qname, flag, mapq, qualities, left_is_read1,
           sample):  # fmt: skip
    """A proper FR pair: the left mate from ``start`` (1-based), the right one at the end."""
    mates = []
    for side, (offset, bases) in enumerate(
        ((0, sequence[:READ_LENGTH]), (length - READ_LENGTH, sequence[length - READ_LENGTH :]))
    ):
        read = pysam.AlignedSegment(hdr)
        read.query_name = qname
        read.query_sequence = bases
        read.query_qualities = array.array("B", qualities[side].tobytes())
        read.reference_id = ref_id
        read.reference_start = start - 1 + offset
        read.cigartuples = [(0, READ_LENGTH)]
        read.mapping_quality = mapq
        read.set_tag("RG", sample)
        is_read1 = left_is_read1 == (side == 0)
        read.flag = (
            flag | _PAIRED | _PROPER | (_READ1 if is_read1 else _READ2)
            | (_REVERSE if side else _MATE_REVERSE)
        )  # fmt: skip
        mates.append(read)
    return link_mates(mates, ref_id)


def _write_tsv(path: Path, columns, rows) -> None:
    lines = ["\t".join(columns)] + ["\t".join(str(value) for value in row) for row in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def write_normal_plasmas(
    root: Path, design: BackgroundDesign, *, reference: dict, patients: list[dict] = (),
    fragments_per_window: tuple[int, int] = FRAGMENTS_PER_WINDOW,
) -> dict | None:  # fmt: skip
    """Write ``normals/`` (sheet, BAMs, truth) under ``root`` and add the normals' windows to the
    cohort's reference (``reference``: its params: path, regions, contig_style; it is written
    when regions is empty); ``patients`` (their params) give the resistance and hotspot-CHIP
    sites to cover. Return the parameters for params.yaml (None without normals)."""
    if not design.n_normals:
        return None
    root = Path(root)
    fasta = root / reference["path"]
    chr_style = reference["contig_style"] == "chr"
    sites = [
        (site["chrom"], int(site["pos"]))
        for patient in patients
        for site in [*patient["resistance_clones"], *patient["chip"]]
        if site["protein"]
    ]
    windows = choose_windows(design, sites)
    kept = [tuple(region) for region in reference["regions"]]
    _window_bases(fasta, kept, windows, design.build, chr_style, design.panel_path, design.seed)
    rows, models = _site_rows(design, windows, fasta)
    folder = root / "normals"
    folder.mkdir()
    names = normal_names(design.n_normals)
    depth_rng = _stream(design.seed, 4)
    fragments = [int(depth_rng.integers(*fragments_per_window, endpoint=True)) for _ in names]
    for index, name in enumerate(names):
        write_normal_bam(folder / f"{name}.bam", models, index, sample=name,
                         seed=int(_stream(design.seed, 5, index).integers(2**31)),
                         fragments=fragments[index], build=design.build,
                         chr_style=chr_style)  # fmt: skip
    _write_tsv(folder / "normals.tsv", ("sample", "bam"), [(n, f"{n}.bam") for n in names])
    columns = (*SITE_COLUMNS, *(f"true_af_{n}" for n in names))
    _write_tsv(folder / "truth_sites.tsv", columns, rows)
    _write_tsv(
        folder / "truth_contexts.tsv",
        ("context", "substitution_class", "true_rate"),
        [(c, k, f"{r:.4g}") for (c, k), r in design.context_rates.items()],
    )
    return _params(design, windows, fragments)


def _rounded(value: float) -> float:
    return float(f"{value:.6g}")


def _special_params(allele: SpecialAllele, names: list[str]) -> dict:
    level = "mean_error" if allele.kind == "recurrent_artefact" else "centre_vaf"
    carriers = zip(allele.carriers, allele.fractions, strict=True)
    return {
        "kind": allele.kind, "gene": allele.gene, "protein": allele.protein,
        "chrom": allele.chrom, "pos": allele.pos, "ref": allele.ref, "alt": allele.alt,
        level: _rounded(allele.mean), "overdispersion": _rounded(allele.rho),
        "carriers": {names[i]: _rounded(value) for i, value in carriers},
    }  # fmt: skip


def _params(design: BackgroundDesign, windows, fragments) -> dict:
    names = normal_names(design.n_normals)
    return {
        "stream": f"numpy default_rng([seed, {NORMALS_STREAM}, part])",
        "samples": names,
        "fragments_per_window": dict(zip(names, fragments, strict=True)),
        "read_length": READ_LENGTH,
        "window_pad": WINDOW_PAD,
        "reference_flank": REFERENCE_FLANK,
        "windows": [list(w) for w in windows],
        "error_model": {
            "class_rates": CLASS_RATES,
            "cpg_c_to_t_rate": CPG_CT_RATE,
            "context_factor_lognormal_sd": CONTEXT_SD,
            "site_multiplier_lognormal_sd": SITE_SD,
            "overdispersion_log_uniform": list(RHO_RANGE),
            "per_normal_error": "Beta(mean (1/rho - 1), (1 - mean) (1/rho - 1))",
            "outside_windows": "no error",
        },
        "special_alleles": [_special_params(allele, names) for allele in design.special],
    }
