"""Fusion tables into `SvEvent`s (sv_type 'FUSION'): the generic TSV, STAR-Fusion and Arriba.

The generic TSV (tab-separated, one header line, column order free, '#' lines before the header
ignored) has the columns

    gene_a  gene_b  chrom_a  pos_a  chrom_b  pos_b  split_reads  spanning_reads  [ref_reads]

and optionally ``strand_a``/``strand_b`` (breakend orientation, '+' when the retained sequence lies
at and before the position, as in `ctdna_resistance.io.sv_vcf`) and ``filter`` ('PASS' or '.' when
the row passed). ``gene_a`` is the 5' partner, as fusion tables list them.

STAR-Fusion (``star-fusion.fusion_predictions.tsv``): LeftGene is the 5' partner; split reads =
JunctionReadCount, spanning = SpanningFragCount; no reference count. Arriba (``fusions.tsv``, both
the 1.x and the 2.x column layouts, found by name): gene1 is the 5' partner; split reads =
split_reads1 + split_reads2, spanning = discordant_mates; direction1/2 give the breakend
orientation ('downstream' = '+'); rows of confidence 'low' carry the filter 'low_confidence'.
Neither RNA table gives reads supporting the unfused allele, so ``ref_reads`` is None for them.
LINX ``linx.fusion.tsv`` (DNA, Hartwig) is read by `ctdna_resistance.io.linx`: gene names without
breakend coordinates or read counts.
"""

from __future__ import annotations

import math
import os
import re

from ctdna_resistance.errors import InputError
from ctdna_resistance.io.linx import is_linx_fusion, read_linx_fusions
from ctdna_resistance.records import SvBreakend, SvEvent, normalise_contig

__all__ = ["GENERIC_COLUMNS", "read_fusion_table"]

GENERIC_COLUMNS = ("gene_a", "gene_b", "chrom_a", "pos_a", "chrom_b", "pos_b", "split_reads",
                   "spanning_reads")  # fmt: skip
_STAR_FUSION = ("#FusionName", "JunctionReadCount", "SpanningFragCount", "LeftGene",
                "LeftBreakpoint", "RightGene", "RightBreakpoint")  # fmt: skip
_ARRIBA = ("#gene1", "gene2", "breakpoint1", "breakpoint2", "split_reads1", "split_reads2",
           "discordant_mates", "direction1", "direction2", "confidence")  # fmt: skip
_DIRECTION = {"downstream": "+", "upstream": "-"}


def _rows(path: str) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """Header columns and (record_no, fields) of each data row; '##' and blank lines skipped."""
    header: list[str] | None = None
    rows: list[tuple[int, list[str]]] = []
    with open(path, encoding="utf-8", errors="replace") as handle:
        for raw in handle:
            line = raw.rstrip("\r\n")
            if not line.strip():
                continue
            if header is None:
                if line.startswith("##"):
                    continue
                header = [column.strip() for column in line.split("\t")]
                continue
            rows.append((len(rows) + 1, line.split("\t")))
    return header or [], rows


def _number(path: str, record_no: int, column: str, value: str, *, missing=None) -> int | None:
    text = value.strip()
    if text in ("", ".", "NA"):
        return missing
    try:
        number = float(text)
    except ValueError:
        raise InputError(path, f"{column} {text!r} is not a number",
                         f"give whole numbers in {column}", record=record_no) from None  # fmt: skip
    # 'inf'/'nan' (or 4E114480, a digit changed to E) are no counts: int() of them would raise
    if not math.isfinite(number) or number < 0 or number != int(number):
        raise InputError(path, f"{column} {text!r} is not a whole number >= 0",
                         f"give whole numbers in {column}", record=record_no)  # fmt: skip
    return int(number)


def _position(path: str, record_no: int, column: str, value: str) -> int:
    number = _number(path, record_no, column, value)
    if number is None or number < 1:
        raise InputError(path, f"{column} {value.strip()!r} is not a 1-based position",
                         f"give the breakpoint position in {column}", record=record_no)  # fmt: skip
    return number


def _chrom_pos(path: str, record_no: int, column: str, value: str) -> tuple[str, int, str]:
    """'2:42301394:+' or 'chr2:42301394' -> ('2', 42301394, '+' or '')."""
    parts = value.strip().split(":")
    strand = ""
    if len(parts) >= 3 and parts[-1] in ("+", "-"):
        strand = parts.pop()
    if len(parts) < 2:
        raise InputError(path, f"{column} {value!r} is not CHROM:POS",
                         "give breakpoints as CHROM:POS", record=record_no)  # fmt: skip
    position = _position(path, record_no, column, parts[-1])
    return normalise_contig(":".join(parts[:-1])), position, strand


def _cells(header: list[str], fields: list[str]) -> dict[str, str]:
    return {name: (fields[index] if index < len(fields) else "") for index, name in
            enumerate(header)}  # fmt: skip


