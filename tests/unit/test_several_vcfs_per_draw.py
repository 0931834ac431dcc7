"""Several small-variant files per draw (issue 18): Strelka2's SNV and indel VCFs in the `vcf`
column as 'snvs.vcf;indels.vcf', read as one draw; an allele in two files is kept once when the
values agree and refused when they do not; a Strelka file holding both halves whose header does
not declare the indel keys (TAR/TIR) has its indels read, with a note in the accounting."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from ctdna_resistance.calls import call_sample
from ctdna_resistance.errors import InputError
from ctdna_resistance.io.vcf import open_vcf
from ctdna_resistance.panel import load_panel
from ctdna_resistance.samplesheet import read_sample_sheet

REPO = Path(__file__).resolve().parents[2]
VCF = REPO / "tests" / "formats" / "data" / "vcf"
PANEL = load_panel(REPO / "panels" / "anti_egfr_crc.yaml", "GRCh38")
EXON19_DELETION = ("7", 55174772, "GGAATTAAGAGAAGCA", "G")  # strelka2_indels.vcf: TAR 270, TIR 30


def draw(folder: Path, vcf: str):
    sheet = folder / "samples.tsv"
    sheet.write_text(f"patient\tsample\tcollection_date\tvcf\nP1\tS1\t2024-01-01\t{vcf}\n")
    (sample,) = read_sample_sheet(sheet)
    return sample


def copy(folder: Path, name: str, target: str | None = None) -> str:
    shutil.copy(VCF / name, folder / (target or name))
    return target or name


def rows_at(filtered: list[dict], chrom: str, pos: int) -> list[dict]:
    return [row for row in filtered if row["chrom"] == chrom and int(row["pos"]) == pos]


def test_strelka2_snv_and_indel_files_are_one_draw(tmp_path):
    snvs, indels = copy(tmp_path, "strelka2_snvs.vcf"), copy(tmp_path, "strelka2_indels.vcf")
    sample = draw(tmp_path, f"{snvs};{indels}")
    assert [p.name for p in sample.vcfs] == [snvs, indels]
    assert set(sample.inputs()) >= {"vcf", "vcf_2"}  # both are in the patient job's fingerprint
    calls = call_sample(sample, PANEL)
    reported = {(row["gene"], row["alteration"]) for row in calls.alterations}
    assert ("BRAF", "p.V600E") in reported  # from the SNV file
    (indel,) = rows_at(calls.filtered, "7", EXON19_DELETION[1])  # from the indel file, counted
    assert (indel["depth"], indel["alt_reads"], indel["ref"]) == (300, 30, EXON19_DELETION[2])
    acct = calls.accounting
    assert [Path(f["path"]).name for f in acct["vcf"]["files"]] == [snvs, indels]
    alleles = sum(len(list(open_vcf(tmp_path / name))) for name in (snvs, indels))
    assert acct["alleles_read"] == alleles == len(calls.alterations) + len(calls.filtered)
    assert acct["reconciles"]
    assert [entry["role"] for entry in acct["inputs"]] == ["vcf", "vcf"]


def test_an_allele_in_two_files_with_the_same_values_is_kept_once(tmp_path):
    first = copy(tmp_path, "strelka2_snvs.vcf")
    second = copy(tmp_path, "strelka2_snvs.vcf", "shard_2.vcf")
    calls = call_sample(draw(tmp_path, f"{first};{second}"), PANEL)
    single = call_sample(draw(tmp_path, first), PANEL)
    assert calls.alterations == single.alterations  # reported once
    duplicates = [row for row in calls.filtered if row["reason"] == "duplicate_allele"]
    assert len(duplicates) == single.accounting["alleles_read"]
    assert all(f"also in {first} record" in row["detail"] for row in duplicates)
    assert calls.accounting["reconciles"]
    assert calls.accounting["filtered_by_reason"]["duplicate_allele"] == len(duplicates)


def test_an_allele_in_two_files_with_other_values_is_refused(tmp_path):
    first = copy(tmp_path, "strelka2_snvs.vcf")
    text = (
        (VCF / "strelka2_snvs.vcf")
        .read_text()
        .replace("180,182:0,0:1,1:19,20", "180,182:0,0:1,1:29,30")
    )
    (tmp_path / "other.vcf").write_text(text)
    with pytest.raises(InputError) as raised:
        call_sample(draw(tmp_path, f"{first};other.vcf"), PANEL)
    message = raised.value.message
    assert message.startswith(str(tmp_path / "other.vcf"))
    assert "7:140753336 A>T (record 1) is also in" in message
    assert "with other values" in message and "\n" not in message


def test_a_concatenated_strelka_file_without_indel_keys_in_its_header_reads_its_indels(tmp_path):
    snv_text = (VCF / "strelka2_snvs.vcf").read_text()
    indel_line = (VCF / "strelka2_indels.vcf").read_text().splitlines()[-1]
    (tmp_path / "both.vcf").write_text(snv_text.rstrip("\n") + "\n" + indel_line + "\n")
    assert "ID=TAR" not in snv_text
    calls = call_sample(draw(tmp_path, "both.vcf"), PANEL)
    (indel,) = rows_at(calls.filtered, "7", EXON19_DELETION[1])
    assert (indel["depth"], indel["alt_reads"]) == (300, 30)
    assert indel["reason"] != "unreadable_record"
    assert calls.accounting["vcf"]["undeclared_fields_read"] == ["FORMAT/TAR", "FORMAT/TIR"]


@pytest.mark.parametrize(
    ("value", "message"),
    [("strelka2_snvs.vcf;;strelka2_indels.vcf", "empty file name"),
     ("strelka2_snvs.vcf;strelka2_snvs.vcf", "twice")],
)  # fmt: skip
def test_a_vcf_list_with_a_gap_or_a_repeat_is_refused(tmp_path, value, message):
    copy(tmp_path, "strelka2_snvs.vcf"), copy(tmp_path, "strelka2_indels.vcf")
    with pytest.raises(InputError, match=message):
        draw(tmp_path, value)


def _bgzip(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target, "wb") as out:
        subprocess.run(["bgzip", "-c", str(source)], stdout=out, check=True)


def test_the_sheet_builder_lists_both_strelka2_files_of_a_sarek_run(tmp_path):
    from ctdna_resistance.samplesheet_builder import build_sample_sheet

    pair = "PL1_T0_vs_PL1_N"
    run = tmp_path / "sarek" / "variant_calling" / "strelka" / pair
    snvs, indels = (
        run / f"{pair}.strelka.somatic_snvs.vcf.gz",
        run / f"{pair}.strelka.somatic_indels.vcf.gz",
    )
    _bgzip(VCF / "strelka2_snvs.vcf", snvs)
    _bgzip(VCF / "strelka2_indels.vcf", indels)
    samples_map = tmp_path / "map.tsv"
    samples_map.write_text("sample\tpatient\tcollection_date\nPL1_T0\tPAT1\t2024-01-10\n")
    sheet = tmp_path / "samples.tsv"
    rows, printout = build_sample_sheet([tmp_path / "sarek"], samples_map, sheet)
    (row,) = rows
    assert row.values()["vcf"] == f"{snvs};{indels}"
    assert any("indels" in line and str(indels) in line for line in printout)
    (sample,) = read_sample_sheet(sheet)
    assert sample.vcfs == (snvs, indels)
    calls = call_sample(sample, PANEL)
    assert rows_at(calls.filtered, "7", EXON19_DELETION[1])[0]["alt_reads"] == 30
    assert ("BRAF", "p.V600E") in {(r["gene"], r["alteration"]) for r in calls.alterations}
