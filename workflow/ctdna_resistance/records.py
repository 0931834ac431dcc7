"""The normalised records that every reader produces and every later stage consumes."""

from __future__ import annotations

from dataclasses import dataclass, field

BUILDS = ("GRCh38", "GRCh37")


def normalise_contig(name: str) -> str:
    """Map 'chr12'/'12', 'chrX'/'X', 'chrM'/'M'/'MT' to the panel's style ('12', 'X', 'MT')."""
    core = name[3:] if name.lower().startswith("chr") else name
    if core in ("M", "m", "MT", "mt"):
        return "MT"
    return core.upper() if core.lower() in ("x", "y") else core


@dataclass(frozen=True, slots=True)
class Annotation:
    """One transcript consequence from VEP CSQ or SnpEff ANN, for one ALT allele."""

    gene: str
    transcript: str
    consequence: str
    hgvsc: str
    hgvsp: str
    source: str  # "CSQ" or "ANN"


@dataclass(frozen=True, slots=True)
class VariantRecord:
    """One ALT allele of one VCF record, with that allele's own counts.

    ``record_no`` is the 1-based index of the data line in the file, so a message or the filtered
    table can point back at it; ``alt_index`` is the 1-based position of this ALT in the record.
    ``problem`` is set by the reader when the record cannot be assessed (symbolic or empty ALT,
    no depth for this record ...); such records are listed as filtered with that reason.
    """

    source: str
    record_no: int
    chrom: str  # normalised with normalise_contig
    raw_chrom: str
    pos: int  # 1-based, as in the VCF
    ref: str
    alt: str
    alt_index: int
    n_alts: int
    filters: tuple[str, ...]  # () means PASS
    depth: int | None
    alt_reads: int | None
    vaf: float | None
    caller: str
    vcf_id: str = ""
    annotations: tuple[Annotation, ...] = field(default_factory=tuple)
    problem: str | None = None

    @property
    def is_pass(self) -> bool:
        return not self.filters

    @property
    def key(self) -> str:
        """Alteration key used across draws: chrom:pos:ref>alt on the panel's contig style."""
        return f"{self.chrom}:{self.pos}:{self.ref}>{self.alt}"
