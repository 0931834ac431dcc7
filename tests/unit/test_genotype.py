"""Re-genotyping counts equal bcftools/samtools mpileup on the same simulated BAM (issue 4).

SNVs are compared with ``bcftools mpileup -a AD`` (REF, ALT and the other bases, and FORMAT/DP),
indels with ``samtools mpileup`` (its per-read ``+n``/``-n`` markers at the anchor base):
bcftools' indel AD comes from its probabilistic realignment, which by design leaves out reads it
cannot place confidently, so it is not a count of alignments. Both tools run with the same read
filters, ``-B`` (no BAQ: the re-genotyper uses raw base qualities) and ``-A`` (keep non-proper
pairs, which the re-genotyper keeps too); with overlap detection on (their default) and off
(``-x``).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections import Counter
from pathlib import Path

import pysam
import pytest

from ctdna_resistance.errors import InputError
from ctdna_resistance.genotype import (
    GenotypeSettings,
    count_alleles,
)
from ctdna_resistance.simulate.bam import write_plasma_bam, write_reference

KRAS_WINDOW = ("12", 25244850, 25246150)
G12D = ("12", 25245350, "C", "T")
G12V = ("12", 25245350, "C", "A")
G13D = ("12", 25245347, "C", "T")
DELETION_POS = 25245700
INSERTION_POS = 25245900
DEFAULT_FLAGS = "UNMAP,SECONDARY,QCFAIL,DUP,SUPPLEMENTARY"

needs_bcftools = pytest.mark.skipif(
    shutil.which("bcftools") is None, reason="bcftools not on PATH (apt-get install bcftools)"
)
needs_samtools = pytest.mark.skipif(
    shutil.which("samtools") is None, reason="samtools not on PATH (apt-get install samtools)"
)


class Simulated:
    """A reference, a plasma BAM over KRAS with SNVs, a deletion and an insertion, and its sites."""

    def __init__(self, folder: Path, *, chr_style: bool = False, seed: int = 7):
        self.reference = folder / "ref.fa.gz"
        self.bam = folder / "plasma.bam"
        write_reference(
            self.reference, [KRAS_WINDOW], build="GRCh38", seed=1, chr_style=chr_style,
            known_bases=[(c, p, r) for c, p, r, _ in (G12D, G13D)],
        )  # fmt: skip
        fasta = pysam.FastaFile(str(self.reference))
        contig = fasta.references[0]
        deleted = fasta.fetch(contig, DELETION_POS - 1, DELETION_POS + 2)  # anchor + 2 bases
        anchor = fasta.fetch(contig, INSERTION_POS - 1, INSERTION_POS)
        self.deletion = ("12", DELETION_POS, deleted, deleted[0])
        self.insertion = ("12", INSERTION_POS, anchor, anchor + "GT")
        vafs = {G12D: 0.05, G12V: 0.02, G13D: 0.10, self.deletion: 0.08, self.insertion: 0.06}
        sites = [dict(zip(("chrom", "pos", "ref", "alt"), s, strict=True), vaf=v)
                 for s, v in vafs.items()]  # fmt: skip
        # A high error rate so that overlapping mates often disagree and "other" bases occur.
        write_plasma_bam(
            self.bam, self.reference, sites, sample="P1-T1", seed=seed, depth=250,
            error_rate=0.03, build="GRCh38",
        )  # fmt: skip
        self.contig = contig


@pytest.fixture(scope="module")
def simulated(tmp_path_factory) -> Simulated:
    return Simulated(tmp_path_factory.mktemp("regenotype"))


def _bcftools_snv(sim: Simulated, pos: int, *, overlaps: bool, flags: str = DEFAULT_FLAGS):
    """{allele: AD} and FORMAT/DP of bcftools mpileup's SNV record at ``pos``."""
    command = [
        "bcftools", "mpileup", "-f", str(sim.reference), "-r", f"{sim.contig}:{pos}-{pos}",
        "-a", "FORMAT/AD,FORMAT/DP", "-Q", "20", "-q", "20", "--ff", flags, "-d", "100000",
        "-B", "-A", "-I", *([] if overlaps else ["-x"]), str(sim.bam),
    ]  # fmt: skip
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    records = [line.split("\t") for line in output.splitlines() if not line.startswith("#")]
    assert len(records) == 1, output
    fields = records[0]
    alleles = [fields[3], *fields[4].split(",")]
    values = dict(zip(fields[8].split(":"), fields[9].split(":"), strict=True))
    depths = dict(zip(alleles, map(int, values["AD"].split(",")), strict=True))
    return depths, int(values["DP"])


