"""Bio-Rad QuantaSoft / QuantaSoft Analysis Pro / QX Manager results CSV (issue 17).

One row per well and channel. The column names changed between versions, so the layout is
detected from the header (LAYOUTS, most specific first) and an unknown one is refused with the
columns it lacks. The two channel rows of a well are paired into one AssayRecord: the mutant
channel is the one whose target type is not ``Reference`` (QX Manager), else channel 1 (FAM),
the convention of Bio-Rad's rare-mutation assays and of QuantaSoft's FractionalAbundance
(channel 1 / (channel 1 + channel 2)).
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

from ctdna_resistance.assay_records import AssayRecord
from ctdna_resistance.errors import InputError

# role -> column, per layout. Required roles are those every layout must have for counts.
LAYOUTS = {
    # QuantaSoft Analysis Pro 1.0 / QX Manager 1.x-2.x
    "qx_manager": {
        "well": "Well",
        "sample": "Sample description 1",
        "target": "Target",
        "channel": "DyeName(s)",
        "target_type": "TargetType",
        "sample_type": "SampleType",
        "positives": "Positives",
        "negatives": "Negatives",
        "accepted": "Accepted Droplets",
        "fraction": "Fractional Abundance",
        "fraction_high": "PoissonFractionalAbundanceMax",
        "fraction_low": "PoissonFractionalAbundanceMin",
        "concentration": "Conc(copies/µL)",
        "merged": "MergedWells",
    },
    # QuantaSoft 1.7.4
    "quantasoft_1.7.4": {
        "well": "Well",
        "sample": "Sample",
        "target": "Target",
        "channel": "TargetType",
        "positives": "Positives",
        "negatives": "Negatives",
        "accepted": "AcceptedDroplets",
        "fraction": "FractionalAbundance",
        "fraction_high": "PoissonFractionalAbundanceMax",
        "fraction_low": "PoissonFractionalAbundanceMin",
        "concentration": "Concentration",
        "merged": "MergedWells",
    },
    # QuantaSoft up to 1.7
    "quantasoft": {
        "well": "Well",
        "sample": "Sample",
        "target": "Assay",
        "channel": "TypeAssay",
        "positives": "Positives",
        "negatives": "Negatives",
        "accepted": "AcceptedDroplets",
        "fraction": "FractionalAbundance",
        "fraction_high": "PoissonFractionalAbundanceMax",
        "fraction_low": "PoissonFractionalAbundanceMin",
        "concentration": "Concentration",
        "merged": "MergedWells",
    },
}
REQUIRED = ("well", "sample", "target", "channel", "positives", "negatives", "accepted")
_COUNTS = ("positives", "negatives", "accepted")
_DYE_CHANNEL = {"FAM": 1, "HEX": 2, "VIC": 2}
# QX Manager's SampleType; older exports only have the sample's name (targeted_assay.py's
# role_of_name decides from it).
_SAMPLE_TYPES = {"ntc": "ntc", "negctrl": "wildtype_control", "posctrl": "positive_control"}
_NTC_NAME = re.compile(r"^(ntc|h2o|water|blank|no[ _-]?template([ _-]?control)?)$", re.I)
_WT_NAME = re.compile(r"^(wt|wild[ _-]?type)([ _-]?(ctrl|control|dna|gdna))?$", re.I)


def role_of_name(name: str) -> str:
    """A control's role from its sample name (NTC/H2O/water/blank; WT/wild-type control)."""
    name = name.strip()
    if _NTC_NAME.match(name):
        return "ntc"
    if _WT_NAME.match(name):
        return "wildtype_control"
    return "sample"


def detect_layout(header: list[str], path) -> str:
    """The LAYOUTS entry whose required columns the header has; InputError naming what lacks."""
    present = set(header)
    missing_by_layout = {
        name: [columns[role] for role in REQUIRED if columns[role] not in present]
        for name, columns in LAYOUTS.items()
    }
    for name, missing in missing_by_layout.items():
        if not missing:
            return name
    closest = min(missing_by_layout, key=lambda name: len(missing_by_layout[name]))
    raise InputError(
        path,
        f"not a known QuantaSoft/QX Manager results layout: lacks column(s) "
        f"{', '.join(missing_by_layout[closest])} of the {closest} layout",
        "export the plate's results table (CSV) from QuantaSoft or QX Manager, or convert it to "
        "the generic targeted-assay TSV (README: Your own data)",
        record=1,
    )


def _read_rows(path: Path) -> list[tuple[int, list[str]]]:
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")  # older QuantaSoft wrote the µ of Conc(copies/µL) this way
    rows = []
    for number, values in enumerate(csv.reader(text.splitlines()), 1):
        if any(v.strip() for v in values):
            rows.append((number, [v.strip() for v in values]))
    if not rows:
        raise InputError(path, "the file is empty", "export the plate's results table (CSV)")
    return rows


