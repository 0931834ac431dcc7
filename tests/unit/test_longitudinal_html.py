"""The per-patient longitudinal page: a hand-built two-patient series in, the page checked."""

from __future__ import annotations

import copy
import json
import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import jsonschema
import pytest
import yaml
from markupsafe import escape

from ctdna_resistance.report.longitudinal import CLONES_UNAVAILABLE, render_longitudinal

REPO = Path(__file__).resolve().parents[2]
FIXTURE = Path(__file__).parent / "data" / "longitudinal_reports.json"
REPORT_SCHEMA = REPO / "workflow" / "schemas" / "report.schema.yaml"
SCRIPT = "<script>alert(1)</script>"
ATTRIBUTE_BREAK = '"><img onerror=x>'
SVG_NS = ""  # inline SVG in HTML has no xmlns: ElementTree sees bare tag names


@pytest.fixture(scope="module")
def series() -> dict:
    return json.loads(FIXTURE.read_text(encoding="utf-8"))


def _treatments(series: dict, patient: str) -> list[dict]:
    return [t for t in series["treatments"] if t["patient"] == patient]


@pytest.fixture(scope="module")
def page(series: dict) -> str:
    return render_longitudinal("P001", series["reports"]["P001"], _treatments(series, "P001"))


def _svgs(page: str) -> dict[str, ET.Element]:
    """Every inline SVG, parsed as XML (so it must be well formed), by its class."""
    found = {}
    for match in re.finditer(r"<svg\b.*?</svg>", page, flags=re.S):
        element = ET.fromstring(match.group(0))
        found[element.get("class")] = element
    return found


def _by_class(root: ET.Element, tag: str, css_class: str) -> list[ET.Element]:
    return [e for e in root.iter(f"{SVG_NS}{tag}") if css_class in (e.get("class") or "").split()]


class _ValueCells(HTMLParser):
    """Text of every <td data-key data-sample> of the values table."""

    def __init__(self) -> None:
        super().__init__()
        self.cells: dict[tuple[str, str], str] = {}
        self._current: tuple[str, str] | None = None

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "td" and "data-key" in attributes:
            self._current = (attributes["data-key"], attributes["data-sample"])
            self.cells[self._current] = ""

    def handle_endtag(self, tag):
        if tag == "td":
            self._current = None

    def handle_data(self, data):
        if self._current:
            self.cells[self._current] += data


def test_fixture_reports_validate_against_schema(series: dict) -> None:
    schema = yaml.safe_load(REPORT_SCHEMA.read_text(encoding="utf-8"))
    validator = jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )
    for reports in series["reports"].values():
        for report in reports:
            errors = [e.message for e in validator.iter_errors(report)]
            assert not errors, (report["sample"], errors)


def test_values_table_shows_the_report_numbers(series: dict, page: str) -> None:
    parser = _ValueCells()
    parser.feed(page)
    compared = 0
    for report in series["reports"]["P001"]:
        for entry in report["alterations"] + report["not_detected"]:
            text = parser.cells[(entry["key"], report["sample"])]
            if entry["vaf"] is not None:
                shown = float(re.search(r"([\d.]+)%", text).group(1)) / 100
                assert shown == pytest.approx(entry["vaf"], abs=5e-5), (entry["key"], text)
            if entry["alt_reads"] is not None:
                alt, depth = re.search(r"([\d,]+) / ([\d,]+)", text).groups()
                assert int(alt.replace(",", "")) == entry["alt_reads"]
                assert int(depth.replace(",", "")) == entry["depth"]
            if entry["status"] != "detected" and entry["lod95"] is not None:
                lod = float(re.search(r"LoD95 ([\d.]+)%", text).group(1)) / 100
                assert lod == pytest.approx(entry["lod95"], abs=5e-5)
            compared += 1
    assert compared == sum(
        len(r["alterations"]) + len(r["not_detected"]) for r in series["reports"]["P001"]
    )


def test_heat_map_cells_match_the_reports(series: dict, page: str) -> None:
    heatmap = _svgs(page)["heatmap"]
    cells = {
        (g.get("data-key"), g.get("data-sample")): g for g in _by_class(heatmap, "g", "heat-cell")
    }
    reports = series["reports"]["P001"]
    keys = {h["key"] for h in reports[-1]["history"]}
    assert len(cells) == len(keys) * len(reports)
    for report in reports:
        for entry in report["alterations"]:
            label = cells[(entry["key"], report["sample"])].find(f"{SVG_NS}text").text
            assert float(label.rstrip("%")) / 100 == pytest.approx(entry["vaf"], abs=5e-5)
        for entry in report["not_detected"]:
            group = cells[(entry["key"], report["sample"])]
            assert f"heat-{entry['status']}" in group.get("class")