def _samtools_pileup(sim: Simulated, pos: int, *, overlaps: bool) -> Counter:
    """Reads at ``pos`` by the indel that follows their base ('' = none), from samtools mpileup."""
    command = [
        "samtools", "mpileup", "-f", str(sim.reference), "-r", f"{sim.contig}:{pos}-{pos}",
        "-Q", "20", "-q", "20", "--ff", DEFAULT_FLAGS, "-d", "0", "-B", "-A",
        *([] if overlaps else ["-x"]), str(sim.bam),
    ]  # fmt: skip
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    bases = output.rstrip("\n").split("\t")[4]
    events: Counter = Counter()
    i = 0
    while i < len(bases):
        char = bases[i]
        i += 1
        if char == "^":  # read start: the next character is its MAPQ
            i += 1
            continue
        if char == "$":
            continue
        marker = re.match(r"[+-](\d+)", bases[i:])
        event = ""
        if marker:
            length = int(marker.group(1))
            start = i + len(marker.group(0))
            event = bases[i] + bases[start : start + length].upper()
            i = start + length
        events[event] += 1
    return events


@needs_bcftools
@pytest.mark.parametrize("overlaps", [True, False], ids=["overlap-detection", "no-overlap-x"])
@pytest.mark.parametrize("site", [G12D, G12V, G13D], ids=["G12D", "G12V", "G13D"])
def test_snv_counts_equal_bcftools_ad(simulated, site, overlaps):
    settings = GenotypeSettings(count_overlapping_mates_once=overlaps)
    (count,) = count_alleles(simulated.bam, [site], settings=settings, expected_build="GRCh38")
    depths, dp = _bcftools_snv(simulated, site[1], overlaps=overlaps)
    ref, alt = site[2], site[3]
    assert count.ref_reads == depths[ref]
    assert count.alt_reads == depths.get(alt, 0)
    assert count.other_reads == sum(n for a, n in depths.items() if a not in (ref, alt, "<*>"))
    assert count.depth == dp
    assert count.alt_reads > 0 and count.other_reads > 0  # the comparison is not vacuous


@needs_bcftools
def test_overlap_rule_changes_counts_like_bcftools(simulated):
    once, twice = (
        count_alleles(
            simulated.bam, [G13D], settings=GenotypeSettings(count_overlapping_mates_once=o)
        )[0]
        for o in (True, False)
    )
    assert twice.depth > once.depth  # many mates overlap the site: the fragment counts once


@needs_bcftools
@pytest.mark.parametrize(
    ("settings", "flags"),
    [
        (GenotypeSettings(skip_duplicates=False), "UNMAP,SECONDARY,QCFAIL,SUPPLEMENTARY"),
        (GenotypeSettings(skip_secondary=False, skip_supplementary=False), "UNMAP,QCFAIL,DUP"),
        (GenotypeSettings(skip_qcfail=False), "UNMAP,SECONDARY,DUP,SUPPLEMENTARY"),
    ],
    ids=["keep-duplicates", "keep-secondary-supplementary", "keep-qcfail"],
)
def test_each_read_filter_matters_and_matches_bcftools(simulated, settings, flags):
    (default,) = count_alleles(simulated.bam, [G12D])
    (count,) = count_alleles(simulated.bam, [G12D], settings=settings)
    depths, dp = _bcftools_snv(simulated, G12D[1], overlaps=True, flags=flags)
    assert count.depth > default.depth
    assert (count.ref_reads, count.alt_reads, count.depth) == (depths["C"], depths.get("T", 0), dp)


