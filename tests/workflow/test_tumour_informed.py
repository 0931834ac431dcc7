"""Tumour-informed tracking (SPEC 5.2): an alteration seen in one draw is counted in the BAM of
another draw where the caller made no call, and the timeline says so."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

from ctdna_resistance.simulate.bam import write_plasma_bam, write_reference

REPO = Path(__file__).resolve().parents[2]
HEADER = (
    "##fileformat=VCFv4.2\n"
    '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">\n'
    '##FORMAT=<ID=AD,Number=R,Type=Integer,Description="Allelic depths">\n'
    '##FORMAT=<ID=DP,Number=1,Type=Integer,Description="Depth">\n'
    "##contig=<ID=chr1,length=248956422>\n##contig=<ID=chr12,length=133275309>\n"
    "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tPLASMA\n"
)
G12D = ("12", 25245350, "C", "T")  # KRAS p.G12D, GRCh38 (panels/anti_egfr_crc.yaml)


def test_bam_counts_an_alteration_the_caller_missed(tmp_path):
    (tmp_path / "t0.vcf").write_text(
        HEADER + "chr12\t25245350\t.\tC\tT\t.\tPASS\t.\tGT:AD:DP\t0/1:980,20:1000\n"
    )
    for name in ("t1.vcf", "t2.vcf", "t3.vcf"):  # the caller reported nothing at KRAS later
        (tmp_path / name).write_text(
            HEADER + "chr1\t1000000\t.\tA\tG\t.\tPASS\t.\tGT:AD:DP\t0/1:990,10:1000\n"
        )
    reference = tmp_path / "ref.fa.gz"
    write_reference(
        reference, [("12", 25244800, 25245900)], build="GRCh38", seed=3, known_bases=[G12D[:3]]
    )
    site = dict(zip(("chrom", "pos", "ref", "alt"), G12D, strict=True))
    write_plasma_bam(
        tmp_path / "t1.bam", reference, [{**site, "vaf": 0.02}], sample="S1", seed=4,
        depth=1000, error_rate=0.001, build="GRCh38",
    )  # fmt: skip
    write_plasma_bam(
        tmp_path / "t2.bam", reference, [{**site, "vaf": 0.0}], sample="S2", seed=5,
        depth=1000, error_rate=0.001, build="GRCh38",
    )  # fmt: skip
    (tmp_path / "samples.tsv").write_text(
        "patient\tsample\tcollection_date\tvcf\tbam\n"
        "P1\tS0\t2024-01-01\tt0.vcf\t\n"
        "P1\tS1\t2024-03-01\tt1.vcf\tt1.bam\n"
        "P1\tS2\t2024-05-01\tt2.vcf\tt2.bam\n"
        "P1\tS3\t2024-07-01\tt3.vcf\t\n"
    )
    out = tmp_path / "out"
    done = subprocess.run(
        [sys.executable, "-m", "ctdna_resistance.cli", "track", "--patient", "P1",
         "--set", f"samples={tmp_path / 'samples.tsv'}", "--set", "treatments=",
         "--set", f"outdir={out}"],
        cwd=REPO, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    with open(out / "patients" / "P1" / "timeline.tsv", newline="") as handle:
        rows = {r["sample"]: r for r in csv.DictReader(handle, delimiter="\t")}
    assert rows["S0"]["status"] == "detected" and rows["S0"]["alteration"] == "p.G12D"
    assert rows["S1"]["status"] == "detected"
    assert "tumour-informed" in rows["S1"]["note"]
    assert 10 <= int(rows["S1"]["alt_reads"]) <= 40  # ~2% of ~1000 reads after filters
    assert rows["S2"]["status"] == "not_detected"
    assert float(rows["S2"]["lod95"]) < 0.02
    assert rows["S3"]["status"] == "not_assessed"
