"""The per-draw HTML report: a hand-written report dict in, a self-contained page checked."""

from __future__ import annotations

import copy
import datetime as dt
import json
import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import jsonschema
import pytest
import yaml

from ctdna_resistance.panel import load_panel
from ctdna_resistance.report.build import _searched, _searched_text
from ctdna_resistance.report.html import format_p_value, render_draw_report
from ctdna_resistance.report.svg import format_percent, render_vaf_plot
from ctdna_resistance.samplesheet import Sample

REPO = Path(__file__).resolve().parents[2]
FIXTURE = Path(__file__).parent / "data" / "report_example.json"
REPORT_SCHEMA = REPO / "workflow" / "schemas" / "report.schema.yaml"
INJECTION = "<script>alert(1)</script>"
ESCAPED_INJECTION = "&lt;script&gt;alert(1)&lt;/script&gt;"

# HTML void elements never have an end tag; everything else the page writes must be closed.
VOID_ELEMENTS = {"meta", "br", "hr", "img", "link", "input", "col", "wbr", "source"}


@pytest.fixture(scope="module")
def report() -> dict:
    return json.loads(FIXTURE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def page(report: dict) -> str:
    return render_draw_report(report)


def _svg_of(page: str) -> ET.Element:
    start, end = page.index("<svg"), page.index("</svg>") + len("</svg>")
    return ET.fromstring(page[start:end])


def test_fixture_validates_against_report_schema(report: dict) -> None:
    schema = yaml.safe_load(REPORT_SCHEMA.read_text(encoding="utf-8"))
    validator = jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )
    errors = sorted(validator.iter_errors(report), key=lambda error: list(error.path))
    assert not errors, [f"{list(e.path)}: {e.message}" for e in errors]


def test_page_shows_headline_alterations_and_strategies(report: dict, page: str) -> None:
    assert page.startswith("<!DOCTYPE html>")
    assert report["resistance"]["headline"] in page
    assert "research use only" in page.lower()
    for alteration in report["alterations"] + report["not_detected"]:
        assert f'<td class="gene">{alteration["gene"]}</td>' in page
        assert alteration["alteration"] in page
    # Cited strategies appear with their reported figures verbatim.
    assert "Adagrasib + cetuximab" in page
    for figure in ("34%", "85.1%", "6.9 months", "15.9 months"):
        assert f"<strong>{figure}</strong>" in page
    assert "As reported in Yaeger et al. (2024) (from the panel's sources" in page
    # BRAF is cited only by a not-assessed alteration: its strategy is not offered for this draw.
    assert "Vemurafenib + panitumumab" not in page
    # PIK3CA has evidence but no strategy in the panel: the page says so instead of inventing one.
    assert "list no coping strategy for these alterations" in page


def test_page_formats_numbers_stably(page: str) -> None:
    assert "1.23%" in page  # KRAS VAF 0.0123
    assert "37 / 3,008" in page
    assert "p = 0.00012" in page
    assert "8.24%" in page  # tumour fraction
    assert "15,234" in page  # records read
    assert format_percent(0.00052) == "0.052%"
    assert format_percent(0.000081) == "0.0081%"
    assert format_percent(0.25) == "25.00%"
    assert format_percent(None) == "—"
    assert format_p_value(0.021) == "p = 0.02"
    assert format_p_value(1e-7) == "p < 0.0001"


def test_sections_come_in_reading_order(page: str) -> None:
    markers = [
        "<h1>",
        "Research use only",
        'class="headline',
        'id="tumour-fraction"',
        'id="detected"',
        'id="changes"',
        'id="not-found"',
        "<svg",
        'id="evidence"',
        'id="qc"',
        'id="provenance"',
    ]
    positions = [page.index(marker) for marker in markers]
    assert positions == sorted(positions)


def test_changes_name_the_alterations_behind_the_keys(page: str) -> None:
    changes = page[page.index('id="changes"') : page.index('id="not-found"')]
    assert "Since the previous draw (P001-T1)" in changes
    assert "KRAS p.G12D" in changes
    assert "NRAS p.Q61K" in changes  # cleared since previous


