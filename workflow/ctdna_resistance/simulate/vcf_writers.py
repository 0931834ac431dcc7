"""Write simulated calls the way real callers write them: Mutect2, VarDictJava, Strelka2 somatic.

Each writer knows one dialect's header, FILTER names and per-record fields; the counts it writes
(depth, alt reads, normal counts) come from the simulator unchanged, so a reader that follows
SPEC 3.4 gets back exactly the simulated numbers. Cosmetic fields (strand splits, qualities,
fragment lengths) are drawn from a separate random stream, so they never change the truth.
The headers are modelled on the real files in shared/data/vcf (GATK 4.2 FilterMutectCalls,
VarDictJava var2vcf_valid, Strelka 2.9 somatic.snvs).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path

import numpy as np
import pysam

from ctdna_resistance.simulate.genome import (
    CONTIG_RANK,
    REFERENCE_URLS,
    contig_header_lines,
    styled_contig,
)

# English names, independent of the locale strftime would use
_MONTHS = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip
_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")

MIN_PASS_ALT_READS = 5
MIN_PASS_VAF = 0.002


@dataclass(frozen=True, slots=True)
class CallRecord:
    """One record to write: a site with its plasma (and matched normal) counts and FILTER."""

    chrom: str  # panel style, no 'chr'
    pos: int
    ref: str
    alt: str
    depth: int
    alt_reads: int
    filters: tuple[str, ...]  # () means PASS
    category: str  # resistance | passenger | truncal | germline | chip (cosmetic fields only)
    normal_depth: int = 0
    normal_alt_reads: int = 0

    @property
    def sort_key(self) -> tuple[int, int, str, str]:
        return (CONTIG_RANK[self.chrom], self.pos, self.ref, self.alt)


@dataclass(frozen=True, slots=True)
class VcfContext:
    """What a header needs to know about the sample and the run."""

    build: str
    chr_style: bool
    tumor_sample: str
    normal_sample: str
    collection_date: date


def is_weak(depth: int, alt_reads: int) -> bool:
    """The simulated caller's evidence rule: PASS needs >= 5 alt reads and VAF >= 0.2%."""
    return alt_reads < MIN_PASS_ALT_READS or alt_reads / depth < MIN_PASS_VAF


def format_gatk_double(value: float) -> str:
    """Format a float as htsjdk's VCFEncoder.formatVCFDouble does (Mutect2 AF, TLOD, NLOD)."""
    if value < 1:
        if value < 0.01:
            return "0.00" if abs(value) < 1e-20 else f"{value:.3e}"
        return f"{value:.3f}"
    return f"{value:.2f}"


def _run_stamp(collection_date: date, days: int, hour: int) -> datetime:
    # Pipelines run a few days after the draw; deriving the stamp from the draw date keeps the
    # header realistic and the bytes reproducible.
    return datetime.combine(collection_date + timedelta(days=days), time(hour, 12, 31))


def _split(rng: np.random.Generator, count: int) -> tuple[int, int]:
    first = int(rng.binomial(count, 0.5)) if count > 0 else 0
    return first, count - first


def _log10_ratio_lod(alt: int, depth: int, error: float = 1e-3) -> float:
    """Log10 likelihood ratio of 'allele present at its observed fraction' vs 'error only'."""
    if alt == 0 or depth == 0:
        return 0.0
    fraction = alt / depth
    ref = depth - alt
    lod = alt * math.log10(fraction / error)
    if ref:
        lod += ref * math.log10((1 - fraction) / (1 - error))
    return max(lod, 0.0)


def _tumour_derived(category: str) -> bool:
    return category in ("resistance", "passenger", "truncal")


