"""The simulator's tiny reference FASTA and plasma BAMs: real coordinates, panel REF bases, the
read model (ALT at the truth VAF, errors, duplicates, low MAPQ, overlapping mates), determinism."""

from __future__ import annotations

from pathlib import Path

import pysam
import pytest

from ctdna_resistance.genome import CONTIG_LENGTHS
from ctdna_resistance.genotype import count_alleles
from ctdna_resistance.simulate.bam import write_plasma_bam, write_reference
from ctdna_resistance.simulate.panel_sites import read_panel_sites

PANEL = Path(__file__).parents[2] / "panels" / "anti_egfr_crc.yaml"


@pytest.fixture(scope="module")
def panel_reference(tmp_path_factory):
    """A GRCh38 reference for every panel hotspot (+-400 bp), REF bases from the panel."""
    sites = read_panel_sites(PANEL, "GRCh38")
    path = tmp_path_factory.mktemp("reference") / "panel.fa.gz"
    write_reference(
        path, [(h.chrom, h.pos - 400, h.pos + 400) for h in sites.hotspots], build="GRCh38",
        seed=3, known_bases=[(h.chrom, h.pos, h.ref) for h in sites.hotspots],
    )  # fmt: skip
    return path, sites


def test_reference_keeps_real_coordinates_and_the_panel_ref_bases(panel_reference):
    path, sites = panel_reference
    fasta = pysam.FastaFile(str(path))
    assert set(fasta.references) == {h.chrom for h in sites.hotspots}
    for spot in sites.hotspots:
        assert fasta.fetch(spot.chrom, spot.pos - 1, spot.pos - 1 + len(spot.ref)) == spot.ref
    kras = next(h for h in sites.hotspots if h.gene == "KRAS" and h.protein == "p.G12D")
    window = fasta.fetch("12", kras.pos - 401, kras.pos + 400)
    assert "N" not in window and set(window) <= set("ACGT")
    assert set(fasta.fetch("12", kras.pos - 5000, kras.pos - 4000)) == {"N"}
    # Each contig ends with its last window, within the real chromosome.
    last = max(h.pos for h in sites.hotspots if h.chrom == "12")
    assert fasta.get_reference_length("12") == last + 400 <= CONTIG_LENGTHS["GRCh38"]["12"]


def test_reference_for_the_whole_panel_stays_small(panel_reference):
    path, _ = panel_reference
    total = sum(Path(f"{path}{suffix}").stat().st_size for suffix in ("", ".fai", ".gzi"))
    # Six chromosomes up to 179 Mb of N cost ~2 kB per Mb (see simulate/bam.py).
    assert total < 1_200_000


def test_reference_is_deterministic_and_seeded(tmp_path):
    regions = [("12", 25245000, 25245700)]
    for name, seed in (("a.fa.gz", 1), ("b.fa.gz", 1), ("c.fa.gz", 2)):
        write_reference(tmp_path / name, regions, build="GRCh38", seed=seed)
    assert (tmp_path / "a.fa.gz").read_bytes() == (tmp_path / "b.fa.gz").read_bytes()
    assert (tmp_path / "a.fa.gz").read_bytes() != (tmp_path / "c.fa.gz").read_bytes()


def test_reference_refuses_regions_outside_the_build(tmp_path):
    with pytest.raises(ValueError, match="outside"):
        write_reference(tmp_path / "r.fa.gz", [("21", 48_000_000, 48_001_000)], build="GRCh38",
                        seed=1)  # fmt: skip
    with pytest.raises(ValueError, match="outside the reference regions"):
        write_reference(tmp_path / "r.fa.gz", [("12", 100, 200)], build="GRCh38", seed=1,
                        known_bases=[("12", 500, "A")])  # fmt: skip


@pytest.fixture(scope="module")
def plasma(panel_reference, tmp_path_factory):
    path, sites = panel_reference
    by_protein = {(h.gene, h.protein, h.alt): h for h in sites.hotspots}
    g12d = by_protein[("KRAS", "p.G12D", "T")]
    v600e = by_protein[("BRAF", "p.V600E", "T")]
    v600k = by_protein[("BRAF", "p.V600K", "TT")]
    truth = [
        dict(chrom=g12d.chrom, pos=g12d.pos, ref=g12d.ref, alt=g12d.alt, vaf=0.10),
        dict(chrom=v600e.chrom, pos=v600e.pos, ref=v600e.ref, alt=v600e.alt, vaf=0.04),
        dict(chrom=v600k.chrom, pos=v600k.pos, ref=v600k.ref, alt=v600k.alt, vaf=0.03),
    ]
    bam = tmp_path_factory.mktemp("plasma") / "P1-T0.bam"
    write_plasma_bam(bam, path, truth, sample="P1-T0", seed=11, depth=500, error_rate=0.002,
                     build="GRCh38")  # fmt: skip
    return bam, truth


