"""MAF rows for the small variants detected in one draw (GDC MAF / cBioPortal mutation data).

Columns follow cBioPortal's "Mutation Data" file format (docs.cbioportal.org/file-formats/
#mutation-data): the 32 TCGA MAF columns, HGVSp_Short and the tumour/normal allele counts, plus the
GDC columns t_depth, HGVSc, HGVSp and Transcript_ID, and cBioPortal's SWISSPROT. Entrez_Gene_Id and
SWISSPROT come from the panel's sourced gene IDs (`panel_gene_ids`), so each draw's MAF and the
cBioPortal study's MAF (`export.cbioportal`) carry the same columns and cells. Alleles are
converted from VCF style (shared anchor base) to MAF style ("-" for the empty allele, Start/End on
the changed bases).
Copy-number and fusion alterations are not mutations and are left out (they go to the CNA file).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ctdna_resistance.panel import Panel

MAF_VERSION_LINE = "#version 2.4"
MAF_COLUMNS = [
    "Hugo_Symbol",
    "Entrez_Gene_Id",
    "Center",
    "NCBI_Build",
    "Chromosome",
    "Start_Position",
    "End_Position",
    "Strand",
    "Variant_Classification",
    "Variant_Type",
    "Reference_Allele",
    "Tumor_Seq_Allele1",
    "Tumor_Seq_Allele2",
    "dbSNP_RS",
    "dbSNP_Val_Status",
    "Tumor_Sample_Barcode",
    "Matched_Norm_Sample_Barcode",
    "Match_Norm_Seq_Allele1",
    "Match_Norm_Seq_Allele2",
    "Tumor_Validation_Allele1",
    "Tumor_Validation_Allele2",
    "Match_Norm_Validation_Allele1",
    "Match_Norm_Validation_Allele2",
    "Verification_Status",
    "Validation_Status",
    "Mutation_Status",
    "Sequencing_Phase",
    "Sequence_Source",
    "Validation_Method",
    "Score",
    "BAM_File",
    "Sequencer",
    "HGVSp_Short",
    "t_alt_count",
    "t_ref_count",
    "n_alt_count",
    "n_ref_count",
    "t_depth",
    "HGVSc",
    "HGVSp",
    "Transcript_ID",
    # cBioPortal "Mutation Data" (optional): the UniProt accession lets the portal draw the
    # canonical isoform's domains
    "SWISSPROT",
]
# gene symbol -> (NCBI Gene ID, UniProt accession), from the panel (`panel_gene_ids`)
GeneIds = Mapping[str, tuple[int | None, str]]
SMALL_VARIANT_TYPES = frozenset({"snv", "mnv", "insertion", "deletion", "indel"})

_THREE_TO_ONE = {
    "Ala": "A", "Arg": "R", "Asn": "N", "Asp": "D", "Cys": "C", "Gln": "Q", "Glu": "E",
    "Gly": "G", "His": "H", "Ile": "I", "Leu": "L", "Lys": "K", "Met": "M", "Phe": "F",
    "Pro": "P", "Ser": "S", "Thr": "T", "Trp": "W", "Tyr": "Y", "Val": "V", "Ter": "*",
    "Sec": "U", "Pyl": "O", "Xaa": "X",
}  # fmt: skip
_THREE_LETTER = re.compile("|".join(_THREE_TO_ONE))
_CHROM_ORDER = {str(n): n for n in range(1, 23)} | {"X": 23, "Y": 24, "MT": 25, "M": 25}


def hgvsp_short(hgvsp: str | None) -> str:
    """p. change in one-letter amino-acid code ("p.Gly12Asp" -> "p.G12D"); "" when none."""
    if not hgvsp:
        return ""
    text = str(hgvsp).split(":")[-1]  # drop a protein accession prefix (ENSP...:p.)
    if not text.startswith("p."):
        return ""
    return (
        _THREE_LETTER.sub(lambda match: _THREE_TO_ONE[match.group(0)], text)
        .replace("(", "")
        .replace(")", "")
    )


def maf_alleles(pos: int, ref: str, alt: str) -> tuple[int, int, str, str, str]:
    """(Start, End, Reference_Allele, Tumor_Seq_Allele2, Variant_Type) from a VCF allele pair.

    The bases REF and ALT share at the start (the VCF anchor) and at the end are trimmed; an empty
    allele becomes "-". An insertion sits between Start and End = Start + 1 (MAF convention).
    """
    ref, alt = ref.upper(), alt.upper()
    prefix = 0
    while prefix < min(len(ref), len(alt)) and ref[prefix] == alt[prefix]:
        prefix += 1
    ref, alt, start = ref[prefix:], alt[prefix:], pos + prefix
    suffix = 0
    while suffix < min(len(ref), len(alt)) and ref[-1 - suffix] == alt[-1 - suffix]:
        suffix += 1
    if suffix:
        ref, alt = ref[: len(ref) - suffix], alt[: len(alt) - suffix]
    if not ref and not alt:
        raise ValueError(f"REF and ALT are identical at {pos}")
    if not ref:
        return start - 1, start, "-", alt, "INS"
    end = start + len(ref) - 1
    if not alt:
        return start, end, ref, "-", "DEL"
    if len(ref) == len(alt):
        kind = {1: "SNP", 2: "DNP", 3: "TNP"}.get(len(ref), "ONP")
        return start, end, ref, alt, kind
    return start, end, ref, alt, "DEL" if len(ref) > len(alt) else "INS"


def variant_classification(protein_change: str, variant_type: str, ref: str, alt: str) -> str:
    """MAF Variant_Classification from the one-letter p. change and the allele lengths."""
    change = protein_change.removeprefix("p.")
    frame_shift = (len(alt.strip("-")) - len(ref.strip("-"))) % 3 != 0
    if not change or change in ("?", "="):
        return "Silent" if change == "=" else ("Splice_Site" if change == "?" else "Unknown")
    if "fs" in change or (variant_type in ("INS", "DEL") and frame_shift):
        return "Frame_Shift_Ins" if variant_type == "INS" else "Frame_Shift_Del"
    if change.endswith("="):
        return "Silent"
    if change.startswith("M1"):
        return "Translation_Start_Site"
    if change.startswith("*") and ("ext" in change or change[-1:] != "*"):
        return "Nonstop_Mutation"
    if change.endswith("*"):
        return "Nonsense_Mutation"
    if "delins" in change:
        return "In_Frame_Ins" if len(alt) > len(ref) else "In_Frame_Del"
    if "dup" in change or "ins" in change:
        return "In_Frame_Ins"
    if "del" in change:
        return "In_Frame_Del"
    return "Missense_Mutation"


def panel_gene_ids(panel: Panel) -> dict[str, tuple[int | None, str]]:
    """NCBI Gene ID and UniProt accession of each panel gene (a `panel.Panel`), by symbol."""
    return {gene.symbol: (gene.ncbi_gene_id, gene.uniprot) for gene in panel.genes.values()}


def gene_id_cells(genes: GeneIds | None, symbol: str) -> dict:
    """The MAF's Entrez_Gene_Id and SWISSPROT cells of a gene (empty when not in ``genes``)."""
    entrez, uniprot = (genes or {}).get(str(symbol), (None, ""))
    return {"Entrez_Gene_Id": entrez, "SWISSPROT": uniprot}


