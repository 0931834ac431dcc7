"""Property-based tests (hypothesis) of the input readers the other property files leave out.

Small-variant VCFs of the LoFreq, bcftools call and freebayes dialects; the sample sheet and the
treatment timeline; the workflow config (and its --set overrides); the resistance panel YAML; the
LINX fusion table.

Random valid inputs read back to the same normalised values; random corruptions of a valid file
(cut short, a byte changed, a tab dropped, a line cut short or repeated, CR-only line ends) are
either still read or refused with the product's InputError (one line, naming the file), never
another exception.
"""

from __future__ import annotations

import datetime as dt
import subprocess
import tempfile
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ctdna_resistance.config import load_config
from ctdna_resistance.errors import InputError
from ctdna_resistance.io.fusion_table import read_fusion_table
from ctdna_resistance.io.linx import NOT_REPORTED, read_linx_fusions
from ctdna_resistance.io.vcf import open_vcf
from ctdna_resistance.panel import Codon, Gene, load_panel, minimal_allele
from ctdna_resistance.samplesheet import Sample, Treatment, read_cohort

SETTINGS = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
REPO = Path(__file__).parents[2]


def _only_input_error(read, *paths: Path):
    """What ``read()`` returns, or None after an InputError that names one of ``paths``."""
    try:
        return read()
    except InputError as error:
        assert error.path in {str(p) for p in paths}, error.message
        assert "\n" not in error.message and "; " in error.message, error.message
        return None


# Bytes that readers trip over more often than others: NUL, a lone CR, LF, tab, a quote, '#',
# ':' (YAML), and bytes that are not UTF-8 on their own.
HAZARDS = (0x00, 0x0D, 0x0A, 0x09, 0x22, 0x23, 0x3A, 0xFF, 0xC3)


@st.composite
def damaged(draw, data: bytes, row_lines: bool = True) -> tuple[str, bytes]:
    """(kind, data) for ``data`` cut short, with a byte changed (any of 0-255, so also bytes that
    are not UTF-8), with one tab dropped, one line cut short or repeated, or with CR line ends."""
    kinds = ["truncate", "flip", "delete_tab", "cut_line", "cr_line_ends"]
    kind = draw(st.sampled_from(kinds + (["repeat_line"] if row_lines else [])))
    if kind == "cr_line_ends":  # saved with classic-Mac line breaks (a CR alone)
        return kind, data.replace(b"\r\n", b"\n").replace(b"\n", b"\r")
    if kind == "truncate":
        return kind, data[: draw(st.integers(0, len(data) - 1))]
    if kind == "flip":
        at = draw(st.integers(0, len(data) - 1))
        byte = draw(st.one_of(st.sampled_from(HAZARDS), st.integers(0, 255)))
        return kind, data[:at] + bytes([byte]) + data[at + 1 :]
    if kind == "delete_tab":
        tabs = [i for i, b in enumerate(data) if b == 9] or [0]
        at = draw(st.sampled_from(tabs))
        return kind, data[:at] + data[at + 1 :]
    lines = data.split(b"\n")
    row = draw(st.integers(0, max(0, len(lines) - 2)))
    if kind == "cut_line":  # one line cut short, the lines after it intact
        lines[row] = lines[row][: draw(st.integers(0, max(0, len(lines[row]) - 1)))]
    else:
        row = max(1, row) if len(lines) > 2 else row  # a data row, not the header
        lines.insert(row, lines[row])
    return kind, b"\n".join(lines)


# -- small-variant VCFs: LoFreq, bcftools call, freebayes -----------------------------------------

