"""Per-site background error (issue 20): the background table's format and the model each test uses.

A background table (written by ``background_build``) holds, for every covered position of the
panel's regions and every alternative base, what a set of normal plasmas showed there and the
fitted beta-binomial error: mean error and over-dispersion between normals. ``ErrorModel`` answers,
for one allele, which ``SiteModel`` decides it:

* ``site``: the position's own fit (enough normal reads there);
* ``context``: the error rate of its trinucleotide context x substitution class, learned over all
  positions (the normals are too shallow at the site, or the table has no row but the reference
  FASTA gives the context);
* ``scalar``: ``detection.background_error`` (no table configured, or an MNV/indel, or a site
  neither the table nor the reference covers).

Sites that several normals carry are flagged ``recurrent_artefact`` (most normals) or ``chip_like``
(a minority of normals, at VAFs far above the context's error); an allele there is called only when
the plasma is significantly above that site's own background, and is otherwise filtered with the
flag as its reason.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache

from ctdna_resistance.errors import InputError
from ctdna_resistance.records import normalise_contig
from ctdna_resistance.stats import error_at_least, lod95_against, min_alt_reads_against

FORMAT_NAME = "ctdna_resistance_background"
FORMAT_VERSION = "1.0"
TABLE_NAME = "background.tsv.gz"
COLUMNS = [
    "chrom", "pos", "ref", "alt", "context", "n_normals", "depth", "alt_reads",
    "depth_fwd", "depth_rev", "alt_fwd", "alt_rev", "n_carriers", "normal_alt_reads",
    "normal_depth", "mean_error", "overdispersion", "model_overdispersion", "model", "flag",
]  # fmt: skip
MODELS = ("site", "context", "scalar")
STRAND_MIN_ALT = 10
STRAND_FOLD = 5.0
FLAGS = ("recurrent_artefact", "chip_like")
# a plasma this many times deeper at a site than the normals were (reads per normal) is tested
# on an error tail the normals never showed: false calls exceed alpha there (README, validation)
BEYOND_NORMALS_FOLD = 2.0
_COMPLEMENT = str.maketrans("ACGTN", "TGCAN")
_REBUILD = "rebuild it with `ctdna-resistance background` for this panel and build (README)"


def context_class(trinucleotide: str, alt: str) -> str | None:
    """Pyrimidine-centred substitution class, e.g. 'T[C>T]G'; None without a plain context."""
    trinucleotide, alt = trinucleotide.upper(), alt.upper()
    if len(trinucleotide) != 3 or set(trinucleotide + alt) - set("ACGT"):
        return None
    if trinucleotide[1] in "GA":
        trinucleotide = trinucleotide.translate(_COMPLEMENT)[::-1]
        alt = alt.translate(_COMPLEMENT)
    if alt == trinucleotide[1]:
        return None
    return f"{trinucleotide[0]}[{trinucleotide[1]}>{alt}]{trinucleotide[2]}"


@dataclass(frozen=True)
class SiteModel:
    """The error model that decides one allele: mean error, over-dispersion, where it came from."""

    model: str  # one of MODELS
    mean: float
    overdispersion: float = 0.0
    flag: str = ""  # one of FLAGS, or ''
    detail: str = ""  # how the normals saw the site, for filter details and reports
    # (forward, reverse) error rates when the normals' alt reads sit on one strand, else None
    strand_errors: tuple[float, float] | None = None
    # reads per normal at the site (site rows only): how deep the normals saw it
    normal_depth: float | None = None

    def beyond_normals(self, depth: int | None) -> bool:
        """Whether a plasma of this depth is BEYOND_NORMALS_FOLD x deeper than the normals were
        at the site, so the test extrapolates the tail of the site's error."""
        return bool(self.normal_depth) and (depth or 0) > BEYOND_NORMALS_FOLD * self.normal_depth

    def p_value(self, alt_reads: int, depth: int) -> float:
        """P(X >= alt_reads) at this depth under the site's background alone."""
        return error_at_least(alt_reads, depth, self.mean, self.overdispersion)

    def supported(self, alt_reads: int, depth: int, *, alpha: float, min_alt_reads: int) -> bool:
        """SPEC 5.2's rule against this model: significant and at least min_alt_reads."""
        if depth <= 0 or alt_reads < min_alt_reads:
            return False
        return self.p_value(alt_reads, depth) < alpha

    def lod95(self, depth: int | None, *, alpha: float, min_alt_reads: int) -> float | None:
        """Smallest VAF detected with probability >= 0.95 at this depth under this model."""
        return lod95_against(depth, self.mean, self.overdispersion, alpha, min_alt_reads)

    def min_alt_reads(self, depth: int, *, alpha: float, min_alt_reads: int) -> int:
        return min_alt_reads_against(depth, self.mean, self.overdispersion, alpha, min_alt_reads)

    def clean_strand(self, depth_fwd, alt_fwd, depth, alt_reads) -> StrandTest | None:
        """The strand-aware test where the counts allow: when the normals' error at this site
        sits on one read strand (``strand_errors``) and the plasma's reads are counted by strand
        (a BAM), the alt reads on the other, clean strand are tested against that strand's error
        (an oxidation or end-repair artefact shows on one strand; a real variant on both)."""
        if self.strand_errors is None or None in (depth_fwd, alt_fwd, depth, alt_reads):
            return None
        forward, reverse = self.strand_errors
        if forward <= reverse:
            return StrandTest("forward", depth_fwd, alt_fwd, forward, self.overdispersion)
        return StrandTest(
            "reverse", depth - depth_fwd, alt_reads - alt_fwd, reverse, self.overdispersion
        )


