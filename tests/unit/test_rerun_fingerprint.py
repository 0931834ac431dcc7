"""A patient's fingerprint changes exactly when its rows or the files they name change.

The workflow re-runs a patient job when this digest (a param) changes, as the draws' files are
not the job's inputs (rerun_fingerprint.py). These build sheets on disk and read them with the
product's reader, as the workflow does on the submitting host (files checked, stamps kept) and on
a cluster node (files not checked: the fingerprint looks at the patient's own files).
"""

from __future__ import annotations

import os

import pytest

from ctdna_resistance.errors import InputError
from ctdna_resistance.rerun_fingerprint import cohort_fingerprint, patient_fingerprint, rows_text
from ctdna_resistance.samplesheet import read_cohort

HEADER = "patient\tsample\tcollection_date\tvcf\tnormal_vcf\ttumor_fraction\n"
ROWS = [
    "P1\tP1-T0\t2024-01-01\tP1-T0.vcf\tP1-N.vcf\t0.1\n",
    "P1\tP1-T1\t2024-02-01\tP1-T1.vcf\tP1-N.vcf\t\n",
    "P2\tP2-T0\t2024-01-05\tP2-T0.vcf\t\t\n",
]
TREATMENTS = "patient\tagent\tstart_date\nP1\tcetuximab\t2023-12-01\nP2\tpanitumumab\t2023-12-01\n"


@pytest.fixture
def cohort_dir(tmp_path):
    for name in ("P1-T0.vcf", "P1-T1.vcf", "P1-N.vcf", "P2-T0.vcf"):
        (tmp_path / name).write_text(f"##fileformat=VCFv4.2\n# {name}\n")
        os.utime(tmp_path / name, ns=(1_700_000_000 * 10**9, 1_700_000_000 * 10**9))
    (tmp_path / "samples.tsv").write_text(HEADER + "".join(ROWS))
    (tmp_path / "treatments.tsv").write_text(TREATMENTS)
    return tmp_path


def fingerprints(folder, check_files=True, sheet="samples.tsv"):
    cohort = read_cohort(folder / sheet, folder / "treatments.tsv", check_files=check_files)
    return {
        p: patient_fingerprint(rows(cohort, p), cohort.samples_of(p), cohort.stamps)
        for p in cohort.patients
    }


def rows(cohort, patient):
    return rows_text(cohort.samples_of(patient), cohort.treatments_of(patient))


def test_the_same_rows_and_files_give_the_same_digest_on_the_host_and_on_a_node(cohort_dir):
    host = fingerprints(cohort_dir)
    assert read_cohort(cohort_dir / "samples.tsv", check_files=False).stamps == {}
    assert fingerprints(cohort_dir, check_files=False) == host  # the node stats its own files
    assert len(set(host.values())) == 2 and all(len(v) == 64 for v in host.values())


def test_a_row_moved_down_the_sheet_changes_no_digest(cohort_dir):
    before = fingerprints(cohort_dir)
    (cohort_dir / "samples.tsv").write_text(HEADER + "# a comment\n\n" + "".join(ROWS[::-1]))
    assert fingerprints(cohort_dir) == before


def test_an_edited_row_changes_its_patients_digest_only(cohort_dir):
    before = fingerprints(cohort_dir)
    edited = ROWS[1].replace("\t\n", "\t0.05\n")  # P1-T1 gets a tumour fraction
    (cohort_dir / "samples.tsv").write_text(HEADER + ROWS[0] + edited + ROWS[2])
    after = fingerprints(cohort_dir)
    assert after["P1"] != before["P1"] and after["P2"] == before["P2"]


def test_an_edited_treatment_changes_its_patients_digest_only(cohort_dir):
    before = fingerprints(cohort_dir)
    (cohort_dir / "treatments.tsv").write_text(TREATMENTS.replace("P2\tpanitumumab", "P2\tFOLFOX"))
    after = fingerprints(cohort_dir)
    assert after["P2"] != before["P2"] and after["P1"] == before["P1"]


@pytest.mark.parametrize("change", ["content", "older", "newer"])
def test_a_file_changed_under_the_same_path_changes_its_patients_digest(cohort_dir, change):
    before = fingerprints(cohort_dir)
    normal = cohort_dir / "P1-N.vcf"  # shared by both of P1's draws
    stamp = normal.stat().st_mtime_ns
    if change == "content":
        normal.write_text("##fileformat=VCFv4.2\n# re-called\n")
        os.utime(normal, ns=(stamp, stamp))  # the same time, another size
    else:
        shift = -(10**9) if change == "older" else 10**9
        os.utime(normal, ns=(stamp, stamp + shift))
    for check_files in (True, False):
        after = fingerprints(cohort_dir, check_files)
        assert after["P1"] != before["P1"] and after["P2"] == before["P2"]


def test_the_same_rows_pointing_at_other_files_change_the_digest(cohort_dir):
    before = fingerprints(cohort_dir)
    copy = cohort_dir / "copy"
    copy.mkdir()
    for name in ("P1-T0.vcf", "P1-T1.vcf", "P1-N.vcf", "P2-T0.vcf", "samples.tsv"):
        (copy / name).write_bytes((cohort_dir / name).read_bytes())
        os.utime(copy / name, ns=(1_700_000_000 * 10**9, 1_700_000_000 * 10**9))
    after = fingerprints(cohort_dir, sheet="copy/samples.tsv")  # relative paths: the copies
    assert after["P1"] != before["P1"] and after["P2"] != before["P2"]


def test_a_file_gone_after_the_sheet_was_read_is_named_with_its_sample_and_line(cohort_dir):
    cohort = read_cohort(cohort_dir / "samples.tsv", check_files=False)  # as on a node
    (cohort_dir / "P2-T0.vcf").unlink()
    with pytest.raises(InputError) as error:
        patient_fingerprint(rows(cohort, "P2"), cohort.samples_of("P2"), cohort.stamps)
    said = error.value.message
    assert str(cohort_dir / "P2-T0.vcf") in said
    assert "sample 'P2-T0' (sample sheet line 4) names this vcf file" in said
    assert "cannot be read" in said


def test_the_cohort_digest_follows_the_rows_and_leaves_the_files_alone(cohort_dir):
    cohort = read_cohort(cohort_dir / "samples.tsv", cohort_dir / "treatments.tsv")
    whole = cohort_fingerprint(rows(cohort, p) for p in cohort.patients)
    assert whole != cohort_fingerprint([rows(cohort, "P1"), rows(cohort, "P1")])
    assert whole != cohort_fingerprint([rows(cohort, "P2"), rows(cohort, "P1")])
    # the files are not looked at (a node would stat every file of the sheet): one gone, or
    # touched, leaves the cohort's digest as it was; its patient's job re-runs instead
    (cohort_dir / "P2-T0.vcf").unlink()
    again = read_cohort(
        cohort_dir / "samples.tsv", cohort_dir / "treatments.tsv", check_files=False
    )
    assert cohort_fingerprint(rows(again, p) for p in again.patients) == whole
