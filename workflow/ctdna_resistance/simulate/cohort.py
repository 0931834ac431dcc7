"""A synthetic serial-plasma cohort with known truth (``ctdna-resistance simulate``).

Checks the arguments, writes the cohort (``simulate.cohort_files``) from the patients' plans
(``simulate.plan``, whose docstring describes the model) into a staging folder, and records the
model and the command that regenerates it in params.yaml."""

from __future__ import annotations

import os
import shlex
import shutil
import tempfile
from pathlib import Path

import yaml

from ctdna_resistance.errors import InputError
from ctdna_resistance.records import BUILDS
from ctdna_resistance.simulate.assay_plates import ACCEPTED_DROPLETS
from ctdna_resistance.simulate.assay_plates import FALSE_POSITIVE_RATE as ASSAY_FALSE_POSITIVE_RATE
from ctdna_resistance.simulate.assay_plates import INPUT_COPIES as ASSAY_INPUT_COPIES
from ctdna_resistance.simulate.cohort_files import (
    BAM_ERROR_RATE,
    write_cohort,
)
from ctdna_resistance.simulate.normals import (
    N_NORMALS,
    design_background,
    write_normal_plasmas,
)
from ctdna_resistance.simulate.panel_sites import read_panel_sites
from ctdna_resistance.simulate.plan import (
    BACKGROUND_ERROR_RATE,
    BASELINE_DATE,
    DEPTH_NB_SIZE,
    DIALECT_ROTATION,
    EMERGENCE_SEED_BURDEN,
    MAX_ERROR_READS,
    MIN_DEPTH,
    PATIENT_STAGGER_DAYS,
)


def _check_arguments(outdir: Path, seed: int, n_patients: int, n_draws: int, build: str) -> None:
    if build not in BUILDS:
        raise InputError(None, f"unknown genome build {build!r}", f"use one of {', '.join(BUILDS)}")
    if not isinstance(seed, int) or seed < 0:
        raise InputError(
            None, f"seed must be a non-negative integer, got {seed!r}", "pass --seed 1"
        )
    if not 1 <= n_patients <= 999:
        raise InputError(None, f"n_patients must be 1-999, got {n_patients}", "pass --patients 4")
    if not 2 <= n_draws <= 20:
        raise InputError(None, f"n_draws must be 2-20, got {n_draws}", "pass --draws 4")
    if outdir.exists() and (not outdir.is_dir() or any(outdir.iterdir())):
        raise InputError(
            outdir, "output folder exists and is not empty",
            "pass a new or empty folder (the simulator never overwrites a cohort)",
        )  # fmt: skip


def _regenerate_command(
    outdir: Path, seed: int, n_patients: int, n_draws: int, panel_path: Path, build: str,
    n_normals: int, n_ddpcr_patients: int,
) -> str:  # fmt: skip
    # the flags of `ctdna-resistance simulate` in cli.py
    words = [
        "ctdna-resistance", "simulate", "--out", str(outdir), "--seed", str(seed),
        "--patients", str(n_patients), "--draws", str(n_draws), "--panel", str(panel_path),
        "--build", build, "--normals", str(n_normals),
    ]  # fmt: skip
    if n_ddpcr_patients:
        words += ["--ddpcr-patients", str(n_ddpcr_patients)]
    return shlex.join(words)


def _model_params(with_ddpcr: bool) -> dict:
    model = {
        "baseline_date": BASELINE_DATE.isoformat(),
        "patient_stagger_days": PATIENT_STAGGER_DAYS,
        "draw_interval_weeks": {"up_to_progression": [8, 12], "after_progression": [4, 12]},
        "baseline_tumor_fraction": [0.02, 0.30],
        "dialect_rotation": list(DIALECT_ROTATION),
        "vaf": {
            "truncal": "TF / 2",
            "resistance": "TF * CCF / 2",
            "passenger": "TF * CCF / 2 of its resistant clone (1-3 non-panel SNVs per clone)",
            "germline": "0.5 (het, p=0.75) or 1.0 (hom)",
            "chip": "blood VAF * (1 - TF)",
        },
        "depth": {
            "mean_per_draw": [1500, 5000],
            "negative_binomial_size": DEPTH_NB_SIZE,
            "minimum": MIN_DEPTH,
            "normal_mean": [800, 2000],
        },
        "alt_reads": "Binomial(depth, VAF) + min(Binomial(ref reads, error), max_error_reads)",
        "background_error_rate": BACKGROUND_ERROR_RATE,
        "max_error_reads": MAX_ERROR_READS,
        "caller": {
            "pass": "alt_reads >= 5 and VAF >= 0.002 (plus dialect germline/normal rules)",
            "filtered_record": "alt_reads >= 1 but not PASS",
            "no_record": "alt_reads == 0",
        },
        "emergence_seed_burden": EMERGENCE_SEED_BURDEN,
        "note": "non-panel positions and all REF bases are illustrative, not from a reference",
        "copy_number": {
            "files": "one per draw, whole genome: CNVkit .cns (roles 0, 1) or SEG (roles 2, 3)",
            "segments": "arm-level, split around each amplicon present in the draw",
            "log2": "log2((TF * C + 2 * (1 - TF)) / 2) + N(0, (0.1 / sqrt(bins))^2), cut at 2 SD",
            "bins": "one per 100 kb, at least 20 per segment",
            "amplification_tumor_cn": "2 + CCF * (clone copy number - 2), CCF of the carrier",
        },
        "structural_variants": {
            "files": "one per draw: Manta somaticSV (roles 0, 3) or Delly somatic (roles 1, 2)",
            "fusion_vaf": "TF * CCF / 2 of the carrier clone; non-panel SVs TF / 2 (truncal)",
            "fragments": "Binomial(NB(mean depth / 2), VAF), 55% split / 45% spanning",
            "record": "written when >= 2 alt fragments, PASS when >= 5",
        },
        "ddpcr": {
            "patients": "after the others, own streams; NGS at the first and last draw, ddPCR "
            "between (on anti-EGFR throughout, progressing at the last draw)",
            "plate": "per target: sample well (A), wild-type control (G), NTC (H)",
            "copies": "mutant Poisson(C f), wild-type Poisson(C (1 - f)), f = TF * CCF / 2, "
            f"C uniform {list(ASSAY_INPUT_COPIES)} genome copies per well",
            "false_positive_copies": f"Poisson({ASSAY_FALSE_POSITIVE_RATE} x wild-type copies)",
            "droplets": f"uniform {list(ACCEPTED_DROPLETS)} accepted, each copy in one at random",
            "expected_status": "detected when C f >= 15, not_detected when f = 0, else either",
        },
        "bam": {
            "patient": "the second patient (the first when there is one)",
            "fragments_per_site": "mean depth * 0.2, within 200-800 (kept small)",
            "error_rate": BAM_ERROR_RATE,
            "vaf": "the truth VAF of each resistance site at that draw",
        },
    }
    if not with_ddpcr:
        del model["ddpcr"]
    return model


