"""ichorCNA segments (`.seg`, `.seg.txt`), bins (`.cna.seg`) and `params.txt` (tumour fraction).

Columns as ichorCNA writes them (checked on the real MBC_315 run in shared/data/cnv-sv/ichorcna):
- `<id>.seg` (IGV style): sample chr start end event copy.number bins median; `median` is the
  segment's median log2 ratio, `copy.number` the integer tumour copy number;
- `<id>.seg.txt`: ID chrom start end num.mark seg.median.logR copy.number call subclone.status
  logR_Copy_Number Corrected_Copy_Number Corrected_Call;
- `<id>.cna.seg` (one row per bin): chr start end then, per sample, `<id>.copy.number`,
  `<id>.event`, `<id>.logR`, `<id>.subclone.status`, `<id>.Corrected_Copy_Number`,
  `<id>.Corrected_Call`, `<id>.logR_Copy_Number`; bins ichorCNA filtered out have logR NA.
Coordinates are 1-based inclusive (bins start at 1000001). The log2 ratios are centred on the
sample's own average ploidy (ichorCNA's logR_Copy_Number uses the estimated ploidy), which matters
when the ploidy is far from 2.

`params.txt` starts with a `Sample / Tumor Fraction / Ploidy` table and then repeats them as
`Tumor Fraction:<TAB>value` lines; the key lines are read (the solutions table further down rounds
n_est, so 1 - n_est is not the reported tumour fraction).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from ctdna_resistance.errors import InputError
from ctdna_resistance.io.segment_table import (
    CopyNumberInput,
    Table,
    check_contig,
    choose_sample,
    finish_segments,
    make_segment,
    parse_float,
    parse_int,
)

TF_SOURCE = "ichorCNA params.txt"
_SEGMENT_SUFFIXES = (".cna.seg", ".seg.txt", ".seg")
_MISSING = ("NA", "NaN", "nan", "")


def read_ichorcna_seg(
    table: Table, *, sample: str | None = None, expected_build: str | None = None
) -> CopyNumberInput:
    """One sample's segments (or bins, from .cna.seg) of an ichorCNA table already read."""
    bin_level = table.column("seg.median.logR", "median", required=False) is None
    if bin_level:
        return _read_bins(table, sample=sample, expected_build=expected_build)
    sample_i = table.column("sample", "ID")
    chrom_i = table.column("chr", "chrom")
    start_i = table.column("start")
    end_i = table.column("end")
    value_i = table.column("seg.median.logR", "median")
    bins_i = table.column("num.mark", "bins", required=False)
    cn_i = table.column("copy.number", required=False)
    chosen = choose_sample(
        table, [f[sample_i] for _, f in table.rows], sample, id_column=table.header[sample_i]
    )
    segments = []
    for line_no, fields in table.rows:
        if fields[sample_i] != chosen:
            continue
        segments.append(
            make_segment(
                table,
                line_no,
                chrom=check_contig(table, line_no, fields[chrom_i]),
                start=parse_int(table, line_no, fields[start_i], "start"),
                end=parse_int(table, line_no, fields[end_i], "end"),
                log2=parse_float(table, line_no, fields[value_i], table.header[value_i]),
                n_bins=None
                if bins_i is None
                else parse_int(table, line_no, fields[bins_i], "bins"),
                copy_number=(
                    None
                    if cn_i is None or fields[cn_i] in _MISSING
                    else parse_float(table, line_no, fields[cn_i], "copy.number")
                ),
            )
        )
    ordered = finish_segments(table, segments, expected_build=expected_build)
    return CopyNumberInput(path=table.path, fmt="ichorcna_seg", sample=chosen, segments=ordered)