INFO = '##INFO=<ID={},Number={},Type={},Description="{}">\n'
FMT = '##FORMAT=<ID={},Number={},Type={},Description="{}">\n'
VCF_HEADERS = {
    # sites-only, as LoFreq writes it: counts in INFO
    "lofreq": "##source=lofreq call --verbose --ref ref.fa --sig 0.01 -o out.vcf plasma.bam\n"
    + INFO.format("DP", "1", "Integer", "Raw Depth")
    + INFO.format("AF", "1", "Float", "Allele Frequency")
    + INFO.format("SB", "1", "Integer", "Phred-scaled strand bias")
    + INFO.format("DP4", "4", "Integer", "ref-fwd, ref-rev, alt-fwd, alt-rev"),
    # both the modern FORMAT/AD and the older FORMAT/DP+DV are declared; each record uses one
    "bcftools": "##bcftools_callVersion=1.17+htslib-1.17\n##bcftools_callCommand=call -mv\n"
    + INFO.format("DP", "1", "Integer", "Raw read depth")
    + INFO.format("DP4", "4", "Integer", "high-quality ref-fwd, ref-rev, alt-fwd, alt-rev")
    + FMT.format("GT", "1", "String", "Genotype")
    + FMT.format("DP", "1", "Integer", "Number of high-quality bases")
    + FMT.format("AD", "R", "Integer", "Allelic depths")
    + FMT.format("DV", "1", "Integer", "Number of high-quality non-reference bases"),
    "freebayes": "##source=freeBayes v1.3.6\n"
    + INFO.format("DP", "1", "Integer", "Total read depth at the locus")
    + FMT.format("GT", "1", "String", "Genotype")
    + FMT.format("DP", "1", "Integer", "Read Depth")
    + FMT.format("AD", "R", "Integer", "Number of observation for each allele")
    + FMT.format("RO", "1", "Integer", "Reference allele observation count")
    + FMT.format("AO", "A", "Integer", "Alternate allele observation count"),
}
VCF_CONTIG = "##contig=<ID=chr12,length=133275309>\n"  # GRCh38
SITES_COLUMNS = "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO"
BASES = "ACGT"
POOLED = {
    "lofreq": "INFO/DP4 pools all ALT alleles; cannot split them",
    "bcftools": "FORMAT/DV pools all ALT alleles; cannot split them",
}


def _vaf(alt_reads: int, depth: int) -> float | None:
    return alt_reads / depth if depth > 0 else None


@st.composite
def dialect_site(draw, dialect: str, pos: int):
    """One data line of ``dialect`` and, per ALT, (pos, ref, alt, depth, alt_reads, vaf, problem)
    as SPEC 3.4 reads it."""
    ref = draw(st.sampled_from(BASES))
    alts = draw(
        st.lists(st.sampled_from([b for b in BASES if b != ref]), min_size=1, max_size=3,
                 unique=True)
    )  # fmt: skip
    n_alts = len(alts)
    count = st.integers(0, 5000)
    info, sample = ".", ""
    if dialect == "lofreq":
        dp4 = [draw(count) for _ in range(4)]
        depth = sum(dp4) + draw(st.integers(0, 50))
        alt_reads = dp4[2] + dp4[3]
        af_text = f"{alt_reads / depth:.6f}" if depth else "0.000000"
        with_af = draw(st.booleans())
        info = f"DP={depth};{f'AF={af_text};' if with_af else ''}SB=0;DP4={','.join(map(str, dp4))}"
        vaf = float(af_text) if with_af else _vaf(alt_reads, depth)
        counts = [(depth, alt_reads, vaf, None)]
        if n_alts > 1:
            counts = [(None, None, None, POOLED["lofreq"])] * n_alts
    elif dialect == "bcftools" and draw(st.booleans()):  # FORMAT/AD: depth is sum(AD)
        ad = [draw(count) for _ in range(n_alts + 1)]
        depth = sum(ad)
        sample = f"\tGT:DP:AD\t0/1:{depth + draw(st.integers(0, 50))}:{','.join(map(str, ad))}"
        counts = [(depth, a, _vaf(a, depth), None) for a in ad[1:]]
    elif dialect == "bcftools":  # FORMAT/DP+DV: DV pools the non-reference reads
        non_ref = draw(count)
        depth = non_ref + draw(count)
        sample = f"\tGT:DP:DV\t0/1:{depth}:{non_ref}"
        counts = [(depth, non_ref, _vaf(non_ref, depth), None)] * n_alts
        if n_alts > 1 and non_ref > 0:
            counts = [(None, None, None, POOLED["bcftools"])] * n_alts
    elif draw(st.booleans()):  # freebayes RO/AO: depth is RO + sum(AO), VAF computed
        ref_obs, alt_obs = draw(count), [draw(count) for _ in range(n_alts)]
        depth = ref_obs + sum(alt_obs)
        ad = ",".join(map(str, [ref_obs, *alt_obs]))
        sample = (
            f"\tGT:DP:AD:RO:AO\t0/1:{depth + draw(st.integers(0, 9))}:{ad}:{ref_obs}:"
            + ",".join(map(str, alt_obs))
        )
        counts = [(depth, a, _vaf(a, depth), None) for a in alt_obs]
    else:  # freebayes without RO/AO (e.g. after a normalising tool): sum(AD)
        ad = [draw(count) for _ in range(n_alts + 1)]
        depth = sum(ad)
        sample = f"\tGT:AD\t0/1:{','.join(map(str, ad))}"
        counts = [(depth, a, _vaf(a, depth), None) for a in ad[1:]]
    line = f"chr12\t{pos}\t.\t{ref}\t{','.join(alts)}\t50\tPASS\t{info}{sample}\n"
    return line, [(pos, ref, alt, *c) for alt, c in zip(alts, counts, strict=True)]


