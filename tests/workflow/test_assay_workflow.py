"""Issue 17, the user's story: a patient sequenced at baseline and progression and followed by
ddPCR in between (a QuantaSoft export and a generic table), run through the real `snakemake`;
one timeline whose labels are the truth's."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.workflow

REPO = Path(__file__).resolve().parents[2]
G12D = "12:25245350:C>T"  # KRAS p.G12D, GRCh38
V600E = "7:140753336:A>T"  # BRAF p.V600E, GRCh38
VCF_HEADER = (
    "##fileformat=VCFv4.2\n"
    '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">\n'
    '##FORMAT=<ID=AD,Number=R,Type=Integer,Description="Allelic depths">\n'
    '##FORMAT=<ID=DP,Number=1,Type=Integer,Description="Read depth">\n'
    "##contig=<ID=chr12,length=133275309>\n##contig=<ID=chr7,length=159345973>\n"
    "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tPLASMA\n"
)
# The truth: (sample, platform, KRAS G12D status, trend), (BRAF V600E status, trend)
TRUTH = [
    ("P9-T0", "ngs", ("not_detected", "not_detected"), ("detected", "pre_existing")),
    ("P9-T1", "ddpcr", ("detected", "new"), ("not_assessed", "not_assessed")),
    ("P9-T2", "ddpcr", ("detected", "rising"), ("not_assessed", "not_assessed")),
    ("P9-T3", "ngs", ("detected", "falling"), ("detected", "stable")),
]


def run_timeline(sheet: Path, out: Path, patient: str) -> list[dict]:
    """The workflow on a sheet (no demo treatments or normals); the patient's timeline rows."""
    done = subprocess.run(
        [sys.executable, "-m", "snakemake", "--cores", "2", "--snakefile",
         str(REPO / "Snakefile"), "--config", f"samples={sheet}",
         "treatments=", "normals=", "reference_fasta=", f"outdir={out}"],
        cwd=REPO, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    with open(out / "patients" / patient / "timeline.tsv", newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


def _vcf(path, g12d, v600e):
    lines = [
        f"chr7\t140753336\t.\tA\tT\t.\tPASS\t.\tGT:AD:DP\t0/1:{v600e[0]},{v600e[1]}:{sum(v600e)}",
        f"chr12\t25245350\t.\tC\tT\t.\tPASS\t.\tGT:AD:DP\t0/1:{g12d[0]},{g12d[1]}:{sum(g12d)}",
    ]
    path.write_text(VCF_HEADER + "\n".join(lines) + "\n")


def _quantasoft(path, sample, mutant, wildtype, accepted, target="KRAS G12D"):
    """A QuantaSoft results export (the real file's header, tests/formats/data/ddpcr) with a
    sample well and an NTC well of a KRAS G12D FAM / wild-type HEX assay."""
    real = REPO / "tests" / "formats" / "data" / "ddpcr" / "quantasoft_small.csv"
    header = real.read_text().splitlines()[0].split(",")
    rows = []
    for well, name, counts in (("A01", sample, (mutant, wildtype)), ("H12", "NTC", (0, 0))):
        for channel, assay, positives in (
            ("Ch1Unknown", target, counts[0]),
            ("Ch2Unknown", "KRAS WT", counts[1]),
        ):
            row = dict.fromkeys(header, "")
            row.update(Well=well, Sample=name, TypeAssay=channel, Assay=assay,
                       Positives=str(positives), Negatives=str(accepted - positives),
                       AcceptedDroplets=str(accepted))  # fmt: skip
            rows.append(",".join(row[h] for h in header))
    path.write_text(",".join(header) + "\n" + "\n".join(rows) + "\n")


def test_ngs_ddpcr_ddpcr_ngs_patient_gives_one_timeline_with_the_truths_labels(tmp_path):
    _vcf(tmp_path / "t0.vcf", (7999, 1), (7700, 300))
    _quantasoft(tmp_path / "plate1.csv", "patient 9 march", 9, 2719, 15000)
    (tmp_path / "plate2.tsv").write_text(
        "sample\ttarget\tmutant_positives\twildtype_positives\taccepted_partitions\twell\n"
        "P9-T2\tKRAS p.G12D\t45\t2719\t15000\tC03\n"
        "WT control\tKRAS p.G12D\t1\t2900\t15100\tH02\n"
    )
    _vcf(tmp_path / "t3.vcf", (4980, 20), (4850, 150))
    (tmp_path / "samples.tsv").write_text(
        "patient\tsample\tcollection_date\tvcf\tassay\tassay_sample\n"
        "P9\tP9-T0\t2024-01-10\tt0.vcf\t\t\n"
        "P9\tP9-T1\t2024-03-01\t\tplate1.csv\tpatient 9 march\n"
        "P9\tP9-T2\t2024-05-01\t\tplate2.tsv\t\n"
        "P9\tP9-T3\t2024-07-01\tt3.vcf\t\t\n"
    )
    out = tmp_path / "out"
    rows = run_timeline(tmp_path / "samples.tsv", out, "P9")
    got = {(r["key"], r["sample"]): r for r in rows}
    for sample, platform, g12d, v600e in TRUTH:
        for key, (status, trend) in ((G12D, g12d), (V600E, v600e)):
            row = got[(key, sample)]
            assert (row["status"], row["trend"]) == (status, trend), (key, sample, row)
            assert row["platform"] == platform
    assert "ddpcr assay measured only KRAS p.G12D" in got[(V600E, "P9-T1")]["note"]
    report = json.loads((out / "patients" / "P9" / "reports" / "P9-T1.json").read_text())
    assert report["platforms"] == ["ddpcr"]
    (g12d,) = [a for a in report["alterations"] if a["key"] == G12D]
    assert g12d["platform"] == "ddpcr" and g12d["alt_reads"] == 9
    with open(out / "cohort" / "summary.tsv", newline="") as handle:
        (summary,) = list(csv.DictReader(handle, delimiter="\t"))
    assert summary["draws_by_platform"] == "ngs:2;ddpcr:2"


SCREEN = "12:25245346-25245351:KRAS_12_13_screen"  # "KRAS G12/G13 screen" in the real panel
G13D = "12:25245347:C>T"  # KRAS p.G13D, GRCh38


def test_sequencing_draws_count_toward_a_ddpcr_codon_screen(tmp_path):
    """Issue 17 item 4: a patient followed on ddPCR by the KRAS G12/G13 screen, sequenced before,
    between and after. Baseline: no KRAS record in the VCF, 6,000x at the codons in the coverage
    file: the screen is not detected there with sequencing's LoD95. T3: only a weak, filtered
    G12D record at 6,000x: not detected, with that record's LoD95. T4: sequencing finds G13D:
    the screen is detected with G13D's reads. One story across platforms."""
    weak = VCF_HEADER.replace(
        "##contig", '##FILTER=<ID=weak_evidence,Description="w">\n##contig', 1
    )
    braf = "chr7\t140753336\t.\tA\tT\t.\tPASS\t.\tGT:AD:DP\t0/1:5700,300:6000\n"
    (tmp_path / "t0.vcf").write_text(VCF_HEADER + braf)
    (tmp_path / "t0.depth.txt").write_text(
        "".join(f"chr12\t{pos}\t6000\n" for pos in range(25245340, 25245361))
    )
    _quantasoft(tmp_path / "plate1.csv", "P8-T1", 9, 2719, 15000, target="KRAS G12/G13 screen")
    _quantasoft(tmp_path / "plate2.csv", "P8-T2", 45, 2719, 15000, target="KRAS G12/G13 screen")
    (tmp_path / "t3.vcf").write_text(
        weak + braf + "chr12\t25245350\t.\tC\tT\t.\tweak_evidence\t.\tGT:AD:DP\t0/1:5999,1:6000\n"
    )
    (tmp_path / "t4.vcf").write_text(
        VCF_HEADER
        + "chr7\t140753336\t.\tA\tT\t.\tPASS\t.\tGT:AD:DP\t0/1:4850,150:5000\n"
        + "chr12\t25245347\t.\tC\tT\t.\tPASS\t.\tGT:AD:DP\t0/1:4960,40:5000\n"
    )
    (tmp_path / "samples.tsv").write_text(
        "patient\tsample\tcollection_date\tvcf\tcoverage\tassay\n"
        "P8\tP8-T0\t2024-01-10\tt0.vcf\tt0.depth.txt\t\n"
        "P8\tP8-T1\t2024-03-01\t\t\tplate1.csv\n"
        "P8\tP8-T2\t2024-05-01\t\t\tplate2.csv\n"
        "P8\tP8-T3\t2024-06-01\tt3.vcf\t\t\n"
        "P8\tP8-T4\t2024-07-01\tt4.vcf\t\t\n"
    )
    out = tmp_path / "out"
    rows = {(r["key"], r["sample"]): r for r in run_timeline(tmp_path / "samples.tsv", out, "P8")}
    screen = [rows[(SCREEN, f"P8-T{i}")] for i in range(5)]
    assert [r["platform"] for r in screen] == ["ngs", "ddpcr", "ddpcr", "ngs", "ngs"]
    assert [r["status"] for r in screen] == [
        "not_detected", "detected", "detected", "not_detected", "detected",
    ]  # fmt: skip
    # baseline: sequencing's LoD95 at 6,000x, from the coverage file at the codons
    assert 0 < float(screen[0]["lod95"]) < 0.005 and screen[0]["depth"] == "6000"
    assert "the coverage" in screen[0]["note"]
    # the ddPCR detection at T1 is new against sequencing's absence at T0
    assert screen[1]["trend"] == "new"
    # T3: the filtered G12D record tells the depth at the codons
    assert 0 < float(screen[3]["lod95"]) < 0.005 and screen[3]["depth"] == "6000"
    assert "KRAS p.G12D" in screen[3]["note"]
    # progression: G13D's own reads are the screen's, and its trend is tested on them
    assert (screen[4]["alt_reads"], screen[4]["depth"]) == ("40", "5000")
    assert float(screen[4]["vaf"]) == pytest.approx(0.008)
    assert "KRAS p.G13D" in screen[4]["note"]
    assert rows[(G13D, "P8-T4")]["status"] == "detected"
    report = json.loads((out / "patients" / "P8" / "reports" / "P8-T4.json").read_text())
    (entry,) = [a for a in report["alterations"] if a["key"] == SCREEN]
    assert entry["platform"] == "ngs" and entry["alt_reads"] == 40
