"""The synthetic cohort generator: reproducible trees whose VCFs say exactly what truth.tsv says."""

from __future__ import annotations

import csv
import itertools
import math
import re
from datetime import date
from pathlib import Path

import cyvcf2
import pytest
import yaml

from ctdna_resistance.copy_number import call_copy_number, gene_copy_number
from ctdna_resistance.errors import InputError
from ctdna_resistance.fusions import call_fusions, load_gene_table
from ctdna_resistance.genotype import count_alleles
from ctdna_resistance.io.copy_number import read_copy_number
from ctdna_resistance.io.sv_vcf import read_sv_vcf
from ctdna_resistance.panel import load_panel
from ctdna_resistance.records import normalise_contig
from ctdna_resistance.samplesheet import read_sample_sheet
from ctdna_resistance.simulate import simulate_cohort
from ctdna_resistance.simulate.genome import CONTIG_LENGTHS

ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")

# Test-only panel: three hotspots in three genes, both builds (format of panels/anti_egfr_crc.yaml).
PANEL_YAML = """\
schema_version: 1
name: simulate_test_panel
version: "0.0.1"
title: Test-only panel
sources:
  - {id: test, citation: "test fixture; coordinates as in panels/anti_egfr_crc.yaml"}
genes:
  - symbol: KRAS
    hgnc_id: "HGNC:6407"
    mechanism_group: ras_mapk
    strand: "-"
    loci:
      GRCh38: {chrom: "12", start: 25205246, end: 25250929, source: test}
      GRCh37: {chrom: "12", start: 25357723, end: 25403870, source: test}
    classes: [hotspot]
    codons:
      - codon: 12
        ref_aa: G
        ref_codon: GGT
        GRCh38: {start: 25245349, end: 25245351}
        GRCh37: {start: 25398283, end: 25398285}
        sources: [test]
    hotspots:
      - protein: p.G12D
        hgvsc: c.35G>A
        GRCh38: {pos: 25245350, ref: C, alt: T}
        GRCh37: {pos: 25398284, ref: C, alt: T}
        sources: [test]
    evidence: []
    strategies: []
  - symbol: NRAS
    hgnc_id: "HGNC:7989"
    mechanism_group: ras_mapk
    strand: "-"
    loci:
      GRCh38: {chrom: "1", start: 114704469, end: 114716771, source: test}
      GRCh37: {chrom: "1", start: 115247085, end: 115259515, source: test}
    classes: [hotspot]
    hotspots:
      - protein: p.Q61K
        hgvsc: c.181C>A
        GRCh38: {pos: 114713909, ref: G, alt: T}
        GRCh37: {pos: 115256530, ref: G, alt: T}
        sources: [test]
    evidence: []
    strategies: []
  - symbol: BRAF
    hgnc_id: "HGNC:1097"
    mechanism_group: ras_mapk
    strand: "-"
    loci:
      GRCh38: {chrom: "7", start: 140719327, end: 140924929, source: test}
      GRCh37: {chrom: "7", start: 140419127, end: 140624564, source: test}
    classes: [hotspot]
    hotspots:
      - protein: p.V600E
        hgvsc: c.1799T>A
        GRCh38: {pos: 140753336, ref: A, alt: T}
        GRCh37: {pos: 140453136, ref: A, alt: T}
        sources: [test]
    evidence: []
    strategies: []
evidence: []
strategies: []
"""

HOTSPOTS = {
    "GRCh38": {
        ("KRAS", "p.G12D", "12", 25245350, "C", "T"),
        ("NRAS", "p.Q61K", "1", 114713909, "G", "T"),
        ("BRAF", "p.V600E", "7", 140753336, "A", "T"),
    },
    "GRCh37": {
        ("KRAS", "p.G12D", "12", 25398284, "C", "T"),
        ("NRAS", "p.Q61K", "1", 115256530, "G", "T"),
        ("BRAF", "p.V600E", "7", 140453136, "A", "T"),
    },
}