def _count(value: str, column: str, path, number: int) -> int:
    if value == "":
        raise InputError(
            path,
            f"{column} is empty",
            "export the results after the plate was analysed (thresholds set), or drop the well",
            record=number,
        )
    try:
        number_value = float(value)
    except ValueError:
        number_value = -1.0
    if number_value < 0 or number_value != int(number_value):
        raise InputError(
            path,
            f"{column} {value!r} is not a count of droplets",
            "give whole, non-negative numbers of droplets",
            record=number,
        )
    return int(number_value)


def _number(value: str) -> float | None:
    try:
        return float(value) if value not in ("", "No Call", "NaN") else None
    except ValueError:
        return None


def _channel(value: str) -> int | None:
    """1 or 2 from 'Ch1Unknown' / 'Ch2Reference' or a dye name; None when it cannot say."""
    match = re.match(r"ch\s*([12])", value, re.I)
    if match:
        return int(match.group(1))
    return _DYE_CHANNEL.get(value.upper())


def read_quantasoft(path, platform: str = "ddpcr") -> list[AssayRecord]:
    """One AssayRecord per well (mutant and wild-type channels paired), in file order."""
    path = Path(path)
    rows = _read_rows(path)
    _, header = rows[0]
    layout = detect_layout(header, path)
    columns = LAYOUTS[layout]
    index = {role: header.index(col) for role, col in columns.items() if col in header}
    wells: dict[str, list[dict]] = {}
    for number, values in rows[1:]:
        values = values + [""] * (len(header) - len(values))

        def get(role, values=values):
            return values[index[role]] if role in index else ""

        counts = {role: _count(get(role), columns[role], path, number) for role in _COUNTS}
        if counts["positives"] + counts["negatives"] != counts["accepted"]:
            raise InputError(
                path,
                f"{columns['positives']} {counts['positives']} + {columns['negatives']} "
                f"{counts['negatives']} != {columns['accepted']} {counts['accepted']}",
                "export the results table unedited",
                record=number,
            )
        well = get("well")
        wells.setdefault(well, []).append(
            {
                "number": number,
                "sample": get("sample"),
                "target": get("target"),
                "channel": _channel(get("channel")),
                "reference": "reference" in (get("target_type") or get("channel")).lower(),
                "sample_type": get("sample_type").lower(),
                "merged": tuple(w for w in re.split(r"[,;\s]+", get("merged")) if w),
                "fraction": _number(get("fraction")),
                "fraction_low": _number(get("fraction_low")),
                "fraction_high": _number(get("fraction_high")),
                "concentration": _number(get("concentration")),
                **counts,
            }
        )
    return [_pair(path, layout, well, channels, platform) for well, channels in wells.items()]


def _pair(path, layout: str, well: str, channels: list[dict], platform: str) -> AssayRecord:
    """The well's record: its mutant channel, and its wild-type channel when there is one."""
    first = channels[0]
    if len(channels) > 2:
        raise InputError(
            path,
            f"well {well} has {len(channels)} channel rows (a multiplex)",
            "export one mutant and one wild-type channel per well, or write the generic "
            "targeted-assay TSV with one row per target",
            record=channels[2]["number"],
        )
    if len({c["sample"] for c in channels}) > 1 or len({c["accepted"] for c in channels}) > 1:
        raise InputError(
            path,
            f"the rows of well {well} disagree on the sample or the accepted droplets",
            "export the results table unedited",
            record=channels[-1]["number"],
        )
    ordered = sorted(channels, key=lambda c: (c["reference"], c["channel"] or 9, c["number"]))
    mutant = ordered[0]
    wildtype = ordered[1] if len(ordered) > 1 else None
    role = _SAMPLE_TYPES.get(first["sample_type"]) or role_of_name(first["sample"])
    percent = [mutant[k] for k in ("fraction", "fraction_low", "fraction_high")]
    return AssayRecord(
        source=str(path),
        record_no=mutant["number"],
        sample=first["sample"],
        target=mutant["target"],
        well=well,
        platform=platform,
        dialect=layout,
        role=role,
        wildtype_target=wildtype["target"] if wildtype else "",
        mutant_positives=mutant["positives"],
        wildtype_positives=wildtype["positives"] if wildtype else None,
        accepted_partitions=mutant["accepted"],
        merged_wells=tuple(w for w in mutant["merged"] if w != well),
        file_fraction=None if percent[0] is None else percent[0] / 100,
        file_fraction_low=None if percent[1] is None else percent[1] / 100,
        file_fraction_high=None if percent[2] is None else percent[2] / 100,
        file_concentration=mutant["concentration"],
    )
