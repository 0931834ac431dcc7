"""The sample sheet and treatment timeline: what a user writes, and what they hear when wrong."""

import datetime as dt

import pytest

from ctdna_resistance.errors import InputError
from ctdna_resistance.samplesheet import read_cohort, read_sample_sheet, read_treatments

HEADER = "patient\tsample\tcollection_date\tvcf\n"


@pytest.fixture
def sheet(tmp_path):
    (tmp_path / "a.vcf").write_text("")
    (tmp_path / "b.vcf").write_text("")

    def write(body: str, header: str = HEADER):
        path = tmp_path / "samples.tsv"
        path.write_text(header + body)
        return path

    return write


def test_rows_sorted_by_date_with_default_timepoints_and_paths_relative_to_the_sheet(sheet):
    path = sheet("P1\tS2\t2024-03-01\tb.vcf\nP1\tS1\t2024-01-01\ta.vcf\n")
    samples = read_sample_sheet(path)
    assert [s.sample for s in samples] == ["S1", "S2"]
    assert [s.timepoint for s in samples] == ["T0", "T1"]
    assert samples[0].vcf == path.parent / "a.vcf"
    assert samples[0].collection_date == dt.date(2024, 1, 1)


def test_interleaved_patients_get_default_timepoints_by_date_within_each_patient(sheet):
    header = "patient\tsample\tcollection_date\tvcf\ttimepoint\n"
    body = (
        "P2\tQ2\t2024-05-01\tb.vcf\t\n"
        "P1\tS3\t2024-04-01\ta.vcf\t\n"
        "P2\tQ1\t2024-01-01\ta.vcf\tbaseline\n"
        "P1\tS1\t2024-01-01\tb.vcf\t\n"
        "P1\tS2\t2024-02-01\ta.vcf\tC2D1\n"
    )
    samples = read_sample_sheet(sheet(body, header))
    assert [(s.patient, s.sample, s.timepoint, s.row) for s in samples] == [
        ("P1", "S1", "T0", 5),
        ("P1", "S2", "C2D1", 6),
        ("P1", "S3", "T2", 3),
        ("P2", "Q1", "baseline", 4),
        ("P2", "Q2", "T1", 2),
    ]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("P1\tS1\t2024-01-01\ta.vcf\nP1\tS1\t2024-02-01\tb.vcf\n", "appears twice"),
        ("P1\tS 1\t2024-01-01\ta.vcf\n", "sample"),
        ("P1\t../x\t2024-01-01\ta.vcf\n", "sample"),
        ("P1\tS1\t2024-01-01\tmissing.vcf\n", "does not exist"),
        ("P1\tS1\t2024-01-01\ta.vcf\nP1\tS2\t2024-01-01\tb.vcf\n", "two samples on 2024-01-01"),
        ("P1\tS1\t2024-13-01\ta.vcf\n", "collection_date"),
        ("P1\tS1\t2024-01-01\t\n", "none of vcf, cnv, sv, bam"),
    ],
)
def test_bad_rows_are_refused_naming_the_file_and_line(sheet, body, expected):
    path = sheet(body)
    with pytest.raises(InputError) as caught:
        read_sample_sheet(path)
    message = caught.value.message
    assert str(path) in message
    assert expected in message
    assert "\n" not in message
    assert f"{path}:" in message  # a line number follows the file name


def test_missing_column_is_named(sheet):
    path = sheet("P1\tS1\ta.vcf\n", header="patient\tsample\tvcf\n")
    with pytest.raises(InputError, match="collection_date"):
        read_sample_sheet(path)


def test_treatments_refuse_unknown_patients_and_reversed_dates(sheet, tmp_path):
    samples = sheet("P1\tS1\t2024-01-01\ta.vcf\n")
    header = "patient\tagent\tstart_date\tend_date\tline\n"
    good = tmp_path / "t.tsv"
    good.write_text(
        header + "P1\tcetuximab\t2024-01-02\t2024-06-01\t1\nP1\tFOLFIRI\t2024-01-02\t\t1\n"
    )
    cohort = read_cohort(samples, good)
    anti = [t for t in cohort.treatments if t.is_anti_egfr()]
    assert [t.agent for t in anti] == ["cetuximab"]
    assert cohort.treatments[1].end_date is None or cohort.treatments[0].end_date is None
    bad = tmp_path / "t2.tsv"
    bad.write_text(header + "p-1\tcetuximab\t2024-01-02\t\t1\n")
    with pytest.raises(InputError, match="'p-1' is not in the sample sheet; did you mean 'P1'"):
        read_treatments(bad, {"P1"})
    bad.write_text(header + "P1\tcetuximab\t2024-03-02\t2024-01-01\t1\n")
    with pytest.raises(InputError, match="before start_date"):
        read_treatments(bad, {"P1"})


