"""Cohort-scale benchmark of the workflow, held against floors measured in the same run (issue 6).

Run by hand, not by CI (pytest does not collect this file)::

    python tests/benchmarks/run_benchmark.py [--sizes 50,500,3000] [--vcf-records 5000000]
                                             [--only cohort|vcf] [--vcf-repeat N] [--out DIR]

For each cohort size (in plasma draws) it simulates a cohort with ``simulate_cohort`` (VCF,
copy-number and SV files per draw, as the simulator writes them), runs the workflow from scratch
with ``--cores 2`` and the local workflow profile (``--workflow-profile workflow/profiles/default``,
as the README tells cohort users; the floors get its ``--scheduler-subsample``) into a fresh outdir
(``detection.vcf_read: panel_regions``), adds one draw to
one patient and runs it again, and times ``snakemake -n`` (DAG building alone). Beside each figure
it measures three floors on the same number of jobs / the same files: Snakemake running trivial
``touch`` jobs, Snakemake running Python jobs that import the product's dependencies and exit,
and ``bcftools view -T panel.bed`` over the same VCFs. Then it times reading the panel regions of
a generated many-record GRCh38 VCF (bgzipped + tabix, bgzipped without index, plain text) with the
product's reader against ``bcftools view -R`` / ``-T`` (each command run ``--vcf-repeat`` times,
the fastest run reported), beside the interpreter start-up + import cost of the product command.
``--only vcf`` runs the VCF part alone (no Snakemake start-up, no cohorts).

Every command is timed by ``/usr/bin/time`` (wall, user + system CPU of the whole process tree,
largest single-process RSS); the summed RSS of the tree is sampled from /proc every 0.2 s.
The markdown tables go to stdout and to ``OUT/benchmark.md``; the raw numbers to
``OUT/benchmark.json``.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import gzip
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import yaml

REPO = Path(__file__).resolve().parents[2]
PANEL = REPO / "panels" / "anti_egfr_crc.yaml"
BUILD = "GRCh38"
TIME_BIN = "/usr/bin/time"
# The import line of the Python-job floor: the product's dependencies and its step module.
FLOOR_IMPORTS = "pandas, numpy, scipy, cyvcf2, pysam, pyranges, jinja2, ctdna_resistance.steps"
SEED = 20240606

# Done-means of issue 19 (they replace issue 6's cohort targets; the VCF targets are issue 6's).
TARGET_COHORT_DRAWS = 3000
TARGET_COHORT_WALL_S = 60.0
TARGET_COHORT_VS_BCFTOOLS = 10.0
TARGET_RERUN_WALL_S = 10.0
TARGET_PLAN_PATIENTS = 10_000
TARGET_PLAN_WALL_S = 30.0
TARGET_SLURM_JOBS = 200
TARGET_SUMMARY_RSS_MB = 1024.0
TARGET_COHORT_VS_FLOOR_TEXT = "10x the `bcftools view -T` floor of the same run"
TARGET_VCF_VS_BCFTOOLS = 1.5
TARGET_VCF_PEAK_MB = 200.0


# -- measuring ------------------------------------------------------------------------------------


@dataclass
class Measurement:
    """One timed command: wall seconds, CPU seconds of its tree, peak memory."""

    label: str
    wall_s: float
    cpu_s: float
    max_rss_mb: float  # largest single process of the tree (/usr/bin/time %M)
    tree_rss_mb: float  # largest sampled sum of RSS over the tree
    returncode: int
    log: str
    extra: dict = field(default_factory=dict)


def _children_map() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as handle:
                stat = handle.read()
        except OSError:
            continue
        # the command name (field 2) may hold spaces and parentheses: split after its last ')'
        ppid = int(stat[stat.rindex(b")") + 2 :].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    return children


def _tree_rss_kb(root: int) -> int:
    """Summed resident memory of a process and all its descendants, now."""
    children = _children_map()
    page_kb = os.sysconf("SC_PAGE_SIZE") // 1024
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        stack.extend(children.get(pid, ()))
        try:
            with open(f"/proc/{pid}/statm", "rb") as handle:
                total += int(handle.read().split()[1]) * page_kb
        except (OSError, IndexError, ValueError):
            continue
    return total


def measure(label: str, command: list[str], *, log: Path, cwd: Path, env: dict) -> Measurement:
    """Run `command` under /usr/bin/time, output to `log`; sample the tree's RSS meanwhile."""
    log.parent.mkdir(parents=True, exist_ok=True)
    time_file = log.with_suffix(".time")
    wrapped = [TIME_BIN, "-f", "%e %U %S %M", "-o", str(time_file), *command]
    peak_tree_kb = 0
    with open(log, "wb") as out:
        process = subprocess.Popen(wrapped, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT)
        while process.poll() is None:
            peak_tree_kb = max(peak_tree_kb, _tree_rss_kb(process.pid))
            time.sleep(0.2)
    # /usr/bin/time writes "Command exited with non-zero status N" before its own line
    wall, user, system, max_rss_kb = time_file.read_text().strip().splitlines()[-1].split()
    result = Measurement(
        label=label,
        wall_s=float(wall),
        cpu_s=float(user) + float(system),
        max_rss_mb=int(max_rss_kb) / 1024,
        tree_rss_mb=max(peak_tree_kb, int(max_rss_kb)) / 1024,
        returncode=process.returncode,
        log=str(log),
    )
    status = "ok" if result.returncode == 0 else f"FAILED (exit {result.returncode}, see {log})"
    print(
        f"  {label}: {result.wall_s:.1f} s wall, {result.cpu_s:.1f} s CPU, "
        f"{result.max_rss_mb:.0f} MB max process, {result.tree_rss_mb:.0f} MB tree  {status}",
        file=sys.stderr,
        flush=True,
    )
    return result


def run_text(command: list[str], env: dict | None = None) -> str:
    """stdout + stderr of a quick command (versions), or the error text."""
    try:
        done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    except OSError as error:
        return str(error)
    return (done.stdout + done.stderr).strip()


# -- the machine ----------------------------------------------------------------------------------


