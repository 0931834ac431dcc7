"""Accounting (issue 7): every record the product reads is reported or filtered, and the number it
says it read is the number bcftools sees in the same file (and regions).

Small variants: the product splits multi-allelic records into one allele each, so its
``alleles_read`` is compared with the number of ALT alleles ``bcftools query -f '%CHROM\\t%ALT\\n'``
prints (the comma-separated ALT list counted per record), not with ``bcftools view -H`` lines.
Rows with an empty CHROM are dropped from bcftools' output: htslib turns a trailing blank line
(strelka2__vstol__hg002_hg001_strelka2_indels.vcf ends with one) into an empty "record" that the
product rightly skips. In ``panel_regions`` mode the count is taken with ``-R`` over the panel's
gene loci (written in the file's contig style). SV VCFs: the reader's ``records_read`` equals the
``bcftools view -H`` line count, and each data line is behind exactly one event. Copy number:
``segments_read`` equals the data rows of the segment file.
"""

from __future__ import annotations

import csv
import datetime as dt
import glob
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from ctdna_resistance.calls import call_sample
from ctdna_resistance.errors import InputError
from ctdna_resistance.io.sv_vcf import read_sv_vcf
from ctdna_resistance.panel import load_panel
from ctdna_resistance.samplesheet import Sample, read_cohort

REPO = Path(__file__).resolve().parents[2]
SHARED = REPO.parent / "shared" / "data"
BCFTOOLS = shutil.which("bcftools") or ("/usr/bin/bcftools" if Path("/usr/bin/bcftools").exists()
                                        else None)  # fmt: skip
pytestmark = pytest.mark.skipif(BCFTOOLS is None, reason="bcftools is not installed")

DEMO_CONFIG = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
DEMO = read_cohort(REPO / "test_data" / "samples.tsv", REPO / "test_data" / "treatments.tsv")
PANEL_YAML = REPO / "panels" / "anti_egfr_crc.yaml"
PANELS = {build: load_panel(PANEL_YAML, build) for build in ("GRCh38", "GRCh37")}

REAL_VCFS = sorted(
    glob.glob(str(SHARED / "vcf" / "*.vcf*")) + glob.glob(str(SHARED / "cnvkit" / "*.vcf"))
)
REAL_SV_VCFS = sorted(
    p for p in glob.glob(str(SHARED / "cnv-sv" / "**" / "*.vcf*"), recursive=True)
    if not p.endswith((".tbi", ".csi"))
)  # fmt: skip


def bcftools_alt_alleles(path, regions: Path | None = None) -> int:
    """ALT alleles of the file's records (optionally overlapping ``regions``), per bcftools."""
    command = [BCFTOOLS, "query", "-f", "%CHROM\\t%ALT\\n"]
    if regions is not None:
        command += ["-R", str(regions)]
    done = subprocess.run([*command, str(path)], capture_output=True, text=True, check=True)
    rows = [line.split("\t") for line in done.stdout.splitlines()]
    return sum(len(alt.split(",")) for chrom, alt in rows if chrom)


def bcftools_records(path) -> int:
    """Data lines of a VCF per ``bcftools view -H``; with -G when htslib cannot write a record's
    genotypes (Manta candidate rows without sample columns) but reads the record."""
    done = subprocess.run([BCFTOOLS, "view", "-H", str(path)], capture_output=True, text=True)
    if done.returncode != 0:
        done = subprocess.run(
            [BCFTOOLS, "view", "-H", "-G", str(path)], capture_output=True, text=True, check=True
        )
    return len(done.stdout.splitlines())


def check_reconciles(accounting: dict) -> None:
    assert accounting["reconciles"] is True
    assert accounting["records_read"] == (
        accounting["records_reported"] + accounting["records_filtered"]
    )
    assert sum(accounting["filtered_by_reason"].values()) == accounting["records_filtered"]


def regions_file(panel, vcf: Path, folder: Path) -> Path:
    """The panel's gene loci as a bcftools regions file in the VCF's contig style."""
    header = subprocess.run(
        [BCFTOOLS, "view", "-h", str(vcf)], capture_output=True, text=True, check=True
    ).stdout
    prefix = "chr" if "##contig=<ID=chr" in header else ""
    path = folder / "panel_regions.tsv"
    path.write_text("".join(f"{prefix}{c}\t{s}\t{e}\n" for c, s, e in panel.regions()))
    return path


# -- the demo cohort ----------------------------------------------------------------------------


SEQUENCED_DEMO = [s for s in DEMO.samples if s.vcf is not None]
ASSAYED_DEMO = [s for s in DEMO.samples if s.vcf is None and s.assay is not None]


@pytest.mark.parametrize("sample", SEQUENCED_DEMO, ids=[s.sample for s in SEQUENCED_DEMO])
def test_demo_sample_accounts_for_every_record(sample):
    accounting = call_sample(sample, PANELS["GRCh38"], DEMO_CONFIG).accounting
    check_reconciles(accounting)
    assert accounting["alleles_read"] == bcftools_alt_alleles(sample.vcf)
    assert accounting["vcf"]["records_read"] == bcftools_records(sample.vcf)
    # every input kind the sheet gives is counted: VCF alleles + segments + SV events
    parts = accounting["alleles_read"]
    if sample.cnv is not None:
        rows = [
            line for line in sample.cnv.read_text().splitlines()[1:] if line.strip()
        ]  # one header line, one segment a row (one sample a file in the demo)
        assert accounting["copy_number"]["segments_read"] == len(rows)
        parts += accounting["copy_number"]["segments_read"]
    if sample.sv is not None:
        assert accounting["sv"]["records_read"] == bcftools_records(sample.sv)
        assert 0 < accounting["sv"]["events_read"] <= accounting["sv"]["records_read"]
        parts += accounting["sv"]["events_read"]
    assert accounting["records_read"] == parts


