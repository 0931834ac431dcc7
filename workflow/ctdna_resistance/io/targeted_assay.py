"""The generic targeted-assay TSV (issue 17): ddPCR (any instrument), BEAMing, Stilla.

Tab-separated, a header line, one row per well (or per sample) and target; '#' lines are
comments. Columns:

    sample               the sample name (the sheet's `assay_sample`, else its `sample`)
    target               the mutant assay: "KRAS G12D", "KRAS p.G12D", "G12D" (with `gene`),
                         "KRAS G12/G13 screen"
    mutant_positives     positive partitions of the mutant channel    } partition counts
    wildtype_positives   positive partitions of the wild-type channel } (ddPCR, Stilla)
    accepted_partitions  partitions analysed                          }
    partition_volume_nl  optional, nL per partition (default: config targeted_assay)
    mutant_copies        mutant molecules (BEAMing beads, or copies)  } or copies
    wildtype_copies      wild-type molecules                          }
    gene, well, platform (ddpcr | beaming), role (sample | ntc | wildtype_control |
    positive_control): optional; a role left empty is read from the sample name (NTC, H2O,
    water, blank; WT, wild-type control).

A row gives partition counts or copies; both is refused, as the two could disagree.
A QuantaSoft/QX Manager CSV goes to io/quantasoft.py instead (read_assay_file chooses).
"""

from __future__ import annotations

import csv
from pathlib import Path

from ctdna_resistance.assay_records import PLATFORMS, ROLES, AssayRecord
from ctdna_resistance.errors import InputError
from ctdna_resistance.io.quantasoft import read_quantasoft, role_of_name

PARTITION_COLUMNS = ("mutant_positives", "wildtype_positives", "accepted_partitions")
COPY_COLUMNS = ("mutant_copies", "wildtype_copies")
OPTIONAL_COLUMNS = ("gene", "well", "platform", "role", "partition_volume_nl")


def read_assay_file(path, platform: str | None = None) -> list[AssayRecord]:
    """A targeted-assay file of either kind: a Bio-Rad CSV (first line has commas, no tabs) or
    the generic TSV."""
    path = Path(path)
    with open(path, "rb") as handle:
        first = b""
        for line in handle:
            if line.strip() and not line.startswith(b"#"):
                first = line
                break
    if b"\t" not in first and b"," in first:
        return read_quantasoft(path, platform or "ddpcr")
    return read_targeted_assay(path, platform)


def _value(text: str, column: str, path, number: int, *, whole: bool) -> float | int:
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not value >= 0 or (whole and value != int(value)):
        kind = "a whole number" if whole else "a number"
        raise InputError(
            path,
            f"{column} {text!r} is not {kind} >= 0",
            f"give {column} as {kind} (partitions or copies, not a percentage)",
            record=number,
        )
    return int(value) if whole else value


def read_targeted_assay(path, platform: str | None = None) -> list[AssayRecord]:
    """One AssayRecord per data row, in file order; InputError for a malformed row."""
    path = Path(path)
    with open(path, encoding="utf-8-sig", newline="") as handle:
        lines = [(n, line) for n, line in enumerate(handle, 1) if line.strip() and line[0] != "#"]
    if not lines:
        raise InputError(path, "the targeted-assay file is empty", "write a header line")
    header_no, header_line = lines[0]
    header = [h.strip() for h in header_line.rstrip("\r\n").split("\t")]
    missing = [c for c in ("sample", "target") if c not in header]
    has_partitions = all(c in header for c in PARTITION_COLUMNS)
    has_copies = all(c in header for c in COPY_COLUMNS)
    if not (has_partitions or has_copies):
        missing += [c for c in PARTITION_COLUMNS if c not in header]
    if missing:
        raise InputError(
            path,
            f"targeted-assay table lacks column(s) {', '.join(missing)} "
            f"(found: {', '.join(header)})",
            "write sample, target and either mutant_positives, wildtype_positives, "
            "accepted_partitions or mutant_copies, wildtype_copies (tab-separated)",
            record=header_no,
        )
    records = []
    for number, line in lines[1:]:
        values = [v.strip() for v in next(csv.reader([line.rstrip("\r\n")], delimiter="\t"))]
        if len(values) > len(header):
            raise InputError(
                path,
                f"{len(values)} fields but the header has {len(header)}",
                "check for stray tabs",
                record=number,
            )
        row = dict(zip(header, values + [""] * (len(header) - len(values)), strict=True))
        records.append(_record(path, number, row, platform))
    return records


def _record(path: Path, number: int, row: dict, platform: str | None) -> AssayRecord:
    if not row["sample"] or not row["target"]:
        raise InputError(path, "sample or target is empty", "fill both", record=number)
    partitions = any(row.get(c, "") != "" for c in PARTITION_COLUMNS)
    copies = any(row.get(c, "") != "" for c in COPY_COLUMNS)
    if partitions == copies:
        raise InputError(
            path,
            "the row gives " + ("both partition counts and copies" if copies else "no counts"),
            "give either mutant_positives, wildtype_positives, accepted_partitions or "
            "mutant_copies, wildtype_copies",
            record=number,
        )
    counts: dict = {}
    wanted = PARTITION_COLUMNS if partitions else COPY_COLUMNS
    for column in wanted:
        counts[column] = _value(row.get(column, ""), column, path, number, whole=partitions)
    if (
        partitions
        and max(counts["mutant_positives"], counts["wildtype_positives"])
        > (counts["accepted_partitions"])
    ):
        raise InputError(
            path,
            "more positive partitions than accepted_partitions",
            "check the columns: accepted_partitions counts every partition analysed",
            record=number,
        )
    volume = row.get("partition_volume_nl", "")
    chosen = (row.get("platform") or platform or "ddpcr").lower()
    if chosen not in PLATFORMS:
        raise InputError(
            path,
            f"platform {chosen!r} is not one of {', '.join(PLATFORMS)}",
            "write ddpcr (any droplet or chip digital PCR, Stilla included) or beaming",
            record=number,
        )
    role = (row.get("role") or role_of_name(row["sample"])).lower()
    if role not in ROLES:
        raise InputError(
            path, f"role {role!r} is not one of {', '.join(ROLES)}", "fix the role", record=number
        )
    return AssayRecord(
        source=str(path),
        record_no=number,
        sample=row["sample"],
        target=row["target"],
        well=row.get("well", ""),
        platform=chosen,
        dialect="generic",
        role=role,
        gene=row.get("gene", ""),
        partition_volume_nl=(
            _value(volume, "partition_volume_nl", path, number, whole=False) if volume else None
        ),
        **counts,
    )
