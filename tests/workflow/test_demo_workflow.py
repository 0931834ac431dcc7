"""The user's story: run the real `snakemake` on the committed demo cohort and check the reports
against the simulator's truth."""

from __future__ import annotations

import csv
import json
import math
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
import yaml
from conftest import draw_folder

from ctdna_resistance.background import error_model
from ctdna_resistance.calls import detection_settings
from ctdna_resistance.copy_number import copy_number_settings
from ctdna_resistance.panel import load_panel
from ctdna_resistance.report.html import BACKGROUND_MODEL_LABELS

pytestmark = pytest.mark.workflow

REPO = Path(__file__).resolve().parents[2]
SNAKEMAKE = [sys.executable, "-m", "snakemake"]


def read_tsv(path):
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


def run_snakemake(*args, cwd=REPO):
    return subprocess.run(
        [*SNAKEMAKE, "--cores", "2", "--snakefile", str(REPO / "Snakefile"), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.fixture(scope="module")
def demo(demo_results):
    out = demo_results
    config = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    # the rule the product applies: each site's model from the background the run built
    table = out / "background" / "background.tsv.gz"
    assert table.is_file(), "the demo config builds a background from its normal plasmas"
    det = detection_settings(config)
    panel = load_panel(REPO / config["panel"], config["genome_build"])
    det["errors"] = error_model({**config, "background": str(table)}, det, panel)
    return {"out": out, "config": config, "det": det}


def passes_rule(row, alt: int, depth: int, det) -> bool:
    """SPEC 5.2 against the allele's own background model (site, context or scalar)."""
    model = det["errors"].site(row["chrom"], int(row["pos"]), row["ref"], row["alt"])
    return model.supported(alt, depth, alpha=det["alpha"], min_alt_reads=det["min_alt_reads"])


@pytest.fixture(scope="module")
def truth():
    return read_tsv(REPO / "test_data" / "truth.tsv")


@pytest.fixture(scope="module")
def samples():
    return read_tsv(REPO / "test_data" / "samples.tsv")


def detectable(row, det) -> bool:
    """A truth allele our rule must report: written PASS by the caller and passing SPEC 5.2."""
    if row.get("kind", "snv") != "snv":
        return False  # amplifications and fusions: `expected_call`
    if row["in_vcf"] != "1" or row["filter"] != "PASS":
        return False
    depth, alt = int(row["depth"]), int(row["alt_reads"])
    return depth >= det["min_depth"] and passes_rule(row, alt, depth, det)


def used_tumour_fraction(demo, sample: str) -> float | None:
    """The tumour fraction the workflow used for a draw (sheet, or its VAF-based estimate)."""
    folder = draw_folder(demo["out"], sample)
    return json.loads((folder / "accounting.json").read_text())["tumor_fraction"]["value"]


def expected_call(row, demo) -> str:
    """'yes', 'no' or 'maybe': must the workflow report this truth amplification or fusion?

    A fusion must be reported when the SV caller wrote it PASS. An amplification is judged from
    the truth (tumour CN C at tumour fraction p: plasma CN P = p C + 2 (1 - p)) under the tumour
    fraction the workflow used for that draw, with the thresholds of the config: the TF rule
    when that TF is >= min_tumor_fraction, else the plasma rule. The segment noise written by the
    simulator (2 SD of 0.1 / sqrt(bins) in log2) moves P by a few percent; a draw whose verdict
    flips within that band is 'maybe'.
    """
    if row["kind"] == "fusion":
        return "yes" if row["in_vcf"] == "1" and row["filter"] == "PASS" else "no"
    settings = copy_number_settings(
        {k: v for k, v in (demo["config"].get("copy_number") or {}).items() if k != "seg_scale"}
    )
    tf, tumour_cn = float(row["tumor_fraction"]), float(row["true_tumor_cn"])
    if tumour_cn <= 2.0:
        return "no"  # the carrying clone is absent: no focal segment at all
    plasma = tf * tumour_cn + 2 * (1 - tf)
    band = 2 * 0.1 / int(row["n_bins"]) ** 0.5 + 0.002
    used = used_tumour_fraction(demo, row["sample"])
    verdicts = set()
    for factor in (2**-band, 1.0, 2**band):
        value = plasma * factor
        if used is not None and used >= settings["min_tumor_fraction"]:
            verdicts.add((value - 2 * (1 - used)) / used >= settings["amp_copies"])
        else:
            verdicts.add(value >= settings["plasma_amp_copies"])
    return "maybe" if len(verdicts) == 2 else ("yes" if verdicts.pop() else "no")


def informed_by_caller_record(row, det, known) -> bool:
    """A known site whose caller record was filtered (not PASS) but whose reads pass the rule."""
    if row["kind"] != "snv" or row["in_vcf"] != "1" or row["filter"] == "PASS":
        return False
    if (row["chrom"], row["pos"], row["ref"], row["alt"]) not in known:
        return False
    depth, alt = int(row["depth"]), int(row["alt_reads"])
    return depth >= det["min_depth"] and passes_rule(row, alt, depth, det)


def test_every_detectable_truth_resistance_alteration_is_reported(demo, truth):
    det = demo["det"]
    expected = [r for r in truth if r["category"] == "resistance" and detectable(r, det)]
    assert expected, "the demo cohort should hold detectable resistance alterations"
    for row in expected:
        reported = read_tsv(draw_folder(demo["out"], row["sample"]) / "alterations.tsv")
        hits = [
            r
            for r in reported
            if (r["chrom"], r["pos"], r["ref"], r["alt"])
            == (row["chrom"], row["pos"], row["ref"], row["alt"])
        ]
        assert len(hits) == 1, f"{row['sample']} {row['gene']} {row['protein']} not reported"
        hit = hits[0]
        assert (hit["gene"], hit["alteration"]) == (row["gene"], row["protein"])
        assert int(hit["alt_reads"]) == int(row["alt_reads"])
        assert int(hit["depth"]) == int(row["depth"])
        assert float(hit["vaf"]) == pytest.approx(
            int(row["alt_reads"]) / int(row["depth"]), abs=5e-4
        )


def test_nothing_outside_the_truth_is_reported_as_resistance(demo, truth, samples):
    resistance = {
        (r["sample"], r["chrom"], r["pos"], r["ref"], r["alt"])
        for r in truth
        if r["category"] == "resistance"
    }
    # P005's ddPCR draws: the alleles its plates measure, where the truth has them
    resistance |= {
        (r["sample"], r["chrom"], r["pos"], r["ref"], r["alt"])
        for r in read_tsv(REPO / "test_data" / "truth_assays.tsv")
        if r["role"] == "sample" and float(r["true_fraction"]) > 0
    }
    n_reported = 0
    for sample in samples:
        for r in read_tsv(draw_folder(demo["out"], sample["sample"]) / "alterations.tsv"):
            n_reported += 1
            assert (sample["sample"], r["chrom"], r["pos"], r["ref"], r["alt"]) in resistance, r
    assert n_reported > 0


def test_chip_and_germline_truth_never_become_resistance_alterations(demo, truth):
    panel = load_panel(REPO / demo["config"]["panel"], demo["config"]["genome_build"])
    checked = 0
    for row in truth:
        if row["category"] not in ("chip", "germline") or row["in_vcf"] != "1":
            continue
        folder = draw_folder(demo["out"], row["sample"])
        indexed = json.loads((folder / "accounting.json").read_text())["vcf"]["used_index"]
        if indexed and panel.gene_at(row["chrom"], int(row["pos"])) is None:
            continue  # an indexed read fetches only the panel genes: the record was never read
        filtered = read_tsv(folder / "filtered.tsv")
        mine = [
            f
            for f in filtered
            if (f["chrom"], f["pos"], f["ref"], f["alt"])
            == (row["chrom"], row["pos"], row["ref"], row["alt"])
        ]
        assert len(mine) == 1, f"{row} is not listed as filtered"
        checked += 1
    assert checked > 0


def test_every_allele_is_reported_or_filtered_and_counts_reconcile(demo, samples):
    for sample in samples:
        folder = draw_folder(demo["out"], sample["sample"])
        acct = json.loads((folder / "accounting.json").read_text())
        reported = read_tsv(folder / "alterations.tsv")
        filtered = read_tsv(folder / "filtered.tsv")
        assert acct["reconciles"] is True
        # VCF alleles, copy-number segments and SV events: each is reported or filtered
        segments = acct.get("copy_number", {}).get("segments_read", 0)
        events = acct.get("sv", {}).get("events_read", 0)
        targets = acct.get("assay", {}).get("targets_read", 0)  # P005's ddPCR draws
        assert acct["alleles_read"] + segments + events + targets == acct["records_read"]
        assert acct["records_read"] == acct["records_reported"] + len(filtered)
        small = [r for r in reported if r["type"] not in ("amplification", "deletion_cn")]
        behind_cn = acct.get("copy_number", {}).get("segments_reported", 0)
        assert acct["records_reported"] == len(small) + behind_cn
        assert (segments > 0) == bool(sample["cnv"]) and (events > 0) == bool(sample["sv"])
        assert acct["reported"] == len(reported)
        assert sum(acct["filtered_by_reason"].values()) == len(filtered)
        assert all(f["reason"] for f in filtered)


def test_reports_validate_against_their_schema_and_say_research_use_only(demo, samples):
    schema = yaml.safe_load((REPO / "workflow" / "schemas" / "report.schema.yaml").read_text())
    validator = jsonschema.Draft202012Validator(schema)
    for sample in samples:
        folder = demo["out"] / "patients" / sample["patient"] / "reports"
        report = json.loads((folder / f"{sample['sample']}.json").read_text())
        errors = sorted(validator.iter_errors(report), key=str)
        assert not errors, f"{sample['sample']}: {errors[0].message}"
        assert report["collection_date"] == sample["collection_date"]
        html = (folder / f"{sample['sample']}.html").read_text()
        assert "research use only" in html.lower()
        assert len(html.encode()) < 1_000_000
    for patient in {s["patient"] for s in samples}:
        timeline = read_tsv(demo["out"] / "patients" / patient / "timeline.tsv")
        assert {r["status"] for r in timeline} <= {
            "detected",
            "not_detected",
            "not_evaluable",
            "not_assessed",
        }
    summary = read_tsv(demo["out"] / "cohort" / "summary.tsv")
    assert sorted(r["patient"] for r in summary) == sorted({s["patient"] for s in samples})


def test_emerging_resistance_is_reported_in_the_draw_it_appears(demo, truth, samples):
    det = demo["det"]
    assays = [r for r in read_tsv(REPO / "test_data" / "truth_assays.tsv") if r["role"] == "sample"]
    by_patient: dict[str, list] = {}
    for s in samples:
        by_patient.setdefault(s["patient"], []).append(s)
    checked = 0
    for patient, draws in by_patient.items():
        draws.sort(key=lambda s: s["collection_date"])
        seen: set = set()
        names = {d["sample"] for d in draws}
        # small variants the caller reported (PASS, detectable) in some draw of this patient:
        # tumour-informed tracking counts them in every other draw too (SPEC 5.2)
        known = {
            (r["chrom"], r["pos"], r["ref"], r["alt"])
            for r in truth
            if r["sample"] in names and r["category"] == "resistance" and r["kind"] == "snv"
            and detectable(r, det)
        }  # fmt: skip
        # and the alleles a ddPCR draw of the patient (P005) detects, or may detect
        site = ("chrom", "pos", "ref", "alt")
        known |= {tuple(r[k] for k in site) for r in assays
                  if r["sample"] in names and r["expected_status"] == "detected"}  # fmt: skip
        known_maybe = {tuple(r[k] for k in site) for r in assays
                       if r["sample"] in names and r["expected_status"] == "either"}  # fmt: skip
        for index, draw in enumerate(draws):
            mine = [
                r for r in truth if r["sample"] == draw["sample"] and r["category"] == "resistance"
            ]
            here = {
                (r["chrom"], r["pos"], r["ref"], r["alt"])
                for r in mine
                if detectable(r, det)
                or (r["kind"] != "snv" and expected_call(r, demo) == "yes")
                or informed_by_caller_record(r, det, known)
            }
            # amplifications within the segment noise of a threshold may go either way, and so
            # may a known site counted in a BAM sampled at a fraction of the depth
            maybe = {
                (r["chrom"], r["pos"], r["ref"], r["alt"])
                for r in mine
                if (r["kind"] == "amplification" and expected_call(r, demo) == "maybe")
                or (draw.get("bam") and (r["chrom"], r["pos"], r["ref"], r["alt"]) in known)
                or informed_by_caller_record(r, det, known_maybe)
            }
            report = json.loads(
                (
                    demo["out"] / "patients" / patient / "reports" / f"{draw['sample']}.json"
                ).read_text()
            )
            reported = {
                (a["chrom"], str(a["pos"]), a["ref"], a["alt"]) for a in report["alterations"]
            }
            if draw.get("assay"):  # P005's ddPCR draws: what truth_assays expects of each well
                wells = [r for r in assays if r["sample"] == draw["sample"]]
                here = {
                    tuple(r[k] for k in site) for r in wells if r["expected_status"] == "detected"
                }
                maybe = {
                    tuple(r[k] for k in site) for r in wells if r["expected_status"] == "either"
                }
            assert here <= reported <= here | maybe, draw["sample"]
            if index > 0 and here - seen:
                assert report["resistance"]["status"] in ("emerging", "detected")
                checked += 1
            seen |= here
    assert checked > 0


def test_rerun_gives_byte_identical_outputs(demo, tmp_path):
    again = tmp_path / "results"
    done = run_snakemake("--config", f"outdir={again}")
    assert done.returncode == 0, done.stderr[-3000:]
    first = {
        p.relative_to(demo["out"]): p.read_bytes()
        for p in demo["out"].rglob("*")
        if p.is_file() and "logs" not in p.parts
    }
    second = {
        p.relative_to(again): p.read_bytes()
        for p in again.rglob("*")
        if p.is_file() and "logs" not in p.parts
    }
    assert first.keys() == second.keys()
    different = [str(k) for k in first if first[k] != second[k]]
    assert not different, different


def test_the_synthetic_truths_amplifications_and_fusions_are_recovered(demo, truth):
    recovered = {"amplification": 0, "fusion": 0}
    for row in truth:
        if row["kind"] not in recovered or expected_call(row, demo) != "yes":
            continue
        reported = read_tsv(draw_folder(demo["out"], row["sample"]) / "alterations.tsv")
        hits = [r for r in reported if r["type"] == row["kind"] and r["gene"] == row["gene"]]
        assert len(hits) == 1, f"{row['sample']} {row['gene']} {row['protein']} not reported"
        hit = hits[0]
        assert (hit["chrom"], hit["pos"]) == (row["chrom"], row["pos"])
        if row["kind"] == "amplification":
            assert float(hit["log2"]) == pytest.approx(float(row["log2"]), abs=1e-3)
            tf = float(hit["tumor_fraction"]) if hit["tumor_fraction"] else None
            assert tf == used_tumour_fraction(demo, row["sample"])
        else:
            assert hit["alteration"] == row["protein"]  # the 5'-3' label, e.g. EML4-ALK
            assert (int(hit["split_reads"]), int(hit["spanning_reads"])) == (
                int(row["split_reads"]), int(row["spanning_reads"]),
            )  # fmt: skip
            assert float(hit["vaf"]) == pytest.approx(
                int(row["alt_reads"]) / int(row["depth"]), abs=5e-4
            )
        recovered[row["kind"]] += 1
    # the demo holds MET (diluted, tumour fraction in the sheet) and ERBB2 amplifications, and
    # EML4-ALK and ETV6-NTRK3 with PASS support
    assert recovered["amplification"] >= 2 and recovered["fusion"] >= 2, recovered


def test_the_diluted_met_amplification_is_called_with_its_tumour_fraction(demo, truth):
    params = yaml.safe_load((REPO / "test_data" / "params.yaml").read_text())
    checked = 0
    for patient in params["patients"]:
        target = patient["structural"]["diluted_amplification_target"]
        if not target:
            continue
        sample = f"{patient['patient']}-{target['timepoint']}"
        reported = read_tsv(draw_folder(demo["out"], sample) / "alterations.tsv")
        met = [r for r in reported if r["gene"] == "MET" and r["type"] == "amplification"]
        assert len(met) == 1
        assert float(met[0]["plasma_cn"]) < 2.5 <= 6 <= float(met[0]["tumor_cn"])
        assert "sample_sheet" in met[0]["cn_rule"]
        checked += 1
    assert checked == 1


def test_no_panel_gene_is_called_amplified_in_a_file_where_it_is_not(demo, truth, samples):
    amplified = {(r["sample"], r["gene"]): r for r in truth if r["kind"] == "amplification"}
    calls = 0
    for sample in samples:
        for r in read_tsv(draw_folder(demo["out"], sample["sample"]) / "alterations.tsv"):
            if r["type"] != "amplification":
                continue
            calls += 1
            row = amplified.get((sample["sample"], r["gene"]))
            assert row is not None, f"{sample['sample']} {r['gene']} is not amplified in the truth"
            assert expected_call(row, demo) in ("yes", "maybe"), (sample["sample"], r["gene"])
    assert calls > 0
    # P003's whole-7q gain raises MET's copy number in every draw, but it is arm-level
    for sample in samples:
        if sample["patient"] == "P003":
            reported = read_tsv(draw_folder(demo["out"], sample["sample"]) / "alterations.tsv")
            assert not [r for r in reported if r["gene"] == "MET"]


def test_non_panel_and_weak_rearrangements_are_filtered_not_reported(demo, truth):
    checked = 0
    for row in truth:
        weak_fusion = row["kind"] == "fusion" and row["filter"] not in ("PASS", "")
        if row["in_vcf"] != "1" or not (row["kind"] == "sv" or weak_fusion):
            continue
        filtered = read_tsv(draw_folder(demo["out"], row["sample"]) / "filtered.tsv")
        # the filtered row names the event as 'TYPE chrA:posA-chrB:posB'
        reasons = {
            f["reason"] for f in filtered if f"{row['chrom']}:{row['pos']}" in f["alteration"]
        }
        assert reasons == {"not_pass" if weak_fusion else "no_panel_fusion_gene"}, row
        checked += 1
    assert checked > 0


def test_the_rechallenge_criterion_says_cannot_tell_when_an_earlier_allele_was_not_evaluable(demo):
    """SPEC 5.7: "RAS/BRAF/EGFR-ECD undetectable" only when every one seen could have been seen."""

    def flag(patient, sample):
        report = json.loads(
            (demo["out"] / "patients" / patient / "reports" / f"{sample}.json").read_text()
        )
        resistance = report["resistance"]
        statuses = {
            f"{a['gene']} {a['alteration']}": a["status"]
            for a in report["alterations"] + report["not_detected"]
        }
        html = (demo["out"] / "patients" / patient / "reports" / f"{sample}.html").read_text()
        return (
            resistance["ras_braf_egfr_ecd_undetectable"],
            resistance["ras_braf_egfr_ecd_basis"],
            statuses,
            html,
        )

    # P002's EGFR p.S492R emerges at T3; before it, the draws were too shallow to have seen it
    value, basis, statuses, html = flag("P002", "P002-T0")
    assert statuses["EGFR p.S492R"] == "not_evaluable"
    assert value is None and basis == "cannot tell: EGFR p.S492R not evaluable"
    assert "RAS/BRAF/EGFR-ECD alterations: cannot tell from this draw" in html
    value, basis, _, html = flag("P002", "P002-T3")
    assert value is False and basis == "detected: EGFR p.S492R"
    assert "RAS/BRAF/EGFR-ECD alterations: detectable in this draw" in html
    # P004's KRAS p.G13S: no depth at all at baseline
    value, basis, statuses, _ = flag("P004", "P004-T0")
    assert statuses["KRAS p.G13S"] == "not_assessed" and value is None
    # P001 before its KRAS p.A146T: absent with an adequate LoD95, so undetectable
    value, basis, statuses, html = flag("P001", "P001-T0")
    assert statuses["KRAS p.A146T"] == "not_detected" and value is True
    assert "RAS/BRAF/EGFR-ECD alterations: none detectable in this draw" in html


def test_what_changed_calls_new_or_cleared_only_where_the_other_draw_could_have_seen_it(demo):
    def changes(patient, sample):
        folder = demo["out"] / "patients" / patient / "reports"
        report = json.loads((folder / f"{sample}.json").read_text())
        names = {
            a["key"]: f"{a['gene']} {a['alteration']}"
            for a in report["alterations"] + report["not_detected"]
        }
        listed = {
            kind: sorted(names[key] for key in keys)
            for kind, keys in report["changes"]["since_previous"].items()
            if keys
        }
        return listed, (folder / f"{sample}.html").read_text()

    # EGFR p.S492R: first seen at T1 (T0 too shallow for its VAF), not evaluable at T2, detected
    # again at T3 (stable): T2 could not have seen it, so nothing changed since T2; since baseline
    # it is listed as its first detection tells it, first_seen (one story per allele, issue 18)
    listed, html = changes("P002", "P002-T3")
    assert listed == {"new": ["ERBB2 amplification"]}
    report = json.loads((demo["out"] / "patients/P002/reports/P002-T3.json").read_text())
    egfr = next(a for a in report["alterations"] if a["gene"] == "EGFR")
    assert egfr["trend"] == "stable" and egfr["first_seen"] == "P002-T1"
    assert report["changes"]["since_baseline"]["first_seen"] == [egfr["key"]]
    listed, html = changes("P004", "P004-T1")
    assert listed == {"first_seen": ["ALK EML4-ALK", "KRAS p.G13S", "MAP2K1 p.Q56P"]}
    assert "<dt>Seen; no draw before its first detection could have seen it</dt>" in html
    # the KRAS allele (truth VAF 0.06% at T1): its site's own background (3e-5 in the normals,
    # not the scalar 5e-4) detects it at T1, absent at T0 with an adequate LoD95: new at T1, as
    # its trend says. MET: T1's tumour fraction (2.8%) puts it under the plasma rule, where T2's
    # 8 tumour copies give a plasma CN far below 2.5: T1 could not have seen it; T0 (10.7%)
    # could, so its trend is new since T0, and What changed and the headline say so too
    listed, _ = changes("P001", "P001-T1")
    assert listed == {"new": ["KRAS p.A146T"]}
    listed, _ = changes("P001", "P001-T2")
    assert listed == {"new": ["MET amplification"]}
    report = json.loads((demo["out"] / "patients/P001/reports/P001-T2.json").read_text())
    met = next(a for a in report["alterations"] if a["gene"] == "MET")
    assert (met["trend"], met["trend_since"]) == ("new", "P001-T0")
    assert met["key"] in report["changes"]["since_baseline"]["new"]
    assert "MET amplification (new since P001-T0)" in report["resistance"]["headline"]
    # T3 (7.2%) would have called T2's amplification; its tumour CN (truth 5.2) is below
    # amp_copies: cleared, by the copy-number rule's own limit of detection
    listed, html = changes("P001", "P001-T3")
    assert listed == {"cleared": ["MET amplification"]}
    assert '<dt>Cleared</dt>\n<dd><span class="change change-cleared">MET amplification' in html


def test_the_reports_quality_table_reconciles_with_the_accounting(demo):
    reports = sorted((demo["out"] / "patients").glob("*/reports/*.json"))
    assert len(reports) == 20
    for path in reports:
        qc = json.loads(path.read_text())["qc"]
        acct = json.loads((draw_folder(demo["out"], path.stem) / "accounting.json").read_text())
        assert qc["records_read"] == acct["records_read"] == qc["reported"] + qc["filtered"]
        parts = qc["alleles_read"] + qc.get("segments_read", 0) + qc.get("sv_events_read", 0)
        parts += acct.get("assay", {}).get("targets_read", 0)  # P005's ddPCR draws
        assert parts == qc["records_read"], path.stem
        html = path.with_suffix(".html").read_text()
        assert (
            f'<tr><th>Records read (all inputs)</th><td class="num">{qc["records_read"]}</td>'
            in html
        )


def _timeline(demo, patient, gene):
    rows = read_tsv(demo["out"] / "patients" / patient / "timeline.tsv")
    return [r for r in rows if r["gene"] == gene]


def test_copy_number_and_fusion_absences_are_not_detected_only_where_the_call_could_fire(
    demo, truth
):
    """SPEC 5.5: at a draw where the call did not fire, 'not detected' only when that draw's
    tumour fraction would have let the call fire for the level called elsewhere."""
    settings = copy_number_settings(
        {k: v for k, v in (demo["config"].get("copy_number") or {}).items() if k != "seg_scale"}
    )
    expected = {
        # MET: TF 10.7% (T0) and 7.2% (T3) use the tumour-CN rule, which fires for T2's ~8
        # copies; at 2.8% (T1) the plasma rule cannot reach 2.5 with them
        ("P001", "MET"): (
            ["not_detected", "not_evaluable", "detected", "not_detected"],
            ["not_detected", "not_evaluable", "new", "cleared"],
        ),
        # ERBB2: no tumour fraction at T0/T1 (too few somatic VAFs): the plasma rule at a plasma
        # CN nothing predicts; T2 (TF ~9%) would have called T3's ~10 copies
        ("P002", "ERBB2"): (
            ["not_evaluable", "not_evaluable", "not_detected", "detected"],
            ["not_evaluable", "not_evaluable", "not_detected", "new"],
        ),
        # ETV6-NTRK3: T3's 6 reads at TF ~6% scale to ~18 at T0 (TF ~18%), ~5 at T1/T2
        # (P(>= 3 reads) < 0.95)
        ("P003", "NTRK3"): (
            ["not_detected", "not_evaluable", "not_evaluable", "detected"],
            ["not_detected", "not_evaluable", "not_evaluable", "new"],
        ),
        # EML4-ALK: no tumour fraction at T0 to scale T1's reads to
        ("P004", "ALK"): (
            ["not_evaluable", "detected", "detected", "detected"],
            ["not_evaluable", "first_seen", "rising", "stable"],
        ),
    }
    by_draw = {
        (r["sample"], r["gene"]): r for r in truth if r["kind"] in ("amplification", "fusion")
    }
    for (patient, gene), (statuses, trends) in expected.items():
        rows = _timeline(demo, patient, gene)
        assert [r["status"] for r in rows] == statuses, (patient, gene)
        assert [r["trend"] for r in rows] == trends, (patient, gene)
        for row in rows:
            true = by_draw[(row["sample"], gene)]
            if row["status"] == "not_detected":
                # an adequate absence: the truth holds nothing the product would call there
                if true["kind"] == "amplification":
                    assert float(true["true_tumor_cn"]) < settings["amp_copies"], row["sample"]
                else:
                    assert true["filter"] != "PASS", row["sample"]
                assert "would have fired" in row["note"] or ">= 0.95" in row["note"]
            if row["status"] == "not_evaluable":
                assert row["note"] == row["trend_reason"] and row["note"], row["sample"]
    # CCDC6-RET: the caller only ever wrote weak (LowQual) records, so it is never tracked
    assert not _timeline(demo, "P002", "RET")


def test_a_not_detected_amplification_shows_its_copy_number(demo):
    folder = demo["out"] / "patients" / "P001" / "reports"
    report = json.loads((folder / "P001-T1.json").read_text())
    (met,) = [a for a in report["not_detected"] if a["gene"] == "MET"]
    assert met["status"] == "not_evaluable" and met["tumor_cn"] is not None
    assert met["plasma_cn"] is not None and "plasma_amp_copies" in met["cn_rule"]
    html = (folder / "P001-T1.html").read_text()
    assert f"plasma CN {met['plasma_cn']:.1f} · tumour CN {met['tumor_cn']:.1f}" in html
    assert "gives plasma CN 2.20, below plasma_amp_copies 2.5" in html


def test_pooled_ctdna_level_follows_the_true_tumour_fraction(demo):
    """Issue 20: every draw has a pooled ctDNA level; molecular response agrees with the truth
    where the true tumour fraction fell far below baseline, and is not claimed where it did not."""
    truth = {row["sample"]: row for row in read_tsv(REPO / "test_data" / "truth_samples.tsv")}
    baseline = {}
    for row in truth.values():
        if row["timepoint"] == "T0":
            baseline[row["patient"]] = float(row["true_tumor_fraction"])
    out = demo["out"]
    checked, models = 0, set()
    for sample, row in truth.items():
        report = json.loads(
            (out / "patients" / row["patient"] / "reports" / f"{sample}.json").read_text()
        )
        level = report["ctdna_level"]
        assert level["status"] == "detected" and level["low"] <= level["estimate"] <= level["high"]
        ratio = float(row["true_tumor_fraction"]) / baseline[row["patient"]]
        if report["platforms"] == ["ddpcr"]:
            # P005's ddPCR draws measure two subclonal resistance alleles, the baseline pooled
            # truncal markers too: a response would compare different things (issue 17)
            assert (
                level["response"] is None
                and "not compared with baseline" in level["response_reason"]
            ), (sample, level)
        elif row["timepoint"] == "T0":
            assert level["response"] == "baseline"
        elif ratio < 0.4:
            assert level["response"] == "molecular_response", (sample, ratio, level)
            checked += 1
        elif ratio > 0.6:
            assert level["response"] in ("stable", "rise"), (sample, ratio, level)
            checked += 1
        html = (out / "patients" / row["patient"] / "reports" / f"{sample}.html").read_text()
        assert "ctDNA detected:" in html
        for alteration in report["alterations"]:
            if alteration.get("background_model"):
                models.add(alteration["background_model"])
                assert BACKGROUND_MODEL_LABELS[alteration["background_model"]] in html
    assert checked >= 6
    assert "site" in models  # the demo runs with a background learned from its normals
    longitudinal = (out / "patients" / "P001" / "longitudinal.html").read_text()
    assert 'class="level-plot"' in longitudinal and "molecular response" in longitudinal
    summary = read_tsv(out / "cohort" / "summary.tsv")
    assert all(row["current_ctdna_status"] == "detected" for row in summary)
    assert {row["first_molecular_response_sample"] for row in summary} >= {"P001-T1"}
    specimen = read_tsv(out / "cohort" / "cbioportal" / "data_timeline_specimen.txt")
    assert {row["MOLECULAR_RESPONSE"] for row in specimen} >= {"baseline", "molecular_response"}
    timeline = read_tsv(out / "patients" / "P001" / "timeline.tsv")
    small = [row for row in timeline if ">" in row["key"]]
    assert small and {row["background_model"] for row in small} <= {"site", "context", "scalar"}
    assert "site" in {row["background_model"] for row in small}


@pytest.mark.skipif(
    shutil.which("multiqc") is None, reason="multiqc not installed (pip install multiqc)"
)
def test_multiqc_shows_a_ctdna_resistance_section(demo, tmp_path):
    """Issue 19 item 4: the real `multiqc` on a results folder reads our custom-content table."""
    done = subprocess.run(
        ["multiqc", str(demo["out"]), "-o", str(tmp_path), "--no-ansi", "--quiet"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    html = (tmp_path / "multiqc_report.html").read_text()
    assert "ctdna-resistance" in html
    rows = read_tsv(tmp_path / "multiqc_data" / "multiqc_ctdna_resistance_table.txt")
    assert len(rows) == 20
    for row in rows:
        report = json.loads(
            (
                demo["out"] / "patients" / row["patient"] / "reports" / f"{row['Sample']}.json"
            ).read_text()
        )
        assert int(float(row["records_read"])) == report["qc"]["records_read"]
        assert row["ctdna_status"] == report["ctdna_level"]["status"]
        assert int(float(row["alterations_detected"])) == len(report["alterations"])
        if report["ctdna_level"]["status"] == "detected":
            assert float(row["ctdna_level"]) == pytest.approx(
                report["ctdna_level"]["estimate"], rel=1e-5
            )


def _poisson_fraction(mutant_positives: int, wildtype_positives: int, droplets: int) -> float:
    """Mutant fraction from droplet counts, computed here: -ln(1 - k/N) copies per droplet."""
    mutant = math.log(droplets / (droplets - mutant_positives))
    wildtype = math.log(droplets / (droplets - wildtype_positives))
    return mutant / (mutant + wildtype)


def test_the_ddpcr_patients_timeline_agrees_with_the_truth(demo, truth):
    """Issue 17 item 5: P005 is sequenced at baseline and progression and followed by ddPCR in
    between (QuantaSoft exports with NTC and wild-type control wells). Its timeline carries each
    draw's platform, the ddPCR statuses the truth expects, fractions from the file's droplets,
    and trend labels whose direction is the truth's."""
    out = demo["out"]
    assays = [r for r in read_tsv(REPO / "test_data" / "truth_assays.tsv") if r["role"] == "sample"]
    draws = [r for r in read_tsv(REPO / "test_data" / "samples.tsv") if r["patient"] == "P005"]
    platform = {r["sample"]: "ddpcr" if r["assay"] else "ngs" for r in draws}
    assert list(platform.values()) == ["ngs", "ddpcr", "ddpcr", "ngs"]
    order = [r["sample"] for r in draws]
    keys = {f"{r['chrom']}:{r['pos']}:{r['ref']}>{r['alt']}" for r in assays}
    # the truth's fraction of each followed allele at every draw: truth.tsv (NGS), truth_assays
    fraction = {
        (f"{r['chrom']}:{r['pos']}:{r['ref']}>{r['alt']}", r["sample"]): float(r["true_vaf"])
        for r in truth
        if r["patient"] == "P005" and r["category"] == "resistance" and r["kind"] == "snv"
    }
    for r in assays:
        fraction[(f"{r['chrom']}:{r['pos']}:{r['ref']}>{r['alt']}", r["sample"])] = float(
            r["true_fraction"]
        )
    timeline = read_tsv(out / "patients" / "P005" / "timeline.tsv")
    got = {(r["key"], r["sample"]): r for r in timeline}
    assert {r["sample"]: r["platform"] for r in timeline} == platform
    for r in assays:
        key = f"{r['chrom']}:{r['pos']}:{r['ref']}>{r['alt']}"
        row = got[(key, r["sample"])]
        if r["expected_status"] != "either":
            assert row["status"] == r["expected_status"], (r["target"], r["sample"], row)
        droplets = int(r["accepted_droplets"])
        expected = _poisson_fraction(
            int(r["mutant_positives"]), int(r["wildtype_positives"]), droplets
        )
        assert float(row["vaf"]) == pytest.approx(expected, rel=1e-4, abs=1e-9), row
    # every alteration the plate did not measure is not assessed at a ddPCR draw
    for row in timeline:
        if platform[row["sample"]] == "ddpcr" and row["key"] not in keys:
            assert row["status"] == "not_assessed", row
    labels_seen = set()
    for key in sorted(keys):
        detected_before = False
        previous = None  # the last draw before with a status that has counts
        for sample in order:
            row, now = got[(key, sample)], fraction[(key, sample)]
            label = row["trend"]
            labels_seen.add(label)
            if label == "pre_existing":
                assert sample == order[0] and now > 0
            if label in ("new", "first_seen"):
                assert now > 0 and not detected_before, (key, sample)
            if label in ("rising", "falling"):
                before = fraction[(key, previous)]
                assert (now > before) == (label == "rising"), (key, sample, before, now)
            if label == "cleared":
                assert now < fraction[(key, previous)], (key, sample)
            detected_before |= row["status"] == "detected"
            if row["status"] in ("detected", "not_detected"):
                previous = sample
    # the pre-existing clone is called so at baseline and the emerging one is found on ddPCR
    assert "pre_existing" in labels_seen and "new" in labels_seen
    report = json.loads((out / "patients" / "P005" / "reports" / "P005-T1.json").read_text())
    assert report["platforms"] == ["ddpcr"]
    summary = {r["patient"]: r for r in read_tsv(out / "cohort" / "summary.tsv")}
    assert summary["P005"]["draws_by_platform"] == "ngs:2;ddpcr:2"
    assert summary["P001"]["draws_by_platform"] == "ngs:4"
    # the longitudinal page draws P005's ddPCR points as diamonds and says so in the legend
    page = (out / "patients" / "P005" / "longitudinal.html").read_text()
    assert page.count('class="marker detected platform-ddpcr"') == sum(
        got[(k, s)]["status"] == "detected" for k in keys for s in order if platform[s] == "ddpcr"
    )
    assert "measured by ddPCR" in page and '<td class="platform">ddPCR</td>' in page