def simulate_cohort(
    outdir: Path,
    *,
    seed: int = 1,
    n_patients: int = 4,
    n_draws: int = 4,
    panel_path: Path,
    build: str = "GRCh38",
    n_normals: int = N_NORMALS,
    n_ddpcr_patients: int = 0,
) -> None:
    """Write a synthetic serial-plasma cohort with its truth into ``outdir`` (new or empty),
    ``n_normals`` normal plasmas (``simulate.normals``; 0: none) and ``n_ddpcr_patients`` more
    patients followed by ddPCR between their first and last draws (``simulate.assay_plates``)."""
    outdir = Path(outdir)
    _check_arguments(outdir, seed, n_patients, n_draws, build)
    if not 0 <= n_ddpcr_patients <= 99 or (n_ddpcr_patients and n_draws < 3):
        raise InputError(
            None, f"ddpcr_patients must be 0-99 with at least 3 draws, got {n_ddpcr_patients}",
            "pass --ddpcr-patients 1 --draws 4",
        )  # fmt: skip
    panel = read_panel_sites(Path(panel_path), build)
    pre_existing_index = 2 if n_patients >= 3 else (n_patients - 1 if n_patients >= 2 else None)

    design = design_background(seed, Path(panel_path), build, n_normals)  # own random streams

    outdir.parent.mkdir(parents=True, exist_ok=True)
    # build the cohort next to outdir and move it in at the end: no half-written cohort is left
    staging = Path(tempfile.mkdtemp(prefix=f".{outdir.name}.", dir=outdir.parent))
    try:
        patient_params, reference = write_cohort(
            staging, seed, n_patients, n_draws, panel, build, pre_existing_index, panel_path,
            design, n_ddpcr_patients,
        )  # fmt: skip
        # the normals cover the sequenced patients' sites only, so that adding a patient followed
        # by ddPCR leaves the normal plasmas (and the others' background) as they were
        normals = write_normal_plasmas(
            staging, design, reference=reference, patients=patient_params[:n_patients]
        )
        params = {
            "generator": "ctdna-resistance simulate",
            "command": _regenerate_command(
                outdir, seed, n_patients, n_draws, panel_path, build, n_normals, n_ddpcr_patients
            ),
            "seed": seed,
            "n_patients": n_patients,
            "n_draws": n_draws,
            **({"n_ddpcr_patients": n_ddpcr_patients} if n_ddpcr_patients else {}),
            "build": build,
            "panel": {
                "path": str(panel_path),
                "name": panel.name,
                "version": panel.version,
                "sha256": panel.sha256,
                "hotspots_with_coordinates": len(panel.hotspots),
            },
            "model": _model_params(with_ddpcr=n_ddpcr_patients > 0),
            # the FASTA the BAMs were written against (give it as the workflow's `reference`)
            "reference": reference,
            "normals": normals,
            "patients": patient_params,
        }
        header = (
            "# Synthetic serial plasma cohort with known truth, written by ctdna-resistance "
            "simulate.\n# Regenerate it byte for byte with `command`, run from the same folder.\n"
        )
        (staging / "params.yaml").write_text(
            header + yaml.safe_dump(params, sort_keys=False, width=4096), encoding="utf-8"
        )
        os.chmod(staging, 0o755)
        if outdir.exists():
            outdir.rmdir()
        os.replace(staging, outdir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
