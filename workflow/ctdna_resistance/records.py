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
    ``inconsistency`` is set when the record's values contradict its header or each other
    (record_consistency: a fraction above 1, an AD array too short, alt reads above the depth);
    such records are filtered as inconsistent_record, never reported.
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
    inconsistency: str | None = None

    @property
    def is_pass(self) -> bool:
        return not self.filters

    @property
    def key(self) -> str:
        """Alteration key used across draws: chrom:pos:ref>alt on the panel's contig style."""
        return f"{self.chrom}:{self.pos}:{self.ref}>{self.alt}"


@dataclass(frozen=True, slots=True)
class Segment:
    """One copy-number segment (or bin) of one sample, on the panel's contig style.

    ``log2`` is the log2 copy ratio against a diploid normal, whatever scale the file used;
    ``copy_number`` is an absolute copy number when the caller gives one (CNVkit call `cn`,
    PURPLE), else None. ``record_no`` is the 1-based data line in the file, for messages.
    """

    source: str
    record_no: int
    chrom: str
    start: int  # 1-based, inclusive
    end: int  # inclusive
    log2: float
    n_bins: int | None = None
    copy_number: float | None = None
    gene: str = ""  # the caller's gene annotation, when it gives one (CNVkit `gene` column)


@dataclass(frozen=True, slots=True)
class SvBreakend:
    """One side of a structural variant or fusion: where it is and what supports it."""

    chrom: str
    pos: int
    strand: str = ""  # '+' or '-' when the caller says which side is joined, else ''


@dataclass(frozen=True, slots=True)
class SvEvent:
    """One rearrangement joining two breakends (a BND pair, INV, DEL, DUP or a fusion-table row).

    Support counts follow the callers: ``split_reads`` (Manta SR alt, Delly RV, GRIDSS SR),
    ``spanning_reads`` (Manta PR alt, Delly DV, GRIDSS RP), ``ref_reads`` (reads supporting the
    reference at the breakends: Manta PR+SR ref, Delly RR+DR, GRIDSS REF+REFPAIR), each None when
    the caller does not give it.
    """

    source: str
    record_no: int
    event_id: str
    sv_type: str  # BND, INV, DEL, DUP, INS, FUSION (table rows)
    a: SvBreakend
    b: SvBreakend
    filters: tuple[str, ...]
    caller: str
    split_reads: int | None = None
    spanning_reads: int | None = None
    ref_reads: int | None = None
    gene_a: str = ""  # as named by the caller or fusion table, if it names them
    gene_b: str = ""
    problem: str | None = None
