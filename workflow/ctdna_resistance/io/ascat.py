"""ASCAT allele-specific copy number (`.cnvs.txt`, `.segments.txt`) and its purity files.

nf-core/sarek's ASCAT module writes (modules/nf-core/ascat/main.nf, sarek 3.x):
- `<tumour>_vs_<normal>.cnvs.txt`: chr startpos endpos nMajor nMinor (R write.table, tab, header);
- `<tumour>_vs_<normal>.segments.txt`: the same with a leading ``sample`` column;
- `<tumour>_vs_<normal>.purityploidy.txt`: AberrantCellFraction Ploidy (one row).
ascatNgs (Sanger; e.g. BALSAMIC) writes `<prefix>.samplestatistics.txt` instead: space-separated
``key value`` lines without header (NormalContamination, Ploidy, rho, psi, goodnessOfFit ...).

nMajor + nMinor is the tumour's absolute integer copy number after ASCAT's purity/ploidy fit, so
the input is ``absolute``; each `Segment` gets ``copy_number = nMajor + nMinor`` and
``log2 = log2(CN / 2)`` (CN 0 floored as in `ctdna_resistance.io.purple`). Coordinates are the SNP
positions bounding the segment, 1-based inclusive; cnvs.txt names no sample (sarek's file name
does: `<tumour>_vs_<normal>`).

Purity is ASCAT's rho (= AberrantCellFraction). samplestatistics.txt also gives
NormalContamination, which need not equal 1 - rho (0.378 vs rho 0.55 in the BALSAMIC file: it is
computed from the normal's BAF, not by the fit): rho is used, and the other value is kept in the
estimate's notes for the report.
"""

from __future__ import annotations

from pathlib import Path

from ctdna_resistance.errors import InputError
from ctdna_resistance.io.purple import absolute_log2
from ctdna_resistance.io.segment_table import (
    CopyNumberInput,
    PurityEstimate,
    Table,
    check_contig,
    choose_sample,
    finish_segments,
    make_segment,
    parse_int,
)

SEGMENT_SUFFIXES = (".cnvs.txt", ".segments.txt")
PURITY_SUFFIXES = (".purityploidy.txt", ".samplestatistics.txt")
_COLUMN_NAMES = ("chr", "startpos", "endpos", "nMajor", "nMinor")
_COLUMNS = {name.lower() for name in _COLUMN_NAMES}


def is_ascat_segments(header: list[str]) -> bool:
    """True for the header of an ASCAT cnvs.txt / segments.txt."""
    return {h.lower() for h in header} >= _COLUMNS


def is_partial_ascat_segments(header: list[str]) -> bool:
    """True for an ASCAT-style header (startpos, endpos, nMajor or nMinor) missing a column.

    Such a file is read as ASCAT so that the refusal names the missing column, rather than
    saying the format is unknown.
    """
    names = {h.lower() for h in header}
    return {"startpos", "endpos"} <= names and bool(names & {"nmajor", "nminor"})


def read_ascat_segments(
    table: Table, *, sample: str | None = None, expected_build: str | None = None
) -> CopyNumberInput:
    """One sample's segments of an ASCAT cnvs.txt or segments.txt already read."""
    lowered = {h.lower() for h in table.header}
    missing = [name for name in _COLUMN_NAMES if name.lower() not in lowered]
    if missing:
        raise InputError(
            table.path,
            f"ASCAT segment header without column {', '.join(missing)} "
            f"(header: {' '.join(table.header)})",
            "give the .cnvs.txt/.segments.txt as ASCAT wrote it (chr startpos endpos nMajor "
            "nMinor, segments.txt with a leading sample column)",
            record=table.header_line,
        )
    chrom_i = table.column("chr")
    start_i = table.column("startpos")
    end_i = table.column("endpos")
    major_i = table.column("nMajor")
    minor_i = table.column("nMinor")
    sample_i = table.column("sample", required=False)
    chosen = sample
    if sample_i is not None:
        chosen = choose_sample(
            table, [f[sample_i] for _, f in table.rows], sample, id_column="sample"
        )
    segments = []
    for line_no, fields in table.rows:
        if sample_i is not None and fields[sample_i] != chosen:
            continue
        major = parse_int(table, line_no, fields[major_i], "nMajor")
        minor = parse_int(table, line_no, fields[minor_i], "nMinor")
        if major < 0 or minor < 0:
            raise InputError(
                table.path,
                f"allele copy number nMajor {major} / nMinor {minor} is negative",
                "give the ASCAT file as written (copy numbers are >= 0)",
                record=line_no,
            )
        copy_number = float(major + minor)
        segments.append(
            make_segment(
                table,
                line_no,
                chrom=check_contig(table, line_no, fields[chrom_i]),
                start=parse_int(table, line_no, fields[start_i], "startpos"),
                end=parse_int(table, line_no, fields[end_i], "endpos"),
                log2=absolute_log2(copy_number),
                copy_number=copy_number,
            )
        )
    ordered = finish_segments(table, segments, expected_build=expected_build)
    if chosen is None:
        chosen = _stem(Path(table.path).name, SEGMENT_SUFFIXES)
    return CopyNumberInput(
        path=table.path, fmt="ascat_cnvs", sample=chosen, segments=ordered, absolute=True
    )


