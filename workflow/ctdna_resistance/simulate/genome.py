"""Genome facts the simulator writes into VCF headers, and the non-panel places it puts variants.

Contig lengths are those of the primary assemblies (GRCh38 = hg38, GRCh37 = hg19/b37 for 1-22, X, Y;
the two only differ in chrM, which is not written). They match the ``##contig`` lines of real GRCh38
(Strelka2 on hg38.fa) and GRCh37 (GATK b37, UCSC hg19) VCFs in shared/data/vcf.
"""

from __future__ import annotations

from dataclasses import dataclass

from ctdna_resistance.genome import CONTIG_LENGTHS

CONTIGS = (*(str(n) for n in range(1, 23)), "X", "Y")
CONTIG_RANK = {name: rank for rank, name in enumerate(CONTIGS)}


# The FASTA a lab would have called against, by build and contig style; the file names are the
# ones build detectors key on (Homo_sapiens_assembly38, GRCh38, hg19, human_g1k_v37).
REFERENCE_URLS = {
    ("GRCh38", True): "file:///references/GRCh38/Homo_sapiens_assembly38.fasta",
    ("GRCh38", False): "file:///references/GRCh38/Homo_sapiens.GRCh38.dna.primary_assembly.fa",
    ("GRCh37", True): "file:///references/hg19/ucsc.hg19.fasta",
    ("GRCh37", False): "file:///references/GRCh37/human_g1k_v37.fasta",
}


def styled_contig(chrom: str, chr_style: bool) -> str:
    """Write a panel-style contig ('12', 'X') the way a file of that style names it."""
    return f"chr{chrom}" if chr_style else chrom


def contig_header_lines(build: str, chr_style: bool) -> list[str]:
    """The ``##contig`` lines for 1-22, X, Y of ``build`` in the given naming style."""
    return [
        f"##contig=<ID={styled_contig(name, chr_style)},length={CONTIG_LENGTHS[build][name]}>"
        for name in CONTIGS
    ]


@dataclass(frozen=True, slots=True)
class GeneSpan:
    """Where a non-panel gene lies (approximately) in one build."""

    gene: str
    chrom: str
    start: int
    end: int


# Approximate gene spans (within a few kb) of genes that are NOT resistance-panel genes. Simulated
# truncal, germline and clonal-haematopoiesis variants are put inside them so that files look like
# a CRC plasma panel; their positions and REF bases are illustrative, not taken from a reference
# FASTA, and no protein change is claimed for them. Positions that fall in a panel gene's locus are
# rejected at run time, so a user panel that adds one of these genes is still respected.
_NON_PANEL_SPANS = {
    "GRCh38": {
        "APC": ("5", 112707498, 112846239),
        "TP53": ("17", 7661779, 7687538),
        "SMAD4": ("18", 51030213, 51085042),
        "FBXW7": ("4", 152320544, 152536873),
        "SOX9": ("17", 72121020, 72126416),
        "DNMT3A": ("2", 25227855, 25342590),
        "TET2": ("4", 105145875, 105279816),
        "ASXL1": ("20", 32358330, 32439319),
        "PPM1D": ("17", 60600183, 60666280),
        "APOB": ("2", 21001429, 21044073),
        "TTN": ("2", 178525989, 178807423),
        "MUC16": ("19", 8848844, 8981342),
        "LRP1B": ("2", 140231423, 142131016),
    },
    "GRCh37": {
        "APC": ("5", 112043195, 112181936),
        "TP53": ("17", 7565097, 7590856),
        "SMAD4": ("18", 48556583, 48611412),
        "FBXW7": ("4", 153242410, 153458739),
        "SOX9": ("17", 70117161, 70122557),
        "DNMT3A": ("2", 25455845, 25565459),
        "TET2": ("4", 106067032, 106200973),
        "ASXL1": ("20", 30946133, 31027122),
        "PPM1D": ("17", 58677544, 58743641),
        "APOB": ("2", 21224301, 21266945),
        "TTN": ("2", 179390716, 179672150),
        "MUC16": ("19", 8959520, 9092018),
        "LRP1B": ("2", 140988992, 142889270),
    },
}

TRUNCAL_GENES = ("APC", "TP53", "SMAD4", "FBXW7", "SOX9")
CHIP_GENES = ("DNMT3A", "TET2", "ASXL1", "PPM1D")
GERMLINE_GENES = ("APOB", "TTN", "MUC16", "LRP1B", "APC", "TP53")
# Non-panel genes that carry a resistant clone's passenger SNVs (long genes, where passengers
# of a colorectal tumour are most often found, and two tumour suppressors).
PASSENGER_GENES = ("TTN", "MUC16", "LRP1B", "APOB", "SMAD4", "FBXW7")


def non_panel_span(gene: str, build: str) -> GeneSpan:
    """The approximate span of a non-panel gene used for simulated background variants."""
    chrom, start, end = _NON_PANEL_SPANS[build][gene]
    return GeneSpan(gene, chrom, start, end)