@needs_bcftools
def test_quality_thresholds_match_bcftools(simulated):
    settings = GenotypeSettings(min_base_quality=30, min_mapping_quality=30)
    (count,) = count_alleles(simulated.bam, [G13D], settings=settings)
    command = [
        "bcftools", "mpileup", "-f", str(simulated.reference), "-r",
        f"{simulated.contig}:{G13D[1]}-{G13D[1]}", "-a", "FORMAT/AD", "-Q", "30", "-q", "30",
        "--ff", DEFAULT_FLAGS, "-d", "100000", "-B", "-A", "-I", "--delta-BQ", "99",
        str(simulated.bam),
    ]  # fmt: skip
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    fields = next(line for line in output.splitlines() if not line.startswith("#")).split("\t")
    alleles = [fields[3], *fields[4].split(",")]
    ad = dict(zip(alleles, map(int, fields[9].split(":")[-1].split(",")), strict=True))
    assert (count.ref_reads, count.alt_reads) == (ad["C"], ad.get("T", 0))
    (default,) = count_alleles(simulated.bam, [G13D])
    assert count.depth < default.depth


@needs_samtools
@pytest.mark.parametrize("overlaps", [True, False], ids=["overlap-detection", "no-overlap-x"])
def test_indel_counts_equal_samtools_mpileup(simulated, overlaps):
    settings = GenotypeSettings(count_overlapping_mates_once=overlaps)
    deletion, insertion = count_alleles(
        simulated.bam, [simulated.deletion, simulated.insertion], settings=settings,
        reference=str(simulated.reference),
    )  # fmt: skip
    for count, site, marker in (
        (deletion, simulated.deletion, "-" + simulated.deletion[2][1:]),
        (insertion, simulated.insertion, "+GT"),
    ):
        events = _samtools_pileup(simulated, site[1], overlaps=overlaps)
        assert count.alt_reads == events[marker] > 0
        assert count.ref_reads == events[""]
        assert count.other_reads == sum(events.values()) - events[marker] - events[""]
        assert count.depth == sum(events.values())


def test_contig_style_of_the_bam_does_not_change_counts(simulated, tmp_path):
    prefixed = Simulated(tmp_path, chr_style=True)
    assert prefixed.contig == "chr12"
    sites = [G12D, G13D, simulated.deletion, simulated.insertion]
    assert count_alleles(prefixed.bam, sites) == count_alleles(simulated.bam, sites)


def test_counts_are_returned_in_site_order_with_panel_style_names(simulated):
    counts = count_alleles(simulated.bam, [G13D, G12D])
    assert [(c.chrom, c.pos, c.alt) for c in counts] == [("12", G13D[1], "T"), ("12", G12D[1], "T")]
    assert all(c.depth == c.ref_reads + c.alt_reads + c.other_reads for c in counts)
    assert 0.02 < counts[1].vaf < 0.10  # truth VAF 5%


# --- hand-built BAMs: each rule with a known answer -------------------------------------------

REF_SEQUENCE = "ACGTACGTAC" * 10  # contig "12" of a 100 bp toy reference, 1-based positions


def _toy_bam(folder: Path, reads: list[dict]) -> Path:
    """An indexed BAM on a toy contig '12'; each read dict gives name/start/cigar/seq/quals/flag."""
    header = {"HD": {"VN": "1.6", "SO": "coordinate"}, "SQ": [{"SN": "12", "LN": 100}]}
    path = folder / "toy.bam"
    with pysam.AlignmentFile(str(path), "wb", header=header) as out:
        for spec in sorted(reads, key=lambda r: r["start"]):
            read = pysam.AlignedSegment(out.header)
            read.query_name = spec["name"]
            read.reference_id = 0
            read.reference_start = spec["start"] - 1
            read.cigarstring = spec.get("cigar", f"{len(spec['seq'])}M")
            read.query_sequence = spec["seq"]
            read.query_qualities = pysam.qualitystring_to_array(
                "".join(chr(33 + q) for q in spec.get("quals", [30] * len(spec["seq"])))
            )
            read.mapping_quality = spec.get("mapq", 60)
            read.flag = spec.get("flag", 0)
            if read.flag & 1:
                read.next_reference_id = 0
                read.next_reference_start = spec["mate_start"] - 1
                read.template_length = spec.get("tlen", 0)
            out.write(read)
    pysam.index(str(path))
    return path


