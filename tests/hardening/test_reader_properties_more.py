"""Property-based tests (hypothesis) of the readers the other property files leave out.

Copy number: ichorCNA (.seg, .seg.txt, .cna.seg, params.txt), GATK CallCopyRatioSegments
(.called.seg with its SAM-style header), PURPLE (.purple.cnv.somatic.tsv + purity.tsv), ASCAT
(.cnvs.txt, .segments.txt), Control-FREEC (_CNVs, headerless) and PureCN (_dnacopy.seg + the purity
.csv beside it). Fusion tables: generic TSV, STAR-Fusion, Arriba. Coverage: mosdepth per-base and
regions .bed.gz (streamed and through a tabix index). SV VCF: Manta-style BND mate pairs.

Random valid records written in each tool's own layout read back as the same normalised records;
random corruptions of a valid file (cut short, a byte changed, a field dropped) are either still
read or refused with the product's InputError naming the file, never another exception.
"""

from __future__ import annotations

import math
import tempfile
from pathlib import Path

import pysam
import pytest
from corruptions import corruption
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from ctdna_resistance.errors import InputError
from ctdna_resistance.genome import CONTIG_LENGTHS
from ctdna_resistance.genotype import count_alleles
from ctdna_resistance.io.copy_number import read_copy_number
from ctdna_resistance.io.coverage import read_depths
from ctdna_resistance.io.fusion_table import read_fusion_table
from ctdna_resistance.io.sv_vcf import read_sv_vcf

SETTINGS = settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
LENGTHS = CONTIG_LENGTHS["GRCh38"]
CONTIGS = ("1", "7", "12", "17", "X")  # in the product's sort order
AUTOSOMES = ("1", "7", "12", "17")


def _write(folder: str, name: str, data: bytes) -> Path:
    path = Path(folder) / name
    path.write_bytes(data)
    return path


def _text(lines: list[str]) -> bytes:
    return ("\n".join(lines) + "\n").encode()


def _breakends_and_counts(event) -> tuple:
    """What a reader's SvEvent says of both breakends and the read counts, for comparison."""
    return (
        (event.a.chrom, event.a.pos, event.a.strand),
        (event.b.chrom, event.b.pos, event.b.strand),
        event.split_reads,
        event.spanning_reads,
        event.ref_reads,
        event.filters,
    )


@st.composite
def segments(draw, contigs=CONTIGS):
    """Non-overlapping 1-based inclusive (chrom, start, end) on a few contigs, in sort order."""
    chosen = draw(st.lists(st.sampled_from(contigs), min_size=1, max_size=3, unique=True))
    rows = []
    for chrom in sorted(chosen, key=contigs.index):
        cuts = sorted(
            draw(st.lists(st.integers(1, LENGTHS[chrom]), min_size=2, max_size=8, unique=True))
        )
        rows += [(chrom, s, e) for s, e in zip(cuts[:-1:2], cuts[1::2], strict=False)]
    return rows


def log2_values(n: int):
    return st.lists(st.integers(-40_000, 40_000).map(lambda v: v / 10_000), min_size=n, max_size=n)


def _absolute_log2(copy_number: float) -> float:
    # PURPLE/ASCAT/FREEC: log2(CN / 2), CN floored at 0.01 copies (a homozygous deletion)
    return round(math.log2(max(copy_number, 0.01) / 2), 4)


def _normalised(result) -> list[tuple]:
    return [
        (s.chrom, s.start, s.end, round(s.log2, 4), s.n_bins, s.copy_number)
        for s in result.segments
    ]


# -- ichorCNA ------------------------------------------------------------------------------------


@SETTINGS
@given(
    data=st.data(),
    rows=segments(),
    layout=st.sampled_from(["seg", "seg.txt"]),
    prefix=st.sampled_from(["", "chr"]),
    params=st.booleans(),
)
def test_ichorcna_segments_round_trip(data, rows, layout, prefix, params):
    log2 = data.draw(log2_values(len(rows)))
    bins = data.draw(st.lists(st.integers(1, 500), min_size=len(rows), max_size=len(rows)))
    cns = data.draw(st.lists(st.integers(0, 8), min_size=len(rows), max_size=len(rows)))
    table = zip(rows, log2, bins, cns, strict=True)
    if layout == "seg":
        lines = ["sample\tchr\tstart\tend\tevent\tcopy.number\tbins\tmedian"]
        lines += [
            f"MBC_1\t{prefix}{c}\t{s}\t{e}\tNEUT\t{cn}\t{b}\t{v}" for (c, s, e), v, b, cn in table
        ]
    else:
        lines = [
            "ID\tchrom\tstart\tend\tnum.mark\tseg.median.logR\tcopy.number\tcall\tsubclone.status"
            "\tlogR_Copy_Number\tCorrected_Copy_Number\tCorrected_Call"
        ]
        lines += [
            f"MBC_1\t{prefix}{c}\t{s}\t{e}\t{b}\t{v}\t{cn}\tNEUT\tFALSE\t1.9\t{cn}\tNEUT"
            for (c, s, e), v, b, cn in table
        ]
    tumour_fraction = data.draw(st.integers(0, 1000)) / 1000
    with tempfile.TemporaryDirectory() as folder:
        path = _write(folder, f"MBC_1.{layout}", _text(lines))
        if params:
            _write(folder, "MBC_1.params.txt", _ichor_params(tumour_fraction, 2.1))
        result = read_copy_number(path, expected_build="GRCh38")
    assert (result.fmt, result.sample) == ("ichorcna_seg", "MBC_1")
    assert _normalised(result) == [
        (c, s, e, v, b, float(cn))
        for (c, s, e), v, b, cn in zip(rows, log2, bins, cns, strict=True)
    ]
    expected_tf = (tumour_fraction, 2.1) if params else (None, None)
    assert (result.tumor_fraction, result.ploidy) == expected_tf