@st.composite
def dialect_vcf(draw):
    dialect = draw(st.sampled_from(sorted(VCF_HEADERS)))
    positions = sorted(draw(st.sets(st.integers(25_245_000, 25_246_000), min_size=1, max_size=6)))
    lines, expected = [], []
    for pos in positions:
        line, alleles = draw(dialect_site(dialect, pos))
        lines.append(line)
        expected += alleles
    columns = SITES_COLUMNS + ("" if dialect == "lofreq" else "\tFORMAT\tPLASMA")
    text = "##fileformat=VCFv4.2\n" + VCF_HEADERS[dialect] + VCF_CONTIG + columns + "\n"
    return dialect, text + "".join(lines), expected


def _write_vcf(folder: str, text: str, compress: bool) -> Path:
    path = Path(folder) / "calls.vcf"
    path.write_text(text)
    if not compress:
        return path
    subprocess.run(["bgzip", "-f", str(path)], check=True)
    return Path(folder) / "calls.vcf.gz"


@SETTINGS
@given(case=dialect_vcf(), compress=st.booleans())
def test_lofreq_bcftools_freebayes_records_read_back_to_the_counts_written(case, compress):
    dialect, text, expected = case
    with (
        tempfile.TemporaryDirectory() as folder,
        open_vcf(_write_vcf(folder, text, compress), expected_build="GRCh38") as reader,
    ):
        assert reader.dialect == dialect
        records = list(reader)
    got = [(r.pos, r.ref, r.alt, r.depth, r.alt_reads, r.problem) for r in records]
    assert got == [(p, ref, alt, d, a, problem) for p, ref, alt, d, a, _v, problem in expected]
    for record, (*_, vaf, _problem) in zip(records, expected, strict=True):
        assert record.caller == dialect and record.chrom == "12"
        if vaf is None:
            assert record.vaf is None, record
        else:
            assert abs(record.vaf - vaf) < 1e-9, (record, vaf)


@SETTINGS
@given(case=dialect_vcf(), data=st.data(), compress=st.booleans())
def test_lofreq_bcftools_freebayes_corruptions_give_input_error_or_flagged_records(
    case, data, compress
):
    _dialect, text, _expected = case
    with tempfile.TemporaryDirectory() as folder:
        path = _write_vcf(folder, text, compress)
        # a compressed file is damaged as it lies on disk (a bad copy), the text one line-wise
        _kind, bad = data.draw(damaged(path.read_bytes(), row_lines=not compress))
        path.write_bytes(bad)

        def read():
            with open_vcf(path, expected_build="GRCh38") as reader:
                return list(reader)

        records = _only_input_error(read, path)
    for record in records or []:
        assert record.problem is None or isinstance(record.problem, str)
        if record.problem is None and record.alt_reads is not None:
            assert record.depth is not None and 0 <= record.alt_reads <= record.depth, record
            assert record.vaf is None or 0 <= record.vaf <= 1, record


# -- sample sheet and treatment timeline -----------------------------------------------------------

IDS = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._-]{0,11}", fullmatch=True)
LABELS = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9 _+-]{0,9}[A-Za-z0-9]", fullmatch=True)
DATES = st.dates(dt.date(2015, 1, 1), dt.date(2030, 12, 31))
CALLERS = ("", "mutect2", "vardict", "strelka2", "lofreq", "varscan2", "bcftools", "freebayes")
FILES = ("calls.vcf.gz", "in/plasma.cns", "in/sv.vcf", "plasma.bam", "x.depth.txt", "wbc.vcf")
SHEET_COLUMNS = ("patient", "sample", "collection_date", "vcf", "vcf_sample", "caller", "cnv",
                 "cnv_sample", "sv", "sv_sample", "bam", "coverage", "normal_vcf",
                 "tumor_fraction", "timepoint")  # fmt: skip
TREATMENT_COLUMNS = ("patient", "agent", "start_date", "end_date", "line")