def _with_base(position: int, base: str, start: int = 1, length: int = 20) -> str:
    sequence = list(REF_SEQUENCE[start - 1 : start - 1 + length])
    sequence[position - start] = base
    return "".join(sequence)


def _pair(name: str, left: str, right: str, *, left_q: int = 30, right_q: int = 30) -> list[dict]:
    """Mates 1-20 and 6-25 (overlapping over 6-20) carrying the given sequences."""
    return [
        dict(name=name, start=1, seq=left, quals=[left_q] * 20, flag=1 | 2 | 32 | 64,
             mate_start=6, tlen=25),
        dict(name=name, start=6, seq=right, quals=[right_q] * 20, flag=1 | 2 | 16 | 128,
             mate_start=1, tlen=-25),
    ]  # fmt: skip


def test_overlapping_mates_count_once_and_disagreeing_mates_follow_htslib(tmp_path):
    # Position 10 is C in the reference (ACGTACGTAC...).
    agree = _pair("agree", _with_base(10, "T"), _with_base(10, "T", start=6))
    # Each mate at Q12 alone fails Q20; together (12 + 12 = 24) htslib counts the fragment once.
    weak = _pair("weak", _with_base(10, "T"), _with_base(10, "T", start=6), left_q=12, right_q=12)
    # Mates disagree: the Q35 mate's base wins at int(0.8 * 35) = 28 >= 20.
    disagree = _pair("disagree", _with_base(10, "C"), _with_base(10, "T", start=6), right_q=35)
    # Disagree at Q22 each: int(0.8 * 22) = 17 < 20, so the fragment is not counted at all.
    lost = _pair("lost", _with_base(10, "C"), _with_base(10, "T", start=6), left_q=22, right_q=22)
    bam = _toy_bam(tmp_path, agree + weak + disagree + lost)
    (count,) = count_alleles(bam, [("12", 10, "C", "T")])
    core = (count.depth, count.alt_reads, count.ref_reads, count.other_reads)
    assert core == (3, 3, 0, 0)
    (each,) = count_alleles(
        bam, [("12", 10, "C", "T")], settings=GenotypeSettings(count_overlapping_mates_once=False)
    )
    # Counted per read: agree 2 alt; weak none (Q12); disagree 1 ref + 1 alt; lost 1 ref + 1 alt.
    assert (each.alt_reads, each.ref_reads) == (4, 2)


def test_read_filters_skip_what_they_say(tmp_path):
    alt = _with_base(10, "T")
    reads = [
        dict(name="kept", start=1, seq=alt),
        dict(name="dup", start=1, seq=alt, flag=0x400),
        dict(name="secondary", start=1, seq=alt, flag=0x100),
        dict(name="supplementary", start=1, seq=alt, flag=0x800),
        dict(name="qcfail", start=1, seq=alt, flag=0x200),
        dict(name="lowmapq", start=1, seq=alt, mapq=19),
        dict(name="lowbq", start=1, seq=alt, quals=[30] * 9 + [19] + [30] * 10),
        dict(name="mapq255", start=1, seq=alt, mapq=255),
    ]
    bam = _toy_bam(tmp_path, reads)
    (count,) = count_alleles(bam, [("12", 10, "C", "T")])
    assert count.alt_reads == 2  # "kept" and MAPQ 255 (unavailable, not low)
    keep_all = GenotypeSettings(
        min_base_quality=0, min_mapping_quality=0, skip_duplicates=False, skip_secondary=False,
        skip_supplementary=False, skip_qcfail=False,
    )  # fmt: skip
    assert count_alleles(bam, [("12", 10, "C", "T")], settings=keep_all)[0].alt_reads == 8


