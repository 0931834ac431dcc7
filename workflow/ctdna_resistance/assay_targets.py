"""A targeted assay's target name -> the panel alteration it measures (issue 17).

Accepted names: "KRAS G12D", "KRAS p.G12D", "KRAS_G12D", "KRAS c.35G>A", "G12D" (with the gene
from the file's gene column, or unique in the panel), and multiplex screens such as
"KRAS G12/G13 screen" or "NRAS Q61 screen", which measure a codon-level alteration: any change
at those codons, followed as its own key (it cannot be told apart from a specific allele). The
config's targeted_assay.target_names maps a lab's own assay names ("Consensus_FAM") to one of
these. A specific allele gets the key sequencing gives it (chrom:pos:ref>alt), so one timeline
follows it across NGS and ddPCR draws.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ctdna_resistance.panel import Panel, variant_type

_NOISE = {"screen", "assay", "mut", "mutant", "mutation", "ddpcr", "beaming", "multiplex", "codon"}
_PROTEIN = re.compile(r"^(?:p\.)?([A-Z])(\d+)([A-Z*])$", re.I)
_CODING = re.compile(r"^c\.\d+[ACGT]>[ACGT]$", re.I)
_CODONS = re.compile(r"^(?:p\.)?[A-Z]?\d+(?:/[A-Z]?\d+)*$", re.I)


@dataclass(frozen=True)
class AssayTarget:
    """The panel alteration an assay target measures, with the fields of an alterations row."""

    key: str
    gene: str
    alteration: str
    hgvsc: str
    panel_class: str  # hotspot | codon_screen
    type: str  # snv/mnv/... for an allele, screen for a codon-level screen
    chrom: str
    pos: int
    ref: str
    alt: str


class UnknownTarget(ValueError):
    """The name does not map to a panel alteration; the message lists the accepted names."""


def accepted_names(panel: Panel, gene: str = "") -> list[str]:
    """The specific-allele names the panel accepts (of ``gene`` when given), sorted: the protein
    change ('KRAS G12D'), or the coding change where one protein change is several alleles
    ('KRAS c.183A>C' for one of the two Q61H)."""
    spots = [s for s in panel.hotspots.values() if not gene or s.gene == gene]
    by_protein: dict[tuple[str, str], int] = {}
    for spot in spots:
        by_protein[(spot.gene, spot.protein)] = by_protein.get((spot.gene, spot.protein), 0) + 1
    names = {
        f"{s.gene} {s.protein.removeprefix('p.')}"
        if by_protein[(s.gene, s.protein)] == 1
        else f"{s.gene} {s.hgvsc.rsplit(':', 1)[-1]}"
        for s in spots
    }
    return sorted(names)


def screen_example(panel: Panel, gene: str = "") -> str:
    """A codon-screen name the panel accepts, of ``gene`` when it has two codons: 'KRAS G12/G13
    screen' (the first two codons of the gene, by number); '' without codons."""
    by_gene: dict[str, list] = {}
    for codon in panel.codons:
        by_gene.setdefault(codon.gene, []).append(codon)
    if not by_gene:
        return ""
    if gene not in by_gene:
        gene = max(sorted(by_gene), key=lambda g: len(by_gene[g]))
    first = sorted(by_gene[gene], key=lambda c: c.number)[:2]
    return f"{gene} {'/'.join(f'{c.ref_aa}{c.number}' for c in first)} screen"


def _refuse(name: str, panel: Panel, gene: str, why: str) -> UnknownTarget:
    names = accepted_names(panel, gene)
    shown = ", ".join(names[:40]) + (f", ... ({len(names)} in all)" if len(names) > 40 else "")
    example = screen_example(panel, gene)
    screen = f", or a codon screen such as '{example}'" if example else ""
    return UnknownTarget(
        f"target {name!r} {why}; the panel accepts {shown}{screen} (or map it in "
        "targeted_assay.target_names)"
    )


