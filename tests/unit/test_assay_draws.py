"""Targeted-assay draws beside sequencing (issue 17): the sample sheet's assay column, target
names mapped to panel alleles, and one timeline across NGS and ddPCR draws."""

from __future__ import annotations

import math

import pytest

from ctdna_resistance.assay_targets import UnknownTarget, resolve_target
from ctdna_resistance.calls import call_sample, write_sample_calls
from ctdna_resistance.errors import InputError
from ctdna_resistance.panel import load_panel
from ctdna_resistance.samplesheet import read_sample_sheet
from ctdna_resistance.tables import read_tsv
from ctdna_resistance.tracking import DrawData, track_patient, write_timeline

G12D = "12:25245350:C>T"  # KRAS c.35G>A on GRCh38, as sequencing keys it
V600E = "7:140753336:A>T"


@pytest.fixture(scope="module")
def panel():
    return load_panel("panels/anti_egfr_crc.yaml", "GRCh38")


@pytest.mark.parametrize(
    ("name", "gene", "key"),
    [
        ("KRAS G12D", "", G12D),
        ("KRAS p.G12D", "", G12D),
        ("KRAS_G12D", "", G12D),
        ("G12D", "KRAS", G12D),
        ("KRAS c.35G>A", "", G12D),
        ("BRAF V600E", "", V600E),
        ("KRAS G12/G13 screen", "", "12:25245346-25245351:KRAS_12_13_screen"),
    ],
)
def test_target_names_map_to_the_key_sequencing_gives(panel, name, gene, key):
    assert resolve_target(name, panel, gene).key == key


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("G12D", "is in several panel genes (KRAS, NRAS): name the gene"),
        ("KRAS G99D", "is not a panel resistance allele; the panel accepts KRAS A146P"),
        ("KRAS Q61H", "is more than one allele (c.183A>C, c.183A>T)"),
        ("Consensus_FAM", "names no single protein change"),
        ("KRAS G12/G15 screen", "screens codon(s) [15] not in the panel"),
    ],
)
def test_unknown_targets_are_refused_with_what_the_panel_accepts(panel, name, problem):
    with pytest.raises(UnknownTarget) as error:
        resolve_target(name, panel)
    assert problem in str(error.value)
    assert "\n" not in str(error.value)


def test_every_name_a_refusal_suggests_is_one_the_panel_accepts(panel):
    """The refusal lists the accepted names and a screen example: each of them must resolve
    (an ambiguous protein change is listed by its coding change instead, e.g. KRAS c.183A>C)."""
    message = ""
    for name in ("KRAS G99D", "BRAF X1Y"):
        with pytest.raises(UnknownTarget) as error:
            resolve_target(name, panel)
        message = str(error.value)
        listed = message.split("the panel accepts ", 1)[1].split(", or a codon screen")[0]
        names = [n for n in listed.split(", ") if not n.startswith("...")]
        assert names and all(resolve_target(n, panel) for n in names)
        assert "KRAS Q61H" not in names
        example = message.split("codon screen such as '", 1)[1].split("'", 1)[0]
        assert resolve_target(example, panel).panel_class == "codon_screen"
    assert "BRAF D594/V600 screen" in message  # the refused name's gene


VCF_HEADER = (
    "##fileformat=VCFv4.2\n"
    '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">\n'
    '##FORMAT=<ID=AD,Number=R,Type=Integer,Description="Allelic depths">\n'
    '##FORMAT=<ID=DP,Number=1,Type=Integer,Description="Read depth">\n'
    "##contig=<ID=12,length=133275309>\n##contig=<ID=7,length=159345973>\n"
    "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tplasma\n"
)


def _vcf(path, g12d, v600e):
    """A force-called VCF: (ref, alt) reads at KRAS G12D and BRAF V600E."""
    lines = [
        f"7\t140753336\t.\tA\tT\t50\tPASS\t.\tGT:AD:DP\t0/1:{v600e[0]},{v600e[1]}:{sum(v600e)}",
        f"12\t25245350\t.\tC\tT\t50\tPASS\t.\tGT:AD:DP\t0/1:{g12d[0]},{g12d[1]}:{sum(g12d)}",
    ]
    path.write_text(VCF_HEADER + "\n".join(lines) + "\n")


PLATE = "sample\ttarget\tmutant_positives\twildtype_positives\taccepted_partitions\twell\n"


