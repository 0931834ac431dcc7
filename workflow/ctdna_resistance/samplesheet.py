"""Sample sheet (SPEC 3.2) and treatment timeline (SPEC 3.3): read, validate, resolve paths."""

from __future__ import annotations

import csv
import datetime as dt
import functools
import io
import itertools
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path

from ctdna_resistance.errors import InputError
from ctdna_resistance.schemas import is_valid, schema_errors, validate

PATH_COLUMNS = ("vcf", "cnv", "sv", "bam", "coverage", "normal_vcf", "assay")
SAMPLE_COLUMNS = (
    "patient",
    "sample",
    "collection_date",
    "vcf_sample",
    "caller",
    "tumor_fraction",
    "timepoint",
    "assay_sample",
    *PATH_COLUMNS,
)
TREATMENT_COLUMNS = ("patient", "agent", "start_date", "end_date", "line")
DEFAULT_ANTI_EGFR = ("cetuximab", "panitumumab")

# A file's (size, modification time in ns) as os.stat gives them, by its path as a Sample holds
# it: kept when the sheet's files are checked, for each patient's fingerprint
# (rerun_fingerprint.py), so that planning looks at each file once.
Stamps = dict[str, tuple[int, int]]


@dataclass(frozen=True)
class Sample:
    patient: str
    sample: str
    collection_date: dt.date
    timepoint: str
    vcf: Path | None = None
    vcf_sample: str | None = None
    caller: str | None = None
    cnv_sample: str | None = None  # sample ID inside a multi-sample copy-number file
    sv_sample: str | None = None  # sample column of a multi-sample SV VCF
    normal_vcf: Path | None = None
    cnv: Path | None = None
    sv: Path | None = None
    bam: Path | None = None
    coverage: Path | None = None
    tumor_fraction: float | None = None
    assay: Path | None = None  # a targeted-assay result (ddPCR/BEAMing export, issue 17)
    assay_sample: str | None = None  # the sample's name inside that export
    row: int = 0  # line number in the sample sheet, for messages
    # further small-variant files of the draw, read with `vcf` as one draw: the vcf column lists
    # them separated by ';' (Strelka2's SNV and indel VCFs, per-interval shards; issue 18)
    vcf_more: tuple[Path, ...] = ()

    @property
    def vcfs(self) -> tuple[Path, ...]:
        """Every small-variant file of the draw, in the sheet's order."""
        return () if self.vcf is None else (self.vcf, *self.vcf_more)

    def inputs(self) -> dict[str, Path]:
        """Input files by role, for provenance and for the patient job's fingerprint."""
        found = {}
        for role in PATH_COLUMNS:
            value = getattr(self, role)
            if value is not None:
                found[role] = value
        for number, more in enumerate(self.vcf_more, 2):
            found[f"vcf_{number}"] = more
        return found


@dataclass(frozen=True)
class Treatment:
    patient: str
    agent: str
    start_date: dt.date
    end_date: dt.date | None
    line: str = ""

    def is_anti_egfr(self, agents=DEFAULT_ANTI_EGFR) -> bool:
        names = {a.lower() for a in agents}
        return any(
            part.strip().lower() in names for part in self.agent.replace("+", ",").split(",")
        )


@dataclass
class Cohort:
    samples: list[Sample]
    treatments: list[Treatment] = field(default_factory=list)
    # timeline rows of patients absent from the sheet, by patient (skipped, not refused)
    treatments_skipped: dict[str, int] = field(default_factory=dict)
    # what the check of the sheet's files found (Stamps; empty with check_files=False)
    stamps: Stamps = field(default_factory=dict)

    @property
    def patients(self) -> list[str]:
        return sorted({s.patient for s in self.samples})

    def samples_of(self, patient: str) -> list[Sample]:
        return [s for s in self.samples if s.patient == patient]

    def sample(self, sample_id: str) -> Sample:
        for s in self.samples:
            if s.sample == sample_id:
                return s
        raise KeyError(sample_id)

    def treatments_of(self, patient: str) -> list[Treatment]:
        return [t for t in self.treatments if t.patient == patient]