@st.composite
def sheet_row(draw, patient: str, sample: str, date: dt.date) -> dict[str, str]:
    """One sample-sheet row (cells as written) with at least one of vcf, cnv, sv."""
    optional = st.one_of(st.just(""), st.sampled_from(FILES))
    row = {"patient": patient, "sample": sample, "collection_date": date.isoformat()}
    row |= {column: draw(optional) for column in ("vcf", "cnv", "sv", "bam", "coverage")}
    row["normal_vcf"] = draw(optional)
    if not (row["vcf"] or row["cnv"] or row["sv"]):
        row[draw(st.sampled_from(["vcf", "cnv", "sv"]))] = draw(st.sampled_from(FILES))
    row["caller"] = draw(st.sampled_from(CALLERS))
    row["tumor_fraction"] = draw(
        st.one_of(st.just(""), st.integers(0, 1000).map(lambda v: str(v / 1000)))
    )
    for column in ("vcf_sample", "cnv_sample", "sv_sample", "timepoint"):
        row[column] = draw(st.one_of(st.just(""), LABELS))
    return row


@st.composite
def cohort_files(draw):
    """(sheet text, treatments text, sample rows, treatment rows, line numbers of each)."""
    patients = draw(st.lists(IDS, min_size=1, max_size=3, unique=True))
    per_patient = [draw(st.lists(DATES, min_size=1, max_size=4, unique=True)) for _ in patients]
    n = sum(len(dates) for dates in per_patient)
    samples = iter(draw(st.lists(IDS, min_size=n, max_size=n, unique=True)))
    rows = [
        draw(sheet_row(patient, next(samples), date))
        for patient, dates in zip(patients, per_patient, strict=True)
        for date in dates
    ]
    rows = draw(st.permutations(rows))
    treatments = []
    for _ in range(draw(st.integers(0, 4))):
        start = draw(DATES)
        days = draw(st.one_of(st.none(), st.integers(0, 900)))  # None: still ongoing
        end = None if days is None else start + dt.timedelta(days)
        treatments.append(
            {
                "patient": draw(st.sampled_from(patients)),
                "agent": draw(st.sampled_from(["cetuximab", "panitumumab", "FOLFIRI + cetuximab"])),
                "start_date": start.isoformat(),
                "end_date": "" if end is None else end.isoformat(),
                "line": draw(st.one_of(st.just(""), LABELS)),
            }
        )
    style = {
        "bom": draw(st.booleans()),  # a spreadsheet's byte-order mark
        "crlf": draw(st.booleans()),  # Windows line ends
        "comment": draw(st.booleans()),  # '#' line before the header
        "blank": draw(st.booleans()),  # blank line after the header
        "pad": draw(st.booleans()),  # spaces around cells
    }
    sheet_columns = draw(st.permutations(SHEET_COLUMNS))
    sheet, sheet_lines = _tsv(sheet_columns, rows, style)
    treatment_columns = draw(st.permutations(TREATMENT_COLUMNS))
    timeline, timeline_lines = _tsv(treatment_columns, treatments, style)
    return sheet, timeline, rows, treatments, sheet_lines, timeline_lines


def _tsv(columns, rows, style) -> tuple[bytes, list[int]]:
    """The table as bytes, and the line number each row was written on."""
    pad = " " if style["pad"] else ""
    lines = ["# written by a property test"] if style["comment"] else []
    lines.append("\t".join(columns))
    if style["blank"]:
        lines.append("")
    numbers = []
    for row in rows:
        lines.append("\t".join(f"{pad}{row[c]}{pad}" if row[c] else "" for c in columns))
        numbers.append(len(lines))
    end = "\r\n" if style["crlf"] else "\n"
    text = end.join(lines) + end
    return ("\ufeff" if style["bom"] else "").encode() + text.encode(), numbers


def _make_inputs(folder: Path) -> None:
    for name in FILES:
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text("placeholder: the sheet reader only checks that it exists\n")


def _expected_samples(folder: Path, rows, line_numbers) -> list[Sample]:
    samples = []
    for row, number in zip(rows, line_numbers, strict=True):
        files = {c: folder / row[c] if row[c] else None
                 for c in ("vcf", "cnv", "sv", "bam", "coverage", "normal_vcf")}  # fmt: skip
        samples.append(
            Sample(
                patient=row["patient"],
                sample=row["sample"],
                collection_date=dt.date.fromisoformat(row["collection_date"]),
                timepoint=row["timepoint"],
                vcf_sample=row["vcf_sample"] or None,
                caller=row["caller"] or None,
                cnv_sample=row["cnv_sample"] or None,
                sv_sample=row["sv_sample"] or None,
                tumor_fraction=float(row["tumor_fraction"]) if row["tumor_fraction"] else None,
                row=number,
                **files,
            )
        )
    samples.sort(key=lambda s: (s.patient, s.collection_date))
    labelled = []
    for patient in sorted({s.patient for s in samples}):
        mine = [s for s in samples if s.patient == patient]
        for index, sample in enumerate(mine):  # the default label is T0, T1, ... by date
            values = {f: getattr(sample, f) for f in Sample.__dataclass_fields__}
            labelled.append(Sample(**(values | {"timepoint": sample.timepoint or f"T{index}"})))
    return labelled