def resolve_target(
    name: str, panel: Panel, gene: str = "", aliases: dict | None = None
) -> AssayTarget:
    """The panel alteration ``name`` measures; UnknownTarget naming what the panel accepts."""
    original = name
    name = (aliases or {}).get(name, name)
    tokens = [t for t in re.split(r"[\s_]+", name.strip()) if t]
    symbols = {symbol.upper(): symbol for symbol in panel.genes}
    named = [symbols[t.upper()] for t in tokens if t.upper() in symbols]
    rest = [t for t in tokens if t.upper() not in symbols and t.lower() not in _NOISE]
    gene = named[0] if named else (symbols.get(gene.upper(), "") if gene else "")
    if len(rest) != 1:
        raise _refuse(original, panel, gene, "names no single protein change or codon")
    change = rest[0]
    screen = (
        "screen" in name.lower()
        or "/" in change
        or (_CODONS.match(change) and not (_PROTEIN.match(change)))
    )
    if _CODING.match(change):
        spots = [s for s in panel.hotspots.values() if s.hgvsc.endswith(change) and s.gene == gene]
    elif _PROTEIN.match(change) and not screen:
        ref_aa, number, alt_aa = _PROTEIN.match(change).groups()
        protein = f"p.{ref_aa.upper()}{number}{alt_aa.upper()}"
        spots = [
            s
            for s in panel.hotspots.values()
            if s.protein == protein and (not gene or s.gene == gene)
        ]
    elif _CODONS.match(change):
        return _screen(original, change, gene, panel)
    else:
        raise _refuse(original, panel, gene, f"has no protein change the panel knows ({change})")
    if not spots:
        raise _refuse(original, panel, gene, "is not a panel resistance allele")
    if len({s.gene for s in spots}) > 1:
        genes = ", ".join(sorted({s.gene for s in spots}))
        raise _refuse(original, panel, "", f"is in several panel genes ({genes}): name the gene")
    if len(spots) > 1:
        coding = ", ".join(sorted(s.hgvsc.rsplit(":", 1)[-1] for s in spots))
        raise _refuse(original, panel, gene, f"is more than one allele ({coding}): name the c.")
    spot = spots[0]
    return AssayTarget(
        key=f"{spot.chrom}:{spot.pos}:{spot.ref}>{spot.alt}",
        gene=spot.gene,
        alteration=spot.protein,
        hgvsc=spot.hgvsc,
        panel_class="hotspot",
        type=variant_type(spot.ref, spot.alt),
        chrom=spot.chrom,
        pos=spot.pos,
        ref=spot.ref,
        alt=spot.alt,
    )


def _screen(original: str, change: str, gene: str, panel: Panel) -> AssayTarget:
    """A multiplex screen of codons (e.g. G12/G13): a codon-level alteration of its own."""
    if not gene:
        raise _refuse(original, panel, "", "is a codon screen without a gene")
    numbers = [int(re.sub(r"\D", "", part)) for part in change.removeprefix("p.").split("/")]
    codons = {c.number: c for c in panel.codons if c.gene == gene}
    missing = [n for n in numbers if n not in codons]
    if missing:
        known = ", ".join(str(n) for n in sorted(codons)) or "none"
        raise _refuse(
            original, panel, gene, f"screens codon(s) {missing} not in the panel ({known})"
        )
    spans = [codons[n] for n in sorted(set(numbers))]
    start, end = min(c.start for c in spans), max(c.end for c in spans)
    label = "/".join(f"{c.ref_aa}{c.number}" for c in spans)
    chrom = spans[0].chrom
    return AssayTarget(
        key=f"{chrom}:{start}-{end}:{gene}_{'_'.join(str(c.number) for c in spans)}_screen",
        gene=gene,
        alteration=f"p.{label} screen",
        hgvsc="",
        panel_class="codon_screen",
        type="screen",
        chrom=chrom,
        pos=start,
        ref="",
        alt="",
    )
