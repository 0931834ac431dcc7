"""What the simulator needs from the panel: hotspot alleles, gene loci and codon spans of one build.

The panel is loaded and validated by ``ctdna_resistance.panel``; a panel with no hotspot in the
chosen build is refused, since nothing could be simulated from it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ctdna_resistance.errors import InputError
from ctdna_resistance.panel import load_panel


@dataclass(frozen=True, slots=True)
class PanelHotspot:
    """One explicit hotspot allele of the panel, in one build (genomic + strand)."""

    gene: str
    protein: str
    chrom: str
    pos: int
    ref: str
    alt: str

    @property
    def is_snv(self) -> bool:
        return len(self.ref) == 1 and len(self.alt) == 1


@dataclass(frozen=True, slots=True)
class PanelLocus:
    """A panel gene's span in one build."""

    gene: str
    chrom: str
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class PanelSites:
    """Hotspots, gene loci and hotspot-codon spans of a panel for one build."""

    path: str
    name: str
    version: str
    sha256: str
    hotspots: tuple[PanelHotspot, ...]
    loci: tuple[PanelLocus, ...]
    protected: tuple[tuple[str, int, int], ...]  # (chrom, start, end) spans of codons/hotspots

    def in_locus(self, chrom: str, pos: int, pad: int = 0) -> bool:
        """Whether a position lies in (or within ``pad`` bp of) any panel gene locus."""
        return any(
            locus.chrom == chrom and locus.start - pad <= pos <= locus.end + pad
            for locus in self.loci
        )

    def overlaps_locus(self, chrom: str, start: int, end: int, pad: int = 0) -> bool:
        """Whether a span overlaps (or comes within ``pad`` bp of) any panel gene locus."""
        return any(
            locus.chrom == chrom and start <= locus.end + pad and locus.start - pad <= end
            for locus in self.loci
        )

    def near_hotspot(self, chrom: str, pos: int, pad: int = 5) -> bool:
        """Whether a position lies within ``pad`` bp of a hotspot or hotspot codon."""
        return any(c == chrom and s - pad <= pos <= e + pad for c, s, e in self.protected)


def read_panel_sites(panel_path: Path, build: str) -> PanelSites:
    """Hotspot alleles, gene loci and codon spans of ``build`` from a validated panel."""
    panel = load_panel(panel_path, build)
    hotspots = tuple(
        PanelHotspot(h.gene, h.protein, h.chrom, h.pos, h.ref, h.alt)
        for h in panel.hotspots.values()
    )
    if not hotspots:
        raise InputError(
            panel_path,
            f"no hotspot has {build} coordinates",
            f"add genes[].hotspots[].{build} {{pos, ref, alt}} or choose the other build",
        )
    loci = tuple(PanelLocus(g.symbol, g.chrom, g.start, g.end) for g in panel.genes.values())
    protected = tuple(
        [(c.chrom, c.start, c.end) for c in panel.codons]
        + [(h.chrom, h.pos, h.pos + len(h.ref) - 1) for h in hotspots]
    )
    return PanelSites(
        path=str(panel_path),
        name=panel.name,
        version=panel.version,
        sha256=panel.sha256,
        hotspots=hotspots,
        loci=loci,
        protected=protected,
    )
