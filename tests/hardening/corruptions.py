"""Hypothesis strategies that damage a valid file, shared by the reader property tests."""

from __future__ import annotations

from hypothesis import strategies as st


@st.composite
def corruption(draw, data: bytes):
    """A valid file cut short, with one byte changed, or with one field of a line dropped."""
    how = draw(st.sampled_from(["truncate", "flip", "drop_field"]))
    if how == "truncate":
        return data[: draw(st.integers(0, len(data) - 1))]
    if how == "flip":
        at = draw(st.integers(0, len(data) - 1))
        return data[:at] + bytes([draw(st.integers(0, 255))]) + data[at + 1 :]
    lines = data.split(b"\n")
    row = draw(st.integers(0, max(0, len(lines) - 2)))
    fields = lines[row].split(b"\t")
    del fields[draw(st.integers(0, len(fields) - 1))]
    lines[row] = b"\t".join(fields)
    return b"\n".join(lines)
