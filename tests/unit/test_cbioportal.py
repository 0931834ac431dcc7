"""cBioPortal export: the study folder's files checked against the format documentation.

Required meta keys and columns are copied from cBioPortal's "File Formats" page
(https://docs.cbioportal.org/file-formats/, sections Cancer Study, Clinical Data, Discrete Copy
Number Data, Mutation Data, Case Lists, Timeline Data) and the validator's META_FIELD_MAP
(cBioPortal/cbioportal-core scripts/importer/cbioportal_common.py).
"""

from __future__ import annotations

import copy
import csv
import json
from pathlib import Path

import pytest

from ctdna_resistance.errors import InputError
from ctdna_resistance.export.cbioportal import write_cbioportal_study
from ctdna_resistance.export.maf import (
    MAF_COLUMNS,
    draw_maf_rows,
    hgvsp_short,
    maf_alleles,
    maf_sort_key,
    panel_gene_ids,
    variant_classification,
    write_maf,
)
from ctdna_resistance.panel import load_panel

FIXTURE = Path(__file__).parent / "data" / "longitudinal_reports.json"
PANEL = Path(__file__).resolve().parents[2] / "panels" / "anti_egfr_crc.yaml"
STUDY_ID = "ctdna_test"

# docs "Cancer Study" meta file: required fields.
STUDY_META_KEYS = {"type_of_cancer", "cancer_study_identifier", "name", "description"}
# docs "Clinical Data" meta files.
CLINICAL_META_KEYS = {
    "cancer_study_identifier",
    "genetic_alteration_type",
    "datatype",
    "data_filename",
}
# docs "Mutation Data" and "Discrete Copy Number Data" (wide format) meta files.
PROFILE_META_KEYS = {
    "cancer_study_identifier",
    "genetic_alteration_type",
    "datatype",
    "stable_id",
    "show_profile_in_analysis_tab",
    "profile_name",
    "profile_description",
    "data_filename",
}
# docs "Timeline Data" meta file.
TIMELINE_META_KEYS = CLINICAL_META_KEYS
# docs "Case Lists": required fields (case_list_category is optional).
CASE_LIST_KEYS = {
    "cancer_study_identifier",
    "stable_id",
    "case_list_name",
    "case_list_description",
    "case_list_ids",
}
# docs "Mutation Data": columns marked Required in the cBioPortal mutation data file format.
MAF_REQUIRED_COLUMNS = {
    "Hugo_Symbol",
    "NCBI_Build",
    "Chromosome",
    "Variant_Classification",
    "Reference_Allele",
    "Tumor_Seq_Allele2",
    "Tumor_Sample_Barcode",
    "HGVSp_Short",
}
# docs "Mutation Data" / variant_classification_filter: the allowed Variant_Classification values.
VARIANT_CLASSIFICATIONS = set(
    [
        "Frame_Shift_Del",
        "Frame_Shift_Ins",
        "In_Frame_Del",
        "In_Frame_Ins",
        "Missense_Mutation",
        "Nonsense_Mutation",
        "Silent",
        "Splice_Site",
        "Translation_Start_Site",
        "Nonstop_Mutation",
        "3'UTR",
        "3'Flank",
        "5'UTR",
        "5'Flank",
        "IGR",
        "Intron",
        "RNA",
        "Targeted_Region",
        "De_novo_Start_InFrame",
        "De_novo_Start_OutOfFrame",
        "Splice_Region",
        "Unknown",
    ]
)
# docs "Timeline Data": the four required columns, in this order.
TIMELINE_COLUMNS = ["PATIENT_ID", "START_DATE", "STOP_DATE", "EVENT_TYPE"]
# docs "Discrete Copy Number Data": allowed values (validator adds NA for missing).
CNA_VALUES = {"-2", "-1", "0", "1", "2", "NA"}
# docs "Case Lists": _sequenced is required with mutation data, _cna with discrete CNA data.
REQUIRED_CASE_LISTS = {"all", "sequenced", "cna"}