def _plate(path, sample, mutant, wildtype=2719, n=15000):
    """A ddPCR plate: the draw's two wells of KRAS G12D, an NTC and a wild-type control."""
    rows = [
        f"{sample}\tKRAS G12D\t{mutant // 2}\t{wildtype // 2}\t{n // 2}\tA01",
        f"{sample}\tKRAS G12D\t{mutant - mutant // 2}\t{wildtype - wildtype // 2}\t{n // 2}\tA02",
        "OTHER_PATIENT\tKRAS G12D\t30\t2600\t15000\tB01",
        "NTC\tKRAS G12D\t0\t0\t14800\tH01",
        "WT control\tKRAS G12D\t1\t2900\t15100\tH02",
    ]
    path.write_text(PLATE + "\n".join(rows) + "\n")


@pytest.fixture
def mixed_patient(tmp_path):
    """NGS, ddPCR, ddPCR, NGS: KRAS G12D absent at T0 (8,000 reads: LoD95 0.13%, so the 0.3%
    found next by ddPCR is new, not first seen), 0.3% and 1.5% by ddPCR,
    0.4% by NGS at T3; BRAF V600E only sequenced."""
    _vcf(tmp_path / "t0.vcf", (7999, 1), (7700, 300))
    _plate(tmp_path / "t1.tsv", "PL-T1", mutant=9)
    _plate(tmp_path / "t2.tsv", "plasma 2", mutant=45)
    _vcf(tmp_path / "t3.vcf", (4980, 20), (4850, 150))
    sheet = tmp_path / "samples.tsv"
    sheet.write_text(
        "patient\tsample\tcollection_date\tvcf\tassay\tassay_sample\n"
        "P1\tP1-T0\t2024-01-10\tt0.vcf\t\t\n"
        "P1\tPL-T1\t2024-03-01\t\tt1.tsv\t\n"
        "P1\tP1-T2\t2024-05-01\t\tt2.tsv\tplasma 2\n"
        "P1\tP1-T3\t2024-07-01\tt3.vcf\t\t\n"
    )
    return sheet


def _track(sheet, panel, tmp_path):
    draws = []
    config = {"detection": {"background_error": 0.0005, "min_depth": 100}}
    for sample in read_sample_sheet(sheet):
        calls = call_sample(sample, panel, config)
        assert calls.accounting["reconciles"]
        paths = [tmp_path / f"{sample.sample}.{n}" for n in ("alt.tsv", "filt.tsv", "acct.json")]
        write_sample_calls(calls, *paths)
        draws.append(DrawData.read(sample, *paths))
    return draws, track_patient(draws, config)


def test_a_draw_may_have_only_its_assay_and_names_the_sample_inside_it(mixed_patient):
    samples = read_sample_sheet(mixed_patient)
    assert [s.assay is not None for s in samples] == [False, True, True, False]
    assert samples[2].assay_sample == "plasma 2" and samples[1].assay_sample is None
    assert samples[1].inputs() == {"assay": mixed_patient.parent / "t1.tsv"}


def test_mixed_patient_gives_one_timeline_with_the_truths_labels(mixed_patient, panel, tmp_path):
    draws, series = _track(mixed_patient, panel, tmp_path)
    g12d = series[G12D]
    assert [o.platform for o in g12d] == ["ngs", "ddpcr", "ddpcr", "ngs"]
    assert [o.status for o in g12d] == ["not_detected", "detected", "detected", "detected"]
    assert [o.trend for o in g12d] == ["not_detected", "new", "rising", "falling"]
    t1 = g12d[1]
    # depth = copies analysed of the draw's two wells (not the other patient's, not controls)
    copies = [-15000 * math.log((15000 - k) / 15000) for k in (9, 2719)]
    assert (t1.depth, t1.alt_reads) == (round(sum(copies)), round(copies[0]))
    assert t1.vaf == pytest.approx(copies[0] / sum(copies), rel=1e-5) and t1.lod95 < t1.vaf
    v600e = series[V600E]
    assert [o.status for o in v600e] == ["detected", "not_assessed", "not_assessed", "detected"]
    assert "ddpcr assay measured only KRAS p.G12D" in v600e[1].note
    assert [o.trend for o in v600e][-1] == "stable"
    timeline = tmp_path / "timeline.tsv"
    write_timeline(timeline, "P1", series, draws[0].sample.collection_date)
    rows = [r for r in read_tsv(timeline) if r["key"] == G12D]
    assert [r["platform"] for r in rows] == ["ngs", "ddpcr", "ddpcr", "ngs"]
    assert [r["trend"] for r in rows] == ["not_detected", "new", "rising", "falling"]


