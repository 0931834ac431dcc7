"""Hand-written inline SVG plots for the HTML reports.

No plotting library and no JavaScript: the reports must open offline on a cluster node and print.
Every text node and attribute value that could come from an input goes through `markupsafe.escape`,
so the markup is safe inside HTML and also well-formed XML. Coordinates are written with a fixed
number of decimals so the same data always gives the same bytes.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from datetime import date

from markupsafe import Markup, escape

# Okabe-Ito colours: distinguishable with the common colour-vision deficiencies and in greyscale
# print. Yellow is left out because it vanishes on white paper.
SERIES_COLOURS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000")
# Once the colours run out, lines are told apart by their dash pattern as well.
SERIES_DASHES = ("", "6 3", "2 3", "8 3 2 3")

NOT_DETECTED_STATUSES = frozenset({"not_detected"})
NO_CALL_STATUSES = frozenset({"not_assessed", "not_evaluable"})

# Plot geometry in SVG user units; the element scales to the page width.
_WIDTH = 790.0
_PLOT_LEFT = 72.0
_PLOT_RIGHT = 560.0
_PLOT_TOP = 24.0
_PLOT_HEIGHT = 280.0
_DECADE_PAD = 0.12  # log10 units of headroom beyond the outer decades
_ND_BAND = 26.0  # strip under the lowest decade for non-detections with no known LoD95
_X_LABEL_SPACE = 78.0
_LEGEND_LEFT = 580.0
_LEGEND_ROW = 18.0
_MAX_DATE_LABELS = 10
_LOWEST_DECADE = -6  # 0.0001 %: below anything a plasma assay reports


def format_percent(fraction: float | None) -> str:
    """Format a fraction (0.0123) as a percentage ("1.23%"); "—" for None.

    Two decimals from 0.1 % upwards; below that two significant digits (0.052 %) so that
    low-level ctDNA never rounds to a misleading 0.00 %.
    """
    if fraction is None:
        return "—"
    percent = float(fraction) * 100.0
    if percent == 0.0:
        return "0%"
    if abs(percent) >= 0.1:
        return f"{percent:.2f}%"
    decimals = 1 - math.floor(math.log10(abs(percent)))
    return f"{percent:.{decimals}f}%"


def _decade_label(decade: int) -> str:
    """Label of the tick at VAF 10**decade, as a percentage without exponent notation."""
    percent_exponent = decade + 2
    if percent_exponent >= 0:
        return f"{10**percent_exponent}%"
    return "0." + "0" * (-percent_exponent - 1) + "1%"


def _num(value: float) -> str:
    """Coordinate with one fixed decimal, so output bytes do not depend on float noise."""
    text = f"{value:.1f}"
    return "0.0" if text == "-0.0" else text


def _element(tag: str, *children: str, **attributes: object) -> str:
    """One XML element. Attribute values are escaped here; children must already be markup
    (built by `_element` or `_text`). Attribute names: a trailing `_` is dropped (class_) and
    other underscores become hyphens (text_anchor -> text-anchor)."""
    rendered = "".join(
        f' {name.rstrip("_").replace("_", "-")}="{escape(str(value))}"'
        for name, value in attributes.items()
        if value is not None and value != ""
    )
    if not children:
        return f"<{tag}{rendered}/>"
    return f"<{tag}{rendered}>{''.join(children)}</{tag}>"


def _text(value: object) -> str:
    """Escaped text node."""
    return str(escape(str(value)))


def _title(text: str) -> str:
    """Hover text of the enclosing SVG element."""
    return _element("title", _text(text))


def _point_value(point: Mapping) -> tuple[str, float | None]:
    """Where a point goes: ("detected", vaf), ("lod", lod95), ("floor", None) or ("none", None)."""
    status = point.get("status")
    vaf = point.get("vaf")
    lod95 = point.get("lod95")
    if status == "detected":
        if vaf is not None and vaf > 0:
            return "detected", float(vaf)
        return "none", None  # e.g. an amplification: no VAF to draw
    if status in NOT_DETECTED_STATUSES:
        if lod95 is not None and lod95 > 0:
            return "lod", float(lod95)
        return "floor", None
    return "no_call", None


def _decade_range(values: Iterable[float]) -> tuple[int, int]:
    """Whole decades spanning the values, at least one decade wide, capped at 100 %."""
    positive = [value for value in values if value > 0]
    if not positive:
        return -3, -1
    low = max(math.floor(math.log10(min(positive))), _LOWEST_DECADE)
    high = min(math.ceil(math.log10(max(positive))), 0)
    if high <= low:
        high = low + 1
    return low, high


def _describe_point(label: str, point: Mapping, placement: str) -> str:
    """Hover text of one marker."""
    where = f"{point.get('sample', '')} ({point.get('collection_date', '')})"
    if placement == "detected":
        what = f"VAF {format_percent(point.get('vaf'))}, detected"
    elif placement == "lod":
        what = f"not detected, LoD95 {format_percent(point.get('lod95'))}"
    elif placement == "floor":
        what = "not detected, LoD95 unknown"
    elif placement == "no_call":
        what = str(point.get("status", "")).replace("_", " ")
    else:
        what = "detected, no VAF"
    return f"{label} — {where}: {what}"


def render_vaf_plot(
    history: Sequence[Mapping],
    current_date: str | None = None,
    title: str = "Variant allele fraction over time",
) -> Markup:
    """Inline SVG of VAF over collection date, one line per history entry (log10 y axis).

    Detected points are filled markers at their VAF. Non-detections are hollow markers at their
    LoD95 when known, otherwise in a "not detected" strip under the lowest decade. Draws that were
    not assessed or not evaluable are small crosses in that strip and do not join the line.
    `current_date` (ISO date) draws a vertical rule at this draw.
    """
    series = []
    for entry in history:
        points = sorted(
            entry.get("points", []),
            key=lambda point: (str(point.get("collection_date")), str(point.get("sample"))),
        )
        placed = [(point, *_point_value(point)) for point in points]
        label = f"{entry.get('gene', '')} {entry.get('alteration', '')}".strip()
        series.append((entry, label, placed))

    plotted_values = [value for _, _, placed in series for _, _, value in placed if value]
    low_decade, high_decade = _decade_range(plotted_values)

    all_days = [
        date.fromisoformat(str(point["collection_date"])).toordinal()
        for _, _, placed in series
        for point, _, _ in placed
    ]
    if current_date:
        all_days.append(date.fromisoformat(current_date).toordinal())
    first_day, last_day = (min(all_days), max(all_days)) if all_days else (0, 0)
    if last_day - first_day < 1:
        first_day, last_day = first_day - 14, last_day + 14
    # Keep markers off the axes: pad the date range by 4 % on each side.
    pad_days = (last_day - first_day) * 0.04
    x_low, x_high = first_day - pad_days, last_day + pad_days

    decade_bottom = _PLOT_TOP + _PLOT_HEIGHT
    plot_bottom = decade_bottom + _ND_BAND
    floor_y = decade_bottom + _ND_BAND / 2

    def x_of(iso_date: str) -> float:
        day = date.fromisoformat(str(iso_date)).toordinal()
        return _PLOT_LEFT + (day - x_low) / (x_high - x_low) * (_PLOT_RIGHT - _PLOT_LEFT)

    # A little headroom beyond the outer decades so markers at exactly 0.1 % or 10 % stay clear
    # of the frame and of the n.d. strip.
    y_low, y_high = low_decade - _DECADE_PAD, high_decade + _DECADE_PAD / 2

    def y_of(fraction: float) -> float:
        position = (math.log10(fraction) - y_low) / (y_high - y_low)
        position = min(max(position, 0.0), 1.0)
        return decade_bottom - position * _PLOT_HEIGHT

    legend_height = _PLOT_TOP + _LEGEND_ROW * (len(series) + 4)
    height = max(plot_bottom + _X_LABEL_SPACE, legend_height)
    plot_width = _PLOT_RIGHT - _PLOT_LEFT
    small = {"font_size": "11"}

    parts: list[str] = [
        _element("title", _text(title), id="vaf-plot-title"),
        _element(
            "rect",
            class_="plot-area",
            x=_num(_PLOT_LEFT),
            y=_num(_PLOT_TOP),
            width=_num(plot_width),
            height=_num(plot_bottom - _PLOT_TOP),
            fill="#ffffff",
            stroke="#999999",
        ),
        _element(
            "rect",
            class_="nd-band",
            x=_num(_PLOT_LEFT),
            y=_num(decade_bottom),
            width=_num(plot_width),
            height=_num(_ND_BAND),
            fill="#f2f2f2",
        ),
    ]

    # Y axis: unlabelled minor gridlines at 2x and 5x, a labelled gridline per decade, and the
    # not-detected strip.
    for decade in range(low_decade, high_decade):
        for multiple in (2, 5):
            y = y_of(multiple * 10.0**decade)
            parts.append(
                _element(
                    "line",
                    class_="grid minor",
                    x1=_num(_PLOT_LEFT),
                    x2=_num(_PLOT_RIGHT),
                    y1=_num(y),
                    y2=_num(y),
                    stroke="#eeeeee",
                )
            )
    for decade in range(low_decade, high_decade + 1):
        y = y_of(10.0**decade)
        parts.append(
            _element(
                "line",
                class_="grid",
                x1=_num(_PLOT_LEFT),
                x2=_num(_PLOT_RIGHT),
                y1=_num(y),
                y2=_num(y),
                stroke="#dddddd",
            )
        )
        parts.append(
            _element(
                "text",
                _text(_decade_label(decade)),
                x=_num(_PLOT_LEFT - 6),
                y=_num(y + 4),
                text_anchor="end",
                **small,
            )
        )
    parts.append(
        _element(
            "text", "n.d.", x=_num(_PLOT_LEFT - 6), y=_num(floor_y + 4), text_anchor="end", **small
        )
    )
    label_x, label_y = 16.0, _PLOT_TOP + _PLOT_HEIGHT / 2
    parts.append(
        _element(
            "text",
            "VAF (log scale)",
            x=_num(label_x),
            y=_num(label_y),
            text_anchor="middle",
            font_size="12",
            transform=f"rotate(-90 {_num(label_x)} {_num(label_y)})",
        )
    )

    # X axis: a tick per distinct collection date, labels thinned when there are many draws.
    dates = sorted({str(point["collection_date"]) for _, _, p in series for point, _, _ in p})
    date_ticks(parts, dates, x_of, plot_bottom, _MAX_DATE_LABELS)
    parts.append(
        _element(
            "text",
            "Collection date",
            x=_num((_PLOT_LEFT + _PLOT_RIGHT) / 2),
            y=_num(height - 8),
            text_anchor="middle",
            font_size="12",
        )
    )

    if current_date:
        x = x_of(current_date)
        parts.append(
            _element(
                "line",
                _title(f"This draw ({current_date})"),
                class_="this-draw",
                x1=_num(x),
                x2=_num(x),
                y1=_num(_PLOT_TOP),
                y2=_num(plot_bottom),
                stroke="#444444",
                stroke_dasharray="3 3",
            )
        )
        parts.append(
            _element(
                "text",
                "this draw",
                x=_num(x - 3),
                y=_num(_PLOT_TOP - 6),
                text_anchor="end",
                font_size="10",
                fill="#444444",
            )
        )

    # One group per history entry: its line, then its markers, each with hover text.
    for index, (entry, label, placed) in enumerate(series):
        colour = SERIES_COLOURS[index % len(SERIES_COLOURS)]
        dash = SERIES_DASHES[(index // len(SERIES_COLOURS)) % len(SERIES_DASHES)]
        line_points = []
        markers = []
        for point, placement, value in placed:
            if placement == "none":
                continue
            x = x_of(point["collection_date"])
            y = y_of(value) if placement in ("detected", "lod") else floor_y
            hover = _title(_describe_point(label, point, placement))
            if placement == "no_call":
                # No call is no evidence either way, so it does not join the line.
                markers.append(no_call_marker(hover, x, y, colour))
                continue
            line_points.append(f"{_num(x)},{_num(y)}")
            markers.append(point_marker(hover, x, y, colour, detected=placement == "detected"))
        line = _element(
            "polyline",
            class_="series-line",
            points=" ".join(line_points),
            fill="none",
            stroke=colour,
            stroke_width="2",
            stroke_dasharray=dash,
        )
        parts.append(
            _element("g", _title(label), line, *markers, class_="series", data_key=entry.get("key"))
        )

        row_y = _PLOT_TOP + 6 + index * _LEGEND_ROW
        parts.append(
            _element(
                "g",
                _element(
                    "line",
                    x1=_num(_LEGEND_LEFT),
                    x2=_num(_LEGEND_LEFT + 22),
                    y1=_num(row_y),
                    y2=_num(row_y),
                    stroke=colour,
                    stroke_width="2",
                    stroke_dasharray=dash,
                ),
                _element(
                    "circle", cx=_num(_LEGEND_LEFT + 11), cy=_num(row_y), r="3.5", fill=colour
                ),
                _element(
                    "text", _text(label), x=_num(_LEGEND_LEFT + 28), y=_num(row_y + 4), **small
                ),
                class_="legend-entry",
            )
        )

    # Marker key under the series legend.
    key_x = _LEGEND_LEFT + 11
    key_y = _PLOT_TOP + 6 + (len(series) + 0.8) * _LEGEND_ROW
    key_rows = [
        (_element("circle", cx=_num(key_x), cy=_num(key_y), r="4", fill="#555555"), "detected"),
        (
            _element(
                "circle",
                cx=_num(key_x),
                cy=_num(key_y + _LEGEND_ROW),
                r="4",
                fill="#ffffff",
                stroke="#555555",
                stroke_width="1.5",
            ),
            "not detected, at LoD95",
        ),
        (
            _element(
                "path",
                d=_cross_path(key_x, key_y + 2 * _LEGEND_ROW),
                stroke="#555555",
                stroke_width="1.5",
                fill="none",
            ),
            "not assessed",
        ),
    ]
    key_children = []
    for row, (symbol, meaning) in enumerate(key_rows):
        key_children.append(symbol)
        key_children.append(
            _element(
                "text",
                _text(meaning),
                x=_num(_LEGEND_LEFT + 28),
                y=_num(key_y + row * _LEGEND_ROW + 4),
                **small,
            )
        )
    parts.append(_element("g", *key_children, class_="legend-key"))

    svg = _element(
        "svg",
        "\n".join(["", *parts, ""]),
        class_="vaf-plot",
        viewBox=f"0 0 {_num(_WIDTH)} {_num(height)}",
        width=_num(_WIDTH),
        height=_num(height),
        role="img",
        aria_labelledby="vaf-plot-title",
    )
    return Markup(svg)


def no_call_marker(hover: str, x: float, y: float, colour: str) -> str:
    """The cross drawn where the caller made no call (the per-draw and longitudinal plots)."""
    return _element(
        "path",
        hover,
        class_="marker no-call",
        d=_cross_path(x, y),
        stroke=colour,
        stroke_width="1.5",
        fill="none",
    )


def point_marker(hover: str, x: float, y: float, colour: str, *, detected: bool) -> str:
    """A draw's circle: filled when detected, hollow when not (at the LoD or floor)."""
    return _element(
        "circle",
        hover,
        class_="marker detected" if detected else "marker not-detected",
        cx=_num(x),
        cy=_num(y),
        r="4.5",
        fill=colour if detected else "#ffffff",
        stroke=colour,
        stroke_width="1.5",
    )


