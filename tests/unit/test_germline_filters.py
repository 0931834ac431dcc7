"""Germline evidence for panel alleles (SPEC 5.1): the matched normal decides when there is one.

A clonal KRAS allele in plasma with a high tumour fraction, or on an amplified locus, sits near a
VAF of 0.5. Without a matched normal the germline VAF band is all there is; with one, an allele
the normal lacks is somatic whatever its VAF, and an allele the normal holds is `in_normal`.
"""

import datetime as dt
from pathlib import Path

import pytest

from ctdna_resistance.calls import call_sample
from ctdna_resistance.panel import load_panel
from ctdna_resistance.samplesheet import Sample

REPO = Path(__file__).resolve().parents[2]
PANEL = load_panel(REPO / "panels" / "anti_egfr_crc.yaml", "GRCh38")

HEADER = """##fileformat=VCFv4.2
##FORMAT=<ID=AD,Number=R,Type=Integer,Description="Allelic depths">
##FORMAT=<ID=AF,Number=A,Type=Float,Description="Allele fractions">
##FORMAT=<ID=DP,Number=1,Type=Integer,Description="Read depth">
##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">
##FILTER=<ID=PASS,Description="All filters passed">
##contig=<ID=chr12,length=133275309>
##reference=file:///refs/GRCh38_full_analysis_set.fa
##source=Mutect2
##tumor_sample=PLASMA
#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tPLASMA
"""
# KRAS c.35G>A p.G12D on GRCh38 (the panel's own coordinate), and a plain germline-like SNP
# outside the panel
KRAS_G12D = "chr12\t25245350\t.\tC\tT\t.\tPASS\t.\tGT:AD:AF:DP\t0/1:{ref},{alt}:{af}:{dp}\n"


def _vcf(path: Path, ref: int, alt: int) -> Path:
    dp = ref + alt
    path.write_text(HEADER + KRAS_G12D.format(ref=ref, alt=alt, af=round(alt / dp, 4), dp=dp))
    return path


def _sample(tmp_path: Path, normal: Path | None) -> Sample:
    plasma = _vcf(tmp_path / "plasma.vcf", ref=900, alt=700)  # VAF 0.4375: inside the 0.1 band
    return Sample("P1", "P1-T0", dt.date(2024, 1, 1), "T0", vcf=plasma, normal_vcf=normal)


def _outcome(calls) -> tuple[list[str], list[str]]:
    return [a["key"] for a in calls.alterations], [f["reason"] for f in calls.filtered]


def test_without_a_normal_a_panel_allele_near_half_is_germline_like(tmp_path):
    calls = call_sample(_sample(tmp_path, None), PANEL)
    assert _outcome(calls) == ([], ["germline_like"])
    assert calls.filtered[0]["detail"] == "VAF 0.438"


def test_with_a_normal_that_lacks_it_the_same_allele_is_reported(tmp_path):
    normal = _vcf(tmp_path / "normal.vcf", ref=1000, alt=0)  # the site was seen, no alt read
    calls = call_sample(_sample(tmp_path, normal), PANEL)
    assert _outcome(calls) == (["12:25245350:C>T"], [])
    (row,) = calls.alterations
    assert (row["gene"], row["alteration"], row["alt_reads"]) == ("KRAS", "p.G12D", 700)


@pytest.mark.parametrize("alt_reads", [480, 3])
def test_an_allele_the_normal_holds_is_in_normal_whatever_its_vaf(tmp_path, alt_reads):
    normal = _vcf(tmp_path / "normal.vcf", ref=1000 - alt_reads, alt=alt_reads)
    calls = call_sample(_sample(tmp_path, normal), PANEL)
    assert _outcome(calls) == ([], ["in_normal"])