def test_an_assay_draw_below_the_blank_is_not_detected_with_its_lod95(tmp_path, panel):
    _vcf(tmp_path / "t0.vcf", (2900, 100), (3000, 0))
    _plate(tmp_path / "t1.tsv", "P1-T1", mutant=1)
    (tmp_path / "s.tsv").write_text(
        "patient\tsample\tcollection_date\tvcf\tassay\n"
        "P1\tP1-T0\t2024-01-10\tt0.vcf\t\nP1\tP1-T1\t2024-03-01\t\tt1.tsv\n"
    )
    draws, series = _track(tmp_path / "s.tsv", panel, tmp_path)
    (row,) = draws[1].filtered
    assert (row["reason"], row["platform"], row["key"]) == ("low_alt_reads", "ddpcr", G12D)
    after = series[G12D][1]
    assert after.status == "not_detected" and after.trend == "cleared"
    assert 0 < after.lod95 < 100 / 3000
    assert draws[1].accounting["assay"]["assessed"] == [G12D]


def test_assay_sample_missing_from_the_file_is_refused_with_its_names(tmp_path, panel):
    _plate(tmp_path / "t1.tsv", "SOMEONE", mutant=3)
    (tmp_path / "s.tsv").write_text(
        "patient\tsample\tcollection_date\tassay\nP1\tP1-T1\t2024-03-01\tt1.tsv\n"
    )
    (sample,) = read_sample_sheet(tmp_path / "s.tsv")
    with pytest.raises(InputError, match=r"no wells of sample 'P1-T1' \(the file's samples: "):
        call_sample(sample, panel, {})


def test_unknown_target_in_the_file_is_refused_at_its_line(tmp_path, panel):
    (tmp_path / "t1.tsv").write_text(PLATE + "P1-T1\tKRAS G12Q\t3\t2000\t15000\tA01\n")
    (tmp_path / "s.tsv").write_text(
        "patient\tsample\tcollection_date\tassay\nP1\tP1-T1\t2024-03-01\tt1.tsv\n"
    )
    (sample,) = read_sample_sheet(tmp_path / "s.tsv")
    with pytest.raises(InputError, match=r"t1.tsv:2: target 'KRAS G12Q' is not a panel"):
        call_sample(sample, panel, {})


def test_real_quantasoft_export_with_a_mapped_assay_name(tmp_path, panel):
    from pathlib import Path

    export = Path(__file__).parents[1] / "formats" / "data" / "ddpcr" / "quantasoft_small.csv"
    (tmp_path / "s.tsv").write_text(
        "patient\tsample\tcollection_date\tassay\tassay_sample\n"
        f"P1\tP1-T1\t2024-03-01\t{export}\tEmily\n"
    )
    (sample,) = read_sample_sheet(tmp_path / "s.tsv")
    config = {"targeted_assay": {"target_names": {"Consensus_FAM": "BRAF V600E"}}}
    calls = call_sample(sample, panel, config)
    (row,) = calls.alterations
    assert (row["key"], row["platform"], row["caller"]) == (V600E, "ddpcr", "quantasoft")
    assert row["vaf"] == pytest.approx(0.448, abs=0.0005)  # the file's FractionalAbundance 44.8
    assert calls.accounting["assay"]["targets"][0]["mutant_positives"] == 90


def test_the_patient_job_writes_reports_that_carry_each_points_platform(mixed_patient, tmp_path):
    import json

    from ctdna_resistance.config import validate_config
    from ctdna_resistance.steps import PatientOutputs, run_patient

    out = tmp_path / "out"
    config = validate_config(
        {"samples": str(mixed_patient), "treatments": None, "outdir": str(out)}, "test"
    )
    samples = ["P1-T0", "PL-T1", "P1-T2", "P1-T3"]
    outputs = PatientOutputs.under(out, "P1")
    run_patient(config, "P1", outputs)
    reports = {s: json.loads((outputs.reports / f"{s}.json").read_text()) for s in samples}
    g12d = {
        s: next(a for a in r["alterations"] + r["not_detected"] if a["key"] == G12D)
        for s, r in reports.items()
    }
    assert [g12d[s]["platform"] for s in samples] == ["ngs", "ddpcr", "ddpcr", "ngs"]
    assert [g12d[s]["trend"] for s in samples] == ["not_detected", "new", "rising", "falling"]
    assert "G12D" in outputs.longitudinal.read_text()
    searched = reports["PL-T1"]["searched"]
    assert (searched["assay_platform"], searched["assay_targets"]) == ("ddpcr", ["KRAS p.G12D"])
    assert "assay_targets" not in reports["P1-T0"]["searched"]
    acct = json.loads((outputs.samples / "PL-T1" / "accounting.json").read_text())
    assert acct["reconciles"] and acct["assay"]["assessed"] == [G12D]