def test_mnv_and_indels_are_counted_by_their_alignment(tmp_path):
    ref = REF_SEQUENCE[:30]
    alt_mnv = ref[:9] + "TT" + ref[11:20]  # positions 10-11 replaced
    reads = [
        dict(name="mnv", start=1, seq=alt_mnv),
        dict(name="half", start=1, seq=ref[:9] + "T" + ref[10:20]),  # one base of two
        dict(name="low", start=1, seq=alt_mnv, quals=[30] * 10 + [5] + [30] * 9),
        dict(name="refread", start=1, seq=ref[:20]),
        dict(name="del", start=1, cigar="10M2D10M", seq=ref[:10] + ref[12:22]),
        dict(name="del1", start=1, cigar="10M1D10M", seq=ref[:10] + ref[11:21]),
        dict(name="ins", start=1, cigar="10M2I8M", seq=ref[:10] + "AA" + ref[10:18]),
        dict(name="insother", start=1, cigar="10M2I8M", seq=ref[:10] + "CC" + ref[10:18]),
        dict(name="after", start=11, seq=ref[10:30]),  # starts after the anchor: not counted
    ]
    bam = _toy_bam(tmp_path, reads)
    mnv, deletion, insertion = count_alleles(
        bam,
        [
            ("12", 10, ref[9:11], "TT"),
            ("12", 10, ref[9:12], ref[9]),
            ("12", 10, ref[9], ref[9] + "AA"),
        ],
    )
    # MNV: reads with a deletion inside it do not inform it; the Q5 base drops "low".
    assert (mnv.alt_reads, mnv.ref_reads, mnv.other_reads) == (1, 3, 1)
    # Indels: every read with the anchor base; another indel there is "other".
    assert (deletion.alt_reads, deletion.ref_reads, deletion.other_reads) == (1, 4, 3)
    assert (insertion.alt_reads, insertion.ref_reads, insertion.other_reads) == (1, 4, 3)