def _generic(path: str, header: list[str], rows) -> list[SvEvent]:
    events = []
    for record_no, fields in rows:
        cell = _cells(header, fields)
        if len(fields) < len(GENERIC_COLUMNS):
            raise InputError(path, f"{len(fields)} columns where the header has {len(header)}",
                             "check that the table is tab-separated", record=record_no)  # fmt: skip
        filter_text = cell.get("filter", "").strip()
        filters = tuple(
            name for name in re.split(r"[;,]", filter_text) if name and name not in ("PASS", ".")
        )
        strands = []
        for column in ("strand_a", "strand_b"):
            strand = cell.get(column, "").strip()
            if strand not in ("", "+", "-", "."):
                raise InputError(path, f"{column} {strand!r} is not '+', '-' or '.'",
                                 f"give the breakend orientation in {column}",
                                 record=record_no)  # fmt: skip
            strands.append(strand.replace(".", ""))
        events.append(
            SvEvent(
                source=path,
                record_no=record_no,
                event_id=cell.get("event_id", "").strip() or f"row{record_no}",
                sv_type="FUSION",
                a=SvBreakend(normalise_contig(cell["chrom_a"].strip()),
                             _position(path, record_no, "pos_a", cell["pos_a"]), strands[0]),
                b=SvBreakend(normalise_contig(cell["chrom_b"].strip()),
                             _position(path, record_no, "pos_b", cell["pos_b"]), strands[1]),
                filters=filters,
                caller="fusion_table",
                split_reads=_number(path, record_no, "split_reads", cell["split_reads"]),
                spanning_reads=_number(path, record_no, "spanning_reads", cell["spanning_reads"]),
                ref_reads=_number(path, record_no, "ref_reads", cell.get("ref_reads", "")),
                gene_a=cell["gene_a"].strip(),
                gene_b=cell["gene_b"].strip(),
            )
        )  # fmt: skip
    return events


def _star_fusion(path: str, header: list[str], rows) -> list[SvEvent]:
    events = []
    for record_no, fields in rows:
        cell = _cells(header, fields)
        left_chrom, left_pos, left_strand = _chrom_pos(path, record_no, "LeftBreakpoint",
                                                       cell["LeftBreakpoint"])  # fmt: skip
        right_chrom, right_pos, right_strand = _chrom_pos(path, record_no, "RightBreakpoint",
                                                          cell["RightBreakpoint"])  # fmt: skip
        # The strands are the genes' transcript strands: the 5' gene keeps its upstream part, the
        # 3' gene its downstream part, which fixes each breakend's orientation.
        events.append(
            SvEvent(
                source=path,
                record_no=record_no,
                event_id=cell["#FusionName"],
                sv_type="FUSION",
                a=SvBreakend(left_chrom, left_pos, left_strand),
                b=SvBreakend(right_chrom, right_pos,
                             {"+": "-", "-": "+"}.get(right_strand, "")),
                filters=(),
                caller="star-fusion",
                split_reads=_number(path, record_no, "JunctionReadCount",
                                    cell["JunctionReadCount"], missing=0),
                spanning_reads=_number(path, record_no, "SpanningFragCount",
                                       cell["SpanningFragCount"], missing=0),
                gene_a=cell["LeftGene"].split("^")[0],
                gene_b=cell["RightGene"].split("^")[0],
            )
        )  # fmt: skip
    return events


def _arriba_gene(name: str) -> str:
    """'BRD4(1122),BRD4-1(2233)' (intergenic, with distances) -> 'BRD4,BRD4-1'."""
    return ",".join(re.sub(r"\(\d+\)$", "", part) for part in name.strip().split(","))


def _arriba(path: str, header: list[str], rows) -> list[SvEvent]:
    events = []
    for record_no, fields in rows:
        cell = _cells(header, fields)
        chrom1, pos1, _ = _chrom_pos(path, record_no, "breakpoint1", cell["breakpoint1"])
        chrom2, pos2, _ = _chrom_pos(path, record_no, "breakpoint2", cell["breakpoint2"])
        split1 = _number(path, record_no, "split_reads1", cell["split_reads1"], missing=0)
        split2 = _number(path, record_no, "split_reads2", cell["split_reads2"], missing=0)
        confidence = cell["confidence"].strip()
        events.append(
            SvEvent(
                source=path,
                record_no=record_no,
                event_id=f"{_arriba_gene(cell['#gene1'])}--{_arriba_gene(cell['gene2'])}",
                sv_type="FUSION",
                a=SvBreakend(chrom1, pos1, _DIRECTION.get(cell["direction1"].strip(), "")),
                b=SvBreakend(chrom2, pos2, _DIRECTION.get(cell["direction2"].strip(), "")),
                filters=("low_confidence",) if confidence == "low" else (),
                caller="arriba",
                split_reads=split1 + split2,
                spanning_reads=_number(path, record_no, "discordant_mates",
                                       cell["discordant_mates"], missing=0),
                gene_a=_arriba_gene(cell["#gene1"]),
                gene_b=_arriba_gene(cell["gene2"]),
            )
        )  # fmt: skip
    return events


def read_fusion_table(path: str | os.PathLike) -> list[SvEvent]:
    """Read a fusion table (generic TSV, STAR-Fusion, Arriba or LINX) into FUSION `SvEvent`s.

    The format is told by the header. Raises `InputError` for a missing file, an unknown header,
    or a row whose positions or read counts are not numbers.
    """
    path = str(path)
    if not os.path.isfile(path):
        raise InputError(path, "file not found", "check the fusion table path in the sample sheet")
    header, rows = _rows(path)
    columns = set(header)
    if is_linx_fusion(header):
        return read_linx_fusions(path)
    if set(_STAR_FUSION) <= columns:
        return _star_fusion(path, header, rows)
    if set(_ARRIBA) <= columns:
        return _arriba(path, header, rows)
    if set(GENERIC_COLUMNS) <= columns:
        return _generic(path, header, rows)
    missing = [name for name in GENERIC_COLUMNS if name not in columns]
    raise InputError(
        path,
        f"not a recognised fusion table (generic columns missing: {', '.join(missing)})",
        "give a STAR-Fusion, Arriba or LINX table, or a TSV with columns "
        + ", ".join(GENERIC_COLUMNS),
    )
