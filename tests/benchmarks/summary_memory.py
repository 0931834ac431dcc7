"""Peak memory of the cohort summary step alone (issue 19: <= 1 GB at 100,000 patients).

Run by hand, not by CI (pytest does not collect this file)::

    python tests/benchmarks/summary_memory.py [--patients 100000] [--draws 6] [--out DIR] [--keep]

It writes a synthetic cohort cheaply, without running the workflow: a sample sheet of
``patients x draws`` rows (every row names one tiny VCF, since the sheet only checks that files
exist), a treatment timeline with one anti-EGFR line per patient, a clinical sheet, and one
per-draw report JSON per row, shaped like the workflow's (resistance status and mechanisms,
alterations with KRAS/NRAS/EGFR small variants and MET amplifications, not-detected sites with
depths, ctDNA level, tumour fraction, QC counts, input roles). Then it runs the cohort step
(``steps.run_cohort``, what the ``cohort_summary`` rule runs, with the same arguments) in a
child process and reports its wall time and peak RSS (``resource.getrusage(RUSAGE_CHILDREN)``
after the child ends: the largest resident set of the child), with the size of each output.

With the defaults it writes 600,000 report files (about 2 GB, 2 minutes) and the step takes
a few minutes on this 2-core machine. Prints a markdown table row per run.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

VCF_TEXT = (
    "##fileformat=VCFv4.2\n"
    "##contig=<ID=12,length=133275309>\n"
    "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tPLASMA\n"
)
# Alterations of the synthetic draws: real panel alterations (panels/anti_egfr_crc.yaml, GRCh38).
KRAS_G12D = {
    "gene": "KRAS", "alteration": "p.G12D", "type": "snv", "chrom": "12", "pos": 25245350,
    "ref": "C", "alt": "T", "hgvsc": "c.35G>A", "transcript": "NM_004985.5",
    "mechanism": "RAS/MAPK reactivation", "panel_class": "hotspot",
}  # fmt: skip
EGFR_S492R = {
    "gene": "EGFR", "alteration": "p.S492R", "type": "snv", "chrom": "7", "pos": 55160338,
    "ref": "A", "alt": "C", "hgvsc": "c.1474A>C", "transcript": "NM_005228.5",
    "mechanism": "EGFR target alteration", "panel_class": "hotspot",
}  # fmt: skip
MET_AMP = {
    "gene": "MET", "alteration": "amplification", "type": "amplification", "chrom": "7",
    "pos": 116672196, "ref": None, "alt": None, "mechanism": "Bypass RTK", "panel_class": "amp",
}  # fmt: skip
MECHANISMS = {"KRAS": "ras_mapk", "EGFR": "egfr_ecd", "MET": "bypass_rtk"}


def _alteration(template: dict, draw: int, detected: bool) -> dict:
    depth = 3000 + 97 * draw
    alt_reads = 12 + 5 * draw if detected else 0
    return {
        **template,
        "alt_reads": alt_reads,
        "depth": depth,
        "vaf": round(alt_reads / depth, 6),
        "status": "detected" if detected else "not_detected",
        "lod95": 0.0013,
        "trend": "new" if draw == 2 else "rising",
        "p_value": 0.001,
        "clone": "C1",
        "copy_number": 6.1 if template["type"] == "amplification" else None,
        "evidence": ["toledo2017", "capri2_ciardiello2025"],
        "strategies": [],
    }


def report(patient: str, index: int, draw: int, day: dt.date, baseline: dt.date) -> dict:
    """One synthetic per-draw report: patient `index` acquires resistance at draw 2 or never."""
    kind = index % 4  # 0: none, 1: KRAS, 2: KRAS + EGFR, 3: MET amplification
    acquired = kind and draw >= 2
    templates = {1: [KRAS_G12D], 2: [KRAS_G12D, EGFR_S492R], 3: [MET_AMP]}.get(kind, [])
    detected = [_alteration(t, draw, True) for t in templates] if acquired else []
    absent = [_alteration(t, draw, False) for t in (KRAS_G12D, EGFR_S492R) if not acquired]
    mechanisms = sorted({MECHANISMS[a["gene"]] for a in detected})
    sample = f"{patient}-T{draw}"
    return {
        "schema_version": 1,
        "patient": patient,
        "sample": sample,
        "collection_date": day.isoformat(),
        "timepoint": f"T{draw}",
        "days_since_baseline": (day - baseline).days,
        "genome_build": "GRCh38",
        "platforms": ["ngs"],
        "tumor_fraction": {"value": 0.05 + 0.001 * draw, "method": "vaf"},
        "ctdna_level": {
            "status": "detected" if detected else "not_detected",
            "estimate": 0.004 + 0.0005 * draw if detected else None,
            "low": 0.003 if detected else None,
            "high": 0.006 if detected else None,
            "response": "molecular_response" if draw == 1 and not detected else None,
        },
        "anti_egfr": {"on_therapy": True},
        "alterations": detected,
        "not_detected": absent,
        "resistance": {
            "status": ("emerging" if draw == 2 else "detected") if detected else "none_detected",
            "mechanisms": mechanisms,
            "polyclonal": len(detected) > 1,
            "ras_braf_egfr_ecd_undetectable": not detected or kind == 3,
        },
        "qc": {"records_read": 40 + draw, "reported": len(detected), "filtered": 40 + draw},
        "provenance": {
            "software": "ctdna-resistance",
            "inputs": [
                {"path": "panels/anti_egfr_crc.yaml", "role": "panel", "sha256": "0" * 64},
                {"path": f"vcf/{sample}.vcf.gz", "role": "vcf", "sha256": "1" * 64},
                {"path": f"cnv/{sample}.cns", "role": "cnv", "sha256": "2" * 64},
            ],
        },
    }


def write_cohort(root: Path, patients: int, draws: int) -> dict:
    """Sample sheet, treatments, clinical sheet and per-draw report JSONs; returns the config."""
    (root / "tiny.vcf").write_text(VCF_TEXT)
    start = dt.date(2024, 1, 1)
    width = len(str(patients))
    with (
        open(root / "samples.tsv", "w") as samples,
        open(root / "treatments.tsv", "w") as treatments,
        open(root / "clinical.tsv", "w") as clinical,
    ):
        samples.write("patient\tsample\tcollection_date\tvcf\n")
        treatments.write("patient\tagent\tstart_date\tend_date\tline\n")
        clinical.write("patient\tOS_MONTHS\tOS_STATUS\tDFS_MONTHS\tDFS_STATUS\n")
        for index in range(patients):
            patient = f"P{index:0{width}d}"
            baseline = start + dt.timedelta(days=index % 365)
            folder = root / "results" / "patients" / patient / "reports"
            folder.mkdir(parents=True)
            treatments.write(f"{patient}\tcetuximab\t{baseline.isoformat()}\t\t2\n")
            status = "1:DECEASED" if index % 5 == 0 else "0:LIVING"
            clinical.write(
                f"{patient}\t{12 + index % 30}.5\t{status}\t{6 + index % 9}\t0:DiseaseFree\n"
            )
            for draw in range(draws):
                day = baseline + dt.timedelta(days=42 * draw)
                sample = f"{patient}-T{draw}"
                samples.write(f"{patient}\t{sample}\t{day.isoformat()}\ttiny.vcf\n")
                text = json.dumps(report(patient, index, draw, day, baseline), sort_keys=True)
                (folder / f"{sample}.json").write_text(text)
    return {
        "panel": str(Path(__file__).resolve().parents[2] / "panels" / "anti_egfr_crc.yaml"),
        "samples": str(root / "samples.tsv"),
        "treatments": str(root / "treatments.tsv"),
        "clinical": str(root / "clinical.tsv"),
        "genome_build": "GRCh38",
        "outdir": str(root / "results"),
        "anti_egfr_agents": ["cetuximab", "panitumumab"],
    }


# The child: what the cohort_summary rule's script does, given the same arguments.
CHILD = """
import json, sys
from pathlib import Path
from ctdna_resistance.steps import run_cohort
config = json.loads(sys.argv[1])
out = Path(config["outdir"])
folder = out / "cohort"
run_cohort(config, out / "patients", folder / "summary.tsv", folder / "summary.html",
           folder / "cbioportal", folder / "ctdna_resistance_mqc.tsv")
