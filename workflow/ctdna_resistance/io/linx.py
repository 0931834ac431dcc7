"""LINX (Hartwig hmftools) `<tumour>.linx.fusion.tsv` into FUSION `SvEvent`s.

One header line, tab-separated; the columns read (LINX 1.2x, as in the hmftools ORANGE test run;
older LINX capitalised the same names, so they are matched case-insensitively):
fivePrimeBreakendId threePrimeBreakendId name reported reportedType ... geneStart transcriptStart
geneEnd transcriptEnd junctionCopyNumber. ``geneStart`` is the 5' partner (gene_a), ``geneEnd``
the 3' partner (gene_b); ``name`` is GENE5_GENE3 (with an underscore, e.g. EML4_ALK).

LINX reports fusions of the SVs PURPLE kept; it does not give breakend coordinates (they sit in
linx.breakend.tsv/svs.tsv and purple.sv.vcf). So each event's breakends are empty
(``SvBreakend('', 0)``): the genes are named, the positions are not, and a consumer must match
by gene symbol (``gene_a``/``gene_b``), not by position. Read support is not given either
(split/spanning reads None); ``junctionCopyNumber`` is not a read count and is not used.

``reported`` is LINX's own judgement (known pair, promiscuous partner, in frame ...): a row with
reported=false carries the filter 'linx_not_reported', like a caller's non-PASS filter.
"""

from __future__ import annotations

import os

from ctdna_resistance.errors import InputError
from ctdna_resistance.records import SvBreakend, SvEvent

__all__ = ["is_linx_fusion", "read_linx_fusions"]

REQUIRED = ("fivePrimeBreakendId", "threePrimeBreakendId", "name", "reported", "geneStart",
            "geneEnd")  # fmt: skip
NOT_REPORTED = "linx_not_reported"
_NO_POSITION = SvBreakend("", 0, "")


def is_linx_fusion(header: list[str]) -> bool:
    """True for the header of a linx.fusion.tsv (any capitalisation)."""
    return {name.lower() for name in REQUIRED} <= {h.strip().lower() for h in header}


def read_linx_fusions(path: str | os.PathLike) -> list[SvEvent]:
    """Every row of a linx.fusion.tsv as a FUSION `SvEvent` (gene names, no coordinates)."""
    path = str(path)
    if not os.path.isfile(path):
        raise InputError(path, "file not found", "check the linx.fusion.tsv path")
    with open(path, encoding="utf-8", errors="replace") as handle:
        lines = [line.rstrip("\r\n") for line in handle]
    if not lines or not is_linx_fusion(lines[0].split("\t")):
        raise InputError(
            path,
            "not a LINX fusion table (needs " + ", ".join(REQUIRED) + ")",
            "give the <tumour>.linx.fusion.tsv LINX wrote",
            record=1,
        )
    header = [h.strip().lower() for h in lines[0].split("\t")]
    events = []
    for line_no, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        fields = line.split("\t")
        if len(fields) != len(header):
            raise InputError(
                path,
                f"{len(fields)} tab-separated fields where the header has {len(header)}",
                "give the linx.fusion.tsv as LINX wrote it",
                record=line_no,
            )
        cell = dict(zip(header, fields, strict=True))
        reported = cell["reported"].strip().lower()
        if reported not in ("true", "false"):
            raise InputError(
                path,
                f"reported is {cell['reported']!r}, not true or false",
                "give the linx.fusion.tsv as LINX wrote it",
                record=line_no,
            )
        gene_a, gene_b = cell["genestart"].strip(), cell["geneend"].strip()
        if not gene_a or not gene_b:
            raise InputError(
                path,
                "geneStart or geneEnd is empty",
                "give the linx.fusion.tsv as LINX wrote it (every fusion names both genes)",
                record=line_no,
            )
        events.append(
            SvEvent(
                source=path,
                # The data line's number, as the other fusion tables count (first row = 1).
                record_no=line_no - 1,
                event_id=cell["name"].strip() or f"{gene_a}_{gene_b}",
                sv_type="FUSION",
                a=_NO_POSITION,
                b=_NO_POSITION,
                filters=() if reported == "true" else (NOT_REPORTED,),
                caller="linx",
                gene_a=gene_a,
                gene_b=gene_b,
            )
        )
    return events