def _expected_treatments(rows) -> list[Treatment]:
    treatments = [
        Treatment(
            row["patient"],
            row["agent"],
            dt.date.fromisoformat(row["start_date"]),
            dt.date.fromisoformat(row["end_date"]) if row["end_date"] else None,
            row["line"],
        )
        for row in rows
    ]
    return sorted(treatments, key=lambda t: (t.patient, t.start_date, t.agent))


@SETTINGS
@given(files=cohort_files())
def test_sample_sheet_and_treatments_read_back_to_the_rows_written(files):
    sheet, timeline, rows, treatment_rows, sheet_lines, _timeline_lines = files
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        _make_inputs(folder)
        (folder / "samples.tsv").write_bytes(sheet)
        (folder / "treatments.tsv").write_bytes(timeline)
        cohort = read_cohort(folder / "samples.tsv", folder / "treatments.tsv")
        assert cohort.samples == _expected_samples(folder, rows, sheet_lines)
        assert cohort.treatments == _expected_treatments(treatment_rows)
        # one patient's job sees that patient's rows, labelled as in the whole cohort
        patient = rows[0]["patient"]
        alone = read_cohort(folder / "samples.tsv", folder / "treatments.tsv", patient=patient)
        assert alone.samples == cohort.samples_of(patient)
        assert alone.treatments == cohort.treatments_of(patient)


@SETTINGS
@given(files=cohort_files(), data=st.data(), target=st.sampled_from(["samples", "treatments"]))
def test_sample_sheet_and_treatment_corruptions_raise_only_input_error(files, data, target):
    sheet, timeline, _rows, treatment_rows, sheet_lines, _timeline_lines = files
    if target == "treatments" and not treatment_rows:
        target = "samples"
    good = sheet if target == "samples" else timeline
    kind, bad = data.draw(damaged(good))
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        _make_inputs(folder)
        paths = folder / "samples.tsv", folder / "treatments.tsv"
        paths[0].write_bytes(bad if target == "samples" else sheet)
        paths[1].write_bytes(bad if target == "treatments" else timeline)
        cohort = _only_input_error(lambda: read_cohort(*paths), *paths)
    if cohort is None:
        return
    if target == "samples" and kind == "repeat_line":
        # a data row written twice repeats its sample ID, which must be refused
        data_rows = [good.split(b"\n")[number - 1] for number in sheet_lines]
        bad_lines = bad.split(b"\n")
        assert not any(bad_lines.count(row) > 1 for row in data_rows), "repeated row accepted"
    for sample in cohort.samples:
        assert sample.inputs(), sample  # every accepted row still names an input file
        assert all(path.is_absolute() for path in sample.inputs().values())
    for treatment in cohort.treatments:
        assert treatment.end_date is None or treatment.end_date >= treatment.start_date


# -- workflow config -------------------------------------------------------------------------------

# the defaults and the demo's patient data (config/demo.yaml) as one file, as a user would write it
DEMO_CONFIG = (REPO / "config" / "config.yaml").read_bytes() + (
    REPO / "config" / "demo.yaml"
).read_bytes()


@st.composite
def config_mapping(draw) -> dict:
    """A valid config with random values for the keys SPEC 3.1 lets a user set."""
    detection = {
        "min_depth": draw(st.integers(1, 100_000)),
        "min_alt_reads": draw(st.integers(1, 50)),
        "background_error": draw(st.floats(1e-6, 0.49)),
        "alpha": draw(st.floats(1e-6, 0.99)),
        "germline_vaf_band": draw(st.floats(0, 0.5)),
        "require_pass": draw(st.booleans()),
        "vcf_read": draw(st.sampled_from(["panel_regions", "whole_file"])),
    }
    keys = draw(st.sets(st.sampled_from(sorted(detection))))
    config = {
        "samples": draw(st.sampled_from(["samples.tsv", "config/samples.tsv"])),
        "panel": "panels/anti_egfr_crc.yaml",
        "genome_build": draw(st.sampled_from(["GRCh38", "GRCh37"])),
        "outdir": draw(st.sampled_from(["results", "out/run 1"])),
        "detection": {key: detection[key] for key in sorted(keys)},
    }
    if draw(st.booleans()):
        config["anti_egfr_agents"] = draw(st.lists(st.sampled_from(["cetuximab", "amivantamab"])))
    return config