@pytest.mark.parametrize("sample", ASSAYED_DEMO, ids=[s.sample for s in ASSAYED_DEMO])
def test_demo_ddpcr_draw_accounts_for_every_target_of_its_wells(sample):
    """records_read of a ddPCR draw = the targets of its sample's channel-1 (mutant) rows in the
    QuantaSoft export, counted here with the csv module."""
    accounting = call_sample(sample, PANELS["GRCh38"], DEMO_CONFIG).accounting
    check_reconciles(accounting)
    with open(sample.assay, newline="") as handle:
        rows = list(csv.DictReader(handle))
    mine = [
        r for r in rows if r["Sample"] == sample.assay_sample and r["TypeAssay"] == "Ch1Unknown"
    ]
    assert mine, "the sheet's assay_sample names wells of the file"
    assert accounting["records_read"] == len({r["Assay"] for r in mine})
    assert accounting["assay"]["wells_read"] == len(mine)
    assert accounting["assay"]["control_wells"] == 2 * len(mine)  # a WT control and an NTC each


INDEXED_DEMO = [s for s in SEQUENCED_DEMO if Path(str(s.vcf) + ".tbi").exists()]


@pytest.mark.parametrize("sample", INDEXED_DEMO, ids=[s.sample for s in INDEXED_DEMO])
def test_demo_panel_regions_read_matches_bcftools_regions(sample, tmp_path):
    config = {**DEMO_CONFIG, "detection": {**DEMO_CONFIG["detection"], "vcf_read": "panel_regions"}}
    panel = PANELS["GRCh38"]
    accounting = call_sample(sample, panel, config).accounting
    check_reconciles(accounting)
    assert accounting["vcf"]["used_index"] is True
    expected = bcftools_alt_alleles(sample.vcf, regions_file(panel, sample.vcf, tmp_path))
    assert accounting["alleles_read"] == expected
    assert expected < bcftools_alt_alleles(sample.vcf), "the regions must leave records out"


def test_every_demo_sample_is_checked():
    assert len(DEMO.samples) == 20
    assert len(SEQUENCED_DEMO) == 18 and len(ASSAYED_DEMO) == 2  # P005: NGS, ddPCR, ddPCR, NGS
    assert len(INDEXED_DEMO) >= 8


# -- real VCFs of other tools --------------------------------------------------------------------


def _call_real(path: Path, config: dict):
    """The product's calls on a real VCF in the build its header says; None when refused."""
    sample = Sample("P1", "S1", dt.date(2024, 1, 1), "T0", vcf=path)
    refusal = None
    for build in ("GRCh38", "GRCh37"):
        try:
            return call_sample(sample, PANELS[build], config), PANELS[build]
        except InputError as error:  # the product's one error; another build may read it
            refusal = error
    return None, str(refusal)


@pytest.mark.parametrize("path", REAL_VCFS, ids=[Path(p).name for p in REAL_VCFS])
def test_real_vcf_records_read_equal_bcftools_alt_alleles(path):
    calls, panel_or_reason = _call_real(Path(path), DEMO_CONFIG)
    if calls is None:
        pytest.skip(f"the product refuses this file: {panel_or_reason}")
    check_reconciles(calls.accounting)
    assert calls.accounting["alleles_read"] == bcftools_alt_alleles(path)


# a multi-allelic GRCh37 file, a GRCh38 chr-style file and a no-chr file (sorted, indexed copies)
REGION_VCFS = [
    "vcf/mutect2__gatk__many-allelic-somatic.vcf",
    "vcf/strelka2__vstol__hcc1395_strelka2_indels.chr1.vcf.gz",
    "vcf/mutect2__somaticseq__tumor_only_MuTect2.vcf.gz",
]


@pytest.mark.parametrize("name", REGION_VCFS)
def test_real_vcf_panel_regions_read_matches_bcftools_regions(name, tmp_path):
    source = SHARED / name
    if not source.exists():
        pytest.skip(f"{source} not found")
    indexed = tmp_path / "indexed.vcf.gz"
    subprocess.run([BCFTOOLS, "sort", "-Oz", "-o", str(indexed), str(source)], check=True,
                   capture_output=True)  # fmt: skip
    subprocess.run([BCFTOOLS, "index", "-t", str(indexed)], check=True, capture_output=True)
    config = {**DEMO_CONFIG, "detection": {**DEMO_CONFIG["detection"], "vcf_read": "panel_regions"}}
    calls, panel = _call_real(indexed, config)
    assert calls is not None, panel
    check_reconciles(calls.accounting)
    assert calls.accounting["vcf"]["used_index"] is True
    expected = bcftools_alt_alleles(indexed, regions_file(panel, indexed, tmp_path))
    assert calls.accounting["alleles_read"] == expected


# -- real SV VCFs --------------------------------------------------------------------------------


@pytest.mark.parametrize("path", REAL_SV_VCFS, ids=[Path(p).name for p in REAL_SV_VCFS])
def test_real_sv_vcf_records_read_equal_bcftools_records(path):
    samples = subprocess.run(
        [BCFTOOLS, "query", "-l", path], capture_output=True, text=True, check=True
    ).stdout.split()
    try:
        # the count does not depend on the sample column: name one where the header does not
        result = read_sv_vcf(path, sample=samples[-1] if len(samples) > 1 else None)
    except InputError as error:
        pytest.skip(f"the product refuses this file: {error}")
    assert result.records_read == bcftools_records(path)
    behind = sorted(n for numbers in result.event_records for n in numbers)
    assert behind == list(range(1, result.records_read + 1)), "each line behind one event"
    assert len(result.events) == len(result.event_records)
