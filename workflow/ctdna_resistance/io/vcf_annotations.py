"""VEP CSQ and SnpEff ANN annotations of small-variant VCF records, per ALT allele (SPEC 3.4).

`AnnotationField` reads the field's column layout from its header description and splits a
record's raw value into `Annotation`s of each ALT, matching VEP's trimmed indel alleles.
"""

from __future__ import annotations

import re
from typing import ClassVar
from urllib.parse import unquote

from ctdna_resistance.records import Annotation


def vep_trimmed(ref: str, alts: list[str]) -> list[str]:
    """ALT alleles as VEP writes them in CSQ: a first base shared by all alleles is dropped."""
    alleles = [ref, *alts]
    if all(len(allele) > 0 and allele[0] == ref[0] for allele in alleles) and any(
        len(allele) > 1 for allele in alleles
    ):
        return [alt[1:] or "-" for alt in alts]
    return list(alts)


class AnnotationField:
    """One INFO annotation field (VEP CSQ or SnpEff ANN) with the column positions it needs."""

    _COLUMNS: ClassVar[dict[str, tuple]] = {
        "CSQ": ("Allele", ("SYMBOL", "Gene"), "Feature", "Consequence", "HGVSc", "HGVSp"),
        "ANN": ("Allele", ("Gene_Name", "Gene_ID"), "Feature_ID", "Annotation", "HGVS.c",
                "HGVS.p"),
    }  # fmt: skip
    _ANN_DEFAULT = (
        "Allele | Annotation | Annotation_Impact | Gene_Name | Gene_ID | Feature_Type | "
        "Feature_ID | Transcript_BioType | Rank | HGVS.c | HGVS.p"
    )

    def __init__(self, key: str, description: str):
        self.key = key
        if key == "CSQ":
            match = re.search(r"Format:\s*([^\"]+)", description)
            names_text = match.group(1) if match else ""
        else:
            match = re.search(r"'([^']+)'", description)
            names_text = match.group(1) if match else self._ANN_DEFAULT
        names = [name.strip() for name in names_text.split("|")]
        self.position = {name: index for index, name in enumerate(names)}
        allele, gene, transcript, consequence, hgvsc, hgvsp = self._COLUMNS[key]
        self.allele = self.position.get(allele)
        self.gene = next((self.position[n] for n in gene if n in self.position), None)
        self.transcript = self.position.get(transcript)
        self.consequence = self.position.get(consequence)
        self.hgvsc = self.position.get(hgvsc)
        self.hgvsp = self.position.get(hgvsp)
        self.allele_num = self.position.get("ALLELE_NUM")

    @property
    def usable(self) -> bool:
        return self.allele is not None

    def per_allele(self, value: str, ref: str, alts: list[str]) -> list[list[Annotation]]:
        """Annotations of each ALT (in ALT order) from the raw INFO value."""
        result: list[list[Annotation]] = [[] for _ in alts]
        entries = [entry.split("|") for entry in value.split(",") if entry]
        trimmed = vep_trimmed(ref, alts)
        # VEP trims indel alleles, SnpEff usually writes the ALT as is: try the tool's own form
        # first and use the other only when it explains every entry of this record.
        forms = [trimmed, list(alts)] if self.key == "CSQ" else [list(alts), trimmed]
        alleles = [self._cell(entry, self.allele) for entry in entries]
        lookup = next(
            (form for form in forms if all(allele in form for allele in alleles)), forms[0]
        )
        for entry, allele in zip(entries, alleles, strict=True):
            index = None
            number = self._cell(entry, self.allele_num)
            if number.isdigit() and 1 <= int(number) <= len(alts):
                index = int(number) - 1
            elif allele in lookup:
                index = lookup.index(allele)
            if index is None:
                continue
            result[index].append(
                Annotation(
                    gene=self._cell(entry, self.gene),
                    transcript=self._cell(entry, self.transcript),
                    consequence=self._cell(entry, self.consequence),
                    hgvsc=unquote(self._cell(entry, self.hgvsc)),
                    hgvsp=unquote(self._cell(entry, self.hgvsp)),
                    source=self.key,
                )
            )
        return result

    @staticmethod
    def _cell(entry: list[str], position: int | None) -> str:
        if position is None or position >= len(entry):
            return ""
        return entry[position].strip()