def test_trajectory_plot_draws_every_point_treatment_and_withdrawal(
    series: dict, page: str
) -> None:
    plot = _svgs(page)["trajectory-plot"]
    history = series["reports"]["P001"][-1]["history"]
    points = [p for h in history for p in h["points"]]
    detected = sum(1 for p in points if p["status"] == "detected" and p["vaf"])
    at_lod = sum(1 for p in points if p["status"] == "not_detected" and p["lod95"])
    no_call = sum(1 for p in points if p["status"] in ("not_assessed", "not_evaluable"))
    assert len(_by_class(plot, "circle", "detected")) == detected == 8
    assert len(_by_class(plot, "circle", "not-detected")) == at_lod == 2
    assert len(_by_class(plot, "path", "no-call")) == no_call == 2
    # Segments through a non-detection are dashed.
    assert _by_class(plot, "line", "through-lod")
    assert all(line.get("stroke-dasharray") for line in _by_class(plot, "line", "through-lod"))
    # Three treatment periods, one anti-EGFR; its end is marked as withdrawal.
    assert len(_by_class(plot, "rect", "treatment")) == 3
    assert len(_by_class(plot, "rect", "anti-egfr")) == 1
    withdrawal = _by_class(plot, "line", "withdrawal")
    assert len(withdrawal) == 1
    assert "2024-06-03" in withdrawal[0].find(f"{SVG_NS}title").text
    # Tumour fraction: three draws have one, the baseline does not.
    assert len(_by_class(plot, "rect", "tf")) == 3


def test_clone_plot_says_unavailable_when_no_clone(page: str) -> None:
    assert CLONES_UNAVAILABLE.capitalize() in page
    assert "clone-plot" not in _svgs(page)


def test_clone_plot_drawn_when_alterations_carry_clones(series: dict) -> None:
    reports = copy.deepcopy(series["reports"]["P001"])
    for report in reports:
        for entry in report["alterations"] + report["not_detected"]:
            entry["clone"] = "C1" if entry["gene"] in ("KRAS", "EGFR") else "C2"
    page = render_longitudinal("P001", reports, _treatments(series, "P001"))
    plot = _svgs(page)["clone-plot"]
    clones = _by_class(plot, "g", "clone")
    assert [g.get("data-clone") for g in clones] == ["C1", "C2"]
    assert all(len(_by_class(g, "circle", "clone")) >= 3 for g in clones)
    assert "resistant" in page
    assert CLONES_UNAVAILABLE not in page.lower()


def test_inputs_are_escaped_everywhere(series: dict) -> None:
    reports = copy.deepcopy(series["reports"]["P001"])
    patient = f"P{SCRIPT}"
    for report in reports:
        report["patient"] = patient
        report["sample"] = report["sample"] + ATTRIBUTE_BREAK
        for entry in report["alterations"] + report["not_detected"] + report["history"]:
            entry["gene"] = entry["gene"] + SCRIPT
            entry["key"] = entry["key"] + ATTRIBUTE_BREAK
        for entry in report["history"]:
            for point in entry["points"]:
                point["sample"] += ATTRIBUTE_BREAK
    treatments = copy.deepcopy(_treatments(series, "P001"))
    for treatment in treatments:
        treatment["patient"] = patient
        treatment["agent"] += SCRIPT + ATTRIBUTE_BREAK
    page = render_longitudinal(patient, reports, treatments)
    assert "<script" not in page.lower()
    assert "<img" not in page.lower()
    assert "&lt;script&gt;" in page
    assert "&#34;&gt;&lt;img onerror=x&gt;" in page
    _svgs(page)  # still well-formed XML


