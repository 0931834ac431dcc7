"""Copy-number input (SPEC 3.5): format auto-detection and the `read_copy_number` dispatcher.

Every reader (CNVkit, GATK, ichorCNA, generic SEG, PURPLE, ASCAT, Control-FREEC) returns one
`CopyNumberInput`: the segments of one sample as `Segment`s on the panel's contig style, 1-based
inclusive, sorted by contig then start, checked for unknown contigs and overlaps. Callers that fit
purity and ploidy (PURPLE, ASCAT) give absolute tumour copy numbers: their input says
``absolute=True`` and each segment carries ``copy_number``. Purity/tumour-fraction files (ichorCNA
params.txt, PURPLE purity.tsv, ASCAT samplestatistics/purityploidy, PureCN .csv) are read by
`read_purity` into a `PurityEstimate` and attached with the method named.

The table helpers and result types the readers share live below them, in io/segment_table.py.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from ctdna_resistance.errors import InputError
from ctdna_resistance.io import ascat, cnvkit, controlfreec, ichorcna, purecn, purple, seg
from ctdna_resistance.io.seg import SEG_ALIASES, generic_seg_columns
from ctdna_resistance.io.segment_table import (
    CopyNumberInput,
    PurityEstimate,
    Table,
    check_expected_build,
    open_text,
    read_table,
    unquote,
    with_purity,
)

FORMATS = (
    "cnvkit_cns",
    "cnvkit_call_cns",
    "cnvkit_cnr",
    "gatk_called_seg",
    "gatk_model_seg",
    "gatk_cr_seg",
    "ichorcna_seg",
    "purple_cnv",
    "ascat_cnvs",
    "controlfreec_cnvs",
    "seg",
)
SCALES = ("log2", "log10", "ratio")
SUPPORTED = (
    "CNVkit .cns/.call.cns/.cnr, GATK .called.seg/.modelFinal.seg/.cr.seg, ichorCNA .seg/.seg.txt/"
    ".cna.seg, PURPLE .purple.cnv.somatic.tsv, ASCAT .cnvs.txt/.segments.txt, Control-FREEC _CNVs, "
    "or a SEG with ID, chrom, loc.start, loc.end, num.mark, seg.mean columns"
)


# -- detection and dispatch --------------------------------------------------------------------


def _refuse_purity_file(table: Table) -> None:
    """A purity/ploidy file given as the copy-number file: say which file to give instead."""

    kind = None
    if purple.is_purple_purity(table.header):
        kind = "a PURPLE purity.tsv; give the <tumour>.purple.cnv.somatic.tsv next to it"
    elif ascat.is_ascat_purity(table.path, table.header):
        kind = "an ASCAT purity/ploidy file; give the ASCAT .cnvs.txt next to it"
    elif len(table.header) == 1 and purecn.is_purecn_purity(
        [f.strip().strip('"') for f in table.header[0].split(",")]
    ):
        kind = "a PureCN purity .csv; give PureCN's <sample>_dnacopy.seg next to it"
    if kind is not None:
        raise InputError(
            table.path,
            "this file holds purity and ploidy, not copy-number segments",
            f"it is {kind} as the cnv file (the purity is then read from beside it)",
            record=table.header_line,
        )


def read_purity(path: str | Path) -> PurityEstimate:
    """Tumour fraction and ploidy from any supported purity file, told apart by its content.

    ichorCNA params.txt, PURPLE purity.tsv, ASCAT samplestatistics.txt (ascatNgs: purity = rho) or
    purityploidy.txt (nf-core/sarek: AberrantCellFraction), PureCN purity .csv.
    """

    path = Path(path)
    if not path.is_file():
        raise InputError(path, "purity file not found", "check the path of the purity file")
    with open_text(path) as handle:
        first = handle.readline().rstrip("\r\n")
    if first.split("\t")[:2] == ["Sample", "Tumor Fraction"]:
        sample, tumor_fraction, ploidy = ichorcna.read_params(path)
        return PurityEstimate(str(path), ichorcna.TF_SOURCE, tumor_fraction, ploidy, sample)
    header = [unquote(f) for f in first.split("\t")]
    if purple.is_purple_purity(header):
        return purple.read_purple_purity(path)
    if purecn.is_purecn_purity([unquote(f) for f in first.split(",")]):
        return purecn.read_purecn_purity(path)
    if ascat.is_ascat_purity(str(path), header):
        return ascat.read_ascat_purity(path)
    raise InputError(
        path,
        "not a purity file this product reads",
        "give an ichorCNA params.txt, PURPLE purity.tsv, ASCAT samplestatistics.txt or "
        "purityploidy.txt, or a PureCN purity .csv",
        record=1,
    )


def detect_format(path: str | Path) -> str:
    """The copy-number format of ``path`` from its header columns (one of FORMATS)."""
    table = read_table(path, max_rows=1)
    return _format_from_header(table)


def _format_from_header(table: Table) -> str:

    names = {h.lower() for h in table.header}
    if purple.is_purple_cnv(table.header):
        return "purple_cnv"
    if ascat.is_ascat_segments(table.header) or ascat.is_partial_ascat_segments(table.header):
        return "ascat_cnvs"
    if controlfreec.is_controlfreec_cnvs(table.path, table.header):
        return "controlfreec_cnvs"
    _refuse_purity_file(table)
    if {"contig", "start", "end"} <= names:
        if "log2_copy_ratio_posterior_50" in names:
            return "gatk_model_seg"
        if "mean_log2_copy_ratio" in names:
            return "gatk_called_seg" if "call" in names else "gatk_cr_seg"
    if {"chromosome", "start", "end", "log2"} <= names:
        if "probes" in names:
            return "cnvkit_call_cns" if "cn" in names else "cnvkit_cns"
        return "cnvkit_cnr"
    if (
        "seg.median.logr" in names
        or {"event", "copy.number", "median"} <= names
        or any(n == "logr" or n.endswith(".logr") for n in names)
    ):
        return "ichorcna_seg"

    if generic_seg_columns(table, required=False) is not None:
        return "seg"
    # A SEG missing a column: say which column is missing rather than "unknown format".
    if names & {n.lower() for n in SEG_ALIASES["value"] + ("loc.start", "loc.end", "num.mark")}:
        generic_seg_columns(table, required=True)
    raise InputError(
        table.path,
        f"not a copy-number segment format this product reads (header: {' '.join(table.header)})",
        f"give {SUPPORTED}",
        record=table.header_line,
    )


def read_copy_number(
    path,
    *,
    fmt: str | None = None,
    scale: str = "log2",
    sample: str | None = None,
    params: str | None = None,
    expected_build: str | None = None,
) -> CopyNumberInput:
    """Read one sample's segments from any supported copy-number file.

    ``fmt`` overrides detection from the header; ``scale`` declares the value scale of a generic
    SEG ('log2', 'log10' or 'ratio'; other formats state their own and must be left at 'log2');
    ``sample`` picks one sample of a multi-sample file; ``params`` is a purity file giving tumour
    fraction and ploidy (any `read_purity` reads: ichorCNA params.txt, PURPLE purity.tsv, ASCAT
    samplestatistics/purityploidy, PureCN .csv), found next to the segment file when not given;
    ``expected_build`` refuses a file whose header names another build or whose segments run past
    that build's chromosomes. Raises InputError (one line) on anything wrong.
    """

    check_expected_build(str(path), None, expected_build)
    if scale not in SCALES:
        raise InputError(path, f"unknown value scale {scale!r}", f"use one of {SCALES}")
    table = read_table(path)
    if fmt is None:
        fmt = _format_from_header(table)
    elif fmt not in FORMATS:
        raise InputError(path, f"unknown copy-number format {fmt!r}", f"use one of {FORMATS}")
    if scale != "log2" and fmt != "seg":
        raise InputError(
            path,
            f"scale {scale!r} was given for a {fmt} file, which states its own log2 scale",
            "declare a scale only for a generic SEG file",
        )
    if fmt.startswith("cnvkit"):
        result = cnvkit.read_cnvkit(table, fmt, sample=sample, expected_build=expected_build)
    elif fmt.startswith("gatk"):
        result = seg.read_gatk_seg(table, fmt, sample=sample, expected_build=expected_build)
    elif fmt == "ichorcna_seg":
        result = ichorcna.read_ichorcna_seg(table, sample=sample, expected_build=expected_build)
        if params is None:
            found = ichorcna.sibling_params(table.path)
            params = str(found) if found else None
    elif fmt == "purple_cnv":
        result = purple.read_purple_cnv(table, sample=sample, expected_build=expected_build)
        params = params or _as_str(purple.sibling_purity(table.path))
    elif fmt == "ascat_cnvs":
        result = ascat.read_ascat_segments(table, sample=sample, expected_build=expected_build)
        params = params or _as_str(ascat.sibling_purity(table.path))
    elif fmt == "controlfreec_cnvs":
        result = controlfreec.read_controlfreec_cnvs(table, expected_build=expected_build)
    else:
        result = seg.read_generic_seg(
            table, scale=scale, sample=sample, expected_build=expected_build
        )
        params = params or _as_str(purecn.sibling_purity(table.path))
    if params is not None:
        estimate = read_purity(params)
        if estimate.method == ichorcna.TF_SOURCE:
            # ichorCNA's own check names the params.txt sample against the segments' sample.
            result = replace(ichorcna.with_params(result, params), purity_source=str(params))
        else:
            result = with_purity(result, estimate)
    return result


def _as_str(path: Path | None) -> str | None:
    return None if path is None else str(path)
