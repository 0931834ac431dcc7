"""The user's story: "sarek (or oncoanalyser) finished" -> `ctdna-resistance samplesheet` -> the
workflow. Results folders are built in tmp with each pipeline's documented layout, from synthetic
plasma VCFs/SV calls and real files of ../shared/data (ASCAT, Control-FREEC, Manta of HCC1395 on
GRCh38 for sarek; PURPLE, ESVEE, LINX of the Hartwig test run on GRCh37 for oncoanalyser), and the
per-sample accounting and alterations are checked against what those files say.
"""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pysam
import pytest
from conftest import draw_folder

REPO = Path(__file__).resolve().parents[2]
SHARED = REPO.parent / "shared" / "data" / "cnv-sv"
CLI = [sys.executable, "-m", "ctdna_resistance.cli"]

pytestmark = pytest.mark.skipif(not SHARED.is_dir(), reason="shared data not mounted")

MUTECT2 = (
    "##fileformat=VCFv4.2\n##MutectVersion=2.2\n##tumor_sample={tumour}\n##normal_sample={normal}\n"
    '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">\n'
    '##FORMAT=<ID=AD,Number=R,Type=Integer,Description="Allelic depths">\n'
    '##FORMAT=<ID=AF,Number=A,Type=Float,Description="Allele fraction">\n'
    '##FORMAT=<ID=DP,Number=1,Type=Integer,Description="Depth">\n'
    "##contig=<ID=chr1,length=248956422>\n##contig=<ID=chr12,length=133275309>\n"
    "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\t{normal}\t{tumour}\n"
)
SAGE = (
    "##fileformat=VCFv4.2\n##sageVersion=3.4\n"
    '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">\n'
    '##FORMAT=<ID=AD,Number=R,Type=Integer,Description="Allelic depths">\n'
    '##FORMAT=<ID=AF,Number=A,Type=Float,Description="Allele fraction">\n'
    '##FORMAT=<ID=DP,Number=1,Type=Integer,Description="Depth">\n'
    "##contig=<ID=1,length=249250621>\n##contig=<ID=12,length=133851895>\n"
    "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\t{normal}\t{tumour}\n"
)
ESVEE = (
    "##fileformat=VCFv4.2\n##esveeVersion=1.0.2\n##contig=<ID=2,length=243199373>\n"
    '##INFO=<ID=SVTYPE,Number=1,Type=String,Description="Type">\n'
    '##INFO=<ID=MATEID,Number=1,Type=String,Description="Mate">\n'
    '##FORMAT=<ID=SF,Number=1,Type=Integer,Description="Split fragments">\n'
    '##FORMAT=<ID=DF,Number=1,Type=Integer,Description="Discordant fragments">\n'
    '##FORMAT=<ID=REF,Number=1,Type=Integer,Description="Reference reads">\n'
    '##FORMAT=<ID=REFPAIR,Number=1,Type=Integer,Description="Reference pairs">\n'
    '##FORMAT=<ID=VF,Number=1,Type=Integer,Description="Variant fragments">\n'
    "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\t{normal}\t{tumour}\n"
    # EML4 intron 13 (+ strand gene, keeps its 5' part) joined to ALK intron 19 (- strand gene,
    # keeps its 3' kinase part): both sides retain the sequence before the position (GRCh37).
    "2\t29446394\tesv1o\tA\tA]2:42522656]\t500\tPASS\tSVTYPE=BND;MATEID=esv1h\t"
    "SF:DF:REF:REFPAIR:VF\t0:0:40:38:0\t9:6:70:65:15\n"
    "2\t42522656\tesv1h\tG\tG]2:29446394]\t500\tPASS\tSVTYPE=BND;MATEID=esv1o\t"
    "SF:DF:REF:REFPAIR:VF\t0:0:42:40:0\t9:6:66:60:15\n"
)
PURPLE_CNV_HEADER = (
    "chromosome\tstart\tend\tcopyNumber\tbafCount\tobservedBAF\tbaf\tsegmentStartSupport\t"
    "segmentEndSupport\tmethod\tdepthWindowCount\tgcContent\tminStart\tmaxStart\t"
    "minorAlleleCopyNumber\tmajorAlleleCopyNumber\n"
)


