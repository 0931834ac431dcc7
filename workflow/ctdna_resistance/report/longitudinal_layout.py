"""The layout of the longitudinal page's figures: geometry, the calendar-time axis, shared pieces.

Sizes in SVG user units (the figures scale to the page width), the time axis every figure shares,
and the small pieces they all draw (axis labels, legend rows, rules, date ticks).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence

from markupsafe import Markup

from ctdna_resistance.report.longitudinal_data import DrawView, TreatmentPeriod
from ctdna_resistance.report.svg import (
    _element,
    _num,
    _text,
    date_ticks,
    svg_document,
)

ANTI_EGFR_COLOUR = "#B00020"
OTHER_THERAPY_COLOUR = "#9AA0A6"
TUMOUR_FRACTION_COLOUR = "#333333"

# Geometry of the trajectory figure, in SVG user units (it scales to the page width).
WIDTH = 900.0
LEFT = 78.0
RIGHT = 640.0
LEGEND_LEFT = 660.0
LEGEND_ROW = 18.0
LANE = 16.0
LANE_GAP = 4.0
VAF_HEIGHT = 240.0
ND_BAND = 24.0
TF_HEIGHT = 100.0
PANEL_GAP = 30.0
X_LABEL_SPACE = 74.0
DECADE_PAD = 0.12
# Treatment periods far from the draws would squeeze the draws into a corner: the time axis shows
# at most this much before the first and after the last draw (bars are clipped, hover gives dates).
_DAYS_BEFORE_FIRST_DRAW = 60
_DAYS_AFTER_LAST_DRAW = 45
_MAX_DATE_LABELS = 12


# ----------------------------------------------------------------------------- time axis


class TimeAxis:
    """Calendar date -> x, over the draws and the treatment periods near them."""

    def __init__(
        self, draws: Sequence[DrawView], treatments: Sequence[TreatmentPeriod] = ()
    ) -> None:
        first = min(d.date for d in draws)
        last = max(d.date for d in draws)
        dates = [d.date for d in draws]
        for treatment in treatments:
            dates.append(treatment.start)
            if treatment.end:
                dates.append(treatment.end)
        low = max(min(dates), first - dt.timedelta(days=_DAYS_BEFORE_FIRST_DRAW))
        high = min(max(dates), last + dt.timedelta(days=_DAYS_AFTER_LAST_DRAW))
        low_day, high_day = low.toordinal(), high.toordinal()
        if high_day - low_day < 1:
            low_day, high_day = low_day - 14, high_day + 14
        pad = (high_day - low_day) * 0.03
        self.low_day, self.high_day = low_day - pad, high_day + pad
        self.first_visible = dt.date.fromordinal(math.ceil(self.low_day))
        self.last_visible = dt.date.fromordinal(math.floor(self.high_day))

    def x(self, day: dt.date) -> float:
        fraction = (day.toordinal() - self.low_day) / (self.high_day - self.low_day)
        fraction = min(max(fraction, 0.0), 1.0)
        return LEFT + fraction * (RIGHT - LEFT)


def draw_date_ticks(parts: list[str], axis: TimeAxis, draws: Sequence[DrawView], y: float) -> None:
    """A tick and a rotated date label per distinct draw date, thinned when there are many."""
    dates = sorted({d.date for d in draws})
    date_ticks(
        parts,
        [day.isoformat() for day in dates],
        lambda iso: axis.x(dt.date.fromisoformat(iso)),
        y,
        _MAX_DATE_LABELS,
    )


def figure_svg(parts: list[str], css_class: str, title_id: str, height: float) -> Markup:
    return svg_document(parts, css_class, title_id, WIDTH, height)


def hline(y: float, stroke: str, css_class: str) -> str:
    return _element(
        "line",
        class_=css_class,
        x1=_num(LEFT),
        x2=_num(RIGHT),
        y1=_num(y),
        y2=_num(y),
        stroke=stroke,
    )


def axis_label(parts: list[str], text: str, top: float, height: float) -> None:
    x, y = 14.0, top + height / 2
    parts.append(
        _element(
            "text",
            _text(text),
            x=_num(x),
            y=_num(y),
            text_anchor="middle",
            font_size="12",
            transform=f"rotate(-90 {_num(x)} {_num(y)})",
        )
    )


def legend_row(parts: list[str], row_y: float, symbol: str, text: str) -> None:
    parts.append(
        _element(
            "g",
            symbol,
            _element(
                "text", _text(text), x=_num(LEGEND_LEFT + 28), y=_num(row_y + 4), font_size="11"
            ),
            class_="legend-entry",
        )
    )


def nice_ceiling(value: float) -> float:
    """Smallest of 1, 2, 5 x 10^k at or above `value`, capped at 1 (100 %)."""
    if value <= 0:
        return 0.1
    exponent = math.floor(math.log10(value))
    for multiple in (1, 2, 5, 10):
        candidate = multiple * 10.0**exponent
        if candidate >= value - 1e-12:
            return min(candidate, 1.0)
    return 1.0


def percent_tick(fraction: float) -> str:
    percent = fraction * 100
    return f"{percent:.0f}%" if percent >= 10 or percent == 0 else f"{percent:.1f}%"