def test_the_patient_jobs_maf_carries_the_panels_gene_ids(mixed_patient, tmp_path, panel):
    """reports/<sample>.maf has the study MAF's Entrez_Gene_Id and SWISSPROT, from the panel."""
    from ctdna_resistance.config import validate_config
    from ctdna_resistance.export.maf import MAF_COLUMNS
    from ctdna_resistance.steps import PatientOutputs, run_patient

    out = tmp_path / "out"
    config = validate_config({"samples": str(mixed_patient), "outdir": str(out)}, "test")
    outputs = PatientOutputs.under(out, "P1")
    run_patient(config, "P1", outputs)
    lines = (outputs.reports / "P1-T3.maf").read_text().splitlines()
    assert lines[1].split("\t") == MAF_COLUMNS
    rows = [dict(zip(lines[1].split("\t"), line.split("\t"), strict=True)) for line in lines[2:]]
    ids = {(r["Hugo_Symbol"], r["Entrez_Gene_Id"], r["SWISSPROT"]) for r in rows}
    expected = {
        (g, str(panel.genes[g].ncbi_gene_id), panel.genes[g].uniprot) for g in ("KRAS", "BRAF")
    }
    assert ids == expected


def test_cohort_summary_counts_draws_per_platform_and_the_page_labels_copies(
    mixed_patient, tmp_path
):
    import json

    from ctdna_resistance.cohort import summarise_patient
    from ctdna_resistance.config import validate_config
    from ctdna_resistance.samplesheet import read_cohort
    from ctdna_resistance.steps import PatientOutputs, run_patient

    out = tmp_path / "out"
    config = validate_config({"samples": str(mixed_patient), "outdir": str(out)}, "test")
    samples = ["P1-T0", "PL-T1", "P1-T2", "P1-T3"]
    outputs = PatientOutputs.under(out, "P1")
    run_patient(config, "P1", outputs)
    reports = [json.loads((outputs.reports / f"{s}.json").read_text()) for s in samples]
    assert [r["platforms"] for r in reports] == [["ngs"], ["ddpcr"], ["ddpcr"], ["ngs"]]
    row = summarise_patient("P1", reports, read_cohort(mixed_patient))
    assert row["draws_by_platform"] == "ngs:2;ddpcr:2"
    from ctdna_resistance.report.cohort_html import render_cohort

    assert "<small>NGS 2, ddPCR 2</small>" in render_cohort([row], {"P1": reports})
    page = (outputs.reports / "PL-T1.html").read_text()
    assert "ddPCR copies" in page
    assert "ddPCR copies" not in (outputs.reports / "P1-T0.html").read_text()


def test_a_draw_sequenced_and_assayed_keeps_the_more_informative_absence(tmp_path, panel):
    """T1 has a deep VCF record (20,000 reads, 2 alt: LoD95 0.13%) and a ddPCR well (~3,000
    copies: LoD95 ~0.2%): the deeper sequencing absence stands."""
    _vcf(tmp_path / "t0.vcf", (2900, 100), (3000, 300))
    _vcf(tmp_path / "t1.vcf", (19998, 2), (19000, 1000))
    _plate(tmp_path / "t1.tsv", "P1-T1", mutant=1)
    (tmp_path / "s.tsv").write_text(
        "patient\tsample\tcollection_date\tvcf\tassay\n"
        "P1\tP1-T0\t2024-01-10\tt0.vcf\t\nP1\tP1-T1\t2024-03-01\tt1.vcf\tt1.tsv\n"
    )
    draws, series = _track(tmp_path / "s.tsv", panel, tmp_path)
    assert {r["platform"] for r in draws[1].filtered if r["key"] == G12D} == {"ngs", "ddpcr"}
    after = series[G12D][1]
    assert after.status == "not_detected" and after.platform == "ngs"
    (assayed,) = [r for r in draws[1].filtered if r["platform"] == "ddpcr"]
    assert after.depth == 20000 and after.lod95 < float(assayed["lod95"])
    assert series[G12D][0].platform == "ngs"
