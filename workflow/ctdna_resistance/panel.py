"""The resistance panel: genes, hotspot alleles and codons per build, evidence and strategies.

The panel knows biology, not formats: it is given normalised alleles (contig without 'chr', 1-based
position, REF/ALT on the + strand) and says whether they are a resistance alteration, and which.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import yaml

from ctdna_resistance.errors import InputError
from ctdna_resistance.records import BUILDS
from ctdna_resistance.schemas import validate

CODON_TABLE = {
    a + b + c: aa
    for (a, b, c), aa in zip(
        ((x, y, z) for x in "TCAG" for y in "TCAG" for z in "TCAG"),
        "FFLLSSSSYY**CC*WLLLLPPPPHHQQRRRRIIIMTTTTNNKKSSRRVVVVAAAADDEEGGGG",
        strict=True,
    )
}
_COMPLEMENT = str.maketrans("ACGTN", "TGCAN")
TRUNCATING_CONSEQUENCES = frozenset(
    {
        "stop_gained",
        "frameshift_variant",
        "splice_acceptor_variant",
        "splice_donor_variant",
        "start_lost",
    }
)
MECHANISM_LABELS = {
    "ras_mapk": "RAS/MAPK reactivation",
    "egfr_target": "EGFR target alteration",
    "bypass_rtk": "bypass receptor tyrosine kinase",
    "pi3k": "PI3K pathway",
    "other": "other",
}


def reverse_complement(seq: str) -> str:
    return seq.translate(_COMPLEMENT)[::-1]


def translate_codon(codon: str) -> str:
    """One-letter amino acid of a coding-strand codon ('*' for stop, 'X' if it holds an N)."""
    return CODON_TABLE.get(codon.upper(), "X")


def minimal_allele(pos: int, ref: str, alt: str) -> tuple[int, str, str]:
    """Trim bases shared by REF and ALT (suffix first, then prefix) the way vt/bcftools norm do.

    Split multi-allelic records keep the record's padding (REF=GTTT, ALT=GT); trimming gives the
    allele's own minimal representation so it can be compared with the panel.
    """
    while len(ref) > 1 and len(alt) > 1 and ref[-1] == alt[-1]:
        ref, alt = ref[:-1], alt[:-1]
    while len(ref) > 1 and len(alt) > 1 and ref[0] == alt[0]:
        ref, alt, pos = ref[1:], alt[1:], pos + 1
    return pos, ref, alt


def variant_type(ref: str, alt: str) -> str:
    if len(ref) == len(alt):
        return "snv" if len(ref) == 1 else "mnv"
    if len(ref) == 1 and alt[0] == ref[0]:
        return "insertion"
    if len(alt) == 1 and alt[0] == ref[0]:
        return "deletion"
    return "indel"


@dataclass(frozen=True, slots=True)
class Gene:
    symbol: str
    mechanism_group: str
    strand: str
    chrom: str
    start: int
    end: int
    refseq: str
    ensembl: str
    classes: tuple[str, ...]
    evidence: tuple[str, ...]
    strategies: tuple[str, ...]
    ncbi_gene_id: int | None = None  # NCBI Gene (Entrez) ID, when the panel gives it
    uniprot: str = ""  # UniProtKB accession of the canonical protein, when the panel gives it

    @property
    def mechanism(self) -> str:
        return MECHANISM_LABELS[self.mechanism_group]

    def contains(self, chrom: str, pos: int) -> bool:
        return chrom == self.chrom and self.start <= pos <= self.end


@dataclass(frozen=True, slots=True)
class Hotspot:
    gene: str
    protein: str
    hgvsc: str
    chrom: str
    pos: int
    ref: str
    alt: str


@dataclass(frozen=True, slots=True)
class Codon:
    gene: str
    number: int
    ref_aa: str
    ref_codon: str
    chrom: str
    start: int
    end: int
    strand: str

    def translate_change(self, pos: int, ref: str, alt: str) -> str | None:
        """The alternate amino acid when an SNV/MNV lies wholly inside this codon, else None."""
        if len(ref) != len(alt) or pos < self.start or pos + len(ref) - 1 > self.end:
            return None
        genomic = reverse_complement(self.ref_codon) if self.strand == "-" else self.ref_codon
        offset = pos - self.start
        if genomic[offset : offset + len(ref)] != ref:
            return None  # REF disagrees with the panel's codon: not this allele
        changed = genomic[:offset] + alt + genomic[offset + len(ref) :]
        coding = reverse_complement(changed) if self.strand == "-" else changed
        return translate_codon(coding)


@dataclass(frozen=True, slots=True)
class PanelMatch:
    """A normalised allele recognised by the panel as a resistance alteration."""

    gene: Gene
    alteration: str  # HGVS p. (one-letter) or consequence label
    hgvsc: str
    panel_class: str  # hotspot | codon | truncating
    pos: int
    ref: str
    alt: str

    @property
    def type(self) -> str:
        return variant_type(self.ref, self.alt)


class Panel:
    """A validated panel for one genome build."""

    def __init__(self, data: dict, *, build: str, path: str, sha256: str):
        if build not in BUILDS:
            raise InputError(path, f"unknown genome build {build!r}", f"use one of {BUILDS}")
        self.path = path
        self.sha256 = sha256
        self.build = build
        self.name = data["name"]
        self.version = str(data["version"])
        self.sources = {s["id"]: s for s in data.get("sources", [])}
        self.evidence = {e["id"]: e for e in data.get("evidence", [])}
        self.strategies = {s["id"]: s for s in data.get("strategies", [])}
        self.genes: dict[str, Gene] = {}
        self.hotspots: dict[tuple[str, int, str, str], Hotspot] = {}
        self.codons: list[Codon] = []
        for entry in data["genes"]:
            locus = entry["loci"][build]
            gene = Gene(
                symbol=entry["symbol"],
                mechanism_group=entry["mechanism_group"],
                strand=entry["strand"],
                chrom=str(locus["chrom"]),
                start=int(locus["start"]),
                end=int(locus["end"]),
                refseq=entry.get("transcript", {}).get("refseq", ""),
                ensembl=entry.get("transcript", {}).get("ensembl", ""),
                classes=tuple(entry.get("classes", [])),
                evidence=tuple(entry.get("evidence", [])),
                strategies=tuple(entry.get("strategies", [])),
                ncbi_gene_id=(entry.get("ncbi_gene") or {}).get("id"),
                uniprot=(entry.get("uniprot") or {}).get("accession", ""),
            )
            self.genes[gene.symbol] = gene
            for codon in entry.get("codons", []):
                span = codon[build]
                self.codons.append(
                    Codon(
                        gene=gene.symbol,
                        number=int(codon["codon"]),
                        ref_aa=codon["ref_aa"],
                        ref_codon=codon["ref_codon"],
                        chrom=gene.chrom,
                        start=int(span["start"]),
                        end=int(span["end"]),
                        strand=gene.strand,
                    )
                )
            for spot in entry.get("hotspots", []):
                allele = spot[build]
                pos, ref, alt = minimal_allele(int(allele["pos"]), allele["ref"], allele["alt"])
                hotspot = Hotspot(
                    gene.symbol, spot["protein"], spot.get("hgvsc", ""), gene.chrom, pos, ref, alt
                )
                self.hotspots[(gene.chrom, pos, ref, alt)] = hotspot

    # -- queries -------------------------------------------------------------------------------
    def regions(self) -> list[tuple[str, int, int]]:
        """Gene loci as (chrom, start, end), sorted: what an indexed VCF read fetches."""
        return sorted({(g.chrom, g.start, g.end) for g in self.genes.values()}, key=_region_key)

    def small_variant_regions(self) -> list[tuple[str, int, int]]:
        """Loci of the genes with hotspot or truncating classes: where a background is learned."""
        genes = set(self.small_variant_genes)
        return sorted(
            {(g.chrom, g.start, g.end) for g in self.genes.values() if g.symbol in genes},
            key=_region_key,
        )

    def gene_at(self, chrom: str, pos: int) -> Gene | None:
        for gene in self.genes.values():
            if gene.contains(chrom, pos):
                return gene
        return None

    @property
    def small_variant_genes(self) -> list[str]:
        return self.genes_with_classes("hotspot", "truncating")

    def genes_with_classes(self, *classes: str) -> list[str]:
        """Symbols of the genes with any of these resistance classes, sorted."""
        return sorted(g.symbol for g in self.genes.values() if set(classes) & set(g.classes))

    def match(self, chrom: str, pos: int, ref: str, alt: str, annotations=()) -> tuple:
        """(PanelMatch, None) for a resistance allele, else (None, reason, gene symbol or '')."""
        pos, ref, alt = minimal_allele(pos, ref, alt)
        hotspot = self.hotspots.get((chrom, pos, ref, alt))
        if hotspot is not None:
            gene = self.genes[hotspot.gene]
            return PanelMatch(gene, hotspot.protein, hotspot.hgvsc, "hotspot", pos, ref, alt), None
        gene = self.gene_at(chrom, pos)
        if gene is None:
            return None, "not_in_panel", ""
        for codon in self.codons:
            if codon.gene != gene.symbol:
                continue
            alt_aa = codon.translate_change(pos, ref, alt)
            if alt_aa is None:
                continue
            if alt_aa == codon.ref_aa:
                return None, "synonymous_at_panel_codon", gene.symbol
            change = f"p.{codon.ref_aa}{codon.number}{alt_aa}"
            return PanelMatch(gene, change, "", "codon", pos, ref, alt), None
        if "truncating" in gene.classes:
            if not annotations:
                return None, "panel_gene_unannotated", gene.symbol
            for ann in annotations:
                consequences = set(ann.consequence.split("&"))
                if ann.gene == gene.symbol and consequences & TRUNCATING_CONSEQUENCES:
                    label = ann.hgvsp.split(":")[-1] if ann.hgvsp else ann.consequence
                    hgvsc = ann.hgvsc.split(":")[-1]
                    return PanelMatch(gene, label, hgvsc, "truncating", pos, ref, alt), None
        return None, "panel_gene_not_resistance_allele", gene.symbol

    def evidence_for(self, gene: str) -> list[dict]:
        return [self.evidence[i] for i in self.genes[gene].evidence if i in self.evidence]

    def strategies_for(self, gene: str, alteration: str | None = None) -> list[dict]:
        """The gene's strategies; with an alteration, those whose `applies_to` admits it."""
        found = [self.strategies[i] for i in self.genes[gene].strategies if i in self.strategies]
        if alteration is None:
            return found
        named = f"{gene} {alteration}"
        return [s for s in found if "applies_to" not in s or named in s["applies_to"]]