def _ichor_params(tumour_fraction: float, ploidy: float) -> bytes:
    return _text(
        [
            "Sample\tTumor Fraction\tPloidy",
            f"MBC_1\t{tumour_fraction}\t{ploidy}",
            "",
            "MBC_1",
            "Gender:\tfemale",
            f"Tumor Fraction:\t{tumour_fraction}",
            f"Ploidy:\t{ploidy}",
        ]
    )


@SETTINGS
@given(data=st.data(), rows=segments(contigs=("12",)))
def test_ichorcna_bins_round_trip(data, rows):
    log2 = data.draw(log2_values(len(rows)))
    filtered = data.draw(st.lists(st.booleans(), min_size=len(rows), max_size=len(rows)))
    lines = ["chr\tstart\tend\tMBC_1.copy.number\tMBC_1.event\tMBC_1.logR\tMBC_1.subclone.status"]
    for (c, s, e), v, out in zip(rows, log2, filtered, strict=True):
        lines.append(f"chr{c}\t{s}\t{e}\t2\tNEUT\t{'NA' if out else v}\tFALSE")
    with tempfile.TemporaryDirectory() as folder:
        path = _write(folder, "MBC_1.cna.seg", _text(lines))
        if all(filtered):  # every bin filtered out: no segments is refused
            with pytest.raises(InputError, match="no segments"):
                read_copy_number(path, expected_build="GRCh38")
            return
        result = read_copy_number(path, expected_build="GRCh38")
    assert _normalised(result) == [
        (c, s, e, v, 1, 2.0)
        for (c, s, e), v, out in zip(rows, log2, filtered, strict=True)
        if not out
    ]


# -- GATK CallCopyRatioSegments -------------------------------------------------------------------


def _gatk_called_seg(rows, log2, points, sample="PL1", prefix="") -> bytes:
    lines = ["@HD\tVN:1.6"]
    lines += [f"@SQ\tSN:{prefix}{c}\tLN:{LENGTHS[c]}\tAS:GRCh38" for c in CONTIGS]
    lines += [f"@RG\tID:GATKCopyNumber\tSM:{sample}"]
    lines += ["CONTIG\tSTART\tEND\tNUM_POINTS_COPY_RATIO\tMEAN_LOG2_COPY_RATIO\tCALL"]
    for (c, s, e), v, n in zip(rows, log2, points, strict=True):
        call = "+" if v > 0.3 else "-" if v < -0.3 else "0"
        lines.append(f"{prefix}{c}\t{s}\t{e}\t{n}\t{v:.6f}\t{call}")
    return _text(lines)


@SETTINGS
@given(data=st.data(), rows=segments(), prefix=st.sampled_from(["", "chr"]))
def test_gatk_called_seg_round_trip(data, rows, prefix):
    log2 = data.draw(log2_values(len(rows)))
    points = data.draw(st.lists(st.integers(1, 5000), min_size=len(rows), max_size=len(rows)))
    with tempfile.TemporaryDirectory() as folder:
        path = _write(folder, "PL1.called.seg", _gatk_called_seg(rows, log2, points, prefix=prefix))
        result = read_copy_number(path, expected_build="GRCh38")
    assert (result.fmt, result.sample, result.build) == ("gatk_called_seg", "PL1", "GRCh38")
    assert _normalised(result) == [
        (c, s, e, v, n, None) for (c, s, e), v, n in zip(rows, log2, points, strict=True)
    ]


# -- PURPLE --------------------------------------------------------------------------------------

PURPLE_HEADER = (
    "chromosome\tstart\tend\tcopyNumber\tbafCount\tobservedBAF\tbaf\tsegmentStartSupport\t"
    "segmentEndSupport\tmethod\tdepthWindowCount\tgcContent\tminStart\tmaxStart\t"
    "minorAlleleCopyNumber\tmajorAlleleCopyNumber"
)
PURITY_HEADER = "purity\tnormFactor\tscore\tdiploidProportion\tploidy\tgender\tstatus"


def _purple_cnv(rows, copy_numbers, windows) -> bytes:
    lines = [PURPLE_HEADER]
    for (c, s, e), cn, w in zip(rows, copy_numbers, windows, strict=True):
        lines.append(
            f"{c}\t{s}\t{e}\t{cn:.4f}\t10\t0.5\t0.5\tBND\tBND\tBAF_WEIGHTED\t{w}\t0.41\t"
            f"{s}\t{s}\t0.9\t{cn - 0.9:.4f}"
        )
    return _text(lines)