class Mutect2Writer:
    """GATK Mutect2 + FilterMutectCalls, tumour-only or tumour/normal."""

    FORMAT_KEYS = "GT:AD:AF:DP:F1R2:F2R1:SB"

    def __init__(self, paired: bool):
        self.paired = paired
        self.name = "mutect2_paired" if paired else "mutect2_tumor_only"

    def call_filters(self, category: str, depth: int, alt_reads: int) -> tuple[str, ...] | None:
        """FILTER of a plasma record (None: no record), as FilterMutectCalls would label it."""
        if alt_reads == 0:
            return None
        labels = set()
        if is_weak(depth, alt_reads):
            labels.add("weak_evidence")
        if category == "germline":
            labels.add("germline")
        if self.paired and category == "chip":
            # the clone is in the matched white blood cells, so the normal carries the allele
            labels.add("normal_artifact")
        return tuple(sorted(labels))

    def sample_columns(self, ctx: VcfContext) -> list[str]:
        # GATK writes the samples of a paired run in sorted order, not tumour first
        if self.paired:
            return sorted((ctx.tumor_sample, ctx.normal_sample))
        return [ctx.tumor_sample]

    def header_lines(self, ctx: VcfContext) -> list[str]:
        reference = REFERENCE_URLS[(ctx.build, ctx.chr_style)]
        ref_path = reference.removeprefix("file://")
        stamp = _run_stamp(ctx.collection_date, 3, 14)
        date_text = (
            f"{_MONTHS[stamp.month - 1]} {stamp.day}, {stamp.year} at "
            f"{stamp.hour - 12}:{stamp.minute:02d}:{stamp.second:02d} PM UTC"
        )
        normal_args = f" --normal-sample {ctx.normal_sample}" if self.paired else ""
        inputs = f" --input {ctx.tumor_sample}.bam" + (
            f" --input {ctx.normal_sample}.bam" if self.paired else ""
        )
        filters = [
            ("FAIL", "Fail the site if all alleles fail but for different reasons."),
            ("PASS", "Site contains at least one allele that passes filters"),
            ("base_qual", "alt median base quality"),
            ("clustered_events", "Clustered events observed in the tumor"),
            ("contamination", "contamination"),
            ("fragment", "abs(ref - alt) median fragment length"),
            ("germline", "Evidence indicates this site is germline, not somatic"),
            ("haplotype", "Variant near filtered variant on same haplotype."),
            ("map_qual", "ref - alt median mapping quality"),
            ("multiallelic", "Site filtered because too many alt alleles pass tumor LOD"),
            ("normal_artifact", "artifact_in_normal"),
            ("orientation", "orientation bias detected by the orientation bias mixture model"),
            ("panel_of_normals", "Blacklisted site in panel of normals"),
            ("position", "median distance of alt variants from end of reads"),
            ("slippage", "Site filtered due to contraction of short tandem repeat region"),
            ("strand_bias", "Evidence for alt allele comes from one read direction only"),
            ("weak_evidence", "Mutation does not meet likelihood threshold"),
        ]
        lines = ["##fileformat=VCFv4.2"]
        lines += [f'##FILTER=<ID={key},Description="{text}">' for key, text in filters]
        lines += [
            '##FORMAT=<ID=AD,Number=R,Type=Integer,Description="Allelic depths for the ref and '
            'alt alleles in the order listed">',
            '##FORMAT=<ID=AF,Number=A,Type=Float,Description="Allele fractions of alternate '
            'alleles in the tumor">',
            '##FORMAT=<ID=DP,Number=1,Type=Integer,Description="Approximate read depth (reads '
            'with MQ=255 or with bad mates are filtered)">',
            '##FORMAT=<ID=F1R2,Number=R,Type=Integer,Description="Count of reads in F1R2 pair '
            'orientation supporting each allele">',
            '##FORMAT=<ID=F2R1,Number=R,Type=Integer,Description="Count of reads in F2R1 pair '
            'orientation supporting each allele">',
            '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">',
            '##FORMAT=<ID=SB,Number=4,Type=Integer,Description="Per-sample component statistics '
            "which comprise the Fisher's Exact Test to detect strand bias.\">",
            f'##GATKCommandLine=<ID=FilterMutectCalls,CommandLine="FilterMutectCalls --output '
            f"{ctx.tumor_sample}.filtered.vcf.gz --variant {ctx.tumor_sample}.unfiltered.vcf.gz "
            f"--reference {ref_path} --stats {ctx.tumor_sample}.unfiltered.vcf.gz.stats "
            f'--threshold-strategy OPTIMAL_F_SCORE --f-score-beta 1.0",Version="4.2.6.1",'
            f'Date="{date_text}">',
            f'##GATKCommandLine=<ID=Mutect2,CommandLine="Mutect2 --tumor-sample '
            f"{ctx.tumor_sample}{normal_args} --output {ctx.tumor_sample}.unfiltered.vcf.gz"
            f"{inputs} --reference {ref_path} --intervals panel.interval_list "
            f'--max-reads-per-alignment-start 0 --callable-depth 10",Version="4.2.6.1",'
            f'Date="{date_text}">',
            '##INFO=<ID=DP,Number=1,Type=Integer,Description="Approximate read depth; some reads '
            'may have been filtered">',
            '##INFO=<ID=ECNT,Number=1,Type=Integer,Description="Number of events in this '
            'haplotype">',
            '##INFO=<ID=GERMQ,Number=1,Type=Integer,Description="Phred-scaled quality that alt '
            'alleles are not germline variants">',
            '##INFO=<ID=MBQ,Number=R,Type=Integer,Description="median base quality by allele">',
            '##INFO=<ID=MFRL,Number=R,Type=Integer,Description="median fragment length by allele">',
            '##INFO=<ID=MMQ,Number=R,Type=Integer,Description="median mapping quality by allele">',
            '##INFO=<ID=MPOS,Number=A,Type=Integer,Description="median distance from end of read">',
        ]
        if self.paired:
            lines += [
                '##INFO=<ID=NALOD,Number=A,Type=Float,Description="Negative log 10 odds of '
                'artifact in normal with same allele fraction as tumor">',
                '##INFO=<ID=NLOD,Number=A,Type=Float,Description="Normal log 10 likelihood ratio '
                'of diploid het or hom alt genotypes">',
            ]
        lines += [
            '##INFO=<ID=POPAF,Number=A,Type=Float,Description="negative log 10 population allele '
            'frequencies of alt alleles">',
            '##INFO=<ID=TLOD,Number=A,Type=Float,Description="Log 10 likelihood ratio score of '
            'variant existing versus not existing">',
            "##MutectVersion=2.2",
        ]
        lines += contig_header_lines(ctx.build, ctx.chr_style)
        lines.append(
            "##filtering_status=These calls have been filtered by FilterMutectCalls to label "
            "false positives with a list of failed filters and true positives with PASS."
        )
        if self.paired:
            lines.append(f"##normal_sample={ctx.normal_sample}")
        lines += [
            f"##reference={reference}",
            "##source=FilterMutectCalls",
            "##source=Mutect2",
            f"##tumor_sample={ctx.tumor_sample}",
        ]
        return lines

    def _sample_field(self, rng: np.random.Generator, depth: int, alt: int, tumour: bool) -> str:
        ref = depth - alt
        fraction = alt / depth if tumour else (alt + 1) / (depth + 2)
        f1r2_ref, f2r1_ref = _split(rng, ref)
        f1r2_alt, f2r1_alt = _split(rng, alt)
        fwd_ref, rev_ref = _split(rng, ref)
        fwd_alt, rev_alt = _split(rng, alt)
        genotype = "0/1" if tumour else "0/0"
        return (
            f"{genotype}:{ref},{alt}:{format_gatk_double(fraction)}:{depth}:"
            f"{f1r2_ref},{f1r2_alt}:{f2r1_ref},{f2r1_alt}:{fwd_ref},{rev_ref},{fwd_alt},{rev_alt}"
        )

    def format_record(self, rec: CallRecord, ctx: VcfContext, rng: np.random.Generator) -> str:
        """One data line."""
        tumour_derived = _tumour_derived(rec.category)
        germline = rec.category == "germline"
        germq = int(rng.integers(1, 6)) if germline else int(rng.integers(60, 94))
        popaf = float(rng.uniform(0.3, 1.6)) if germline else 6.0
        # ctDNA fragments are shorter than those of blood cells: tumour alleles sit on ~145 bp
        ref_frag = int(rng.integers(163, 172))
        alt_frag = int(rng.integers(138, 152)) if tumour_derived else int(rng.integers(163, 172))
        info = [
            f"DP={rec.depth + (rec.normal_depth if self.paired else 0)}",
            "ECNT=1",
            f"GERMQ={germq}",
            f"MBQ={int(rng.integers(33, 38))},{int(rng.integers(33, 38))}",
            f"MFRL={ref_frag},{alt_frag if rec.alt_reads else 0}",
            "MMQ=60,60",
            f"MPOS={int(rng.integers(12, 40))}",
        ]
        if self.paired:
            normal_ref = rec.normal_depth - rec.normal_alt_reads
            tumour_fraction = max(rec.alt_reads / rec.depth, 1e-6)
            nalod = normal_ref * math.log10(0.999 / (1 - min(tumour_fraction, 0.999))) + (
                rec.normal_alt_reads * math.log10(1e-3 / tumour_fraction)
            )
            nlod = normal_ref * math.log10(0.999 / 0.5) + rec.normal_alt_reads * math.log10(
                1e-3 / 0.5
            )
            info += [f"NALOD={format_gatk_double(nalod)}", f"NLOD={format_gatk_double(nlod)}"]
        info += [
            f"POPAF={popaf:.2f}",
            f"TLOD={format_gatk_double(_log10_ratio_lod(rec.alt_reads, rec.depth))}",
        ]
        samples = {ctx.tumor_sample: self._sample_field(rng, rec.depth, rec.alt_reads, tumour=True)}
        if self.paired:
            samples[ctx.normal_sample] = self._sample_field(
                rng, rec.normal_depth, rec.normal_alt_reads, tumour=False
            )
        columns = [samples[name] for name in self.sample_columns(ctx)]
        return "\t".join(
            [
                styled_contig(rec.chrom, ctx.chr_style),
                str(rec.pos),
                ".",
                rec.ref,
                rec.alt,
                ".",
                ";".join(rec.filters) or "PASS",
                ";".join(info),
                self.FORMAT_KEYS,
                *columns,
            ]
        )