@needs_samtools
def test_tied_disagreeing_mates_keep_the_base_htslib_keeps(tmp_path):
    # Equal qualities and different bases: htslib keeps one mate (by a hash of the read name)
    # at int(0.8 * 30) = 24 >= 20; the name decides whether REF or ALT is counted.
    names = [f"frag{i}" for i in range(12)]
    reads = [
        read
        for name in names
        for read in _pair(name, _with_base(10, "C"), _with_base(10, "T", start=6))
    ]
    bam = _toy_bam(tmp_path, reads)
    (count,) = count_alleles(bam, [("12", 10, "C", "T")])
    output = subprocess.run(
        ["samtools", "mpileup", "-Q", "20", "-q", "20", "-B", "-A", "-r", "12:10-10", str(bam)],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    bases = re.sub(r"\^.|\$", "", output.split("\t")[4]).upper()
    # Without -f samtools prints the bases themselves ("C"), not "." for REF.
    assert (count.ref_reads, count.alt_reads) == (bases.count("C"), bases.count("T"))
    assert count.depth == len(names) and 0 < count.alt_reads < len(names)


# --- bad input --------------------------------------------------------------------------------


def test_missing_bam_is_refused(tmp_path):
    with pytest.raises(InputError, match=r"missing\.bam: BAM/CRAM file not found"):
        count_alleles(tmp_path / "missing.bam", [G12D])


def test_bam_without_index_is_refused(simulated, tmp_path):
    bam = tmp_path / "noindex.bam"
    shutil.copy(simulated.bam, bam)
    with pytest.raises(InputError, match=r"noindex\.bam: no index .*samtools index"):
        count_alleles(bam, [G12D])


def test_truncated_bam_is_refused(simulated, tmp_path):
    bam = tmp_path / "truncated.bam"
    data = simulated.bam.read_bytes()
    bam.write_bytes(data[: len(data) // 2])
    shutil.copy(f"{simulated.bam}.bai", f"{bam}.bai")
    with pytest.raises(InputError, match=r"truncated\.bam: truncated BAM") as error:
        count_alleles(bam, [G12D])
    assert "\n" not in str(error.value)


def test_corrupt_bam_body_is_refused(simulated, tmp_path):
    bam = tmp_path / "corrupt.bam"
    data = bytearray(simulated.bam.read_bytes())
    middle = len(data) // 2
    data[middle : middle + 2000] = bytes(2000)  # zeroed block in the middle, EOF block intact
    bam.write_bytes(bytes(data))
    shutil.copy(f"{simulated.bam}.bai", f"{bam}.bai")
    with pytest.raises(InputError, match=r"corrupt\.bam: cannot read alignments"):
        count_alleles(bam, [G12D, G13D, ("12", 25245800, "A", "C"), simulated.insertion])


def test_bam_of_the_other_build_is_refused(simulated):
    with pytest.raises(
        InputError, match=r"@SQ 1 has length 248956422 \(the GRCh38 length\).*GRCh37"
    ):
        count_alleles(simulated.bam, [G12D], expected_build="GRCh37")


def test_bam_with_nonstandard_contig_lengths_is_refused(tmp_path):
    bam = _toy_bam(tmp_path, [dict(name="r", start=1, seq=REF_SEQUENCE[:20])])
    with pytest.raises(InputError, match=r"@SQ 12 has length 100 \(no known build's length\)"):
        count_alleles(bam, [("12", 10, "C", "T")], expected_build="GRCh38")


def test_site_on_a_contig_the_bam_lacks_is_refused(simulated):
    with pytest.raises(InputError, match=r"plasma\.bam: no contig MT"):
        count_alleles(simulated.bam, [("chrM", 100, "A", "C")])


def test_ref_that_disagrees_with_the_reference_is_refused(simulated):
    wrong = ("12", G12D[1], "G", "T")
    with pytest.raises(
        InputError, match=r"ref\.fa\.gz: REF G at 12:25245350 but the reference has C"
    ):
        count_alleles(simulated.bam, [wrong], reference=str(simulated.reference))


def test_not_a_bam_is_refused(tmp_path):
    path = tmp_path / "calls.bam"
    path.write_text("##fileformat=VCFv4.2\n")
    with pytest.raises(InputError, match=r"calls\.bam: not a BAM or CRAM"):
        count_alleles(path, [G12D])


@needs_samtools
@pytest.mark.parametrize("site", [G12D, G13D], ids=["G12D", "G13D"])
def test_strand_counts_equal_samtools_mpileup(simulated, site):
    """Forward/reverse alt reads (the strand-aware test's input) as samtools mpileup prints them:
    upper case on the forward strand, lower case on the reverse."""
    (count,) = count_alleles(simulated.bam, [site], expected_build="GRCh38")
    command = [
        "samtools", "mpileup", "-r", f"{simulated.contig}:{site[1]}-{site[1]}", "-Q", "20",
        "-q", "20", "--ff", DEFAULT_FLAGS, "-d", "0", "-B", "-A", str(simulated.bam),
    ]  # fmt: skip
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    bases = re.sub(r"\^.|\$", "", output.rstrip("\n").split("\t")[4])
    while (marker := re.search(r"[+-](\d+)", bases)) is not None:
        bases = bases[: marker.start()] + bases[marker.end() + int(marker.group(1)) :]
    alt = site[3]
    assert (count.alt_fwd, count.alt_rev) == (bases.count(alt), bases.count(alt.lower()))
    depth_fwd = sum(bases.count(b) for b in "ACGTN")
    assert (count.depth_fwd, count.depth_rev) == (depth_fwd, sum(bases.count(b) for b in "acgtn"))
    assert count.alt_fwd > 0 and count.alt_rev > 0