@SETTINGS
@given(config=config_mapping(), min_depth=st.integers(1, 10_000))
def test_config_values_read_back_with_defaults_and_overrides(config, min_depth):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "config.yaml"
        path.write_text(yaml.safe_dump(config))
        loaded = load_config(path)
        overridden = load_config(path, [f"detection.min_depth={min_depth}"])
    for key in ("samples", "panel", "genome_build", "outdir"):
        assert loaded[key] == config[key]
    assert loaded["anti_egfr_agents"] == config.get(
        "anti_egfr_agents", ["cetuximab", "panitumumab"]
    )
    for key, value in config["detection"].items():
        assert loaded["detection"][key] == value
    assert overridden["detection"]["min_depth"] == min_depth
    assert overridden["detection"] == loaded["detection"] | {"min_depth": min_depth}


@SETTINGS
@given(data=st.data())
def test_config_corruptions_raise_only_input_error(data):
    _kind, bad = data.draw(damaged(DEMO_CONFIG))
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "config.yaml"
        path.write_bytes(bad)
        config = _only_input_error(lambda: load_config(path), path)
    assert config is None or config["genome_build"] in ("GRCh38", "GRCh37")


OVERRIDE_KEYS = ("detection.min_depth", "detection", "outdir", "samples.x", "reference.x",
                 "genotyping.min_base_quality", "tumor_fraction.max_disagreement", "")  # fmt: skip


@SETTINGS
@given(
    key=st.one_of(st.sampled_from(OVERRIDE_KEYS), st.text(max_size=12)),
    value=st.one_of(st.sampled_from(["", "[", "{a: 1}", "{1: 2}", "null", "-3", "2020-01-01"]),
                    st.text(max_size=12)),
    with_equals=st.booleans(),
)  # fmt: skip
def test_config_overrides_raise_only_input_error(key, value, with_equals):
    text = f"{key}={value}" if with_equals else key
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "config.yaml"
        path.write_bytes(DEMO_CONFIG)
        try:
            load_config(path, [text])
        except InputError as error:
            assert "\n" not in error.message and "; " in error.message, error.message


# -- resistance panel ------------------------------------------------------------------------------

CHROMS = ("1", "2", "7", "12", "17", "X")
AMINO_ACIDS = "ACDEFGHIKLMNPQRSTVWY"
PANEL_CLASSES = ["hotspot", "truncating", "amplification", "deletion", "fusion"]


@st.composite
def panel_gene(draw, symbol: str) -> dict:
    """A panel gene entry as panels/README.md describes it, with random loci, codons, hotspots."""

    def locus():
        # a shared start now and then: genes that begin at one base must still sort the same way
        start = draw(st.one_of(st.just(25_000_000), st.integers(1, 200_000_000)))
        return {"chrom": draw(st.sampled_from(CHROMS)), "start": start,
                "end": start + draw(st.integers(0, 300_000)), "source": "src_a"}  # fmt: skip

    def span():
        start = draw(st.integers(1, 200_000_000))
        return {"start": start, "end": start + 2}

    def allele():
        ref = draw(st.text(BASES, min_size=1, max_size=3))
        alt = draw(st.text(BASES, min_size=1, max_size=3))
        return {"pos": draw(st.integers(1, 200_000_000)), "ref": ref, "alt": alt}

    entry = {
        "symbol": symbol,
        "hgnc_id": f"HGNC:{draw(st.integers(1, 99_999))}",
        "mechanism_group": draw(
            st.sampled_from(["ras_mapk", "egfr_target", "bypass_rtk", "pi3k", "other"])
        ),
        "strand": draw(st.sampled_from("+-")),
        "loci": {"GRCh38": locus(), "GRCh37": locus()},
        "classes": draw(
            st.lists(st.sampled_from(PANEL_CLASSES), min_size=1, max_size=3, unique=True)
        ),
        "evidence": [],
        "strategies": draw(st.lists(st.sampled_from(["strat_a"]), max_size=1)),
    }
    if draw(st.booleans()):
        entry["transcript"] = {
            "refseq": f"NM_{draw(st.integers(1, 999_999))}.{draw(st.integers(1, 9))}",
            "ensembl": f"ENST{draw(st.integers(0, 10**11 - 1)):011d}.{draw(st.integers(1, 20))}",
            "source": "src_a",
        }
    entry["codons"] = [
        {
            "codon": draw(st.integers(1, 2000)),
            "ref_aa": draw(st.sampled_from(AMINO_ACIDS)),
            "ref_codon": draw(st.text(BASES, min_size=3, max_size=3)),
            "GRCh38": span(),
            "GRCh37": span(),
            "sources": ["src_a"],
        }
        for _ in range(draw(st.integers(0, 2)))
    ]
    entry["hotspots"] = [
        {
            "protein": f"p.{draw(st.sampled_from(AMINO_ACIDS))}{draw(st.integers(1, 2000))}"
            f"{draw(st.sampled_from(AMINO_ACIDS + '*'))}",
            "hgvsc": f"c.{draw(st.integers(1, 6000))}G>A",
            "GRCh38": allele(),
            "GRCh37": allele(),
            "sources": ["src_a"],
        }
        for _ in range(draw(st.integers(0, 2)))
    ]
    return entry