def _read_tsv(
    path: Path, required: tuple[str, ...], what: str, containing: str | None = None
) -> list[tuple[int, dict]]:
    """The header-checked rows of a TSV; with ``containing``, only data lines holding that text.

    One patient's job passes its patient ID: the other rows were validated before any job
    started, and splitting every line of a 3,000-row sheet in each of 500 jobs adds up (issue 6).
    """
    if not path.is_file():
        raise InputError(path, f"{what} not found", f"check the path given for the {what}")
    with open(path, "rb") as handle:
        data = handle.read()
    lines = _fast_lines(data, containing)
    if lines is None:
        lines = _checked_lines(path, data)
    if not lines:
        raise InputError(
            path, f"{what} is empty", f"write a header line with {', '.join(required)}"
        )
    header = next(csv.reader([lines[0][1]], delimiter="\t", quoting=csv.QUOTE_NONE))
    header = [h.strip() for h in header]
    twice = sorted({h for h in header if header.count(h) > 1})
    if twice:
        raise InputError(
            path,
            f"column(s) {', '.join(twice)} appear more than once in the header",
            "keep one column of each name",
            record=lines[0][0],
        )
    missing = [c for c in required if c not in header]
    if missing:
        raise InputError(
            path,
            f"{what} lacks column(s) {', '.join(missing)} (found: {', '.join(header)})",
            "the file must be tab-separated with a header line",
            record=lines[0][0],
        )
    rows = []
    for number, line in lines[1:]:
        if containing is not None and containing not in line:
            continue
        values = next(csv.reader([line.rstrip("\r\n")], delimiter="\t", quoting=csv.QUOTE_NONE))
        if len(values) > len(header):
            raise InputError(
                path,
                f"{len(values)} fields but the header has {len(header)}",
                "check for stray tabs",
                record=number,
            )
        values += [""] * (len(header) - len(values))
        rows.append((number, {h: v.strip() for h, v in zip(header, values, strict=True)}))
    return rows


def _counts(line: str) -> bool:
    """A line that is read: not blank, not a ``#`` comment."""
    return bool(line.strip()) and not line.startswith("#")


def _fast_lines(data: bytes, containing: str | None) -> list[tuple[int, str]] | None:
    """The numbered header and data lines of a text without carriage returns, or None.

    Blank and ``#`` lines are left out. With ``containing``, only the first line (the header)
    and the lines holding that text are found (bytes.find) and decoded: each of thousands of
    patient jobs reads its own rows of a sheet of 60,000 lines, whose other rows were checked
    before any job started (issue 19). A text with a carriage return, or whose wanted lines are
    not UTF-8, gets None: _checked_lines reads it line by line and words what is wrong; so does a
    blank ``containing`` (no patient ID is). The lines come without their line break (_read_tsv
    strips it either way).
    """
    if b"\r" in data or (containing is not None and not containing.strip()):
        return None
    try:
        if containing is None:
            text = data.decode("utf-8-sig")  # a spreadsheet's byte-order mark is no column name
            numbered = enumerate(text.split("\n"), 1)
            return [(n, line) for n, line in numbered if _counts(line)]
        return _lines_holding(data, containing.encode("utf-8"))
    except UnicodeDecodeError:
        return None


def _lines_holding(data: bytes, needle: bytes) -> list[tuple[int, str]]:
    """The header (first non-blank, non-# line) and the lines holding ``needle``, numbered."""
    lines: list[tuple[int, str]] = []
    start, number = 0, 1
    while start < len(data) and not lines:  # the header
        end = data.find(b"\n", start)
        end = len(data) if end < 0 else end
        line = data[start:end].decode("utf-8-sig" if start == 0 else "utf-8")
        if _counts(line):
            lines.append((number, line))
        start, number = end + 1, number + 1
    found = data.find(needle, start) if needle else -1
    while found >= 0:
        begin = data.rfind(b"\n", 0, found) + 1
        end = data.find(b"\n", found)
        end = len(data) if end < 0 else end
        number += data.count(b"\n", start, begin)
        line = data[begin:end].decode("utf-8")
        if not line.startswith("#"):
            lines.append((number, line))
        start = begin
        found = data.find(needle, end)
    return lines


def _checked_lines(path: Path, data: bytes) -> list[tuple[int, str]]:
    """The numbered non-blank, non-``#`` lines of a text, each checked: UTF-8, no stray CR."""
    lines = []
    # split at LF only, as reading the file line by line does: CR-only breaks stay in one line
    for number, raw in enumerate(io.BytesIO(data), 1):
        try:
            line = raw.decode("utf-8-sig" if number == 1 else "utf-8")
        except UnicodeDecodeError as error:
            raise InputError(
                path,
                f"byte 0x{raw[error.start]:02x} at column {error.start + 1} is not UTF-8 text",
                "save the file as UTF-8 (IDs and paths are plain ASCII anyway)",
                record=number,
            ) from None
        if "\r" in line.rstrip("\r\n"):
            # csv refuses a carriage return inside a line with its own csv.Error; a file saved
            # with old Mac (CR-only) line breaks is one such "line" from end to end.
            raise InputError(
                path,
                "a carriage return (\\r) inside the line: CR-only line breaks or a stray CR",
                "save the file with LF (or CRLF) line endings",
                record=number,
            )
        if _counts(line):
            lines.append((number, line))
    return lines