def _bgzip(text: str, path: Path) -> Path:
    plain = path.with_name(path.name[: -len(".gz")])
    plain.write_text(text)
    pysam.tabix_compress(str(plain), str(path), force=True)
    plain.unlink()
    return path


def _variant(chrom, pos, ref, alt, depth, alt_reads, normal_alt=0):
    vaf = alt_reads / depth
    return (
        f"{chrom}\t{pos}\t.\t{ref}\t{alt}\t.\tPASS\t.\tGT:AD:AF:DP\t"
        f"0/0:{500 - normal_alt},{normal_alt}:{normal_alt / 500:.4f}:500\t"
        f"0/1:{depth - alt_reads},{alt_reads}:{vaf:.4f}:{depth}\n"
    )


def _tsv(path: Path) -> list[dict]:
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


def _run(*args, cwd=REPO):
    return subprocess.run([*args], cwd=cwd, capture_output=True, text=True, check=False)


def _snakemake(sheet: Path, out: Path, build: str):
    return _run(
        sys.executable,
        "-m",
        "snakemake",
        "--cores",
        "2",
        "--snakefile",
        str(REPO / "Snakefile"),
        "--config",
        # a user's sheet alone: none of the demo's treatments or GRCh38 normal plasmas apply
        f"samples={sheet}",
        f"outdir={out}",
        f"genome_build={build}",
    )


def _ascat_cn_over(path: Path, chrom: str, start: int, end: int) -> list[int]:
    return [
        int(r["nMajor"]) + int(r["nMinor"])
        for r in _tsv(path)
        if r["chr"] == chrom and int(r["startpos"]) <= end and start <= int(r["endpos"])
    ]


# -- nf-core/sarek ------------------------------------------------------------------------------


def _sarek_results(root: Path) -> Path:
    calling = root / "sarek" / "variant_calling"
    pair0, pair1 = "PL1_T0_vs_PL1_N", "PL1_T1_vs_PL1_N"
    for pair, tumour, alt_reads in ((pair0, "PL1_T0", 30), (pair1, "PL1_T1", 80)):
        folder = calling / "mutect2" / pair
        folder.mkdir(parents=True)
        calls = _variant("chr12", 25245350, "C", "T", 2000, alt_reads)  # KRAS G12D, GRCh38
        calls += _variant("chr1", 1_000_000, "A", "G", 1800, 40)
        header = MUTECT2.format(tumour=tumour, normal="PL1_N")
        _bgzip(header + calls, folder / f"{pair}.mutect2.filtered.vcf.gz")
        _bgzip(header + calls, folder / f"{pair}.mutect2.vcf.gz")  # unfiltered: skipped
    strelka = calling / "strelka" / pair0
    strelka.mkdir(parents=True)
    _bgzip(
        "##fileformat=VCFv4.1\n##source=strelka\n##contig=<ID=chr12,length=133275309>\n"
        "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tNORMAL\tTUMOR\n",
        strelka / f"{pair0}.strelka.somatic_snvs.vcf.gz",
    )
    ascat = calling / "ascat" / pair0
    ascat.mkdir(parents=True)
    real_ascat = SHARED / "nf-core-testdatasets/sarek-3.5.1-ascat/HCC1395T_vs_HCC1395N.cnvs.txt"
    (ascat / f"{pair0}.cnvs.txt").write_text(real_ascat.read_text())
    (ascat / f"{pair0}.purityploidy.txt").write_text("AberrantCellFraction\tPloidy\n0.42\t3.1\n")
    freec = calling / "controlfreec" / pair1
    freec.mkdir(parents=True)
    real_freec = (
        SHARED / "nf-core-testdatasets/sarek-3.5.1-controlfreec/"
        "HCC1395T_vs_HCC1395N.tumor.mpileup.gz_CNVs"
    )
    (freec / f"{pair1}.tumor.mpileup.gz_CNVs").write_text(real_freec.read_text())
    manta = calling / "manta" / pair0
    manta.mkdir(parents=True)
    real_manta = SHARED / "manta/vstol-hcc1395/somaticSV.vcf.gz"
    (manta / f"{pair0}.manta.somatic_sv.vcf.gz").write_bytes(real_manta.read_bytes())
    normal = calling / "manta" / "PL1_N"
    normal.mkdir(parents=True)
    (normal / "PL1_N.manta.diploid_sv.vcf.gz").write_bytes(b"")
    return root / "sarek"