def _read_bins(table: Table, *, sample: str | None, expected_build: str | None) -> CopyNumberInput:
    """The bins of one sample of a `.cna.seg` (per-sample `<id>.logR` columns)."""
    prefixes = [h[: -len(".logR")] for h in table.header if h.endswith(".logR")]
    if not prefixes and "logR" in table.header:
        prefixes = [""]
    if not prefixes:
        table.column("logR", what="<sample>.logR")  # raises: no log-ratio column
    chosen = choose_sample(table, prefixes, sample, id_column="<sample>.logR")
    prefix = f"{chosen}." if chosen else ""
    chrom_i = table.column("chr", "chrom")
    start_i = table.column("start")
    end_i = table.column("end")
    value_i = table.column(f"{prefix}logR")
    cn_i = table.column(f"{prefix}copy.number", required=False)
    segments = []
    for line_no, fields in table.rows:
        if fields[value_i] in _MISSING:
            continue  # a bin ichorCNA filtered out (mappability, GC, centromere)
        segments.append(
            make_segment(
                table,
                line_no,
                chrom=check_contig(table, line_no, fields[chrom_i]),
                start=parse_int(table, line_no, fields[start_i], "start"),
                end=parse_int(table, line_no, fields[end_i], "end"),
                log2=parse_float(table, line_no, fields[value_i], table.header[value_i]),
                n_bins=1,
                copy_number=(
                    None
                    if cn_i is None or fields[cn_i] in _MISSING
                    else parse_float(table, line_no, fields[cn_i], table.header[cn_i])
                ),
            )
        )
    ordered = finish_segments(table, segments, expected_build=expected_build, bins=True)
    return CopyNumberInput(
        path=table.path, fmt="ichorcna_seg", sample=chosen or None, segments=ordered
    )


def sibling_params(segment_path: str) -> Path | None:
    """`<id>.params.txt` next to `<id>.seg`/`.seg.txt`/`.cna.seg`, if it exists."""
    path = Path(segment_path)
    for suffix in _SEGMENT_SUFFIXES:
        if path.name.endswith(suffix):
            candidate = path.with_name(path.name[: -len(suffix)] + ".params.txt")
            return candidate if candidate.is_file() else None
    return None


def read_params(path: str | Path) -> tuple[str | None, float, float | None]:
    """(sample, tumour fraction, ploidy) from an ichorCNA params.txt."""
    path = Path(path)
    if not path.is_file():
        raise InputError(path, "ichorCNA params.txt not found", "check the params path")
    values: dict[str, tuple[int, str]] = {}
    first_sample = None
    with open(path, encoding="utf-8", errors="replace") as handle:
        lines = [line.rstrip("\r\n") for line in handle]
    for line_no, line in enumerate(lines, start=1):
        if ":" in line:
            key, _, value = line.partition(":")
            values.setdefault(key.strip().lower(), (line_no, value.strip()))
    if len(lines) >= 2 and lines[0].split("\t")[0] == "Sample":
        first_sample = lines[1].split("\t")[0] or None
    if "tumor fraction" not in values:
        raise InputError(
            path,
            "no 'Tumor Fraction:' line: not an ichorCNA params.txt",
            "give the <id>.params.txt ichorCNA wrote next to the segments",
        )

    def number(key: str, low: float, high: float) -> float:
        line_no, text = values[key]
        try:
            value = float(text)
        except ValueError:
            value = float("nan")
        if not low <= value <= high:
            raise InputError(
                path,
                f"{key} is {text!r}, not a number from {low} to {high}",
                "give the params.txt of a finished ichorCNA run",
                record=line_no,
            )
        return value

    tumor_fraction = number("tumor fraction", 0.0, 1.0)
    ploidy = number("ploidy", 0.0, 20.0) if "ploidy" in values else None
    return first_sample, tumor_fraction, ploidy


def with_params(result: CopyNumberInput, params: str | Path) -> CopyNumberInput:
    """`result` with tumour fraction and ploidy from params.txt; refuse another sample's file."""
    params_sample, tumor_fraction, ploidy = read_params(params)
    if params_sample and result.sample and params_sample != result.sample:
        raise InputError(
            params,
            f"params.txt is for sample {params_sample!r} but the segments are {result.sample!r}",
            "give the params.txt of the same ichorCNA run",
        )
    return replace(result, tumor_fraction=tumor_fraction, ploidy=ploidy, tf_source=TF_SOURCE)