def _date(value: str, path: Path, row: int, column: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise InputError(
            path, f"{column} {value!r} is not an ISO date", "write dates as YYYY-MM-DD", record=row
        ) from None


def _input_path(
    value: str,
    sheet: Path,
    row: int,
    column: str,
    check: bool = True,
    stamps: Stamps | None = None,
) -> Path | None:
    """The file's resolved path, checked to be a regular file; its (size, mtime ns) into stamps."""
    if not value:
        return None
    # one stat of a string and one Path per file: planning checks every file of a 60,000-row
    # sheet (issue 19), and Path arithmetic cost more than the stat
    full = value if os.path.isabs(value) else os.path.join(_folder(sheet), value)
    if not check:
        return Path(full)
    try:
        found = os.stat(full)
    except OSError:
        raise InputError(
            sheet,
            f"{column} file {value!r} does not exist (looked for {Path(full)})",
            "fix the path; relative paths are relative to the sample sheet's folder",
            record=row,
        ) from None
    # A directory, FIFO or device (/dev/zero) is no input file, and reading one could hang.
    if not stat.S_ISREG(found.st_mode):
        raise InputError(
            sheet,
            f"{column} {value!r} is not a regular file (looked at {Path(full)})",
            f"give the path of the {column} file itself",
            record=row,
        )
    resolved = Path(full)
    if stamps is not None:  # keyed as the Sample's path prints (Path drops '//' and '/./')
        stamps[str(resolved)] = (found.st_size, found.st_mtime_ns)
    return resolved


@functools.lru_cache(maxsize=8)
def _folder(sheet: Path) -> str:
    return str(sheet.parent)


def _vcf_paths(
    value: str,
    sheet: Path,
    row: int,
    check: bool = True,
    stamps: Stamps | None = None,
) -> list[Path]:
    """The vcf column's files: one, or several separated by ';' that are read as one draw."""
    parts = [part.strip() for part in value.split(";")] if value.strip() else []
    if any(not part for part in parts):
        raise InputError(
            sheet,
            f"vcf {value!r} has an empty file name between ';'",
            "list files as a.vcf.gz;b.vcf.gz",
            record=row,
        )
    paths = [_input_path(part, sheet, row, "vcf", check, stamps) for part in parts]
    repeated = sorted({str(p) for p in paths if paths.count(p) > 1})
    if repeated:
        raise InputError(
            sheet, f"vcf lists {repeated[0]} twice", "list each small-variant file once", record=row
        )
    return paths


# What to do about a schema violation, by the sample-sheet column it is in.
_SAMPLE_FIXES = {
    "patient": "IDs are letters, digits, '.', '_' or '-', start with a letter or digit, max 64",
    "sample": "IDs are letters, digits, '.', '_' or '-', start with a letter or digit, max 64",
    "collection_date": "write dates as YYYY-MM-DD",
    "caller": "leave caller empty to detect it, or name one of the listed dialects",
    "tumor_fraction": "give tumor_fraction as a number from 0 to 1 (e.g. 0.12), or leave it empty",
}


def _validate_row(row: dict, path: Path, number: int) -> None:
    if is_valid(row, "samples"):
        return
    errors = schema_errors(row, "samples")
    if errors:
        column = errors[0].split(":", 1)[0]
        fix = _SAMPLE_FIXES.get(column, "see config/README.md for the sample sheet columns")
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise InputError(path, f"{errors[0]}{more}", fix, record=number)


def read_sample_sheet(
    path,
    patient: str | None = None,
    check_files: bool = True,
    stamps: Stamps | None = None,
) -> list[Sample]:
    """Validate a sample sheet and return its samples sorted by patient and collection date.

    ``check_files=False`` leaves out the check that each named file exists and is a regular file
    (see read_cohort). ``stamps`` gets the (size, mtime ns) of each file checked, by its path.
    """
    path = Path(path)
    rows = _read_tsv(path, ("patient", "sample", "collection_date"), "sample sheet", patient)
    if patient is not None:
        # One patient's job: the whole sheet was validated before any job started, and checking
        # every row again in each of hundreds of jobs would make the cohort quadratic.
        rows = [(number, row) for number, row in rows if row.get("patient") == patient]
    drawn: list[tuple[tuple[str, dt.date], dict]] = []  # (patient, date), the Sample's fields
    seen_sample: dict[str, int] = {}
    seen_date: dict[tuple[str, dt.date], int] = {}
    for number, row in rows:
        present = {k: v for k, v in row.items() if v != "" or k in ("patient", "sample")}
        _validate_row(present, path, number)
        sample_id, patient = row["sample"], row["patient"]
        if sample_id in seen_sample:
            raise InputError(
                path,
                f"sample {sample_id!r} appears twice (also on line {seen_sample[sample_id]})",
                "give every plasma sample a unique ID",
                record=number,
            )
        seen_sample[sample_id] = number
        date = _date(row["collection_date"], path, number, "collection_date")
        if (patient, date) in seen_date:
            raise InputError(
                path,
                f"patient {patient!r} has two samples on {date} (also line "
                f"{seen_date[(patient, date)]})",
                "keep one sample per patient and date, or correct the date",
                record=number,
            )
        seen_date[(patient, date)] = number
        vcfs = _vcf_paths(row.get("vcf", ""), path, number, check_files, stamps)
        files = {
            c: _input_path(row.get(c, ""), path, number, c, check_files, stamps)
            for c in PATH_COLUMNS
            if c != "vcf"
        }
        files["vcf"] = vcfs[0] if vcfs else None
        # a draw may bring only its BAM: the patient's known alleles and clone markers are
        # counted in it (tumour-informed tracking and the pooled ctDNA level, issue 20); or only
        # a targeted assay (ddPCR/BEAMing between sequencing draws, issue 17)
        if not any(files[c] for c in ("vcf", "cnv", "sv", "bam", "assay")):
            raise InputError(
                path,
                f"sample {sample_id!r} has none of vcf, cnv, sv, bam, assay",
                "give at least one input file per row",
                record=number,
            )
        tf = row.get("tumor_fraction", "")
        fields = dict(
            patient=patient,
            sample=sample_id,
            collection_date=date,
            timepoint=row.get("timepoint", ""),
            vcf_sample=row.get("vcf_sample") or None,
            cnv_sample=row.get("cnv_sample") or None,
            sv_sample=row.get("sv_sample") or None,
            assay_sample=row.get("assay_sample") or None,
            caller=row.get("caller") or None,
            tumor_fraction=float(tf) if tf else None,
            row=number,
            vcf_more=tuple(vcfs[1:]),
            **files,
        )
        drawn.append(((patient, date), fields))
    if not drawn and patient is not None:
        raise InputError(path, f"no samples of patient {patient!r}", "check the patient ID")
    if not drawn:
        raise InputError(path, "sample sheet has no samples", "add one row per plasma sample")
    # sorted by patient and date (unique, checked above); each Sample made once its timepoint
    # label is known, in one pass (a scan per patient made 60,000 rows take minutes)
    drawn.sort(key=lambda item: item[0])
    samples = []
    for _, mine in itertools.groupby(drawn, key=lambda item: item[0][0]):
        for index, (_, fields) in enumerate(mine):
            fields["timepoint"] = fields["timepoint"] or f"T{index}"
            samples.append(Sample(**fields))
    return samples


def read_treatments(
    path, patients: set[str] | None = None, patient: str | None = None
) -> list[Treatment]:
    """Validate a treatment timeline: rows of patients not in ``patients`` are skipped, a name
    that looks like a misspelt sheet patient is refused (see `read_treatment_timeline`)."""
    return read_treatment_timeline(path, patients, patient)[0]


def read_treatment_timeline(
    path, patients: set[str] | None = None, patient: str | None = None
) -> tuple[list[Treatment], dict[str, int]]:
    """The timeline's treatments of the sheet's patients, and the rows skipped, by patient.

    A lab keeps one timeline for all its patients, so rows of a patient absent from the sheet
    are skipped (and counted); a name that differs from a sheet patient only by case, separators
    or a letter or two (`near_patient`) is a typo, refused with "did you mean".
    """
    path = Path(path)
    skipped: dict[str, int] = {}
    rows = _read_tsv(path, ("patient", "agent", "start_date"), "treatment timeline", patient)
    if patient is not None:
        rows = [(number, row) for number, row in rows if row.get("patient") == patient]
    treatments = []
    for number, row in rows:
        present = {k: v for k, v in row.items() if k in TREATMENT_COLUMNS}
        validate(present, "treatments", path, record=number, fix="see config/README.md")
        start = _date(row["start_date"], path, number, "start_date")
        end = _date(row["end_date"], path, number, "end_date") if row.get("end_date") else None
        if end is not None and end < start:
            raise InputError(
                path,
                f"end_date {end} is before start_date {start}",
                "correct the dates",
                record=number,
            )
        if patients is not None and row["patient"] not in patients:
            near = near_patient(row["patient"], patients)
            if near is not None:
                raise InputError(
                    path,
                    f"patient {row['patient']!r} is not in the sample sheet; did you mean "
                    f"{near!r}?",
                    "correct the patient ID (rows of patients absent from the sheet are skipped)",
                    record=number,
                )
            skipped[row["patient"]] = skipped.get(row["patient"], 0) + 1
            continue
        treatments.append(Treatment(row["patient"], row["agent"], start, end, row.get("line", "")))
    treatments.sort(key=lambda t: (t.patient, t.start_date, t.agent))
    return treatments, dict(sorted(skipped.items()))


def near_patient(name: str, patients: set[str]) -> str | None:
    """The sheet patient that ``name`` looks like a misspelling of, or None.

    Near: the same once case and separators (-, _, .) are ignored ('p-001' for 'P001'), or one
    letter apart (two for names of six or more) with the same numbers ('PT001' for 'PTT001',
    'P0001' for 'P001', 'PAT01' for 'PTA01'). Names with other numbers are other patients: a
    lab's timeline holds P001-P200 while the sheet has P001-P010, and P011 is no typo of P001.
    """
    folded = _folded(name)
    candidates = []
    for patient in sorted(patients):
        other = _folded(patient)
        if other == folded:
            return patient
        same_digits = _numbers(folded) == _numbers(other)
        if same_digits and _edit_distance(folded, other) <= (1 if len(other) < 6 else 2):
            candidates.append(patient)
    return candidates[0] if candidates else None


def _numbers(name: str) -> tuple[int, ...]:
    """The numbers in a name, as numbers ('P0001' and 'P001' both hold 1)."""
    return tuple(int(group) for group in re.findall(r"\d+", name))


def _folded(name: str) -> str:
    return re.sub(r"[-_.]", "", name).lower()


def _edit_distance(a: str, b: str) -> int:
    """Optimal string alignment distance: insertions, deletions, substitutions, adjacent swaps."""
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, char_a in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, char_b in enumerate(b, 1):
            cost = 0 if char_a == char_b else 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and char_a == b[j - 2] and a[i - 2] == char_b:
                current[j] = min(current[j], previous2[j - 2] + 1)
        previous2, previous = previous, current
    return previous[len(b)]


def read_cohort(
    samples_path, treatments_path=None, patient: str | None = None, check_files: bool = True
) -> Cohort:
    """The validated sample sheet and treatments; with ``patient``, only that patient's rows.

    ``check_files=False``: the rows are validated, but the files they name are not looked at.
    For a Snakemake job on a cluster node: the submitting run checked them all, and 240,000
    stat calls of a 60,000-row sheet in each of hundreds of group jobs would load a shared
    filesystem's metadata server for nothing (each patient's fingerprint looks at its own files:
    rerun_fingerprint.py). With the check, ``stamps`` keeps what it found of each file.
    """
    stamps: Stamps = {}
    samples = read_sample_sheet(samples_path, patient, check_files, stamps)
    treatments, skipped = [], {}
    if treatments_path:
        known = {s.patient for s in samples}
        treatments, skipped = read_treatment_timeline(treatments_path, known, patient)
    return Cohort(samples, treatments, skipped, stamps)


_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


def read_normals_sheet(path) -> list[tuple[str, Path]]:
    """The normal-plasma sheet of a background (issue 20): (sample, bam) rows, sample-sorted.

    Columns `sample` and `bam` (relative paths relative to the sheet); at least two normals, since
    one normal cannot tell a site's error from its own variants or its over-dispersion."""
    path = Path(path)
    rows = _read_tsv(path, ("sample", "bam"), "normals sheet")
    normals: dict[str, Path] = {}
    for number, row in rows:
        name = row["sample"]
        if not _ID.fullmatch(name):
            raise InputError(
                path, f"sample {name!r} is not a valid ID", _SAMPLE_FIXES["sample"], record=number
            )
        if name in normals:
            raise InputError(
                path, f"normal {name!r} is listed twice", "keep one row per normal", record=number
            )
        bam = _input_path(row["bam"], path, number, "bam")
        if bam is None:
            raise InputError(
                path, f"normal {name!r} has no bam", "give its BAM/CRAM", record=number
            )
        normals[name] = bam
    if len(normals) < 2:
        raise InputError(
            path,
            f"{len(normals)} normal(s): a background needs at least 2 normal plasmas",
            "list two or more healthy-donor plasma BAMs (ten or more is better)",
        )
    return sorted(normals.items())
