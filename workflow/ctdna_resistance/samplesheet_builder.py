"""Build a sample sheet (SPEC 3.2) from nf-core/sarek and nf-core/oncoanalyser results folders.

Folder layouts follow each pipeline's own output documentation (docs/output.md): nf-core/sarek
3.10.0 and nf-core/oncoanalyser 2.2.0 (the layouts have been stable since sarek 3.0 and
oncoanalyser 1.0 for the files read here).

sarek (``<outdir>/variant_calling/<tool>/<dir>/``, ``<dir>`` = ``<tumour>_vs_<normal>`` for a
paired run, ``<sample>`` for tumour-only; FreeBayes' docs write ``<normal>_vs_<tumour>``, so either
side is matched against the samples map):
  mutect2/      <dir>.mutect2.filtered.vcf.gz             vcf (the unfiltered .mutect2.vcf.gz is
                                                          skipped: FilterMutectCalls not applied)
  strelka/      <dir>.strelka.somatic_snvs.vcf.gz         vcf, with its somatic_indels.vcf.gz as
                <sample>.strelka.variants.vcf.gz          'snvs;indels' (paired) / vcf (tumour-only)
  freebayes/    <dir>.freebayes.vcf.gz                    vcf
  manta/        <dir>.manta.somatic_sv.vcf.gz             sv (paired) / .manta.tumor_sv.vcf.gz
                                                          (tumour-only); diploid_sv skipped
  ascat/        <dir>.cnvs.txt (+ .purityploidy.txt)      cnv, absolute CN, purity
  controlfreec/ <dir>*_CNVs                               cnv
  cnvkit/       <tumour>.cns                              cnv (.call.cns/.bintest.cns skipped)
  ``<outdir>/reports/mosdepth/<sample>/<sample>.{recal,md,sorted}.{per-base,regions}.bed.gz``:
  coverage.
oncoanalyser (``<outdir>/<group_id>/``, files named by the tumour DNA sample id):
  sage/somatic/<tumour>.sage.somatic.vcf.gz               vcf (else pave/*.sage.somatic.pave.vcf.gz,
                                                          else purple/*.purple.somatic.vcf.gz)
  purple/<tumour>.purple.cnv.somatic.tsv (+ purity.tsv)   cnv, absolute CN, purity
  purple/<tumour>.purple.sv.vcf.gz                        sv (else esvee/caller/*.esvee.somatic...)
  linx/somatic_annotations/<tumour>.linx.fusion.tsv       sv only with --prefer-caller linx: LINX
                                                          names genes but gives no coordinates

A sample's file of one kind (vcf, cnv, sv, coverage) may come from several tools; stages of one tool
(SAGE -> PAVE -> PURPLE) are resolved by that order, but two tools (Mutect2 and Strelka, ASCAT and
Control-FREEC) are an ambiguity the user resolves with ``--prefer-caller``. Every chosen file is
opened with its reader before the sheet is written, so the sheet the workflow gets is readable.
`read_any` reads any single file the product knows, told apart by its name and content.
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
from dataclasses import dataclass, field
from pathlib import Path

from ctdna_resistance.errors import InputError
from ctdna_resistance.records import BUILDS

KINDS = ("vcf", "cnv", "sv", "coverage")
SHEET_COLUMNS = (
    "patient",
    "sample",
    "collection_date",
    "timepoint",
    "vcf",
    "vcf_sample",
    "caller",
    "cnv",
    "sv",
    "sv_sample",
    "coverage",
)
MAP_COLUMNS = ("sample", "patient", "collection_date")
# Small-variant dialect names of the sheet's `caller` column, by the pipeline tool that wrote it.
_SHEET_CALLER = {"mutect2": "mutect2", "strelka": "strelka2", "freebayes": "freebayes"}
CALLERS = (
    "mutect2",
    "strelka",
    "freebayes",
    "sage",
    "manta",
    "purple",
    "esvee",
    "linx",
    "ascat",
    "controlfreec",
    "cnvkit",
    "mosdepth",
)


@dataclass(frozen=True)
class Candidate:
    """A file that could be one sample's input of one kind."""

    sample: str
    kind: str  # vcf | cnv | sv | coverage
    caller: str  # the tool that wrote it (CALLERS)
    path: Path
    family: str  # one tool's staged outputs share a family; rank orders them (0 = preferred)
    rank: int = 0


