"""Per-site background from normal plasmas (issue 20): build, counts, flags, and the calls it makes.

Normals are simulated BAMs over KRAS codons 12-13 (simulate.bam): six donors with a uniform
sequencing error, a recurrent artefact (KRAS G12V's C>A at 0.5% in every normal) and a CHIP-like
variant (KRAS G13D at 3% in two donors). The table is built with the real command, its counts are
checked against samtools mpileup, and a plasma VCF is called with and without it.
"""

from __future__ import annotations

import datetime
import gzip
import hashlib
import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import pysam
import pytest
import yaml
from scipy.stats import betabinom, binom

from ctdna_resistance.background import BackgroundTable, ErrorModel, context_class, error_model
from ctdna_resistance.calls import call_sample, detection_settings
from ctdna_resistance.errors import InputError
from ctdna_resistance.panel import load_panel
from ctdna_resistance.samplesheet import Sample
from ctdna_resistance.simulate.bam import write_plasma_bam, write_reference
from ctdna_resistance.stats import (
    beta_parameters,
    error_at_least,
    min_alt_reads_against,
    moment_overdispersion,
)

REPO = Path(__file__).resolve().parents[2]
WINDOW = ("12", 25245250, 25245450)
G12V = ("12", 25245350, "C", "A")  # the recurrent artefact
G12D = ("12", 25245350, "C", "T")  # same position, clean
G13D = ("12", 25245347, "C", "T")  # CHIP-like: two donors carry it
NORMALS = [f"N{i}" for i in range(1, 7)]
FLAGS = "UNMAP,SECONDARY,QCFAIL,DUP,SUPPLEMENTARY"
needs_samtools = pytest.mark.skipif(
    shutil.which("samtools") is None, reason="samtools not on PATH (apt-get install samtools)"
)


def kras_panel(folder: Path) -> Path:
    """The shipped panel reduced to KRAS, so a reference of one window holds its regions."""
    data = yaml.safe_load((REPO / "panels" / "anti_egfr_crc.yaml").read_text())
    data["genes"] = [gene for gene in data["genes"] if gene["symbol"] == "KRAS"]
    path = folder / "kras.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