@SETTINGS
@given(data=st.data(), rows=segments(), with_purity=st.booleans())
def test_purple_cnv_round_trip(data, rows, with_purity):
    n = len(rows)
    copy_numbers = data.draw(
        st.lists(st.integers(-500, 80_000).map(lambda v: v / 10_000), min_size=n, max_size=n)
    )
    windows = data.draw(st.lists(st.integers(0, 90_000), min_size=n, max_size=n))
    purity = data.draw(st.integers(0, 100)) / 100
    with tempfile.TemporaryDirectory() as folder:
        path = _write(folder, "T1.purple.cnv.somatic.tsv", _purple_cnv(rows, copy_numbers, windows))
        if with_purity:
            row = f"{purity:.4f}\t0.64\t0.61\t0.02\t3.1000\tMALE\tNORMAL"
            _write(folder, "T1.purple.purity.tsv", _text([PURITY_HEADER, row]))
        result = read_copy_number(path, expected_build="GRCh38")
    assert (result.fmt, result.sample, result.absolute) == ("purple_cnv", "T1", True)
    assert _normalised(result) == [
        (c, s, e, _absolute_log2(cn), w, cn)
        for (c, s, e), cn, w in zip(rows, copy_numbers, windows, strict=True)
    ]
    expected = (purity, 3.1) if with_purity else (None, None)
    assert (result.tumor_fraction, result.ploidy) == expected


# -- ASCAT ---------------------------------------------------------------------------------------


@SETTINGS
@given(data=st.data(), rows=segments(), with_sample=st.booleans())
def test_ascat_segments_round_trip(data, rows, with_sample):
    n = len(rows)
    majors = data.draw(st.lists(st.integers(0, 6), min_size=n, max_size=n))
    minors = data.draw(st.lists(st.integers(0, 3), min_size=n, max_size=n))
    first = "sample\t" if with_sample else ""
    lines = [f"{first}chr\tstartpos\tendpos\tnMajor\tnMinor"]
    lines += [
        ("T1_vs_N1\t" if with_sample else "") + f"{c}\t{s}\t{e}\t{a}\t{b}"
        for (c, s, e), a, b in zip(rows, majors, minors, strict=True)
    ]
    name = "T1_vs_N1.segments.txt" if with_sample else "T1_vs_N1.cnvs.txt"
    with tempfile.TemporaryDirectory() as folder:
        path = _write(folder, name, _text(lines))
        result = read_copy_number(path, expected_build="GRCh38")
    assert (result.fmt, result.sample, result.absolute) == ("ascat_cnvs", "T1_vs_N1", True)
    assert _normalised(result) == [
        (c, s, e, _absolute_log2(a + b), None, float(a + b))
        for (c, s, e), a, b in zip(rows, majors, minors, strict=True)
    ]


# -- Control-FREEC -------------------------------------------------------------------------------


@SETTINGS
@given(data=st.data(), rows=segments())
def test_controlfreec_cnvs_round_trip(data, rows):
    """Headerless rows; a call starting up to one window inside the previous one is trimmed."""
    n = len(rows)
    copy_numbers = data.draw(st.lists(st.integers(0, 8), min_size=n, max_size=n))
    back = data.draw(st.lists(st.integers(0, 1000), min_size=n, max_size=n))
    lines, expected = [], []
    for i, ((c, s, e), cn, k) in enumerate(zip(rows, copy_numbers, back, strict=True)):
        same_contig = i and rows[i - 1][0] == c
        previous_start, previous_end = rows[i - 1][1:] if same_contig else (0, 0)
        # starting inside (not before) the previous call, as FREEC's window edges do
        written = max(1, s - k, previous_start + 1)
        start = previous_end + 1 if written <= previous_end else written
        status = "gain" if cn > 2 else "loss" if cn < 2 else "neutral"
        lines.append(f"{c}\t{written}\t{e}\t{cn}\t{status}\tAB\t-1")
        expected.append((c, start, e, _absolute_log2(cn), None, float(cn)))
    with tempfile.TemporaryDirectory() as folder:
        path = _write(folder, "T1_vs_N1.tumor.mpileup.gz_CNVs", _text(lines))
        result = read_copy_number(path, expected_build="GRCh38")
    assert (result.fmt, result.sample, result.absolute) == ("controlfreec_cnvs", "T1_vs_N1", False)
    assert _normalised(result) == expected


# -- PureCN ----------------------------------------------------------------------------------------

PURECN_HEADER = '"Sampleid","Purity","Ploidy","Sex","Contamination","Flagged","Failed","Curated",'
PURECN_HEADER += '"Comment"'


def _purecn_seg(rows, log2, marks) -> bytes:
    # R's write.table: quoted header names; DNAcopy numbers the chromosomes (autosomes here)
    lines = ['"ID"\t"chrom"\t"loc.start"\t"loc.end"\t"num.mark"\t"seg.mean"\t"C"']
    lines += [
        f'"PL1"\t{c}\t{s}\t{e}\t{m}\t{v}\t2'
        for (c, s, e), v, m in zip(rows, log2, marks, strict=True)
    ]
    return _text(lines)


@SETTINGS
@given(data=st.data(), rows=segments(contigs=AUTOSOMES), flagged=st.booleans())
def test_purecn_dnacopy_seg_with_purity_round_trip(data, rows, flagged):
    n = len(rows)
    log2 = data.draw(log2_values(n))
    marks = data.draw(st.lists(st.integers(1, 400), min_size=n, max_size=n))
    purity = data.draw(st.integers(0, 100)) / 100
    ploidy = data.draw(st.integers(100, 600)) / 100
    csv_row = f'"PL1",{purity},{ploidy},"M",0,{str(flagged).upper()},FALSE,FALSE,"NOISY"'
    with tempfile.TemporaryDirectory() as folder:
        path = _write(folder, "PL1_dnacopy.seg", _purecn_seg(rows, log2, marks))
        _write(folder, "PL1.csv", _text([PURECN_HEADER, csv_row]))
        result = read_copy_number(path, expected_build="GRCh38")
    assert (result.fmt, result.sample, result.tf_source) == ("seg", "PL1", "PureCN purity")
    assert (result.tumor_fraction, result.ploidy) == (purity, ploidy)
    assert _normalised(result) == [
        (c, s, e, v, m, None) for (c, s, e), v, m in zip(rows, log2, marks, strict=True)
    ]


