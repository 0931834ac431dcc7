"""The platform of a point on the longitudinal page (issue 17): its marker shape and its name.

A sequencing point is the page's circle; a ddPCR point a diamond and a BEAMing point a triangle,
filled when detected and hollow when not, in the alteration's colour, so a patient followed on
two platforms reads as one trajectory whose points say how each was measured. The legend and the
hover text name the platform only on a page that has more than sequencing, so a sequencing-only
page is unchanged.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from ctdna_resistance.report.svg import _element, _num, point_marker

PLATFORM_LABELS = {"ngs": "sequencing (NGS)", "ddpcr": "ddPCR", "beaming": "BEAMing"}
_ORDER = ("ngs", "ddpcr", "beaming")
_HALF = 5.5  # half the diamond's diagonal and the triangle's half-height, in px


def platform_label(platform: str | None) -> str:
    return PLATFORM_LABELS.get(platform or "ngs", str(platform))


def shows_platforms(platforms: Iterable[str | None]) -> bool:
    """Whether a page names platforms: when any point is not from sequencing."""
    return any((p or "ngs") != "ngs" for p in platforms)


def _shape_path(platform: str, x: float, y: float) -> str:
    if platform == "beaming":
        return (
            f"M{_num(x)} {_num(y - _HALF)}L{_num(x + _HALF)} {_num(y + _HALF * 0.8)}"
            f"L{_num(x - _HALF)} {_num(y + _HALF * 0.8)}Z"
        )
    return (
        f"M{_num(x)} {_num(y - _HALF)}L{_num(x + _HALF)} {_num(y)}"
        f"L{_num(x)} {_num(y + _HALF)}L{_num(x - _HALF)} {_num(y)}Z"
    )


def platform_marker(
    platform: str | None, hover: str, x: float, y: float, colour: str, *, detected: bool
) -> str:
    """The point of one draw: a circle for sequencing, a diamond (ddPCR) or a triangle
    (BEAMing) for a targeted assay, with the platform in its class."""
    platform = platform or "ngs"
    if platform == "ngs":
        return point_marker(hover, x, y, colour, detected=detected)
    state = "detected" if detected else "not-detected"
    return _element(
        "path",
        hover,
        class_=f"marker {state} platform-{platform}",
        d=_shape_path(platform, x, y),
        fill=colour if detected else "#ffffff",
        stroke=colour,
        stroke_width="1.5",
        data_platform=platform,
    )


def platform_keys(key_x: float, platforms: Iterable[str | None]) -> list[tuple[Callable, str]]:
    """Legend rows (symbol drawn at a row y, meaning) for the platforms on the page, sequencing
    first; none on a sequencing-only page."""
    present = {p or "ngs" for p in platforms}
    if not shows_platforms(present):
        return []

    def symbol(platform: str) -> Callable[[float], str]:
        if platform == "ngs":
            return lambda y: _element(
                "circle", cx=_num(key_x), cy=_num(y), r="4", fill="#555555", class_="platform-key"
            )
        return lambda y: _element(
            "path", d=_shape_path(platform, key_x, y), fill="#555555", class_="platform-key"
        )

    known = [p for p in _ORDER if p in present] + sorted(present - set(_ORDER))
    return [(symbol(p), f"measured by {platform_label(p)}") for p in known]
