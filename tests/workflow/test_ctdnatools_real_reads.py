"""Issue 20 on real reads: ctDNAtools' small BAMs (GRCh37, chr14 target; ../shared/data/bam/).

As a new user would: a background from the three healthy-donor BAMs (N1-N3) over the assay's
target (a BED beside the panel), then a patient whose baseline VCF names the ten reporter
mutations of ctDNAtools' vignette (`data('mutations')`: alkodsi/ctDNAtools, MIT) and whose later
draws bring only their BAM (T1 mid-treatment, T2 after treatment). No single marker has more than
a few alt reads in T1 or T2; the pooled tumour-informed test decides "ctDNA detected" there.

The reference is the one thing not shipped with the BAMs (ctDNAtools reads BSgenome hg19): a
FASTA is written with the normals' majority base over the target and the panel's GRCh37 REF
bases at its hotspots, N elsewhere (simulate.bam.write_reference).
"""

from __future__ import annotations

import collections
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pysam
import pytest

from ctdna_resistance.panel import load_panel
from ctdna_resistance.simulate.bam import write_reference

pytestmark = pytest.mark.workflow

REPO = Path(__file__).resolve().parents[2]
TARGET = ("14", 106327422, 106328049)  # ctDNAtools data('targets'), 1-based
# ctDNAtools vignette, data('mutations'): chr14 (hg19) POS REF ALT
MUTATIONS = [
    (106327474, "C", "G"), (106327649, "G", "T"), (106327759, "A", "T"), (106327821, "T", "C"),
    (106327838, "T", "A"), (106327869, "C", "A"), (106327884, "A", "C"), (106327909, "A", "C"),
    (106327929, "A", "G"), (106327966, "C", "T"),
]  # fmt: skip
CHR14_GRCH37 = 107349540


def run_cli(*args, cwd=REPO):
    return subprocess.run(
        [sys.executable, "-m", "ctdna_resistance.cli", *map(str, args)],
        cwd=cwd, capture_output=True, text=True, check=False,
    )  # fmt: skip


def majority_bases(bams: list[Path]) -> list[tuple[str, int, str]]:
    """The most common base per target position over the normals (the reads' own reference)."""
    counts: dict[int, collections.Counter] = collections.defaultdict(collections.Counter)
    for path in bams:
        with pysam.AlignmentFile(str(path)) as bam:
            columns = bam.pileup("chr14", TARGET[1] - 101, TARGET[2] + 100, truncate=True,
                                 stepper="nofilter", max_depth=10**7)  # fmt: skip
            for column in columns:
                for base in column.get_query_sequences():
                    if base.upper() in "ACGT":
                        counts[column.reference_pos + 1][base.upper()] += 1
    return [("14", pos, counter.most_common(1)[0][0]) for pos, counter in sorted(counts.items())]


@pytest.fixture(scope="module")
def ctdnatools(shared_data, tmp_path_factory):
    folder = shared_data / "bam" / "ctdnatools"
    if not (folder / "T1.bam").is_file():
        pytest.skip(f"ctDNAtools BAMs not found in {folder}")
    work = tmp_path_factory.mktemp("ctdnatools")
    normals = [folder / f"N{i}.bam" for i in (1, 2, 3)]
    panel = load_panel(REPO / "panels" / "anti_egfr_crc.yaml", "GRCh37")
    hotspot_bases = sorted({(c, p, r) for (c, p, r, _) in panel.hotspots})
    hotspot_windows = sorted({(c, p - 2, p + len(r) + 1) for c, p, r in hotspot_bases})
    windows = [("14", TARGET[1] - 150, TARGET[2] + 150), *hotspot_windows]
    reference = work / "hg19.fa.gz"
    write_reference(reference, windows, build="GRCh37", seed=5, chr_style=True,
                    known_bases=majority_bases(normals) + hotspot_bases)  # fmt: skip
    sheet = work / "normals.tsv"
    sheet.write_text("sample\tbam\n" + "".join(f"N{i}\t{p}\n" for i, p in enumerate(normals, 1)))
    bed = work / "target.bed"
    bed.write_text(f"chr14\t{TARGET[1] - 1}\t{TARGET[2]}\n")
    done = run_cli("background", "--normals", sheet, "--reference", reference, "--bed", bed,
                   "--build", "GRCh37", "--out", work / "background")  # fmt: skip
    assert done.returncode == 0, done.stderr
    return {"work": work, "folder": folder, "reference": reference, "sheet": sheet, "bed": bed,
            "table": work / "background" / "background.tsv.gz"}  # fmt: skip