def machine_info(env: dict) -> dict:
    """nproc, CPU model, memory, load and the versions of the tools measured."""
    cpu_model = ""
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu_model = line.split(":", 1)[1].strip()
            break
    mem_kb = next(
        int(line.split()[1])
        for line in Path("/proc/meminfo").read_text().splitlines()
        if line.startswith("MemTotal")
    )
    bcftools = run_text(["bcftools", "--version"]).splitlines()
    commit = run_text(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"])
    changed = run_text(["git", "-C", str(REPO), "status", "--porcelain", "--untracked-files=no"])
    snapshot = REPO / "SNAPSHOT"  # a copy of a tree, taken to benchmark it undisturbed
    source = (
        snapshot.read_text().strip()
        if snapshot.exists()
        else f"commit {commit}" + (" with uncommitted changes" if changed else "")
        if re.fullmatch(r"[0-9a-f]{7,40}", commit)
        else f"copy of a working tree at {REPO}"
    )
    return {
        "nproc": os.cpu_count(),
        "cpu_model": cpu_model,
        "memory_gb": round(mem_kb / 1024**2, 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "snakemake": run_text([sys.executable, "-m", "snakemake", "--version"], env),
        "bcftools": bcftools[0] if bcftools else "absent",
        "source": source,
        "load_average_at_start": os.getloadavg(),
        "date": dt.date.today().isoformat(),
    }


def snakemake_env(work: Path) -> tuple[dict, dict]:
    """Environment for every snakemake call, and what was measured to choose it.

    The SLURM executor plugin runs `scontrol show config` when Snakemake loads its plugins (to
    word a --help text). Where the SLURM client is installed but no controller answers, that call
    waits ~10 s, on every snakemake start, and would be counted in every figure below. A stub
    `scontrol` that fails at once (as on a machine without SLURM, or with a live controller) is
    put first on PATH then; both start-up times are reported.
    """
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    startup: dict = {}
    version = [sys.executable, "-m", "snakemake", "--version"]
    plain = measure("snakemake --version", version, log=work / "startup.log", cwd=work, env=env)
    startup["snakemake_version_wall_s"] = plain.wall_s
    if shutil.which("scontrol", path=env["PATH"]) and plain.wall_s > 3:
        stub_dir = work / "scontrol-stub"
        stub_dir.mkdir(parents=True, exist_ok=True)
        stub = stub_dir / "scontrol"
        stub.write_text("#!/bin/sh\n# benchmark: no SLURM controller here; fail at once\nexit 1\n")
        stub.chmod(0o755)
        env["PATH"] = f"{stub_dir}{os.pathsep}{env['PATH']}"
        stubbed = measure(
            "snakemake --version (scontrol stub)",
            version,
            log=work / "startup-stub.log",
            cwd=work,
            env=env,
        )
        startup["snakemake_version_wall_s_with_scontrol_stub"] = stubbed.wall_s
        startup["scontrol_stub"] = str(stub)
    return env, startup


# -- the patient jobs' worker ---------------------------------------------------------------------


def product_env(env: dict) -> dict:
    """The environment of one measured product run: a private folder of its own, so its patient
    jobs start a worker cold (not one left idle by the run before), which exits 1 s after the
    run's last job (CTDNA_RESISTANCE_WORKER_IDLE) and logs its CPU time there."""
    folder = tempfile.mkdtemp(prefix="w", dir="/tmp")  # short: a Unix socket path is <108 bytes
    return {**env, "XDG_RUNTIME_DIR": folder, "CTDNA_RESISTANCE_WORKER_IDLE": "1"}


USAGE = re.compile(
    r"(\d+) jobs; cpu_s worker=([\d.]+) jobs=([\d.]+); max_rss_mb worker=(\d+) largest_job=(\d+)"
)


def add_worker_usage(m: Measurement, env: dict, timeout_s: float = 60.0) -> None:
    """Add the worker's CPU (its own and its forked jobs') to ``m``: it runs in a session of its
    own, outside the process tree /usr/bin/time and the RSS sampler see; its log says it."""
    folder = Path(env["XDG_RUNTIME_DIR"])
    deadline = time.monotonic() + timeout_s
    while True:
        logs = sorted(folder.rglob("*.log"))
        texts = [p.read_text(errors="replace") for p in logs]
        if all("exiting" in t for t in texts) or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    found = [USAGE.search(t) for t in texts]
    usage = [f for f in found if f]
    m.extra["workers"] = len(usage)
    if not usage:
        return
    cpu = sum(float(u.group(2)) + float(u.group(3)) for u in usage)
    m.extra["worker_jobs"] = sum(int(u.group(1)) for u in usage)
    m.extra["worker_cpu_s"] = round(cpu, 2)
    m.extra["worker_max_rss_mb"] = max(int(u.group(4)) for u in usage)
    m.extra["worker_largest_job_rss_mb"] = max(int(u.group(5)) for u in usage)
    m.cpu_s = round(m.cpu_s + cpu, 2)
    shutil.rmtree(folder, ignore_errors=True)


# -- cohorts --------------------------------------------------------------------------------------


def cohort_shape(draws: int) -> tuple[int, int]:
    """(patients, draws per patient) giving exactly `draws` draws, 6 per patient where possible."""
    for per_patient in (6, 5, 4, 3, 2):
        if draws % per_patient == 0 and draws // per_patient <= 999:
            return draws // per_patient, per_patient
    raise SystemExit(f"cannot split {draws} draws into 1-999 patients of 2-6 draws")


def simulate(folder: Path, draws: int) -> tuple[Path, int, int, int, float]:
    """Simulate a cohort of `draws` draws into `folder`/cohort.

    Returns (folder, patients, draws per patient, seed used, seconds). A seed on which the
    simulator's own consistency checks fail (AssertionError) is reported and the next is tried:
    this script measures speed, and the failure is the simulator's to fix.
    """
    from ctdna_resistance.simulate import simulate_cohort

    patients, per_patient = cohort_shape(draws)
    cohort = folder / "cohort"
    for seed in range(SEED, SEED + 10):
        start = time.perf_counter()
        try:
            simulate_cohort(
                cohort, seed=seed, n_patients=patients, n_draws=per_patient, panel_path=PANEL,
                build=BUILD,
            )  # fmt: skip
        except AssertionError as error:
            where = error.__traceback__
            while where.tb_next is not None:
                where = where.tb_next
            print(
                f"WARNING: simulate_cohort(seed={seed}, n_patients={patients}, "
                f"n_draws={per_patient}) failed its assertion at "
                f"{where.tb_frame.f_code.co_filename}:{where.tb_lineno}; trying seed {seed + 1}",
                file=sys.stderr,
                flush=True,
            )
            continue
        return cohort, patients, per_patient, seed, time.perf_counter() - start
    raise SystemExit("simulate_cohort failed on 10 seeds in a row")


def write_config(cohort: Path, outdir: Path, path: Path) -> Path:
    """The demo config with this cohort, an absolute panel path and panel-region VCF reads."""
    config = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    config.update(
        samples=str(cohort / "samples.tsv"),
        treatments=str(cohort / "treatments.tsv"),
        panel=str(PANEL),
        outdir=str(outdir),
    )
    config.setdefault("detection", {})["vcf_read"] = "panel_regions"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def snakemake_command(snakefile: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "snakemake", "--snakefile", str(snakefile), *extra]


# The floors run under the scheduler settings of the profile the product runs with, so that the
# ratio compares the jobs, not two ways of scheduling them.
PROFILE = REPO / "workflow" / "profiles" / "default"
_PROFILE_SETTINGS = yaml.safe_load((PROFILE / "config.yaml").read_text())
FLOOR_SCHEDULER = (
    "--scheduler-subsample",
    str(_PROFILE_SETTINGS["scheduler-subsample"]),
    "--scheduler",
    str(_PROFILE_SETTINGS["scheduler"]),
)


def jobs_run(log: Path) -> tuple[int, dict[str, int]]:
    """Jobs Snakemake ran (its final 'N of M steps') and how many per rule, from its log."""
    text = log.read_text(errors="replace")
    steps = re.findall(r"(\d+) of (\d+) steps", text)
    total = int(steps[-1][1]) if steps else 0
    per_rule: dict[str, int] = {}
    for rule in re.findall(r"^\s*(?:local)?rule (\w+):\s*$", text, re.M):
        per_rule[rule] = per_rule.get(rule, 0) + 1
    return total, per_rule


def dry_run_jobs(log: Path) -> int:
    text = log.read_text(errors="replace")
    if "Nothing to be done" in text:
        return 0
    match = re.search(r"^total\s+(\d+)\s*$", text, re.M)
    return int(match.group(1)) if match else 0


def floor_snakefile(
    folder: Path, patients: list[str], kind: str, inputs: dict[str, list[str]] | None = None
) -> Path:
    """A Snakefile shaped like the product's (one wildcard rule keyed on the patient, a cohort
    rule over all of them, `all`) whose jobs do nothing (`touch`) or start Python, import the
    product's dependencies and exit. Each patient job has one input file of its own, or with
    ``inputs`` the product's own input files of that patient (planning cost per input file).
    """
    folder.mkdir(parents=True, exist_ok=True)
    if kind == "python":
        (folder / "import_and_exit.py").write_text(
            f"import {FLOOR_IMPORTS}  # noqa: F401\n"
            "open(snakemake.output[0], 'w').close()  # noqa: F821\n"
        )
        action = '    script:\n        "import_and_exit.py"\n'
    else:
        action = '    shell:\n        "touch {output}"\n'
    (folder / "patients.json").write_text(json.dumps(patients))
    if inputs is None:
        # each patient job has an input, as the product's have: changing it re-runs that job
        (folder / "in").mkdir(exist_ok=True)
        for p in patients:
            (folder / "in" / f"{p}.txt").write_text(f"{p}\n")
        patient_input = '"in/{p}.txt"'
    else:
        (folder / "inputs.json").write_text(json.dumps(inputs))
        patient_input = "lambda wildcards: INPUTS[wildcards.p]"
    rules = [
        "import json\n\n"
        'PATIENTS = json.load(open(workflow.basedir + "/patients.json"))\n'
        + ('INPUTS = json.load(open(workflow.basedir + "/inputs.json"))\n' if inputs else ""),
        'rule all:\n    default_target: True\n    input:\n        "out/cohort.done",\n',
        'rule cohort:\n    input:\n        expand("out/patients/{p}.done", p=PATIENTS),\n'
        f'    output:\n        "out/cohort.done",\n{action}',
        f"rule patient:\n    input:\n        {patient_input},\n"
        f'    output:\n        "out/patients/{{p}}.done",\n{action}',
    ]
    snakefile = folder / "Snakefile"
    snakefile.write_text("\n\n".join(rules))
    return snakefile


def sheet_inputs(sheet: Path) -> dict[str, list[str]]:
    """Each patient's input files as the product lists them (every path column, each once)."""
    from ctdna_resistance.samplesheet import read_cohort

    files: dict[str, set[str]] = {}
    for sample in read_cohort(sheet).samples:
        files.setdefault(sample.patient, set()).update(str(p) for p in sample.inputs().values())
    return {patient: sorted(paths) for patient, paths in files.items()}


def panel_beds(folder: Path) -> dict[str, Path]:
    """panel.bed from the panel's gene loci, in both contig styles: {'chr': ..., 'nochr': ...}."""
    from ctdna_resistance.panel import load_panel

    regions = load_panel(PANEL, BUILD).regions()
    beds = {}
    for style, prefix in (("nochr", ""), ("chr", "chr")):
        path = folder / f"panel.{style}.bed"
        # BED is 0-based, half-open; the panel's regions are 1-based, inclusive
        path.write_text(
            "".join(
                f"{prefix}{'M' if prefix and chrom == 'MT' else chrom}\t{start - 1}\t{end}\n"
                for chrom, start, end in regions
            )
        )
        beds[style] = path
    return beds


def contig_style(vcf: Path) -> str:
    """'chr' when the VCF names its contigs chr1..., else 'nochr' (header, else 1st record)."""
    with open(vcf, "rb") as raw:
        opener = gzip.open if raw.read(2) == b"\x1f\x8b" else open
    with opener(vcf, "rt", errors="replace") as handle:
        for line in handle:
            if line.startswith("##contig=<ID="):
                return "chr" if line[13:].startswith("chr") else "nochr"
            if not line.startswith("#"):
                return "chr" if line.startswith("chr") else "nochr"
    return "nochr"


def cohort_vcfs(sheet: Path) -> list[Path]:
    """Every VCF the sheet names (small variants, matched normals, SV VCFs), once each."""
    found: dict[Path, None] = {}
    with open(sheet, newline="") as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            for column in ("vcf", "normal_vcf", "sv"):
                value = (row.get(column) or "").strip()
                if value and re.search(r"\.(vcf|vcf\.gz|bcf)$", value):
                    found[(sheet.parent / value).resolve()] = None
    return list(found)


def add_one_draw(cohort: Path) -> tuple[str, str]:
    """Append a later draw to the first patient: a copy of its last draw's files, new ID/date."""
    sheet = cohort / "samples.tsv"
    with open(sheet, newline="") as handle:
        reader = csv.DictReader(handle, delimiter="\t")
        columns = list(reader.fieldnames or [])
        rows = list(reader)
    patient = rows[0]["patient"]
    last = max((r for r in rows if r["patient"] == patient), key=lambda r: r["collection_date"])
    n_draws = sum(r["patient"] == patient for r in rows)
    new_sample = f"{patient}-T{n_draws}"
    new = dict(last)
    new["sample"] = new_sample
    new["collection_date"] = (
        dt.date.fromisoformat(last["collection_date"]) + dt.timedelta(days=56)
    ).isoformat()
    if new.get("timepoint"):
        new["timepoint"] = f"T{n_draws}"
    # copies of every file of the last draw under the new sample ID; indexes copied after their
    # file (copy2 keeps mtimes) so the index is never older than its file
    for column in ("vcf", "cnv", "sv", "bam", "coverage"):
        value = (new.get(column) or "").strip()
        if not value:
            continue
        source = cohort / value
        target_name = source.name.replace(last["sample"], new_sample, 1)
        if target_name == source.name:
            target_name = f"{new_sample}.{source.name}"
        target = source.with_name(target_name)
        shutil.copy2(source, target)
        for suffix in (".tbi", ".csi", ".bai", ".crai"):
            index = Path(f"{source}{suffix}")
            if index.exists():
                shutil.copy2(index, Path(f"{target}{suffix}"))
        new[column] = str(Path(value).with_name(target_name))
    with open(sheet, "a", newline="") as handle:
        csv.DictWriter(handle, columns, delimiter="\t", lineterminator="\n").writerow(new)
    return patient, new_sample


def synthetic_cohort(folder: Path, patients: int, per_patient: int) -> Path:
    """A sample sheet of `patients` x `per_patient` draws for planning alone (`snakemake -n`).

    Planning reads the sheet and checks that each named file exists (it opens no VCF), so every
    draw gets its own files as hard links to the demo's (test_data/) draws without BAMs: as many
    distinct paths as a real cohort, written in seconds instead of simulating 60,000 draws.
    Returns the sheet (treatments: the folder's treatments.tsv, one anti-EGFR line per patient).
    """
    template_dir = REPO / "test_data"
    with open(template_dir / "samples.tsv", newline="") as handle:
        reader = csv.DictReader(handle, delimiter="\t")
        columns = list(reader.fieldnames or [])
        # draws whose files are VCF / copy number / SV only: a BAM or a targeted-assay export
        # is named by a few draws of the demo and would need its own copies
        template = [
            r
            for r in reader
            if not any((r.get(c) or "").strip() for c in ("bam", "assay", "coverage"))
        ]
    files = folder / "files"
    rows = []
    for index in range(patients):
        patient = f"S{index:05d}"
        where = files / patient
        where.mkdir(parents=True, exist_ok=True)
        start = dt.date(2023, 1, 2) + dt.timedelta(days=index % 365)
        normal = template[index % len(template)].get("normal_vcf", "")
        for draw in range(per_patient):
            # one matched normal per patient, as in a real cohort
            source = dict(template[(index * per_patient + draw) % len(template)], normal_vcf=normal)
            sample = f"{patient}-T{draw}"
            row = dict(source, patient=patient, sample=sample, timepoint=f"T{draw}")
            row["collection_date"] = (start + dt.timedelta(days=56 * draw)).isoformat()
            for column in ("vcf", "cnv", "sv", "normal_vcf"):
                value = (source.get(column) or "").strip()
                if not value:
                    continue
                original = template_dir / value
                name = f"{sample}.{column}.{original.name}"
                if column == "normal_vcf":
                    name = f"{patient}.normal.{original.name}"
                target = where / name
                if not target.exists():
                    os.link(original, target)
                    for suffix in (".tbi", ".csi"):
                        if Path(f"{original}{suffix}").exists():
                            os.link(f"{original}{suffix}", f"{target}{suffix}")
                row[column] = str(target.relative_to(folder))
            rows.append(row)
    sheet = folder / "samples.tsv"
    with open(sheet, "w", newline="") as handle:
        writer = csv.DictWriter(handle, columns, delimiter="\t", lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    (folder / "treatments.tsv").write_text(
        "patient\tagent\tstart_date\tend_date\tline\n"
        + "".join(f"S{i:05d}\tcetuximab\t2022-12-01\t\t1\n" for i in range(patients))
    )
    return sheet


def bench_cohort(draws: int, root: Path, env: dict, beds: dict[str, Path]) -> dict:
    """Simulate, run from scratch, measure the floors, add a draw and re-run; time -n."""
    folder = root / f"cohort-{draws}"
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    cohort, patients, per_patient, seed, simulate_s = simulate(folder, draws)
    print(
        f"cohort of {draws} draws: {patients} patients x {per_patient} draws "
        f"(seed {seed}, simulated in {simulate_s:.1f} s)",
        file=sys.stderr,
        flush=True,
    )
    patient_ids = sorted({row.split("\t")[0] for row in (cohort / "samples.tsv").read_text()
                          .splitlines()[1:] if row.strip()})  # fmt: skip
    run = folder / "run"
    run.mkdir()
    config = write_config(cohort, folder / "results", run / "config.yaml")
    product = snakemake_command(
        REPO / "Snakefile", "--configfile", str(config), "--workflow-profile", str(PROFILE)
    )
    logs = folder / "logs"
    result: dict = {
        "draws": draws,
        "patients": patients,
        "draws_per_patient": per_patient,
        "seed": seed,
        "simulate_s": simulate_s,
    }

    dry = measure(
        "snakemake -n (fresh outdir)", [*product, "-n"], log=logs / "dry_run.log", cwd=run, env=env
    )
    dry.extra["jobs_planned"] = dry_run_jobs(Path(dry.log))
    result["dry_run"] = asdict(dry)

    cold = product_env(env)
    scratch = measure(
        "workflow from scratch", [*product, "--cores", "2"], log=logs / "scratch.log", cwd=run,
        env=cold,
    )  # fmt: skip
    add_worker_usage(scratch, cold)
    scratch.extra["jobs"], scratch.extra["rules"] = jobs_run(Path(scratch.log))
    result["scratch"] = asdict(scratch)

    floor_snakefiles = {}
    for kind in ("touch", "python"):
        floor_dir = folder / f"floor-{kind}"
        snakefile = floor_snakefiles[kind] = floor_snakefile(floor_dir, patient_ids, kind)
        if kind == "touch":
            floor = measure(
                "floor: snakemake -n, touch jobs",
                snakemake_command(snakefile, "-n"),
                log=logs / "floor_dry_run.log",
                cwd=floor_dir,
                env=env,
            )
            floor.extra["jobs_planned"] = dry_run_jobs(Path(floor.log))
            result["floor_dry_run"] = asdict(floor)
        floor = measure(
            f"floor: snakemake, {kind} jobs",
            snakemake_command(snakefile, "--cores", "2", *FLOOR_SCHEDULER),
            log=logs / f"floor_{kind}.log",
            cwd=floor_dir,
            env=env,
        )
        floor.extra["jobs"], _ = jobs_run(Path(floor.log))
        result[f"floor_{kind}"] = asdict(floor)

    vcfs = cohort_vcfs(cohort / "samples.tsv")
    commands = folder / "bcftools_commands.txt"
    # one bcftools per file, two at a time, as the workflow gets two cores
    commands.write_text(
        "".join(f"view -T {beds[contig_style(vcf)]} -Ov -o /dev/null {vcf}\n" for vcf in vcfs)
    )
    floor = measure(
        "floor: bcftools view -T panel.bed, every VCF",
        ["xargs", "-P", "2", "-L", "1", "-a", str(commands), "bcftools"],
        log=logs / "floor_bcftools.log",
        cwd=folder,
        env=env,
    )
    floor.extra["files"] = len(vcfs)
    result["floor_bcftools"] = asdict(floor)

    up_to_date = measure(
        "snakemake -n (up to date)", [*product, "-n"], log=logs / "dry_run_done.log", cwd=run,
        env=env,
    )  # fmt: skip
    up_to_date.extra["jobs_planned"] = dry_run_jobs(Path(up_to_date.log))
    result["dry_run_up_to_date"] = asdict(up_to_date)

    patient, new_sample = add_one_draw(cohort)
    cold = product_env(env)
    rerun = measure(
        f"re-run after one new draw ({new_sample})",
        [*product, "--cores", "2"],
        log=logs / "rerun.log",
        cwd=run,
        env=cold,
    )
    add_worker_usage(rerun, cold)
    rerun.extra["jobs"], rerun.extra["rules"] = jobs_run(Path(rerun.log))
    rerun.extra["patient"] = patient
    result["rerun"] = asdict(rerun)

    # its floor: the import-and-exit workflow re-running one patient's job and the cohort job
    floor_dir = floor_snakefiles["python"].parent
    (floor_dir / "in" / f"{patient}.txt").write_text(f"{patient}\n{new_sample}\n")
    floor = measure(
        "floor: re-run of one import-and-exit patient job + cohort",
        snakemake_command(floor_snakefiles["python"], "--cores", "2", *FLOOR_SCHEDULER),
        log=logs / "floor_rerun.log",
        cwd=floor_dir,
        env=env,
    )
    floor.extra["jobs"], _ = jobs_run(Path(floor.log))
    result["floor_rerun"] = asdict(floor)
    return result


def bench_planning(patients: int, per_patient: int, root: Path, env: dict) -> dict:
    """`snakemake -n` of a synthetic cohort (hard-linked demo files, see synthetic_cohort) of
    `patients` x `per_patient` draws, beside two `touch` floors of as many patient jobs: one
    input file per job (the product's patient job lists 2, the run's prepared panel and settings),
    and every file of the patient's draws as inputs (how the product planned before the draws'
    files went into its fingerprint param, rerun_fingerprint.py)."""
    folder = root / f"plan-{patients}x{per_patient}"
    if folder.exists():
        shutil.rmtree(folder)
    cohort = folder / "cohort"
    start = time.perf_counter()
    sheet = synthetic_cohort(cohort, patients, per_patient)
    written_s = time.perf_counter() - start
    print(
        f"planning: {patients} x {per_patient} draws written in {written_s:.1f} s",
        file=sys.stderr,
        flush=True,
    )
    run = folder / "run"
    run.mkdir()
    config = write_config(cohort, folder / "results", run / "config.yaml")
    logs = folder / "logs"
    result: dict = {"patients": patients, "draws_per_patient": per_patient, "write_s": written_s}
    dry = measure(
        f"snakemake -n, {patients} patients x {per_patient} draws",
        snakemake_command(REPO / "Snakefile", "--configfile", str(config), "-n"),
        log=logs / "dry_run.log",
        cwd=run,
        env=env,
    )
    dry.extra["jobs_planned"] = dry_run_jobs(Path(dry.log))
    result["dry_run"] = asdict(dry)
    # what the SLURM profile would submit (its dry run needs no cluster): one sbatch per group
    # job and per job outside a group; `all` runs on the submitting host
    slurm = measure(
        "snakemake -n --profile workflow/profiles/slurm (submissions planned)",
        snakemake_command(
            REPO / "Snakefile", "--configfile", str(config), "-n",
            "--profile", str(REPO / "workflow" / "profiles" / "slurm"),
        ),
        log=logs / "slurm_dry_run.log",
        cwd=run,
        env=env,
    )  # fmt: skip
    text = Path(slurm.log).read_text(errors="replace")
    slurm.extra["group_jobs"] = len(re.findall(r"\] Group job ", text))
    slurm.extra["single_jobs"] = len(re.findall(r"^rule (?!all:)\w+:$", text, re.M))
    slurm.extra["submissions"] = slurm.extra["group_jobs"] + slurm.extra["single_jobs"]
    result["slurm_dry_run"] = asdict(slurm)
    inputs = sheet_inputs(sheet)
    result["draw_files_per_patient"] = sum(len(v) for v in inputs.values()) / len(inputs)
    for key, floor_inputs in (("floor_one_input", None), ("floor_draw_inputs", inputs)):
        floor_dir = folder / key.replace("_", "-")
        snakefile = floor_snakefile(floor_dir, sorted(inputs), "touch", floor_inputs)
        floor = measure(
            f"floor: snakemake -n, touch jobs, {key.split('_', 1)[1].replace('_', ' ')}",
            snakemake_command(snakefile, "-n"),
            log=logs / f"{key}.log",
            cwd=floor_dir,
            env=env,
        )
        floor.extra["jobs_planned"] = dry_run_jobs(Path(floor.log))
        result[key] = asdict(floor)
    return result


# -- the many-record VCF --------------------------------------------------------------------------

VCF_HEADER = """##fileformat=VCFv4.2
##FILTER=<ID=PASS,Description="Site contains at least one allele that passes filters">
##FILTER=<ID=weak_evidence,Description="Mutation does not meet likelihood threshold">
##FILTER=<ID=germline,Description="Evidence indicates this site is germline, not somatic">
##FORMAT=<ID=AD,Number=R,Type=Integer,Description="Allelic depths for the ref and alt alleles">
##FORMAT=<ID=AF,Number=A,Type=Float,Description="Allele fractions of alternate alleles">
##FORMAT=<ID=DP,Number=1,Type=Integer,Description="Approximate read depth">
##FORMAT=<ID=F1R2,Number=R,Type=Integer,Description="Count of reads in F1R2 pair orientation">
##FORMAT=<ID=F2R1,Number=R,Type=Integer,Description="Count of reads in F2R1 pair orientation">
##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">
##FORMAT=<ID=SB,Number=4,Type=Integer,Description="Per-sample strand bias components">
##GATKCommandLine=<ID=Mutect2,CommandLine="Mutect2 --tumor-sample PLASMA --output big.vcf.gz",Version="4.5.0.0">
##INFO=<ID=DP,Number=1,Type=Integer,Description="Approximate read depth">
##INFO=<ID=ECNT,Number=1,Type=Integer,Description="Number of events in this haplotype">
##INFO=<ID=GERMQ,Number=1,Type=Integer,Description="Phred-scaled quality that alt alleles are not germline variants">
##INFO=<ID=MBQ,Number=R,Type=Integer,Description="median base quality by allele">
##INFO=<ID=MFRL,Number=R,Type=Integer,Description="median fragment length by allele">
##INFO=<ID=MMQ,Number=R,Type=Integer,Description="median mapping quality by allele">
##INFO=<ID=MPOS,Number=A,Type=Integer,Description="median distance from end of read">
##INFO=<ID=POPAF,Number=A,Type=Float,Description="negative log 10 population allele frequencies of alt alleles">
##INFO=<ID=TLOD,Number=A,Type=Float,Description="Log 10 likelihood ratio score of variant existing versus not existing">
##MutectVersion=2.2
{contigs}##reference=file:///references/GRCh38/Homo_sapiens_assembly38.fasta
##source=Mutect2
##tumor_sample=PLASMA
#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tPLASMA
"""  # noqa: E501 (header lines are as Mutect2 writes them)


def write_big_vcf(folder: Path, n_records: int) -> dict[str, Path]:
    """A sorted GRCh38 Mutect2-style VCF of `n_records` SNVs: plain, bgzipped, tabix-indexed.

    Returns {'indexed': .vcf.gz with .tbi, 'no_index': the same bytes without an index beside
    them, 'plain': .vcf}. Reused when a previous run wrote the same number of records.
    """
    from ctdna_resistance.genome import CONTIG_LENGTHS

    folder.mkdir(parents=True, exist_ok=True)
    plain, bgz = folder / "big.vcf", folder / "big.vcf.gz"
    no_index = folder / "no_index" / "big.vcf.gz"
    marker = folder / "written.json"
    forms = {"indexed": bgz, "no_index": no_index, "plain": plain}
    if marker.exists() and json.loads(marker.read_text()) == {"records": n_records, "seed": SEED}:
        return forms
    start = time.perf_counter()
    contigs = [(c, n) for c, n in CONTIG_LENGTHS[BUILD].items() if c not in ("MT", "M")]
    genome = sum(length for _, length in contigs)
    rng = np.random.default_rng(SEED)
    bases = np.array(list("ACGT"))
    with open(plain, "w", buffering=1 << 22) as out:
        out.write(
            VCF_HEADER.format(
                contigs="".join(f"##contig=<ID=chr{c},length={n}>\n" for c, n in contigs)
            )
        )
        written = 0
        for index, (contig, length) in enumerate(contigs):
            count = (
                n_records - written
                if index == len(contigs) - 1
                else round(n_records * length / genome)
            )
            written += count
            positions = np.unique(rng.integers(1, length, size=count + count // 100 + 10))
            positions = np.sort(rng.choice(positions, size=count, replace=False))
            ref_index = rng.integers(0, 4, size=count)
            alt_index = (ref_index + rng.integers(1, 4, size=count)) % 4
            depth = rng.integers(800, 6000, size=count)
            fraction = rng.beta(0.6, 40, size=count)
            alt_reads = np.maximum(1, np.round(depth * fraction)).astype(int)
            ref_reads = depth - alt_reads
            tlod = np.round(alt_reads * 3.1, 2)
            filters = np.where(alt_reads >= 5, "PASS", "weak_evidence")
            name = f"chr{contig}"
            rows = zip(
                positions.tolist(), bases[ref_index].tolist(), bases[alt_index].tolist(),
                filters.tolist(), depth.tolist(), ref_reads.tolist(), alt_reads.tolist(),
                tlod.tolist(), strict=True,
            )  # fmt: skip
            lines = []
            for pos, ref, alt, flt, dp, r, a, lod in rows:
                lines.append(
                    f"{name}\t{pos}\t.\t{ref}\t{alt}\t.\t{flt}\tDP={dp};ECNT=1;GERMQ=93;"
                    f"MBQ=36,35;MFRL=167,150;MMQ=60,60;MPOS=25;POPAF=6.00;TLOD={lod}\t"
                    f"GT:AD:AF:DP:F1R2:F2R1:SB\t0/1:{r},{a}:{a / dp:.4g}:{dp}:"
                    f"{r // 2},{a // 2}:{r - r // 2},{a - a // 2}:{r // 2},{r - r // 2},"
                    f"{a // 2},{a - a // 2}\n"
                )
                if len(lines) >= 200_000:
                    out.write("".join(lines))
                    lines.clear()
            out.write("".join(lines))
    threads = ["-@", "2"] if "--threads" in run_text(["bgzip", "--help"]) else []
    with open(bgz, "wb") as out:
        subprocess.run(["bgzip", *threads, "-c", str(plain)], stdout=out, check=True)
    subprocess.run(["tabix", "-f", "-p", "vcf", str(bgz)], check=True)
    no_index.parent.mkdir(exist_ok=True)
    if no_index.exists():
        no_index.unlink()
    os.link(bgz, no_index)
    marker.write_text(json.dumps({"records": n_records, "seed": SEED}))
    print(
        f"wrote {n_records} records ({plain.stat().st_size / 1e9:.2f} GB plain, "
        f"{bgz.stat().st_size / 1e9:.2f} GB bgzipped) in {time.perf_counter() - start:.0f} s",
        file=sys.stderr,
        flush=True,
    )
    return forms


# The imports of PRODUCT_READ alone: the interpreter start-up + import floor of the product rows.
PRODUCT_IMPORTS = "import ctdna_resistance.io.vcf, ctdna_resistance.panel"
PRODUCT_READ = """
import sys
from ctdna_resistance.io.vcf import open_vcf
from ctdna_resistance.panel import load_panel
panel = load_panel(sys.argv[1], "GRCh38")
with open_vcf(sys.argv[2], regions=panel.regions(), expected_build="GRCh38") as reader:
    records = sum(1 for _ in reader)
print(f"records={records} used_index={reader.used_index} read_mode={reader.read_mode}")
"""


# The libraries the product reader is built on, alone, on the indexed form: how close any Python
# reader that uses them can come to bcftools (regions from panel.bed, 0-based half-open).
LIBRARY_FLOORS = {
    "cyvcf2 region queries": """
import sys, cyvcf2
vcf = cyvcf2.VCF(sys.argv[2])
with open(sys.argv[1]) as bed:
    regions = [line.split("\\t") for line in bed]
print(f"records={sum(1 for c, s, e in regions for _ in vcf(f'{c}:{int(s) + 1}-{int(e)}'))}")
""",
    "pysam VariantFile.fetch": """
import sys, pysam
with open(sys.argv[1]) as bed:
    regions = [line.split("\\t") for line in bed]
with pysam.VariantFile(sys.argv[2]) as vcf:
    print(f"records={sum(1 for c, s, e in regions for _ in vcf.fetch(c, int(s), int(e)))}")
""",
    "pysam TabixFile.fetch, lines unparsed": """
import sys, pysam
with open(sys.argv[1]) as bed:
    regions = [line.split("\\t") for line in bed]
with pysam.TabixFile(sys.argv[2]) as vcf:
    print(f"records={sum(1 for c, s, e in regions for _ in vcf.fetch(c, int(s), int(e)))}")
""",
}


def count_output_records(path: Path) -> int:
    with open(path, "rb") as handle:
        return sum(1 for line in handle if not line.startswith(b"#"))


def _fastest(label: str, command: list[str], repeat: int, *, log: Path, cwd: Path,
             env: dict) -> Measurement:  # fmt: skip
    """The run with the least wall time of `repeat` runs (the machine may be shared)."""
    runs = [measure(label, command, log=log, cwd=cwd, env=env) for _ in range(max(repeat, 1))]
    best = min(runs, key=lambda m: (m.returncode != 0, m.wall_s))
    best.extra["runs_wall_s"] = [m.wall_s for m in runs]
    return best


def bench_vcf(
    n_records: int, root: Path, env: dict, beds: dict[str, Path], repeat: int = 1
) -> dict:
    """Panel regions of the many-record VCF in three forms: product reader against bcftools."""
    folder = root / "big_vcf"
    forms = write_big_vcf(folder, n_records)
    logs = folder / "logs"
    bed = beds["chr"]
    results: dict = {"records": n_records, "repeat": repeat, "forms": {}}
    imports = _fastest(
        "python start-up + imports of the product command",
        [sys.executable, "-c", PRODUCT_IMPORTS],
        repeat,
        log=logs / "imports.log",
        cwd=folder,
        env=env,
    )
    bare = _fastest(
        "python start-up alone", [sys.executable, "-c", "pass"], repeat,
        log=logs / "python.log", cwd=folder, env=env,
    )  # fmt: skip
    results["startup"] = {"imports": asdict(imports), "python": asdict(bare)}
    for form, path in forms.items():
        rows = {}
        tools = [("bcftools view -T", "-T")] + ([("bcftools view -R", "-R")] if form == "indexed"
                                                 else [])  # fmt: skip
        for label, flag in tools:
            out = logs / f"{form}_bcftools{flag}.vcf"
            m = _fastest(
                f"{form}: {label}",
                ["bcftools", "view", flag, str(bed), "-Ov", "-o", str(out), str(path)],
                repeat,
                log=logs / f"{form}_bcftools{flag}.log",
                cwd=folder,
                env=env,
            )
            m.extra["records"] = count_output_records(out)
            rows[label] = asdict(m)
        m = _fastest(
            f"{form}: product open_vcf(regions=panel.regions())",
            [sys.executable, "-c", PRODUCT_READ, str(PANEL), str(path)],
            repeat,
            log=logs / f"{form}_product.log",
            cwd=folder,
            env=env,
        )
        found = re.search(
            r"records=(\d+) used_index=(\w+) read_mode=(\w+)", Path(m.log).read_text()
        )
        m.extra["records"] = int(found.group(1)) if found else None
        m.extra["used_index"] = found.group(2) if found else None
        m.extra["read_mode"] = found.group(3) if found else None
        rows["product"] = asdict(m)
        results["forms"][form] = rows
        if form != "indexed":
            continue
        libraries = {}
        for label, script in LIBRARY_FLOORS.items():
            slug = re.sub(r"\W+", "_", label)
            m = _fastest(
                f"{form}: floor: {label}",
                [sys.executable, "-c", script, str(bed), str(path)],
                repeat,
                log=logs / f"{form}_{slug}.log",
                cwd=folder,
                env=env,
            )
            found = re.search(r"records=(\d+)", Path(m.log).read_text())
            m.extra["records"] = int(found.group(1)) if found else None
            libraries[label] = asdict(m)
        results.setdefault("library_floors", {})[form] = libraries
    return results


# -- report ---------------------------------------------------------------------------------------


def _ratio(value: float, floor: float) -> str:
    return f"{value / floor:.2f}x" if floor > 0 else "-"


def _verdict(ok: bool) -> str:
    return "met" if ok else "**missed**"


def cohort_table(cohorts: list[dict]) -> list[str]:
    lines = [
        "| draws (patients x draws) | what | jobs | wall s | CPU s | s/draw | peak MB (process / "
        "tree) | vs its floor |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for c in cohorts:
        shape = f"{c['draws']} ({c['patients']} x {c['draws_per_patient']}, seed {c['seed']})"
        rows = [
            ("workflow from scratch", c["scratch"], c["scratch"]["extra"].get("jobs")),
            ("floor: snakemake, `touch` jobs", c["floor_touch"], c["floor_touch"]["extra"]["jobs"]),
            ("floor: snakemake, Python import-and-exit jobs", c["floor_python"],
             c["floor_python"]["extra"]["jobs"]),
            (f"floor: `bcftools view -T panel.bed` on the {c['floor_bcftools']['extra']['files']}"
             " VCFs (2 at a time)", c["floor_bcftools"], None),
            ("re-run after one new draw", c["rerun"], c["rerun"]["extra"].get("jobs")),
            ("floor: import-and-exit workflow re-running one patient job", c["floor_rerun"],
             c["floor_rerun"]["extra"].get("jobs")),
            ("`snakemake -n`, fresh outdir (DAG only)", c["dry_run"],
             c["dry_run"]["extra"].get("jobs_planned")),
            ("floor: `snakemake -n` of the `touch` workflow", c["floor_dry_run"],
             c["floor_dry_run"]["extra"].get("jobs_planned")),
            ("`snakemake -n`, up to date", c["dry_run_up_to_date"],
             c["dry_run_up_to_date"]["extra"].get("jobs_planned")),
        ]  # fmt: skip
        # each measured row against the floor row that follows it
        floor_of = {0: c["floor_python"], 4: c["floor_rerun"], 6: c["floor_dry_run"]}
        for index, (what, m, jobs) in enumerate(rows):
            failed = "" if m["returncode"] == 0 else f" (FAILED, exit {m['returncode']})"
            per_draw = f"{m['wall_s'] / c['draws']:.3f}" if index in (0, 1, 2, 3) else ""
            floor = floor_of.get(index)
            vs_floor = _ratio(m["wall_s"], floor["wall_s"]) if floor else ""
            lines.append(
                f"| {shape if index == 0 else ''} | {what}{failed} | "
                f"{'' if jobs is None else jobs} | {m['wall_s']:.1f} | {m['cpu_s']:.1f} | "
                f"{per_draw} | {m['max_rss_mb']:.0f} / {m['tree_rss_mb']:.0f} | {vs_floor} |"
            )
    return lines


def vcf_table(vcf: dict) -> list[str]:
    startup = vcf.get("startup", {})
    lines = [
        f"Panel regions of a {vcf['records']:,}-record GRCh38 VCF (interpreter start-up "
        "included; ratio = product wall / best bcftools wall on the same form; fastest of "
        f"{vcf.get('repeat', 1)} run(s) each):",
        "",
    ]
    if startup:
        lines += [
            f"Start-up floor of the product rows: `python -c pass` "
            f'{startup["python"]["wall_s"]:.2f} s; `python -c "{PRODUCT_IMPORTS}"` '
            f"{startup['imports']['wall_s']:.2f} s, {startup['imports']['max_rss_mb']:.0f} MB.",
            "",
        ]
    lines += [
        "| form | tool | records out | wall s | CPU s | peak MB | vs bcftools |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for form, rows in vcf["forms"].items():
        best = min(m["wall_s"] for label, m in rows.items() if label != "product")
        for label, m in rows.items():
            tool = "product `open_vcf(regions=panel.regions())`" if label == "product" else (
                f"`{label}`")  # fmt: skip
            extra = m["extra"]
            note = f" ({extra.get('read_mode')})" if label == "product" else ""
            lines.append(
                f"| {form} | {tool}{note} | {extra.get('records')} | {m['wall_s']:.2f} | "
                f"{m['cpu_s']:.1f} | {m['max_rss_mb']:.0f} | "
                f"{_ratio(m['wall_s'], best) if label == 'product' else ''} |"
            )
        for label, m in vcf.get("library_floors", {}).get(form, {}).items():
            lines.append(
                f"| {form} | floor: {label} (no product code) | {m['extra'].get('records')}"
                f" | {m['wall_s']:.2f} | {m['cpu_s']:.1f} | {m['max_rss_mb']:.0f} | "
                f"{_ratio(m['wall_s'], best)} |"
            )
    return lines


def planning_table(plan: dict) -> list[str]:
    dry, one, draws = plan["dry_run"], plan["floor_one_input"], plan["floor_draw_inputs"]
    rows = [
        ("product `snakemake -n`, fresh outdir", dry, ""),
        ("floor: `touch` workflow, 1 input file per patient job", one, ""),
        (f"floor: `touch` workflow, the patient's {plan['draw_files_per_patient']:.0f} draw "
         "files as inputs of its job (the product before its fingerprint param)", draws, ""),
    ]  # fmt: skip
    lines = [
        f"Planning {plan['patients']:,} patients x {plan['draws_per_patient']} draws (synthetic "
        "sheet: every draw's files hard links to the demo's; planning opens no VCF):",
        "",
        "| what | jobs | wall s | CPU s | peak MB | product vs it |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for what, m, _ in rows:
        failed = "" if m["returncode"] == 0 else f" (FAILED, exit {m['returncode']})"
        vs = "" if m is dry else _ratio(dry["wall_s"], m["wall_s"])
        lines.append(
            f"| {what}{failed} | {m['extra'].get('jobs_planned')} | {m['wall_s']:.1f} | "
            f"{m['cpu_s']:.1f} | {m['max_rss_mb']:.0f} | {vs} |"
        )
    return lines


def targets_table(cohorts: list[dict], vcf: dict | None, plan: dict | None = None) -> list[str]:
    lines = ["| done-means target (issue 19) | measured | |", "|---|---|---|"]
    largest = max(cohorts, key=lambda c: c["draws"]) if cohorts else None
    if largest:
        scratch, floor = largest["scratch"], largest["floor_bcftools"]
        n = largest["draws"]
        ran = scratch["returncode"] == 0
        size_note = "" if n == TARGET_COHORT_DRAWS else f" (measured on {n} draws only)"
        met = n >= TARGET_COHORT_DRAWS and ran
        lines.append(
            f"| {TARGET_COHORT_DRAWS} draws from scratch <= {TARGET_COHORT_WALL_S:.0f} s wall on 2 "
            f"cores | {scratch['wall_s']:.0f} s{'' if ran else ' (FAILED)'}{size_note} | "
            f"{_verdict(met and scratch['wall_s'] <= TARGET_COHORT_WALL_S)} |"
        )
        lines.append(
            f"| ... <= {TARGET_COHORT_VS_FLOOR_TEXT} | "
            f"{_ratio(scratch['wall_s'], floor['wall_s'])} ({floor['wall_s']:.1f} s floor) | "
            f"{_verdict(met and scratch['wall_s'] <= TARGET_COHORT_VS_BCFTOOLS * floor['wall_s'])}"
            " |"
        )
        rerun = largest["rerun"]
        rules = rerun["extra"].get("rules", {})
        only_expected = set(rules) <= {"patient", "cohort_summary", "all"}
        only_expected = only_expected and rules.get("patient") == 1
        rerun_ok = rerun["returncode"] == 0 and rerun["wall_s"] <= TARGET_RERUN_WALL_S
        lines.append(
            f"| one new draw <= {TARGET_RERUN_WALL_S:.0f} s, only that patient's + cohort "
            f"jobs | {rerun['wall_s']:.1f} s; {rerun['extra'].get('jobs')} jobs: "
            f"{', '.join(f'{r} x{k}' for r, k in sorted(rules.items()))} | "
            f"{_verdict(rerun_ok and only_expected)} |"
        )
    if plan:
        dry = plan["dry_run"]
        full = plan["patients"] >= TARGET_PLAN_PATIENTS
        note = "" if full else f" (measured on {plan['patients']} patients only)"
        plan_ok = full and dry["returncode"] == 0 and dry["wall_s"] <= TARGET_PLAN_WALL_S
        lines.append(
            f"| `snakemake -n` for {TARGET_PLAN_PATIENTS:,} patients x 6 draws <= "
            f"{TARGET_PLAN_WALL_S:.0f} s | {dry['wall_s']:.1f} s{note}; "
            f"{_ratio(dry['wall_s'], plan['floor_one_input']['wall_s'])} of the 1-input floor, "
            f"{_ratio(dry['wall_s'], plan['floor_draw_inputs']['wall_s'])} of the draw-files-as-"
            f"inputs floor | {_verdict(plan_ok) if full else 'size not reached'} |"
        )
    slurm = (plan or {}).get("slurm_dry_run")
    if slurm:
        subs = slurm["extra"]["submissions"]
        lines.append(
            f"| that cohort submitted to SLURM as <= {TARGET_SLURM_JOBS} jobs | {subs} sbatch "
            f"jobs planned by `snakemake -n --profile workflow/profiles/slurm` "
            f"({slurm['extra']['group_jobs']} patient groups + {slurm['extra']['single_jobs']} "
            f"others; real submissions: tests/cluster/test_slurm.py) | "
            f"{_verdict(slurm['returncode'] == 0 and subs <= TARGET_SLURM_JOBS)} |"
        )
    lines.append(
        f"| cohort summary peak RSS <= {TARGET_SUMMARY_RSS_MB:.0f} MB at 100,000 patients | not "
        "measured here: tests/benchmarks/summary_memory.py | |"
    )
    if vcf:
        for form, rows in vcf["forms"].items():
            best = min(m["wall_s"] for label, m in rows.items() if label != "product")
            product = rows["product"]
            ok = (
                product["returncode"] == 0
                and product["wall_s"] <= TARGET_VCF_VS_BCFTOOLS * best
                and product["max_rss_mb"] < TARGET_VCF_PEAK_MB
            )
            lines.append(
                f"| panel extraction, {form} (issue 6): <= {TARGET_VCF_VS_BCFTOOLS}x bcftools, < "
                f"{TARGET_VCF_PEAK_MB:.0f} MB | {_ratio(product['wall_s'], best)}, "
                f"{product['max_rss_mb']:.0f} MB | {_verdict(ok)} |"
            )
    return lines


def render(
    machine: dict, startup: dict, cohorts: list[dict], vcf: dict | None, plan: dict | None = None
) -> str:
    load = ", ".join(f"{x:.2f}" for x in machine["load_average_at_start"])
    end_load = ", ".join(f"{x:.2f}" for x in machine.get("load_average_at_end", ()))
    snakemake_startup = (
        []
        if not startup
        else [
            f"Snakemake start-up (`snakemake --version`): "
            f"{startup['snakemake_version_wall_s']:.1f} s"
            + (
                f"; {startup['snakemake_version_wall_s_with_scontrol_stub']:.1f} s with the "
                "`scontrol` stub every figure below was measured with (see "
                "tests/benchmarks/README.md)"
                if "scontrol_stub" in startup
                else ""
            )
            + ".",
            "",
        ]
    )
    parts = [
        f"Machine: {machine['nproc']} cores ({machine['cpu_model']}), {machine['memory_gb']} GB, "
        f"Linux {machine['kernel']}; Python {machine['python']}, Snakemake "
        f"{machine['snakemake']}, {machine['bcftools']}; {machine['date']}; code: "
        f"{machine['source']}; load average "
        f"{load} at start, {end_load} at end.",
        "",
        *snakemake_startup,
    ]
    if cohorts:
        parts += [
            "Workflow runs use `--cores 2`, `--workflow-profile workflow/profiles/default` (the "
            f"floors: its `{' '.join(FLOOR_SCHEDULER)}`) and `detection.vcf_read: "
            "panel_regions`; peak MB = "
            "largest single process / largest sampled sum over the process tree. Each product "
            "run starts its patient-job worker cold (a fresh private folder); the worker runs in "
            "a session of its own, outside the measured process tree, so its CPU time (its own "
            "and its forked jobs', from its log) is added to the product's CPU s, and its peak "
            "memory is in benchmark.json (`worker_max_rss_mb`, `worker_largest_job_rss_mb`).",
            "",
            *cohort_table(cohorts),
            "",
        ]
    if plan:
        parts += [*planning_table(plan), ""]
    if vcf:
        parts += [*vcf_table(vcf), ""]
    parts += ["Against the done-means:", "", *targets_table(cohorts, vcf, plan), ""]
    return "\n".join(parts)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="50,500,3000",
                        help="cohort sizes in draws, comma-separated ('' for none)")  # fmt: skip
    parser.add_argument("--vcf-records", type=int, default=5_000_000,
                        help="records of the generated VCF (0: skip the VCF part)")  # fmt: skip
    parser.add_argument("--plan-patients", type=int, default=TARGET_PLAN_PATIENTS,
                        help="patients (x 6 draws) of the planning run (0: skip it)")  # fmt: skip
    parser.add_argument("--only", choices=("cohort", "plan", "vcf"), default=None,
                        help="run only the cohorts, the planning run or the VCF part")  # fmt: skip
    parser.add_argument("--vcf-repeat", type=int, default=1,
                        help="runs of each VCF command; the fastest is reported")  # fmt: skip
    parser.add_argument("--out", type=Path, default=None,
                        help="working folder (default: a new temporary folder)")  # fmt: skip
    args = parser.parse_args(argv)
    if not Path(TIME_BIN).exists():
        raise SystemExit(f"{TIME_BIN} is needed (apt-get install -y time)")
    for tool in ("bcftools", "bgzip", "tabix"):
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} is needed (apt-get install -y bcftools tabix)")
    root = (args.out or Path(tempfile.mkdtemp(prefix="ctdna-benchmark-"))).resolve()
    root.mkdir(parents=True, exist_ok=True)
    print(f"working in {root}", file=sys.stderr, flush=True)

    if args.only == "vcf":  # no Snakemake in the VCF part: neither its start-up nor its env
        env = dict(os.environ)
        env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
        startup: dict = {}
    else:
        env, startup = snakemake_env(root)
    machine = machine_info(env)
    beds = panel_beds(root)
    sizes = (
        [int(s) for s in args.sizes.split(",") if s.strip()]
        if args.only in (None, "cohort")
        else []
    )
    cohorts = [bench_cohort(size, root, env, beds) for size in sizes]
    run_plan = args.plan_patients > 0 and args.only in (None, "plan")
    plan = bench_planning(args.plan_patients, 6, root, env) if run_plan else None
    run_vcf = args.vcf_records > 0 and args.only in (None, "vcf")
    vcf = bench_vcf(args.vcf_records, root, env, beds, args.vcf_repeat) if run_vcf else None
    machine["load_average_at_end"] = os.getloadavg()

    text = render(machine, startup, cohorts, vcf, plan)
    (root / "benchmark.md").write_text(text)
    (root / "benchmark.json").write_text(
        json.dumps(
            {"machine": machine, "startup": startup, "cohorts": cohorts, "plan": plan, "vcf": vcf},
            indent=1,
        )
    )
    print(text)
    print(f"tables: {root / 'benchmark.md'}; raw numbers: {root / 'benchmark.json'}",
          file=sys.stderr)  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