@dataclass(frozen=True)
class Skipped:
    """A file or folder looked at and not used, with the reason."""

    path: Path
    reason: str
    sample: str | None = None


@dataclass
class Scan:
    """What one or more results folders hold: candidates per sample and what was skipped."""

    candidates: list[Candidate] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    pipelines: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class MappedSample:
    """One row of the samples map: the pipeline's sample id and where it sits in time."""

    sample: str
    patient: str
    collection_date: str
    timepoint: str = ""
    row: int = 0


@dataclass
class SheetRow:
    """One sample sheet row as chosen, with what was found and skipped for the printout."""

    mapped: MappedSample
    files: dict[str, Candidate] = field(default_factory=dict)
    vcf_sample: str = ""
    sv_sample: str = ""
    found: list[str] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)

    def values(self) -> dict[str, str]:
        """The sheet columns of this row."""
        vcf = self.files.get("vcf")
        return {
            "patient": self.mapped.patient,
            "sample": self.mapped.sample,
            "collection_date": self.mapped.collection_date,
            "timepoint": self.mapped.timepoint,
            "vcf": ";".join(str(c.path) for c in (vcf, self.files.get("vcf_indels")) if c),
            "vcf_sample": self.vcf_sample,
            "caller": _SHEET_CALLER.get(vcf.caller, "") if vcf else "",
            "cnv": str(self.files["cnv"].path) if "cnv" in self.files else "",
            "sv": str(self.files["sv"].path) if "sv" in self.files else "",
            "sv_sample": self.sv_sample,
            "coverage": str(self.files["coverage"].path) if "coverage" in self.files else "",
        }


# -- samples map -------------------------------------------------------------------------------


def read_samples_map(path: str | Path) -> dict[str, MappedSample]:
    """The samples map TSV: sample, patient, collection_date [, timepoint], one row per sample."""
    path = Path(path)
    if not path.is_file():
        raise InputError(path, "samples map not found", "give --samples-map a TSV file")
    with open(path, encoding="utf-8-sig", errors="replace", newline="") as handle:
        lines = [(n, line) for n, line in enumerate(handle, 1) if line.strip()]
    lines = [(n, line) for n, line in lines if not line.startswith("#")]
    if not lines:
        raise InputError(path, "samples map is empty", "write a header: " + "\t".join(MAP_COLUMNS))
    header = [h.strip() for h in lines[0][1].rstrip("\r\n").split("\t")]
    missing = [c for c in MAP_COLUMNS if c not in header]
    if missing:
        raise InputError(
            path,
            f"samples map lacks column(s) {', '.join(missing)} (found: {', '.join(header)})",
            "the map is tab-separated with a header: sample, patient, collection_date "
            "[, timepoint]",
            record=lines[0][0],
        )
    mapped: dict[str, MappedSample] = {}
    for number, line in lines[1:]:
        values = [v.strip() for v in line.rstrip("\r\n").split("\t")]
        if len(values) > len(header):
            raise InputError(
                path,
                f"{len(values)} fields but the header has {len(header)}",
                "check for stray tabs",
                record=number,
            )
        row = dict(zip(header, values + [""] * (len(header) - len(values)), strict=True))
        sample = row["sample"]
        if not sample or not row["patient"]:
            raise InputError(path, "sample or patient is empty", "fill in both", record=number)
        if sample in mapped:
            raise InputError(
                path,
                f"sample {sample!r} appears twice (also on line {mapped[sample].row})",
                "give each pipeline sample id once",
                record=number,
            )
        try:
            dt.date.fromisoformat(row["collection_date"])
        except ValueError:
            raise InputError(
                path,
                f"collection_date {row['collection_date']!r} is not an ISO date",
                "write dates as YYYY-MM-DD",
                record=number,
            ) from None
        mapped[sample] = MappedSample(
            sample, row["patient"], row["collection_date"], row.get("timepoint", ""), number
        )
    if not mapped:
        raise InputError(path, "samples map has no rows", "add one row per plasma sample")
    return mapped


# -- scanning results folders ------------------------------------------------------------------