def _mpileup(bam: Path, pos: int) -> collections.Counter:
    output = subprocess.run(
        ["samtools", "mpileup", "-B", "-A", "-q", "20", "-Q", "20", "-d", "0",
         "--ff", "UNMAP,SECONDARY,QCFAIL,DUP,SUPPLEMENTARY", "-r", f"chr14:{pos}-{pos}", str(bam)],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    bases, counts, index = output.split("\t")[4] if output else "", collections.Counter(), 0
    while index < len(bases):
        char = bases[index]
        if char == "^":
            index += 2
            continue
        if char in "+-":
            digits = ""
            index += 1
            while bases[index].isdigit():
                digits += bases[index]
                index += 1
            index += int(digits)
            continue
        counts[char] += 1
        index += 1
    return counts


@pytest.mark.skipif(shutil.which("samtools") is None, reason="samtools not on PATH")
def test_background_counts_on_real_reads_equal_samtools_mpileup(ctdnatools):
    tabix = pysam.TabixFile(str(ctdnatools["table"]))
    assert "##genome_build=GRCh37" in list(tabix.header)
    compared = 0
    for pos, _, alt in MUTATIONS:
        rows = [line.split("\t") for line in tabix.fetch("14", pos - 1, pos)]
        row = next(r for r in rows if r[3] == alt)
        per_normal_alt = [int(v) for v in row[13].split(",")]
        per_normal_depth = [int(v) for v in row[14].split(",")]
        for index in range(3):
            pile = _mpileup(ctdnatools["folder"] / f"N{index + 1}.bam", pos)
            assert per_normal_depth[index] == sum(pile[b] for b in "ACGTNacgtn")
            assert per_normal_alt[index] == pile[alt] + pile[alt.lower()]
            compared += per_normal_depth[index]
        forward = sum(_mpileup(ctdnatools["folder"] / f"N{i}.bam", pos)[row[2]] for i in (1, 2, 3))
        assert int(row[8]) - int(row[10]) >= 0 and forward <= int(row[8])
    assert compared > 4000  # reads of the three normals at the ten sites


def test_a_reference_whose_contigs_differ_is_refused(ctdnatools, tmp_path):
    other = tmp_path / "other.fa.gz"
    write_reference(other, [("14", 100, 400)], build="GRCh37", seed=1, chr_style=True)
    done = run_cli(
        "background", "--normals", ctdnatools["sheet"], "--reference", other,
        "--bed", ctdnatools["bed"], "--build", "GRCh37", "--out", tmp_path / "o",
    )  # fmt: skip
    assert done.returncode == 1 and "no contig" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_later_draws_with_only_a_bam_get_a_pooled_ctdna_level(ctdnatools):
    work, folder = ctdnatools["work"], ctdnatools["folder"]
    header = [
        "##fileformat=VCFv4.2",
        f"##contig=<ID=chr14,length={CHR14_GRCH37}>",
        '##FORMAT=<ID=AD,Number=R,Type=Integer,Description="Allelic depths">',
        '##FORMAT=<ID=DP,Number=1,Type=Integer,Description="Depth">',
        "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tB0",
    ]
    # the pretreatment sample's calls: the ten reporter mutations at 12% VAF
    records = [f"chr14\t{p}\t.\t{r}\t{a}\t.\tPASS\t.\tAD:DP\t440,60:500" for p, r, a in MUTATIONS]
    (work / "baseline.vcf").write_text("\n".join(header + records) + "\n")
    (work / "samples.tsv").write_text(
        "patient\tsample\tcollection_date\tvcf\tbam\n"
        "CT1\tB0\t2019-01-07\tbaseline.vcf\t\n"
        f"CT1\tT1\t2019-04-01\t\t{folder / 'T1.bam'}\n"
        f"CT1\tT2\t2019-07-01\t\t{folder / 'T2.bam'}\n"
    )
    out = work / "results"
    done = run_cli(
        "track", "--patient", "CT1", "--set", f"samples={work / 'samples.tsv'}",
        "--set", "treatments=", "--set", "genome_build=GRCh37", "--set", f"outdir={out}",
        "--set", f"background={ctdnatools['table']}", "--set", "normals=",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    levels = {}
    for sample in ("B0", "T1", "T2"):
        report = json.loads((out / "patients" / "CT1" / "reports" / f"{sample}.json").read_text())
        levels[sample] = report["ctdna_level"]
    assert levels["B0"]["status"] == "detected" and levels["B0"]["response"] == "baseline"
    for sample in ("T1", "T2"):
        level = levels[sample]
        assert level["markers"] == 10, level  # every marker counted in a BAM-only draw
        assert level["depth"] > 3000
        assert set(level["background_models"]) <= {"site", "context"}
    t1 = levels["T1"]
    # no marker alone would be called, the pooled test decides
    assert t1["status"] == "detected" and t1["p_value"] < 0.01, t1
    assert t1["low"] > 0 and t1["response"] == "molecular_response"