def _stem(name: str, suffixes: tuple[str, ...]) -> str | None:
    for suffix in suffixes:
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return None


def sibling_purity(segment_path: str) -> Path | None:
    """sarek's `<prefix>.purityploidy.txt` or ascatNgs' `<prefix>.samplestatistics.txt`."""
    path = Path(segment_path)
    prefix = _stem(path.name, SEGMENT_SUFFIXES)
    if prefix is None:
        return None
    for suffix in PURITY_SUFFIXES:
        candidate = path.with_name(prefix + suffix)
        if candidate.is_file():
            return candidate
    return None


def is_ascat_purity(path: str, header: list[str]) -> bool:
    """True for an ASCAT purityploidy.txt (by header) or samplestatistics.txt (by its keys)."""
    names = {h.lower() for h in header}
    if {"aberrantcellfraction", "ploidy"} <= names:
        return True
    first = " ".join(header).split()
    return bool(first) and first[0] in ("NormalContamination", "rho", "Ploidy", "psi")


def read_ascat_purity(path: str | Path) -> PurityEstimate:
    """Purity (rho / AberrantCellFraction) and ploidy from an ASCAT purity file."""
    path = Path(path)
    with open(path, encoding="utf-8", errors="replace") as handle:
        lines = [line.rstrip("\r\n") for line in handle]
    numbered = [(n, line) for n, line in enumerate(lines, start=1) if line.strip()]
    if not numbered:
        raise InputError(path, "empty ASCAT purity file", "give the file ASCAT wrote")
    header = numbered[0][1].split("\t")
    if {"AberrantCellFraction", "Ploidy"} <= set(header):
        if len(numbered) != 2:
            raise InputError(
                path,
                f"{len(numbered) - 1} data rows where ASCAT writes one",
                "give the purityploidy.txt of one ASCAT run",
            )
        line_no, row = numbered[1]
        cells = dict(zip(header, row.split("\t"), strict=False))
        purity = _number(path, line_no, "AberrantCellFraction", cells.get("AberrantCellFraction"))
        ploidy = _number(path, line_no, "Ploidy", cells.get("Ploidy"))
        if purity == 0 and ploidy == 0:
            # sarek writes 0 0 when ASCAT found no solution (tryCatch in the module).
            raise InputError(
                path,
                "AberrantCellFraction 0 and Ploidy 0: ASCAT found no purity/ploidy solution",
                "leave this sample's purity to another source (e.g. tumor_fraction in the sheet)",
                record=line_no,
            )
        return PurityEstimate(
            str(path),
            "ASCAT purity (AberrantCellFraction)",
            _fraction(path, line_no, purity),
            ploidy,
            _stem(path.name, PURITY_SUFFIXES),
        )
    values: dict[str, tuple[int, str]] = {}
    for line_no, line in numbered:
        key, _, value = line.strip().partition(" ")
        values[key] = (line_no, value.strip())
    if "rho" not in values:
        raise InputError(
            path,
            "no 'rho' line: not an ASCAT samplestatistics.txt",
            "give ASCAT's samplestatistics.txt (rho is the purity) or sarek's purityploidy.txt",
        )
    line_no, text = values["rho"]
    purity = _fraction(path, line_no, _number(path, line_no, "rho", text))
    ploidy = None
    for key in ("Ploidy", "psi"):
        if key in values:
            ploidy = _number(path, values[key][0], key, values[key][1])
            break
    notes = []
    if "NormalContamination" in values:
        line_c, text_c = values["NormalContamination"]
        contamination = _number(path, line_c, "NormalContamination", text_c)
        notes.append(f"1 - NormalContamination = {1 - contamination:.3f} (not used; rho is)")
    if "goodnessOfFit" in values:
        notes.append(f"goodnessOfFit {values['goodnessOfFit'][1]}")
    return PurityEstimate(
        str(path), "ASCAT rho", purity, ploidy, _stem(path.name, PURITY_SUFFIXES), "; ".join(notes)
    )


def _number(path: Path, line_no: int, key: str, text: str | None) -> float:
    try:
        return float(text or "")
    except ValueError:
        raise InputError(
            path, f"{key} is {text!r}, not a number", "give the file ASCAT wrote", record=line_no
        ) from None


def _fraction(path: Path, line_no: int, value: float) -> float:
    if not 0.0 <= value <= 1.0:
        raise InputError(
            path,
            f"purity {value} is not a fraction from 0 to 1",
            "give the file ASCAT wrote (purity is a fraction)",
            record=line_no,
        )
    return value
