"""`ctdna-resistance`: every workflow step from the command line, plus the simulator."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ctdna_resistance import __version__
from ctdna_resistance.errors import InputError
from ctdna_resistance.outputs import terminate_as_interrupt


def _config(args):
    from ctdna_resistance.config import load_config

    return load_config(args.config, args.set or [])


def cmd_validate(args) -> None:
    from ctdna_resistance.panel import load_panel
    from ctdna_resistance.samplesheet import read_cohort

    config = _config(args)
    cohort = read_cohort(config["samples"], config.get("treatments"))
    panel = load_panel(config["panel"], config["genome_build"])
    background = "scalar background error"
    if config.get("background"):
        from ctdna_resistance.background import BackgroundTable

        table = BackgroundTable(
            config["background"],
            build=config["genome_build"],
            panel_regions=panel.small_variant_regions(),
        )
        background = f"background table of {len(table.header.normals)} normals"
    elif config.get("normals"):
        from ctdna_resistance.samplesheet import read_normals_sheet

        background = (
            f"background to build from {len(read_normals_sheet(config['normals']))} normals"
        )
    if config.get("clinical"):
        from ctdna_resistance.clinical_sheet import read_clinical_sheet
        from ctdna_resistance.export.cbioportal import RESERVED_CLINICAL_COLUMNS

        clinical = read_clinical_sheet(
            config["clinical"], set(cohort.patients), RESERVED_CLINICAL_COLUMNS
        )
        background += f"; clinical sheet of {len(clinical.values)} patients"
    print(
        f"ok: {len(cohort.samples)} samples of {len(cohort.patients)} patients, "
        f"{len(cohort.treatments)} treatment rows; panel {panel.name} {panel.version} "
        f"({len(panel.genes)} genes, {len(panel.hotspots)} hotspot alleles, {panel.build}); "
        f"{background}"
    )


def _known_id(config: dict, kind: str, value: str):
    """Refuse an ID from the command line that is not in the sample sheet, before any path.

    Returns the validated cohort, so that a command validates the whole sheet once.
    """
    from ctdna_resistance.samplesheet import read_cohort

    cohort = read_cohort(config["samples"], config.get("treatments"))
    known = [s.sample for s in cohort.samples] if kind == "sample" else cohort.patients
    if value not in known:
        shown = ", ".join(known[:10]) + (" ..." if len(known) > 10 else "")
        raise InputError(
            config["samples"],
            f"no {kind} {value!r} in the sample sheet (it has: {shown})",
            f"pass --{kind} with one of the sheet's {kind} IDs",
        )
    return cohort


def cmd_calls(args) -> None:
    from ctdna_resistance.steps import PatientOutputs, draw_tables, run_sample_calls

    config = _config(args)
    patient = _known_id(config, "sample", args.sample).sample(args.sample).patient
    paths = draw_tables(PatientOutputs.under(config["outdir"], patient).samples, args.sample)
    run_sample_calls(config, args.sample, *paths)
    print(f"wrote {paths[0].parent}")


def cmd_track(args) -> None:
    from ctdna_resistance.steps import PatientOutputs, run_patient

    config = _config(args)
    _known_id(config, "patient", args.patient)
    run_patient(config, args.patient, PatientOutputs.under(config["outdir"], args.patient))
    print(f"wrote {Path(config['outdir']) / 'patients' / args.patient}")


def cmd_cohort(args) -> None:
    from ctdna_resistance.samplesheet import read_cohort
    from ctdna_resistance.steps import run_cohort

    config = _config(args)
    out = Path(config["outdir"])
    read_cohort(config["samples"], config.get("treatments"))  # checked, as the workflow does
    folder = out / "cohort"
    from ctdna_resistance.export.multiqc import FILE_NAME

    run_cohort(
        config,
        out / "patients",
        folder / "summary.tsv",
        folder / "summary.html",
        folder / "cbioportal",
        folder / FILE_NAME,
    )
    print(f"wrote {out / 'cohort'}")


def cmd_background(args) -> None:
    from ctdna_resistance.config import load_config
    from ctdna_resistance.steps import run_background

    overrides = list(args.set or [])
    for key, value in (
        ("normals", args.normals), ("reference_fasta", args.reference),
        ("background_bed", args.bed), ("panel", args.panel), ("genome_build", args.build),
    ):  # fmt: skip
        if value:
            overrides.append(f"{key}={value}")
    if args.config:
        config = load_config(args.config, overrides)
    else:
        from ctdna_resistance.config import apply_overrides, validate_config

        # no workflow config: the documented defaults, with what the command line says
        base = {"samples": "", "outdir": args.out}
        config = validate_config(apply_overrides(base, overrides), "the command line")
    table = run_background(config, Path(args.out) / "background.tsv.gz")
    print(f"wrote {table} (+ .tbi)")


def cmd_simulate(args) -> None:
    from ctdna_resistance.simulate import simulate_cohort

    simulate_cohort(
        Path(args.out),
        seed=args.seed,
        n_patients=args.patients,
        n_draws=args.draws,
        panel_path=Path(args.panel),
        build=args.build,
        n_normals=args.normals,
        n_ddpcr_patients=args.ddpcr_patients,
    )
    print(f"wrote {args.out}")


def cmd_samplesheet(args) -> None:
    from ctdna_resistance.samplesheet_builder import build_sample_sheet

    _, lines = build_sample_sheet(
        args.results, args.samples_map, args.out, build=args.build, prefer=args.prefer_caller
    )
    print("\n".join(lines))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ctdna-resistance",
        description="Serial plasma ctDNA resistance reports for anti-EGFR therapy "
        "(research use only).",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    def with_config(p):
        p.add_argument("--config", default="config/config.yaml", help="workflow config YAML")
        p.add_argument(
            "--set",
            action="append",
            metavar="KEY=VALUE",
            help="override a config key, e.g. outdir=out or detection.min_depth=500",
        )
        return p

    with_config(sub.add_parser("validate", help="check config, sample sheet, treatments, panel"))
    p = with_config(sub.add_parser("calls", help="per-sample panel calls (SPEC 5.1)"))
    p.add_argument("--sample", required=True)
    p = with_config(
        sub.add_parser("track", help="one patient: calls of every draw, timeline, per-draw reports")
    )
    p.add_argument("--patient", required=True)
    with_config(sub.add_parser("cohort", help="cohort summary from every patient's reports"))
    p = sub.add_parser(
        "background",
        help="learn per-site background error from normal plasmas (issue 20): background.tsv.gz",
    )
    p.add_argument("--normals", help="TSV with columns sample, bam (relative to the sheet)")
    p.add_argument("--reference", help="indexed reference FASTA the normals were aligned to")
    p.add_argument("--out", required=True, help="folder for background.tsv.gz and its .tbi")
    p.add_argument("--bed", help="extra regions (BED) besides the panel's small-variant genes")
    p.add_argument("--panel", help="panel YAML (default: the config's)")
    p.add_argument("--build", choices=["GRCh38", "GRCh37"], help="default: the config's")
    p.add_argument("--config", help="workflow config YAML (normals, reference_fasta, ...)")
    p.add_argument("--set", action="append", metavar="KEY=VALUE", help="override a config key")
    p = sub.add_parser("simulate", help="write a synthetic serial plasma cohort with its truth")
    p.add_argument("--out", required=True, help="output folder (must not exist or be empty)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--patients", type=int, default=4)
    p.add_argument("--draws", type=int, default=4)
    p.add_argument("--panel", default="panels/anti_egfr_crc.yaml")
    p.add_argument("--build", default="GRCh38", choices=["GRCh38", "GRCh37"])
    p.add_argument("--normals", type=int, default=6, help="normal plasmas to write (0: none)")
    p.add_argument(
        "--ddpcr-patients", type=int, default=0,
        help="more patients, followed by ddPCR between their first and last draws",
    )  # fmt: skip
    p = sub.add_parser(
        "samplesheet",
        help="build a sample sheet from nf-core/sarek or nf-core/oncoanalyser results folders",
    )
    p.add_argument(
        "--results", action="append", required=True, metavar="DIR",
        help="a pipeline --outdir (repeat for several runs)",
    )  # fmt: skip
    p.add_argument(
        "--samples-map", required=True, metavar="MAP.tsv",
        help="TSV: sample (the pipeline's sample id), patient, collection_date [, timepoint]",
    )  # fmt: skip
    p.add_argument("--out", required=True, help="sample sheet to write")
    p.add_argument("--build", default="GRCh38", choices=["GRCh38", "GRCh37"])
    p.add_argument(
        "--prefer-caller", action="append", default=[], metavar="TOOL",
        help="when a sample has files of one kind from two tools, take this tool's "
        "(repeatable, first wins), e.g. mutect2, strelka, ascat, controlfreec, linx",
    )  # fmt: skip
    return parser


COMMANDS = {
    "validate": cmd_validate,
    "calls": cmd_calls,
    "track": cmd_track,
    "cohort": cmd_cohort,
    "background": cmd_background,
    "simulate": cmd_simulate,
    "samplesheet": cmd_samplesheet,
}


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    terminate_as_interrupt()
    try:
        COMMANDS[args.command](args)
    except InputError as exc:
        print(f"ctdna-resistance: error: {exc.message}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        # atomic_outputs has already removed its temporaries; say so instead of a traceback.
        print("ctdna-resistance: interrupted; no output of this step was written", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
