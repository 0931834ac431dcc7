"""The simulator's normal plasmas (test_data/normals/): valid BAMs whose pileups give the truth.

Counts come from `samtools mpileup` with the re-genotyper's filters (base and mapping quality
>= 20; duplicate, secondary, supplementary and QC-fail reads skipped; overlapping mates once),
checked against the re-genotyper itself at the artefact and CHIP alleles.
"""

from __future__ import annotations

import csv
import gzip
import math
import shutil
import subprocess
from collections import Counter
from pathlib import Path

import pysam
import pytest
import yaml

from ctdna_resistance.genome import CONTIG_LENGTHS
from ctdna_resistance.genotype import count_alleles
from ctdna_resistance.panel import load_panel
from ctdna_resistance.records import normalise_contig
from ctdna_resistance.simulate import simulate_cohort
from ctdna_resistance.simulate.normals import (
    design_background,
    substitution_class,
    write_normal_plasmas,
)

REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / "test_data"
NORMALS = DEMO / "normals"
PANEL = REPO / "panels" / "anti_egfr_crc.yaml"
FLAGS = "UNMAP,SECONDARY,QCFAIL,DUP,SUPPLEMENTARY"

needs_samtools = pytest.mark.skipif(
    shutil.which("samtools") is None, reason="samtools not on PATH (apt-get install samtools)"
)