def _one_strand_minimum(min_alt_reads: int) -> int:
    """min_alt_reads on one strand: half the reads, so half the minimum (at least 1)."""
    return max(1, (min_alt_reads + 1) // 2)


@dataclass(frozen=True)
class StrandTest:
    """SPEC 5.2's rule on one read strand, against that strand's background error."""

    strand: str
    depth: int
    alt_reads: int
    error: float
    overdispersion: float

    @property
    def p_value(self) -> float:
        return error_at_least(self.alt_reads, self.depth, self.error, self.overdispersion)

    def supported(self, *, alpha: float, min_alt_reads: int) -> bool:
        needed = _one_strand_minimum(min_alt_reads)
        return self.depth > 0 and self.alt_reads >= needed and self.p_value < alpha

    def lod95(self, *, alpha: float, min_alt_reads: int) -> float | None:
        needed = _one_strand_minimum(min_alt_reads)
        return lod95_against(self.depth, self.error, self.overdispersion, alpha, needed)

    @property
    def note(self) -> str:
        return (
            f"strand-aware: the normals' error here is on the other strand, so the "
            f"{self.alt_reads}/{self.depth} {self.strand}-strand reads were tested "
            f"(error {self.error:.3g}, p={self.p_value:.3g})"
        )


@dataclass(frozen=True)
class TableHeader:
    """What a background table says about itself (its ``##`` lines)."""

    version: str
    build: str
    regions: tuple[tuple[str, int, int], ...]
    normals: tuple[str, ...]
    contexts: dict  # class -> (mean, overdispersion)
    lines: tuple[str, ...]


def parse_header(path, lines: list[str]) -> TableHeader:
    """The ``##key=value`` lines of a background table; InputError when it is not one."""
    meta: dict[str, list[str]] = {}
    for line in lines:
        if line.startswith("##") and "=" in line:
            key, value = line[2:].split("=", 1)
            meta.setdefault(key, []).append(value)
    if FORMAT_NAME not in meta:
        raise InputError(
            path,
            f"not a ctdna-resistance background table (no ##{FORMAT_NAME} line)",
            "give the background.tsv.gz written by `ctdna-resistance background`",
        )
    version = meta[FORMAT_NAME][0]
    if version.split(".")[0] != FORMAT_VERSION.split(".")[0]:
        raise InputError(
            path,
            f"background table format {version}; this version reads {FORMAT_VERSION}",
            _REBUILD,
        )
    regions = []
    for text in ",".join(meta.get("regions", [])).split(","):
        if text:
            chrom, span = text.rsplit(":", 1)
            start, end = span.split("-")
            regions.append((chrom, int(start), int(end)))
    contexts = {}
    for text in meta.get("context", []):
        fields = dict(item.split(":", 1) for item in text.split(";"))
        contexts[fields["class"]] = (float(fields["mean_error"]), float(fields["overdispersion"]))
    normals = tuple(
        text.split(";", 1)[0].removeprefix("sample:") for text in meta.get("normal", [])
    )
    return TableHeader(
        version=version,
        build=(meta.get("genome_build") or [""])[0],
        regions=tuple(regions),
        normals=normals,
        contexts=contexts,
        lines=tuple(lines),
    )


def _covers(regions, chrom: str, start: int, end: int) -> bool:
    return any(c == chrom and s <= start and end <= e for c, s, e in regions)


class BackgroundTable:
    """A background table opened for look-ups (tabix), checked against the run's build and panel."""

    def __init__(self, path, *, build: str, panel_regions=()):
        import pysam

        self.path = str(path)
        if not os.path.isfile(self.path):
            raise InputError(
                path, "background table not found", "build it with `ctdna-resistance background`"
            )
        if not os.path.isfile(self.path + ".tbi"):
            raise InputError(
                path, "no tabix index (.tbi) next to the background table",
                f"index it: tabix -s1 -b2 -e2 -c'#' {self.path}",
            )  # fmt: skip
        try:
            self._tabix = pysam.TabixFile(self.path)
            lines = list(self._tabix.header)
        except (OSError, ValueError) as error:
            raise InputError(
                path, f"cannot read the background table ({error})", _REBUILD
            ) from None
        self.header = parse_header(path, lines)
        if self.header.build != build:
            raise InputError(
                path,
                f"background table built on {self.header.build or 'an unnamed build'}, but the "
                f"run is {build}",
                _REBUILD,
            )
        missing = [r for r in panel_regions if not _covers(self.header.regions, *r)]
        if missing:
            chrom, start, end = missing[0]
            raise InputError(
                path,
                f"background table does not cover the panel region {chrom}:{start}-{end} "
                f"({len(missing)} of {len(panel_regions)} regions missing: built for another "
                "panel)",
                _REBUILD,
            )
        self._contigs = {normalise_contig(name): name for name in self._tabix.contigs}

    def lookup(self, chrom: str, pos: int, ref: str, alt: str) -> SiteModel | None:
        """The table's model for this SNV, None when the table has no row for it."""
        contig = self._contigs.get(normalise_contig(chrom))
        if contig is None:
            return None
        for line in self._tabix.fetch(contig, pos - 1, pos):
            row = dict(zip(COLUMNS, line.split("\t"), strict=True))
            if int(row["pos"]) == pos and row["ref"] == ref and row["alt"] == alt:
                return _site_model(row)
        return None

    def context_model(self, trinucleotide: str, alt: str) -> SiteModel | None:
        label = context_class(trinucleotide, alt)
        if label is None or label not in self.header.contexts:
            return None
        mean, rho = self.header.contexts[label]
        return SiteModel("context", mean, rho, detail=f"context {label}: no row in the table")


def _site_model(row: dict) -> SiteModel:
    carriers = int(row["n_carriers"])
    detail = (
        f"{row['model']} model: {row['context'] and 'context ' + row['context'] + ', '}"
        f"{row['n_normals']} normals, {row['alt_reads']}/{row['depth']} alt reads, "
        f"{carriers} carrying it; mean error {float(row['mean_error']):.3g}, "
        f"over-dispersion {float(row['overdispersion']):.3g}"
    )
    return SiteModel(
        row["model"],
        float(row["mean_error"]),
        float(row["model_overdispersion"]),
        row["flag"],
        detail,
        _strand_errors(row),
        int(row["depth"]) / max(int(row["n_normals"]), 1),
    )


def _strand_errors(row: dict) -> tuple[float, float] | None:
    """Per-strand error when the normals show it strand-biased: >= STRAND_MIN_ALT alt reads and
    one strand's rate >= STRAND_FOLD x the other's (half a read of prior on each)."""
    alt_fwd, alt_rev = int(row["alt_fwd"]), int(row["alt_rev"])
    if alt_fwd + alt_rev < STRAND_MIN_ALT:
        return None
    forward = (alt_fwd + 0.5) / (int(row["depth_fwd"]) + 1.0)
    reverse = (alt_rev + 0.5) / (int(row["depth_rev"]) + 1.0)
    if max(forward, reverse) < STRAND_FOLD * min(forward, reverse):
        return None
    return forward, reverse


class ErrorModel:
    """Which SiteModel decides each allele (see the module docstring)."""

    def __init__(self, detection: dict, table: BackgroundTable | None = None, reference=None):
        self.scalar = SiteModel(
            "scalar",
            float(detection["background_error"]),
            detail=f"scalar background error {detection['background_error']}",
        )
        self.table = table
        self._reference = reference
        self._fasta = None
        self.site = lru_cache(maxsize=None)(self._site)

    @property
    def name(self) -> str:
        """'site' when a background table is in use, else 'scalar'."""
        return "site" if self.table is not None else "scalar"

    def _site(self, chrom: str, pos: int, ref: str, alt: str) -> SiteModel:
        if self.table is None or len(ref) != 1 or len(alt) != 1:
            return self.scalar
        found = self.table.lookup(chrom, pos, ref, alt)
        if found is not None:
            return found
        context = self._context(chrom, pos)
        if context is not None:
            model = self.table.context_model(context, alt)
            if model is not None:
                return model
        return self.scalar

    def _context(self, chrom: str, pos: int) -> str | None:
        if not self._reference:
            return None
        import pysam

        if self._fasta is None:
            self._fasta = pysam.FastaFile(str(self._reference))
            self._fasta_contigs = {normalise_contig(n): n for n in self._fasta.references}
        contig = self._fasta_contigs.get(normalise_contig(chrom))
        if contig is None or pos < 2:
            return None
        return self._fasta.fetch(contig, pos - 2, pos + 1).upper()


def error_model(config: dict | None, detection: dict, panel=None) -> ErrorModel:
    """The run's ErrorModel: the configured background table (checked against the build and the
    panel's regions), else the scalar ``detection.background_error`` (``detection``: the run's
    detection settings)."""
    config = config or {}
    det = detection
    path = config.get("background") or None
    if not path:
        return ErrorModel(det)
    table = BackgroundTable(
        path,
        build=config.get("genome_build") or (panel.build if panel is not None else ""),
        panel_regions=panel.small_variant_regions() if panel is not None else (),
    )
    reference = config.get("reference_fasta") or config.get("reference") or None
    return ErrorModel(det, table, reference)