def chosen_tf(accounting: dict) -> tuple:
    """The tumour fraction the draw used, and its method (other estimates are listed beside)."""
    return accounting["tumor_fraction"]["value"], accounting["tumor_fraction"]["method"]


def test_sarek_results_to_reports(tmp_path):
    results = _sarek_results(tmp_path)
    samples_map = tmp_path / "map.tsv"
    samples_map.write_text(
        "sample\tpatient\tcollection_date\nPL1_T0\tPAT1\t2024-01-10\nPL1_T1\tPAT1\t2024-04-02\n"
    )
    sheet = tmp_path / "samples.tsv"
    base = [
        *CLI,
        "samplesheet",
        "--results",
        str(results),
        "--samples-map",
        str(samples_map),
        "--out",
        str(sheet),
    ]
    ambiguous = _run(*base)
    assert ambiguous.returncode == 1
    error = ambiguous.stderr.strip()
    assert "\n" not in error and "Traceback" not in error
    assert "sample 'PL1_T0' has 2 candidate vcf files" in error
    assert "--prefer-caller mutect2 (or strelka)" in error
    done = _run(*base, "--prefer-caller", "mutect2")
    assert done.returncode == 0, done.stderr
    printed = done.stdout
    assert "unfiltered Mutect2 calls" in printed
    assert "--prefer-caller mutect2 chose" in printed
    assert "PL1_N: no sample of the samples map" in printed
    assert "tumour fraction 0.42 from ASCAT purity (AberrantCellFraction)" in printed
    rows = {r["sample"]: r for r in _tsv(sheet)}
    assert rows["PL1_T0"]["vcf"].endswith("PL1_T0_vs_PL1_N.mutect2.filtered.vcf.gz")
    assert rows["PL1_T0"]["vcf_sample"] == "PL1_T0" and rows["PL1_T0"]["caller"] == "mutect2"
    assert rows["PL1_T0"]["cnv"].endswith(".cnvs.txt")
    assert rows["PL1_T1"]["cnv"].endswith("_CNVs") and rows["PL1_T1"]["sv"] == ""

    out = tmp_path / "out"
    run = _snakemake(sheet, out, "GRCh38")
    assert run.returncode == 0, run.stderr[-3000:]
    t0 = json.loads((draw_folder(out, "PL1_T0") / "accounting.json").read_text())
    assert t0["reconciles"]
    assert chosen_tf(t0) == (0.42, "ASCAT purity (AberrantCellFraction)")
    assert t0["copy_number"]["segments_read"] == 183  # every ASCAT segment accounted
    assert t0["copy_number"]["format"] == "ascat_cnvs"
    assert t0["sv"]["events_read"] > 0 and t0["sv"]["fusions_reported"] == 0  # HCC1395: none
    real_ascat = results / "variant_calling/ascat/PL1_T0_vs_PL1_N/PL1_T0_vs_PL1_N.cnvs.txt"
    genes = {g["gene"]: g for g in t0["copy_number"]["genes"]}
    spans = {
        "KRAS": ("12", 25205246, 25250936),
        "MET": ("7", 116672196, 116798377),
        "ERBB2": ("17", 39687914, 39730426),
        "NRAS": ("1", 114704469, 114716771),
    }
    for gene, (chrom, start, end) in spans.items():
        covering = _ascat_cn_over(real_ascat, chrom, start, end)
        assert len(covering) == 1  # one ASCAT segment over each gene (MET 6, the others 2)
        # ASCAT fitted purity and absolute copy number: its nMajor + nMinor is the tumour CN
        assert genes[gene]["tumor_cn"] == pytest.approx(covering[0])
        assert "fitted by the caller" in genes[gene]["rule"]
    alterations = {
        (r["sample"], r["alteration"]): r
        for r in _tsv(draw_folder(out, "PL1_T0") / "alterations.tsv")
    }
    kras = alterations[("PL1_T0", "p.G12D")]
    assert (int(kras["depth"]), int(kras["alt_reads"])) == (2000, 30)
    t1 = json.loads((draw_folder(out, "PL1_T1") / "accounting.json").read_text())
    assert t1["copy_number"]["format"] == "controlfreec_cnvs"
    assert t1["copy_number"]["segments_read"] == 439
    assert (
        t1["tumor_fraction"]["method"] == "somatic_vaf_q90x2"
        or t1["tumor_fraction"]["method"] == "unavailable"
    )  # Control-FREEC gives no purity
    assert (out / "patients/PAT1/reports").is_dir()


