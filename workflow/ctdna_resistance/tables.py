"""TSV writing and reading with a fixed column order (house rule 7)."""

from __future__ import annotations

import csv
import math


def format_value(value) -> str:
    """Stable text for a table cell: empty for missing, 6 significant digits for floats."""
    if value is None:
        return ""
    if isinstance(value, float):
        return "" if math.isnan(value) else f"{value:.6g}"
    return str(value)


def write_tsv(path, columns: list[str], rows: list[dict], fmt=format_value) -> None:
    """Write ``rows`` with exactly ``columns`` (missing values empty) to ``path``."""
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle, delimiter="\t", lineterminator="\n")
        writer.writerow(columns)
        for row in rows:
            writer.writerow([fmt(row.get(c)) for c in columns])


def read_tsv(path) -> list[dict]:
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))
