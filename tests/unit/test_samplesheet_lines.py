"""The sheet reader's two line paths give the same rows, and the checked one words every fault.

A patient job reads its own rows of the sheet: a plain UTF-8 text without carriage returns is
split once and only the lines holding the patient ID are kept (_fast_lines); any other text is
read line by line with each line checked (_checked_lines). These compare the two paths on texts
that both can read, and check which path a text takes and the errors the checked one gives.
"""

from __future__ import annotations

import itertools
import random

import pytest

from ctdna_resistance.errors import InputError
from ctdna_resistance.samplesheet import (
    _checked_lines,
    _fast_lines,
    _read_tsv,
    read_cohort,
    read_sample_sheet,
)

HEADER = "patient\tsample\tcollection_date\tvcf"
PIECES = [
    "P001\tP001-T0\t2024-01-01\tP001-T0.vcf",
    "P001\tP001-T1\t2024-02-01\tP001-T1.vcf",
    "P0010\tP0010-T0\t2024-01-01\tP0010-T0.vcf",  # holds "P001" as text, not as patient
    "P002\tP002-T0\t2024-01-01\tP001-like.vcf",  # "P001" in another column
    "# P001 a comment naming the patient",
    "",
    "   ",
    "P003\tP003-T0\t2024-03-01\tP003-T0.vcf  ",
]


def texts(n: int = 300):
    """Header (after optional comments and blank lines) and shuffled pieces, with or without a
    BOM and a final newline."""
    rng = random.Random(7)
    for i in range(n):
        lead = rng.choice(["", "# made by hand\n", "\n\n", "#\n\n"])
        body = rng.choices(PIECES, k=rng.randint(0, 8))
        text = lead + HEADER + "\n" + "\n".join(body) + rng.choice(["", "\n", "\n\n"])
        if i % 3 == 0:
            text = "\ufeff" + text
        yield text.encode("utf-8")


def checked_rows(data: bytes, containing: str | None):
    """What the checked path keeps, filtered the way the fast path filters."""
    lines = [(n, line.rstrip("\n")) for n, line in _checked_lines("sheet.tsv", data)]
    if containing is None or not lines:
        return lines
    return lines[:1] + [(n, line) for n, line in lines[1:] if containing in line]


@pytest.mark.parametrize("containing", [None, "P001", "P003", "absent"])
def test_the_fast_path_keeps_the_lines_the_checked_path_keeps(containing):
    for data in texts():
        fast = _fast_lines(data, containing)
        assert fast is not None
        assert fast == checked_rows(data, containing), data


def test_a_patient_gets_the_same_rows_either_way(tmp_path):
    for i, data in enumerate(itertools.islice(texts(), 60)):
        sheet = tmp_path / f"s{i}.tsv"
        sheet.write_bytes(data)
        required = ("patient", "sample", "collection_date")
        for patient in ("P001", "P002", "P003"):
            whole = [
                (n, row) for n, row in _read_tsv(sheet, required, "sheet") if patient in str(row)
            ]
            mine = _read_tsv(sheet, required, "sheet", patient)
            assert mine == whole


def test_crlf_and_non_utf8_texts_take_the_checked_path(tmp_path):
    crlf = (HEADER + "\r\n" + PIECES[0] + "\r\n").encode()
    assert _fast_lines(crlf, "P001") is None
    assert [n for n, _ in _checked_lines("s.tsv", crlf)] == [1, 2]
    sheet = tmp_path / "crlf.tsv"
    sheet.write_bytes(crlf)
    rows = _read_tsv(sheet, ("patient",), "sheet", "P001")
    assert rows == [(2, {"patient": "P001", "sample": "P001-T0", "collection_date":
                         "2024-01-01", "vcf": "P001-T0.vcf"})]  # fmt: skip
    latin1 = (HEADER + "\n" + "P001\tP001-T0\t2024-01-01\tcaf\xe9.vcf\n").encode("latin-1")
    assert _fast_lines(latin1, "P001") is None


def test_a_patient_job_still_refuses_a_cr_only_sheet(tmp_path):
    # old Mac line breaks: one "line" from end to end, refused on line 1 as before
    sheet = tmp_path / "cr.tsv"
    sheet.write_bytes((HEADER + "\r" + PIECES[0] + "\r").encode())
    with pytest.raises(InputError, match=r"carriage return .* CR-only") as error:
        read_sample_sheet(sheet, "P001")
    assert error.value.record == 1


def test_a_line_that_is_not_utf8_is_named_where_it_is_read(tmp_path):
    sheet = tmp_path / "bad.tsv"
    (tmp_path / "P001-T0.vcf").write_text("##fileformat=VCFv4.2\n")
    sheet.write_bytes(
        (HEADER + "\n" + PIECES[0] + "\n").encode() + b"P002\tP002-T0\t2024-01-01\tx\xff.vcf\n"
    )
    # planning reads every row, and refuses the sheet naming the line
    with pytest.raises(InputError, match="byte 0xff at column 26 is not UTF-8") as error:
        read_sample_sheet(sheet)
    assert error.value.record == 3
    # P002's job reads its own row, and refuses it the same way
    with pytest.raises(InputError, match="byte 0xff at column 26 is not UTF-8") as error:
        read_sample_sheet(sheet, "P002")
    assert error.value.record == 3
    # P001's job reads P001's rows only (the others were checked before any job started)
    assert [s.sample for s in read_sample_sheet(sheet, "P001")] == ["P001-T0"]


def test_a_node_reads_the_rows_without_looking_at_their_files(tmp_path):
    # check_files=False: a cluster node's Snakemake parses the workflow again; the submitting run
    # checked the files (Snakemake checks the node's own jobs' inputs)
    sheet = tmp_path / "sheet.tsv"
    sheet.write_text(HEADER + "\n" + PIECES[0] + "\n" + PIECES[3] + "\n")
    with pytest.raises(InputError, match="does not exist"):
        read_cohort(sheet)
    cohort = read_cohort(sheet, check_files=False)
    assert [s.sample for s in cohort.samples] == ["P001-T0", "P002-T0"]
    assert cohort.samples[0].vcf == tmp_path / "P001-T0.vcf"
    # the rows themselves are still checked
    sheet.write_text(HEADER + "\n" + "P001\tP001-T0\t2024-13-01\tP001-T0.vcf\n")
    with pytest.raises(InputError, match="not an ISO date"):
        read_cohort(sheet, check_files=False)


@pytest.mark.parametrize("containing, kept", [("", [2, 4]), (" ", [])])
def test_a_blank_search_text_takes_the_checked_path(tmp_path, containing, kept):
    # no patient ID is blank; should one come, the rows are those the line-by-line path keeps
    # (every data row holds "", none of these a space; the blank line 3 is never a row)
    data = (HEADER + "\n" + PIECES[0] + "\n   \n" + PIECES[3] + "\n").encode()
    assert _fast_lines(data, containing) is None
    sheet = tmp_path / "s.tsv"
    sheet.write_bytes(data)
    rows = _read_tsv(sheet, ("patient",), "sheet", containing)
    assert [n for n, _ in rows] == kept