def test_injected_markup_is_escaped(page: str) -> None:
    assert ESCAPED_INJECTION in page
    assert "<script" not in page.lower()  # not the injection, and the page needs no script at all


def test_page_loads_nothing_from_outside(page: str) -> None:
    lowered = page.lower()
    assert "<script src" not in lowered
    assert "<link" not in lowered
    assert '<img src="http' not in lowered
    assert not re.search(r"""\b(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", lowered)
    assert "url(" not in lowered  # no CSS fetches (fonts, images)
    assert "@import" not in lowered


def test_page_is_small(page: str) -> None:
    assert len(page.encode("utf-8")) < 1_000_000


def test_rendering_is_deterministic(report: dict, page: str) -> None:
    again = render_draw_report(copy.deepcopy(report))
    assert again.encode("utf-8") == page.encode("utf-8")


class _TagBalance(HTMLParser):
    """Walks the page, checking every non-void element is closed in order."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.seen: set[str] = set()
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        self.seen.add(tag)
        if tag not in VOID_ELEMENTS:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list) -> None:
        self.seen.add(tag)  # <circle .../> inside SVG: opens and closes at once

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.problems.append(f"</{tag}> closes {self.stack[-1:] or 'nothing'}")
            return
        self.stack.pop()


def test_page_parses_with_balanced_tags(page: str) -> None:
    parser = _TagBalance()
    parser.feed(page)
    parser.close()
    assert parser.problems == []
    assert parser.stack == []
    assert {"html", "head", "body", "main", "section", "table", "svg", "title"} <= parser.seen


def test_embedded_svg_is_xml_with_one_line_per_history_entry(report: dict, page: str) -> None:
    svg = _svg_of(page)
    assert svg.tag == "svg"
    lines = svg.findall(".//polyline")
    assert len(lines) == len(report["history"])
    groups = svg.findall("./g[@class='series']")
    assert [group.get("data-key") for group in groups] == [h["key"] for h in report["history"]]
    legend = [text.text for text in svg.findall(".//g[@class='legend-entry']/text")]
    assert legend == [f"{h['gene']} {h['alteration']}" for h in report["history"]]
    assert svg.find("text") is not None


def test_plot_markers_show_detections_and_non_detections(report: dict, page: str) -> None:
    svg = _svg_of(page)
    kras = next(g for g in svg.findall("./g[@class='series']") if "KRAS" in g.find("title").text)
    filled = kras.findall("circle[@class='marker detected']")
    hollow = kras.findall("circle[@class='marker not-detected']")
    assert len(filled) == 1 and len(hollow) == 2
    assert all(circle.get("fill") == "#ffffff" for circle in hollow)
    hover = [circle.find("title").text for circle in kras.findall("circle")]
    assert "KRAS p.G12D — P001-T2 (2024-05-01): VAF 1.23%, detected" in hover
    assert "KRAS p.G12D — P001-T0 (2024-01-10): not detected, LoD95 0.12%" in hover
    assert "KRAS p.G12D — P001-T1 (2024-03-06): not detected, LoD95 unknown" in hover
    # Higher VAF is higher on the page (smaller y): detected 1.23% sits above LoD 0.12%,
    # and the non-detection with no LoD95 sits lowest, in the n.d. strip.
    y_by_sample = {
        circle.find("title").text.split(" — ")[1].split(" ")[0]: float(circle.get("cy"))
        for circle in kras.findall("circle")
    }
    assert y_by_sample["P001-T2"] < y_by_sample["P001-T0"] < y_by_sample["P001-T1"]
    # A not-assessed draw is a cross, off the line: BRAF's line has two vertices, not three.
    braf = next(g for g in svg.findall("./g[@class='series']") if "BRAF" in g.find("title").text)
    assert len(braf.find("polyline").get("points").split()) == 2
    assert len(braf.findall("path[@class='marker no-call']")) == 1


