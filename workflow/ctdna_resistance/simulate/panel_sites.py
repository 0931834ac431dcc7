"""Read from a panel YAML only what the simulator needs: hotspot alleles and gene loci of one build.

This is deliberately small and forgiving (it does not validate the panel's schema, evidence or
sources); the panel module does that. It refuses a panel it cannot simulate from.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import yaml

from ctdna_resistance.errors import InputError
from ctdna_resistance.records import normalise_contig

_BASES = frozenset("ACGT")


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


def _coordinate(entry: dict, build: str) -> dict | None:
    value = entry.get(build) if isinstance(entry, dict) else None
    return value if isinstance(value, dict) else None


def read_panel_sites(panel_path: Path, build: str) -> PanelSites:
    """Read hotspot alleles, gene loci and codon spans of ``build`` from a panel YAML."""
    panel_path = Path(panel_path)
    try:
        raw = panel_path.read_bytes()
    except OSError as err:
        raise InputError(
            panel_path, f"cannot read the panel ({err.strerror})", "pass an existing panel YAML"
        ) from err
    try:
        panel = yaml.safe_load(raw)
    except yaml.YAMLError as err:
        raise InputError(
            panel_path, f"not valid YAML ({err})", "fix the YAML syntax of the panel"
        ) from err
    if not isinstance(panel, dict) or not isinstance(panel.get("genes"), list):
        raise InputError(panel_path, "no 'genes' list", "write the panel in the panel YAML format")

    hotspots: list[PanelHotspot] = []
    loci: list[PanelLocus] = []
    protected: list[tuple[str, int, int]] = []
    for gene_no, gene in enumerate(panel["genes"]):
        if not isinstance(gene, dict) or not gene.get("symbol"):
            raise InputError(
                panel_path, "gene entry without a symbol", "give every gene a 'symbol'",
                record=f"genes[{gene_no}]",
            )  # fmt: skip
        symbol = str(gene["symbol"])
        locus = _coordinate(gene.get("loci") or {}, build)
        chrom = None
        if locus is not None:
            try:
                chrom = normalise_contig(str(locus["chrom"]))
                loci.append(PanelLocus(symbol, chrom, int(locus["start"]), int(locus["end"])))
            except (KeyError, TypeError, ValueError) as err:
                raise InputError(
                    panel_path, f"{symbol} loci.{build} needs chrom, start and end",
                    "write loci as {chrom: '12', start: 1, end: 2}", record=f"genes[{gene_no}]",
                ) from err  # fmt: skip
        for codon in gene.get("codons") or []:
            span = _coordinate(codon, build)
            if span is not None and chrom is not None and "start" in span and "end" in span:
                protected.append((chrom, int(span["start"]), int(span["end"])))
        for spot_no, spot in enumerate(gene.get("hotspots") or []):
            where = f"genes[{gene_no}].hotspots[{spot_no}]"
            coordinate = _coordinate(spot, build)
            if coordinate is None:
                continue  # a hotspot without this build's coordinate cannot be simulated
            if chrom is None:
                raise InputError(
                    panel_path, f"{symbol} has hotspots but no loci.{build}.chrom",
                    f"add loci.{build} to {symbol}", record=where,
                )  # fmt: skip
            try:
                pos = int(coordinate["pos"])
                ref = str(coordinate["ref"]).upper()
                alt = str(coordinate["alt"]).upper()
            except (KeyError, TypeError, ValueError) as err:
                raise InputError(
                    panel_path, f"hotspot {build} needs pos, ref and alt",
                    "write it as {pos: 123, ref: C, alt: T}", record=where,
                ) from err  # fmt: skip
            if not ref or not alt or set(ref + alt) - _BASES:
                raise InputError(
                    panel_path, f"hotspot {build} REF/ALT {ref!r}/{alt!r} are not A/C/G/T",
                    "write plain bases on the + strand", record=where,
                )  # fmt: skip
            protein = str(spot.get("protein") or "")
            hotspots.append(PanelHotspot(symbol, protein, chrom, pos, ref, alt))
            protected.append((chrom, pos, pos + len(ref) - 1))
    if not hotspots:
        raise InputError(
            panel_path, f"no hotspot has {build} coordinates",
            f"add genes[].hotspots[].{build} {{pos, ref, alt}} or choose the other build",
        )  # fmt: skip
    return PanelSites(
        path=str(panel_path),
        name=str(panel.get("name", "")),
        version=str(panel.get("version", "")),
        sha256=hashlib.sha256(raw).hexdigest(),
        hotspots=tuple(hotspots),
        loci=tuple(loci),
        protected=tuple(sorted(set(protected))),
    )
