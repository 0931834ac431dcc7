"""Panel matching: an allele in, the resistance alteration (or the reason it is not one) out."""

from pathlib import Path

import pytest

from ctdna_resistance.errors import InputError
from ctdna_resistance.panel import Codon, load_panel, minimal_allele, translate_codon
from ctdna_resistance.records import Annotation

PANEL = Path(__file__).resolve().parents[2] / "panels" / "anti_egfr_crc.yaml"


@pytest.fixture(scope="module")
def panels():
    return {build: load_panel(PANEL, build) for build in ("GRCh38", "GRCh37")}


def test_minimal_allele_trims_the_padding_of_split_multiallelic_records():
    assert minimal_allele(100, "CA", "TA") == (100, "C", "T")
    assert minimal_allele(100, "GTTT", "GT") == (100, "GTT", "G")
    assert minimal_allele(100, "ACG", "ATG") == (101, "C", "T")
    assert minimal_allele(100, "A", "AT") == (100, "A", "AT")


def test_codon_translation_on_both_strands():
    assert translate_codon("GGT") == "G" and translate_codon("GAT") == "D"
    assert translate_codon("TAA") == "*"
    plus = Codon("X", 5, "G", "GGT", "1", 1000, 1002, "+")
    assert plus.translate_change(1001, "G", "A") == "D"  # GGT -> GAT
    assert plus.translate_change(1001, "C", "A") is None  # REF disagrees with the codon
    # On the minus strand GGT reads ACC on the genome: position 1001 is the codon's 2nd base.
    minus = Codon("X", 5, "G", "GGT", "1", 1000, 1002, "-")
    assert minus.translate_change(1001, "C", "T") == "D"
    assert minus.translate_change(1003, "C", "T") is None  # outside the codon


@pytest.mark.parametrize(
    ("build", "chrom", "pos", "ref", "alt", "gene", "change"),
    [
        ("GRCh38", "12", 25245350, "C", "T", "KRAS", "p.G12D"),
        ("GRCh37", "12", 25398284, "C", "T", "KRAS", "p.G12D"),
        ("GRCh38", "7", 140753336, "A", "T", "BRAF", "p.V600E"),
        ("GRCh37", "7", 140453136, "A", "T", "BRAF", "p.V600E"),
    ],
)
def test_well_known_hotspots_match_in_both_builds(
    panels, build, chrom, pos, ref, alt, gene, change
):
    match, reason = panels[build].match(chrom, pos, ref, alt)[:2]
    assert reason is None
    assert (match.gene.symbol, match.alteration, match.panel_class) == (gene, change, "hotspot")


def test_padded_representation_of_a_hotspot_still_matches(panels):
    # As a split multi-allelic record would carry it: REF=CC, ALT=TC at the same position.
    match, _ = panels["GRCh38"].match("12", 25245350, "CC", "TC")[:2]
    assert match is not None and match.alteration == "p.G12D"


def test_alleles_outside_the_panel_and_synonymous_changes_get_reasons(panels):
    panel = panels["GRCh38"]
    assert panel.match("12", 1000, "A", "G") == (None, "not_in_panel", "")
    # KRAS codon 12 third base (c.36, GGT -> GGC/GGA) is synonymous: genomic 25245349 A>G.
    codon12 = next(c for c in panel.codons if c.gene == "KRAS" and c.number == 12)
    third = codon12.start if codon12.strand == "-" else codon12.end
    base = codon12.ref_codon[2]
    genomic = {"A": "T", "C": "G", "G": "C", "T": "A"}[base] if codon12.strand == "-" else base
    synonymous = {"T": "C", "C": "T", "A": "G", "G": "A"}[genomic]
    result = panel.match("12", third, genomic, synonymous)
    assert result[0] is None and result[1] == "synonymous_at_panel_codon"


def test_truncating_class_needs_an_annotation(panels):
    panel = panels["GRCh38"]
    arid1a = panel.genes["ARID1A"]
    pos = arid1a.start + 1000
    assert panel.match(arid1a.chrom, pos, "C", "T")[1] == "panel_gene_unannotated"
    stop = Annotation("ARID1A", arid1a.ensembl, "stop_gained", "c.1234C>T", "p.Q412*", "CSQ")
    match, reason = panel.match(arid1a.chrom, pos, "C", "T", (stop,))[:2]
    assert reason is None and match.panel_class == "truncating" and match.alteration == "p.Q412*"


def test_unknown_build_and_missing_panel_are_refused(tmp_path):
    with pytest.raises(InputError, match="not found"):
        load_panel(tmp_path / "none.yaml", "GRCh38")
    with pytest.raises(InputError, match="genome build"):
        load_panel(PANEL, "hg18")