# -- nf-core/oncoanalyser -----------------------------------------------------------------------


def _oncoanalyser_results(root: Path) -> Path:
    outdir = root / "oncoanalyser"
    hmf = SHARED / "hmftools-orange-testrun"
    # Group 1: the real Hartwig test run (GRCh37), files renamed to the tumour id oncoanalyser
    # would use; the SV VCF's sample columns carry the sample ids as in a real run.
    group = outdir / "PAT2_T0"
    for folder in ("sage/somatic", "purple", "linx/somatic_annotations"):
        (group / folder).mkdir(parents=True)
    _bgzip(
        SAGE.format(normal="PL2_N", tumour="PL2_T0")
        + _variant("12", 25398284, "C", "T", 1500, 45)  # KRAS G12D, GRCh37
        + _variant("1", 2_000_000, "G", "A", 1400, 30),
        group / "sage/somatic/PL2_T0.sage.somatic.vcf.gz",
    )
    for suffix in (".purple.cnv.somatic.tsv", ".purple.purity.tsv"):
        (group / "purple" / f"PL2_T0{suffix}").write_text(
            (hmf / f"tumor_sample{suffix}").read_text()
        )
    sv = (hmf / "tumor_sample.purple.sv.vcf").read_text()
    sv = sv.replace("\tref_sample\ttumor_sample\n", "\tPL2_N\tPL2_T0\n")
    (group / "purple/PL2_T0.purple.sv.vcf").write_text(sv)
    (group / "linx/somatic_annotations/PL2_T0.linx.fusion.tsv").write_text(
        (hmf / "tumor_sample.linx.fusion.tsv").read_text()
    )
    # Group 2: a later draw with a MET amplification and an EML4-ALK fusion (synthetic, GRCh37).
    group = outdir / "PAT2_T1"
    for folder in ("sage/somatic", "purple", "linx/somatic_annotations"):
        (group / folder).mkdir(parents=True)
    _bgzip(
        SAGE.format(normal="PL2_N", tumour="PL2_T1")
        + _variant("12", 25398284, "C", "T", 1600, 120)
        + _variant("1", 2_000_000, "G", "A", 1400, 60),
        group / "sage/somatic/PL2_T1.sage.somatic.vcf.gz",
    )
    rows = [
        ("7", 1, 116_000_000, 2.02, 90000),
        ("7", 116_000_001, 117_000_000, 14.25, 1000),  # MET 116.31-116.44 Mb (GRCh37)
        ("7", 117_000_001, 159_138_663, 2.0, 40000),
    ]
    (group / "purple/PL2_T1.purple.cnv.somatic.tsv").write_text(
        PURPLE_CNV_HEADER
        + "".join(
            f"{c}\t{s}\t{e}\t{cn}\t10\t0.5\t0.5\tBND\tBND\tBAF_WEIGHTED\t{w}\t0.4\t{s}\t{s}\t1\t{cn}\n"
            for c, s, e, cn, w in rows
        )
    )
    purity = (hmf / "tumor_sample.purple.purity.tsv").read_text().splitlines()
    purity[1] = "0.3100" + purity[1][len("0.9900") :]
    (group / "purple/PL2_T1.purple.purity.tsv").write_text("\n".join(purity) + "\n")
    _bgzip(ESVEE.format(normal="PL2_N", tumour="PL2_T1"), group / "purple/PL2_T1.purple.sv.vcf.gz")
    return outdir