def test_svg_escapes_text_from_inputs() -> None:
    history = [
        {
            "key": 'x" onload="alert(1)',
            "gene": "EGFR",
            "alteration": f"p.S492R{INJECTION}",
            "points": [
                {
                    "sample": "S&1",
                    "collection_date": "2024-01-01",
                    "vaf": 0.01,
                    "status": "detected",
                }
            ],
        }
    ]
    markup = str(render_vaf_plot(history, current_date="2024-01-01"))
    assert INJECTION not in markup
    assert 'onload="alert' not in markup
    svg = ET.fromstring(markup)  # would fail on a raw '&' or '<'
    group = svg.find("./g[@class='series']")
    assert group.get("data-key") == 'x" onload="alert(1)'
    assert group.find("title").text == f"EGFR p.S492R{INJECTION}"
    assert "S&1" in group.find("circle/title").text


def test_report_without_detections_or_history_renders(report: dict) -> None:
    quiet = copy.deepcopy(report)
    quiet["alterations"] = []
    quiet["not_detected"] = []
    quiet["history"] = []
    quiet["resistance"].update(
        status="none_detected", headline="No resistance alteration detected.", mechanisms=[]
    )
    page = render_draw_report(quiet)
    assert 'class="headline status-none_detected"' in page
    assert "No panel resistance alteration was detected in this draw." in page
    assert "<svg" not in page


def test_report_with_only_required_fields_and_an_amplification_renders(report: dict) -> None:
    minimal = copy.deepcopy(report)
    for optional in ("timepoint_index", "previous_sample", "baseline_sample", "searched"):
        del minimal[optional]
    del minimal["qc"]["median_panel_depth"]
    for alteration in minimal["alterations"] + minimal["not_detected"]:
        for optional in ("hgvsc", "transcript", "panel_class", "test"):
            del alteration[optional]
    for entry in minimal["history"]:
        for point in entry["points"]:
            point.pop("lod95", None)
    met = copy.deepcopy(minimal["alterations"][1])
    met.update(
        key="7:116672196:N><AMP>", gene="MET", alteration="amplification", type="amplification",
        chrom="7", pos=116672196, ref="N", alt="<AMP>", vaf=None, alt_reads=None, depth=None,
        copy_number=8.25, lod95=None, trend="first_seen", clone=None, mechanism="bypass_rtk",
        evidence=[], strategies=["met_missing_from_report"],
    )  # fmt: skip
    minimal["alterations"].append(met)
    schema = yaml.safe_load(REPORT_SCHEMA.read_text(encoding="utf-8"))
    jsonschema.validate(minimal, schema, cls=jsonschema.Draft202012Validator)

    page = render_draw_report(minimal)
    assert "CN 8.2" in page
    assert "&lt;AMP&gt;" in page
    assert "Bypass receptor tyrosine kinase" in page
    assert "met_missing_from_report" in page  # a dangling citation is shown, not dropped
    assert "The search scope of this draw was not recorded." in page
    # Without LoD95s every non-detection sits in the n.d. strip, yet each entry keeps its line.
    assert len(_svg_of(page).findall(".//polyline")) == len(minimal["history"])


def test_copy_number_and_fusion_calls_show_the_numbers_behind_them(report: dict) -> None:
    page_report = copy.deepcopy(report)
    base = page_report["alterations"][0]
    amp = copy.deepcopy(base)
    amp.update(
        key="17:39687914-39730426:amplification", gene="ERBB2", alteration="amplification",
        type="amplification", vaf=None, alt_reads=None, depth=None, copy_number=9.61,
        log2=0.85, plasma_cn=3.61, tumor_cn=9.61,
        cn_rule="tumour CN 9.61 >= amp_copies 6 at TF 0.163 (somatic_vaf_q90x2)",
    )  # fmt: skip
    fusion = copy.deepcopy(base)
    fusion.update(
        key="fusion:EML4-ALK", gene="ALK", alteration="EML4-ALK", type="fusion", vaf=0.012,
        alt_reads=14, depth=1180, partner="EML4", breakpoints="chr2:42522656;chr2:29446394",
        split_reads=9, spanning_reads=5,
    )  # fmt: skip
    page_report["alterations"] += [amp, fusion]
    schema = yaml.safe_load(REPORT_SCHEMA.read_text(encoding="utf-8"))
    jsonschema.validate(page_report, schema, cls=jsonschema.Draft202012Validator)
    page = render_draw_report(page_report)
    assert "log2 0.85 · plasma CN 3.6 · tumour CN 9.6" in page
    assert "rule: tumour CN 9.61 &gt;= amp_copies 6" in page
    assert "partner EML4 · breakpoints chr2:42522656;chr2:29446394" in page
    assert "split 9, spanning 5 reads" in page