# -- fusion tables -------------------------------------------------------------------------------

GENES = ("ALK", "EML4", "RET", "NCOA4", "NTRK1", "TPM3", "FGFR3", "TACC3", "BRAF", "AGK")


@st.composite
def fusions(draw):
    """(gene_a, gene_b, chrom_a, pos_a, strand_a, chrom_b, pos_b, strand_b, split, spanning)."""
    rows = []
    for _ in range(draw(st.integers(1, 6))):
        genes = draw(st.lists(st.sampled_from(GENES), min_size=2, max_size=2, unique=True))
        sides = [
            (
                draw(st.sampled_from(CONTIGS)),
                draw(st.integers(1, 100_000_000)),
                draw(st.sampled_from("+-")),
            )
            for _ in genes
        ]
        counts = (draw(st.integers(0, 5000)), draw(st.integers(0, 5000)))
        rows.append((genes[0], genes[1], *sides[0], *sides[1], *counts))
    return rows


def _generic_fusions(rows, refs, filters, prefix) -> bytes:
    lines = [
        "gene_a\tgene_b\tchrom_a\tpos_a\tchrom_b\tpos_b\tsplit_reads\tspanning_reads\t"
        "ref_reads\tstrand_a\tstrand_b\tfilter"
    ]
    for (ga, gb, ca, pa, sa, cb, pb, sb, split, span), ref, flt in zip(
        rows, refs, filters, strict=True
    ):
        lines.append(
            f"{ga}\t{gb}\t{prefix}{ca}\t{pa}\t{prefix}{cb}\t{pb}\t{split}\t{span}\t"
            f"{ref}\t{sa}\t{sb}\t{flt}"
        )
    return _text(lines)


def _star_fusions(rows, prefix) -> bytes:
    lines = [
        "#FusionName\tJunctionReadCount\tSpanningFragCount\tSpliceType\tLeftGene\t"
        "LeftBreakpoint\tRightGene\tRightBreakpoint\tJunctionReads\tSpanningFrags"
    ]
    for ga, gb, ca, pa, sa, cb, pb, sb, split, span in rows:
        lines.append(
            f"{ga}--{gb}\t{split}\t{span}\tONLY_REF_SPLICE\t{ga}^ENSG01\t"
            f"{prefix}{ca}:{pa}:{sa}\t{gb}^ENSG02\t{prefix}{cb}:{pb}:{sb}\tr1\tr2"
        )
    return _text(lines)


def _arriba_fusions(rows, split_1, confidences, prefix) -> bytes:
    lines = [
        "#gene1\tgene2\tstrand1(gene/fusion)\tstrand2(gene/fusion)\tbreakpoint1\t"
        "breakpoint2\tsite1\tsite2\ttype\tsplit_reads1\tsplit_reads2\tdiscordant_mates\t"
        "coverage1\tcoverage2\tconfidence\tdirection1\tdirection2\tfilters"
    ]
    direction = {"+": "downstream", "-": "upstream"}
    for (ga, gb, ca, pa, sa, cb, pb, sb, split, span), s1, conf in zip(
        rows, split_1, confidences, strict=True
    ):
        lines.append(
            f"{ga}\t{gb}\t+/+\t+/+\t{prefix}{ca}:{pa}\t{prefix}{cb}:{pb}\tCDS\tCDS\t"
            f"translocation\t{s1}\t{split - s1}\t{span}\t10\t10\t{conf}\t"
            f"{direction[sa]}\t{direction[sb]}\t."
        )
    return _text(lines)


@SETTINGS
@given(
    data=st.data(),
    rows=fusions(),
    prefix=st.sampled_from(["", "chr"]),
    kind=st.sampled_from(["generic", "star-fusion", "arriba"]),
)
def test_fusion_tables_round_trip(data, rows, prefix, kind):
    n = len(rows)
    opposite = {"+": "-", "-": "+"}
    expected = []
    if kind == "generic":
        refs = data.draw(st.lists(st.integers(0, 9000), min_size=n, max_size=n))
        filters = data.draw(
            st.lists(st.sampled_from(["PASS", ".", "low_support"]), min_size=n, max_size=n)
        )
        table = _generic_fusions(rows, refs, filters, prefix)
        for (ga, gb, ca, pa, sa, cb, pb, sb, split, span), ref, flt in zip(
            rows, refs, filters, strict=True
        ):
            kept = () if flt in ("PASS", ".") else (flt,)
            expected.append((ga, gb, (ca, pa, sa), (cb, pb, sb), split, span, ref, kept))
    elif kind == "star-fusion":
        table = _star_fusions(rows, prefix)
        # STAR-Fusion gives transcript strands: the 3' partner's breakend faces the other way
        expected = [
            (ga, gb, (ca, pa, sa), (cb, pb, opposite[sb]), split, span, None, ())
            for ga, gb, ca, pa, sa, cb, pb, sb, split, span in rows
        ]
    else:
        split_1 = [data.draw(st.integers(0, row[8])) for row in rows]
        confidences = data.draw(
            st.lists(st.sampled_from(["high", "medium", "low"]), min_size=n, max_size=n)
        )
        table = _arriba_fusions(rows, split_1, confidences, prefix)
        for (ga, gb, ca, pa, sa, cb, pb, sb, split, span), conf in zip(
            rows, confidences, strict=True
        ):
            kept = ("low_confidence",) if conf == "low" else ()
            expected.append((ga, gb, (ca, pa, sa), (cb, pb, sb), split, span, None, kept))
    with tempfile.TemporaryDirectory() as folder:
        events = read_fusion_table(_write(folder, "fusions.tsv", table))
    got = [(e.gene_a, e.gene_b, *_breakends_and_counts(e)) for e in events]
    assert got == expected
    assert [(e.sv_type, e.record_no) for e in events] == [("FUSION", i) for i in range(1, n + 1)]