class VarDictWriter:
    """VarDictJava single-sample (teststrandbias.R | var2vcf_valid.pl) run with -f 0.002."""

    name = "vardict"
    paired = False
    FREQ_FILTER = "f0.002"
    VD_FILTER = "v5"

    def call_filters(self, category: str, depth: int, alt_reads: int) -> tuple[str, ...] | None:
        """FILTER of a plasma record (None: no record); VarDict knows nothing of germline."""
        if alt_reads == 0:
            return None
        labels = []
        if alt_reads / depth < MIN_PASS_VAF:
            labels.append(self.FREQ_FILTER)
        if alt_reads < MIN_PASS_ALT_READS:
            labels.append(self.VD_FILTER)
        return tuple(labels)

    def sample_columns(self, ctx: VcfContext) -> list[str]:
        return [ctx.tumor_sample]

    def header_lines(self, ctx: VcfContext) -> list[str]:
        info = [
            ("SAMPLE", "1", "String", "Sample name (with whitespace translated to underscores)"),
            ("TYPE", "1", "String", "Variant Type: SNV Insertion Deletion Complex"),
            ("DP", "1", "Integer", "Total Depth"),
            ("END", "1", "Integer", "Chr End Position"),
            ("VD", "1", "Integer", "Variant Depth"),
            ("AF", "A", "Float", "Allele Frequency"),
            ("BIAS", "1", "String", "Strand Bias Info"),
            ("REFBIAS", "1", "String", "Reference depth by strand"),
            ("VARBIAS", "1", "String", "Variant depth by strand"),
            ("PMEAN", "1", "Float", "Mean position in reads"),
            ("PSTD", "1", "Float", "Position STD in reads"),
            ("QUAL", "1", "Float", "Mean quality score in reads"),
            ("QSTD", "1", "Float", "Quality score STD in reads"),
            ("SBF", "1", "Float", "Strand Bias Fisher p-value"),
            ("ODDRATIO", "1", "Float", "Strand Bias Odds ratio"),
            ("MQ", "1", "Float", "Mean Mapping Quality"),
            ("SN", "1", "Float", "Signal to noise"),
            ("HIAF", "1", "Float", "Allele frequency using only high quality bases"),
            ("ADJAF", "1", "Float", "Adjusted AF for indels due to local realignment"),
            ("SHIFT3", "1", "Integer", "No. of bases to be shifted to 3 prime for deletions due "
             "to alternative alignment"),
            ("MSI", "1", "Float", "MicroSatellite. > 1 indicates MSI"),
            ("MSILEN", "1", "Float", "MicroSatellite unit length in bp"),
            ("NM", "1", "Float", "Mean mismatches in reads"),
            ("HICNT", "1", "Integer", "High quality variant reads"),
            ("HICOV", "1", "Integer", "High quality total reads"),
            ("DUPRATE", "1", "Float", "Duplication rate in fraction"),
        ]  # fmt: skip
        filters = [
            ("q22.5", "Mean Base Quality Below 22.5"),
            ("Q10", "Mean Mapping Quality Below 10"),
            ("p8", "Mean Position in Reads Less than 8"),
            ("SN1.5", "Signal to Noise Less than 1.5"),
            ("Bias", "Strand Bias"),
            ("pSTD", "Position in Reads has STD of 0"),
            ("d3", "Total Depth < 3"),
            (self.VD_FILTER, "Var Depth < 5"),
            (self.FREQ_FILTER, "Allele frequency < 0.002"),
            ("MSI12", "Variant in MSI region with 12 non-monomer MSI or 13 monomer MSI"),
            ("NM5.25", "Mean mismatches in reads >= 5.25, thus likely false positive"),
            ("InGap", "The variant is in the deletion gap, thus likely false positive"),
            ("InIns", "The variant is adjacent to an insertion variant"),
            ("Cluster0bp", "Two variants are within 0 bp"),
            ("LongMSI", "The somatic variant is flanked by long A/T (>=14)"),
            ("AMPBIAS", "Indicate the variant has amplicon bias."),
        ]
        formats = [
            ("GT", "1", "String", "Genotype"),
            ("DP", "1", "Integer", "Total Depth"),
            ("VD", "1", "Integer", "Variant Depth"),
            ("AD", "R", "Integer", "Allelic depths for the ref and alt alleles in the order "
             "listed"),
            ("AF", "A", "Float", "Allele Frequency"),
            ("RD", "2", "Integer", "Reference forward, reverse reads"),
            ("ALD", "2", "Integer", "Variant forward, reverse reads"),
        ]  # fmt: skip
        lines = ["##fileformat=VCFv4.2", "##source=VarDict_v1.8.3"]
        lines += [
            f'##INFO=<ID={key},Number={number},Type={kind},Description="{text}">'
            for key, number, kind, text in info
        ]
        lines += [f'##FILTER=<ID={key},Description="{text}">' for key, text in filters]
        lines += [
            f'##FORMAT=<ID={key},Number={number},Type={kind},Description="{text}">'
            for key, number, kind, text in formats
        ]
        # var2vcf writes neither; the lab's pipeline adds them (bcftools reheader --fai)
        lines += contig_header_lines(ctx.build, ctx.chr_style)
        lines.append(f"##reference={REFERENCE_URLS[(ctx.build, ctx.chr_style)]}")
        return lines

    @staticmethod
    def _number(value: float) -> str:
        text = f"{value:.4f}".rstrip("0").rstrip(".")
        return text or "0"

    def format_record(self, rec: CallRecord, ctx: VcfContext, rng: np.random.Generator) -> str:
        """One data line."""
        af = rec.alt_reads / rec.depth
        ref_reads = rec.depth - rec.alt_reads
        ref_fwd, ref_rev = _split(rng, ref_reads)
        alt_fwd, alt_rev = _split(rng, rec.alt_reads)
        # var2vcf_valid.pl: 1/1 within 0.2 of 1, "1/0" from 0.5, "0/1" above -f, else "0/0"
        if 1 - af < 0.2:
            genotype = "1/1"
        elif af >= 0.5:
            genotype = "1/0"
        elif af >= MIN_PASS_VAF:
            genotype = "0/1"
        else:
            genotype = "0/0"
        # the header's own list: SNV, Insertion, Deletion, Complex (MNVs are Complex)
        variant_type = "Complex"
        if len(rec.ref) == len(rec.alt) == 1:
            variant_type = "SNV"
        elif len(rec.ref) == 1 < len(rec.alt) and rec.alt[0] == rec.ref:
            variant_type = "Insertion"
        elif len(rec.alt) == 1 < len(rec.ref) and rec.ref[0] == rec.alt:
            variant_type = "Deletion"
        var_bias = 2 if min(alt_fwd, alt_rev) > 0 else (1 if rec.alt_reads > 2 else 0)
        base_quality = float(rng.uniform(33.0, 38.0))
        info = [
            f"SAMPLE={ctx.tumor_sample}",
            f"TYPE={variant_type}",
            f"DP={rec.depth}",
            f"END={rec.pos + len(rec.ref) - 1}",
            f"VD={rec.alt_reads}",
            f"AF={self._number(af)}",
            f"BIAS=2:{var_bias}",
            f"REFBIAS={ref_fwd}:{ref_rev}",
            f"VARBIAS={alt_fwd}:{alt_rev}",
            f"PMEAN={rng.uniform(15, 40):.1f}",
            "PSTD=1",
            f"QUAL={base_quality:.1f}",
            "QSTD=1",
            f"SBF={rng.uniform(0.2, 1.0):.5f}",
            f"ODDRATIO={rng.uniform(0.5, 2.0):.5f}",
            "MQ=60",
            f"SN={min(2.0 * rec.alt_reads, 200.0):.3f}",
            f"HIAF={self._number(af)}",
            "ADJAF=0",
            "SHIFT3=0",
            "MSI=1",
            "MSILEN=1",
            f"NM={rng.uniform(0.5, 1.5):.1f}",
            f"HICNT={rec.alt_reads}",
            f"HICOV={rec.depth}",
            "DUPRATE=0",
        ]
        sample = (
            f"{genotype}:{rec.depth}:{rec.alt_reads}:{ref_reads},{rec.alt_reads}:"
            f"{self._number(af)}:{ref_fwd},{ref_rev}:{alt_fwd},{alt_rev}"
        )
        return "\t".join(
            [
                styled_contig(rec.chrom, ctx.chr_style),
                str(rec.pos),
                ".",
                rec.ref,
                rec.alt,
                str(min(25 + 5 * rec.alt_reads, 250)),
                ";".join(rec.filters) or "PASS",
                ";".join(info),
                "GT:DP:VD:AD:AF:RD:ALD",
                sample,
            ]
        )