@st.composite
def panel_document(draw) -> dict:
    symbols = draw(st.lists(st.from_regex(r"[A-Z][A-Z0-9]{1,6}", fullmatch=True), min_size=1,
                            max_size=4, unique=True))  # fmt: skip
    return {
        "schema_version": 1,
        "name": "user_panel",
        "version": f"{draw(st.integers(0, 9))}.{draw(st.integers(0, 9))}.0",
        "title": "A user panel written by a property test",
        "sources": [{"id": "src_a", "citation": "made up for the test"}],
        "genes": [draw(panel_gene(symbol)) for symbol in symbols],
        "evidence": [],
        "strategies": [
            {"id": "strat_a", "study": "S", "mechanism": "M", "regimen": "R",
             "outcomes": {"ORR": "10%"}, "source": "src_a"}
        ],
    }  # fmt: skip


@SETTINGS
@given(document=panel_document(), build=st.sampled_from(["GRCh38", "GRCh37"]))
def test_panel_genes_codons_and_hotspots_read_back(document, build):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "panel.yaml"
        path.write_text(yaml.safe_dump(document, sort_keys=False))
        panel = load_panel(path, build)
    assert (panel.name, panel.version, panel.build) == ("user_panel", document["version"], build)
    genes, hotspots, codons = {}, {}, []
    for entry in document["genes"]:
        locus = entry["loci"][build]
        transcript = entry.get("transcript", {})
        genes[entry["symbol"]] = Gene(
            entry["symbol"], entry["mechanism_group"], entry["strand"], locus["chrom"],
            locus["start"], locus["end"], transcript.get("refseq", ""),
            transcript.get("ensembl", ""), tuple(entry["classes"]), (),
            tuple(entry["strategies"]),
        )  # fmt: skip
        for codon in entry["codons"]:
            codons.append(
                Codon(entry["symbol"], codon["codon"], codon["ref_aa"], codon["ref_codon"],
                      locus["chrom"], codon[build]["start"], codon[build]["end"],
                      entry["strand"])
            )  # fmt: skip
        for spot in entry["hotspots"]:
            pos, ref, alt = minimal_allele(
                spot[build]["pos"], spot[build]["ref"], spot[build]["alt"]
            )
            hotspots[(locus["chrom"], pos, ref, alt)] = (entry["symbol"], spot["protein"])
    assert panel.genes == genes
    assert panel.codons == codons
    assert {key: (h.gene, h.protein) for key, h in panel.hotspots.items()} == hotspots
    # numeric contigs first, in number order, then by position (and end, so ties are stable)
    assert panel.regions() == sorted(
        {(g.chrom, g.start, g.end) for g in genes.values()},
        key=lambda r: (not r[0].isdigit(), int(r[0]) if r[0].isdigit() else 0, r[0], r[1], r[2]),
    )
    for gene in genes.values():
        assert panel.strategies_for(gene.symbol) == [
            s for s in document["strategies"] if s["id"] in gene.strategies
        ]


REAL_PANEL = (REPO / "panels" / "anti_egfr_crc.yaml").read_bytes()


@SETTINGS
@given(document=panel_document(), data=st.data(), real=st.booleans())
def test_panel_corruptions_raise_only_input_error(document, data, real):
    good = REAL_PANEL if real else yaml.safe_dump(document, sort_keys=False).encode()
    _kind, bad = data.draw(damaged(good))
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "panel.yaml"
        path.write_bytes(bad)
        panel = _only_input_error(lambda: load_panel(path, "GRCh38"), path)
    if panel is not None:
        assert panel.genes and all(g.start >= 1 and g.end >= 1 for g in panel.genes.values())


