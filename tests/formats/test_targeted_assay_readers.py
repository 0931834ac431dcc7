"""ddPCR/BEAMing readers (issue 17) on real QuantaSoft and QX Manager exports and hand-written
generic tables: counts equal the file's own columns, fractions within the file's own interval."""

from __future__ import annotations

import csv
import math

import pytest

from ctdna_resistance.errors import InputError
from ctdna_resistance.io.quantasoft import read_quantasoft
from ctdna_resistance.io.targeted_assay import read_assay_file, read_targeted_assay
from ctdna_resistance.partition_stats import Blank, concentration, copies_per_partition, measure

DATA = __import__("pathlib").Path(__file__).parent / "data" / "ddpcr"
BLANK = Blank(1e-4, 0.0, "test")


def _file_rows(name):
    with open(DATA / name, encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@pytest.mark.parametrize(
    ("name", "layout", "accepted", "sample", "volume_nl"),
    [
        ("quantasoft_small.csv", "quantasoft", "AcceptedDroplets", "Sample", 0.91),
        ("qx_manager_quant.csv", "qx_manager", "Accepted Droplets", "Sample description 1", 0.85),
    ],
)
def test_real_export_counts_equal_the_files_own_columns(name, layout, accepted, sample, volume_nl):
    records = read_assay_file(DATA / name)
    rows = _file_rows(name)
    assert len(records) == len(rows) // 2  # two channel rows per well, paired
    by_well = {}
    for row in rows:
        by_well.setdefault(row["Well"], []).append(row)
    for record in records:
        assert record.dialect == layout
        assert record.platform == "ddpcr"
        mutant, wildtype = by_well[record.well]  # channel 1 (FAM) first in both files
        assert record.sample == mutant[sample]
        assert record.mutant_positives == int(mutant["Positives"])
        assert record.wildtype_positives == int(wildtype["Positives"])
        assert record.accepted_partitions == int(mutant[accepted])
        assert record.accepted_partitions - record.mutant_positives == int(mutant["Negatives"])
        # the file's concentration: QuantaSoft assumed 0.91 nL droplets, QX Manager 0.85 nL
        n = record.accepted_partitions
        conc = concentration(copies_per_partition(n - record.mutant_positives, n), volume_nl)
        assert conc == pytest.approx(record.file_concentration, rel=5e-3)


@pytest.mark.parametrize("name", ["quantasoft_small.csv", "qx_manager_quant.csv"])
def test_fractional_abundance_lies_within_the_files_own_interval(name):
    for record in read_assay_file(DATA / name):
        m = measure([record], BLANK, alpha=0.01, min_positive_partitions=2)
        # QuantaSoft writes 3 significant digits: half a unit of the last one is rounding
        slack = 0.0005 if record.dialect == "quantasoft" else 1e-6
        assert record.file_fraction_low - slack <= m.fraction <= record.file_fraction_high + slack
        assert m.fraction == pytest.approx(record.file_fraction, abs=slack)


def test_qx_manager_poisson_interval_is_reproduced_by_the_profile_likelihood():
    # QX Manager's 95% Poisson interval of the fraction, to the 4th decimal of a percent
    for record in read_assay_file(DATA / "qx_manager_quant.csv"):
        m = measure([record], BLANK, alpha=0.01, min_positive_partitions=2)
        assert m.fraction_low == pytest.approx(record.file_fraction_low, abs=5e-5)
        assert m.fraction_high == pytest.approx(record.file_fraction_high, abs=5e-5)


def test_same_sample_and_target_in_three_wells_is_merged_by_summing_partitions():
    records = [r for r in read_assay_file(DATA / "qx_manager_quant.csv") if r.well[1:] == "01"]
    merged = measure(records, BLANK, alpha=0.01, min_positive_partitions=2)
    n = sum(r.accepted_partitions for r in records)
    k = sum(r.mutant_positives for r in records)
    assert merged.wells == ("A01", "B01", "C01")
    assert merged.accepted_partitions == n == 20486 + 19679 + 18607
    assert merged.mutant_copies == pytest.approx(-math.log((n - k) / n) * n)


def test_real_export_without_counts_is_refused_in_one_line():
    with pytest.raises(InputError) as error:
        read_assay_file(DATA / "quantasoft_v174_no_counts.csv")
    message = str(error.value)
    assert "\n" not in message
    assert message.startswith(f"{DATA / 'quantasoft_v174_no_counts.csv'}:2: Positives is empty;")


def test_unknown_layout_names_the_columns_it_lacks(tmp_path):
    path = tmp_path / "odd.csv"
    text = (DATA / "quantasoft_small.csv").read_text().replace("AcceptedDroplets", "Droplets")
    path.write_text(text)
    with pytest.raises(InputError, match=r"odd.csv:1: .*lacks column\(s\) AcceptedDroplets"):
        read_quantasoft(path)


def test_non_numeric_count_is_refused_with_its_line(tmp_path):
    path = tmp_path / "bad.csv"
    lines = (DATA / "qx_manager_quant.csv").read_text().splitlines()
    lines[4] = lines[4].replace(",10497,9129,", ",lots,9129,")
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(InputError, match=r"bad.csv:5: Positives 'lots' is not a count"):
        read_assay_file(path)


def test_edited_counts_that_do_not_add_up_are_refused(tmp_path):
    path = tmp_path / "edited.csv"
    lines = (DATA / "quantasoft_small.csv").read_text().splitlines()
    lines[1] = lines[1].replace(",1901,13919,", ",1902,13919,")
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(InputError, match=r"edited.csv:2: Positives 1902 \+ Negatives 13919"):
        read_assay_file(path)


# --- generic TSV --------------------------------------------------------------------------------

GENERIC = (
    "sample\ttarget\tmutant_positives\twildtype_positives\taccepted_partitions\twell\n"
    "P1_T1\tKRAS G12D\t12\t3100\t15000\tA01\n"
    "NTC\tKRAS G12D\t0\t0\t14000\tH12\n"
    "WT control\tKRAS G12D\t1\t3500\t15500\tG12\n"
)


def test_generic_partition_table_is_read_with_roles_from_sample_names(tmp_path):
    path = tmp_path / "plate.tsv"
    path.write_text(GENERIC)
    records = read_assay_file(path)
    assert [(r.sample, r.role, r.mutant_positives, r.accepted_partitions) for r in records] == [
        ("P1_T1", "sample", 12, 15000),
        ("NTC", "ntc", 0, 14000),
        ("WT control", "wildtype_control", 1, 15500),
    ]
    assert {r.dialect for r in records} == {"generic"}


def test_generic_copies_table_serves_beaming(tmp_path):
    path = tmp_path / "beaming.tsv"
    path.write_text(
        "sample\ttarget\tmutant_copies\twildtype_copies\tplatform\nS1\tG12D\t8\t9992\tbeaming\n"
    )
    (record,) = read_targeted_assay(path)
    assert record.platform == "beaming" and not record.has_partitions
    m = measure([record], BLANK, alpha=0.01, min_positive_partitions=2)
    assert m.fraction == pytest.approx(8 / 10000)
    assert m.fraction_low < 8 / 10000 < m.fraction_high
    assert m.depth == 10000 and m.alt_reads == 8


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (
            "sample\ttarget\tmutant_positives\nS\tG12D\t3\n",
            r":1: targeted-assay table lacks column\(s\) wildtype_positives, accepted_partitions",
        ),
        (
            "sample\ttarget\tmutant_copies\twildtype_copies\nS\tG12D\tfew\t10\n",
            r":2: mutant_copies 'few' is not a number",
        ),
        (
            "sample\ttarget\tmutant_positives\twildtype_positives\taccepted_partitions\nS\tG12D\t3.5\t10\t100\n",
            r":2: mutant_positives '3.5' is not a whole number",
        ),
        (
            "sample\ttarget\tmutant_positives\twildtype_positives\taccepted_partitions\nS\tG12D\t300\t10\t100\n",
            r":2: more positive partitions than accepted_partitions",
        ),
        (
            "sample\ttarget\tmutant_copies\twildtype_copies\tplatform\nS\tG12D\t3\t10\tpcr\n",
            r":2: platform 'pcr' is not one of",
        ),
    ],
)
def test_malformed_generic_tables_are_refused_in_one_line(tmp_path, text, problem):
    path = tmp_path / "bad.tsv"
    path.write_text(text)
    with pytest.raises(InputError, match=problem) as error:
        read_assay_file(path)
    assert "\n" not in str(error.value)


