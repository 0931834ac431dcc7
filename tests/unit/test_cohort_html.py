"""The cohort summary page: summary rows and per-draw reports in, the page and its plots checked."""

from __future__ import annotations

import copy
import datetime as dt
import json
import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import pytest

from ctdna_resistance.cohort import SUMMARY_COLUMNS, summarise_patient
from ctdna_resistance.report import cohort_html
from ctdna_resistance.report.cohort_html import render_cohort
from ctdna_resistance.samplesheet import Cohort, Sample, Treatment

FIXTURE = Path(__file__).parent / "data" / "longitudinal_reports.json"
SCRIPT = "<script>alert(1)</script>"
ATTRIBUTE_BREAK = '"><img onerror=x>'

# Summary rows as ctdna_resistance.cohort writes them (SUMMARY_COLUMNS), for the fixture series
# plus a patient with no emergence and one without an anti-EGFR start date.
ROWS = [
    {
        "patient": "P001",
        "n_draws": 4,
        "first_draw": "2024-01-10",
        "last_draw": "2024-07-03",
        "anti_egfr_start": "2024-01-26",
        "first_emergence_date": "2024-03-06",
        "first_emergence_sample": "P001-T1",
        "days_from_anti_egfr_start": 40,
        "mechanisms": "egfr_target;pi3k;ras_mapk",
        "alterations_ever": "EGFR p.S492R;KRAS p.G12D;PIK3CA p.E545K",
        "current_status": "detected",
        "current_alterations": "KRAS p.G12D;PIK3CA p.E545K",
        "current_ctdna_status": "",
        "current_ctdna_level": "",
        "current_ctdna_low": "",
        "current_ctdna_high": "",
        "current_molecular_response": "",
        "first_molecular_response_sample": "",
        "draws_by_platform": "ngs:3",
    },
    {
        "patient": "P002",
        "n_draws": 3,
        "first_draw": "2024-02-01",
        "last_draw": "2024-06-20",
        "anti_egfr_start": "2024-02-11",
        "first_emergence_date": "2024-04-11",
        "first_emergence_sample": "P002-T1",
        "days_from_anti_egfr_start": 60,
        "mechanisms": "bypass_rtk;ras_mapk",
        "alterations_ever": "BRAF p.Val600_Lys601delinsGlu;MET amplification;NRAS p.Q61R",
        "current_status": "emerging",
        "current_alterations": "NRAS p.Q61R;BRAF p.Val600_Lys601delinsGlu;MET amplification",
        "current_ctdna_status": "",
        "current_ctdna_level": "",
        "current_ctdna_low": "",
        "current_ctdna_high": "",
        "current_molecular_response": "",
        "first_molecular_response_sample": "",
        "draws_by_platform": "ngs:3",
    },
    {
        "patient": "P003",
        "n_draws": 2,
        "first_draw": "2024-01-05",
        "last_draw": "2024-04-05",
        "anti_egfr_start": "2024-01-15",
        "first_emergence_date": "",
        "first_emergence_sample": "",
        "days_from_anti_egfr_start": "",
        "mechanisms": "",
        "alterations_ever": "",
        "current_status": "none_detected",
        "current_alterations": "",
        "current_ctdna_status": "",
        "current_ctdna_level": "",
        "current_ctdna_low": "",
        "current_ctdna_high": "",
        "current_molecular_response": "",
        "first_molecular_response_sample": "",
        "draws_by_platform": "ngs:3",
    },
    {
        "patient": "P004",
        "n_draws": 1,
        "first_draw": "2024-02-02",
        "last_draw": "2024-02-02",
        "anti_egfr_start": "",
        "first_emergence_date": "",
        "first_emergence_sample": "",
        "days_from_anti_egfr_start": "",
        "mechanisms": "ras_mapk",
        "alterations_ever": "KRAS p.G12D",
        "current_status": "detected",
        "current_alterations": "KRAS p.G12D",
        "current_ctdna_status": "",
        "current_ctdna_level": "",
        "current_ctdna_low": "",
        "current_ctdna_high": "",
        "current_molecular_response": "",
        "first_molecular_response_sample": "",
        "draws_by_platform": "ngs:3",
    },
]