def test_page_is_self_contained_deterministic_and_small(series: dict, page: str) -> None:
    assert "research use only" in page.lower()
    assert not re.search(r"""\b(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", page, flags=re.I)
    assert "http://" not in page.replace("http://www.w3.org/2000/svg", "")
    assert "https://" not in page
    assert "<link" not in page.lower()
    again = render_longitudinal("P001", series["reports"]["P001"], _treatments(series, "P001"))
    assert again == page
    assert len(page.encode("utf-8")) < 1_000_000


def test_page_says_nothing_about_another_patient(series: dict) -> None:
    pages = {
        patient: render_longitudinal(patient, reports, series["treatments"])
        for patient, reports in series["reports"].items()
    }
    # Even with the other patient's reports and treatments passed in, nothing of them shows.
    mixed = render_longitudinal(
        "P001", series["reports"]["P001"] + series["reports"]["P002"], series["treatments"]
    )
    assert mixed == pages["P001"]
    for patient, page in pages.items():
        other = "P002" if patient == "P001" else "P001"
        assert other not in page
        for report in series["reports"][other]:
            assert report["sample"] not in page
        for history in series["reports"][other][-1]["history"]:
            # keys hold ">" and so appear escaped in a page
            assert str(escape(history["key"])) not in page


def test_clone_plot_draws_the_models_prevalence_with_its_interval(series: dict) -> None:
    reports = copy.deepcopy(series["reports"]["P001"])
    for index, report in enumerate(reports):
        for entry in report["alterations"] + report["not_detected"]:
            entry["clone"] = "C1"
        estimate = 0.1 * (index + 1)
        report["clones"] = [
            {"clone": "C1", "members": ["KRAS p.G12D"], "resistant": True, "detected": True,
             "prevalence": estimate, "prevalence_low": estimate - 0.05,
             "prevalence_high": estimate + 0.05}
        ]  # fmt: skip
    page = render_longitudinal("P001", reports, _treatments(series, "P001"))
    plot = _svgs(page)["clone-plot"]
    (clone,) = _by_class(plot, "g", "clone")
    assert len(_by_class(clone, "line", "clone-interval")) == len(reports)
    titles = " ".join(t.text or "" for t in clone.iter("title"))
    assert "cellular prevalence 10" in titles  # the first draw's estimate, not a mean VAF


def test_decay_fits_after_withdrawal_are_listed(series: dict) -> None:
    reports = copy.deepcopy(series["reports"]["P001"])
    reports[-1]["clones"] = [
        {"clone": "C1", "members": ["KRAS p.G12D"], "resistant": True, "detected": True,
         "prevalence": None, "prevalence_low": None, "prevalence_high": None,
         "half_life_days": 134.2, "half_life_low": 98.6, "half_life_high": 210.9,
         "projected_below_lod": "2024-09-30", "decay_note": "fitted"},
        {"clone": "C2", "members": ["EGFR p.S492R"], "resistant": True, "detected": False,
         "prevalence": None, "prevalence_low": None, "prevalence_high": None,
         "half_life_days": None, "half_life_low": None, "half_life_high": None,
         "projected_below_lod": None, "decay_note": "1 draw(s) after 2024-05-01; needs 2"},
    ]  # fmt: skip
    page = render_longitudinal("P001", reports, _treatments(series, "P001"))
    assert "Decay after anti-EGFR withdrawal" in page
    assert '<td class="num">134</td><td class="num">99 to 211</td><td>2024-09-30</td>' in page
    assert "needs 2" in page


def _ddpcr_between(series: dict) -> list[dict]:
    """P001 with its T1 and T2 measured by ddPCR (issue 17): NGS, ddPCR, ddPCR, NGS."""
    reports = copy.deepcopy(series["reports"]["P001"])
    for report in reports:
        platform = "ddpcr" if report["sample"] in ("P001-T1", "P001-T2") else "ngs"
        report["platforms"] = [platform]
        for entry in report["alterations"] + report["not_detected"]:
            entry["platform"] = platform
    return reports


def test_each_point_shows_its_platform_by_shape_legend_hover_and_table(series: dict) -> None:
    page = render_longitudinal("P001", _ddpcr_between(series), _treatments(series, "P001"))
    plot = _svgs(page)["trajectory-plot"]
    diamonds = [e for e in plot.iter("path") if "platform-ddpcr" in (e.get("class") or "")]
    titles = [e.find("title").text for e in diamonds]
    # every ddPCR point is a diamond at a ddPCR draw, and names the platform and its copies
    assert diamonds and all(("P001-T1 (" in t or "P001-T2 (" in t) and "ddPCR" in t for t in titles)
    assert any("copies" in t for t in titles if "detected," in t)
    circles = [e for e in plot.iter("circle") if "marker" in (e.get("class") or "")]
    circle_titles = [e.find("title").text for e in circles]
    assert circle_titles and all("P001-T0 (" in t or "P001-T3 (" in t for t in circle_titles)
    assert all("sequencing (NGS)" in t for t in circle_titles)
    legend = [e.text for e in plot.iter("text")]
    assert "measured by ddPCR" in legend and "measured by sequencing (NGS)" in legend
    cells = _ValueCells()
    cells.feed(page)
    measured = {k: text for k, text in cells.cells.items() if "%" in text}  # a VAF or an LoD95
    assert {sample for _, sample in measured} == {"P001-T0", "P001-T1", "P001-T2", "P001-T3"}
    for (_, sample), text in measured.items():
        ddpcr = sample in ("P001-T1", "P001-T2")
        assert ("ddPCR" if ddpcr else "sequencing (NGS)") in text, (sample, text)
    for sample, platform in (("P001-T1", "ddpcr"), ("P001-T0", "ngs")):
        assert f'data-sample="{sample}" data-status="detected" data-platform="{platform}"' in page
    assert '<td class="platform">ddPCR</td>' in page and "diamonds: by ddPCR" in page
    assert '<td class="platform">sequencing (NGS)</td>' in page


def test_a_sequencing_only_page_names_no_platform(page: str) -> None:
    assert "measured by" not in page and "data-platform" not in page and "diamonds" not in page
    assert 'class="platform"' not in page
