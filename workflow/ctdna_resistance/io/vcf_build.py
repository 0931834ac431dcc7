"""The genome build of a VCF header, from its ##contig lengths, assembly tags or ##reference.

GRCh38 and GRCh37 are told apart by contig lengths (chromosome 1 decides when present), then by
the assembly named in ##contig lines or ##reference/##assembly; a contig of another human
assembly (NCBI36/hg18, T2T-CHM13) is named so that the reader can refuse the file.
"""

from __future__ import annotations

import functools
import re

from ctdna_resistance.genome import CONTIG_LENGTHS
from ctdna_resistance.records import normalise_contig

# Of the mitochondrial lengths only hg19's chrM (16571) names a build: b37 and GRCh38 share the
# rCRS (16569), which is therefore left out.
_GRCH37_LENGTHS = {**CONTIG_LENGTHS["GRCh37"], "MT": 16571}
_GRCH38_LENGTHS = CONTIG_LENGTHS["GRCh38"]

_BUILD_NAME_PATTERNS = (
    ("GRCh37", re.compile(
        r"(?<![a-z0-9])(hg19|grch37|b37|hs37d5|hs37|human_g1k_v37|g1k_v37|assembly19)(?![a-z0-9])"
    )),
    ("GRCh38", re.compile(
        r"(?<![a-z0-9])(hg38|grch38|b38|hs38|hs38dh|assembly38|gca_000001405\.15)(?![a-z0-9])"
    )),
)  # fmt: skip

BUILD_ALIASES = {"grch38": "GRCh38", "hg38": "GRCh38", "grch37": "GRCh37", "hg19": "GRCh37",
                  "b37": "GRCh37"}  # fmt: skip

# chr1/chr12 lengths of assemblies that are neither build but look like one: a VCF against them
# would be matched to GRCh38/37 panel coordinates silently wrong. (Mini-references of tool test
# suites, with made-up lengths, are not refused: nothing says which build they stand for.)
_OTHER_ASSEMBLIES = {
    ("1", 247249719): "NCBI36/hg18",
    ("12", 132349534): "NCBI36/hg18",
    ("1", 248387328): "T2T-CHM13",
    ("12", 133324548): "T2T-CHM13",
}

_CONTIG_LINE = re.compile(r"^##contig=<(.*)>\s*$")


def names_build(text: str) -> str | None:
    """A build named in free text (reference path, assembly tag), or None if none or both."""
    lowered = text.lower()
    found = {build for build, pattern in _BUILD_NAME_PATTERNS if pattern.search(lowered)}
    return found.pop() if len(found) == 1 else None


@functools.lru_cache(maxsize=8)
def header_contigs(header_text: str) -> tuple[tuple[str, int | None, str], ...]:
    """(ID, length, assembly) of each ##contig line, in header order.

    Cached: opening a file asks three times (other assembly, build, contig names), and a header
    with the ~3,400 contigs of GRCh38 + alts/decoys costs ~8 ms a pass.
    """
    contigs = []
    for line in header_text.splitlines():
        match = _CONTIG_LINE.match(line)
        if not match:
            continue
        attributes = dict(re.findall(r"([A-Za-z_]+)=([^,]*)", match.group(1)))
        length = attributes.get("length")
        contigs.append(
            (
                attributes.get("ID", ""),
                int(length) if length and length.isdigit() else None,
                attributes.get("assembly", ""),
            )
        )
    return tuple(contigs)


def foreign_contig(header_text: str) -> str | None:
    """'##contig chr1 length=... is NCBI36/hg18' when a ##contig names another human assembly."""
    for name, length, _assembly in header_contigs(header_text):
        other = _OTHER_ASSEMBLIES.get((normalise_contig(name), length))
        if other is not None:
            return f"##contig {name} length={length} is {other}"
    return None


def detect_build_with_evidence(header_text: str) -> tuple[str | None, str]:
    contigs = header_contigs(header_text)
    votes: dict[str, str] = {}  # build -> first contig line that says so
    chr1_build = None
    for name, length, _assembly in contigs:
        core = normalise_contig(name)
        for build, table in (("GRCh37", _GRCH37_LENGTHS), ("GRCh38", _GRCH38_LENGTHS)):
            if length is not None and table.get(core) == length:
                votes.setdefault(build, f"##contig {name} length={length}")
                if core == "1":
                    chr1_build = build
    if chr1_build is not None:  # chromosome 1 decides when it is there
        return chr1_build, votes[chr1_build]
    if len(votes) == 1:
        build, evidence = next(iter(votes.items()))
        return build, evidence
    if len(votes) > 1:
        return None, "contig lengths of both builds"
    assemblies = {names_build(assembly) for _name, _length, assembly in contigs if assembly}
    assemblies.discard(None)
    if len(assemblies) == 1:
        build = assemblies.pop()
        return build, f"##contig assembly={build}"
    for key in ("reference", "assembly"):
        for line in header_text.splitlines():
            if line.startswith(f"##{key}="):
                build = names_build(line[len(key) + 3 :])
                if build:
                    return build, line.strip()
    return None, ""


def detect_build(header_text_or_vcf) -> str | None:
    """'GRCh38'/'GRCh37' from ##contig lengths, contig assembly tags or ##reference; else None.

    Accepts the header text or an open cyvcf2.VCF.
    """
    header_text = (
        header_text_or_vcf if isinstance(header_text_or_vcf, str) else header_text_or_vcf.raw_header
    )
    return detect_build_with_evidence(header_text)[0]
