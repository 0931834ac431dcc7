"""CNVkit `.cns`, `.call.cns` and `.cnr` (bin-level) files into `Segment`s.

CNVkit writes BED-style coordinates (0-based start, end exclusive: adjacent bins share the
boundary value), so start + 1 gives the 1-based inclusive start of `Segment`. `log2` is the log2
copy ratio; `.call.cns` adds an integer absolute `cn`; `.cns` counts its bins in `probes`; `.cnr`
rows are single bins (n_bins 1) whose `gene` names the target gene or 'Antitarget'/'Background'.
The file names no sample and no build. A `.cnr` gives gene-level log2 from bins, but its "segment"
is one bin, so focality (SPEC 5.4) cannot be judged from it: prefer the `.cns`.
"""

from __future__ import annotations

from ctdna_resistance.errors import InputError
from ctdna_resistance.io.segment_table import (
    CopyNumberInput,
    Table,
    check_contig,
    finish_segments,
    make_segment,
    parse_float,
    parse_int,
)


def read_cnvkit(
    table: Table, fmt: str, *, sample: str | None = None, expected_build: str | None = None
) -> CopyNumberInput:
    """Segments (or bins, for .cnr) of a CNVkit table already read by `read_table`."""
    chrom_i = table.column("chromosome")
    start_i = table.column("start")
    end_i = table.column("end")
    log2_i = table.column("log2")
    gene_i = table.column("gene", required=False)
    probes_i = table.column("probes", required=(fmt != "cnvkit_cnr"))
    cn_i = table.column("cn", required=(fmt == "cnvkit_call_cns"))
    segments = []
    for line_no, fields in table.rows:
        chrom = check_contig(table, line_no, fields[chrom_i])
        start0 = parse_int(table, line_no, fields[start_i], "start")
        end = parse_int(table, line_no, fields[end_i], "end")
        if end <= start0:
            # In a 0-based half-open row end == start is empty and end < start is reversed.
            # CNVkit itself can write such a row as a 0-probe segment (amplicon.cns line 5).
            empty = probes_i is not None and fields[probes_i] == "0"
            raise InputError(
                table.path,
                f"segment end {end} is not after its start {start0} (CNVkit rows are 0-based, "
                "end-exclusive)" + (", in a segment with 0 probes" if empty else ""),
                "remove the row (it holds no bins)" if empty else "fix the coordinates",
                record=line_no,
            )
        n_bins = 1 if fmt == "cnvkit_cnr" else None
        if probes_i is not None:
            n_bins = parse_int(table, line_no, fields[probes_i], "probes")
        copy_number = None
        if cn_i is not None and fields[cn_i] not in ("", "NA", "nan"):
            copy_number = parse_float(table, line_no, fields[cn_i], "cn")
        segments.append(
            make_segment(
                table,
                line_no,
                chrom=chrom,
                start=start0 + 1,
                end=end,
                log2=parse_float(table, line_no, fields[log2_i], "log2"),
                n_bins=n_bins,
                copy_number=copy_number,
                gene="" if gene_i is None else fields[gene_i],
            )
        )
    ordered = finish_segments(
        table, segments, expected_build=expected_build, bins=(fmt == "cnvkit_cnr")
    )
    return CopyNumberInput(path=table.path, fmt=fmt, sample=sample, segments=ordered)
