"""Breakends to genes, and which rearrangements are kinase fusions of interest.

A fusion of interest joins a panel gene of class ``fusion`` (ALK, ROS1, NTRK1-3, RET, FGFR1-3,
BRAF in the anti-EGFR panel) to anything else: the panel's own gene loci decide the panel side;
the partner is named from the gene-coordinate table shipped in ``data/fusion_genes.tsv`` (GENCODE
gene spans for both builds, see ``data/README.md``), or by its position when it lies in no listed
gene.

The 5'->3' order comes from the breakend orientations and the genes' strands: a gene keeps its 5'
part when the retained side of its breakend points upstream on its own strand ('+' orientation on a
'+' gene, '-' on a '-' gene). Fusion-table rows without orientations keep the table's order
(gene_a is 5'). Otherwise the label is alphabetic with '::' and a note says why.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from ctdna_resistance.errors import InputError
from ctdna_resistance.panel import Panel
from ctdna_resistance.records import BUILDS, SvEvent, normalise_contig

__all__ = [
    "FusionCall",
    "GeneSpan",
    "GeneTable",
    "call_fusions",
    "load_gene_table",
    "name_filtered_fusions",
]

GENE_TABLE_FILE = "fusion_genes.tsv"


@dataclass(frozen=True, slots=True)
class GeneSpan:
    """One gene of the coordinate table in one build (1-based, inclusive, contig without 'chr')."""

    symbol: str
    chrom: str
    start: int
    end: int
    strand: str
    role: str  # panel_fusion_gene | partner
    partner_of: tuple[str, ...]
    source: str
    verified_by: str


class GeneTable:
    """Gene spans of one build, for naming breakends."""

    def __init__(self, build: str, genes: list[GeneSpan], path: str = ""):
        self.build = build
        self.path = path
        self.genes = {gene.symbol: gene for gene in genes}
        self._by_chrom: dict[str, list[GeneSpan]] = {}
        for gene in sorted(genes, key=lambda g: (g.chrom, g.start, g.symbol)):
            self._by_chrom.setdefault(gene.chrom, []).append(gene)

    def genes_at(self, chrom: str, pos: int) -> list[str]:
        """Symbols of the listed genes whose span holds chrom:pos (any contig style), sorted."""
        spans = self._by_chrom.get(normalise_contig(str(chrom)), [])
        return sorted(gene.symbol for gene in spans if gene.start <= pos <= gene.end)

    def strand_of(self, symbol: str) -> str:
        gene = self.genes.get(symbol)
        return gene.strand if gene is not None else ""

    def __len__(self) -> int:
        return len(self.genes)


@lru_cache(maxsize=4)
def load_gene_table(build: str) -> GeneTable:
    """The shipped gene-coordinate table (``data/fusion_genes.tsv``) for 'GRCh38' or 'GRCh37'."""
    if build not in BUILDS:
        raise InputError(None, f"unknown genome build {build!r}", f"use one of {', '.join(BUILDS)}")
    resource = resources.files("ctdna_resistance") / "data" / GENE_TABLE_FILE
    genes = []
    with resource.open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            if row["build"] != build:
                continue
            genes.append(
                GeneSpan(
                    symbol=row["symbol"],
                    chrom=row["chrom"],
                    start=int(row["start"]),
                    end=int(row["end"]),
                    strand=row["strand"],
                    role=row["role"],
                    partner_of=tuple(name for name in row["partner_of"].split(";") if name),
                    source=row["source"],
                    verified_by=row["verified_by"],
                )
            )
    return GeneTable(build, genes, path=str(resource))


@dataclass(frozen=True)
class FusionCall:
    """A rearrangement joining a panel fusion gene to a partner, with the numbers behind it.

    ``gene_a``/``gene_b`` name the genes at the event's breakends a and b ('' when a breakend lies
    in no listed gene); ``breakpoints`` lists them in label order, 'chr2:42522656;chr2:29446394'.
    ``vaf`` is alt support (split + spanning) over alt + ref when the caller gives ref reads.
    ``in_frame`` is not assessed (None).
    """

    event: SvEvent
    gene_a: str
    gene_b: str
    panel_gene: str
    partner: str
    label: str
    breakpoints: str
    split_reads: int | None
    spanning_reads: int | None
    ref_reads: int | None
    vaf: float | None
    in_frame: bool | None = None
    note: str = ""


def _keeps_five_prime(orientation: str, gene_strand: str) -> bool | None:
    if orientation not in ("+", "-") or gene_strand not in ("+", "-"):
        return None
    return orientation == gene_strand


def _position(chrom: str, pos: int) -> str:
    return f"chr{chrom}:{pos}"


def _vaf(event: SvEvent) -> float | None:
    if event.split_reads is None and event.spanning_reads is None:
        return None
    alt = (event.split_reads or 0) + (event.spanning_reads or 0)
    if event.ref_reads is None or alt + event.ref_reads == 0:
        return None
    return alt / (alt + event.ref_reads)


def _pick(names: list[str], preferred: set[str]) -> str:
    """One gene for a breakend: a panel fusion gene if one is there, else the first by name."""
    for name in names:
        if name in preferred:
            return name
    return names[0] if names else ""


def _fusion_genes(panel: Panel) -> dict:
    return {symbol: gene for symbol, gene in panel.genes.items() if "fusion" in gene.classes}


def _panel_gene_at(fusion_genes: dict, chrom: str, pos: int) -> str:
    hits = sorted(symbol for symbol, gene in fusion_genes.items() if gene.contains(chrom, pos))
    return hits[0] if hits else ""


def call_fusions(
    events: list[SvEvent], panel: Panel, genes: GeneTable
) -> tuple[list[FusionCall], list[tuple[SvEvent, str]]]:
    """Split events into fusions of interest and the rest, each with its reason.

    Reasons for the rest: 'single_breakend', 'record_problem' (unpaired mate, malformed row ...),
    'no_panel_fusion_gene', 'intragenic' (both breakends in the same panel gene, e.g. a DEL inside
    ALK), 'not_pass' (a panel fusion whose record did not pass the caller's filters). Output is in
    input order, so it is as deterministic as the reader.
    """
    if genes.build != panel.build:
        raise InputError(None, f"gene table is {genes.build} but the panel is {panel.build}",
                         "load the gene table of the panel's build")  # fmt: skip
    fusion_genes = _fusion_genes(panel)
    calls: list[FusionCall] = []
    others: list[tuple[SvEvent, str]] = []
    for event in events:
        if event.problem is not None:
            reason = "single_breakend" if event.problem == "single breakend" else "record_problem"
            others.append((event, reason))
            continue
        panel_a, panel_b = _panel_sides(fusion_genes, event)
        if not panel_a and not panel_b:
            others.append((event, "no_panel_fusion_gene"))
            continue
        if panel_a and panel_a == panel_b:
            others.append((event, "intragenic"))
            continue
        if event.filters:
            others.append((event, "not_pass"))
            continue
        calls.append(_call(event, panel_a, panel_b, fusion_genes, genes))
    return calls, others


def name_filtered_fusions(
    others: list[tuple[SvEvent, str]], panel: Panel, genes: GeneTable
) -> list[FusionCall]:
    """The panel fusions among ``call_fusions``' rest whose record did not pass ('not_pass'),
    named and counted as a passing one would be: the caller saw the fusion but too weakly, and
    its record still tells the reads at the breakpoint (tracking's limit of detection)."""
    fusion_genes = _fusion_genes(panel)
    named = []
    for event, reason in others:
        if reason == "not_pass":
            named.append(_call(event, *_panel_sides(fusion_genes, event), fusion_genes, genes))
    return named


def _panel_sides(fusion_genes: dict, event: SvEvent) -> tuple[str, str]:
    """The panel fusion gene at each breakend ('' where there is none)."""
    panel_a = _panel_gene_at(fusion_genes, event.a.chrom, event.a.pos) or _named_panel_gene(
        fusion_genes, event.a, event.gene_a
    )
    panel_b = _panel_gene_at(fusion_genes, event.b.chrom, event.b.pos) or _named_panel_gene(
        fusion_genes, event.b, event.gene_b
    )
    return panel_a, panel_b


def _named_panel_gene(fusion_genes: dict, end, name: str) -> str:
    """A panel fusion gene named by a table that gives no breakend position (LINX)."""
    return name if not end.pos and name in fusion_genes else ""


def _call(event: SvEvent, panel_a: str, panel_b: str, fusion_genes: dict, genes: GeneTable):
    preferred = set(fusion_genes)
    gene_a = panel_a or _pick(genes.genes_at(event.a.chrom, event.a.pos), preferred)
    gene_b = panel_b or _pick(genes.genes_at(event.b.chrom, event.b.pos), preferred)
    if not event.a.pos and not event.b.pos:  # named but not placed (LINX): take the names
        gene_a, gene_b = gene_a or event.gene_a, gene_b or event.gene_b
    if panel_a and panel_b:
        # Two panel kinases: the one keeping its 3' part (the kinase domain) is the panel side.
        b_five = _keeps_five_prime(event.b.strand, genes.strand_of(gene_b) or "")
        panel_gene, partner = (gene_a, gene_b) if b_five else (gene_b, gene_a)
    elif panel_a:
        panel_gene, partner = gene_a, gene_b
    else:
        panel_gene, partner = gene_b, gene_a
    names = {
        "a": gene_a or _position(event.a.chrom, event.a.pos),
        "b": gene_b or _position(event.b.chrom, event.b.pos),
    }
    spots = {"a": _position(event.a.chrom, event.a.pos), "b": _position(event.b.chrom, event.b.pos)}
    five_a = _keeps_five_prime(event.a.strand, genes.strand_of(gene_a)) if gene_a else None
    five_b = _keeps_five_prime(event.b.strand, genes.strand_of(gene_b)) if gene_b else None
    order: tuple[str, str] | None = None
    note = ""
    if five_a is not None and five_b is not None:
        if five_a != five_b:
            order = ("a", "b") if five_a else ("b", "a")
        else:
            which = "5'" if five_a else "3'"
            note = f"both genes keep their {which} part: not a sense fusion transcript"
    elif five_a is not None or five_b is not None:
        # One gene and its orientation fix the order even when the partner is intergenic.
        known_five = five_a if five_a is not None else five_b
        side = "a" if five_a is not None else "b"
        other = "b" if side == "a" else "a"
        order = (side, other) if known_five else (other, side)
    elif event.sv_type == "FUSION" and not event.a.strand and not event.b.strand:
        order = ("a", "b")  # fusion tables list the 5' partner first
    else:
        note = "breakend orientation not given: 5'-3' order unknown"
    if order is not None:
        label = f"{names[order[0]]}-{names[order[1]]}"
        breakpoints = f"{spots[order[0]]};{spots[order[1]]}"
    else:
        first, second = sorted((names["a"], names["b"]))
        label = f"{first}::{second}"
        breakpoints = f"{spots['a']};{spots['b']}"
    if not event.a.pos and not event.b.pos:
        breakpoints = ""  # the table named the genes but placed no breakend
    if not partner:
        partner_spot = spots["b"] if panel_gene == gene_a else spots["a"]
        partner = partner_spot
        note = "; ".join(filter(None, [note, "partner breakend lies in no listed gene"]))
    return FusionCall(
        event=event,
        gene_a=gene_a,
        gene_b=gene_b,
        panel_gene=panel_gene,
        partner=partner,
        label=label,
        breakpoints=breakpoints,
        split_reads=event.split_reads,
        spanning_reads=event.spanning_reads,
        ref_reads=event.ref_reads,
        vaf=_vaf(event),
        note=note,
    )