def test_bam_is_sorted_indexed_and_has_real_contig_lengths(plasma):
    bam, _ = plasma
    assert Path(f"{bam}.bai").exists()
    with pysam.AlignmentFile(str(bam)) as alignments:
        header = alignments.header.to_dict()
        assert header["HD"]["SO"] == "coordinate"
        assert header["RG"] == [{"ID": "P1-T0", "SM": "P1-T0", "PL": "ILLUMINA"}]
        lengths = dict(zip(alignments.references, alignments.lengths, strict=True))
        assert lengths == CONTIG_LENGTHS["GRCh38"]
        keys = [(r.reference_id, r.reference_start) for r in alignments.fetch(until_eof=True)]
    assert keys == sorted(keys)


def test_reads_carry_the_alt_at_the_truth_vaf(plasma):
    bam, truth = plasma
    counts = count_alleles(bam, [(t["chrom"], t["pos"], t["ref"], t["alt"]) for t in truth],
                           expected_build="GRCh38")  # fmt: skip
    for count, site in zip(counts, truth, strict=True):
        # ~500 fragments: the observed VAF is within 4 binomial standard deviations of the truth.
        sd = (site["vaf"] * (1 - site["vaf"]) / count.depth) ** 0.5
        assert abs(count.vaf - site["vaf"]) < 4 * sd, (site, count)
        assert count.depth > 400


def test_bam_exercises_every_read_filter(plasma):
    bam, _ = plasma
    with pysam.AlignmentFile(str(bam)) as alignments:
        reads = list(alignments.fetch(until_eof=True))
    flags = [r.flag for r in reads]
    assert sum(bool(f & 0x400) for f in flags) > 0.02 * len(reads)  # duplicates (5% fragments)
    assert any(f & 0x100 for f in flags) and any(f & 0x800 for f in flags)
    assert any(f & 0x200 for f in flags)
    assert any(r.mapping_quality < 20 for r in reads)
    assert any(q < 20 for r in reads for q in r.query_qualities)
    overlapping = [r for r in reads if r.is_read1 and 0 < abs(r.template_length) < 200]
    assert len(overlapping) > 0.3 * sum(r.is_read1 for r in reads)  # cfDNA-length fragments
    assert all(r.is_proper_pair for r in reads)


def test_same_seed_gives_the_same_bam(panel_reference, tmp_path):
    path, sites = panel_reference
    spot = sites.hotspots[0]
    truth = [dict(chrom=spot.chrom, pos=spot.pos, ref=spot.ref, alt=spot.alt, vaf=0.05)]
    for name, seed in (("a.bam", 5), ("b.bam", 5), ("c.bam", 6)):
        write_plasma_bam(tmp_path / name, path, truth, sample="S", seed=seed, depth=50,
                         error_rate=0.001)  # fmt: skip
    assert (tmp_path / "a.bam").read_bytes() == (tmp_path / "b.bam").read_bytes()
    assert (tmp_path / "a.bam").read_bytes() != (tmp_path / "c.bam").read_bytes()


def test_ref_that_the_reference_does_not_hold_is_refused(panel_reference, tmp_path):
    path, sites = panel_reference
    spot = sites.hotspots[0]
    wrong = "A" if spot.ref != "A" else "C"
    truth = [dict(chrom=spot.chrom, pos=spot.pos, ref=wrong, alt=spot.alt, vaf=0.05)]
    with pytest.raises(ValueError, match="differs from the reference"):
        write_plasma_bam(tmp_path / "x.bam", path, truth, sample="S", seed=1, depth=10,
                         error_rate=0.0)  # fmt: skip


def test_vafs_of_one_locus_above_one_are_refused(panel_reference, tmp_path):
    path, sites = panel_reference
    spot = sites.hotspots[0]
    truth = [dict(chrom=spot.chrom, pos=spot.pos, ref=spot.ref, alt=alt, vaf=0.6)
             for alt in {"A", "C", "G", "T"} - {spot.ref}]  # fmt: skip
    with pytest.raises(ValueError, match="summing above 1"):
        write_plasma_bam(tmp_path / "x.bam", path, truth, sample="S", seed=1, depth=10,
                         error_rate=0.0)  # fmt: skip
