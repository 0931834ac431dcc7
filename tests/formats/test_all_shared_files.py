"""Every file in ../shared/data/cnv-sv and ../shared/data/vcf is read by the right reader or refused
with one line (no traceback). The list is the folders' own listing, so a file added later is covered
without a code change; a kind the product does not know is refused, never skipped.

Where a file is read, values are checked against the file itself, parsed here independently of the
product's readers (the ichorCNA tumour fraction, the PURPLE purity, the EML4-ALK and CD74-ROS1
rows of the fusion tables, the first PURPLE/ASCAT segment).
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

import pytest

from ctdna_resistance.errors import InputError
from ctdna_resistance.samplesheet_builder import read_any

SHARED_DATA = Path(__file__).parents[2].parent / "shared" / "data"
FOLDERS = ("cnv-sv", "vcf")


def _listing() -> list[Path]:
    if not SHARED_DATA.is_dir():
        return []
    return sorted(p for folder in FOLDERS for p in (SHARED_DATA / folder).rglob("*") if p.is_file())


FILES = _listing()


def _name(path: Path) -> str:
    return str(path.relative_to(SHARED_DATA))


@pytest.mark.skipif(not FILES, reason="shared data not mounted")
@pytest.mark.parametrize("path", FILES, ids=[_name(p) for p in FILES])
def test_file_is_read_or_refused_in_one_line(path):
    try:
        summary = read_any(path)
    except InputError as error:
        message = error.message
        assert "\n" not in message and "Traceback" not in message
        assert message.startswith(str(path)), message  # names the file
        assert "; " in message  # what is wrong; what to do
        return
    assert summary.kind in (
        "small_variant_vcf",
        "sv_vcf",
        "copy_number",
        "purity",
        "fusion_table",
        "coverage",
    )
    assert summary.n_records >= 1
    _expected_kind(path, summary.kind)
    CHECKS.get(summary.kind, lambda *_: None)(path, summary)


def _expected_kind(path: Path, kind: str) -> None:
    """The reader chosen agrees with what the file name says it is."""
    name = path.name
    if name.endswith((".vcf", ".vcf.gz")):
        assert kind in ("small_variant_vcf", "sv_vcf")
        assert (kind == "small_variant_vcf") == (path.parent.name == "vcf")
    elif "purity" in name or name.endswith(("params.txt", "samplestatistics.txt")):
        assert kind == "purity"
    elif "fusion" in name or name in ("starfusion.tsv", "arriba.tsv"):
        assert kind == "fusion_table"
    elif ".seg" in name or name.endswith(("_CNVs", "cnvs.txt", "cnv.somatic.tsv")):
        assert kind == "copy_number"


def _check_purity(path: Path, summary) -> None:
    estimate = summary.result
    text = path.read_text(encoding="utf-8")
    if path.name.endswith("params.txt"):
        line = next(line for line in text.splitlines() if line.startswith("Tumor Fraction:"))
        assert estimate.purity == float(line.split(":", 1)[1])
        assert estimate.method == "ichorCNA params.txt"
    elif path.name.endswith(".purple.purity.tsv"):
        row = next(csv.DictReader(text.splitlines(), delimiter="\t"))
        assert estimate.purity == float(row["purity"])
        assert estimate.ploidy == float(row["ploidy"])
        assert estimate.method.startswith("PURPLE purity")
    elif path.name.endswith("samplestatistics.txt"):
        values = dict(line.split(" ", 1) for line in text.splitlines() if line.strip())
        assert estimate.purity == float(values["rho"]) and estimate.method == "ASCAT rho"
    elif path.name.endswith(".csv"):
        row = next(csv.DictReader(text.splitlines()))
        assert estimate.purity == float(row["Purity"])
    assert 0.0 <= estimate.purity <= 1.0


def _fusion_rows(path: Path, left: str, right: str) -> list[dict]:
    with open(path, encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    if "#FusionName" in rows[0]:
        return [r for r in rows if r["#FusionName"] == f"{left}--{right}"]
    if "#gene1" in rows[0]:
        return [r for r in rows if r["#gene1"] == left and r["gene2"] == right]
    return [r for r in rows if r.get("geneStart") == left and r.get("geneEnd") == right]


def _check_fusions(path: Path, summary) -> None:
    events = summary.result
    assert len(events) == summary.n_records
    for left, right in (("EML4", "ALK"), ("CD74", "ROS1")):
        rows = _fusion_rows(path, left, right)
        ours = [e for e in events if (e.gene_a, e.gene_b) == (left, right)]
        assert len(ours) == len(rows)
        for row, event in zip(rows, ours, strict=True):
            if "JunctionReadCount" in row:
                assert event.split_reads == int(row["JunctionReadCount"])
                spanning = row["SpanningFragCount"]
                assert event.spanning_reads == (0 if spanning == "." else int(spanning))
                assert event.a.pos == int(row["LeftBreakpoint"].split(":")[1])
            elif "split_reads1" in row:
                assert event.split_reads == int(row["split_reads1"]) + int(row["split_reads2"])
                assert event.spanning_reads == int(row["discordant_mates"])
                assert event.b.pos == int(row["breakpoint2"].split(":")[1])
    if path.name.endswith(("starfusion.tsv", "arriba.tsv")):
        # the nf-core test sample is a fusion reference mix: both kinase fusions are in it
        assert any((e.gene_a, e.gene_b) == ("EML4", "ALK") for e in events)
        assert any((e.gene_a, e.gene_b) == ("CD74", "ROS1") for e in events)


def _check_copy_number(path: Path, summary) -> None:
    result = summary.result
    first_data = None
    with open(path, encoding="utf-8") as handle:
        lines = [line.rstrip("\n").split("\t") for line in handle if line.strip()]
    if path.name.endswith(".purple.cnv.somatic.tsv"):
        first_data = dict(zip(lines[0], lines[1], strict=True))
        segment = result.segments[0]
        assert segment.copy_number == float(first_data["copyNumber"])
        assert math.isclose(segment.log2, math.log2(float(first_data["copyNumber"]) / 2))
        assert result.absolute and len(result.segments) == len(lines) - 1
        sibling = path.with_name(path.name.replace(".cnv.somatic.tsv", ".purity.tsv"))
        if sibling.is_file():
            row = dict(
                zip(
                    *[line.split("\t") for line in sibling.read_text().splitlines()[:2]],
                    strict=True,
                )
            )
            assert result.tumor_fraction == float(row["purity"])
            assert result.tf_source == "PURPLE purity"
    elif path.name.endswith(".cnvs.txt"):
        first_data = dict(zip(lines[0], lines[1], strict=True))
        segment = result.segments[0]
        assert segment.copy_number == int(first_data["nMajor"]) + int(first_data["nMinor"])
        assert result.absolute
    elif path.name.endswith("_CNVs"):
        assert len(result.segments) == len(lines)  # no header line: every line is a call
        assert result.segments[0].copy_number == float(lines[0][3])


CHECKS = {
    "purity": _check_purity,
    "fusion_table": _check_fusions,
    "copy_number": _check_copy_number,
}


@pytest.mark.skipif(not FILES, reason="shared data not mounted")
def test_the_named_values_are_among_the_files_read():
    """The files the issue names are read (not refused), so their checks above did run."""
    for name in (
        "cnv-sv/ichorcna/MBC_315.params.txt",
        "cnv-sv/hmftools-orange-testrun/tumor_sample.purple.purity.tsv",
        "cnv-sv/hmftools-orange-testrun/tumor_sample.purple.cnv.somatic.tsv",
        "cnv-sv/nf-core-testdatasets/genome/starfusion.tsv",
        "cnv-sv/nf-core-testdatasets/genome/arriba.tsv",
        "cnv-sv/hmftools-orange-testrun/tumor_sample.linx.fusion.tsv",
    ):
        assert read_any(SHARED_DATA / name).n_records >= 1
    assert read_any(SHARED_DATA / "cnv-sv/ichorcna/MBC_315.params.txt").result.purity == 0.255
    purple = read_any(SHARED_DATA / "cnv-sv/hmftools-orange-testrun/tumor_sample.purple.purity.tsv")
    assert (purple.result.purity, purple.result.ploidy) == (0.99, 3.1)


def test_unknown_kind_is_refused_not_skipped(tmp_path):
    unknown = tmp_path / "notes.tsv"
    unknown.write_text("foo\tbar\n1\t2\n")
    with pytest.raises(InputError, match=r"notes.tsv: not a file kind this product reads"):
        read_any(unknown)