@pytest.fixture(scope="module")
def panel_path(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("panel") / "panel.yaml"
    path.write_text(PANEL_YAML, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def cohort(tmp_path_factory, panel_path) -> Path:
    outdir = tmp_path_factory.mktemp("sim") / "cohort"
    simulate_cohort(outdir, seed=1, panel_path=panel_path)
    return outdir


def read_tsv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


def small_variants(path: Path) -> list[dict[str, str]]:
    """The truth rows of small variants (the other kinds are checked below)."""
    return [row for row in read_tsv(path) if row["kind"] == "snv"]


def tree_bytes(root: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(root)): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def dialect_of(vcf: cyvcf2.VCF) -> str:
    header = vcf.raw_header
    if "##source=VarDict" in header:
        return "vardict"
    if "##source=strelka" in header:
        return "strelka2"
    if "##source=Mutect2" in header:
        return "mutect2"
    raise AssertionError("unknown dialect")


def tumour_column(vcf: cyvcf2.VCF, vcf_sample: str) -> int:
    if vcf_sample:
        return vcf.samples.index(vcf_sample)
    match = re.search(r"^##tumor_sample=(.+)$", vcf.raw_header, flags=re.MULTILINE)
    if match:
        return vcf.samples.index(match.group(1))
    assert len(vcf.samples) == 1
    return 0


def read_calls(path: Path, vcf_sample: str) -> dict[tuple, tuple[int, int, str]]:
    """(chrom, pos, ref, alt) -> (depth, alt_reads, FILTER), parsed the way SPEC 3.4 says."""
    vcf = cyvcf2.VCF(str(path))
    dialect = dialect_of(vcf)
    column = tumour_column(vcf, vcf_sample)
    calls = {}
    for variant in vcf:
        alt = variant.ALT[0]
        if dialect == "strelka2":
            tier1 = {base: int(variant.format(f"{base}U")[column][0]) for base in "ACGT"}
            depth, alt_reads = sum(tier1.values()), tier1[alt]
        else:
            depth = int(variant.format("DP")[column][0])
            alt_reads = int(variant.format("AD")[column][1])
        key = (normalise_contig(variant.CHROM), variant.POS, variant.REF, alt)
        calls[key] = (depth, alt_reads, variant.FILTER or "PASS")
    vcf.close()
    return calls


def test_same_seed_gives_a_byte_identical_tree(tmp_path, monkeypatch, panel_path):
    trees = []
    for run in ("first", "second"):
        (tmp_path / run).mkdir()
        monkeypatch.chdir(tmp_path / run)  # same relative outdir, so params.yaml's command matches
        simulate_cohort(Path("cohort"), seed=7, panel_path=panel_path)
        trees.append(tree_bytes(tmp_path / run / "cohort"))
    assert len(trees[0]) > 20
    assert trees[0] == trees[1]


def test_a_different_seed_gives_different_data(tmp_path, panel_path, cohort):
    other = tmp_path / "other"
    simulate_cohort(other, seed=2, panel_path=panel_path)
    assert (other / "truth.tsv").read_bytes() != (cohort / "truth.tsv").read_bytes()
    assert (other / "vcf" / "P001-T1.vcf.gz").read_bytes() != (
        cohort / "vcf" / "P001-T1.vcf.gz"
    ).read_bytes()


def test_every_vcf_record_matches_truth_counts_and_filter(cohort):
    truth = small_variants(cohort / "truth.tsv")
    samples = read_tsv(cohort / "samples.tsv")
    assert len(samples) == 16
    for row in samples:
        calls = read_calls(cohort / row["vcf"], row["vcf_sample"])
        expected = {
            (t["chrom"], int(t["pos"]), t["ref"], t["alt"]): (
                int(t["depth"]), int(t["alt_reads"]), t["filter"],
            )
            for t in truth
            if t["sample"] == row["sample"] and t["in_vcf"] == "1"
        }  # fmt: skip
        assert calls == expected, row["sample"]
        written = [t for t in truth if t["sample"] == row["sample"]]
        for t in written:
            # the caller writes a record exactly when it saw alt reads
            assert (t["in_vcf"] == "1") == (int(t["alt_reads"]) > 0)


def test_pass_records_follow_the_evidence_rule(cohort):
    for t in small_variants(cohort / "truth.tsv"):
        if t["filter"] == "PASS":
            assert int(t["alt_reads"]) >= 5
            assert int(t["alt_reads"]) / int(t["depth"]) >= 0.002
        if t["in_vcf"] == "1" and int(t["alt_reads"]) < 5:
            assert t["filter"] != "PASS"


def test_resistance_variants_are_panel_hotspots_with_panel_alleles(cohort):
    resistance = [t for t in small_variants(cohort / "truth.tsv") if t["category"] == "resistance"]
    assert resistance
    for t in resistance:
        key = (t["gene"], t["protein"], t["chrom"], int(t["pos"]), t["ref"], t["alt"])
        assert key in HOTSPOTS["GRCh38"]


def test_polyclonal_patients_carry_hotspots_in_different_genes(cohort):
    truth = small_variants(cohort / "truth.tsv")
    genes_by_patient: dict[str, set[str]] = {}
    for t in truth:
        if t["category"] == "resistance":
            genes_by_patient.setdefault(t["patient"], set()).add(t["gene"])
    assert sorted(len(genes) for genes in genes_by_patient.values()) == [1, 2, 2, 3]


def test_only_one_patient_has_resistance_at_baseline(cohort):
    truth = small_variants(cohort / "truth.tsv")
    baseline = {
        row["sample"] for row in read_tsv(cohort / "samples.tsv") if row["timepoint"] == "T0"
    }
    present = [
        t
        for t in truth
        if t["sample"] in baseline and t["category"] == "resistance" and float(t["true_vaf"]) > 0
    ]
    assert len(present) == 1
    params = yaml.safe_load((cohort / "params.yaml").read_text())
    pre_existing = [
        p["patient"] for p in params["patients"] if "pre_existing_resistance" in p["scenario"]
    ]
    assert pre_existing == [present[0]["patient"]]


def test_resistance_clones_emerge_on_anti_egfr(cohort):
    truth = small_variants(cohort / "truth.tsv")
    on_therapy = {
        row["sample"]: row["on_anti_egfr"] == "1" for row in read_tsv(cohort / "truth_samples.tsv")
    }
    first_seen: dict[tuple[str, str], str] = {}
    for t in truth:  # sorted by patient then date
        key = (t["patient"], t["protein"])
        if t["category"] == "resistance" and float(t["true_vaf"]) > 0:
            first_seen.setdefault(key, t["sample"])
    emerging = [sample for sample in first_seen.values() if not sample.endswith("-T0")]
    assert len(emerging) >= 4
    assert all(on_therapy[sample] for sample in emerging)


def test_clones_decay_after_anti_egfr_is_withdrawn(cohort):
    treatments = read_tsv(cohort / "treatments.tsv")
    truth = small_variants(cohort / "truth.tsv")
    ends = {
        t["patient"]: date.fromisoformat(t["end_date"])
        for t in treatments
        if t["agent"] in ("cetuximab", "panitumumab") and t["end_date"]
    }
    assert len(ends) >= 2
    decays_checked = 0
    for patient, end in ends.items():
        series: dict[str, list[float]] = {}
        for t in truth:
            after = date.fromisoformat(t["collection_date"]) > end
            if t["patient"] == patient and t["category"] == "resistance" and after:
                series.setdefault(t["protein"], []).append(float(t["true_vaf"]))
        for vafs in series.values():
            assert vafs, patient
            if len(vafs) >= 2:
                decays_checked += 1
                assert all(later < earlier for earlier, later in itertools.pairwise(vafs))
    assert decays_checked >= 2  # two draws after withdrawal: a decay can be fitted


def test_every_patient_starts_anti_egfr_at_or_just_after_baseline(cohort):
    treatments = read_tsv(cohort / "treatments.tsv")
    baselines = {
        row["patient"]: date.fromisoformat(row["collection_date"])
        for row in read_tsv(cohort / "samples.tsv")
        if row["timepoint"] == "T0"
    }
    for patient, baseline in baselines.items():
        starts = [
            date.fromisoformat(t["start_date"])
            for t in treatments
            if t["patient"] == patient and t["agent"] in ("cetuximab", "panitumumab")
        ]
        assert len(starts) == 1
        assert 0 <= (starts[0] - baseline).days <= 7
        backbones = [t for t in treatments if t["patient"] == patient and t["line"] == "1"]
        assert {t["agent"] for t in backbones} & {"FOLFIRI", "FOLFOX"}


def test_ids_match_the_sheet_pattern_and_dates_increase(cohort):
    samples = read_tsv(cohort / "samples.tsv")
    assert list(samples[0]) == [
        "patient", "sample", "collection_date", "vcf", "vcf_sample", "normal_vcf",
        "tumor_fraction", "timepoint", "cnv", "sv", "sv_sample", "bam",
    ]  # fmt: skip
    assert len({row["sample"] for row in samples}) == len(samples)
    by_patient: dict[str, list[date]] = {}
    for row in samples:
        assert ID_PATTERN.match(row["patient"]) and ID_PATTERN.match(row["sample"])
        # only the role-0 patient (P001) carries its tumour fraction in the sheet
        assert (row["tumor_fraction"] != "") == (row["patient"] == "P001")
        assert (cohort / row["vcf"]).is_file() and (cohort / row["normal_vcf"]).is_file()
        by_patient.setdefault(row["patient"], []).append(date.fromisoformat(row["collection_date"]))
    for dates in by_patient.values():
        gaps = [(later - earlier).days for earlier, later in itertools.pairwise(dates)]
        assert all(28 <= gap <= 84 for gap in gaps), gaps


def test_headers_are_real_looking_in_three_dialects_and_two_contig_styles(cohort):
    dialects, styles = set(), set()
    vcfs = sorted((cohort / "vcf").glob("*.vcf*")) + sorted((cohort / "normal").glob("*.vcf"))
    for path in vcfs:
        if path.suffix == ".tbi":
            continue
        vcf = cyvcf2.VCF(str(path))
        dialects.add(dialect_of(vcf))
        header = vcf.raw_header
        assert header.startswith("##fileformat=VCFv4.")
        assert "##reference=" in header
        contigs = dict(re.findall(r"##contig=<ID=([^,]+),length=(\d+)>", header))
        names = {normalise_contig(name) for name in contigs}
        assert names == set(CONTIG_LENGTHS["GRCh38"])
        for name, length in contigs.items():
            assert int(length) == CONTIG_LENGTHS["GRCh38"][normalise_contig(name)]
        styles.add(next(iter(contigs)).startswith("chr"))
        # every FILTER, INFO and FORMAT key used is declared (PASS is implicit in VCF)
        for variant in vcf:
            for key in (variant.FILTER or "").split(";") if variant.FILTER else []:
                assert f"##FILTER=<ID={key}," in header
            for key in variant.FORMAT:
                assert f"##FORMAT=<ID={key}," in header
            for key, _ in variant.INFO:
                assert f"##INFO=<ID={key}," in header
        vcf.close()
    assert dialects == {"mutect2", "vardict", "strelka2"}
    assert styles == {True, False}


def test_compressed_vcfs_are_indexed_and_one_patient_is_plain(cohort):
    gz = sorted((cohort / "vcf").glob("*.vcf.gz"))
    plain = sorted((cohort / "vcf").glob("*.vcf"))
    assert gz and plain
    for path in gz:
        assert path.with_name(path.name + ".tbi").is_file()
        vcf = cyvcf2.VCF(str(path))
        first = next(iter(vcf))
        assert len(list(vcf(f"{first.CHROM}:{first.POS}-{first.POS}"))) >= 1  # index works
        vcf.close()


def test_records_are_sorted_by_contig_order_then_position(cohort):
    order = {name: rank for rank, name in enumerate(CONTIG_LENGTHS["GRCh38"])}
    for path in sorted((cohort / "vcf").glob("*.vcf*")):
        if path.suffix == ".tbi":
            continue
        keys = [(order[normalise_contig(v.CHROM)], v.POS) for v in cyvcf2.VCF(str(path))]
        assert keys == sorted(keys)


def test_chip_at_a_panel_hotspot_is_in_plasma_and_in_the_normal(cohort):
    truth = small_variants(cohort / "truth.tsv")
    chip_hotspots = [t for t in truth if t["category"] == "chip" and t["protein"]]
    assert {t["patient"] for t in chip_hotspots} == {"P001"}
    site = chip_hotspots[0]
    assert (site["gene"], site["protein"], site["chrom"], int(site["pos"]), site["ref"],
            site["alt"]) in HOTSPOTS["GRCh38"]  # fmt: skip
    assert any(t["filter"] == "PASS" for t in chip_hotspots)  # so only 'in normal' can remove it
    normal = read_calls(cohort / "normal" / "P001_WBC.vcf", "")
    depth, alt_reads, _ = normal[(site["chrom"], int(site["pos"]), site["ref"], site["alt"])]
    assert 0.005 < alt_reads / depth < 0.05


def test_normal_vcfs_hold_germline_and_chip_but_no_tumour_variants(cohort):
    truth = small_variants(cohort / "truth.tsv")
    for patient in ("P001", "P002", "P003", "P004"):
        normal = read_calls(cohort / "normal" / f"{patient}_WBC.vcf", "")
        categories = {
            t["category"]
            for t in truth
            if t["patient"] == patient and (t["chrom"], int(t["pos"]), t["ref"], t["alt"]) in normal
        }
        assert categories == {"germline", "chip"}


def test_germline_variants_sit_at_half_or_full_vaf_some_inside_panel_genes(cohort):
    germline = [t for t in small_variants(cohort / "truth.tsv") if t["category"] == "germline"]
    assert {float(t["true_vaf"]) for t in germline} <= {0.5, 1.0}
    in_panel_genes = [t for t in germline if t["gene"] in ("KRAS", "NRAS", "BRAF")]
    assert in_panel_genes
    hotspot_positions = {(h[2], h[3]) for h in HOTSPOTS["GRCh38"]}
    assert all((t["chrom"], int(t["pos"])) not in hotspot_positions for t in in_panel_genes)
    assert all(t["protein"] == "" for t in germline)


def test_some_resistance_variants_are_below_detection(cohort):
    resistance = [
        t
        for t in small_variants(cohort / "truth.tsv")
        if t["category"] == "resistance" and float(t["true_vaf"]) > 0
    ]
    assert any(t["filter"] != "PASS" for t in resistance)
    assert any(t["filter"] == "PASS" for t in resistance)
    assert max(float(t["true_vaf"]) for t in resistance) <= 0.15


def test_each_resistant_clone_carries_one_to_three_passengers_at_its_vaf(cohort):
    truth = small_variants(cohort / "truth.tsv")
    hotspot_vaf = {
        (t["sample"], t["clone"]): t["true_vaf"] for t in truth if t["category"] == "resistance"
    }
    passengers = [t for t in truth if t["category"] == "passenger"]
    assert passengers
    panel_genes = {"KRAS", "NRAS", "BRAF"}
    for t in passengers:
        assert t["gene"] not in panel_genes and t["protein"] == ""
        # the clone's label is its hotspot's; the passenger sits at the clone's VAF, every draw
        assert hotspot_vaf[(t["sample"], t["clone"])] == t["true_vaf"], t
    per_clone: dict[tuple[str, str], set] = {}
    for t in passengers:
        per_clone.setdefault((t["patient"], t["clone"]), set()).add((t["chrom"], t["pos"]))
    clones = {(t["patient"], t["clone"]) for t in truth if t["category"] == "resistance"}
    assert set(per_clone) == clones
    assert all(1 <= len(sites) <= 3 for sites in per_clone.values())
    # truncal variants keep their own label
    assert {t["clone"] for t in truth if t["category"] == "truncal"} == {"truncal"}
    params = yaml.safe_load((cohort / "params.yaml").read_text())
    listed = sum(len(c["passengers"]) for p in params["patients"] for c in p["resistance_clones"])
    assert listed == sum(len(sites) for sites in per_clone.values())


def test_passengers_are_not_in_the_normal_and_pass_like_tumour_variants(cohort):
    truth = small_variants(cohort / "truth.tsv")
    for patient in ("P001", "P002", "P003", "P004"):
        normal = read_calls(cohort / "normal" / f"{patient}_WBC.vcf", "")
        sites = {
            (t["chrom"], int(t["pos"]), t["ref"], t["alt"])
            for t in truth
            if t["patient"] == patient and t["category"] == "passenger"
        }
        assert sites and not sites & set(normal)
    assert any(t["filter"] == "PASS" for t in truth if t["category"] == "passenger")


def test_a_third_clone_is_much_smaller_than_the_second(cohort):
    # two minor clones of similar size would have trajectories that agree within sampling
    # noise: one clone by SPEC 5.6's definition, and a truth no method could recover
    params = yaml.safe_load((cohort / "params.yaml").read_text())
    triples = [
        p["resistance_clones"] for p in params["patients"] if len(p["resistance_clones"]) == 3
    ]
    assert triples
    for clones in triples:
        ratio = clones[2]["ccf_at_progression"] / clones[1]["ccf_at_progression"]
        assert 0.15 <= ratio <= 0.3


def test_the_diluted_met_target_range_keeps_the_tumour_copy_number_above_its_floor():
    from ctdna_resistance.simulate.structural import (
        LOW_TF_PLASMA_CN,
        LOW_TF_RANGE,
        MIN_TARGET_TUMOUR_CN,
    )

    # tumour CN at the top of the range: 2 + (2.35 - 2) / p; the former bound 0.064 gave 7.47
    assert 2 + (LOW_TF_PLASMA_CN - 2) / LOW_TF_RANGE[1] >= MIN_TARGET_TUMOUR_CN
    assert 2 + (LOW_TF_PLASMA_CN - 2) / 0.064 < MIN_TARGET_TUMOUR_CN
    assert LOW_TF_RANGE[1] == pytest.approx(
        (LOW_TF_PLASMA_CN - 2) / (MIN_TARGET_TUMOUR_CN - 2), abs=1e-4
    )


def test_params_record_the_seed_and_the_command(cohort, panel_path):
    params = yaml.safe_load((cohort / "params.yaml").read_text())
    assert params["seed"] == 1 and params["n_patients"] == 4 and params["build"] == "GRCh38"
    assert "--seed 1" in params["command"] and str(panel_path) in params["command"]
    assert len(params["patients"]) == 4


def test_default_cohort_is_small(cohort):
    # the BAMs and their reference are most of it (see cohort.BAM_DEPTH_FACTOR); the reference
    # also holds the normal plasmas' windows, whose BAMs (normals/) are counted apart
    sizes = tree_bytes(cohort)
    normals = sum(len(data) for name, data in sizes.items() if name.startswith("normals/"))
    assert sum(len(data) for data in sizes.values()) - normals < 3_500_000
    assert normals < 8_500_000


def test_grch37_uses_the_panel_grch37_coordinates(tmp_path, panel_path):
    outdir = tmp_path / "b37"
    simulate_cohort(outdir, seed=3, n_patients=2, n_draws=3, panel_path=panel_path, build="GRCh37")
    truth = small_variants(outdir / "truth.tsv")
    resistance = {
        (t["gene"], t["protein"], t["chrom"], int(t["pos"]), t["ref"], t["alt"])
        for t in truth
        if t["category"] == "resistance"
    }
    assert resistance and resistance <= HOTSPOTS["GRCh37"]
    header = cyvcf2.VCF(str(outdir / "vcf" / "P001-T0.vcf.gz")).raw_header
    assert "##contig=<ID=1,length=249250621>" in header


def test_refuses_a_non_empty_outdir_and_leaves_it_alone(tmp_path, panel_path):
    outdir = tmp_path / "busy"
    outdir.mkdir()
    (outdir / "keep.txt").write_text("mine")
    with pytest.raises(InputError, match="not empty"):
        simulate_cohort(outdir, panel_path=panel_path)
    assert [path.name for path in outdir.iterdir()] == ["keep.txt"]


def test_a_panel_without_hotspots_is_refused_with_its_path(tmp_path):
    panel = tmp_path / "empty_panel.yaml"
    met_only = PANEL_YAML.split("genes:")[0] + (
        "genes:\n"
        "  - symbol: MET\n"
        '    hgnc_id: "HGNC:7029"\n'
        "    mechanism_group: bypass_rtk\n"
        '    strand: "+"\n'
        "    loci:\n"
        '      GRCh38: {chrom: "7", start: 116672196, end: 116798377, source: test}\n'
        '      GRCh37: {chrom: "7", start: 116312459, end: 116438440, source: test}\n'
        "    classes: [amplification]\n"
        "    evidence: []\n"
        "    strategies: []\n"
        "evidence: []\n"
        "strategies: []\n"
    )
    panel.write_text(met_only)
    with pytest.raises(InputError, match=r"empty_panel\.yaml.*no hotspot"):
        simulate_cohort(tmp_path / "out", panel_path=panel)
    assert not (tmp_path / "out").exists()
    assert list(tmp_path.iterdir()) == [panel]  # no staging folder left behind


def test_non_snv_hotspots_go_to_mutect2_and_vardict_but_never_to_strelka(tmp_path):
    # a made-up gene and deletion, only to give the panel an allele Strelka's SNV file cannot hold
    panel = tmp_path / "indel_panel.yaml"
    panel.write_text(
        PANEL_YAML.split("  - symbol: NRAS")[0]
        + """\
  - symbol: TESTDEL
    hgnc_id: "HGNC:1"
    mechanism_group: other
    strand: "+"
    loci:
      GRCh38: {chrom: "3", start: 1000000, end: 1010000, source: test}
      GRCh37: {chrom: "3", start: 1000000, end: 1010000, source: test}
    classes: [hotspot]
    hotspots:
      - protein: p.Q10del
        hgvsc: c.28_30del
        GRCh38: {pos: 1005000, ref: CAG, alt: C}
        GRCh37: {pos: 1005000, ref: CAG, alt: C}
        sources: [test]
    evidence: []
    strategies: []
evidence: []
strategies: []
"""
    )
    outdir = tmp_path / "cohort"
    simulate_cohort(outdir, seed=5, panel_path=panel)
    truth = small_variants(outdir / "truth.tsv")
    deletion_patients = {t["patient"] for t in truth if t["ref"] == "CAG"}
    assert "P002" in deletion_patients  # VarDict patient: polyclonal, so it takes both genes
    assert "P003" not in deletion_patients  # Strelka2 patient
    for row in read_tsv(outdir / "samples.tsv"):
        expected = {
            (t["chrom"], int(t["pos"]), t["ref"], t["alt"]): (
                int(t["depth"]), int(t["alt_reads"]), t["filter"],
            )
            for t in truth
            if t["sample"] == row["sample"] and t["in_vcf"] == "1"
        }  # fmt: skip
        assert read_calls(outdir / row["vcf"], row["vcf_sample"]) == expected
    vardict_text = "".join(path.read_text() for path in (outdir / "vcf").glob("P002-*.vcf"))
    assert "TYPE=Deletion" in vardict_text


# -- copy number, structural variants and BAMs (the real panel, which has amplification and
# fusion genes) -----------------------------------------------------------------------------------

REAL_PANEL = Path(__file__).parents[2] / "panels" / "anti_egfr_crc.yaml"


@pytest.fixture(scope="module", params=[(1, 4), (4, 6)], ids=["seed1x4", "seed4x6"])
def real_cohort(request, tmp_path_factory) -> tuple[Path, object]:
    seed, n_patients = request.param
    outdir = tmp_path_factory.mktemp("real") / "cohort"
    simulate_cohort(outdir, seed=seed, n_patients=n_patients, panel_path=REAL_PANEL)
    return outdir, load_panel(REAL_PANEL, "GRCh38")


def rows_of(cohort: Path, kind: str) -> list[dict[str, str]]:
    return [row for row in read_tsv(cohort / "truth.tsv") if row["kind"] == kind]


def sheet(cohort: Path) -> dict[str, dict[str, str]]:
    return {row["sample"]: row for row in read_tsv(cohort / "samples.tsv")}


def segment_noise(n_bins: int) -> float:
    """The simulator's largest segment noise (2 SD), plus the files' rounding."""
    return 2 * 0.1 / math.sqrt(n_bins) + 1e-3


def test_copy_number_files_give_the_truth_log2_at_every_amplification_gene(real_cohort):
    cohort, panel = real_cohort
    rows = rows_of(cohort, "amplification")
    assert {row["gene"] for row in rows} >= {"MET", "ERBB2"}
    for row in rows:
        path = cohort / sheet(cohort)[row["sample"]]["cnv"]
        segments = read_copy_number(path, expected_build="GRCh38").segments
        genes = {g.gene: g for g in gene_copy_number(segments, panel)}
        gene = genes[row["gene"]]
        tf, tumour_cn = float(row["tumor_fraction"]), float(row["true_tumor_cn"])
        expected = math.log2((tf * tumour_cn + 2 * (1 - tf)) / 2)
        assert gene.log2 == pytest.approx(expected, abs=segment_noise(gene.n_bins)), row
        assert gene.log2 == pytest.approx(float(row["log2"]), abs=1e-3)
        assert gene.n_bins == int(row["n_bins"]) >= 3
        if tumour_cn > 2:  # the clone is present: a focal segment over the gene
            assert gene.segment_bp <= 10_000_000


def test_copy_number_files_come_in_both_formats_and_contig_styles(real_cohort):
    cohort, _ = real_cohort
    seen = set()
    for row in sheet(cohort).values():
        first = (cohort / row["cnv"]).read_text().splitlines()[1]
        seen.add((row["cnv"].rsplit(".", 1)[1], first.split("\t")[0 if row["cnv"].endswith(
            ".cns") else 1].startswith("chr")))  # fmt: skip
    assert seen >= {("cns", True), ("cns", False), ("seg", True), ("seg", False)}


def test_panel_genes_without_an_amplification_sit_near_zero_log2(real_cohort):
    cohort, panel = real_cohort
    params = yaml.safe_load((cohort / "params.yaml").read_text())
    amplified = {(row["sample"], row["gene"]) for row in rows_of(cohort, "amplification")}
    arm_gained = {
        (p["patient"], gene)
        for p in params["patients"]
        for gain in p["structural"]["arm_gains"]
        for gene in gain["covers"]
    }
    for sample, row in sheet(cohort).items():
        segments = read_copy_number(cohort / row["cnv"]).segments
        for gene in gene_copy_number(segments, panel):
            if (sample, gene.gene) in amplified or (row["patient"], gene.gene) in arm_gained:
                continue
            assert abs(gene.log2) <= segment_noise(gene.n_bins), (sample, gene.gene)


def test_amplifications_emerge_and_one_is_diluted_below_the_plasma_rule(real_cohort):
    cohort, panel = real_cohort
    rows = rows_of(cohort, "amplification")
    by_patient: dict[str, list[dict]] = {}
    for row in rows:
        by_patient.setdefault(row["patient"], []).append(row)
    emerging = [
        patient
        for patient, series in by_patient.items()
        if float(series[0]["true_tumor_cn"]) == 2.0
        and max(float(r["true_tumor_cn"]) for r in series) >= 7.5
    ]
    assert len(emerging) >= 2
    params = yaml.safe_load((cohort / "params.yaml").read_text())
    targets = [
        (p["patient"], p["structural"]["diluted_amplification_target"])
        for p in params["patients"]
        if p["structural"]["diluted_amplification_target"]
    ]
    # the target needs a draw at 3.5-6.4% tumour fraction where the clone is >= 10% of the
    # tumour: seed 1 (the demo cohort) has one; other seeds may not
    assert targets or params["seed"] != 1
    for patient, target in targets:
        row = next(
            r for r in by_patient[patient] if r["sample"] == f"{patient}-{target['timepoint']}"
        )
        assert row["gene"] == "MET"
        sample = sheet(cohort)[row["sample"]]
        tf = float(sample["tumor_fraction"])  # the sheet carries it for this patient
        assert tf == pytest.approx(float(row["tumor_fraction"]), abs=1e-4)
        genes = gene_copy_number(read_copy_number(cohort / sample["cnv"]).segments, panel)
        met = [g for g in genes if g.gene == "MET"]
        assert 2 ** (met[0].log2 + 1) < 2.5  # plasma CN below the plasma rule
        known = call_copy_number(met, tf, "sample_sheet", {})[0]
        unknown = call_copy_number(met, None, "unavailable", {})[0]
        assert known.status == "amplification" and known.tumor_cn >= 6
        assert unknown.status == "none"


def test_arm_level_gain_is_written_but_never_an_amplification(real_cohort):
    cohort, panel = real_cohort
    params = yaml.safe_load((cohort / "params.yaml").read_text())
    truths = {row["sample"]: float(row["true_tumor_fraction"])
              for row in read_tsv(cohort / "truth_samples.tsv")}  # fmt: skip
    checked = 0
    for patient in params["patients"]:
        for gain in patient["structural"]["arm_gains"]:
            for sample, row in sheet(cohort).items():
                if row["patient"] != patient["patient"]:
                    continue
                tf = truths[sample]
                genes = gene_copy_number(read_copy_number(cohort / row["cnv"]).segments, panel)
                covered = [g for g in genes if g.gene in gain["covers"]]
                assert covered
                for gene in covered:
                    expected = math.log2((tf * gain["tumor_cn"] + 2 * (1 - tf)) / 2)
                    assert gene.log2 == pytest.approx(expected, abs=segment_noise(gene.n_bins))
                    assert gene.segment_bp > 10_000_000
                for call in call_copy_number(covered, tf, "truth", {}):
                    assert call.status == "none" and "arm-level" in call.rule
                checked += 1
    assert checked >= 4


def test_sv_vcfs_give_exactly_the_truth_fusions_with_their_support(real_cohort):
    cohort, panel = real_cohort
    table = load_gene_table("GRCh38")
    truth = rows_of(cohort, "fusion") + rows_of(cohort, "sv")
    labels_seen = set()
    for sample, row in sheet(cohort).items():
        result = read_sv_vcf(cohort / row["sv"], sample=row["sv_sample"] or None,
                             expected_build="GRCh38")  # fmt: skip
        assert result.build == "GRCh38" and not result.problems
        fusions, others = call_fusions(result.events, panel, table)
        mine = [t for t in truth if t["sample"] == sample]
        expected = {t["protein"] for t in mine if t["kind"] == "fusion" and t["filter"] == "PASS"}
        assert {f.label for f in fusions} == expected, sample
        labels_seen |= expected
        written = [t for t in mine if t["in_vcf"] == "1"]
        assert len(result.events) == len(written)
        for fusion in fusions:
            t = next(t for t in mine if t["protein"] == fusion.label)
            assert (fusion.split_reads, fusion.spanning_reads, fusion.ref_reads) == (
                int(t["split_reads"]), int(t["spanning_reads"]), int(t["ref_reads"]),
            )  # fmt: skip
            assert fusion.vaf == pytest.approx(int(t["alt_reads"]) / int(t["depth"]))
            assert f"chr{t['chrom']}:{t['pos']}" in fusion.breakpoints.split(";")
        reasons = {reason for _, reason in others}
        assert reasons <= {"no_panel_fusion_gene", "not_pass"}
        weak = [t for t in mine if t["kind"] == "fusion" and t["in_vcf"] == "1"
                and t["filter"] != "PASS"]  # fmt: skip
        assert ("not_pass" in reasons) == bool(weak)
        assert sum(reason == "no_panel_fusion_gene" for _, reason in others) == sum(
            t["kind"] == "sv" and t["in_vcf"] == "1" for t in mine
        )
    assert labels_seen >= {"EML4-ALK"}


def test_fusions_emerge_and_their_vaf_tracks_the_clone(real_cohort):
    cohort, _ = real_cohort
    rows = rows_of(cohort, "fusion")
    assert len({row["protein"] for row in rows}) >= 2
    for row in rows:
        if row["sample"].endswith("-T0"):
            assert float(row["true_vaf"]) == 0 and row["in_vcf"] == "0"
        depth, alt = int(row["depth"]), int(row["alt_reads"])
        vaf = float(row["true_vaf"])
        assert abs(alt - depth * vaf) <= 4 * math.sqrt(depth * vaf * (1 - vaf)) + 1
        assert alt == int(row["split_reads"]) + int(row["spanning_reads"])
        assert depth == alt + int(row["ref_reads"])


def test_sv_headers_follow_manta_and_delly(real_cohort):
    cohort, _ = real_cohort
    callers = set()
    for sample, row in sheet(cohort).items():
        text = (cohort / row["sv"]).read_text()
        columns = next(line for line in text.splitlines() if line.startswith("#CHROM"))
        contigs = dict(re.findall(r"##contig=<ID=([^,]+),length=(\d+)>", text))
        assert {normalise_contig(c): int(n) for c, n in contigs.items()} == dict(
            CONTIG_LENGTHS["GRCh38"]
        )
        if "##source=GenerateSVCandidates" in text:
            callers.add("manta")
            assert columns.endswith("\tNORMAL\tTUMOR") and row["sv_sample"] == ""
            assert "MATEID=" in text
        else:
            callers.add("delly")
            assert "SVMETHOD=EMBL.DELLY" in text
            assert columns.endswith(f"\t{sample}\t{row['patient']}_WBC")
            assert row["sv_sample"] == sample
    assert callers == {"manta", "delly"}


def test_bams_give_the_truth_alt_counts_within_binomial_noise(real_cohort):
    cohort, _ = real_cohort
    params = yaml.safe_load((cohort / "params.yaml").read_text())
    reference = cohort / params["reference"]["path"]
    bam_rows = {s: r for s, r in sheet(cohort).items() if r["bam"]}
    assert len({r["patient"] for r in bam_rows.values()}) == 1 and len(bam_rows) == 4
    truth = [t for t in small_variants(cohort / "truth.tsv") if t["category"] == "resistance"]
    below_the_caller = no_record = 0
    for sample, row in bam_rows.items():
        sites = [t for t in truth if t["sample"] == sample]
        assert sites
        counts = count_alleles(
            cohort / row["bam"],
            [(t["chrom"], int(t["pos"]), t["ref"], t["alt"]) for t in sites],
            reference=str(reference),
            expected_build="GRCh38",
        )
        for count, t in zip(counts, sites, strict=True):
            vaf = float(t["true_vaf"])
            assert count.depth >= 150
            # errors add at most a few reads at 1e-3 per base (a third of them this ALT)
            spread = 4 * math.sqrt(count.depth * vaf * (1 - vaf)) + 3
            assert abs(count.alt_reads - count.depth * vaf) <= spread, (sample, t["protein"])
            if t["filter"] != "PASS" and vaf > 0:
                below_the_caller += 1
                no_record += t["in_vcf"] == "0"
    # re-genotyping has sub-threshold support to find; in the demo cohort (seed 1) also at a
    # site where the caller wrote no record at all (P002-T2 EGFR p.S492R)
    assert below_the_caller >= 1
    assert no_record >= 1 or params["seed"] != 1


def test_sample_sheet_with_the_new_columns_is_read_by_the_workflow(real_cohort):
    cohort, _ = real_cohort
    samples = read_sample_sheet(cohort / "samples.tsv")
    assert all(s.cnv is not None and s.sv is not None for s in samples)
    assert any(s.bam is not None for s in samples)
    assert any(s.tumor_fraction is not None for s in samples)
    assert any(s.tumor_fraction is None for s in samples)