# -- mosdepth coverage ---------------------------------------------------------------------------


@st.composite
def depth_runs(draw):
    """mosdepth per-base runs: contiguous 0-based half-open (start, end, depth) from 0 on chr12."""
    lengths = draw(st.lists(st.integers(1, 400), min_size=1, max_size=25))
    runs, start = [], 0
    for length in lengths:
        runs.append((start, start + length, draw(st.integers(0, 30_000))))
        start += length
    return runs


def _bgzip(folder: str, name: str, text: bytes, *, index: bool) -> Path:
    plain = _write(folder, name + ".txt", text)
    path = Path(folder) / name
    pysam.tabix_compress(str(plain), str(path), force=True)
    plain.unlink()
    if index:
        pysam.tabix_index(str(path), preset="bed", force=True)
    return path


@SETTINGS
@given(data=st.data(), runs=depth_runs(), index=st.booleans(), prefix=st.sampled_from(["", "chr"]))
def test_mosdepth_per_base_round_trip(data, runs, index, prefix):
    covered = runs[-1][1]
    positions = data.draw(st.lists(st.integers(1, covered), min_size=1, max_size=10, unique=True))
    sites = [("12", p) for p in positions] + [("7", 5)]  # chr7: a contig mosdepth did not see
    text = "".join(f"{prefix}12\t{s}\t{e}\t{d}\n" for s, e, d in runs).encode()
    with tempfile.TemporaryDirectory() as folder:
        path = _bgzip(folder, "s.per-base.bed.gz", text, index=index)
        depths = read_depths(path, sites)
    # a 1-based position p lies in the 0-based half-open run [s, e) when s < p <= e
    expected = {("12", p): next(d for s, e, d in runs if s < p <= e) for p in positions}
    expected[("7", 5)] = None
    assert depths == expected


@st.composite
def regions(draw):
    """mosdepth --by regions (may overlap, as amplicons do): (start, end, name, mean as text)."""
    out = []
    for i in range(draw(st.integers(1, 12))):
        start = draw(st.integers(0, 5000))
        end = draw(st.integers(start + 1, start + 600))
        out.append((start, end, f"amp{i}", f"{draw(st.integers(0, 3_000_000)) / 100:.2f}"))
    return sorted(out)


@SETTINGS
@given(data=st.data(), rows=regions(), index=st.booleans(), named=st.booleans())
def test_mosdepth_regions_round_trip(data, rows, index, named):
    positions = data.draw(st.lists(st.integers(1, 6000), min_size=1, max_size=12, unique=True))
    text = "".join(
        f"chr12\t{s}\t{e}\t{name + chr(9) if named else ''}{mean}\n" for s, e, name, mean in rows
    ).encode()
    with tempfile.TemporaryDirectory() as folder:
        path = _bgzip(folder, "s.regions.bed.gz", text, index=index)
        depths = read_depths(path, [("12", p) for p in positions])
    expected = {}
    for p in positions:
        means = [float(mean) for s, e, _, mean in rows if s < p <= e]
        # the lowest mean of the overlapping regions, rounded half up
        expected[("12", p)] = math.floor(min(means) + 0.5) if means else None
    assert depths == expected


# -- SV VCF: Manta-style BND mate pairs ----------------------------------------------------------


def _bnd_alt(local: str, chrom: str, pos: int, remote: str) -> str:
    bracket = "[" if remote == "-" else "]"
    mate = f"{bracket}{chrom}:{pos}{bracket}"
    return f"N{mate}" if local == "+" else f"{mate}N"


@st.composite
def bnd_pairs(draw):
    """Mate pairs ((chrom, pos, strand) x 2, (pr_ref, pr_alt, sr_ref, sr_alt), filter)."""
    pairs, used = [], set()
    for _ in range(draw(st.integers(1, 5))):
        sides = []
        for _ in range(2):
            chrom = draw(st.sampled_from(CONTIGS))
            pos = draw(st.integers(1, LENGTHS[chrom]).filter(lambda p, c=chrom: (c, p) not in used))
            used.add((chrom, pos))
            sides.append((chrom, pos, draw(st.sampled_from("+-"))))
        counts = tuple(draw(st.integers(0, 300)) for _ in range(4))
        pairs.append(
            (sides[0], sides[1], counts, draw(st.sampled_from(["PASS", "MinSomaticScore"])))
        )
    return pairs