# -- LINX fusion table -----------------------------------------------------------------------------

LINX_COLUMNS = (
    "fivePrimeBreakendId", "threePrimeBreakendId", "name", "reported", "reportedType",
    "reportableReasons", "phased", "likelihood", "chainLength", "chainLinks", "chainTerminated",
    "domainsKept", "domainsLost", "skippedExonsUp", "skippedExonsDown", "fusedExonUp",
    "fusedExonDown", "geneStart", "geneContextStart", "transcriptStart", "geneEnd",
    "geneContextEnd", "transcriptEnd", "junctionCopyNumber",
)  # fmt: skip
GENE_SYMBOLS = st.from_regex(r"[A-Z][A-Z0-9]{1,5}(-AS1)?", fullmatch=True)


@st.composite
def linx_rows(draw, min_rows: int = 0) -> list[dict]:
    rows = []
    for number in range(draw(st.integers(min_rows, 6))):
        gene_a, gene_b = draw(GENE_SYMBOLS), draw(GENE_SYMBOLS)
        reported = draw(st.booleans())
        row = dict.fromkeys(LINX_COLUMNS, "0")
        row |= {
            "fivePrimeBreakendId": str(2 * number + 1),
            "threePrimeBreakendId": str(2 * number + 2),
            "name": draw(st.sampled_from([f"{gene_a}_{gene_b}", ""])),
            "reported": "true" if reported else "false",
            "reportedType": "KNOWN_PAIR" if reported else "NONE",
            "phased": draw(st.sampled_from(["INFRAME", "OUT_OF_FRAME", "SKIPPED_EXONS"])),
            "domainsKept": draw(st.sampled_from(["", "Protein kinase domain"])),
            "domainsLost": "",
            "geneStart": gene_a,
            "geneContextStart": f"Exon {draw(st.integers(1, 40))}",
            "transcriptStart": f"ENST{draw(st.integers(0, 10**11 - 1)):011d}",
            "geneEnd": gene_b,
            "geneContextEnd": draw(st.sampled_from(["Exon 20", "Promoter Region"])),
            "transcriptEnd": f"ENST{draw(st.integers(0, 10**11 - 1)):011d}",
            "junctionCopyNumber": f"{draw(st.integers(0, 50_000)) / 10_000:.4f}",
        }
        rows.append(row)
    return rows


def _linx_table(rows, capitalised: bool = False) -> bytes:
    # LINX before 1.2x capitalised the same names; the reader matches them in any case
    header = [c[0].upper() + c[1:] if capitalised else c for c in LINX_COLUMNS]
    lines = ["\t".join(header)] + ["\t".join(row[c] for c in LINX_COLUMNS) for row in rows]
    return ("\n".join(lines) + "\n").encode()


@SETTINGS
@given(rows=linx_rows(), capitalised=st.booleans())
def test_linx_fusions_read_back_to_the_rows_written(rows, capitalised):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "PL1.linx.fusion.tsv"
        path.write_bytes(_linx_table(rows, capitalised))
        events = read_linx_fusions(path)
        assert read_fusion_table(path) == events  # the fusion-table reader hands LINX over
    got = [(e.record_no, e.event_id, e.gene_a, e.gene_b, e.filters) for e in events]
    assert got == [
        (
            number,
            row["name"] or f"{row['geneStart']}_{row['geneEnd']}",
            row["geneStart"],
            row["geneEnd"],
            () if row["reported"] == "true" else (NOT_REPORTED,),
        )
        for number, row in enumerate(rows, start=1)
    ]
    for event in events:  # LINX names genes, not breakend positions or read counts
        assert (event.sv_type, event.caller, event.a.pos, event.b.pos) == ("FUSION", "linx", 0, 0)
        assert (event.split_reads, event.spanning_reads, event.ref_reads) == (None, None, None)


@SETTINGS
@given(rows=linx_rows(min_rows=1), data=st.data(), via_table=st.booleans())
def test_linx_corruptions_raise_only_input_error(rows, data, via_table):
    _kind, bad = data.draw(damaged(_linx_table(rows)))
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "PL1.linx.fusion.tsv"
        path.write_bytes(bad)
        reader = read_fusion_table if via_table else read_linx_fusions
        events = _only_input_error(lambda: reader(path), path)
    for event in events or []:
        assert event.gene_a and event.gene_b, event
        assert event.filters in ((), (NOT_REPORTED,)), event
