"""The longitudinal page's figures as inline SVG: trajectories with treatments, clones, heat map.

Hand-written SVG built with the helpers of `svg.py` (which escape every text node and attribute),
laid out by `longitudinal_layout.py` from the data of `longitudinal_data.py`.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Mapping, Sequence

from markupsafe import Markup

from ctdna_resistance.report.html import (
    STATUS_LABELS,
    _label,
)
from ctdna_resistance.report.longitudinal_data import (
    AlterationRow,
    CellView,
    DrawView,
    TreatmentPeriod,
    cell_platform,
    point_hover,
    point_placement,
    reads_text,
)
from ctdna_resistance.report.longitudinal_layout import (
    ANTI_EGFR_COLOUR,
    DECADE_PAD,
    LANE,
    LANE_GAP,
    LEFT,
    LEGEND_LEFT,
    LEGEND_ROW,
    ND_BAND,
    OTHER_THERAPY_COLOUR,
    PANEL_GAP,
    RIGHT,
    TF_HEIGHT,
    TUMOUR_FRACTION_COLOUR,
    VAF_HEIGHT,
    WIDTH,
    X_LABEL_SPACE,
    TimeAxis,
    axis_label,
    draw_date_ticks,
    figure_svg,
    hline,
    legend_row,
    nice_ceiling,
    percent_tick,
)
from ctdna_resistance.report.platform_marks import (
    platform_keys,
    platform_label,
    platform_marker,
    shows_platforms,
)
from ctdna_resistance.report.svg import (
    SERIES_COLOURS,
    SERIES_DASHES,
    _cross_path,
    _decade_label,
    _decade_range,
    _element,
    _num,
    _text,
    _title,
    format_percent,
    no_call_marker,
)

# Heat map geometry.
_HEAT_LABEL_WIDTH = 210.0
_HEAT_CELL_HEIGHT = 30.0
_HEAT_MAX_CELL_WIDTH = 96.0
_HEAT_HEADER = 46.0
# Detected cells are shaded by log10 VAF between these decades (0.01 % .. 10 %).
_HEAT_LOW_DECADE = -4.0
_HEAT_HIGH_DECADE = -1.0
_HEAT_EMPTY = {
    "not_detected": ("#ffffff", "n.d."),
    "not_evaluable": ("#e3e3e3", "n.e."),
    "not_assessed": ("#f3f3f3", "n.a."),
    None: ("#fafafa", "—"),
}


# ----------------------------------------------------------------------------- trajectories


def trajectory_svg(
    draws: Sequence[DrawView],
    alterations: Sequence[AlterationRow],
    grid: Mapping[tuple[str, str], CellView],
    treatments: Sequence[TreatmentPeriod],
) -> Markup:
    """VAF trajectories (log axis), treatment lanes above and tumour fraction below, one x axis."""
    axis = TimeAxis(draws, treatments)
    parts: list[str] = [
        _element(
            "title", _text("VAF, tumour fraction and treatment over time"), id="trajectory-title"
        )
    ]

    # Treatment lanes: one per agent, in order of first start.
    lane_agents: list[str] = []
    for treatment in treatments:
        if treatment.agent not in lane_agents:
            lane_agents.append(treatment.agent)
    lanes_top = 22.0
    parts.append(
        _element(
            "text",
            "Treatment",
            x=_num(LEFT - 6),
            y=_num(lanes_top - 8),
            text_anchor="end",
            font_size="11",
        )
    )
    for index, agent in enumerate(lane_agents):
        y = lanes_top + index * (LANE + LANE_GAP)
        parts.append(
            _element(
                "rect",
                class_="lane",
                x=_num(LEFT),
                y=_num(y),
                width=_num(RIGHT - LEFT),
                height=_num(LANE),
                fill="#fafafa",
            )
        )
        for treatment in (t for t in treatments if t.agent == agent):
            parts.append(_treatment_bar(axis, treatment, y))
        parts.append(
            _element(
                "text",
                _text(agent),
                x=_num(RIGHT + 8),
                y=_num(y + LANE - 4),
                font_size="11",
                class_="lane-label",
            )
        )
    if not lane_agents:
        parts.append(
            _element(
                "text",
                "no treatment timeline given",
                x=_num(LEFT + 6),
                y=_num(lanes_top + LANE - 4),
                font_size="11",
                fill="#5f6368",
            )
        )
    lanes_bottom = lanes_top + max(len(lane_agents), 1) * (LANE + LANE_GAP)

    # VAF panel.
    vaf_top = lanes_bottom + 22.0
    decade_bottom = vaf_top + VAF_HEIGHT
    vaf_bottom = decade_bottom + ND_BAND
    floor_y = decade_bottom + ND_BAND / 2
    placed = {
        (a.key, d.sample): point_placement(grid.get((a.key, d.sample)))
        for a in alterations
        for d in draws
    }
    low_decade, high_decade = _decade_range(v for _, v in placed.values() if v)
    y_low, y_high = low_decade - DECADE_PAD, high_decade + DECADE_PAD / 2

    def vaf_y(fraction: float) -> float:
        position = (math.log10(fraction) - y_low) / (y_high - y_low)
        return decade_bottom - min(max(position, 0.0), 1.0) * VAF_HEIGHT

    parts.append(
        _element(
            "rect",
            class_="plot-area",
            x=_num(LEFT),
            y=_num(vaf_top),
            width=_num(RIGHT - LEFT),
            height=_num(vaf_bottom - vaf_top),
            fill="#ffffff",
            stroke="#999999",
        )
    )
    parts.append(
        _element(
            "rect",
            class_="nd-band",
            x=_num(LEFT),
            y=_num(decade_bottom),
            width=_num(RIGHT - LEFT),
            height=_num(ND_BAND),
            fill="#f2f2f2",
        )
    )
    for decade in range(low_decade, high_decade):
        for multiple in (2, 5):
            parts.append(hline(vaf_y(multiple * 10.0**decade), "#eeeeee", "grid minor"))
    for decade in range(low_decade, high_decade + 1):
        y = vaf_y(10.0**decade)
        parts.append(hline(y, "#dddddd", "grid"))
        parts.append(
            _element(
                "text",
                _text(_decade_label(decade)),
                x=_num(LEFT - 6),
                y=_num(y + 4),
                text_anchor="end",
                font_size="11",
            )
        )
    parts.append(
        _element(
            "text",
            "n.d.",
            x=_num(LEFT - 6),
            y=_num(floor_y + 4),
            text_anchor="end",
            font_size="11",
        )
    )
    axis_label(parts, "VAF (log scale)", vaf_top, VAF_HEIGHT)

    # Tumour fraction panel.
    tf_top = vaf_bottom + PANEL_GAP
    tf_bottom = tf_top + TF_HEIGHT
    fractions = [d.tumor_fraction for d in draws if d.tumor_fraction is not None]
    tf_max = nice_ceiling(max(fractions) * 1.15) if fractions else 0.1

    def tf_y(fraction: float) -> float:
        return tf_bottom - min(max(fraction / tf_max, 0.0), 1.0) * TF_HEIGHT

    parts.append(
        _element(
            "rect",
            class_="plot-area tf-area",
            x=_num(LEFT),
            y=_num(tf_top),
            width=_num(RIGHT - LEFT),
            height=_num(TF_HEIGHT),
            fill="#ffffff",
            stroke="#999999",
        )
    )
    for fraction in (0.0, tf_max / 2, tf_max):
        y = tf_y(fraction)
        parts.append(hline(y, "#dddddd", "grid"))
        parts.append(
            _element(
                "text",
                _text(percent_tick(fraction)),
                x=_num(LEFT - 6),
                y=_num(y + 4),
                text_anchor="end",
                font_size="11",
            )
        )
    axis_label(parts, "Tumour fraction", tf_top, TF_HEIGHT)

    # Faint vertical rule at each draw through both panels, so values line up by eye.
    for draw in draws:
        x = axis.x(draw.date)
        parts.append(
            _element(
                "line",
                class_="draw-rule",
                x1=_num(x),
                x2=_num(x),
                y1=_num(vaf_top),
                y2=_num(tf_bottom),
                stroke="#e6e6e6",
            )
        )

    # Anti-EGFR withdrawal: a dashed red rule through every panel at each anti-EGFR end date.
    for treatment in treatments:
        if not (treatment.anti_egfr and treatment.end):
            continue
        if not axis.first_visible <= treatment.end <= axis.last_visible:
            continue
        x = axis.x(treatment.end)
        parts.append(
            _element(
                "line",
                _title(f"{treatment.agent} stopped {treatment.end.isoformat()}"),
                class_="withdrawal",
                x1=_num(x),
                x2=_num(x),
                y1=_num(lanes_top),
                y2=_num(tf_bottom),
                stroke=ANTI_EGFR_COLOUR,
                stroke_width="1.5",
                stroke_dasharray="5 3",
            )
        )
        parts.append(
            _element(
                "text",
                "anti-EGFR stopped",
                x=_num(x + 4),
                y=_num(vaf_top + 12),
                font_size="10",
                fill=ANTI_EGFR_COLOUR,
                class_="withdrawal-label",
            )
        )

    # One group per alteration: segments (solid between detections, dashed through a
    # non-detection), then markers (shaped by platform) with hover text.
    platforms = [cell_platform(d, grid.get((a.key, d.sample))) for a in alterations for d in draws]
    by_platform = shows_platforms(platforms)
    for index, alteration in enumerate(alterations):
        colour = SERIES_COLOURS[index % len(SERIES_COLOURS)]
        dash = SERIES_DASHES[(index // len(SERIES_COLOURS)) % len(SERIES_DASHES)]
        joined: list[tuple[float, float, bool]] = []
        markers: list[str] = []
        for draw in draws:
            cell = grid.get((alteration.key, draw.sample))
            placement, value = placed[(alteration.key, draw.sample)]
            if placement == "none" or cell is None:
                continue
            x = axis.x(draw.date)
            platform = cell_platform(draw, cell)
            named = platform_label(platform) if by_platform else ""
            hover = _title(point_hover(alteration.label, draw, cell, placement, platform=named))
            if placement == "no_call":
                markers.append(no_call_marker(hover, x, floor_y, colour))
                continue
            y = vaf_y(value) if value else floor_y
            detected = placement == "detected"
            joined.append((x, y, detected))
            markers.append(platform_marker(platform, hover, x, y, colour, detected=detected))
        segments = []
        for (x1, y1, detected1), (x2, y2, detected2) in itertools.pairwise(joined):
            both = detected1 and detected2
            segments.append(
                _element(
                    "line",
                    class_="segment" if both else "segment through-lod",
                    x1=_num(x1),
                    y1=_num(y1),
                    x2=_num(x2),
                    y2=_num(y2),
                    stroke=colour,
                    stroke_width="2" if both else "1.5",
                    stroke_dasharray=dash if both else "4 3",
                )
            )
        parts.append(
            _element(
                "g",
                _title(alteration.label),
                *segments,
                *markers,
                class_="series",
                data_key=alteration.key,
            )
        )

    # Tumour fraction points.
    tf_points = [
        (axis.x(d.date), tf_y(d.tumor_fraction), d) for d in draws if d.tumor_fraction is not None
    ]
    if tf_points:
        parts.append(
            _element(
                "polyline",
                class_="tf-line",
                points=" ".join(f"{_num(x)},{_num(y)}" for x, y, _ in tf_points),
                fill="none",
                stroke=TUMOUR_FRACTION_COLOUR,
                stroke_width="1.5",
            )
        )
        for x, y, draw in tf_points:
            parts.append(
                _element(
                    "rect",
                    _title(
                        f"{draw.sample} ({draw.date.isoformat()}): tumour fraction "
                        f"{format_percent(draw.tumor_fraction)} ({draw.tumor_fraction_method})"
                    ),
                    class_="marker tf",
                    x=_num(x - 4),
                    y=_num(y - 4),
                    width="8",
                    height="8",
                    fill=TUMOUR_FRACTION_COLOUR,
                )
            )
    else:
        parts.append(
            _element(
                "text",
                "tumour fraction not estimated for any draw",
                x=_num((LEFT + RIGHT) / 2),
                y=_num(tf_top + TF_HEIGHT / 2 + 4),
                text_anchor="middle",
                font_size="12",
                fill="#5f6368",
                class_="tf-missing",
            )
        )

    draw_date_ticks(parts, axis, draws, tf_bottom)
    height_axis = tf_bottom + X_LABEL_SPACE
    parts.append(
        _element(
            "text",
            "Collection date",
            x=_num((LEFT + RIGHT) / 2),
            y=_num(height_axis - 6),
            text_anchor="middle",
            font_size="12",
        )
    )

    # Legend: one row per alteration, then the marker and treatment keys.
    row_y = vaf_top + 6
    for index, alteration in enumerate(alterations):
        colour = SERIES_COLOURS[index % len(SERIES_COLOURS)]
        dash = SERIES_DASHES[(index // len(SERIES_COLOURS)) % len(SERIES_DASHES)]
        symbol = _element(
            "line",
            x1=_num(LEGEND_LEFT),
            x2=_num(LEGEND_LEFT + 22),
            y1=_num(row_y),
            y2=_num(row_y),
            stroke=colour,
            stroke_width="2",
            stroke_dasharray=dash,
        ) + _element("circle", cx=_num(LEGEND_LEFT + 11), cy=_num(row_y), r="3.5", fill=colour)
        legend_row(parts, row_y, symbol, alteration.label)
        row_y += LEGEND_ROW
    row_y += LEGEND_ROW * 0.5
    key_x = LEGEND_LEFT + 11
    for draw_symbol, meaning in _marker_keys(key_x) + platform_keys(key_x, platforms):
        legend_row(parts, row_y, draw_symbol(row_y), meaning)
        row_y += LEGEND_ROW

    height = max(height_axis, row_y + 10)
    return figure_svg(parts, "trajectory-plot", "trajectory-title", height)


def _marker_keys(key_x: float) -> list[tuple[Callable[[float], str], str]]:
    """Legend symbols (drawn at a given row y) and what they mean."""

    def bar(colour: str) -> Callable[[float], str]:
        return lambda y: _element(
            "rect", x=_num(LEGEND_LEFT), y=_num(y - 5), width="22", height="10", fill=colour
        )

    return [
        (
            lambda y: _element("circle", cx=_num(key_x), cy=_num(y), r="4", fill="#555555"),
            "detected",
        ),
        (
            lambda y: _element(
                "circle",
                cx=_num(key_x),
                cy=_num(y),
                r="4",
                fill="#ffffff",
                stroke="#555555",
                stroke_width="1.5",
            ),
            "not detected, at LoD95",
        ),
        (
            lambda y: _element(
                "line",
                x1=_num(LEGEND_LEFT),
                x2=_num(LEGEND_LEFT + 22),
                y1=_num(y),
                y2=_num(y),
                stroke="#555555",
                stroke_width="1.5",
                stroke_dasharray="4 3",
            ),
            "through a non-detection",
        ),
        (
            lambda y: _element(
                "path", d=_cross_path(key_x, y), stroke="#555555", stroke_width="1.5", fill="none"
            ),
            "not assessed / not evaluable",
        ),
        (
            lambda y: _element(
                "rect",
                x=_num(key_x - 4),
                y=_num(y - 4),
                width="8",
                height="8",
                fill=TUMOUR_FRACTION_COLOUR,
            ),
            "tumour fraction",
        ),
        (bar(ANTI_EGFR_COLOUR), "anti-EGFR therapy"),
        (bar(OTHER_THERAPY_COLOUR), "other therapy"),
    ]


def _treatment_bar(axis: TimeAxis, treatment: TreatmentPeriod, y: float) -> str:
    """One treatment period as a bar in its lane; an ongoing period runs to the axis end."""
    start_x = axis.x(treatment.start)
    end_x = axis.x(treatment.end) if treatment.end else RIGHT
    colour = ANTI_EGFR_COLOUR if treatment.anti_egfr else OTHER_THERAPY_COLOUR
    end = treatment.end.isoformat() if treatment.end else "ongoing"
    period = f"{treatment.start.isoformat()} to {end}"
    line = f", line {treatment.line}" if treatment.line else ""
    kind = "anti-EGFR" if treatment.anti_egfr else "other therapy"
    return _element(
        "rect",
        _title(f"{treatment.agent} ({kind}{line}): {period}"),
        class_="treatment anti-egfr" if treatment.anti_egfr else "treatment",
        x=_num(start_x),
        y=_num(y + 2),
        width=_num(max(end_x - start_x, 2.0)),
        height=_num(LANE - 4),
        fill=colour,
        rx="2",
    )


def clone_svg(
    draws: Sequence[DrawView],
    alterations: Sequence[AlterationRow],
    grid: Mapping[tuple[str, str], CellView],
    prevalence: Mapping[str, list[tuple[DrawView, float, float, float]]] | None = None,
) -> Markup | None:
    """Cellular prevalence of each clone over time, or None when no alteration has a clone.

    With ``prevalence`` (the clone model's estimates with 95% intervals, from the reports) those
    are drawn, with the interval as a vertical bar. Otherwise a clone's value at a draw is the
    mean VAF of its alterations there (0 when none is detected), turned into cellular prevalence
    as 2 x VAF / tumour fraction when every draw has a tumour fraction, else the mean VAF itself.
    Every clone here carries a panel alteration, so every clone is marked resistant.
    """
    members: dict[str, list[AlterationRow]] = {}
    for alteration in alterations:
        clone = next(
            (
                grid[(alteration.key, d.sample)].clone
                for d in reversed(draws)
                if (alteration.key, d.sample) in grid and grid[(alteration.key, d.sample)].clone
            ),
            None,
        )
        if clone:
            members.setdefault(str(clone), []).append(alteration)
    if not members or not draws:
        return None
    use_prevalence = prevalence is not None or all(d.tumor_fraction for d in draws)
    series: list[tuple[str, list[tuple[DrawView, float]]]] = []
    intervals: dict[str, list[tuple[DrawView, float, float]]] = {}
    for clone in sorted(members):
        if prevalence is not None and clone in prevalence:
            series.append((clone, [(d, est) for d, est, _, _ in prevalence[clone]]))
            intervals[clone] = [(d, low, high) for d, _, low, high in prevalence[clone]]
            continue
        points = []
        for draw in draws:
            vafs = [
                grid[(a.key, draw.sample)].vaf or 0.0
                for a in members[clone]
                if (a.key, draw.sample) in grid
                and grid[(a.key, draw.sample)].status in ("detected", "not_detected")
            ]
            if not vafs:
                continue
            mean_vaf = sum(vafs) / len(vafs)
            value = min(2 * mean_vaf / draw.tumor_fraction, 1.0) if use_prevalence else mean_vaf
            points.append((draw, value))
        series.append((clone, points))

    axis = TimeAxis(draws)
    top, height_plot = 20.0, 180.0
    bottom = top + height_plot
    values = [v for _, points in series for _, v in points]
    y_max = 1.0 if use_prevalence else nice_ceiling(max([*values, 0.001]) * 1.15)

    def y_of(value: float) -> float:
        return bottom - min(max(value / y_max, 0.0), 1.0) * height_plot

    parts = [
        _element("title", _text("Clones over time"), id="clone-title"),
        _element(
            "rect",
            class_="plot-area",
            x=_num(LEFT),
            y=_num(top),
            width=_num(RIGHT - LEFT),
            height=_num(height_plot),
            fill="#ffffff",
            stroke="#999999",
        ),
    ]
    for fraction in (0.0, 0.25, 0.5, 0.75, 1.0):
        y = y_of(fraction * y_max)
        parts.append(hline(y, "#dddddd", "grid"))
        parts.append(
            _element(
                "text",
                _text(percent_tick(fraction * y_max)),
                x=_num(LEFT - 6),
                y=_num(y + 4),
                text_anchor="end",
                font_size="11",
            )
        )
    axis_label(
        parts,
        "Cellular prevalence" if use_prevalence else "Clone VAF (mean)",
        top,
        height_plot,
    )
    row_y = top + 6
    for index, (clone, points) in enumerate(series):
        colour = SERIES_COLOURS[index % len(SERIES_COLOURS)]
        label = f"{clone} (resistant: {', '.join(a.label for a in members[clone])})"
        coords = [(axis.x(d.date), y_of(v), d, v) for d, v in points]
        markers = [
            _element(
                "circle",
                _title(
                    f"{clone} — {d.sample} ({d.date.isoformat()}): "
                    f"{'cellular prevalence' if use_prevalence else 'mean VAF'} {format_percent(v)}"
                ),
                class_="marker clone",
                cx=_num(x),
                cy=_num(y),
                r="4.5",
                fill=colour,
            )
            for x, y, d, v in coords
        ]
        line = _element(
            "polyline",
            class_="clone-line",
            points=" ".join(f"{_num(x)},{_num(y)}" for x, y, _, _ in coords),
            fill="none",
            stroke=colour,
            stroke_width="2.5",
        )
        bars = [
            _element(
                "line",
                class_="clone-interval",
                x1=_num(axis.x(d.date)),
                x2=_num(axis.x(d.date)),
                y1=_num(y_of(low)),
                y2=_num(y_of(high)),
                stroke=colour,
                stroke_width="1.5",
            )
            for d, low, high in intervals.get(clone, [])
        ]
        parts.append(
            _element("g", _title(label), line, *bars, *markers, class_="clone", data_clone=clone)
        )
        symbol = _element(
            "line",
            x1=_num(LEGEND_LEFT),
            x2=_num(LEGEND_LEFT + 22),
            y1=_num(row_y),
            y2=_num(row_y),
            stroke=colour,
            stroke_width="2.5",
        )
        legend_row(parts, row_y, symbol, label)
        row_y += LEGEND_ROW
    draw_date_ticks(parts, axis, draws, bottom)
    return figure_svg(parts, "clone-plot", "clone-title", max(bottom + X_LABEL_SPACE, row_y + 10))


# ----------------------------------------------------------------------------- heat map


def _heat_colour(vaf: float) -> tuple[str, str]:
    """Fill and text colour of a detected cell: light to dark blue with log10 VAF."""
    position = (math.log10(max(vaf, 1e-9)) - _HEAT_LOW_DECADE) / (
        _HEAT_HIGH_DECADE - _HEAT_LOW_DECADE
    )
    position = min(max(position, 0.0), 1.0)
    light, dark = (0xC6, 0xDB, 0xEF), (0x08, 0x30, 0x6B)
    rgb = [round(lo + (hi - lo) * position) for lo, hi in zip(light, dark, strict=True)]
    fill = "#" + "".join(f"{channel:02x}" for channel in rgb)
    return fill, "#ffffff" if position > 0.45 else "#0b1f33"


def heatmap_svg(
    draws: Sequence[DrawView],
    alterations: Sequence[AlterationRow],
    grid: Mapping[tuple[str, str], CellView],
) -> Markup:
    """Alteration x draw grid: detected cells shaded and labelled by VAF, others by status."""
    cell_width = min(_HEAT_MAX_CELL_WIDTH, (WIDTH - _HEAT_LABEL_WIDTH - 10) / max(len(draws), 1))
    parts = [_element("title", _text("Alterations by draw"), id="heatmap-title")]
    for column, draw in enumerate(draws):
        x = _HEAT_LABEL_WIDTH + (column + 0.5) * cell_width
        parts.append(
            _element(
                "text",
                _text(draw.timepoint or draw.sample),
                x=_num(x),
                y=_num(_HEAT_HEADER - 22),
                text_anchor="middle",
                font_size="12",
                font_weight="bold",
            )
        )
        parts.append(
            _element(
                "text",
                _text(draw.date.isoformat()),
                x=_num(x),
                y=_num(_HEAT_HEADER - 8),
                text_anchor="middle",
                font_size="10",
                fill="#5f6368",
            )
        )
    for row, alteration in enumerate(alterations):
        y = _HEAT_HEADER + row * _HEAT_CELL_HEIGHT
        parts.append(
            _element(
                "text",
                _text(alteration.label),
                x=_num(_HEAT_LABEL_WIDTH - 8),
                y=_num(y + _HEAT_CELL_HEIGHT / 2 + 4),
                text_anchor="end",
                font_size="12",
            )
        )
        for column, draw in enumerate(draws):
            cell = grid.get((alteration.key, draw.sample))
            x = _HEAT_LABEL_WIDTH + column * cell_width
            status = cell.status if cell else None
            if status == "detected":
                if cell.vaf is not None:
                    fill, ink = _heat_colour(float(cell.vaf))
                    text = format_percent(cell.vaf)
                else:
                    fill, ink = "#08306b", "#ffffff"
                    text = f"CN {cell.copy_number:.1f}" if cell.copy_number is not None else "det."
            else:
                fill, text = _HEAT_EMPTY.get(status, _HEAT_EMPTY[None])
                ink = "#5f6368"
            hover = f"{alteration.label} — {draw.sample} ({draw.date.isoformat()}): " + (
                _label(STATUS_LABELS, status) if status else "no record"
            )
            if cell and cell.vaf is not None:
                hover += f", VAF {format_percent(cell.vaf)}"
            if cell and (cell.alt_reads is not None or cell.depth is not None):
                hover += f", {reads_text(cell)} reads"
            if cell and cell.lod95 is not None and status != "detected":
                hover += f", LoD95 {format_percent(cell.lod95)}"
            parts.append(
                _element(
                    "g",
                    _title(hover),
                    _element(
                        "rect",
                        x=_num(x + 1),
                        y=_num(y + 1),
                        width=_num(cell_width - 2),
                        height=_num(_HEAT_CELL_HEIGHT - 2),
                        fill=fill,
                        stroke="#c8c8c8",
                    ),
                    _element(
                        "text",
                        _text(text),
                        x=_num(x + cell_width / 2),
                        y=_num(y + _HEAT_CELL_HEIGHT / 2 + 4),
                        text_anchor="middle",
                        font_size="11",
                        fill=ink,
                    ),
                    class_=f"heat-cell heat-{status or 'none'}",
                    data_key=alteration.key,
                    data_sample=draw.sample,
                )
            )
    height = _HEAT_HEADER + len(alterations) * _HEAT_CELL_HEIGHT + 8
    return figure_svg(parts, "heatmap", "heatmap-title", height)
