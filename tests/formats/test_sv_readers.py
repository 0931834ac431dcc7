"""SV VCF and fusion-table readers on every real file in shared/data/cnv-sv and hand-written ones.

The hand-written files in tests/formats/data/sv carry real GRCh38 fusion junctions: EML4 2:42301394,
ALK 2:29223528 (NPM1--ALK) and CD74 5:150404680, ROS1 6:117324415 from the STAR-Fusion table in
shared/data/cnv-sv/nf-core-testdatasets (RET 10:43116584 from its HOOK3--RET row).
"""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from ctdna_resistance.errors import InputError
from ctdna_resistance.io.fusion_table import read_fusion_table
from ctdna_resistance.io.sv_vcf import read_sv_vcf

SV_DATA = Path(__file__).parent / "data" / "sv"


def _data_lines(path: Path) -> int:
    """Data lines of a VCF, counted independently of the reader."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt") as handle:
        return sum(1 for line in handle if line.strip() and not line.startswith("#"))


def _accounted(result) -> list[int]:
    return sorted(number for numbers in result.event_records for number in numbers)


# (file under cnv-sv, reader arguments, caller, events, problem events) for files that are read.
READ = [
    ("manta/HCC1954.somaticSV.vcf.gz", {}, "manta", 3, 0),
    ("manta/colo829_somatic_manta.vcf", {}, "manta", 287, 0),
    ("manta/manta-1.1.1.vcf", {}, "manta", 10, 5),
    ("manta/vstol-hcc1395/somaticSV.vcf.gz", {"expected_build": "GRCh38"}, "manta", 1123, 0),
    ("delly/delly-0.6.8.vcf", {}, "delly", 4, 0),
    ("delly/DEL.delly0.6.2.vcf", {"expected_build": "GRCh38"}, "delly", 74, 0),
    ("delly/delly2-head.vcf", {}, "delly", 1, 1),
    (
        "delly/colo829-dna-illumina-realigned_delly2_filtered.chr1.vcf.gz",
        {"sample": "colo829-dna-illumina"},
        "delly",
        20,
        0,
    ),
    (
        "delly/hcc1395-dna-illumina-realigned_delly2_filtered.chr1.vcf.gz",
        {"sample": "hcc1395-dna-illumina", "expected_build": "GRCh38"},
        "delly",
        90,
        0,
    ),
    ("dragen/dragen-sv-head.vcf", {"expected_build": "GRCh37"}, "dragen", 1, 0),
    (
        "gridss/colo829_1.gridss.somatic.vcf",
        {"sample": "COLO829v001T_dedup.realigned.bam"},
        "gridss",
        116,  # 218 paired breakends -> 109 events, + 7 single breakends
        7,
    ),
    (
        "gridss/COLO829v003T.purple.sv.vcf",
        {"sample": "COLO829v003T.sorted.bam"},
        "gridss",
        147,  # 103 pairs + 6 breakends whose mate PURPLE left out + 38 single breakends
        44,
    ),
    (
        "hmftools-orange-testrun/tumor_sample.purple.sv.vcf",
        {"sample": "tumor_sample"},
        "gridss",
        289,  # 508 paired breakends -> 254 events, + 35 single breakends
        35,
    ),
]

# (file under cnv-sv, reader arguments, words the one-line refusal must contain)
REFUSED = [
    ("manta/vstol-hcc1395/diploidSV.vcf.gz", {}, "diploidSV"),
    ("manta/colo829_somatic_manta.vcf", {"expected_build": "GRCh38"}, "header says GRCh37"),
    ("delly/delly-0.6.8.vcf", {"expected_build": "GRCh38"}, "past the end of GRCh38"),
    ("delly/colo829-dna-illumina-realigned_delly2_filtered.chr1.vcf.gz", {}, "sv_sample"),
    ("delly/hcc1395-dna-illumina-realigned_delly2_filtered.chr1.vcf.gz", {}, "sv_sample"),
    ("dragen/dragen-cnv-head.vcf", {}, "copy-number VCF"),
    ("gridss/colo829_1.gridss.somatic.vcf", {}, "sv_sample"),
    ("gridss/COLO829v003T.purple.sv.vcf", {}, "sv_sample"),
    ("hmftools-orange-testrun/tumor_sample.purple.sv.vcf", {}, "sv_sample"),
    ("gridss/colo829_1.gridss.somatic.vcf", {"sample": "tumour"}, "not found"),
]


@pytest.mark.parametrize(
    ("name", "kwargs", "caller", "n_events", "n_problems"), READ, ids=[r[0] for r in READ]
)
def test_real_sv_vcf_is_read_and_every_line_accounted(
    shared_data, name, kwargs, caller, n_events, n_problems
):
    path = shared_data / "cnv-sv" / name
    result = read_sv_vcf(path, **kwargs)
    assert result.caller == caller
    assert result.records_read == _data_lines(path)
    assert _accounted(result) == list(range(1, result.records_read + 1))
    assert len(result.events) == n_events
    assert len(result.problems) == n_problems
    pairs = sum(1 for numbers in result.event_records if len(numbers) == 2)
    assert result.records_read == 2 * pairs + (len(result.events) - pairs)


@pytest.mark.parametrize(("name", "kwargs", "words"), REFUSED, ids=[r[0] for r in REFUSED])
def test_real_sv_vcf_is_refused_with_one_line(shared_data, name, kwargs, words):
    path = shared_data / "cnv-sv" / name
    with pytest.raises(InputError) as caught:
        read_sv_vcf(path, **kwargs)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(str(path))
    assert words in message


def test_every_real_sv_vcf_is_covered(shared_data):
    covered = {name for name, *_ in READ} | {name for name, *_ in REFUSED}
    folder = shared_data / "cnv-sv"
    present = {str(path.relative_to(folder)) for path in folder.rglob("*") if ".vcf" in path.name}
    assert present <= covered


def test_small_variant_vcf_is_not_an_sv_vcf(shared_data):
    path = next((shared_data / "vcf").glob("*mutect2*.vcf*"))
    with pytest.raises(InputError, match="not an SV VCF"):
        read_sv_vcf(path, sample=None, caller=None)


def test_support_counts_checked_by_hand(shared_data):
    folder = shared_data / "cnv-sv"
    manta = read_sv_vcf(folder / "manta/HCC1954.somaticSV.vcf.gz")
    assert manta.sample == "HCC1954"  # Manta writes normal then tumour
    first = manta.events[0]  # tumour PR 489,4 SR 520,19
    assert (first.split_reads, first.spanning_reads, first.ref_reads) == (19, 4, 1009)
    assert (first.a.chrom, first.a.pos, first.a.strand) == ("8", 107653411, "-")
    assert (first.b.chrom, first.b.pos, first.b.strand) == ("11", 94987872, "+")
    imprecise = manta.events[2]  # IMPRECISE pair: PR 161,13 only
    assert (imprecise.split_reads, imprecise.spanning_reads, imprecise.ref_reads) == (None, 13, 161)

    gridss = read_sv_vcf(
        folder / "gridss/colo829_1.gridss.somatic.vcf", sample="COLO829v001T_dedup.realigned.bam"
    )
    pair = gridss.events[0]  # tumour VF 36, RP 0, REF 66, REFPAIR 82
    assert (pair.split_reads, pair.spanning_reads, pair.ref_reads) == (36, 0, 148)
    assert gridss.event_records[0] == (1, 2)
    single = next(e for e in gridss.events if e.event_id == "gridss51b_73912b")
    assert single.problem == "single breakend"
    assert single.b == single.a and single.a.strand == "-"  # ALT '.GAATC...'
    assert (single.split_reads, single.spanning_reads, single.ref_reads) == (16, 87, 568)

    delly = read_sv_vcf(
        folder / "delly/hcc1395-dna-illumina-realigned_delly2_filtered.chr1.vcf.gz",
        sample="hcc1395-dna-illumina",
    )
    deletion = delly.events[1]  # DEL00000117: DR 0, DV 32, RR 0, RV 41
    assert deletion.event_id == "DEL00000117"
    assert (deletion.split_reads, deletion.spanning_reads, deletion.ref_reads) == (41, 32, 0)

    old = read_sv_vcf(folder / "delly/delly-0.6.8.vcf")
    translocation = next(e for e in old.events if e.sv_type == "TRA")  # CHR2=chr1, END=19357517
    assert (translocation.a.chrom, translocation.b.chrom, translocation.b.pos) == (
        "10",
        "1",
        19357517,
    )

    esvee = read_sv_vcf(
        folder / "hmftools-orange-testrun/tumor_sample.purple.sv.vcf", sample="tumor_sample"
    )
    first = esvee.events[0]  # tumour SF 29, DF 0, REF 55, REFPAIR 48
    assert (first.split_reads, first.spanning_reads, first.ref_reads) == (29, 0, 103)


def test_manta_multi_junction_event_pairs_by_mateid(shared_data):
    result = read_sv_vcf(shared_data / "cnv-sv/manta/vstol-hcc1395/somaticSV.vcf.gz")
    # Four breakends share EVENT MantaBND:21359:0:1:0:1:0:0: MATEID makes two junctions of them.
    by_id = {e.event_id: e for e in result.events}
    first = by_id["MantaBND:21359:0:1:0:1:0:0"]
    second = by_id["MantaBND:21359:0:1:1:0:0:1"]
    assert (first.a.pos, first.b.chrom, first.b.pos) == (32006244, "X", 83832854)
    assert (second.a.pos, second.b.chrom, second.b.pos) == (32006293, "X", 83832799)
    assert first.problem is None and second.problem is None


# -- hand-written files ------------------------------------------------------------------------


def test_manta_hand_written_pairs_and_support():
    result = read_sv_vcf(SV_DATA / "manta_somatic.vcf", expected_build="GRCh38")
    assert (result.caller, result.sample, result.build) == ("manta", "patient1_plasma", "GRCh38")
    assert result.records_read == 6
    assert result.event_records == [(1, 3), (2,), (4, 5), (6,)]
    alk = result.events[0]
    assert alk.record_no == 1 and alk.event_id == "MantaBND:1:0:1:0:0:0:0"
    assert (alk.a.chrom, alk.a.pos, alk.a.strand) == ("2", 29223528, "+")
    assert (alk.b.chrom, alk.b.pos, alk.b.strand) == ("2", 42301394, "+")
    assert (alk.split_reads, alk.spanning_reads, alk.ref_reads) == (9, 6, 70)
    deletion = result.events[1]
    assert (deletion.sv_type, deletion.b.pos, deletion.a.strand, deletion.b.strand) == (
        "DEL", 29410000, "+", "-"
    )  # fmt: skip
    assert result.events[2].filters == ("MinSomaticScore",)
    assert result.events[3].problem == "mate MantaBND:4:0:1:0:0:0:1 not found"
    assert [e.problem is None for e in result.events] == [True, True, True, False]


def test_delly_hand_written_inversion_and_one_line_breakend():
    result = read_sv_vcf(SV_DATA / "delly_plasma.vcf", expected_build="GRCh38")
    assert (result.caller, result.sample, result.records_read) == ("delly", "plasma", 4)
    inversion, _deletion, translocation, duplication = result.events
    assert (inversion.a.pos, inversion.b.pos, inversion.a.strand, inversion.b.strand) == (
        29223528, 42301394, "+", "+"
    )  # fmt: skip
    assert (inversion.split_reads, inversion.spanning_reads, inversion.ref_reads) == (11, 7, 103)
    assert translocation.problem is None  # Delly writes one line per translocation
    assert (translocation.b.chrom, translocation.b.pos, translocation.b.strand) == (
        "6", 117324415, "+"
    )  # fmt: skip
    assert duplication.filters == ("LowQual",)


def test_gridss_hand_written_single_and_unpaired_breakends():
    with pytest.raises(InputError, match="sv_sample"):
        read_sv_vcf(SV_DATA / "gridss_somatic.vcf")
    result = read_sv_vcf(SV_DATA / "gridss_somatic.vcf", sample="plasma.bam")
    assert result.records_read == 4
    assert result.event_records == [(1, 2), (3,), (4,)]
    pair, single, unpaired = result.events
    assert (pair.split_reads, pair.spanning_reads, pair.ref_reads) == (9, 5, 86)  # VF 14, RP 5
    assert single.problem == "single breakend" and single.b == single.a
    assert (single.split_reads, single.spanning_reads) == (5, 1)  # BVF 6, BUM 1
    assert unpaired.problem == "mate gridss3_1h not found"


def test_svaba_tumour_column_from_command_line():
    result = read_sv_vcf(SV_DATA / "svaba_somatic.vcf")
    assert (result.caller, result.sample) == ("svaba", "plasma.bam")
    (event,) = result.events
    assert result.event_records == [(1, 2)]
    assert (event.a.chrom, event.a.strand, event.b.chrom, event.b.strand) == ("5", "-", "6", "+")
    assert (event.split_reads, event.spanning_reads, event.ref_reads) == (8, 4, 68)


def test_unknown_caller_and_missing_file_are_refused(tmp_path):
    with pytest.raises(InputError, match="unknown SV caller"):
        read_sv_vcf(SV_DATA / "manta_somatic.vcf", caller="lumpy")
    with pytest.raises(InputError, match="file not found"):
        read_sv_vcf(tmp_path / "absent.vcf")
    not_vcf = tmp_path / "table.tsv"
    not_vcf.write_text("a\tb\n1\t2\n")
    with pytest.raises(InputError, match="not a VCF"):
        read_sv_vcf(not_vcf)


# -- fusion tables -----------------------------------------------------------------------------


def test_generic_fusion_table():
    events = read_fusion_table(SV_DATA / "fusions_generic.tsv")
    assert [e.sv_type for e in events] == ["FUSION"] * 4
    eml4 = events[0]
    assert (eml4.gene_a, eml4.gene_b, eml4.a.chrom, eml4.a.pos) == ("EML4", "ALK", "2", 42301394)
    assert (eml4.split_reads, eml4.spanning_reads, eml4.ref_reads) == (6, 4, 190)
    assert events[1].ref_reads is None  # optional column left empty
    assert events[2].gene_a == ""


def test_fusion_table_bad_position_is_one_line():
    with pytest.raises(InputError) as caught:
        read_fusion_table(SV_DATA / "fusions_bad_position.tsv")
    assert "fusions_bad_position.tsv:1: pos_b 'abc' is not a number" in str(caught.value)


def test_unrecognised_fusion_table_is_refused(shared_data):
    with pytest.raises(InputError, match="not a recognised fusion table"):
        read_fusion_table(shared_data / "cnv-sv/ericscript-bcbio/TEST_LANE.results.total.tsv")


def test_star_fusion_real_table(shared_data):
    events = read_fusion_table(shared_data / "cnv-sv/nf-core-testdatasets/genome/starfusion.tsv")
    assert len(events) == 12
    by_name = {e.event_id: e for e in events}
    eml4 = by_name["EML4--ALK"]
    assert (eml4.gene_a, eml4.a.chrom, eml4.a.pos, eml4.b.pos) == ("EML4", "2", 42301394, 29223584)
    assert (eml4.split_reads, eml4.spanning_reads, eml4.ref_reads) == (4, 4, None)
    cd74 = by_name["CD74--ROS1"]
    assert (cd74.b.chrom, cd74.b.pos, cd74.split_reads, cd74.spanning_reads) == (
        "6", 117324415, 7, 0
    )  # fmt: skip


def test_arriba_real_tables_both_layouts(shared_data):
    events = read_fusion_table(shared_data / "cnv-sv/nf-core-testdatasets/genome/arriba.tsv")
    assert len(events) == 14
    eml4 = next(e for e in events if e.event_id == "EML4--ALK")
    assert (eml4.split_reads, eml4.spanning_reads) == (1 + 3, 3)
    assert (eml4.a.strand, eml4.b.strand) == ("+", "+")  # downstream, downstream
    cd74 = next(e for e in events if e.event_id == "CD74--ROS1")
    assert (cd74.a.pos, cd74.b.pos, cd74.split_reads, cd74.spanning_reads) == (
        150404680, 117324415, 5, 0
    )  # fmt: skip
    assert any(e.gene_a == "BRD4,BRD4-1" for e in events)
    assert sum(1 for e in events if e.filters == ("low_confidence",)) == 1
    v2 = read_fusion_table(shared_data / "cnv-sv/arriba/fusions.tsv")
    (bcr,) = v2
    assert (bcr.gene_a, bcr.gene_b, bcr.split_reads, bcr.spanning_reads) == ("BCR", "ABL1", 11, 0)
    assert (bcr.a.strand, bcr.b.strand) == ("+", "-")  # direction columns found by name
