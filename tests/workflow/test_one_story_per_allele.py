"""One story per allele (issue 18): every section of every demo report tells the same story.

The demo is run, and in every per-draw report (JSON and HTML) each alteration is checked: its
status and trend label, its place in the "What changed" lists (since the previous draw and since
baseline), the headline's "(new since X)" / "(rising since X)", and the HTML's change lists and
trend cells must agree. Before the fix, P001-T2's MET amplification was "new" in its trend and
headline but "the earlier draw could not have seen it" in What changed.
"""

from __future__ import annotations

import html
import json
import re

import pytest

from ctdna_resistance.report.html import CHANGE_KINDS, TREND_LABELS


@pytest.fixture(scope="module")
def reports(demo_results) -> list[tuple[dict, str]]:
    found = []
    for path in sorted(demo_results.glob("patients/*/reports/*.json")):
        found.append((json.loads(path.read_text()), path.with_suffix(".html").read_text()))
    assert len(found) >= 10
    return found


def _series(reports: list[tuple[dict, str]], patient: str) -> list[dict]:
    return sorted(
        (r for r, _ in reports if r["patient"] == patient), key=lambda r: r["timepoint_index"]
    )


def _entries(report: dict) -> dict[str, dict]:
    return {a["key"]: a for a in report["alterations"] + report["not_detected"]}


# the change lists each trend label (at this draw) may put an allele in
ALLOWED = {
    "new": {"new"},
    "first_seen": {"first_seen"},
    "cleared": {"cleared"},
}


def test_what_changed_tells_each_alleles_own_story(reports):
    checked = 0
    for report, _html in reports:
        entries = _entries(report)
        series = _series(reports, report["patient"])
        index = report["timepoint_index"]
        for reference, changes in (("previous", report["changes"]["since_previous"]),
                                   ("baseline", report["changes"]["since_baseline"])):  # fmt: skip
            for kind, keys in changes.items():
                for key in keys:
                    checked += 1
                    trend = entries[key]["trend"]
                    where = (report["sample"], reference, kind, key, trend)
                    if kind == "cleared":
                        assert trend == "cleared", where
                    elif kind == "unconfirmed_absence":
                        assert trend != "cleared" and entries[key]["status"] != "detected", where
                    elif kind in ("new", "first_seen"):
                        # the label of the allele's first detection, in every later report too
                        first = next(
                            _entries(r)[key] for r in series[: index + 1]
                            if _entries(r)[key]["status"] == "detected"
                        )  # fmt: skip
                        assert first["trend"] == kind, (*where, first["trend"])
                    if reference == "previous" and trend in ALLOWED:
                        assert kind in ALLOWED[trend], where
        # and the other way round: an allele new or first seen at this draw is listed as such
        if index:
            for key, entry in entries.items():
                if entry["trend"] in ("new", "first_seen"):
                    assert key in report["changes"]["since_previous"][entry["trend"]], (
                        report["sample"], key, entry["trend"]
                    )  # fmt: skip
    assert checked >= 10


def test_the_headline_names_each_trend_and_the_draw_it_is_relative_to(reports):
    for report, _html in reports:
        headline = report["resistance"]["headline"]
        if not headline.startswith("Emerging resistance: "):
            continue
        named = {f"{a['gene']} {a['alteration']}": a for a in report["alterations"]}
        emerging = headline.removeprefix("Emerging resistance: ").split("; also detected")[0]
        for group in re.findall(r"([^;()]+) \((new|rising) since ([^)]+)\)", emerging):
            names, trend, since = group
            for name in names.strip().split(", "):
                entry = named[name]
                assert (entry["trend"], entry["trend_since"]) == (trend, since), (headline, name)
                # the draw it is new since did not detect it, and could have (trend_reason)
                if trend == "new":
                    assert f"not detected at {since}" in entry["trend_reason"] or (
                        f"{since} (" in entry["trend_reason"]
                    ), entry["trend_reason"]


def test_the_html_tells_what_the_json_tells(reports):
    change_span = re.compile(
        r'<span class="change change-(\w+)">.*?<small class="muted">([^<]+)</small></span>'
    )
    for report, page in reports:
        section = page.split('<section id="changes">', 1)[1].split("</section>", 1)[0]
        blocks = section.split('<div class="change-block">')[1:]
        for block, reference in zip(blocks, ("since_previous", "since_baseline"), strict=True):
            shown = sorted((kind, html.unescape(key)) for kind, key in change_span.findall(block))
            wanted = sorted(
                (kind, key) for kind, keys in report["changes"][reference].items() for key in keys
                if kind in CHANGE_KINDS
            )  # fmt: skip
            assert shown == wanted, (report["sample"], reference)
        assert html.escape(report["resistance"]["headline"], quote=False) in page
        for entry in report["alterations"]:
            label = TREND_LABELS.get(entry["trend"], entry["trend"])
            assert label in page, (report["sample"], entry["key"], label)