def test_quantasoft_174_layout_is_recognised_from_its_header(tmp_path):
    """QuantaSoft 1.7.4 renamed TypeAssay/Assay to TargetType/Target: its real header (the
    count-less export) filled with the counts of the real small export."""
    header = (DATA / "quantasoft_v174_no_counts.csv").read_text().splitlines()[0].split(",")
    rename = {"TargetType": "TypeAssay", "Target": "Assay"}
    lines = [",".join(header)]
    for row in _file_rows("quantasoft_small.csv"):
        lines.append(",".join(row.get(rename.get(h, h)) or "" for h in header))
    path = tmp_path / "v174.csv"
    path.write_text("\n".join(lines) + "\n")
    records = read_assay_file(path)
    assert {r.dialect for r in records} == {"quantasoft_1.7.4"}
    counts = [
        (r.sample, r.mutant_positives, r.wildtype_positives, r.accepted_partitions) for r in records
    ]
    assert counts == [
        ("Dean", 1901, 1978, 15820),
        ("Dave", 1638, 1349, 13165),
        ("Mike", 1286, 1313, 14256),
        ("Emily", 90, 111, 14109),
        ("Mary", 1098, 929, 15377),
    ]


def test_qx_manager_sample_types_mark_the_plate_controls(tmp_path):
    text = (DATA / "qx_manager_quant.csv").read_text()
    lines = text.splitlines()
    for index in (11, 12):  # both channel rows of well C02
        lines[index] = lines[index].replace(",PosCtrl,", ",NTC,")
    path = tmp_path / "plate.csv"
    path.write_text("\n".join(lines) + "\n")
    roles = {r.well: r.role for r in read_assay_file(path)}
    assert roles["C02"] == "ntc" and roles["A01"] == "positive_control"
