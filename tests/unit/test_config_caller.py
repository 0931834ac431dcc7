"""`caller` in the config (SPEC 3.4: "sheet or config"): the dialect of every draw whose sheet row
leaves it empty; the sheet's own value wins."""

import datetime as dt
from pathlib import Path

import pytest

from ctdna_resistance.calls import call_sample
from ctdna_resistance.config import load_config
from ctdna_resistance.errors import InputError
from ctdna_resistance.panel import load_panel
from ctdna_resistance.samplesheet import Sample

REPO = Path(__file__).resolve().parents[2]
PANEL = load_panel(REPO / "panels" / "anti_egfr_crc.yaml", "GRCh38")
VCF = REPO / "tests" / "formats" / "data" / "vcf" / "mutect2_paired.vcf"


@pytest.mark.parametrize(
    ("sheet", "config", "dialect"),
    [(None, None, "mutect2"), (None, "generic", "generic"), ("mutect2", "generic", "mutect2")],
)
def test_the_configured_caller_applies_where_the_sheet_leaves_it_empty(sheet, config, dialect):
    sample = Sample("P1", "P1-T0", dt.date(2024, 1, 1), "T0", vcf=VCF, caller=sheet)
    accounting = call_sample(sample, PANEL, {"caller": config}).accounting
    assert accounting["vcf"]["dialect"] == dialect


def test_an_unknown_configured_caller_is_refused_naming_the_key():
    assert load_config(REPO / "config" / "config.yaml")["caller"] is None
    with pytest.raises(InputError, match="caller"):
        load_config(REPO / "config" / "config.yaml", ["caller=octopus"])