def test_disagreeing_tumour_fraction_estimates_are_both_shown(report: dict) -> None:
    page_report = copy.deepcopy(report)
    page_report["tumor_fraction"] = {
        "value": 0.31,
        "method": "PURPLE purity",
        "estimates": [
            {"method": "PURPLE purity", "value": 0.31},
            {"method": "somatic_vaf_q90x2", "value": 0.12},
        ],
        "note": "estimates disagree by 0.19 (> 0.1): PURPLE purity 0.31, somatic_vaf_q90x2 0.12; "
        "using PURPLE purity",
    }
    schema = yaml.safe_load(REPORT_SCHEMA.read_text(encoding="utf-8"))
    jsonschema.validate(page_report, schema, cls=jsonschema.Draft202012Validator)
    page = render_draw_report(page_report)
    assert "Other estimates: somatic_vaf_q90x2 12.00%" in page
    assert "Tumour-fraction sources disagree" in page
    assert "using PURPLE purity" in page


def test_a_strategy_note_is_shown_beside_its_regimen_and_escaped(report):
    noted = copy.deepcopy(report)
    noted["strategies"][0]["note"] = "KRAS G12C-selective " + INJECTION
    page = render_draw_report(noted)
    regimen = page.index("Adagrasib + cetuximab")
    note = page.index('<small class="strategy-note">KRAS G12C-selective ' + ESCAPED_INJECTION)
    assert regimen < note < page.index("</td>", regimen)
    assert INJECTION not in page


def test_the_search_scope_names_every_class_searched_and_the_inputs_missing():
    panel = load_panel(REPO / "panels" / "anti_egfr_crc.yaml", "GRCh38")
    only_vcf = Sample("P", "S", dt.date(2024, 1, 1), "T0", vcf=Path("a.vcf"))
    searched = _searched(panel, only_vcf)
    assert searched["hotspots"] == len(panel.hotspots) and "KRAS" in searched["genes"]
    assert searched["amplification_genes"] == searched["fusion_genes"] == []
    assert searched["inputs_missing"] == ["copy number", "structural variants"]
    assert _searched_text(searched) == (
        f"{len(panel.hotspots)} hotspots in {len(searched['genes'])} genes searched; "
        "no copy number, no structural variants for this draw"
    )
    only_cnv = Sample("P", "S", dt.date(2024, 1, 1), "T0", cnv=Path("a.cns"))
    searched = _searched(panel, only_cnv)
    assert searched["genes"] == [] and searched["hotspots"] == 0
    assert searched["amplification_genes"] == ["ERBB2", "KRAS", "MET", "NRAS"]
    report = json.loads(FIXTURE.read_text(encoding="utf-8"))
    report["searched"] = searched
    page = render_draw_report(report)
    assert (
        "Searched in this draw: no small variants; amplification of ERBB2, KRAS, MET, NRAS. "
        "Not searched, no input for this draw: small-variant calls, structural variants."
    ) in page


def test_an_unavailable_tumour_fraction_says_why(report):
    missing = copy.deepcopy(report)
    missing["tumor_fraction"] = {
        "value": None,
        "method": "unavailable",
        "reason": "no estimate from a copy-number caller or the sample sheet, and 2 somatic VAFs",
    }
    page = render_draw_report(missing)
    assert (
        "method: unavailable (no estimate from a copy-number caller or the sample sheet, "
        "and 2 somatic VAFs)"
    ) in page