def _manta_vcf(pairs) -> tuple[bytes, list[tuple]]:
    """The VCF (records in coordinate order) and the events expected, in file order."""
    records = []
    for i, (one, two, (pr_ref, pr_alt, sr_ref, sr_alt), flt) in enumerate(pairs):
        fmt = f"PR:SR\t10,0:10,0\t{pr_ref},{pr_alt}:{sr_ref},{sr_alt}"
        for own, other, end in ((one, two, 0), (two, one, 1)):
            vcf_id, mate_id = f"MantaBND:{i}:0:1:0:0:0:{end}", f"MantaBND:{i}:0:1:0:0:0:{1 - end}"
            alt = _bnd_alt(own[2], other[0], other[1], other[2])
            info = f"SVTYPE=BND;MATEID={mate_id};SOMATIC;SOMATICSCORE=40"
            records.append(
                (
                    own[0],
                    own[1],
                    f"{own[0]}\t{own[1]}\t{vcf_id}\tN\t{alt}\t.\t{flt}\t{info}\t{fmt}",
                    i,
                    own,
                    other,
                )
            )
    records.sort(key=lambda r: (CONTIGS.index(r[0]), r[1]))
    header = [
        "##fileformat=VCFv4.1",
        "##source=GenerateSVCandidates 1.6.0",
        '##INFO=<ID=SVTYPE,Number=1,Type=String,Description="Type">',
        '##INFO=<ID=MATEID,Number=.,Type=String,Description="Mate">',
        '##INFO=<ID=SOMATIC,Number=0,Type=Flag,Description="Somatic">',
        '##INFO=<ID=SOMATICSCORE,Number=1,Type=Integer,Description="Score">',
        '##FORMAT=<ID=PR,Number=.,Type=Integer,Description="Pairs">',
        '##FORMAT=<ID=SR,Number=.,Type=Integer,Description="Splits">',
        *[f"##contig=<ID={c},length={LENGTHS[c]}>" for c in CONTIGS],
        "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tNORMAL\tTUMOR",
    ]
    expected, seen = [], set()
    for _, _, _, i, own, other in records:
        if i in seen:
            continue
        seen.add(i)
        pr_ref, pr_alt, sr_ref, sr_alt = pairs[i][2]
        flt = pairs[i][3]
        expected.append(
            (own, other, sr_alt, pr_alt, pr_ref + sr_ref, () if flt == "PASS" else (flt,))
        )
    return _text(header + [r[2] for r in records]), expected


@SETTINGS
@given(pairs=bnd_pairs())
def test_sv_vcf_bnd_mate_pairs_round_trip(pairs):
    text, expected = _manta_vcf(pairs)
    with tempfile.TemporaryDirectory() as folder:
        result = read_sv_vcf(_write(folder, "somaticSV.vcf", text), expected_build="GRCh38")
    assert (result.caller, result.sample, result.records_read) == ("manta", "TUMOR", 2 * len(pairs))
    got = [_breakends_and_counts(e) for e in result.events]
    assert got == expected
    assert all(e.sv_type == "BND" and e.problem is None for e in result.events)


# -- BAM re-genotyping ---------------------------------------------------------------------------

TOY_REFERENCE = "ACGTTGCA" * 25  # contig 'chr12' of a 200 bp toy reference
SITE = ("12", 101, TOY_REFERENCE[100], "A" if TOY_REFERENCE[100] != "A" else "C")


@st.composite
def toy_reads(draw):
    """Single-end reads over the toy contig: (start, sequence, qualities, mapq, flag)."""
    reads = []
    for _ in range(draw(st.integers(0, 25))):
        start = draw(st.integers(1, 170))
        length = draw(st.integers(10, 30))
        bases = list(TOY_REFERENCE[start - 1 : start - 1 + length])
        if start <= SITE[1] < start + length:
            bases[SITE[1] - start] = draw(st.sampled_from([SITE[2], SITE[3], "G", "N"]))
        quals = [draw(st.sampled_from([2, 19, 20, 37])) for _ in bases]
        flag = draw(st.sampled_from([0, 16, 0x400, 0x100, 0x200]))
        reads.append((start, "".join(bases), quals, draw(st.sampled_from([0, 19, 20, 60])), flag))
    return sorted(reads)


def _toy_bam(folder: str, reads) -> Path:
    header = {"HD": {"VN": "1.6", "SO": "coordinate"}, "SQ": [{"SN": "chr12", "LN": 200}]}
    path = Path(folder) / "plasma.bam"
    with pysam.AlignmentFile(str(path), "wb", header=header) as out:
        for i, (start, bases, quals, mapq, flag) in enumerate(reads):
            read = pysam.AlignedSegment(out.header)
            read.query_name = f"r{i}"
            read.reference_id, read.reference_start = 0, start - 1
            read.cigarstring, read.query_sequence = f"{len(bases)}M", bases
            read.query_qualities = pysam.qualitystring_to_array("".join(chr(33 + q) for q in quals))
            read.mapping_quality, read.flag = mapq, flag
            out.write(read)
    pysam.index(str(path))
    return path