@pytest.fixture(scope="module")
def series() -> dict:
    return json.loads(FIXTURE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def genes() -> dict:
    return panel_gene_ids(load_panel(PANEL, "GRCh38"))


@pytest.fixture(scope="module")
def study(series: dict, genes: dict, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("study")
    write_cbioportal_study(
        out,
        study_id=STUDY_ID,
        name="ctDNA test study",
        reports_by_patient=series["reports"],
        treatments=series["treatments"],
        genome_build="GRCh38",
        genes=genes,
    )
    return out


def _meta(path: Path) -> dict[str, str]:
    pairs = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        key, _, value = line.partition(": ")
        pairs[key] = value
    return pairs


def _table(path: Path) -> tuple[list[str], list[dict]]:
    lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line[:1] != "#"]
    reader = csv.DictReader(lines, delimiter="\t")
    return list(reader.fieldnames or []), list(reader)


def _samples(series: dict) -> list[str]:
    return [r["sample"] for p in sorted(series["reports"]) for r in series["reports"][p]]


def test_meta_files_have_the_documented_keys(study: Path) -> None:
    study_meta = _meta(study / "meta_study.txt")
    assert set(study_meta) >= STUDY_META_KEYS
    assert study_meta["cancer_study_identifier"] == STUDY_ID
    assert study_meta["reference_genome"] == "hg38"
    expected = {
        "meta_clinical_patient.txt": (CLINICAL_META_KEYS, "CLINICAL", "PATIENT_ATTRIBUTES"),
        "meta_clinical_sample.txt": (CLINICAL_META_KEYS, "CLINICAL", "SAMPLE_ATTRIBUTES"),
        "meta_mutations.txt": (PROFILE_META_KEYS, "MUTATION_EXTENDED", "MAF"),
        "meta_cna.txt": (PROFILE_META_KEYS, "COPY_NUMBER_ALTERATION", "DISCRETE"),
        "meta_timeline_specimen.txt": (TIMELINE_META_KEYS, "CLINICAL", "TIMELINE"),
        "meta_timeline_treatment.txt": (TIMELINE_META_KEYS, "CLINICAL", "TIMELINE"),
    }
    for name, (keys, alteration_type, datatype) in expected.items():
        meta = _meta(study / name)
        assert keys <= set(meta), name
        assert meta["cancer_study_identifier"] == STUDY_ID
        assert (meta["genetic_alteration_type"], meta["datatype"]) == (alteration_type, datatype)
        assert (study / meta["data_filename"]).is_file(), name
    # The validator allows only these stable ids for these profiles.
    assert _meta(study / "meta_mutations.txt")["stable_id"] == "mutations"
    assert _meta(study / "meta_cna.txt")["stable_id"] == "cna"


def test_clinical_files_have_the_five_row_header(study: Path, series: dict) -> None:
    for name, required in (
        ("data_clinical_patient.txt", {"PATIENT_ID"}),
        ("data_clinical_sample.txt", {"PATIENT_ID", "SAMPLE_ID"}),
    ):
        lines = (study / name).read_text(encoding="utf-8").splitlines()
        header_rows = [line.split("\t") for line in lines[:4]]
        columns = lines[4].split("\t")
        assert all(row[0].startswith("#") for row in header_rows), name
        assert all(len(row) == len(columns) for row in header_rows), name
        datatypes = [value.lstrip("#") for value in header_rows[2]]
        assert set(datatypes) <= {"STRING", "NUMBER", "BOOLEAN"}
        assert all(value.lstrip("#").isdigit() for value in header_rows[3])
        assert required <= set(columns), name
        _, rows = _table(study / name)
        for column, datatype in zip(columns, datatypes, strict=True):
            if datatype == "NUMBER":
                for row in rows:
                    assert row[column] == "NA" or float(row[column]) >= 0
    _, samples = _table(study / "data_clinical_sample.txt")
    assert [row["SAMPLE_ID"] for row in samples] == _samples(series)
    _, patients = _table(study / "data_clinical_patient.txt")
    assert [row["PATIENT_ID"] for row in patients] == ["P001", "P002"]
    # No attribute may be both patient- and sample-level (the validator refuses it).
    patient_columns = set((study / "data_clinical_patient.txt").read_text().splitlines()[4].split())
    sample_columns = set((study / "data_clinical_sample.txt").read_text().splitlines()[4].split())
    assert patient_columns & sample_columns == {"PATIENT_ID"}


def test_mutations_file_is_a_sorted_maf_with_the_report_counts(
    study: Path, series: dict, genes: dict
) -> None:
    columns, rows = _table(study / "data_mutations.txt")
    assert set(columns) >= MAF_REQUIRED_COLUMNS
    assert columns == MAF_COLUMNS  # the per-draw MAFs' columns, SWISSPROT last
    # the validator's warnings without them: Entrez and UniProt IDs from the panel
    assert _meta(study / "meta_mutations.txt")["swissprot_identifier"] == "accession"
    for row in rows:
        entrez, accession = genes[row["Hugo_Symbol"]]
        assert (row["Entrez_Gene_Id"], row["SWISSPROT"]) == (str(entrez), accession)
    assert {(r["Hugo_Symbol"], r["Entrez_Gene_Id"], r["SWISSPROT"]) for r in rows} >= {
        ("KRAS", "3845", "P01116")
    }
    samples = set(_samples(series))
    detected = {
        (r["sample"], a["key"]): a
        for reports in series["reports"].values()
        for r in reports
        for a in r["alterations"]
        if a["type"] != "amplification"
    }
    assert len(rows) == len(detected)
    for row in rows:
        assert row["Tumor_Sample_Barcode"] in samples
        assert row["Variant_Classification"] in VARIANT_CLASSIFICATIONS
        assert row["NCBI_Build"] == "GRCh38"
        assert int(row["Start_Position"]) <= int(row["End_Position"])
        match = [
            a
            for (sample, _), a in detected.items()
            if sample == row["Tumor_Sample_Barcode"] and a["gene"] == row["Hugo_Symbol"]
        ]
        assert len(match) == 1
        assert int(row["t_alt_count"]) == match[0]["alt_reads"]
        assert int(row["t_ref_count"]) + int(row["t_alt_count"]) == match[0]["depth"]
    order = [(r["Tumor_Sample_Barcode"]) for r in rows]
    assert order == sorted(order)


def test_cna_file_has_every_sample_and_valid_levels(study: Path, series: dict) -> None:
    columns, rows = _table(study / "data_cna.txt")
    assert columns == ["Hugo_Symbol", "Entrez_Gene_Id", *_samples(series)]
    assert [(row["Hugo_Symbol"], row["Entrez_Gene_Id"]) for row in rows] == [("MET", "4233")]
    assert all(row[s] in CNA_VALUES for row in rows for s in columns[2:])
    assert rows[0]["P002-T2"] == "2"
    # No copy-number input in these draws: not assessed, never a claimed diploid 0.
    assert rows[0]["P001-T0"] == "NA"


def test_timeline_files(study: Path, series: dict) -> None:
    columns, specimens = _table(study / "data_timeline_specimen.txt")
    assert columns[:4] == TIMELINE_COLUMNS
    assert {row["EVENT_TYPE"] for row in specimens} == {"SPECIMEN"}
    expected = {
        r["sample"]: r["days_since_baseline"] for p in series["reports"].values() for r in p
    }
    assert {row["SAMPLE_ID"]: int(row["START_DATE"]) for row in specimens} == expected
    columns, treatments = _table(study / "data_timeline_treatment.txt")
    assert columns[:4] == TIMELINE_COLUMNS
    assert "AGENT" in columns
    assert {row["EVENT_TYPE"] for row in treatments} == {"TREATMENT"}
    cetuximab = next(row for row in treatments if row["AGENT"] == "cetuximab")
    # P001 baseline 2024-01-10; cetuximab 2024-01-26 to 2024-06-03.
    assert (cetuximab["START_DATE"], cetuximab["STOP_DATE"]) == ("16", "145")
    assert cetuximab["AGENT_CLASS"] == "anti-EGFR"
    ongoing = next(row for row in treatments if row["AGENT"] == "panitumumab")
    assert ongoing["STOP_DATE"] == ""
    assert all(int(row["START_DATE"]) == int(row["START_DATE"].strip()) for row in treatments)


def test_case_lists(study: Path, series: dict) -> None:
    samples = _samples(series)
    lists = {
        path.stem.removeprefix("cases_"): _meta(path) for path in (study / "case_lists").iterdir()
    }
    assert set(lists) >= REQUIRED_CASE_LISTS
    for suffix, meta in lists.items():
        assert set(meta) >= CASE_LIST_KEYS, suffix
        assert meta["stable_id"] == f"{STUDY_ID}_{suffix}"
        ids = meta["case_list_ids"].split("\t")
        assert set(ids) <= set(samples)
    assert lists["all"]["case_list_ids"].split("\t") == samples


def test_study_is_byte_identical_on_rerun(
    study: Path, series: dict, genes: dict, tmp_path: Path
) -> None:
    write_cbioportal_study(
        tmp_path,
        study_id=STUDY_ID,
        name="ctDNA test study",
        reports_by_patient=copy.deepcopy(series["reports"]),
        treatments=list(reversed(series["treatments"])),
        genome_build="GRCh38",
        genes=dict(reversed(list(genes.items()))),
    )
    for path in sorted(study.rglob("*.txt")):
        assert (tmp_path / path.relative_to(study)).read_bytes() == path.read_bytes(), path.name


def test_bad_study_id_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="study id"):
        write_cbioportal_study(
            tmp_path,
            study_id="bad id;rm",
            name="x",
            reports_by_patient={},
            treatments=[],
            genome_build="GRCh38",
        )


