"""What re-runs a patient's job: a digest of its sheet rows and of its draw files (issue 19).

Snakemake plans one job per patient. When every file of every draw (VCF, copy-number, SV, BAM,
assay; ~20 per patient) was an input of that job, Snakemake asked of each one whether a rule makes
it and looked at it again at each step: half of the time to plan 10,000 patients went there
(README benchmark). No rule makes them (they are the sample sheet's), so the patient job lists as
inputs only what the workflow makes (the prepared panel, the settings, the background table), and
its params hold this digest instead. It covers:

- the patient's sample-sheet rows (not their line numbers: rows added above must not re-run other
  patients) and treatment rows;
- each file those rows name: its path (as the job opens it), size and modification time (ns).

A new or edited row, or a draw file rewritten, replaced or touched, changes the digest; Snakemake
re-runs a job whose params changed (its `params` re-run trigger, on by default), as it re-ran one
whose input was newer than its outputs. The digest is 64 characters, so Snakemake's record of each
output (.snakemake/metadata) stays small: the rows themselves cost ~11 kB per output file, and the
cohort job's record held every patient's (38 MB per output at 10,000 patients).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable

from ctdna_resistance.errors import InputError
from ctdna_resistance.samplesheet import Sample, Stamps, Treatment

_SAMPLE_FIELDS = tuple(f for f in Sample.__dataclass_fields__ if f != "row")
_TREATMENT_FIELDS = tuple(Treatment.__dataclass_fields__)


def file_stamp(path: str, known: Stamps, sample: Sample, role: str) -> tuple[int, int]:
    """The (size, modification time in ns) of the sample's ``role`` file: from ``known``, else
    looked up now (a job's Snakemake on a node, which did not check the sheet's files)."""
    stamp = known.get(path)
    if stamp is not None:
        return stamp
    try:
        found = os.stat(path)
    except OSError as error:
        raise InputError(
            path,
            f"sample {sample.sample!r} (sample sheet line {sample.row}) names this {role} file, "
            f"but it cannot be read ({error.strerror})",
            "restore the file or fix its path in the sample sheet",
        ) from None
    return found.st_size, found.st_mtime_ns


def rows_text(samples: Iterable[Sample], treatments: Iterable[Treatment]) -> str:
    """The patient's sample-sheet and treatment rows as text, one line each.

    JSON of the fields' values in declaration order (paths and dates as text), without the
    sheet's line number: cheap to write for 60,000 rows, and no two different rows give the
    same text.
    """
    lines = [json.dumps([getattr(s, f) for f in _SAMPLE_FIELDS], default=str) for s in samples]
    lines += [
        json.dumps([getattr(t, f) for f in _TREATMENT_FIELDS], default=str) for t in treatments
    ]
    return "\n".join(lines)


def patient_fingerprint(rows: str, samples: Iterable[Sample], known: Stamps) -> str:
    """The SHA-256 (hex) of the patient's rows (rows_text) and of the stamps of its files."""
    files: dict[str, tuple[Sample, str]] = {}  # each file once (a normal serves every draw)
    for sample in samples:
        for role, path in sample.inputs().items():
            files.setdefault(str(path), (sample, role))
    lines = [rows]
    for path in sorted(files):
        size, mtime_ns = file_stamp(path, known, *files[path])
        lines.append(f"{path}\t{size}\t{mtime_ns}")
    return hashlib.sha256("\n".join(lines).encode("utf-8")).hexdigest()


def cohort_fingerprint(patient_rows: Iterable[str]) -> str:
    """The SHA-256 (hex) of every patient's rows (rows_text), in the order given.

    Not of their files: the cohort job's Snakemake on a cluster node would look up every file of
    the sheet (240,000 at 60,000 rows) to compute it. A patient whose file changed re-runs, and
    its newer reports re-run the cohort job.
    """
    return hashlib.sha256("\n\0".join(patient_rows).encode("utf-8")).hexdigest()