class Strelka2Writer:
    """Strelka2 somatic SNVs (somatic.snvs.vcf.gz): NORMAL and TUMOR columns, no GT."""

    name = "strelka2_somatic"
    paired = True
    BASES = "ACGT"

    def call_filters(self, category: str, depth: int, alt_reads: int) -> tuple[str, ...] | None:
        """FILTER of a plasma record (None: no record); alleles shared with the normal score low."""
        if alt_reads == 0:
            return None
        if is_weak(depth, alt_reads) or category in ("germline", "chip"):
            return ("LowEVS",)
        return ()

    def sample_columns(self, ctx: VcfContext) -> list[str]:
        return ["NORMAL", "TUMOR"]

    def header_lines(self, ctx: VcfContext) -> list[str]:
        stamp = _run_stamp(ctx.collection_date, 2, 22)
        reference = REFERENCE_URLS[(ctx.build, ctx.chr_style)]
        # like C ctime(), which Strelka uses: "Wed Feb 15 11:37:40 2023", day space-padded
        start_time = (
            f"{_WEEKDAYS[stamp.weekday()]} {_MONTHS[stamp.month - 1][:3]} {stamp.day:2d} "
            f"{stamp:%H:%M:%S} {stamp.year}"
        )
        ref_path = reference.removeprefix("file://")
        lines = [
            "##fileformat=VCFv4.1",
            f"##fileDate={stamp:%Y%m%d}",
            "##source=strelka",
            "##source_version=2.9.10",
            f"##startTime={start_time}",
            "##cmdline=/opt/strelka-2.9.10.centos6_x86_64/bin/configureStrelkaSomaticWorkflow.py "
            f"--normalBam {ctx.normal_sample}.bam --tumorBam {ctx.tumor_sample}.bam "
            f"--referenceFasta {ref_path} --targeted --callRegions panel.bed.gz "
            f"--runDir {ctx.tumor_sample}_strelka",
            f"##reference={reference}",
        ]
        lines += contig_header_lines(ctx.build, ctx.chr_style)
        lines += [
            "##content=strelka somatic snv calls",
            "##priorSomaticSnvRate=0.0001",
            '##INFO=<ID=QSS,Number=1,Type=Integer,Description="Quality score for any somatic snv, '
            "ie. for the ALT allele to be present at a significantly different frequency in the "
            'tumor and normal">',
            '##INFO=<ID=TQSS,Number=1,Type=Integer,Description="Data tier used to compute QSS">',
            '##INFO=<ID=NT,Number=1,Type=String,Description="Genotype of the normal in all data '
            'tiers, as used to classify somatic variants. One of {ref,het,hom,conflict}.">',
            '##INFO=<ID=QSS_NT,Number=1,Type=Integer,Description="Quality score reflecting the '
            'joint probability of a somatic variant and NT">',
            '##INFO=<ID=TQSS_NT,Number=1,Type=Integer,Description="Data tier used to compute '
            'QSS_NT">',
            '##INFO=<ID=SGT,Number=1,Type=String,Description="Most likely somatic genotype '
            'excluding normal noise states">',
            '##INFO=<ID=SOMATIC,Number=0,Type=Flag,Description="Somatic mutation">',
            '##INFO=<ID=DP,Number=1,Type=Integer,Description="Combined depth across samples">',
            '##INFO=<ID=MQ,Number=1,Type=Float,Description="RMS Mapping Quality">',
            '##INFO=<ID=MQ0,Number=1,Type=Integer,Description="Total Mapping Quality Zero Reads">',
            '##INFO=<ID=ReadPosRankSum,Number=1,Type=Float,Description="Z-score from Wilcoxon rank '
            'sum test of Alt Vs. Ref read-position in the tumor">',
            '##INFO=<ID=SNVSB,Number=1,Type=Float,Description="Somatic SNV site strand bias">',
            '##INFO=<ID=SomaticEVS,Number=1,Type=Float,Description="Somatic Empirical Variant '
            "Score (EVS) expressing the phred-scaled probability of the call being a false "
            'positive observation.">',
            '##FORMAT=<ID=DP,Number=1,Type=Integer,Description="Read depth for tier1 '
            '(used+filtered)">',
            '##FORMAT=<ID=FDP,Number=1,Type=Integer,Description="Number of basecalls filtered from '
            'original read depth for tier1">',
            '##FORMAT=<ID=SDP,Number=1,Type=Integer,Description="Number of reads with deletions '
            'spanning this site at tier1">',
            '##FORMAT=<ID=SUBDP,Number=1,Type=Integer,Description="Number of reads below tier1 '
            'mapping quality threshold aligned across this site">',
        ]
        lines += [
            f"##FORMAT=<ID={base}U,Number=2,Type=Integer,Description=\"Number of '{base}' alleles "
            f'used in tiers 1,2">'
            for base in self.BASES
        ]
        lines += [
            '##FILTER=<ID=LowEVS,Description="Somatic Empirical Variant Score (SomaticEVS) is '
            'below threshold">',
            '##FILTER=<ID=LowDepth,Description="Tumor or normal sample read depth at this locus '
            'is below 2">',
        ]
        return lines

    def _sample_field(
        self, rng: np.random.Generator, ref: str, alt: str, depth: int, alt_reads: int
    ) -> str:
        tier1 = dict.fromkeys(self.BASES, 0)
        tier1[ref] = depth - alt_reads
        tier1[alt] = alt_reads
        tier2 = dict(tier1)
        # tier2 counts reads that pass only the relaxed thresholds, so it is never below tier1
        tier2[ref] += int(rng.integers(0, 4))
        counts = ":".join(f"{tier1[base]},{tier2[base]}" for base in self.BASES)
        return f"{depth}:0:0:0:{counts}"

    def format_record(self, rec: CallRecord, ctx: VcfContext, rng: np.random.Generator) -> str:
        """One data line (SNVs only: Strelka writes indels to a separate file)."""
        if len(rec.ref) != 1 or len(rec.alt) != 1:
            raise ValueError(f"Strelka2 SNV writer got a non-SNV {rec.ref}>{rec.alt}")
        ref, alt = rec.ref, rec.alt
        het = "".join(sorted(ref + alt))
        if rec.category == "germline":
            hom = rec.normal_alt_reads > 0.8 * rec.normal_depth
            normal_genotype = "hom" if hom else "het"
            genotype = alt + alt if hom else het
            sgt = f"{genotype}->{genotype}"
        else:
            normal_genotype = "ref"
            sgt = f"{ref}{ref}->{het}"
        # SomaticEVS below the SNV threshold is what LowEVS means
        evs = float(rng.uniform(0.0, 6.5) if rec.filters else rng.uniform(7.5, 20.0))
        qss = int(min(max(_log10_ratio_lod(rec.alt_reads, rec.depth) * 3, 1), 400))
        info = [
            "SOMATIC",
            f"QSS={qss}",
            "TQSS=1",
            f"NT={normal_genotype}",
            f"QSS_NT={qss if normal_genotype == 'ref' else 0}",
            "TQSS_NT=1",
            f"SGT={sgt}",
            f"DP={rec.depth + rec.normal_depth}",
            "MQ=60.00",
            "MQ0=0",
            f"ReadPosRankSum={rng.uniform(-1.5, 1.5):.2f}",
            f"SNVSB={rng.uniform(0, 0.6):.2f}",
            f"SomaticEVS={evs:.2f}",
        ]
        normal = self._sample_field(rng, ref, alt, rec.normal_depth, rec.normal_alt_reads)
        tumour = self._sample_field(rng, ref, alt, rec.depth, rec.alt_reads)
        return "\t".join(
            [
                styled_contig(rec.chrom, ctx.chr_style),
                str(rec.pos),
                ".",
                ref,
                alt,
                ".",
                ";".join(rec.filters) or "PASS",
                ";".join(info),
                "DP:FDP:SDP:SUBDP:AU:CU:GU:TU",
                normal,
                tumour,
            ]
        )