def test_maf_alleles_follow_maf_conventions() -> None:
    assert maf_alleles(100, "C", "T") == (100, 100, "C", "T", "SNP")
    assert maf_alleles(100, "CA", "TG") == (100, 101, "CA", "TG", "DNP")
    # VCF deletion with anchor base: the deleted bases start one after the anchor.
    assert maf_alleles(140753334, "CTTA", "C") == (140753335, 140753337, "TTA", "-", "DEL")
    # Insertion sits between Start and End = Start + 1.
    assert maf_alleles(200, "G", "GTT") == (200, 201, "-", "TT", "INS")


def test_protein_changes_and_classifications() -> None:
    assert hgvsp_short("ENSP00000256078.5:p.Gly12Asp") == "p.G12D"
    assert hgvsp_short("p.(Gln61Ter)") == "p.Q61*"
    assert hgvsp_short("amplification") == ""
    assert variant_classification("p.G12D", "SNP", "C", "T") == "Missense_Mutation"
    assert variant_classification("p.Q61*", "SNP", "C", "T") == "Nonsense_Mutation"
    assert variant_classification("p.V600_K601delinsE", "DEL", "TTA", "-") == "In_Frame_Del"
    assert variant_classification("p.R1000fs", "DEL", "A", "-") == "Frame_Shift_Del"
    assert variant_classification("p.*1211Wext*?", "SNP", "A", "G") == "Nonstop_Mutation"
    assert variant_classification("p.S464=", "SNP", "A", "G") == "Silent"