def test_oncoanalyser_results_to_reports(tmp_path):
    results = _oncoanalyser_results(tmp_path)
    samples_map = tmp_path / "map.tsv"
    samples_map.write_text(
        "sample\tpatient\tcollection_date\ttimepoint\n"
        "PL2_T0\tPAT2\t2024-02-01\tbaseline\nPL2_T1\tPAT2\t2024-06-01\tprogression\n"
    )
    sheet = tmp_path / "samples.tsv"
    done = _run(
        *CLI,
        "samplesheet",
        "--results",
        str(results),
        "--samples-map",
        str(samples_map),
        "--out",
        str(sheet),
        "--build",
        "GRCh37",
    )
    assert done.returncode == 0, done.stderr
    assert "LINX fusions name genes but give no breakend coordinates" in done.stdout
    assert "tumour fraction 0.99 from PURPLE purity" in done.stdout
    rows = {r["sample"]: r for r in _tsv(sheet)}
    assert rows["PL2_T0"]["sv"].endswith("PL2_T0.purple.sv.vcf")
    assert rows["PL2_T0"]["sv_sample"] == "PL2_T0" and rows["PL2_T0"]["timepoint"] == "baseline"

    out = tmp_path / "out"
    run = _snakemake(sheet, out, "GRCh37")
    assert run.returncode == 0, run.stderr[-3000:]
    t0 = json.loads((draw_folder(out, "PL2_T0") / "accounting.json").read_text())
    assert t0["reconciles"]
    assert chosen_tf(t0) == (0.99, "PURPLE purity")
    assert t0["copy_number"]["segments_read"] == 222
    assert t0["copy_number"]["ploidy_from_file"] == 3.1
    purple_rows = _tsv(results / "PAT2_T0/purple/PL2_T0.purple.cnv.somatic.tsv")
    genes = {g["gene"]: g for g in t0["copy_number"]["genes"]}
    spans = {
        "KRAS": ("12", 25357723, 25403870),
        "MET": ("7", 116312444, 116438440),
        "ERBB2": ("17", 37844167, 37886679),
        "NRAS": ("1", 115247090, 115259515),
    }
    for gene, (chrom, start, end) in spans.items():
        covering = [
            float(r["copyNumber"])
            for r in purple_rows
            if r["chromosome"] == chrom and int(r["start"]) <= end and int(r["end"]) >= start
        ]
        assert len(covering) == 1  # one PURPLE segment over each gene in this run
        # PURPLE fitted purity and absolute copy number: its copyNumber is the tumour CN
        assert genes[gene]["tumor_cn"] == pytest.approx(covering[0])
    t1 = json.loads((draw_folder(out, "PL2_T1") / "accounting.json").read_text())
    assert chosen_tf(t1) == (0.31, "PURPLE purity")
    met = {g["gene"]: g for g in t1["copy_number"]["genes"]}["MET"]
    assert met["tumor_cn"] == pytest.approx(14.25)  # PURPLE's absolute CN, as written
    assert met["plasma_cn"] == pytest.approx(0.31 * 14.25 + 2 * 0.69)
    alterations = {r["alteration"]: r for r in _tsv(draw_folder(out, "PL2_T1") / "alterations.tsv")}
    assert "amplification" in alterations  # MET
    fusion = alterations["EML4-ALK"]
    assert (int(fusion["split_reads"]), int(fusion["spanning_reads"])) == (9, 6)  # SF, DF
    assert fusion["caller"] == "gridss"
    kras = alterations["p.G12D"]
    assert (int(kras["depth"]), int(kras["alt_reads"])) == (1600, 120)
