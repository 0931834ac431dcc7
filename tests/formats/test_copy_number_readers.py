"""Copy-number readers (SPEC 3.5) on hand-written minimal files and on other tools' real files.

The minimal files in tests/formats/data/cnv/ were written by hand to the shape each tool writes;
the expected values below are read off those files (CNVkit rows are 0-based, so start + 1).
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from ctdna_resistance.errors import InputError
from ctdna_resistance.io.copy_number import detect_format, read_copy_number

DATA = Path(__file__).parent / "data" / "cnv"


def first(result, chrom: str):
    return next(s for s in result.segments if s.chrom == chrom)


# -- each format on a minimal file -------------------------------------------------------------


def test_cnvkit_cns_chr_style_is_normalised_and_made_one_based():
    result = read_copy_number(DATA / "sample_chr.cns")
    assert result.fmt == "cnvkit_cns"
    assert result.sample is None and result.build is None and result.tumor_fraction is None
    met = result.segments[1]
    assert (met.chrom, met.start, met.end) == ("7", 116600001, 117000000)
    assert met.log2 == 1.8 and met.n_bins == 40 and met.gene == "MET"
    assert [s.chrom for s in result.segments] == ["7", "7", "12"]  # sorted by contig then start


def test_cnvkit_call_cns_keeps_integer_cn_without_chr_prefix():
    result = read_copy_number(DATA / "sample_nochr.call.cns", sample="P1_T0")
    assert result.fmt == "cnvkit_call_cns"
    assert result.sample == "P1_T0"  # CNVkit files name no sample: the caller's name is kept
    assert [s.chrom for s in result.segments] == ["7", "17"]
    erbb2 = first(result, "17")
    assert (erbb2.start, erbb2.end, erbb2.log2, erbb2.copy_number) == (39000001, 40000000, 2.1, 9)


def test_cnvkit_cnr_rows_are_single_bins_with_their_gene():
    result = read_copy_number(DATA / "sample.cnr")
    assert result.fmt == "cnvkit_cnr"
    assert [(s.start, s.log2, s.n_bins, s.gene) for s in result.segments] == [
        (116672001, 1.5, 1, "MET"),
        (116673001, 1.7, 1, "MET"),
        (116800001, 0.1, 1, "Antitarget"),
    ]


def test_gatk_called_seg_reads_sample_and_build_from_the_sam_header():
    result = read_copy_number(DATA / "plasma.called.seg", expected_build="GRCh38")
    assert result.fmt == "gatk_called_seg"
    assert result.sample == "PLASMA_T1"
    assert result.build == "GRCh38"
    met = first(result, "7")
    assert (met.start, met.end, met.n_bins, met.log2) == (116500001, 117000000, 55, 1.25)


def test_gatk_called_seg_refuses_a_run_on_the_other_build():
    with pytest.raises(InputError, match=r"header says GRCh38 but the run is GRCh37"):
        read_copy_number(DATA / "plasma.called.seg", expected_build="GRCh37")


def test_gatk_model_seg_uses_the_posterior_median():
    result = read_copy_number(DATA / "plasma.modelFinal.seg")
    assert result.fmt == "gatk_model_seg"
    assert result.build == "GRCh37"
    assert result.segments[0].log2 == 0.95  # LOG2_COPY_RATIO_POSTERIOR_50, not the 10th/90th


def test_gatk_cr_seg():
    result = read_copy_number(DATA / "plasma.cr.seg")
    assert (result.fmt, result.sample, result.segments[0].log2) == (
        "gatk_cr_seg",
        "PLASMA_T2",
        0.94,
    )


def test_ichorcna_seg_takes_tumour_fraction_from_the_params_file_beside_it():
    result = read_copy_number(DATA / "PL1.seg")
    assert result.fmt == "ichorcna_seg"
    assert result.sample == "PL1"
    assert (result.tumor_fraction, result.ploidy) == (0.2, 2.05)
    assert result.tf_source == "ichorCNA params.txt"
    amp = result.segments[1]
    assert (amp.chrom, amp.start, amp.log2, amp.copy_number, amp.n_bins) == (
        "7", 110000001, 0.85, 8, 8,
    )  # fmt: skip


def test_ichorcna_cna_seg_bins_skip_na_and_use_the_sample_prefix():
    result = read_copy_number(DATA / "PL2.cna.seg")
    assert result.fmt == "ichorcna_seg"
    assert result.sample == "PL2"
    assert result.tumor_fraction is None  # no PL2.params.txt
    assert [(s.start, s.log2, s.copy_number) for s in result.segments] == [
        (116000001, 0.6, 5),
        (118000001, 0.01, 2),
    ]


def test_ichorcna_params_of_another_sample_are_refused():
    with pytest.raises(InputError, match=r"params.txt is for sample 'PL1'.*'PL2'"):
        read_copy_number(DATA / "PL2.cna.seg", params=str(DATA / "PL1.params.txt"))


def test_params_file_given_as_segments_is_named_as_such():
    with pytest.raises(InputError, match=r"PL1.params.txt:1: this is an ichorCNA params.txt"):
        read_copy_number(DATA / "PL1.params.txt")


def test_generic_seg_needs_a_sample_when_it_holds_several():
    with pytest.raises(InputError, match=r"2 samples in one file \(S1, S2\); pass sample="):
        read_copy_number(DATA / "two_samples.seg")
    s2 = read_copy_number(DATA / "two_samples.seg", sample="S2")
    assert (s2.fmt, s2.sample, len(s2.segments), s2.segments[0].chrom) == ("seg", "S2", 1, "7")
    with pytest.raises(
        InputError, match=r"sample 'S9' is not in the ID column \(it holds S1, S2\)"
    ):
        read_copy_number(DATA / "two_samples.seg", sample="S9")


def test_generic_seg_value_scales_are_converted_to_log2():
    log10 = read_copy_number(DATA / "two_samples.seg", sample="S1", scale="log10")
    assert log10.segments[0].log2 == pytest.approx(1.2 / math.log10(2))  # 10^1.2 = 2^3.986
    ratio = read_copy_number(DATA / "ratio.seg", scale="ratio")  # quoted R header
    assert ratio.segments[0].log2 == pytest.approx(2.0)  # ratio 4
    with pytest.raises(InputError, match=r"ratio -0.3 is not positive"):
        read_copy_number(DATA / "two_samples.seg", sample="S2", scale="ratio")


def test_scale_is_only_for_generic_seg():
    with pytest.raises(InputError, match=r"scale 'log10' was given for a cnvkit_cns file"):
        read_copy_number(DATA / "sample_chr.cns", scale="log10")


@pytest.mark.parametrize(
    ("name", "fmt"),
    [
        ("sample_chr.cns", "cnvkit_cns"),
        ("sample_nochr.call.cns", "cnvkit_call_cns"),
        ("sample.cnr", "cnvkit_cnr"),
        ("plasma.called.seg", "gatk_called_seg"),
        ("plasma.modelFinal.seg", "gatk_model_seg"),
        ("plasma.cr.seg", "gatk_cr_seg"),
        ("PL1.seg", "ichorcna_seg"),
        ("PL2.cna.seg", "ichorcna_seg"),
        ("two_samples.seg", "seg"),
        ("ratio.seg", "seg"),
    ],
)
def test_format_is_detected_from_the_header(name, fmt):
    assert detect_format(DATA / name) == fmt


# -- malformed files: one line, file and line named, never a traceback -------------------------


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("missing_column.seg", r"missing_column.seg:1: missing column 'loc.end'"),
        ("non_numeric.cns", r"non_numeric.cns:2: log2 is 'high', not a number"),
        (
            "end_before_start.seg",
            r"end_before_start.seg:2: segment end 4000 is before its start 5000",
        ),
        ("unknown_contig.seg", r"unknown_contig.seg:2: unknown contig 'chr7_KI270803v1_alt'"),
        ("header_only.seg", r"header_only.seg: no segments after the header"),
        ("empty.seg", r"empty.seg: empty file"),
        ("ragged.seg", r"ragged.seg:2: 7 tab-separated fields where the header has 6"),
        ("no_such_file.seg", r"no_such_file.seg: copy-number file not found"),
    ],
)
def test_malformed_files_stop_with_a_one_line_error(name, message):
    with pytest.raises(InputError, match=message) as caught:
        read_copy_number(DATA / name, sample="S1")
    assert "\n" not in str(caught.value)


def test_overlapping_segments_of_one_sample_are_refused_but_other_samples_read():
    with pytest.raises(InputError, match=r"overlap.seg:3: segment 7:4000-9000 \(line 3\) overlaps"):
        read_copy_number(DATA / "overlap.seg", sample="S1")
    assert len(read_copy_number(DATA / "overlap.seg", sample="S2").segments) == 1


def test_segments_beyond_the_expected_build_are_refused(tmp_path):
    # chr17 is 81.2 Mb in GRCh37 and 83.3 Mb in GRCh38: a segment ending at 83 Mb is GRCh38.
    seg = tmp_path / "grch38.seg"
    seg.write_text("ID\tchrom\tloc.start\tloc.end\tnum.mark\tseg.mean\nS\t17\t1\t83000000\t9\t0\n")
    assert read_copy_number(seg, expected_build="GRCh38").segments[0].end == 83000000
    with pytest.raises(InputError, match=r"beyond the 81195210 bp of chromosome 17 in GRCh37"):
        read_copy_number(seg, expected_build="GRCh37")


def test_unknown_format_is_named():
    with pytest.raises(InputError, match=r"not a copy-number segment format this product reads"):
        read_copy_number(Path(__file__).parent / "data" / "vcf" / "generic.vcf")


# -- the real files of other tools (../shared/data) --------------------------------------------

# file -> (options, expected format, sample, number of segments, a segment (chrom, start, log2),
#          tumour fraction); or the message the file is refused with.
REAL_FILES = {
    "cnvkit/p2-9_2.cns": ({}, "cnvkit_cns", None, 313, ("1", 464424, -0.505883), None),
    "cnvkit/p2-9_2.call.cns": ({}, "cnvkit_call_cns", None, 313, ("1", 464424, -0.505883), None),
    "cnvkit/p2-9_2.cnr": ({}, "cnvkit_cnr", None, 18759, ("1", 464424, -0.599077), None),
    "cnvkit/tr95t.cns": ({}, "cnvkit_cns", None, 124, ("1", 10501, 0.134253), None),
    "cnvkit/amplicon.cnr": ({}, "cnvkit_cnr", None, 1433, ("1", 160786624, -1.87949), None),
    "cnvkit/warning.seg": ({}, "seg", "MySample", 11, ("1", 10400, 0.261269921083404), None),
    "cnvkit/acgh-log10.seg": (
        {"sample": "TR_28_T", "scale": "log10"}, "seg", "TR_28_T", 117,
        ("1", 88986, 0.0016 / math.log10(2)), None,
    ),
    "cnv-sv/gatk/SM-74NF5.called.seg": (
        {"expected_build": "GRCh37"}, "gatk_called_seg", "SM-74NF5", 404,
        ("1", 721156, 0.156290), None,
    ),
    "cnv-sv/gatk/single-sample-cr-ac-nac.modelFinal.seg": (
        {}, "gatk_model_seg", "SM-74P4M-1", 8, ("20", 68100, 0.661499), None,
    ),
    "cnv-sv/gatk/single-sample-cr-ac-nac.cr.seg": (
        {}, "gatk_cr_seg", "SM-74P4M-1", 8, ("20", 68100, 0.664444), None,
    ),
    "cnv-sv/ichorcna/MBC_315.seg": (
        {}, "ichorcna_seg", "MBC_315", 45, ("1", 1000001, -0.140248713009939), 0.255,
    ),
    "cnv-sv/ichorcna/MBC_315.seg.txt": (
        {}, "ichorcna_seg", "MBC_315", 45, ("1", 1000001, -0.140248713009939), 0.255,
    ),
}  # fmt: skip

REFUSED_FILES = {
    # A 0-probe CNVkit segment whose end (212576985) is before its start (212578209).
    "cnvkit/amplicon.cns": ({}, r"amplicon.cns:5: segment end 212576985 is not after its start"),
    # 41 samples, and its sex chromosomes are numbered 23/24.
    "cnvkit/cw-tr-log2.seg": ({}, r"41 samples in one file .*pass sample="),
    "cnvkit/cw-tr-log2.seg#TR_01_T": (
        {"sample": "TR_01_T"}, r"cw-tr-log2.seg:\d+: unknown contig '23'.*rename 23/24 to X/Y",
    ),
    "cnvkit/acgh-log10.seg": ({}, r"36 samples in one file"),
    "cnv-sv/ichorcna/MBC_315.params.txt": (
        {}, r"this is an ichorCNA params.txt \(tumour fraction\), not segments",
    ),
    "cnv-sv/gatk/SM-74NF5.called.seg#GRCh38": (
        {"expected_build": "GRCh38"}, r"the file header says GRCh37 but the run is GRCh38",
    ),
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(REAL_FILES))
def test_real_files_are_read(shared_data, name):
    options, fmt, sample, count, (chrom, start, log2), tumor_fraction = REAL_FILES[name]
    result = read_copy_number(shared_data / name, **options)
    assert (result.fmt, result.sample, len(result.segments)) == (fmt, sample, count)
    segment = first(result, chrom)
    assert (segment.start, segment.log2) == (start, pytest.approx(log2))
    assert result.tumor_fraction == tumor_fraction
    keys = [(s.chrom, s.start) for s in result.segments]
    assert len(set(keys)) == len(keys)


@pytest.mark.parametrize("name", sorted(REFUSED_FILES))
def test_real_files_are_refused_with_a_reason(shared_data, name):
    options, message = REFUSED_FILES[name]
    with pytest.raises(InputError, match=message) as caught:
        read_copy_number(shared_data / name.split("#")[0], **options)
    assert "\n" not in str(caught.value)


def test_every_real_copy_number_file_is_covered(shared_data):
    """Each CNVkit/SEG file and each GATK/ichorCNA file is in one of the two tables above."""
    on_disk = {
        str(p.relative_to(shared_data))
        for pattern in ("cnvkit/*.seg", "cnvkit/*.cns", "cnvkit/*.cnr", "cnv-sv/gatk/*",
                        "cnv-sv/ichorcna/*")
        for p in shared_data.glob(pattern)
    }  # fmt: skip
    covered = set(REAL_FILES) | {name.split("#")[0] for name in REFUSED_FILES}
    assert on_disk <= covered, sorted(on_disk - covered)


def test_real_gatk_file_states_its_build_and_ichorcna_its_ploidy(shared_data):
    gatk = read_copy_number(shared_data / "cnv-sv/gatk/SM-74NF5.called.seg")
    assert gatk.build == "GRCh37"
    ccnd1 = next(s for s in gatk.segments if (s.chrom, s.start) == ("11", 69062571))
    assert (ccnd1.end, ccnd1.n_bins, ccnd1.log2) == (69518273, 18, 2.94213)  # focal CCND1 gain
    ichor = read_copy_number(shared_data / "cnv-sv/ichorcna/MBC_315.seg")
    assert (ichor.tumor_fraction, ichor.ploidy, ichor.tf_source) == (
        0.255, 1.898, "ichorCNA params.txt",
    )  # fmt: skip