def test_one_patients_rows_can_be_read_alone(sheet, tmp_path):
    path = sheet(
        "P1\tS1\t2024-01-01\ta.vcf\nP2\tS2\t2024-01-01\tb.vcf\nP1\tS3\t2024-02-01\tb.vcf\n"
    )
    treatments = tmp_path / "t.tsv"
    treatments.write_text(
        "patient\tagent\tstart_date\nP1\tcetuximab\t2024-01-02\nP2\tpanitumumab\t2024-01-02\n"
    )
    cohort = read_cohort(path, treatments, patient="P1")
    assert [s.sample for s in cohort.samples] == ["S1", "S3"]
    assert [t.agent for t in cohort.treatments] == ["cetuximab"]
    with pytest.raises(InputError, match="no samples of patient 'P9'"):
        read_cohort(path, treatments, patient="P9")


def test_one_patients_rows_are_matched_by_the_whole_id_and_other_rows_are_not_split(
    sheet, tmp_path
):
    # P1 is a substring of P10 and of S1 in P10's row: only P1's own rows are read. A row of
    # another patient with a stray tab was refused when the whole sheet was validated (before any
    # job); a patient's job does not split it again.
    path = sheet(
        "P1\tS1\t2024-01-01\ta.vcf\n"
        "P10\tP1-S1\t2024-01-01\tb.vcf\n"
        "P2\tS2\t2024-01-01\tb.vcf\textra\n"
    )
    treatments = tmp_path / "t.tsv"
    treatments.write_text(
        "patient\tagent\tstart_date\nP10\tcetuximab\t2024-01-02\nP1\tpanitumumab\t2024-01-02\n"
    )
    cohort = read_cohort(path, treatments, patient="P1")
    assert [(s.patient, s.sample) for s in cohort.samples] == [("P1", "S1")]
    assert [(t.patient, t.agent) for t in cohort.treatments] == [("P1", "panitumumab")]
    with pytest.raises(InputError, match="fields but the header has"):
        read_sample_sheet(path)


def test_a_timeline_may_cover_more_patients_than_the_sheet(sheet, tmp_path):
    """A lab keeps one timeline: rows of absent patients are skipped and counted, not refused."""
    samples = sheet("P001\tS1\t2024-01-01\ta.vcf\n")
    timeline = tmp_path / "t.tsv"
    timeline.write_text(
        "patient\tagent\tstart_date\n"
        "P001\tcetuximab\t2024-01-02\n"
        "P002\tpanitumumab\t2024-01-02\nP002\tFOLFIRI\t2024-01-02\n"
        "P011\tcetuximab\t2024-02-02\n"
    )
    cohort = read_cohort(samples, timeline)
    assert [(t.patient, t.agent) for t in cohort.treatments] == [("P001", "cetuximab")]
    assert cohort.treatments_skipped == {"P002": 2, "P011": 1}


@pytest.mark.parametrize(
    ("written", "meant"),
    [("p001", "P001"), ("P-001", "P001"), ("P0001", "P001"), ("PT001", "PTA001"),
     ("PTA01", "PAT01"), ("CRC_07", "crc07")],
)  # fmt: skip
def test_a_misspelt_timeline_patient_is_refused_with_did_you_mean(sheet, tmp_path, written, meant):
    samples = sheet(f"{meant}\tS1\t2024-01-01\ta.vcf\n")
    timeline = tmp_path / "t.tsv"
    timeline.write_text(f"patient\tagent\tstart_date\n{written}\tcetuximab\t2024-01-02\n")
    with pytest.raises(InputError, match=f"did you mean '{meant}'") as raised:
        read_cohort(samples, timeline)
    assert raised.value.message.startswith(f"{timeline}:2: ")