@pytest.fixture(scope="module")
def reports_by_patient() -> dict:
    return json.loads(FIXTURE.read_text(encoding="utf-8"))["reports"]


@pytest.fixture(scope="module")
def page(reports_by_patient: dict) -> str:
    return render_cohort(ROWS, reports_by_patient)


def _svg(page: str, css_class: str) -> ET.Element:
    for match in re.finditer(r"<svg\b.*?</svg>", page, flags=re.S):
        element = ET.fromstring(match.group(0))
        if element.get("class") == css_class:
            return element
    raise AssertionError(f"no svg of class {css_class}")


def _with_class(root: ET.Element, tag: str, css_class: str) -> list[ET.Element]:
    return [e for e in root.iter(tag) if css_class in (e.get("class") or "").split()]


class _Rows(HTMLParser):
    """Cell texts of each <tr data-patient> of the patient table."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: dict[str, list[str]] = {}
        self._patient: str | None = None
        self._in_cell = False

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "tr" and "data-patient" in attributes:
            self._patient = attributes["data-patient"]
            self.rows[self._patient] = []
        elif tag == "td" and self._patient:
            self.rows[self._patient].append("")
            self._in_cell = True

    def handle_endtag(self, tag):
        if tag == "tr":
            self._patient = None
        elif tag == "td":
            self._in_cell = False

    def handle_data(self, data):
        if self._patient and self._in_cell:
            self.rows[self._patient][-1] += data


def test_rows_use_the_summary_columns() -> None:
    assert all(list(row) == SUMMARY_COLUMNS for row in ROWS)


def test_one_table_row_per_patient_with_the_row_numbers(page: str) -> None:
    parser = _Rows()
    parser.feed(page)
    assert list(parser.rows) == ["P001", "P002", "P003", "P004"]
    for row in ROWS:
        cells = parser.rows[row["patient"]]
        assert cells[1].strip() == str(row["n_draws"])
        days = cells[5].strip()
        assert days == (str(row["days_from_anti_egfr_start"]) or "—")
    assert "Emerging resistance" in "".join(parser.rows["P002"])
    assert 'href="../patients/P001/longitudinal.html"' in page


def test_mechanism_bars_count_patients(page: str) -> None:
    bars = _with_class(_svg(page, "mechanism-plot"), "rect", "bar")
    counts = {bar.find("title").text.split(":")[0]: int(bar.get("data-count")) for bar in bars}
    assert counts == {
        "RAS/MAPK reactivation": 3,
        "Bypass receptor tyrosine kinase": 1,
        "EGFR target alteration": 1,
        "PI3K pathway": 1,
    }
    # Bars are as long as their share: 3 of 4 patients is three times 1 of 4.
    widths = {bar.find("title").text.split(":")[0]: float(bar.get("width")) for bar in bars}
    assert widths["RAS/MAPK reactivation"] == pytest.approx(3 * widths["PI3K pathway"], rel=0.01)


def test_time_to_emergence_plot_places_each_patient(page: str) -> None:
    plot = _svg(page, "emergence-plot")
    lanes = {g.get("data-patient"): g for g in _with_class(plot, "g", "patient-lane")}
    assert sorted(lanes) == ["P001", "P002", "P003"]  # P004 has no anti-EGFR start date
    assert len(_with_class(plot, "circle", "emergence")) == 2
    assert len(_with_class(plot, "circle", "censored")) == 1
    assert "day 40" in lanes["P001"].find("title").text
    assert "no emergence by day 81" in lanes["P003"].find("title").text
    # P002 emerged later (day 60) than P001 (day 40): its marker sits further right.
    x001 = float(_with_class(lanes["P001"], "circle", "emergence")[0].get("cx"))
    x002 = float(_with_class(lanes["P002"], "circle", "emergence")[0].get("cx"))
    assert x002 > x001


def test_inputs_are_escaped(reports_by_patient: dict) -> None:
    rows = copy.deepcopy(ROWS)
    rows[0]["patient"] = "P001" + SCRIPT
    rows[0]["current_alterations"] = "KRAS" + ATTRIBUTE_BREAK
    rows[1]["mechanisms"] = "ras_mapk;" + SCRIPT
    page = render_cohort(rows, reports_by_patient)
    assert "<script" not in page.lower()
    assert "<img" not in page.lower()
    assert "&lt;script&gt;" in page
    _svg(page, "mechanism-plot")
    _svg(page, "emergence-plot")


def test_page_is_self_contained_deterministic_and_says_research_use_only(
    reports_by_patient: dict, page: str
) -> None:
    assert "research use only" in page.lower()
    assert not re.search(r"""\b(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", page, flags=re.I)
    assert "<link" not in page.lower()
    assert render_cohort(list(reversed(ROWS)), reports_by_patient) == page
    assert len(page.encode("utf-8")) < 1_000_000


def test_the_summary_starts_the_anti_egfr_clock_with_the_configured_agents():
    samples = [Sample("P9", f"P9-T{i}", dt.date(2024, 1, 1 + 30 * i), f"T{i}") for i in (0, 1)]
    cohort = Cohort(samples, [Treatment("P9", "Erbitux + FOLFIRI", dt.date(2024, 1, 5), None)])

    def report(sample, status):
        return {
            "sample": sample.sample,
            "collection_date": sample.collection_date.isoformat(),
            "resistance": {"status": status, "mechanisms": []},
            "alterations": [],
        }

    reports = [report(samples[0], "none_detected"), report(samples[1], "emerging")]
    default = summarise_patient("P9", reports, cohort)
    assert (default["anti_egfr_start"], default["days_from_anti_egfr_start"]) == ("", "")
    configured = summarise_patient("P9", reports, cohort, ["erbitux", "vectibix"])
    assert configured["anti_egfr_start"] == "2024-01-05"
    assert configured["days_from_anti_egfr_start"] == 26


def test_a_large_cohort_lists_its_first_patients_and_counts_every_one(
    reports_by_patient: dict, monkeypatch
) -> None:
    # 100,000 patients would make a page no browser opens: the page lists the first
    # MAX_LISTED_PATIENTS (by ID) and says so; counts and mechanisms still cover everyone.
    monkeypatch.setattr(cohort_html, "MAX_LISTED_PATIENTS", 2)
    page = render_cohort(list(reversed(ROWS)), reports_by_patient)
    listed = re.findall(r'<tr data-patient="([^"]+)"', page)
    assert listed == ["P001", "P002"]
    assert f"The first 2 of {len(ROWS)} patients (by ID) are listed" in page
    assert f"<strong>{len(ROWS)}</strong> patients" in page
    lanes = _svg(page, "emergence-plot").findall(".//{http://www.w3.org/2000/svg}g")
    assert {lane.get("data-patient") for lane in lanes if lane.get("data-patient")} <= {
        "P001",
        "P002",
    }
    # RAS/MAPK reactivation in P001, P002 and the unlisted P004: counted all the same.
    assert f"3 of {len(ROWS)} patients" in page


def test_a_cohort_within_the_limit_has_no_unlisted_note(page: str) -> None:
    assert "are listed here" not in page


def test_clinical_sheet_rows_of_other_patients_are_counted_on_the_page(
    reports_by_patient: dict,
) -> None:
    page = cohort_html.CohortPage()
    for row in ROWS:
        page.add(row, reports_by_patient.get(row["patient"], []))
    html = page.render(None, {"P077": 1, "P078": 2})
    assert "<strong>3</strong> clinical-sheet rows of 2 patient(s) not in the sample sheet" in html
    assert "P077, P078" in html
    assert "clinical-sheet rows" not in page.render()