def draw_maf_rows(report: Mapping, genes: GeneIds | None = None) -> list[dict]:
    """One MAF row per small variant detected in this draw's report, sorted by position.

    ``genes``: `panel_gene_ids` of the report's panel, for Entrez_Gene_Id and SWISSPROT (left
    empty without it).
    """
    rows = []
    for alteration in report.get("alterations", []):
        if alteration.get("type") not in SMALL_VARIANT_TYPES:
            continue
        if alteration.get("status") != "detected":
            continue
        start, end, ref, alt, kind = maf_alleles(
            int(alteration["pos"]), str(alteration["ref"]), str(alteration["alt"])
        )
        protein = hgvsp_short(alteration.get("alteration"))
        depth = alteration.get("depth")
        alt_reads = alteration.get("alt_reads")
        gene = alteration.get("gene", "")
        rows.append(
            {
                "Hugo_Symbol": gene,
                **gene_id_cells(genes, gene),
                "NCBI_Build": report.get("genome_build", ""),
                "Chromosome": str(alteration.get("chrom", "")).removeprefix("chr"),
                "Start_Position": start,
                "End_Position": end,
                "Strand": "+",
                "Variant_Classification": variant_classification(protein, kind, ref, alt),
                "Variant_Type": kind,
                "Reference_Allele": ref,
                # Plasma is a mixture: the other allele at the site is the reference.
                "Tumor_Seq_Allele1": ref,
                "Tumor_Seq_Allele2": alt,
                "Tumor_Sample_Barcode": report.get("sample", ""),
                "Mutation_Status": "Somatic",
                "Sequence_Source": "Targeted sequencing",
                "HGVSp_Short": protein,
                "t_alt_count": alt_reads,
                "t_ref_count": None
                if depth is None or alt_reads is None
                else max(int(depth) - int(alt_reads), 0),
                "t_depth": depth,
                "HGVSc": alteration.get("hgvsc") or "",
                "HGVSp": alteration.get("alteration") or "",
                "Transcript_ID": alteration.get("transcript") or "",
            }
        )
    rows.sort(key=maf_sort_key)
    return rows


def maf_sort_key(row: Mapping) -> tuple:
    """Sample, then chromosome in karyotype order, position and alleles."""
    chrom = str(row.get("Chromosome", ""))
    return (
        str(row.get("Tumor_Sample_Barcode", "")),
        _CHROM_ORDER.get(chrom.upper(), 99),
        chrom,
        int(row.get("Start_Position") or 0),
        int(row.get("End_Position") or 0),
        str(row.get("Reference_Allele", "")),
        str(row.get("Tumor_Seq_Allele2", "")),
    )


def format_maf_rows(rows: Iterable[Mapping], columns: Sequence[str] = MAF_COLUMNS) -> str:
    """MAF data lines of ``rows`` in the given order (no header), as `write_maf` writes them."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter="\t", lineterminator="\n")
    for row in rows:
        writer.writerow(["" if row.get(c) is None else str(row.get(c)) for c in columns])
    return buffer.getvalue()


def write_maf_header(handle, columns: Sequence[str] = MAF_COLUMNS) -> None:
    """The version line and the column names."""
    handle.write(MAF_VERSION_LINE + "\n")
    csv.writer(handle, delimiter="\t", lineterminator="\n").writerow(columns)


def write_maf(path, rows: Iterable[Mapping]) -> None:
    """Write rows as a tab-separated MAF with the version line and MAF_COLUMNS (in that order)."""
    with open(path, "w", newline="", encoding="utf-8") as handle:
        write_maf_header(handle)
        handle.write(format_maf_rows(sorted(rows, key=maf_sort_key)))