def test_draw_maf_rows_and_write_maf(series: dict, tmp_path: Path) -> None:
    report = series["reports"]["P002"][-1]
    rows = draw_maf_rows(report)
    # NRAS SNV and BRAF deletion; the MET amplification is not a mutation.
    assert [row["Hugo_Symbol"] for row in rows] == ["NRAS", "BRAF"]
    assert rows[1]["HGVSp_Short"] == "p.V600_K601delinsE"
    write_maf(tmp_path / "draw.maf", rows)
    lines = (tmp_path / "draw.maf").read_text().splitlines()
    assert lines[0].startswith("#version")
    assert lines[1].split("\t") == MAF_COLUMNS
    assert len(lines) == 4


def test_a_draws_maf_carries_the_study_mafs_gene_ids(
    series: dict, genes: dict, study: Path, tmp_path: Path
) -> None:
    # Each draw's MAF (reports/<sample>.maf) takes Entrez_Gene_Id and SWISSPROT from the panel's
    # sourced IDs as the study's MAF does: the same columns, and the same cells for each variant.
    panel = load_panel(PANEL, "GRCh38")
    study_columns, study_rows = _table(study / "data_mutations.txt")
    # GDC MAF: Entrez_Gene_Id is the second column; SWISSPROT is cBioPortal's optional one
    assert study_columns[:2] == ["Hugo_Symbol", "Entrez_Gene_Id"]
    assert study_columns[-1] == "SWISSPROT"

    def variant(row: dict) -> tuple:
        columns = ("Tumor_Sample_Barcode", "Start_Position", "Reference_Allele")
        return tuple(row[c] for c in (*columns, "Tumor_Seq_Allele2"))

    in_study = {variant(row): row for row in study_rows}
    seen = []
    for report in (r for reports in series["reports"].values() for r in reports):
        path = tmp_path / f"{report['sample']}.maf"
        write_maf(path, draw_maf_rows(report, genes))
        columns, rows = _table(path)
        assert columns == study_columns
        for row in rows:
            assert row == in_study[variant(row)]
            gene = panel.genes[row["Hugo_Symbol"]]
            assert (row["Entrez_Gene_Id"], row["SWISSPROT"]) == (
                str(gene.ncbi_gene_id),
                gene.uniprot,
            )
            seen.append((row["Hugo_Symbol"], row["Entrez_Gene_Id"], row["SWISSPROT"]))
    assert len(seen) == len(study_rows)
    assert ("NRAS", "4893", "P01111") in seen  # NRAS's IDs in every cancer database


def test_mutations_are_in_sample_order_across_patients(series: dict, tmp_path: Path) -> None:
    # The study is written one patient at a time; the MAF is still sorted by sample first, so a
    # later patient whose sample IDs sort earlier has its rows first (as one global sort would).
    reports = copy.deepcopy(series["reports"])
    for report in reports["P002"]:
        report["sample"] = "A" + report["sample"]
    write_cbioportal_study(
        tmp_path,
        study_id=STUDY_ID,
        name="ctDNA test study",
        reports_by_patient=reports,
        treatments=series["treatments"],
        genome_build="GRCh38",
    )
    lines = (tmp_path / "data_mutations.txt").read_text(encoding="utf-8").splitlines()
    header = lines[1].split("\t")
    rows = [dict(zip(header, line.split("\t"), strict=True)) for line in lines[2:]]
    barcodes = [row["Tumor_Sample_Barcode"] for row in rows]
    assert barcodes[0].startswith("AP002") and barcodes[-1].startswith("P001")
    expected = sorted(
        (row for patient in reports.values() for r in patient for row in draw_maf_rows(r)),
        key=maf_sort_key,
    )
    assert [(r["Tumor_Sample_Barcode"], r["Start_Position"]) for r in rows] == [
        (r["Tumor_Sample_Barcode"], str(r["Start_Position"])) for r in expected
    ]
