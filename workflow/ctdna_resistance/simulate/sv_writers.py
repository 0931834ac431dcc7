"""Simulated structural-variant VCFs in the dialects of Manta (somatic) and Delly (somatic filter).

Each `SvCall` is one rearrangement joining breakend a to breakend b, with the orientation of each
side in VCF breakend terms ('+': the sequence at and before the position is kept, the join is on
its right; '-': the sequence at and after it is kept) and the plasma support the simulator drew.

* Manta ``somaticSV.vcf``: every rearrangement but a deletion is a BND mate pair linked by MATEID
  (Manta writes inversions and translocations that way); a deletion is one ``<DEL>`` record with
  END and SVLEN. FORMAT PR:SR, each 'ref,alt'; two sample columns, NORMAL then TUMOR, as Manta
  writes them. FILTER MinSomaticScore when the support is weak.
* Delly (``delly call`` + ``delly filter -f somatic``): ``<DEL>`` (CT=3to5) and ``<INV>``
  (CT=3to3 or 5to5) with END on one contig; an inter-chromosomal join is one SVTYPE=BND record
  with the mate in the breakend ALT and in CHR2/POS2, CT giving both orientations. FORMAT
  GT:GL:GQ:FT:RCL:RC:RCR:RDCN:DR:DV:RR:RV; sample columns tumour then normal (the order of the BAMs
  on Delly's command line), named by the samples' IDs. FILTER LowQual when the support is weak.

The headers are modelled on the real files in shared/data/cnv-sv/manta (HCC1954 somaticSV, Manta
1.4) and shared/data/cnv-sv/delly (colo829 delly2 somatic, Delly 1.2.6); ``##contig`` lines carry
the build's real lengths. The REF base is N (the simulator has no reference sequence there).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from ctdna_resistance.simulate.genome import (
    CONTIG_RANK,
    REFERENCE_URLS,
    contig_header_lines,
    styled_contig,
)

MIN_RECORD_ALT = 2  # the callers need at least two supporting fragments to write a record
MIN_PASS_ALT = 5  # and pass it with five


@dataclass(frozen=True, slots=True)
class SvCall:
    """One rearrangement to write, with tumour (plasma) and normal support."""

    event_no: int
    kind: str  # 'DEL' | 'INV' | 'BND' (what the rearrangement is, not how a dialect writes it)
    chrom_a: str  # panel style ('2')
    pos_a: int
    strand_a: str
    chrom_b: str
    pos_b: int
    strand_b: str
    split_reads: int
    spanning_reads: int
    ref_split: int
    ref_pairs: int
    normal_ref_split: int
    normal_ref_pairs: int

    @property
    def alt_reads(self) -> int:
        return self.split_reads + self.spanning_reads

    @property
    def weak(self) -> bool:
        return self.alt_reads < MIN_PASS_ALT


@dataclass(frozen=True, slots=True)
class SvContext:
    """What a header needs: build, contig style, sample names and the draw date."""

    build: str
    chr_style: bool
    tumor_sample: str
    normal_sample: str
    collection_date: date


def _bnd_alt(strand: str, remote_chrom: str, remote_pos: int, remote_strand: str) -> str:
    """Breakend ALT from the local and remote orientations (VCF 4.2 section 5.4)."""
    bracket = "]" if remote_strand == "+" else "["
    mate = f"{bracket}{remote_chrom}:{remote_pos}{bracket}"
    return f"N{mate}" if strand == "+" else f"{mate}N"


def _sorted_lines(records: list[tuple[str, int, str]]) -> list[str]:
    return [line for _, _, line in sorted(records, key=lambda r: (CONTIG_RANK[r[0]], r[1], r[2]))]


class MantaWriter:
    """Manta 1.6 somatic SV calls (somaticSV.vcf)."""

    name = "manta"

    def header_lines(self, ctx: SvContext) -> list[str]:
        reference = REFERENCE_URLS[(ctx.build, ctx.chr_style)]
        run_day = ctx.collection_date + timedelta(days=4)
        info = [
            ("IMPRECISE", "0", "Flag", "Imprecise structural variation"),
            ("SVTYPE", "1", "String", "Type of structural variant"),
            ("SVLEN", ".", "Integer", "Difference in length between REF and ALT alleles"),
            ("END", "1", "Integer", "End position of the variant described in this record"),
            ("CIPOS", "2", "Integer", "Confidence interval around POS"),
            ("CIEND", "2", "Integer", "Confidence interval around END"),
            ("MATEID", ".", "String", "ID of mate breakend"),
            ("EVENT", "1", "String", "ID of event associated to breakend"),
            ("HOMLEN", ".", "Integer", "Length of base pair identical homology at event "
             "breakpoints"),
            ("HOMSEQ", ".", "String", "Sequence of base pair identical homology at event "
             "breakpoints"),
            ("BND_DEPTH", "1", "Integer", "Read depth at local translocation breakend"),
            ("MATE_BND_DEPTH", "1", "Integer", "Read depth at remote translocation mate breakend"),
            ("SOMATIC", "0", "Flag", "Somatic mutation"),
            ("SOMATICSCORE", "1", "Integer", "Somatic variant quality score"),
        ]  # fmt: skip
        lines = [
            "##fileformat=VCFv4.1",
            f"##fileDate={run_day:%Y%m%d}",
            "##source=GenerateSVCandidates 1.6.0",
            f"##reference={reference}",
        ]
        lines += contig_header_lines(ctx.build, ctx.chr_style)
        lines += [
            f'##INFO=<ID={key},Number={number},Type={kind},Description="{text}">'
            for key, number, kind, text in info
        ]
        lines += [
            '##FORMAT=<ID=PR,Number=.,Type=Integer,Description="Spanning paired-read support for '
            'the ref and alt alleles in the order listed">',
            '##FORMAT=<ID=SR,Number=.,Type=Integer,Description="Split reads for the ref and alt '
            'alleles in the order listed, for reads where P(allele|read)>0.999">',
            '##FILTER=<ID=MinSomaticScore,Description="Somatic score is less than 30">',
            '##FILTER=<ID=MaxMQ0Frac,Description="For a small variant (<1000 bases) in the normal '
            'sample, the fraction of reads with MAPQ0 around either breakend exceeds 0.4">',
            '##ALT=<ID=DEL,Description="Deletion">',
            '##ALT=<ID=INS,Description="Insertion">',
            '##ALT=<ID=DUP:TANDEM,Description="Tandem Duplication">',
            f"##cmdline=/opt/manta-1.6.0.centos6_x86_64/bin/configManta.py "
            f"--normalBam={ctx.normal_sample}.bam --tumorBam={ctx.tumor_sample}.bam "
            f"--referenceFasta={reference.removeprefix('file://')} --exome "
            f"--callRegions=panel.bed.gz --runDir={ctx.tumor_sample}_manta",
        ]
        return lines

    def records(self, call: SvCall, ctx: SvContext) -> list[tuple[str, int, str]]:
        """(contig, position, line) of the call's record(s)."""
        filters = "MinSomaticScore" if call.weak else "PASS"
        score = min(20 + 4 * call.alt_reads, 999) if not call.weak else 10 + call.alt_reads
        normal = f"{call.normal_ref_pairs},0:{call.normal_ref_split},0"
        tumour = f"{call.ref_pairs},{call.spanning_reads}:{call.ref_split},{call.split_reads}"
        depth = call.ref_pairs + call.ref_split + call.alt_reads
        a = styled_contig(call.chrom_a, ctx.chr_style)
        if call.kind == "DEL":
            identifier = f"MantaDEL:{call.event_no}:0:1:0:0:0"
            info = (
                f"END={call.pos_b};SVTYPE=DEL;SVLEN=-{call.pos_b - call.pos_a};SOMATIC;"
                f"SOMATICSCORE={score}"
            )
            line = "\t".join(
                [a, str(call.pos_a), identifier, "N", "<DEL>", ".", filters, info, "PR:SR",
                 normal, tumour]
            )  # fmt: skip
            return [(call.chrom_a, call.pos_a, line)]
        b = styled_contig(call.chrom_b, ctx.chr_style)
        ids = [f"MantaBND:{call.event_no}:0:1:0:0:0:{side}" for side in (0, 1)]
        sides = [
            (call.chrom_a, a, call.pos_a, call.strand_a, b, call.pos_b, call.strand_b),
            (call.chrom_b, b, call.pos_b, call.strand_b, a, call.pos_a, call.strand_a),
        ]
        records = []
        for side, (chrom, name, pos, strand, mate, mate_pos, mate_strand) in enumerate(sides):
            info = (
                f"SVTYPE=BND;MATEID={ids[1 - side]};SOMATIC;SOMATICSCORE={score};"
                f"BND_DEPTH={depth};MATE_BND_DEPTH={depth}"
            )
            alt = _bnd_alt(strand, mate, mate_pos, mate_strand)
            line = "\t".join(
                [name, str(pos), ids[side], "N", alt, ".", filters, info, "PR:SR", normal, tumour]
            )
            records.append((chrom, pos, line))
        return records

    def sample_columns(self, ctx: SvContext) -> list[str]:
        return ["NORMAL", "TUMOR"]