@SETTINGS
@given(reads=toy_reads())
def test_bam_regenotyping_counts_what_was_written(reads):
    with tempfile.TemporaryDirectory() as folder:
        (count,) = count_alleles(_toy_bam(folder, reads), [SITE])
    expected = {"ref": 0, "alt": 0, "other": 0}
    for start, bases, quals, mapq, flag in reads:
        at = SITE[1] - start
        # default filters: no duplicate/secondary/QC-fail reads, MAPQ >= 20, base quality >= 20
        if not 0 <= at < len(bases) or flag & 0x700 or mapq < 20 or quals[at] < 20:
            continue
        base = bases[at]
        expected["alt" if base == SITE[3] else "ref" if base == SITE[2] else "other"] += 1
    assert (count.chrom, count.pos, count.ref_reads, count.alt_reads, count.other_reads) == (
        "12",
        SITE[1],
        expected["ref"],
        expected["alt"],
        expected["other"],
    )
    assert count.depth == sum(expected.values())


# -- corruptions ---------------------------------------------------------------------------------


def _only_input_errors(read, path: Path) -> None:
    try:
        read()
    except InputError as error:
        assert "\n" not in error.message  # one line
        assert path.name in error.message  # names the file ...
        assert "; " in error.message  # ... and says what to do


ROWS = [("1", 1_000_001, 24_000_000), ("12", 25_000_001, 26_000_000), ("X", 2_000_000, 9_000_000)]
LOG2 = [-0.1402, 1.25, 0.0]
COPY_NUMBER_FILES = {
    # name: (segment file, purity file beside it or None)
    "MBC_1.seg": (
        _text(
            ["sample\tchr\tstart\tend\tevent\tcopy.number\tbins\tmedian"]
            + [
                f"MBC_1\tchr{c}\t{s}\t{e}\tNEUT\t2\t23\t{v}"
                for (c, s, e), v in zip(ROWS, LOG2, strict=True)
            ]
        ),
        ("MBC_1.params.txt", _ichor_params(0.255, 1.898)),
    ),
    "MBC_1.cna.seg": (
        _text(
            ["chr\tstart\tend\tMBC_1.copy.number\tMBC_1.event\tMBC_1.logR"]
            + [f"{c}\t{s}\t{e}\t2\tNEUT\t{v}" for (c, s, e), v in zip(ROWS, LOG2, strict=True)]
            + ["12\t26000001\t27000000\t2\tNEUT\tNA"]
        ),
        None,
    ),
    "PL1.called.seg": (_gatk_called_seg(ROWS, LOG2, [849, 21, 3]), None),
    "T1.purple.cnv.somatic.tsv": (
        _purple_cnv(ROWS, [2.8141, -0.03, 1.0], [77303, 0, 12]),
        (
            "T1.purple.purity.tsv",
            _text([PURITY_HEADER, "0.9900\t0.64\t0.61\t0.02\t3.1\tMALE\tNORMAL"]),
        ),
    ),
    "T1_vs_N1.segments.txt": (
        _text(
            ["sample\tchr\tstartpos\tendpos\tnMajor\tnMinor"]
            + [f"T1_vs_N1\t{c}\t{s}\t{e}\t3\t0" for c, s, e in ROWS]
        ),
        ("T1_vs_N1.purityploidy.txt", _text(["AberrantCellFraction\tPloidy", "0.55\t2.9"])),
    ),
    "T1_vs_N1.tumor.mpileup.gz_CNVs": (
        _text([f"{c}\t{s}\t{e}\t3\tgain\tAAB\t6.40132" for c, s, e in ROWS]),
        None,
    ),
    "PL1_dnacopy.seg": (
        _purecn_seg(ROWS[:2], LOG2[:2], [40, 7]),
        ("PL1.csv", _text([PURECN_HEADER, '"PL1",0.64,4.52,"M",0,TRUE,FALSE,FALSE,"RARE"'])),
    ),
}


@st.composite
def copy_number_corruptions(draw):
    """(segment file name, which file is damaged, its damaged bytes)."""
    name = draw(st.sampled_from(sorted(COPY_NUMBER_FILES)))
    segments_text, purity = COPY_NUMBER_FILES[name]
    target = "purity" if purity is not None and draw(st.booleans()) else "segments"
    return name, target, draw(corruption(purity[1] if target == "purity" else segments_text))


@SETTINGS
@given(case=copy_number_corruptions())
# PureCN purity CSV cut short after the sample: Purity/Ploidy missing raised KeyError
@example(case=("PL1_dnacopy.seg", "purity", _text([PURECN_HEADER])[:-1] + b'\n"PL1",'))
def test_copy_number_corruptions_raise_only_input_error(case):
    name, target, bad = case
    segments_text, purity = COPY_NUMBER_FILES[name]
    with tempfile.TemporaryDirectory() as folder:
        path = _write(folder, name, bad if target == "segments" else segments_text)
        culprit = path
        if purity is not None:
            culprit = _write(folder, purity[0], bad if target == "purity" else purity[1])
        try:
            read_copy_number(path, expected_build="GRCh38")
        except InputError as error:
            assert "\n" not in error.message
            assert "; " in error.message
            assert (culprit if target == "purity" else path).name in error.message


GOOD_FUSIONS = [
    ("EML4", "ALK", "2", 42_301_394, "+", "2", 29_223_528, "-", 12, 30),
    ("CCDC6", "RET", "10", 59_906_254, "+", "10", 43_114_480, "+", 4, 0),
]
FUSION_FILES = {
    "generic": _generic_fusions(GOOD_FUSIONS, [100, 7], ["PASS", "low"], "chr"),
    "star-fusion": _star_fusions(GOOD_FUSIONS, ""),
    "arriba": _arriba_fusions(GOOD_FUSIONS, [5, 1], ["high", "low"], ""),
}