def _cross_path(x: float, y: float, half: float = 3.5) -> str:
    """SVG path data of a small x-shaped cross centred on (x, y)."""
    return (
        f"M{_num(x - half)} {_num(y - half)}L{_num(x + half)} {_num(y + half)}"
        f"M{_num(x - half)} {_num(y + half)}L{_num(x + half)} {_num(y - half)}"
    )


def date_ticks(parts: list[str], iso_dates: Sequence[str], x_of, y: float, max_labels: int) -> None:
    """A tick per date on the x axis at ``y`` and a rotated ISO-date label, thinned to about
    ``max_labels`` (the last date is always labelled)."""
    step = max(1, math.ceil(len(iso_dates) / max_labels))
    for index, iso_date in enumerate(iso_dates):
        x = x_of(iso_date)
        parts.append(
            _element(
                "line",
                class_="tick",
                x1=_num(x),
                x2=_num(x),
                y1=_num(y),
                y2=_num(y + 5),
                stroke="#666666",
            )
        )
        if index % step == 0 or index == len(iso_dates) - 1:
            label_y = y + 16
            parts.append(
                _element(
                    "text",
                    _text(iso_date),
                    x=_num(x),
                    y=_num(label_y),
                    text_anchor="end",
                    font_size="11",
                    transform=f"rotate(-35 {_num(x)} {_num(label_y)})",
                )
            )


def svg_document(
    parts: list[str], css_class: str, title_id: str, width: float, height: float
) -> Markup:
    """An inline <svg> element around ``parts``, labelled by its <title id=title_id>."""
    return Markup(
        _element(
            "svg",
            "\n".join(["", *parts, ""]),
            class_=css_class,
            viewBox=f"0 0 {_num(width)} {_num(height)}",
            width=_num(width),
            height=_num(height),
            role="img",
            aria_labelledby=title_id,
        )
    )