class Normals:
    """A reference, six normal BAMs, their sheet, and the background table built from them."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.panel_path = kras_panel(folder)
        self.panel = load_panel(self.panel_path, "GRCh38")
        self.reference = folder / "ref.fa.gz"
        known = sorted({(c, p, r) for (c, p, r, _) in self.panel.hotspots if _in_window(p)})
        write_reference(self.reference, [WINDOW], build="GRCh38", seed=3, known_bases=known)
        rows = ["sample\tbam"]
        for index, name in enumerate(NORMALS):
            sites = [dict(zip(("chrom", "pos", "ref", "alt"), G12V, strict=True), vaf=0.005)]
            if index < 2:
                sites.append(dict(zip(("chrom", "pos", "ref", "alt"), G13D, strict=True), vaf=0.03))
            write_plasma_bam(
                folder / f"{name}.bam", self.reference, sites, sample=name, seed=100 + index,
                depth=1500, error_rate=0.0006, build="GRCh38",
            )  # fmt: skip
            rows.append(f"{name}\t{name}.bam")
        self.sheet = folder / "normals.tsv"
        self.sheet.write_text("\n".join(rows) + "\n")
        self.out = folder / "background"
        done = run_cli(
            "background", "--normals", self.sheet, "--reference", self.reference,
            "--out", self.out, "--panel", self.panel_path, "--build", "GRCh38",
            "--set", "background_fit.min_site_depth=2000",
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        self.table = self.out / "background.tsv.gz"
        self.rows = read_rows(self.table)


def _in_window(pos: int) -> bool:
    return WINDOW[1] <= pos <= WINDOW[2]


def run_cli(*args) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "ctdna_resistance.cli", *map(str, args)],
        cwd=REPO, capture_output=True, text=True, check=False,
    )  # fmt: skip


def read_rows(table: Path) -> dict[tuple[str, int, str, str], dict]:
    with gzip.open(table, "rt") as handle:
        lines = [line.rstrip("\n") for line in handle if not line.startswith("##")]
    columns = lines[0].lstrip("#").split("\t")
    rows = {}
    for line in lines[1:]:
        row = dict(zip(columns, line.split("\t"), strict=True))
        rows[(row["chrom"], int(row["pos"]), row["ref"], row["alt"])] = row
    return rows


@pytest.fixture(scope="module")
def normals(tmp_path_factory) -> Normals:
    return Normals(tmp_path_factory.mktemp("background"))


# -- statistics --------------------------------------------------------------------------------


@pytest.mark.parametrize("rho", [0.0, 1e-4, 0.01, 0.2])
@pytest.mark.parametrize("n,mean", [(500, 1e-3), (3000, 5e-4), (20000, 0.004)])
def test_beta_binomial_tail_equals_the_sum_of_scipys_pmf(n, mean, rho):
    # the sum of the pmf, not scipy's sf: that one is 1 - cdf and loses the small tails
    law = binom(n, mean) if rho == 0 else betabinom(n, *beta_parameters(mean, rho))
    for k in (1, 3, 8, 25, 60):
        expected = law.pmf(np.arange(k, n + 1)).sum()
        assert error_at_least(k, n, mean, rho) == pytest.approx(expected, rel=1e-9, abs=1e-300)
    assert error_at_least(0, n, mean, rho) == 1.0


def test_threshold_is_the_smallest_significant_count():
    for n, mean, rho in [(2000, 5e-4, 0.0), (2000, 0.004, 0.002), (8000, 2e-4, 0.05)]:
        k = min_alt_reads_against(n, mean, rho, 0.01, 3)
        assert error_at_least(k, n, mean, rho) < 0.01
        assert k == 3 or error_at_least(k - 1, n, mean, rho) >= 0.01


def test_overdispersion_estimate_recovers_the_simulated_one():
    rng = np.random.default_rng(5)
    a, b = beta_parameters(0.01, 0.02)
    rates = rng.beta(a, b, size=4000)
    depth = rng.integers(500, 3000, size=4000)
    alt = rng.binomial(depth, rates)
    assert moment_overdispersion(alt, depth) == pytest.approx(0.02, rel=0.15)
    binomial = rng.binomial(depth, 0.01)
    assert moment_overdispersion(binomial, depth) < 0.001


def test_context_classes_are_pyrimidine_centred():
    assert context_class("ACG", "T") == "A[C>T]G"
    assert context_class("CGT", "A") == "A[C>T]G"  # G>A on the other strand
    assert context_class("ANG", "T") is None
    assert context_class("ACG", "C") is None


# -- the table -----------------------------------------------------------------------------------


def test_table_is_indexed_and_names_its_normals_with_sha256(normals):
    assert (normals.out / "background.tsv.gz.tbi").is_file()
    tabix = pysam.TabixFile(str(normals.table))
    header = list(tabix.header)
    assert "##ctdna_resistance_background=1.0" in header
    assert "##genome_build=GRCh38" in header
    for name in NORMALS:
        digest = hashlib.sha256((normals.folder / f"{name}.bam").read_bytes()).hexdigest()
        assert f"##normal=sample:{name};file:{name}.bam;sha256:{digest}" in header
    assert any(line.startswith("##context=class:") for line in header)
    assert len(list(tabix.fetch("12", G12V[1] - 1, G12V[1]))) == 3  # the three alternative bases


def _mpileup_counts(normals: Normals, name: str, pos: int) -> Counter:
    command = [
        "samtools", "mpileup", "-r", f"12:{pos}-{pos}", "-Q", "20", "-q", "20", "--ff", FLAGS,
        "-d", "0", "-B", "-A", str(normals.folder / f"{name}.bam"),
    ]  # fmt: skip
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    bases = re.sub(r"\^.|\$", "", output.rstrip("\n").split("\t")[4])
    while (marker := re.search(r"[+-](\d+)", bases)) is not None:
        bases = bases[: marker.start()] + bases[marker.end() + int(marker.group(1)) :]
    return Counter(bases)


@needs_samtools
def test_counts_equal_samtools_mpileup_per_normal_and_strand(normals):
    checked = 0
    for key in (G12V, G12D, G13D, ("12", 25245300, None, None)):
        pos = key[1]
        rows = [row for (c, p, _, _), row in normals.rows.items() if p == pos]
        assert len(rows) == 3
        for index, name in enumerate(NORMALS):
            pile = _mpileup_counts(normals, name, pos)
            depth = sum(n for base, n in pile.items() if base.upper() in "ACGTN")
            assert int(rows[0]["normal_depth"].split(",")[index]) == depth
            for row in rows:
                alt = row["alt"]
                assert (
                    int(row["normal_alt_reads"].split(",")[index]) == pile[alt] + pile[alt.lower()]
                )
                checked += pile[alt] + pile[alt.lower()]
        fwd = sum(_mpileup_counts(normals, n, pos)[rows[0]["alt"]] for n in NORMALS)
        assert int(rows[0]["alt_fwd"]) == fwd
    assert checked > 50  # alt reads were compared, not only zeros


def test_artefact_and_chip_sites_are_flagged_and_clean_sites_are_not(normals):
    artefact, clean, chip = normals.rows[G12V], normals.rows[G12D], normals.rows[G13D]
    assert artefact["flag"] == "recurrent_artefact"
    assert int(artefact["n_carriers"]) >= 4
    assert 0.003 < float(artefact["mean_error"]) < 0.008
    assert chip["flag"] == "chip_like"
    assert int(chip["n_carriers"]) == 2
    assert float(chip["overdispersion"]) > 0.005  # two donors at 3%, four at background
    assert clean["flag"] == "" and clean["model"] == "site"
    assert float(clean["mean_error"]) < 0.001
    flagged = [key for key, row in normals.rows.items() if row["flag"]]
    assert set(flagged) == {G12V, G13D}


def test_same_inputs_give_a_byte_identical_table(normals, tmp_path):
    done = run_cli(
        "background", "--normals", normals.sheet, "--reference", normals.reference,
        "--out", tmp_path, "--panel", normals.panel_path, "--build", "GRCh38",
        "--set", "background_fit.min_site_depth=2000",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "background.tsv.gz").read_bytes() == normals.table.read_bytes()


# -- refusals ------------------------------------------------------------------------------------


def test_one_normal_is_refused_in_one_line(normals, tmp_path):
    sheet = tmp_path / "one.tsv"
    sheet.write_text(f"sample\tbam\nN1\t{normals.folder / 'N1.bam'}\n")
    done = run_cli(
        "background", "--normals", sheet, "--reference", normals.reference, "--out", tmp_path / "o",
        "--panel", normals.panel_path,
    )  # fmt: skip
    assert done.returncode == 1
    assert "at least 2 normal plasmas" in done.stderr and len(done.stderr.splitlines()) == 1
    assert not (tmp_path / "o" / "background.tsv.gz").exists()


def test_a_reference_of_another_assembly_is_refused(normals, tmp_path):
    other = tmp_path / "other.fa.gz"
    write_reference(other, [WINDOW], build="GRCh38", seed=99)  # random bases at the hotspots
    done = run_cli(
        "background", "--normals", normals.sheet, "--reference", other, "--out", tmp_path / "o",
        "--panel", normals.panel_path,
    )  # fmt: skip
    assert done.returncode == 1
    assert "do not match the panel's build" in done.stderr


def test_a_reference_without_the_panel_contigs_is_refused(normals, tmp_path):
    other = tmp_path / "chr7.fa.gz"
    write_reference(other, [("7", 100, 400)], build="GRCh38", seed=1)
    done = run_cli(
        "background", "--normals", normals.sheet, "--reference", other, "--out", tmp_path / "o",
        "--panel", normals.panel_path,
    )  # fmt: skip
    assert done.returncode == 1
    assert "no contig 12" in done.stderr


def test_a_table_of_another_build_or_panel_is_refused(normals):
    with pytest.raises(InputError, match="built on GRCh38, but the run is GRCh37"):
        BackgroundTable(normals.table, build="GRCh37")
    full = load_panel(REPO / "panels" / "anti_egfr_crc.yaml", "GRCh38")
    with pytest.raises(InputError, match="does not cover the panel region"):
        BackgroundTable(normals.table, build="GRCh38", panel_regions=full.small_variant_regions())


# -- detection with the table ---------------------------------------------------------------------


def plasma_vcf(path: Path, records: list[tuple[tuple, int, int]]) -> Path:
    """A generic FORMAT AD/DP VCF (GRCh38 contig line) with (site, alt reads, depth) records."""
    lines = [
        "##fileformat=VCFv4.2",
        "##contig=<ID=chr12,length=133275309>",
        '##FILTER=<ID=PASS,Description="All filters passed">',
        '##FORMAT=<ID=AD,Number=R,Type=Integer,Description="Allelic depths">',
        '##FORMAT=<ID=DP,Number=1,Type=Integer,Description="Depth">',
        "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tPLASMA",
    ]
    for (chrom, pos, ref, alt), k, n in records:
        lines.append(f"chr{chrom}\t{pos}\t.\t{ref}\t{alt}\t.\tPASS\t.\tAD:DP\t{n - k},{k}:{n}")
    path.write_text("\n".join(lines) + "\n")
    return path


def test_artefact_at_its_background_is_filtered_and_a_true_allele_at_the_same_vaf_is_called(
    normals, tmp_path
):
    # 16/3000 = 0.53%: the artefact site's own background, and far above a clean site's
    vcf = plasma_vcf(tmp_path / "plasma.vcf", [(G12V, 16, 3000), (G12D, 16, 3000)])
    sample = Sample("P1", "P1-T1", datetime.date(2024, 1, 1), "T0", vcf=vcf)
    config = {"background": str(normals.table), "genome_build": "GRCh38"}
    calls = call_sample(sample, normals.panel, config)
    reported = {row["alteration"]: row for row in calls.alterations}
    filtered = {row["alteration"]: row for row in calls.filtered}
    assert set(reported) == {"p.G12D"}
    assert reported["p.G12D"]["background_model"] == "site"
    assert filtered["p.G12V"]["reason"] == "recurrent_artefact"
    assert (
        "beta-binomial" in filtered["p.G12V"]["detail"]
        or "binomial" in filtered["p.G12V"]["detail"]
    )
    assert calls.accounting["background_model"] == "site"
    # the scalar model believes both: the false "new KRAS G12V" the background prevents
    scalar = call_sample(sample, normals.panel, {"genome_build": "GRCh38"})
    assert {row["alteration"] for row in scalar.alterations} == {"p.G12D", "p.G12V"}
    assert {row["background_model"] for row in scalar.alterations} == {"scalar"}


def test_artefact_site_allele_well_above_its_background_is_called(normals, tmp_path):
    vcf = plasma_vcf(tmp_path / "plasma.vcf", [(G12V, 90, 3000)])  # 3%: six times the artefact
    sample = Sample("P1", "P1-T1", datetime.date(2024, 1, 1), "T0", vcf=vcf)
    calls = call_sample(sample, normals.panel, {"background": str(normals.table)})
    assert [row["alteration"] for row in calls.alterations] == ["p.G12V"]


def test_a_call_far_deeper_than_the_normals_is_named_in_the_qc(normals, tmp_path):
    # the normals have ~1,500 reads each at KRAS: a 6,000x plasma extrapolates their error's tail
    config = {"background": str(normals.table), "genome_build": "GRCh38"}
    deep = plasma_vcf(tmp_path / "deep.vcf", [(G12D, 60, 6000)])
    calls = call_sample(Sample("P1", "P1-T1", datetime.date(2024, 1, 1), "T0", vcf=deep),
                        normals.panel, config)  # fmt: skip
    assert [row["alteration"] for row in calls.alterations] == ["p.G12D"]
    (note,) = calls.accounting["beyond_normals_depth"]
    assert note.startswith("KRAS p.G12D at 6000x (normals ") and int(note.split()[-1][:-2]) < 3000
    shallow = plasma_vcf(tmp_path / "shallow.vcf", [(G12D, 20, 2000)])
    calls = call_sample(Sample("P1", "P1-T1", datetime.date(2024, 1, 1), "T0", vcf=shallow),
                        normals.panel, config)  # fmt: skip
    assert [row["alteration"] for row in calls.alterations] == ["p.G12D"]
    assert calls.accounting["beyond_normals_depth"] == []
    # the scalar model has no normals to be beyond
    scalar = call_sample(Sample("P1", "P1-T1", datetime.date(2024, 1, 1), "T0", vcf=deep),
                         normals.panel, {"genome_build": "GRCh38"})  # fmt: skip
    assert scalar.accounting["beyond_normals_depth"] == []


def test_lod95_is_higher_at_the_artefact_site(normals):
    det = detection_settings({})
    errors = error_model({"background": str(normals.table)}, det, normals.panel)
    artefact, clean = errors.site(*G12V), errors.site(*G12D)
    lod_artefact = artefact.lod95(3000, alpha=0.01, min_alt_reads=3)
    lod_clean = clean.lod95(3000, alpha=0.01, min_alt_reads=3)
    assert lod_artefact > 2 * lod_clean
    # an indel, and a site outside the table, fall back to the scalar model
    assert errors.site("12", 25245350, "CC", "C").model == "scalar"
    assert errors.site("12", 25205000, "A", "G").model == "scalar"
    assert ErrorModel(det).site(*G12V).model == "scalar"


def test_a_normal_of_another_build_is_refused(normals, tmp_path):
    other = REPO / "tests" / "bad_inputs" / "bam_other_build.bam"  # GRCh37 @SQ lengths
    sheet = tmp_path / "normals.tsv"
    sheet.write_text(f"sample\tbam\nN1\t{normals.folder / 'N1.bam'}\nOLD\t{other}\n")
    done = run_cli(
        "background", "--normals", sheet, "--reference", normals.reference, "--out", tmp_path / "o",
        "--panel", normals.panel_path, "--build", "GRCh38",
    )  # fmt: skip
    assert done.returncode == 1, done.stderr
    assert "bam_other_build.bam" in done.stderr and "GRCh37" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "o").exists() or not any((tmp_path / "o").iterdir())


# -- strand-aware test ---------------------------------------------------------------------------


def _row(**values) -> dict:
    base = dict(
        model="site", mean_error="0.002", overdispersion="0.0004", model_overdispersion="0.0005",
        flag="", context="",
        n_normals="8", alt_reads="40", depth="20000", n_carriers="0", depth_fwd="10000",
        depth_rev="10000", alt_fwd="38", alt_rev="2",
    )  # fmt: skip
    return {**base, **values}


def test_a_strand_biased_site_tests_the_clean_strand():
    from ctdna_resistance.background import _site_model
    from ctdna_resistance.samplesheet import Sample
    from ctdna_resistance.tracking import DrawData, SiteEvidence, _observe_evidence

    model = _site_model(_row())
    assert model.strand_errors is not None and model.strand_errors[0] > 5 * model.strand_errors[1]
    assert _site_model(_row(alt_fwd="21", alt_rev="19")).strand_errors is None
    det = detection_settings({})
    sample = Sample("P1", "P1-T1", datetime.date(2024, 1, 1), "T1")
    key = "12:25245350:C>A"

    def observe(depth_fwd, alt_fwd, depth, alt):
        draw = DrawData(sample, [], [], {})
        draw.evidence = {key: SiteEvidence(depth, alt, "bam", depth_fwd, alt_fwd)}
        return _observe_evidence(key, draw, det, model)

    # 16 alt reads in 3,000, all on the forward strand where the normals' error is: the site's
    # artefact, not called; the same 16 split over both strands: a real allele, called
    artefact = observe(1500, 16, 3000, 16)
    assert artefact.status == "not_detected" and "strand-aware" in artefact.note
    real = observe(1500, 8, 3000, 16)
    assert real.status == "detected" and real.p_value < 0.01
    # without strand counts (a coverage file or a VCF) the pooled test decides, as before
    pooled = SiteEvidence(3000, 16, "bam")
    draw = DrawData(sample, [], [], {})
    draw.evidence = {key: pooled}
    assert "strand-aware" not in _observe_evidence(key, draw, det, model).note


def test_validate_refuses_a_table_of_another_panel_before_any_job(normals):
    done = run_cli("validate", "--set", f"background={normals.table}", "--set", "normals=")
    assert done.returncode == 1
    assert "does not cover the panel region" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    ok = run_cli("validate", "--set", f"background={normals.table}", "--set", "normals=",
                 "--set", f"panel={normals.panel_path}")  # fmt: skip
    assert ok.returncode == 0 and "background table of 6 normals" in ok.stdout, ok.stderr