@SETTINGS
@given(
    case=st.sampled_from(sorted(FUSION_FILES)).flatmap(
        lambda kind: st.tuples(st.just(kind), corruption(FUSION_FILES[kind]))
    )
)
# a digit of a position changed to 'E' (4E114480 = inf) raised OverflowError in int()
@example(case=("generic", FUSION_FILES["generic"].replace(b"43114480", b"4E114480")))
@example(case=("arriba", FUSION_FILES["arriba"].replace(b"\t5\t", b"\tnan\t", 1)))
def test_fusion_table_corruptions_raise_only_input_error(case):
    _, bad = case
    with tempfile.TemporaryDirectory() as folder:
        path = _write(folder, "fusions.tsv", bad)
        _only_input_errors(lambda: read_fusion_table(path), path)


PER_BASE = b"chr12\t0\t100\t0\nchr12\t100\t250\t31\nchr12\t250\t4000\t4012\nchr12\t4000\t4001\t7\n"
REGIONS = (
    b"chr12\t90\t300\tamp1\t55.25\nchr12\t200\t500\tamp2\t1000.50\nchr12\t900\t950\tamp3\t0.00\n"
)
SITES = [("12", 1), ("12", 101), ("12", 260), ("12", 4001), ("12", 920)]


def _bgzf(text: bytes) -> bytes:
    with tempfile.TemporaryDirectory() as folder:
        return _bgzip(folder, "s.bed.gz", text, index=False).read_bytes()


@st.composite
def mosdepth_corruptions(draw):
    """(file name, damaged 'text' before bgzip or 'compressed' bytes, with a .tbi?, the bytes)."""
    name = draw(st.sampled_from(["s.per-base.bed.gz", "s.regions.bed.gz"]))
    text = PER_BASE if "per-base" in name else REGIONS
    layer = draw(st.sampled_from(["text", "compressed"]))
    if layer == "text":
        return name, layer, False, draw(corruption(text))
    return name, layer, draw(st.booleans()), draw(corruption(_bgzf(text)))


@SETTINGS
@given(case=mosdepth_corruptions())
# the BGZF 'BC' extra field damaged: gzip but not BGZF, and pysam's tabix raised
# NotImplementedError ("seek not implemented in files compressed by method 1")
@example(
    case=(
        "s.per-base.bed.gz",
        "compressed",
        True,
        _bgzf(PER_BASE)[:12] + b"\x00" + _bgzf(PER_BASE)[13:],
    )
)
def test_mosdepth_corruptions_raise_only_input_error(case):
    name, layer, index, bad = case
    text = PER_BASE if "per-base" in name else REGIONS
    with tempfile.TemporaryDirectory() as folder:
        if layer == "text":
            path = _bgzip(folder, name, bad, index=False)
        else:
            path = _bgzip(folder, name, text, index=index)
            path.write_bytes(bad)  # the index, if any, is now stale
        _only_input_errors(lambda: read_depths(path, SITES), path)


@SETTINGS
@given(data=st.data())
def test_sv_vcf_bnd_corruptions_raise_only_input_error(data):
    good, _ = _manta_vcf(
        [
            (("1", 42_301_394, "+"), ("7", 29_223_528, "-"), (40, 3, 30, 9), "PASS"),
            (("12", 25_000_000, "-"), ("X", 9_000, "-"), (10, 0, 5, 2), "MinSomaticScore"),
        ]
    )
    bad = data.draw(corruption(good))
    with tempfile.TemporaryDirectory() as folder:
        path = _write(folder, "somaticSV.vcf", bad)
        _only_input_errors(lambda: read_sv_vcf(path, expected_build="GRCh38"), path)


# pysam's AlignmentFile, failing to open a damaged BAM, raises once more from its destructor
# (reported by pytest as unraisable): genotype.open_alignments has already raised InputError.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
@SETTINGS
@given(data=st.data())
def test_bam_corruptions_raise_only_input_error(data):
    reads = [
        (90, TOY_REFERENCE[89:119], [37] * 30, 60, 0),
        (95, TOY_REFERENCE[94:120], [37] * 26, 60, 16),
    ]
    with tempfile.TemporaryDirectory() as folder:
        path = _toy_bam(folder, reads)  # indexed while whole: the index goes stale
        path.write_bytes(data.draw(corruption(path.read_bytes())))
        _only_input_errors(lambda: count_alleles(path, [SITE]), path)


# Found by the property above with more examples: the EOF check seeked 28 bytes before the end
# of a shorter file (EINVAL), and htslib raises NotImplementedError on gzip that is not BGZF.
def test_bam_cut_to_its_gzip_magic_is_an_input_error():
    with tempfile.TemporaryDirectory() as folder:
        path = _toy_bam(folder, [(90, TOY_REFERENCE[89:119], [37] * 30, 60, 0)])
        path.write_bytes(b"\x1f\x8b\x08")
        _only_input_errors(lambda: count_alleles(path, [SITE]), path)


def test_bam_with_damaged_bgzf_header_is_an_input_error():
    with tempfile.TemporaryDirectory() as folder:
        path = _toy_bam(folder, [(90, TOY_REFERENCE[89:119], [37] * 30, 60, 0)])
        good = path.read_bytes()
        path.write_bytes(good[:12] + b"\x00" + good[13:])  # 'BC' extra field -> '\0C'
        _only_input_errors(lambda: count_alleles(path, [SITE]), path)
