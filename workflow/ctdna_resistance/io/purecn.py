"""PureCN purity/ploidy `.csv` (`<sample>.csv`, written by PureCN.R with R's write.csv).

Comma-separated, every string double-quoted, logicals TRUE/FALSE; columns Sampleid, Purity, Ploidy,
Sex, Contamination, Flagged, Failed, Curated, Comment. One row per sample. Purity is a fraction.
A Failed run is refused (its purity is no estimate); a Flagged one is read, with PureCN's comment
kept in the notes for the report. PureCN's segments (`<sample>_dnacopy.seg`) are a generic SEG; the
purity CSV next to one is found by `sibling_purity`.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

from ctdna_resistance.errors import InputError
from ctdna_resistance.io.segment_table import PurityEstimate

METHOD = "PureCN purity"
_REQUIRED = ("Sampleid", "Purity", "Ploidy")


def is_purecn_purity(header: list[str]) -> bool:
    """True for the (unquoted) header of a PureCN purity CSV."""
    return set(_REQUIRED) <= {h.strip() for h in header}


def sibling_purity(segment_path: str) -> Path | None:
    """`<sample>.csv` next to PureCN's `<sample>_dnacopy.seg`, if it exists."""
    path = Path(segment_path)
    if not path.name.endswith("_dnacopy.seg"):
        return None
    candidate = path.with_name(path.name[: -len("_dnacopy.seg")] + ".csv")
    return candidate if candidate.is_file() else None


def read_purecn_purity(path: str | Path, *, sample: str | None = None) -> PurityEstimate:
    """Purity and ploidy of one sample from a PureCN CSV (``sample`` picks one of several rows)."""
    path = Path(path)
    with open(path, encoding="utf-8", errors="replace", newline="") as handle:
        rows = list(csv.reader(handle))
    if not rows or not is_purecn_purity(rows[0]):
        raise InputError(
            path,
            "not a PureCN purity CSV (needs Sampleid, Purity, Ploidy columns)",
            "give the <sample>.csv PureCN wrote",
            record=1,
        )
    header = [h.strip() for h in rows[0]]
    data = [(n, dict(zip(header, r, strict=False))) for n, r in enumerate(rows[1:], 2) if r]
    if sample is not None:
        data = [(n, r) for n, r in data if r.get("Sampleid") == sample]
    if len(data) != 1:
        raise InputError(
            path,
            f"{len(data)} rows{'' if sample is None else f' for sample {sample!r}'} where one "
            "is needed",
            "give the purity CSV of one PureCN run (or name the sample)",
        )
    line_no, row = data[0]
    if row.get("Failed", "").upper() == "TRUE":
        raise InputError(
            path,
            f"PureCN marks sample {row.get('Sampleid')!r} Failed ({row.get('Comment', '')})",
            "take the tumour fraction from another source for this sample",
            record=line_no,
        )
    # A row cut short lacks the later cells: they read as '' and are refused as not numbers.
    purity_text, ploidy_text = row.get("Purity") or "", row.get("Ploidy") or ""
    try:
        purity, ploidy = float(purity_text), float(ploidy_text)
    except ValueError:
        purity = ploidy = math.nan
    if not (math.isfinite(purity) and math.isfinite(ploidy)):
        raise InputError(
            path,
            f"Purity {purity_text!r} / Ploidy {ploidy_text!r} are not numbers",
            "give the CSV PureCN wrote (a row cut short or edited is damaged: re-export it)",
            record=line_no,
        )
    if not 0.0 <= purity <= 1.0:
        raise InputError(
            path, f"Purity {purity} is not a fraction from 0 to 1", "give the CSV PureCN wrote",
            record=line_no,
        )  # fmt: skip
    notes = []
    if row.get("Flagged", "").upper() == "TRUE":
        notes.append(f"flagged by PureCN: {row.get('Comment', '')}".strip())
    return PurityEstimate(str(path), METHOD, purity, ploidy, row.get("Sampleid"), "; ".join(notes))
