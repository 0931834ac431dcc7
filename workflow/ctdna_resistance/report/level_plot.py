"""The longitudinal page's ctDNA-level plot (issue 20): each draw's pooled estimate with its 95%
interval on a log scale, the pooled LoD95 where ctDNA was not detected, and the response label.

Inline SVG built with report/svg.py's helpers: no script, every input string escaped, fixed
decimals so the same reports give the same bytes.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from markupsafe import Markup

from ctdna_resistance.report.svg import (
    _element,
    _num,
    _text,
    _title,
    date_ticks,
    format_percent,
    point_marker,
    svg_document,
)

_WIDTH, _LEFT, _RIGHT, _TOP, _HEIGHT = 790.0, 72.0, 700.0, 20.0, 200.0
_COLOUR = "#0072B2"
_RESPONSE_TEXT = {
    "baseline": "baseline",
    "molecular_response": "response",
    "stable": "stable",
    "rise": "rise",
}


def level_rows(reports: Sequence[Mapping]) -> list[dict]:
    """One row per draw for the page's table and the plot: date, sample, level, response."""
    rows = []
    for report in reports:
        level = report.get("ctdna_level") or {}
        status = level.get("status", "not_assessed")
        rows.append(
            {
                "sample": str(report.get("sample", "")),
                "date": str(report.get("collection_date", "")),
                "status": status,
                "estimate": level.get("estimate"),
                "low": level.get("low"),
                "high": level.get("high"),
                "lod95": level.get("lod95"),
                "markers": level.get("markers", 0),
                "response": level.get("response") or "",
                "response_reason": level.get("response_reason", ""),
                "text": _describe(status, level),
            }
        )
    return rows


def _describe(status: str, level: Mapping) -> str:
    if status == "detected":
        return (
            f"{format_percent(level.get('estimate'))} (95% CI {format_percent(level.get('low'))}"
            f"-{format_percent(level.get('high'))})"
        )
    if status == "not_detected":
        return f"not detected (LoD95 {format_percent(level.get('lod95'))})"
    return "not assessed"


def render_level_plot(reports: Sequence[Mapping]) -> Markup | None:
    """The plot, or None when no draw has a level to show."""
    rows = level_rows(reports)
    values = [
        v
        for row in rows
        for v in (row["estimate"], row["low"], row["high"], row["lod95"])
        if v is not None and v > 0
    ]
    if not values:
        return None
    low_decade = math.floor(math.log10(min(values))) - 0.1
    high_decade = math.ceil(math.log10(max(values))) + 0.1

    def y_of(value: float) -> float:
        value = max(value, 10**low_decade)
        share = (math.log10(value) - low_decade) / (high_decade - low_decade)
        return _TOP + _HEIGHT * (1 - share)

    dates = [row["date"] for row in rows]
    ordinals = {d: i for i, d in enumerate(dates)}
    span = max(len(dates) - 1, 1)

    def x_of(iso_date: str) -> float:
        return (
            _LEFT + (_RIGHT - _LEFT) * ordinals[iso_date] / span
            if len(dates) > 1
            else ((_LEFT + _RIGHT) / 2)
        )

    parts = [_element("title", _text("ctDNA level per draw (pooled markers)"), id="level-title")]
    for decade in range(math.ceil(low_decade), math.floor(high_decade) + 1):
        y = y_of(10**decade)
        parts.append(
            _element(
                "line",
                x1=_num(_LEFT),
                x2=_num(_RIGHT),
                y1=_num(y),
                y2=_num(y),
                stroke="#dddddd",
                class_="grid",
            )
        )
        parts.append(
            _element(
                "text",
                _text(format_percent(10**decade)),
                x=_num(_LEFT - 6),
                y=_num(y + 4),
                text_anchor="end",
                font_size="11",
            )
        )
    bottom = _TOP + _HEIGHT
    parts.append(
        _element(
            "line",
            x1=_num(_LEFT),
            x2=_num(_RIGHT),
            y1=_num(bottom),
            y2=_num(bottom),
            stroke="#666666",
        )
    )
    date_ticks(parts, dates, x_of, bottom, 10)
    previous = None
    for row in rows:
        x = x_of(row["date"])
        hover = _title(f"{row['sample']} ({row['date']}): ctDNA {row['text']}")
        if row["status"] == "detected" and row["estimate"]:
            y = y_of(row["estimate"])
            if row["low"] is not None and row["high"] is not None:
                parts.append(
                    _element(
                        "line",
                        x1=_num(x),
                        x2=_num(x),
                        y1=_num(y_of(row["low"] or 1e-9)),
                        y2=_num(y_of(row["high"])),
                        stroke=_COLOUR,
                        stroke_width="1.5",
                        class_="interval",
                    )
                )
            parts.append(point_marker(hover, x, y, _COLOUR, detected=True))
        elif row["status"] == "not_detected" and row["lod95"]:
            y = y_of(row["lod95"])
            parts.append(point_marker(hover, x, y, _COLOUR, detected=False))
        else:
            continue
        if previous is not None:
            parts.insert(
                1,
                _element(
                    "line",
                    x1=_num(previous[0]),
                    y1=_num(previous[1]),
                    x2=_num(x),
                    y2=_num(y),
                    stroke=_COLOUR,
                    stroke_dasharray="4 3",
                    class_="path",
                ),
            )
        previous = (x, y)
        label = _RESPONSE_TEXT.get(row["response"], "")
        if label:
            parts.append(
                _element(
                    "text",
                    _text(label),
                    x=_num(x),
                    y=_num(_TOP - 6),
                    text_anchor="middle",
                    font_size="11",
                    class_="response",
                )
            )
    parts.append(
        _element(
            "text",
            _text("mutant allele fraction (log)"),
            x="14",
            y=_num(_TOP + _HEIGHT / 2),
            transform=f"rotate(-90 14 {_num(_TOP + _HEIGHT / 2)})",
            text_anchor="middle",
            font_size="11",
        )
    )
    return svg_document(parts, "level-plot", "level-title", _WIDTH, _TOP + _HEIGHT + 80)