"""


def measure(config: dict, with_clinical: bool) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of the cohort step in a child process."""
    if not with_clinical:
        config = {key: value for key, value in config.items() if key != "clinical"}
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", CHILD, json.dumps(config)], check=True)
    wall = time.perf_counter() - started
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if peak_kb < before:  # cannot happen: RUSAGE_CHILDREN's maximum only grows
        raise RuntimeError("ru_maxrss went down")
    return wall, peak_kb / 1024


def _size(path: Path) -> int:
    if path.is_dir():
        return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    return path.stat().st_size


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--patients", type=int, default=100_000)
    parser.add_argument("--draws", type=int, default=6)
    parser.add_argument("--out", help="folder for the synthetic cohort (default: a new tmp dir)")
    parser.add_argument("--keep", action="store_true", help="keep the synthetic cohort")
    parser.add_argument("--no-clinical", action="store_true", help="run without the clinical sheet")
    args = parser.parse_args(argv)
    root = Path(args.out or tempfile.mkdtemp(prefix="summary_memory."))
    root.mkdir(parents=True, exist_ok=True)
    try:
        started = time.perf_counter()
        config = write_cohort(root, args.patients, args.draws)
        written = time.perf_counter() - started
        print(f"wrote {args.patients * args.draws} reports in {written:.0f} s under {root}")
        wall, peak = measure(config, not args.no_clinical)
        cohort = root / "results" / "cohort"
        sizes = ", ".join(
            f"{name} {_size(cohort / name) / 1e6:.1f} MB"
            for name in ("summary.tsv", "summary.html", "cbioportal", "ctdna_resistance_mqc.tsv")
        )
        print("| patients | draws | summary step wall (s) | peak RSS (MB) | outputs |")
        print("|---:|---:|---:|---:|---|")
        print(f"| {args.patients:,} | {args.draws} | {wall:.0f} | {peak:.0f} | {sizes} |")
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
    sys.stdout.flush()


if __name__ == "__main__":
    main()