def scan_results(folder: str | Path, known: set[str]) -> Scan:
    """Candidates and skipped files of a sarek or oncoanalyser results folder."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(folder, "results folder not found", "give --results the pipeline outdir")
    scan = Scan()
    if (folder / "variant_calling").is_dir():
        scan.pipelines.append("nf-core/sarek")
        _scan_sarek(folder, known, scan)
        return scan
    groups = (
        [folder]
        if _is_hmf_group(folder)
        else sorted(d for d in folder.iterdir() if d.is_dir() and _is_hmf_group(d))
    )
    if not groups:
        raise InputError(
            folder,
            "neither a nf-core/sarek results folder (no variant_calling/) nor a "
            "nf-core/oncoanalyser one (no <group>/purple, sage or linx folder)",
            "give --results the pipeline's --outdir",
        )
    scan.pipelines.append("nf-core/oncoanalyser")
    for group in groups:
        _scan_oncoanalyser_group(group, known, scan)
    return scan


def _is_hmf_group(folder: Path) -> bool:
    return any((folder / name).is_dir() for name in ("purple", "sage", "linx", "esvee"))


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_file()) if folder.is_dir() else []


def _sarek_sample(name: str, known: set[str]) -> tuple[str | None, str]:
    """The mapped sample of a sarek folder name ('T_vs_N' or 'S'), and what it was matched on."""
    sides = name.split("_vs_")
    for side in sides:
        if side in known:
            return side, name
    return None, name


def _scan_sarek(outdir: Path, known: set[str], scan: Scan) -> None:
    calling = outdir / "variant_calling"
    for tool_dir in sorted(d for d in calling.iterdir() if d.is_dir()):
        tool = tool_dir.name
        if tool not in (
            "mutect2",
            "strelka",
            "freebayes",
            "manta",
            "ascat",
            "controlfreec",
            "cnvkit",
        ):
            scan.skipped.append(Skipped(tool_dir, f"{tool} output is not read by this builder"))
            continue
        for run_dir in sorted(d for d in tool_dir.iterdir() if d.is_dir()):
            sample, name = _sarek_sample(run_dir.name, known)
            if sample is None:
                scan.skipped.append(
                    Skipped(run_dir, f"no sample of the samples map in {run_dir.name!r}")
                )
                continue
            _sarek_run(tool, run_dir, name, sample, scan)
    mosdepth = outdir / "reports" / "mosdepth"
    if mosdepth.is_dir():
        for sample_dir in sorted(d for d in mosdepth.iterdir() if d.is_dir()):
            if sample_dir.name not in known:
                continue  # the normal's coverage, or another run's sample: not ours
            _mosdepth(sample_dir, sample_dir.name, scan)


def _sarek_run(tool: str, run_dir: Path, name: str, sample: str, scan: Scan) -> None:
    def add(kind, path, rank=0):
        scan.candidates.append(Candidate(sample, kind, tool, path, tool, rank))

    def skip(path, reason):
        scan.skipped.append(Skipped(path, reason, sample))

    for path in _files(run_dir):
        file = path.name
        if file.endswith((".tbi", ".csi", ".png", ".pdf", ".stats", ".table", ".tar.gz")):
            continue  # indexes, plots and caller statistics: never inputs
        if tool == "mutect2":
            if file.endswith(".mutect2.filtered.vcf.gz"):
                add("vcf", path)
            elif file.endswith(".mutect2.vcf.gz"):
                skip(
                    path,
                    "unfiltered Mutect2 calls (FilterMutectCalls not applied); the "
                    ".mutect2.filtered.vcf.gz is used",
                )
        elif tool == "strelka":
            if file.endswith(".strelka.somatic_snvs.vcf.gz"):
                add("vcf", path)
            elif file.endswith(".strelka.somatic_indels.vcf.gz"):
                # the indel half of the same calls: listed with the SNVs in the vcf column
                add("vcf_indels", path)
            elif file.endswith(".strelka.variants.vcf.gz"):
                add("vcf", path)  # tumour-only Strelka (germline model on the tumour)
            elif file.endswith(".strelka.genome.vcf.gz"):
                skip(path, "Strelka genome VCF (every site, not calls)")
        elif tool == "freebayes" and file.endswith(".freebayes.vcf.gz"):
            add("vcf", path)
        elif tool == "manta":
            if file.endswith((".manta.somatic_sv.vcf.gz", ".manta.tumor_sv.vcf.gz")):
                add("sv", path)
            elif file.endswith(".manta.diploid_sv.vcf.gz"):
                skip(path, "Manta diploid (germline) SVs, not tumour SVs")
            elif file.endswith("candidate_sv.vcf.gz") or "candidate" in file:
                skip(path, "Manta candidate SVs (unscored)")
        elif tool == "ascat":
            if file.endswith(".cnvs.txt"):
                add("cnv", path)
            elif file.endswith(".segments.txt"):
                skip(path, "ASCAT segments.txt holds the same segments as the .cnvs.txt used")
        elif tool == "controlfreec" and file.endswith("_CNVs"):
            add("cnv", path)
        elif tool == "cnvkit" and file.endswith(".cns"):
            if file.endswith((".call.cns", ".bintest.cns")):
                skip(path, "CNVkit call/bintest .cns: the segment .cns is used")
            elif (
                file.startswith(sample + ".")
                or len([p for p in _files(run_dir) if _is_cnvkit_segments(p.name)]) == 1
            ):
                add("cnv", path)
            else:
                skip(path, f"CNVkit segments of another sample than {sample!r}")


def _is_cnvkit_segments(name: str) -> bool:
    return name.endswith(".cns") and not name.endswith((".call.cns", ".bintest.cns"))


def _mosdepth(sample_dir: Path, sample: str, scan: Scan) -> None:
    # One BAM per stage (sorted -> md -> recal): the last stage is the one the callers read.
    stages = {"recal": 0, "md": 1, "sorted": 2}
    for path in _files(sample_dir):
        for layout, offset in ((".per-base.bed.gz", 0), (".regions.bed.gz", 3)):
            if path.name.endswith(layout):
                stage = path.name[: -len(layout)].rsplit(".", 1)[-1]
                scan.candidates.append(
                    Candidate(
                        sample,
                        "coverage",
                        "mosdepth",
                        path,
                        "mosdepth",
                        stages.get(stage, 2) + offset,
                    )
                )


def _scan_oncoanalyser_group(group: Path, known: set[str], scan: Scan) -> None:
    sources = [
        # (folder, suffix, kind, caller, family, rank)
        ("sage/somatic", ".sage.somatic.vcf.gz", "vcf", "sage", "hmf_small", 0),
        ("pave", ".sage.somatic.pave.vcf.gz", "vcf", "sage", "hmf_small", 1),
        ("purple", ".purple.somatic.vcf.gz", "vcf", "sage", "hmf_small", 2),
        ("purple", ".purple.cnv.somatic.tsv", "cnv", "purple", "purple", 0),
        ("purple", ".purple.sv.vcf.gz", "sv", "purple", "hmf_sv", 0),
        ("purple", ".purple.sv.vcf", "sv", "purple", "hmf_sv", 0),
        ("esvee/caller", ".esvee.somatic.vcf.gz", "sv", "esvee", "hmf_sv", 1),
        ("linx/somatic_annotations", ".linx.fusion.tsv", "sv", "linx", "hmf_sv", 2),
    ]
    seen_any = False
    for folder, suffix, kind, caller, family, rank in sources:
        for path in _files(group / folder):
            if not path.name.endswith(suffix):
                continue
            tumour = path.name[: -len(suffix)]
            seen_any = True
            if tumour not in known:
                scan.skipped.append(
                    Skipped(
                        path, f"tumour {tumour!r} of group {group.name!r} is not in the samples map"
                    )
                )
                continue
            scan.candidates.append(Candidate(tumour, kind, caller, path, family, rank))
    for path in _files(group / "sage" / "germline") + _files(group / "purple"):
        if "germline" in path.name and path.name.endswith((".vcf.gz", ".tsv")):
            scan.skipped.append(Skipped(path, "germline calls, not tumour calls"))
    if not seen_any:
        scan.skipped.append(Skipped(group, "no SAGE, PURPLE, ESVEE or LINX output in this group"))


# -- choosing one file per sample and kind -----------------------------------------------------


def choose_files(
    mapped: dict[str, MappedSample], scan: Scan, prefer: list[str] | None = None
) -> list[SheetRow]:
    """One file per sample and kind; refuse two tools for one kind unless ``prefer`` decides."""
    prefer = list(prefer or [])
    unknown = [name for name in prefer if name not in CALLERS]
    if unknown:
        raise InputError(
            None,
            f"unknown --prefer-caller {', '.join(unknown)}",
            f"use one of {', '.join(CALLERS)}",
        )
    rows = []
    for sample_id, sample in sorted(
        mapped.items(), key=lambda kv: (kv[1].patient, kv[1].collection_date)
    ):
        row = SheetRow(sample)
        row.skipped = [s for s in scan.skipped if s.sample == sample_id]
        for kind in KINDS:
            found = [c for c in scan.candidates if c.sample == sample_id and c.kind == kind]
            if not found:
                continue
            chosen = _choose(sample_id, kind, found, prefer)
            row.files[kind] = chosen
            if kind == "vcf":
                # Strelka2 writes SNVs and indels to two files of one run: one draw, both read
                indels = [
                    c for c in scan.candidates
                    if c.sample == sample_id and c.kind == "vcf_indels"
                    and c.path.parent == chosen.path.parent
                ]  # fmt: skip
                if indels:
                    row.files["vcf_indels"] = indels[0]
            for other in found:
                if other is not chosen:
                    row.skipped.append(
                        Skipped(other.path, _why_not(other, chosen, prefer), sample_id)
                    )
        attached = row.files.get("vcf_indels")
        for other in scan.candidates:
            if other.sample == sample_id and other.kind == "vcf_indels" and other is not attached:
                row.skipped.append(
                    Skipped(other.path, "Strelka2 indels of calls that were not chosen", sample_id)
                )
        if not any(kind in row.files for kind in ("vcf", "cnv", "sv")):
            raise InputError(
                None,
                f"sample {sample_id!r} (samples map line {sample.row}) has no VCF, copy-number "
                "or SV file in the results folders",
                "check the sample id against the pipeline's folder and file names, or give the "
                "results folder that holds it",
            )
        rows.append(row)
    return rows


def _choose(sample: str, kind: str, found: list[Candidate], prefer: list[str]) -> Candidate:
    for name in prefer:
        preferred = sorted((c for c in found if c.caller == name), key=lambda c: c.rank)
        if preferred:
            return preferred[0]
    families = sorted({c.family for c in found})
    if len(families) > 1:
        listing = "; ".join(f"{c.caller}: {c.path}" for c in sorted(found, key=lambda c: c.caller))
        callers = sorted({c.caller for c in found})
        raise InputError(
            None,
            f"sample {sample!r} has {len(found)} candidate {kind} files from different tools "
            f"({listing})",
            f"choose one with --prefer-caller {callers[0]} (or {', '.join(callers[1:])})",
        )
    ordered = sorted(found, key=lambda c: (c.rank, str(c.path)))
    if len(ordered) > 1 and ordered[0].rank == ordered[1].rank:
        raise InputError(
            None,
            f"sample {sample!r} has two {kind} files of the same kind from {ordered[0].caller} "
            f"({ordered[0].path}; {ordered[1].path})",
            "give only one results folder that holds this sample",
        )
    return ordered[0]


def _why_not(other: Candidate, chosen: Candidate, prefer: list[str]) -> str:
    if chosen.caller in prefer and other.caller != chosen.caller:
        return f"--prefer-caller {chosen.caller} chose {chosen.path.name}"
    if other.caller == "linx":
        return (
            "LINX fusions name genes but give no breakend coordinates; the workflow places "
            "fusions by coordinates, so the purple.sv.vcf is used (--prefer-caller linx "
            "takes this file)"
        )
    return f"an earlier stage of the same calls is used ({chosen.path.name})"


# -- checking the chosen files and writing the sheet --------------------------------------------


def _vcf_samples(path: Path) -> list[str]:
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8", errors="replace") as handle:
        for line in handle:
            if line.startswith("#CHROM"):
                return line.rstrip("\r\n").split("\t")[9:]
            if not line.startswith("#"):
                break
    return []


def check_row(row: SheetRow, build: str) -> None:
    """Open every chosen file with its reader (build checked) and note what it says."""
    from ctdna_resistance.io.copy_number import read_copy_number
    from ctdna_resistance.io.coverage import detect_format
    from ctdna_resistance.io.fusion_table import read_fusion_table
    from ctdna_resistance.io.sv_vcf import read_sv_vcf
    from ctdna_resistance.io.vcf import open_vcf

    sample = row.mapped.sample
    if "vcf" in row.files:
        vcf = row.files["vcf"]
        row.vcf_sample = sample if sample in _vcf_samples(vcf.path) else ""
        with open_vcf(
            vcf.path,
            sample=row.vcf_sample or None,
            caller=_SHEET_CALLER.get(vcf.caller),
            expected_build=build,
        ) as reader:
            row.found.append(
                f"vcf  {vcf.caller} ({reader.dialect}, column {reader.sample}): {vcf.path}"
            )
        indels = row.files.get("vcf_indels")
        if indels is not None:
            with open_vcf(
                indels.path,
                sample=row.vcf_sample or None,
                caller=_SHEET_CALLER.get(indels.caller),
                expected_build=build,
            ) as reader:
                row.found.append(
                    f"vcf  {indels.caller} indels ({reader.dialect}, column {reader.sample}): "
                    f"{indels.path}"
                )
    if "cnv" in row.files:
        cnv = row.files["cnv"]
        result = read_copy_number(cnv.path, expected_build=build)
        purity = (
            f"; tumour fraction {result.tumor_fraction:g} from {result.tf_source}"
            if result.tumor_fraction is not None
            else "; no purity file beside it"
        )
        scale = "absolute CN" if result.absolute else "log2 ratio"
        row.found.append(
            f"cnv  {cnv.caller} ({result.fmt}, {len(result.segments)} segments, {scale}{purity}):"
            f" {cnv.path}"
        )
    if "sv" in row.files:
        sv = row.files["sv"]
        if sv.path.name.endswith((".vcf", ".vcf.gz")):
            row.sv_sample = sample if sample in _vcf_samples(sv.path) else ""
            result = read_sv_vcf(sv.path, sample=row.sv_sample or None, expected_build=build)
            row.found.append(f"sv   {sv.caller} ({len(result.events)} events): {sv.path}")
        else:
            events = read_fusion_table(sv.path)
            row.found.append(f"sv   {sv.caller} ({len(events)} fusions): {sv.path}")
    if "coverage" in row.files:
        coverage = row.files["coverage"]
        row.found.append(f"coverage {detect_format(coverage.path)}: {coverage.path}")


def build_sample_sheet(
    results: list[str | Path],
    samples_map: str | Path,
    out: str | Path,
    *,
    build: str = "GRCh38",
    prefer: list[str] | None = None,
) -> tuple[list[SheetRow], list[str]]:
    """Scan the results folders, choose each sample's files, check them, write the sheet.

    Returns the rows and the printout (what was found and skipped, per sample). Raises InputError
    on ambiguity, a sample with nothing found, or a file its reader refuses.
    """
    if build not in BUILDS:
        raise InputError(None, f"unknown genome build {build!r}", f"use one of {', '.join(BUILDS)}")
    mapped = read_samples_map(samples_map)
    scan = Scan()
    for folder in results:
        part = scan_results(folder, set(mapped))
        scan.candidates += part.candidates
        scan.skipped += part.skipped
        scan.pipelines += [f"{name} ({folder})" for name in part.pipelines]
    rows = choose_files(mapped, scan, prefer)
    for row in rows:
        check_row(row, build)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out, "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(
            handle, fieldnames=SHEET_COLUMNS, delimiter="\t", lineterminator="\n"
        )
        writer.writeheader()
        for row in rows:
            writer.writerow(row.values())
    # The workflow's own reader must accept what was written (IDs, dates, paths).
    from ctdna_resistance.samplesheet import read_sample_sheet

    read_sample_sheet(out)
    lines = [f"results: {', '.join(scan.pipelines)}"]
    for row in rows:
        m = row.mapped
        lines.append(f"{m.sample} (patient {m.patient}, {m.collection_date}):")
        lines += [f"  found    {text}" for text in row.found]
        lines += [f"  skipped  {s.path}: {s.reason}" for s in row.skipped]
    unowned = [s for s in scan.skipped if s.sample is None]
    if unowned:
        lines.append("not belonging to a mapped sample:")
        lines += [f"  skipped  {s.path}: {s.reason}" for s in unowned]
    lines.append(f"wrote {out} ({len(rows)} samples, build {build})")
    return rows, lines


# -- reading any one file ----------------------------------------------------------------------


@dataclass(frozen=True)
class FileSummary:
    """What `read_any` made of one file: its kind, the reader, the record count and the result."""

    path: str
    kind: str  # small_variant_vcf | sv_vcf | copy_number | purity | fusion_table | coverage
    reader: str
    n_records: int
    result: object


_SV_CALLERS = ("manta", "delly", "gridss", "svaba", "dragen")


def _header_text(path: Path) -> str:
    with open(path, "rb") as handle:
        magic = handle.read(2)
    opener = gzip.open if magic == b"\x1f\x8b" else open
    lines = []
    with opener(path, "rt", encoding="utf-8", errors="replace") as handle:
        for line in handle:
            if not line.startswith("#"):
                break
            lines.append(line.rstrip("\r\n"))
    return "\n".join(lines)


def read_any(path: str | Path) -> FileSummary:
    """Read any file this product knows (VCF, SV VCF, copy number, purity, fusion table, coverage).

    The kind is told by the name and the content; a file of no known kind is refused with a
    one-line InputError saying what the product reads.
    """
    import re

    from ctdna_resistance.io.copy_number import read_copy_number, read_purity
    from ctdna_resistance.io.coverage import detect_format, read_depths
    from ctdna_resistance.io.fusion_table import read_fusion_table
    from ctdna_resistance.io.sv_vcf import detect_sv_caller, read_sv_vcf
    from ctdna_resistance.io.vcf import open_vcf

    path = Path(path)
    if not path.is_file():
        raise InputError(path, "file not found", "check the path")
    name = path.name
    try:
        header = _header_text(path)
    except (OSError, EOFError) as error:
        raise InputError(path, f"cannot read the file ({error})", "give an intact file") from None
    if header.startswith("##fileformat=VCF") or name.endswith((".vcf", ".vcf.gz", ".bcf")):
        info_ids = set(re.findall(r"##INFO=<ID=([^,>]+)", header))
        format_ids = set(re.findall(r"##FORMAT=<ID=([^,>]+)", header))
        if detect_sv_caller(header, info_ids, format_ids) in _SV_CALLERS:
            result = read_sv_vcf(path)
            return FileSummary(str(path), "sv_vcf", result.caller, result.records_read, result)
        with open_vcf(path) as reader:
            records = list(reader)
            dialect = reader.dialect
        return FileSummary(str(path), "small_variant_vcf", dialect, len(records), records)
    if ".mosdepth." in name or name.endswith((".bed.gz", ".bed")):
        fmt = detect_format(path)  # refuses thresholds/summary/dist with what to give instead
        depths = read_depths(path, [("1", 1)])
        return FileSummary(str(path), "coverage", fmt, len(depths), depths)
    with open(path, encoding="utf-8", errors="replace") as handle:
        first = handle.readline().rstrip("\r\n")
    columns = {c.strip().strip('"') for c in re.split(r"[\t,]", first)}
    purity_markers = (
        {"Sample", "Tumor Fraction"},
        {"purity", "ploidy", "normFactor"},
        {"AberrantCellFraction", "Ploidy"},
        {"Sampleid", "Purity", "Ploidy"},
    )
    if any(marker <= columns for marker in purity_markers) or first.split(" ")[0] in (
        "NormalContamination",
        "rho",
        "psi",
    ):
        estimate = read_purity(path)
        return FileSummary(str(path), "purity", estimate.method, 1, estimate)
    fusion_markers = (
        {"#FusionName", "LeftGene"},
        {"#gene1", "gene2", "breakpoint1"},
        {"fivePrimeBreakendId", "geneStart"},
        {"gene_a", "gene_b", "chrom_a"},
    )
    if any(marker <= columns for marker in fusion_markers):
        events = read_fusion_table(path)
        return FileSummary(
            str(path), "fusion_table", events[0].caller if events else "", len(events), events
        )
    try:
        result = read_copy_number(path)
    except InputError as error:
        if "not a copy-number segment format" not in error.problem:
            raise
        raise InputError(
            path,
            f"not a file kind this product reads (first line: {first[:80]!r})",
            "give a VCF, an SV VCF, a copy-number file (CNVkit, GATK, ichorCNA, PURPLE, ASCAT, "
            "Control-FREEC, SEG), a purity file, a fusion table (STAR-Fusion, Arriba, LINX, "
            "generic) or mosdepth coverage",
        ) from None
    return FileSummary(str(path), "copy_number", result.fmt, len(result.segments), result)