class DellyWriter:
    """Delly 1.2 somatic calls (delly call tumour normal; delly filter -f somatic)."""

    name = "delly"
    VERSION = "EMBL.DELLYv1.2.6"

    def header_lines(self, ctx: SvContext) -> list[str]:
        run_day = ctx.collection_date + timedelta(days=4)
        info = [
            ("CIEND", "2", "Integer", "PE confidence interval around END"),
            ("CIPOS", "2", "Integer", "PE confidence interval around POS"),
            ("CHR2", "1", "String", "Chromosome for POS2 coordinate in case of an "
             "inter-chromosomal translocation"),
            ("POS2", "1", "Integer", "Genomic position for CHR2 in case of an inter-chromosomal "
             "translocation"),
            ("END", "1", "Integer", "End position of the structural variant"),
            ("PE", "1", "Integer", "Paired-end support of the structural variant"),
            ("MAPQ", "1", "Integer", "Median mapping quality of paired-ends"),
            ("SRMAPQ", "1", "Integer", "Median mapping quality of split-reads"),
            ("SR", "1", "Integer", "Split-read support"),
            ("SRQ", "1", "Float", "Split-read consensus alignment quality"),
            ("CT", "1", "String", "Paired-end signature induced connection type"),
            ("IMPRECISE", "0", "Flag", "Imprecise structural variation"),
            ("PRECISE", "0", "Flag", "Precise structural variation"),
            ("SVTYPE", "1", "String", "Type of structural variant"),
            ("SVMETHOD", "1", "String", "Type of approach used to detect SV"),
            ("HOMLEN", "1", "Integer", "Predicted microhomology length using a max. edit "
             "distance of 2"),
            ("RDRATIO", "1", "Float", "Read-depth ratio of tumor vs. normal."),
            ("SOMATIC", "0", "Flag", "Somatic structural variant."),
        ]  # fmt: skip
        formats = [
            ("GT", "1", "String", "Genotype"),
            ("GL", "G", "Float", "Log10-scaled genotype likelihoods for RR,RA,AA genotypes"),
            ("GQ", "1", "Integer", "Genotype Quality"),
            ("FT", "1", "String", "Per-sample genotype filter"),
            ("RCL", "1", "Integer", "Raw high-quality read counts or base counts for the left "
             "control region"),
            ("RC", "1", "Integer", "Raw high-quality read counts or base counts for the SV"),
            ("RCR", "1", "Integer", "Raw high-quality read counts or base counts for the right "
             "control region"),
            ("RDCN", "1", "Integer", "Read-depth based copy-number estimate for autosomal sites"),
            ("DR", "1", "Integer", "# high-quality reference pairs"),
            ("DV", "1", "Integer", "# high-quality variant pairs"),
            ("RR", "1", "Integer", "# high-quality reference junction reads"),
            ("RV", "1", "Integer", "# high-quality variant junction reads"),
        ]  # fmt: skip
        lines = [
            "##fileformat=VCFv4.2",
            '##FILTER=<ID=PASS,Description="All filters passed">',
            f"##fileDate={run_day:%Y%m%d}",
            '##ALT=<ID=DEL,Description="Deletion">',
            '##ALT=<ID=DUP,Description="Duplication">',
            '##ALT=<ID=INV,Description="Inversion">',
            '##ALT=<ID=BND,Description="Translocation">',
            '##ALT=<ID=INS,Description="Insertion">',
            '##FILTER=<ID=LowQual,Description="Poor quality and insufficient number of PEs and '
            'SRs.">',
        ]
        lines += [
            f'##INFO=<ID={key},Number={number},Type={kind},Description="{text}">'
            for key, number, kind, text in info
        ]
        lines += [
            f'##FORMAT=<ID={key},Number={number},Type={kind},Description="{text}">'
            for key, number, kind, text in formats
        ]
        reference = REFERENCE_URLS[(ctx.build, ctx.chr_style)].removeprefix("file://")
        lines.append(f"##reference={reference}")
        lines += contig_header_lines(ctx.build, ctx.chr_style)
        return lines

    def records(self, call: SvCall, ctx: SvContext) -> list[tuple[str, int, str]]:
        """(contig, position, line) of the call's one record."""
        weak = call.weak
        filters = "LowQual" if weak else "PASS"
        a = styled_contig(call.chrom_a, ctx.chr_style)
        b = styled_contig(call.chrom_b, ctx.chr_style)
        connection = (
            f"{'3' if call.strand_a == '+' else '5'}to{'3' if call.strand_b == '+' else '5'}"
        )
        common = (
            f"PRECISE;SVMETHOD={self.VERSION};PE={call.spanning_reads};MAPQ=60;CT={connection};"
            f"CIPOS=-4,4;CIEND=-4,4;SRMAPQ=60;SR={call.split_reads};SRQ=0.987;HOMLEN=2;"
            "RDRATIO=1;SOMATIC"
        )
        if call.kind in ("DEL", "INV") and call.chrom_a == call.chrom_b:
            prefix, alt = call.kind, f"<{call.kind}>"
            info = f"SVTYPE={call.kind};END={call.pos_b};{common}"
        else:
            prefix = "BND"
            alt = _bnd_alt(call.strand_a, b, call.pos_b, call.strand_b)
            info = f"SVTYPE=BND;CHR2={b};POS2={call.pos_b};{common}"
        identifier = f"{prefix}{call.event_no:08d}"
        genotype = "0/1" if call.alt_reads else "0/0"
        alt_likelihood = -0.1 * (call.ref_pairs + call.ref_split)
        tumour = (
            f"{genotype}:{alt_likelihood:.4g},0,{-3.0 * max(call.alt_reads, 1):.4g}:"
            f"{min(10 * call.alt_reads, 10000)}:{filters}:{call.ref_pairs}:{call.ref_pairs}:"
            f"{call.ref_pairs}:2:{call.ref_pairs}:{call.spanning_reads}:{call.ref_split}:"
            f"{call.split_reads}"
        )
        normal = (
            f"0/0:0,{-0.3 * call.normal_ref_pairs:.4g},{-3.0 * call.normal_ref_pairs:.4g}:"
            f"{min(3 * call.normal_ref_pairs, 10000)}:PASS:{call.normal_ref_pairs}:"
            f"{call.normal_ref_pairs}:{call.normal_ref_pairs}:2:{call.normal_ref_pairs}:0:"
            f"{call.normal_ref_split}:0"
        )
        quality = min(30 * call.alt_reads, 10000)
        fields = ["GT:GL:GQ:FT:RCL:RC:RCR:RDCN:DR:DV:RR:RV", tumour, normal]
        line = "\t".join([a, str(call.pos_a), identifier, "N", alt, str(quality), filters, info,
                          *fields])  # fmt: skip
        return [(call.chrom_a, call.pos_a, line)]

    def sample_columns(self, ctx: SvContext) -> list[str]:
        return [ctx.tumor_sample, ctx.normal_sample]


SvWriter = MantaWriter | DellyWriter
SV_WRITERS: dict[str, SvWriter] = {"manta": MantaWriter(), "delly": DellyWriter()}


def render_sv_vcf(writer: SvWriter, ctx: SvContext, calls: list[SvCall]) -> str:
    """The whole SV VCF: header, column line, records sorted by contig order and position."""
    lines = writer.header_lines(ctx)
    columns = ["#CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "INFO", "FORMAT"]
    lines.append("\t".join(columns + writer.sample_columns(ctx)))
    records = [record for call in calls for record in writer.records(call, ctx)]
    lines += _sorted_lines(records)
    return "\n".join(lines) + "\n"