def _region_key(region: tuple[str, int, int]):
    # the end too: regions() sorts a set, and two genes starting at one base would otherwise come
    # out in the order of that run's string hashing
    chrom = region[0]
    key = (region[1], region[2])
    return (0, int(chrom), "", *key) if chrom.isdigit() else (1, 0, chrom, *key)


def file_sha256(path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def load_panel(path, build: str) -> Panel:
    """Read and validate a panel YAML for ``build``; InputError on anything wrong."""
    path = Path(path)
    raw, data = _read_panel(path)
    return Panel(data, build=build, path=str(path), sha256=hashlib.sha256(raw).hexdigest())


def _read_panel(path: Path) -> tuple[bytes, dict]:
    """The panel YAML's bytes and its schema-validated data; InputError on anything wrong."""
    if not path.is_file():
        raise InputError(path, "panel file not found", "check the `panel` key of the config")
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        raise InputError(path, "panel is not UTF-8 text", "save it as UTF-8", record=line) from None
    try:
        # libyaml's loader when PyYAML has it: the pure-Python loader takes ~0.1 s for the panel
        data = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise InputError(
            path,
            f"not valid YAML ({problem})",
            "fix the YAML syntax at that line",
            record=None if mark is None else mark.line + 1,
        ) from None
    validate(data, "panel", path, fix="see panels/README.md for the panel format")
    return raw, data


# A panel parsed and validated once per workflow run (rule prepare_panel) and read as JSON by each
# patient job: parsing the YAML and validating it costs ~0.2 s, json.load ~5 ms (issue 6).
PREPARED_FORMAT = "ctdna-resistance prepared panel 1"


def prepare_panel(path, out) -> None:
    """Validate the panel YAML at ``path`` and write it as JSON to ``out`` (both builds kept)."""
    path = Path(path)
    raw, data = _read_panel(path)
    sha256 = hashlib.sha256(raw).hexdigest()
    # building the Panel runs its own checks (loci, alleles), as load_panel does; it leaves
    # ``data`` as it is
    Panel(data, build=BUILDS[0], path=str(path), sha256=sha256)
    prepared = {"format": PREPARED_FORMAT, "source": str(path), "sha256": sha256, "panel": data}
    with open(out, "w", encoding="utf-8") as handle:
        json.dump(prepared, handle, sort_keys=True, ensure_ascii=False)
        handle.write("\n")


def load_prepared_panel(path, build: str) -> Panel:
    """A panel written by prepare_panel; the provenance (path, sha256) is the source YAML's."""
    try:
        with open(path, encoding="utf-8") as handle:
            prepared = json.load(handle)
    except (OSError, ValueError) as error:
        raise InputError(
            path, f"prepared panel unreadable ({error})", "delete it and re-run"
        ) from None
    if not isinstance(prepared, dict) or prepared.get("format") != PREPARED_FORMAT:
        raise InputError(path, "not a prepared panel of this version", "delete it and re-run")
    return Panel(prepared["panel"], build=build, path=prepared["source"], sha256=prepared["sha256"])