def read_tsv(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


@pytest.fixture(scope="module")
def params() -> dict:
    return yaml.safe_load((DEMO / "params.yaml").read_text())


@pytest.fixture(scope="module")
def reference(params) -> Path:
    return DEMO / params["reference"]["path"]


@pytest.fixture(scope="module")
def sheet() -> list[dict[str, str]]:
    return read_tsv(NORMALS / "normals.tsv")


@pytest.fixture(scope="module")
def truth() -> list[dict[str, str]]:
    return read_tsv(NORMALS / "truth_sites.tsv")


@pytest.fixture(scope="module")
def pileup(params, reference, sheet, tmp_path_factory) -> dict:
    """{(chrom, pos): [Counter of bases per normal]} over every window, from samtools mpileup."""
    bed = tmp_path_factory.mktemp("pileup") / "windows.bed"
    chr_style = params["reference"]["contig_style"] == "chr"
    bed.write_text(
        "".join(
            f"{'chr' if chr_style else ''}{c}\t{s - 1}\t{e}\n"
            for c, s, e in params["normals"]["windows"]
        )
    )
    command = [
        "samtools", "mpileup", "-f", str(reference), "-l", str(bed), "-Q", "20", "-q", "20",
        "--ff", FLAGS, "-d", "0", "-B", *(str(NORMALS / row["bam"]) for row in sheet),
    ]  # fmt: skip
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    counts = {}
    for line in output.splitlines():
        fields = line.split("\t")
        per_normal = []
        for column in range(4, len(fields), 3):
            bases = fields[column]
            tally: Counter = Counter()
            i = 0
            while i < len(bases):
                char = bases[i]
                if char == "^":  # read start, then its MAPQ character
                    i += 2
                    continue
                if char in ".,":
                    tally["ref"] += 1
                elif char.upper() in "ACGT":
                    tally[char.upper()] += 1
                i += 1
            per_normal.append(tally)
        counts[(normalise_contig(fields[0]), int(fields[1]))] = per_normal
    return counts


def depth(tally: Counter) -> int:
    return sum(tally.values())


def test_sheet_names_each_normal_and_its_indexed_sorted_bam(sheet, params):
    assert [row["sample"] for row in sheet] == params["normals"]["samples"]
    assert 6 <= len(sheet) <= 8
    for row in sheet:
        path = NORMALS / row["bam"]  # relative to the sheet's folder
        assert Path(f"{path}.bai").is_file()
        with pysam.AlignmentFile(str(path)) as bam:
            assert bam.check_index()
            header = bam.header.to_dict()
            assert header["HD"]["SO"] == "coordinate"
            assert [rg["SM"] for rg in header["RG"]] == [row["sample"]]
            lengths = {normalise_contig(sq["SN"]): sq["LN"] for sq in header["SQ"]}
            assert lengths == dict(CONTIG_LENGTHS["GRCh38"])
            previous = (-1, -1)
            flags = Counter()
            for read in bam.fetch(until_eof=True):
                here = (read.reference_id, read.reference_start)
                assert here >= previous
                previous = here
                assert read.get_tag("RG") == row["sample"]
                flags.update(
                    name for name, bit in (("dup", 0x400), ("secondary", 0x100),
                                           ("supplementary", 0x800), ("qcfail", 0x200))
                    if read.flag & bit
                )  # fmt: skip
                flags["low_mapq"] += read.mapping_quality < 20
                flags["low_bq"] += min(read.query_qualities) < 20
            # every read filter of the re-genotyper has something to remove
            assert all(flags[k] > 0 for k in ("dup", "secondary", "supplementary", "qcfail"))
            assert flags["low_mapq"] > 0 and flags["low_bq"] > 0


def test_truth_has_every_window_position_with_its_reference_context(truth, params, reference):
    fasta = pysam.FastaFile(str(reference))
    style = {normalise_contig(name): name for name in fasta.references}
    positions = {
        (c, p) for c, s, e in params["normals"]["windows"] for p in range(s, e + 1)
    }  # fmt: skip
    assert {(r["chrom"], int(r["pos"])) for r in truth} == positions
    assert len(truth) == 3 * len(positions)
    for row in truth:
        pos = int(row["pos"])
        context = fasta.fetch(style[row["chrom"]], pos - 2, pos + 1).upper()
        assert row["context"] == context and row["ref"] == context[1] != row["alt"]
        assert row["substitution_class"] == substitution_class(context, row["alt"])[1]
        assert row["substitution_class"][0] in "CT"
        assert 0 <= float(row["true_mean_error"]) < 0.01
    contexts = read_tsv(NORMALS / "truth_contexts.tsv")
    assert len({(r["context"], r["substitution_class"]) for r in contexts}) == 96


def test_artefacts_and_chip_sit_at_panel_hotspots_the_patients_do_not_carry(truth):
    panel = load_panel(PANEL, "GRCh38")
    special = [r for r in truth if r["kind"] != "clean"]
    kinds = Counter(r["kind"] for r in special)
    assert 2 <= kinds["recurrent_artefact"] <= 3 and kinds["chip_like"] == 1
    carried = {
        (r["chrom"], r["pos"], r["ref"], r["alt"])
        for r in read_tsv(DEMO / "truth.tsv")
        if r["kind"] == "snv" and r["category"] != "artefact"  # what the patients truly carry
    }
    n_normals = len(read_tsv(NORMALS / "normals.tsv"))
    for row in special:
        key = (row["chrom"], int(row["pos"]), row["ref"], row["alt"])
        assert panel.hotspots[key].protein == row["protein"]
        assert (row["chrom"], row["pos"], row["ref"], row["alt"]) not in carried
        carriers = row["carriers"].split(",")
        assert int(row["n_normals_carrying"]) == len(carriers)
        if row["kind"] == "recurrent_artefact":
            assert 0.002 <= float(row["true_mean_error"]) <= 0.006
            assert len(carriers) >= n_normals - 1  # most normals
        else:
            assert 2 <= len(carriers) <= 3
            vafs = [float(row[f"true_af_{name}"]) for name in carriers]
            assert all(0.01 <= v <= 0.04 for v in vafs) and max(vafs) / min(vafs) < 1.5


@needs_samtools
def test_pooled_errors_agree_with_the_truth(truth, pileup, sheet):
    names = [row["sample"] for row in sheet]
    pooled = {}
    for row in truth:
        tallies = pileup[(row["chrom"], int(row["pos"]))]
        alt = sum(t[row["alt"]] for t in tallies)
        expected = sum(
            depth(t) * float(row[f"true_af_{n}"]) for t, n in zip(tallies, names, strict=True)
        )
        pooled[(row["chrom"], row["pos"], row["alt"])] = (
            row,
            alt,
            expected,
            sum(map(depth, tallies)),
        )
    for row, alt, expected, total in pooled.values():
        assert 1_500 * len(names) * 0.8 <= total <= 3_000 * len(names)
        if row["kind"] != "clean":
            assert abs(alt - expected) <= 4 * math.sqrt(expected) + 2, row["protein"]
    artefact = [alt / total for row, alt, _, total in pooled.values()
                if row["kind"] == "recurrent_artefact"]  # fmt: skip
    clean = sorted(alt / total for row, alt, _, total in pooled.values() if row["kind"] == "clean")
    assert clean[len(clean) // 2] < min(artefact) / 20
    assert sum(fraction >= min(artefact) / 2 for fraction in clean) <= 0.01 * len(clean)
    # the clean sites together: sequencing-error reads as many as the truth says
    observed = sum(alt for row, alt, _, _ in pooled.values() if row["kind"] == "clean")
    expected = sum(e for row, _, e, _ in pooled.values() if row["kind"] == "clean")
    assert abs(observed - expected) <= 0.1 * expected


@needs_samtools
def test_chip_site_is_carried_only_by_its_carriers(truth, pileup, sheet):
    row = next(r for r in truth if r["kind"] == "chip_like")
    carriers = set(row["carriers"].split(","))
    tallies = pileup[(row["chrom"], int(row["pos"]))]
    for normal, tally in zip((r["sample"] for r in sheet), tallies, strict=True):
        fraction = tally[row["alt"]] / depth(tally)
        if normal in carriers:
            assert 0.007 <= fraction <= 0.05, normal
        else:
            assert fraction < 0.003, normal


@needs_samtools
def test_the_re_genotyper_counts_what_samtools_counts(truth, pileup, sheet, reference):
    special = [r for r in truth if r["kind"] != "clean"]
    sites = [(r["chrom"], int(r["pos"]), r["ref"], r["alt"]) for r in special]
    for index, row in enumerate(sheet):
        counts = count_alleles(
            NORMALS / row["bam"], sites, reference=str(reference), expected_build="GRCh38",
            expected_samples=[row["sample"]],
        )  # fmt: skip
        for site, count in zip(sites, counts, strict=True):
            tally = pileup[(site[0], site[1])][index]
            assert (count.alt_reads, count.depth) == (tally[site[3]], depth(tally)), site


def test_reference_holds_the_panel_codons_in_the_windows_and_keeps_the_patients_bases(
    params, reference
):
    fasta = pysam.FastaFile(str(reference))
    style = {normalise_contig(name): name for name in fasta.references}
    kept = [tuple(r) for r in params["reference"]["regions"]]
    panel = load_panel(PANEL, "GRCh38")
    checked = 0
    for chrom, start, end in params["normals"]["windows"]:
        for codon in panel.codons:
            inside_kept = any(c == chrom and s <= codon.start <= e for c, s, e in kept)
            overlaps = codon.chrom == chrom and codon.start <= end and start <= codon.end
            if not overlaps or inside_kept:
                continue
            genomic = fasta.fetch(style[chrom], codon.start - 1, codon.end).upper()
            if codon.strand == "-":
                genomic = genomic.translate(str.maketrans("ACGT", "TGCA"))[::-1]
            assert genomic == codon.ref_codon, (codon.gene, codon.number)
            checked += 1
    assert checked >= 8
    # the patients' BAM windows have no N (their reads were drawn from these very bases)
    for chrom, start, end in kept:
        assert "N" not in fasta.fetch(style[chrom], start - 1, end).upper()


def _small_normals(folder: Path, seed: int) -> Path:
    (folder / "reference").mkdir(parents=True)
    design = design_background(seed, PANEL, "GRCh38", n_normals=2)
    reference = {"path": "reference/ref.fa.gz", "regions": [], "contig_style": "nochr"}
    write_normal_plasmas(folder, design, reference=reference, fragments_per_window=(150, 200))
    return folder


def test_same_seed_gives_byte_identical_normals(tmp_path):
    first = _small_normals(tmp_path / "a", seed=5)
    second = _small_normals(tmp_path / "b", seed=5)
    other = _small_normals(tmp_path / "c", seed=6)
    files = sorted(p.relative_to(first) for p in first.rglob("*") if p.is_file())
    assert Path("normals/HD02.bam") in files and Path("normals/HD02.bam.bai") in files
    for rel in files:
        assert (first / rel).read_bytes() == (second / rel).read_bytes(), rel
    assert (first / "normals/HD01.bam").read_bytes() != (other / "normals/HD01.bam").read_bytes()


def _without_artefacts(path: Path, artefact_sites: set[tuple[str, str]]) -> bytes:
    """A VCF's text or truth.tsv without the rows at the normals' artefact alleles."""
    if path.name.endswith(".vcf.gz"):
        text = gzip.decompress(path.read_bytes()).decode()
    else:
        text = path.read_text()
    kept = []
    for line in text.splitlines():
        fields = line.split("\t")
        if path.name == "truth.tsv":
            if fields[3] == "artefact":
                continue
        elif (
            not line.startswith("#") and (normalise_contig(fields[0]), fields[1]) in artefact_sites
        ):
            continue
        kept.append(line)
    return "\n".join(kept).encode()


def test_patients_files_do_not_depend_on_the_normals_but_for_the_artefacts(tmp_path):
    without = tmp_path / "without"
    with_normals = tmp_path / "with"
    simulate_cohort(without, seed=4, n_patients=2, n_draws=2, panel_path=PANEL, n_normals=0)
    simulate_cohort(with_normals, seed=4, n_patients=2, n_draws=2, panel_path=PANEL, n_normals=2)
    assert not (without / "normals").exists()
    truth = read_tsv(with_normals / "truth.tsv")
    artefact_sites = {(r["chrom"], r["pos"]) for r in truth if r["category"] == "artefact"}
    assert len(artefact_sites) == 3
    for path in without.rglob("*"):
        rel = path.relative_to(without)
        if not path.is_file() or rel.parts[0] == "reference" or rel.name == "params.yaml":
            continue
        if rel.name.endswith(".tbi"):
            continue  # the index of a VCF that gained records
        other = with_normals / rel
        if rel.name == "truth.tsv" or (".vcf" in rel.name and rel.parts[0] == "vcf"):
            same = _without_artefacts(path, artefact_sites) == _without_artefacts(
                other, artefact_sites
            )
        else:
            same = path.read_bytes() == other.read_bytes()
        assert same, rel


def test_every_draw_carries_the_artefacts_at_their_error_rate():
    truth = [r for r in read_tsv(DEMO / "truth.tsv") if r["category"] == "artefact"]
    sites = read_tsv(NORMALS / "truth_sites.tsv")
    artefacts = {
        (r["chrom"], r["pos"], r["ref"], r["alt"]): r
        for r in sites
        if r["kind"] == "recurrent_artefact"
    }
    # every sequenced draw (a draw measured only by ddPCR has no reads to carry them)
    samples = {r["sample"] for r in read_tsv(DEMO / "samples.tsv") if r["vcf"] or r["bam"]}
    assert any(not r["vcf"] for r in read_tsv(DEMO / "samples.tsv"))
    assert {(r["sample"], r["chrom"], r["pos"], r["ref"], r["alt"]) for r in truth} == {
        (sample, *key) for sample in samples for key in artefacts
    }
    for key, site in artefacts.items():
        rows = [r for r in truth if (r["chrom"], r["pos"], r["ref"], r["alt"]) == key]
        assert all(r["gene"] == site["gene"] and r["protein"] == site["protein"] for r in rows)
        alt = sum(int(r["alt_reads"]) for r in rows)
        depth = sum(int(r["depth"]) for r in rows)
        mean = float(site["true_mean_error"])
        # per-draw rates from the site's Beta: pooled, close to its mean
        assert abs(alt - depth * mean) <= 4 * math.sqrt(depth * mean) + 0.5 * depth * mean
        for r in rows:
            assert r["in_vcf"] == str(int(int(r["alt_reads"]) > 0))
            assert r["clone"] == "" and r["kind"] == "snv"