VcfWriter = Mutect2Writer | VarDictWriter | Strelka2Writer

WRITERS: dict[str, VcfWriter] = {
    "mutect2_tumor_only": Mutect2Writer(paired=False),
    "vardict": VarDictWriter(),
    "strelka2_somatic": Strelka2Writer(),
    "mutect2_paired": Mutect2Writer(paired=True),
}


def render_vcf(
    writer: VcfWriter, ctx: VcfContext, records: list[CallRecord], rng: np.random.Generator
) -> str:
    """The whole VCF text: header, column line and records sorted by contig order and position."""
    lines = writer.header_lines(ctx)
    columns = ["#CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "INFO", "FORMAT"]
    lines.append("\t".join(columns + writer.sample_columns(ctx)))
    for rec in sorted(records, key=lambda r: r.sort_key):
        lines.append(writer.format_record(rec, ctx, rng))
    return "\n".join(lines) + "\n"


def write_vcf(path: Path, text: str) -> None:
    """Write VCF text; a ``.vcf.gz`` path is BGZF-compressed and tabix-indexed (``.tbi``)."""
    path = Path(path)
    if path.name.endswith(".vcf.gz"):
        plain = path.with_name(path.name.removesuffix(".gz"))
        plain.write_text(text, encoding="ascii")
        try:
            # BGZF blocks carry no timestamp or file name, so the bytes depend on content only
            pysam.tabix_compress(str(plain), str(path), force=True)
        finally:
            os.remove(plain)
        pysam.tabix_index(str(path), preset="vcf", force=True)
    else:
        path.write_text(text, encoding="ascii")
