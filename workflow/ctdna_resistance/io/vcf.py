"""Small-variant VCF reader: every caller dialect of SPEC 3.4 into `VariantRecord`s.

Streams with cyvcf2 (htslib). Given regions, reads only those: through the .tbi/.csi index when
one sits next to the file, else by a byte-level scan of the text VCF that hands cyvcf2 only the
overlapping lines (`vcf_prefilter`); a BCF without an index is read whole. One `VariantRecord`
per ALT allele, with that allele's own counts. Records that cannot be
assessed are yielded with `problem` set, never dropped. File-level trouble raises `InputError`.
"""

from __future__ import annotations

import gzip
import os
import re
import tempfile
import warnings
import zlib
from collections.abc import Iterator
from pathlib import Path

import cyvcf2

from ctdna_resistance.errors import InputError
from ctdna_resistance.genome import CONTIG_LENGTHS
from ctdna_resistance.io.vcf_annotations import AnnotationField
from ctdna_resistance.io.vcf_build import (
    BUILD_ALIASES,
    detect_build,
    detect_build_with_evidence,
    foreign_contig,
    header_contigs,
)
from ctdna_resistance.io.vcf_dialects import (
    CALLER_ALIASES,
    DIALECTS,
    CountContext,
    HeaderFields,
    count_alleles,
    detect_dialect,
    missing_count_fields,
    parse_header_fields,
)
from ctdna_resistance.io.vcf_prefilter import (
    is_text_vcf,
    kept_numbers,
    merge_spans,
    open_decompressed,
    write_region_lines,
)
from ctdna_resistance.record_consistency import refuses_file
from ctdna_resistance.records import BUILDS, Annotation, VariantRecord, normalise_contig

__all__ = ["DIALECTS", "VcfReader", "detect_build", "detect_dialect", "open_vcf"]

# The empty BGZF block that bgzip/htslib write at the end of every complete file (SAM spec 4.1.2).
_BGZF_EOF = bytes.fromhex("1f8b08040000000000ff0600424302001b0003000000000000000000")
_DNA = re.compile(r"^[ACGTNacgtn]+$")
_FIELD_LINE = re.compile(r"^##(INFO|FORMAT)=<(.*)$", re.M)
_FIELD_ID = re.compile(r"(?:^|,)ID=([^,>]*)")
_FIELD_TYPE = re.compile(r"(?:^|,)Type=([^,>]*)")
_VCF_TYPES = {"Integer", "Float", "Flag", "Character", "String"}


def _undeclarable_type(header_text: str) -> str | None:
    """'##FORMAT DP Type=nteger' for the first INFO/FORMAT line without a type VCF has.

    htslib reads such a field as a String with a warning, and cyvcf2 then raises a bare Exception
    (or KeyError, when Type is missing) when the field is asked for: the header is refused first.
    """
    for kind, body in _FIELD_LINE.findall(header_text):
        found_id = _FIELD_ID.search(body)
        field_id = found_id.group(1) if found_id else "(no ID)"
        found_type = _FIELD_TYPE.search(body)
        field_type = found_type.group(1) if found_type else None
        if field_type not in _VCF_TYPES:
            shown = "no Type" if field_type is None else f"Type={field_type}"
            shown = shown.encode("unicode_escape").decode("ascii")  # control bytes made visible
            return f"##{kind} {field_id.encode('unicode_escape').decode('ascii')} {shown}"
    return None


_TUMOUR_OPTION = re.compile(r"(?:--tumou?r[-_]sample|\s-tumou?r)[=\s]+\"?([^\s\",>]+)")
_TUMOUR_NAMES = ("TUMOR", "TUMOUR")


def _tumour_from_header(header_text: str, samples: list[str], dialect: str) -> str | None:
    """The tumour column named by header metadata or by the dialect's own convention."""
    lines = header_text.splitlines()
    for line in lines:
        if line.startswith("##tumor_sample=") or line.startswith("##tumour_sample="):
            name = line.split("=", 1)[1].strip()
            if name in samples:
                return name
    for line in lines:
        if line.startswith("##SAMPLE=<"):
            match = re.search(r"ID=([^,>]+)", line)
            if match and match.group(1) in samples and match.group(1).upper() in _TUMOUR_NAMES:
                return match.group(1)
    for line in lines:
        if line.startswith(("##GATKCommandLine", "##SentieonCommandLine", "##DRAGENCommandLine")):
            for name in _TUMOUR_OPTION.findall(line):
                if name in samples:
                    return name
    if dialect in ("strelka2", "varscan2", "vardict"):
        literal = [name for name in samples if name.upper() in _TUMOUR_NAMES]
        if len(literal) == 1:
            return literal[0]
    if dialect == "vardict" and len(samples) == 2:
        # var2vcf_paired.pl writes the tumour first (-N "tumour|normal"); checked on the
        # somaticseq paired file, where StrongSomatic calls carry their alt reads in column 1.
        return samples[0]
    return None


def _allele_problem(ref: str, alt: str) -> str | None:
    """Why an ALT cannot be assessed as a small variant, or None."""
    if alt in (".", ""):
        return "no ALT allele ('.')"
    if alt == "*":
        return "spanning-deletion allele '*' (the deletion is its own record)"
    if alt.startswith("<") or "[" in alt or "]" in alt:
        return f"symbolic or breakend ALT {alt} is not a small variant"
    if "/" in ref or "/" in alt or "-" in alt:
        return f"VarScan-style allele with '/' ({ref}>{alt}) is not a VCF allele"
    if not _DNA.match(ref):
        return f"REF {ref!r} is not a DNA sequence (A, C, G, T, N)"
    if not _DNA.match(alt):
        return f"ALT {alt!r} is not a DNA sequence (A, C, G, T, N)"
    return None


def _is_blank_line(variant) -> bool:
    """True for what htslib makes of an empty line (e.g. a trailing blank line).

    Such a "record" has no contig (cyvcf2 crashes on .CHROM/.REF) and no REF, so its length is 0;
    every real record has a REF of at least one base.
    """
    return variant.end <= variant.start


def _is_bgzf(head: bytes) -> bool:
    """True for a BGZF block header: gzip with FEXTRA and the 'BC' subfield (SAM spec 4.1)."""
    return len(head) >= 16 and head[:4] == b"\x1f\x8b\x08\x04" and head[12:14] == b"BC"


def _compression_problem(path: str) -> str | None:
    """Why a (b)gzip file is incomplete, or None.

    htslib reads a BGZF file cut at a block boundary without error (it only warns that the EOF
    marker is absent), which would silently lose every record after the cut; plain gzip cut short
    is read up to the cut the same way. Both are refused here.
    """
    with open(path, "rb") as handle:
        head = handle.read(18)
        if head[:2] != b"\x1f\x8b":
            return None
        if _is_bgzf(head):
            handle.seek(0, os.SEEK_END)
            if handle.tell() < len(_BGZF_EOF):
                return "the BGZF file is truncated (shorter than its end-of-file block)"
            handle.seek(-len(_BGZF_EOF), os.SEEK_END)
            if handle.read() != _BGZF_EOF:
                return "the BGZF end-of-file marker is missing: the file is truncated"
            return None
    # Plain gzip cannot be indexed, so it is streamed whole anyway: check it decompresses whole.
    try:
        with gzip.open(path, "rb") as stream:
            while stream.read(1 << 20):
                pass
    except (EOFError, OSError, zlib.error) as error:
        return f"the gzip stream is truncated or corrupt ({error})"
    return None


def _header_problem(path: str) -> str | None:
    """Name what is wrong with a text VCF's header after htslib refused it, or None."""
    try:
        with open(path, "rb") as raw:
            is_gzip = raw.read(2) == b"\x1f\x8b"
        opener = gzip.open if is_gzip else open
        with opener(path, "rb") as handle:
            if handle.read(4) == b"BCF\x02":
                return None
            handle.seek(0)
            for number, line in enumerate(handle, 1):
                try:
                    line.decode("utf-8")
                except UnicodeDecodeError as error:
                    return (
                        f"line {number} holds bytes that are not UTF-8 text "
                        f"(byte 0x{line[error.start]:02x} at column {error.start + 1})"
                    )
                if line.startswith(b"#CHROM"):
                    return None
                if not line.startswith(b"#") and line.strip():
                    return f"no #CHROM header line before the first record (line {number})"
                if number > 1_000_000:
                    return None
    except (EOFError, OSError, zlib.error):
        return None
    return "no #CHROM header line"


def _wrap_htslib_error(
    path: str,
    error: Exception,
    record: int | None = None,
    where: str = "this record",
    line_no: int | None = None,
    types: dict[tuple[str, str], str] | None = None,
) -> InputError:
    """InputError for a record htslib refused; ``record`` is the data-record number.

    With the record's ``line_no`` in a text VCF and the header's field ``types``
    (HeaderFields.types), the line is read again and the value htslib could not take is named
    (cyvcf2's own text, "error parsing variant ... error-code: 0", says nothing to a user).
    """
    del error
    detail = _diagnose_line(path, line_no, types or {}) if line_no else None
    if detail is None:
        return InputError(
            path,
            f"htslib could not parse {where}: a non-numeric value in a numeric field, too few "
            "columns, or a damaged file",
            "correct or re-export it; the htslib message above names the field",
            record=record,
        )
    return InputError(
        path, f"htslib could not parse {where}: {detail}", "correct or re-export it", record=record
    )


_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$|^[+-]?(inf|nan)$", re.I)


def _diagnose_line(path: str, line_no: int, types: dict[tuple[str, str], str]) -> str | None:
    """What in line ``line_no`` of a text VCF htslib cannot read, or None when not found.

    ``types`` are the header's field types (HeaderFields.types)."""
    line = None
    try:
        with open_decompressed(path) as handle:
            for number, raw_line in enumerate(handle, 1):
                if number == line_no:
                    line = raw_line.decode("utf-8", "replace").rstrip("\r\n")
                    break
    except (EOFError, OSError, zlib.error):
        return None
    if line is None:
        return None
    numeric = {key: kind for key, kind in types.items() if kind in ("Integer", "Float")}
    columns = line.split("\t")
    if len(columns) < 8:
        return f"{len(columns)} tab-separated columns where a VCF record has at least 8"
    if not columns[1].isdigit():
        return f"POS {columns[1]!r} is not a whole number"

    def bad(kind: str, key: str, value: str, where: str = "") -> str | None:
        wanted = numeric.get((kind, key))
        if wanted is None:
            return None
        for part in value.split(","):
            if part == "." or (_NUMBER.match(part) and (wanted == "Float" or "." not in part)):
                continue
            return f"{kind}/{key} {part!r}{where} is not {'an' if wanted == 'Integer' else 'a'} "\
                f"{wanted}, as its header line declares"  # fmt: skip
        return None

    for item in columns[7].split(";"):
        key, _, value = item.partition("=")
        found = bad("INFO", key, value) if value else None
        if found:
            return found
    if len(columns) > 9:
        keys = columns[8].split(":")
        for column, sample in enumerate(columns[9:], start=1):
            for key, value in zip(keys, sample.split(":"), strict=False):
                found = bad("FORMAT", key, value, f" (sample column {column})")
                if found:
                    return found
    return None


def _text_header_lines(path: str) -> int | None:
    """Number of lines up to and including #CHROM in a (gzipped) text VCF; None for BCF."""
    try:
        with open(path, "rb") as raw:
            is_gzip = raw.read(2) == b"\x1f\x8b"
        with (gzip.open if is_gzip else open)(path, "rb") as handle:
            for number, line in enumerate(handle, 1):
                if number == 1 and line.startswith(b"BCF"):
                    return None
                if line.startswith(b"#CHROM"):
                    return number
    except (EOFError, OSError, zlib.error):
        return None
    return None


class VcfReader:
    """A small-variant VCF opened for reading; iterate it for `VariantRecord`s (one per ALT).

    Attributes: ``path``, ``dialect``, ``sample`` (None for sites-only LoFreq), ``samples``,
    ``build`` (None when the header does not tell), ``contig_style`` ('chr'/'nochr'),
    ``used_index``, ``read_mode``, ``records_read`` (VCF records parsed so far),
    ``lines_scanned`` (data lines a region scan looked at) and ``blank_lines`` (empty lines
    skipped; they are not records).

    ``read_mode`` says how regions were applied: 'regions_index' (htslib region queries through
    the index), 'regions_scan' (a text VCF without an index: its lines were filtered by
    CHROM/POS before cyvcf2 parsed the overlapping ones) or 'whole_file' (no regions given, or a
    BCF without an index: every record is yielded). Both region modes return the records whose
    span (POS to POS + len(REF) - 1, or INFO/END) shares a base with a region, each once.

    ``record_no`` of each record is the 1-based index of its data line among the file's data
    lines (blank lines not counted) for a whole-file read and a region scan; with an indexed
    region read it is the index within what was read, not within the file.
    Regions are (contig, start, end), 1-based inclusive, contig in the panel's normalised style.
    """

    def __init__(
        self,
        path: str | os.PathLike,
        *,
        sample: str | None = None,
        caller: str | None = None,
        expected_build: str | None = None,
        regions: list[tuple[str, int, int]] | None = None,
    ):
        self.path = str(path)
        self.records_read = 0
        self.lines_scanned = 0
        self.blank_lines = 0
        self.inconsistent_records = 0  # records with an allele that contradicts itself
        self.used_index = False
        self.read_mode = "whole_file"
        self._regions = regions
        self._vcf = self._open()
        try:
            self._setup(sample, caller, expected_build)
        except BaseException:
            self.close()
            raise

    # -- opening and header checks -------------------------------------------------------------

    def _open(self) -> cyvcf2.VCF:
        if not os.path.exists(self.path):
            raise InputError(self.path, "file not found", "check the vcf path in the sample sheet")
        if not os.path.isfile(self.path) or not os.access(self.path, os.R_OK):
            raise InputError(self.path, "not a readable file", "give the path of a VCF/BCF file")
        if os.path.getsize(self.path) == 0:
            raise InputError(
                self.path, "the file is empty", "give a VCF with its header (re-copy or re-run it)"
            )
        truncated = _compression_problem(self.path)
        if truncated:
            raise InputError(
                self.path, truncated, "re-copy the file, or re-compress it (bgzip -t checks it)"
            )
        try:
            vcf = cyvcf2.VCF(self.path)
        except Exception as error:  # htslib reports every failure as OSError or bare Exception
            detail = _header_problem(self.path)
            if detail is None:
                detail = f"htslib cannot open it: {str(error).strip() or type(error).__name__}"
            raise InputError(
                self.path,
                f"not a VCF/BCF that can be read ({detail})",
                "give a VCF, bgzipped VCF or BCF (check it with bcftools view -h)",
            ) from None
        return vcf

    def _setup(self, sample: str | None, caller: str | None, expected_build: str | None) -> None:
        try:
            # cyvcf2 decodes the header and the sample names as UTF-8 and raises on other bytes.
            header_text = self._vcf.raw_header
            samples = list(self._vcf.samples)
        except UnicodeDecodeError:
            detail = _header_problem(self.path) or "the header holds bytes that are not UTF-8 text"
            raise InputError(
                self.path, f"not a VCF/BCF that can be read ({detail})", "save the header as UTF-8"
            ) from None
        if "#CHROM" not in header_text:
            raise InputError(self.path, "no #CHROM header line: not a VCF",
                             "give a VCF, bgzipped VCF or BCF")  # fmt: skip
        bad_type = _undeclarable_type(header_text)
        if bad_type is not None:
            raise InputError(
                self.path,
                f"{bad_type}: every INFO/FORMAT line needs a VCF type (Integer, Float, Flag, "
                "Character or String)",
                "fix that header line (check it with bcftools view -h)",
            )
        self._fields: HeaderFields = parse_header_fields(header_text)
        self.samples: list[str] = samples
        self.dialect = self._choose_dialect(header_text, caller)

        missing = missing_count_fields(self.dialect, self._fields)
        if missing:
            wanted = (
                "LoFreq's own VCF (lofreq call writes INFO/DP and INFO/DP4)"
                if self.dialect == "lofreq"
                else "calls with per-sample read counts (FORMAT/AD or the caller's own)"
            )
            raise InputError(
                self.path,
                missing,
                f"give {wanted}, or set `caller` in the sample sheet/config if the dialect was "
                "detected wrongly",
            )

        foreign = foreign_contig(header_text)
        if foreign is not None:
            raise InputError(
                self.path,
                f"{foreign}, neither GRCh38 nor GRCh37",
                "give calls made against GRCh38 or GRCh37 (or lift them over)",
            )
        self.build, evidence = detect_build_with_evidence(header_text)
        if expected_build is not None:
            expected = BUILD_ALIASES.get(expected_build.lower(), expected_build)
            if expected not in BUILDS:
                raise InputError(None, f"unknown genome build {expected_build!r}",
                                 f"use one of {', '.join(BUILDS)}")  # fmt: skip
            if self.build is not None and self.build != expected:
                raise InputError(
                    self.path,
                    f"header says {self.build} ({evidence}) but genome_build is {expected}",
                    f"give calls made against {expected} (or lift them over), or set "
                    f"genome_build: {self.build} if the whole run is {self.build}",
                )

        self.sample = self._choose_sample(header_text, sample)
        self._sample_index = None if self.sample is None else self.samples.index(self.sample)
        self._context = CountContext(self._fields, self._sample_index, self.sample)
        self._annotation_fields = [
            field
            for key in ("CSQ", "ANN")
            if key in self._fields.info
            for field in [AnnotationField(key, self._fields.info_descriptions.get(key, ""))]
            if field.usable
        ]
        # cyvcf2's .seqnames falls back to loading an index (htslib prints an error when there is
        # none), so take the ##contig lines ourselves and ask the index only when it exists.
        self._seqnames = [name for name, _length, _assembly in header_contigs(header_text)]
        if not self._seqnames and self._index_path() is not None:
            self._seqnames = list(self._vcf.seqnames)
        self.contig_style = self._detect_contig_style()
        # Known before iterating, so a caller can log whether the panel regions were used.
        self.used_index = self._regions is not None and self._index_path() is not None
        if self.used_index:
            self._refuse_stale_index()
            self.read_mode = "regions_index"
        elif self._regions is not None and is_text_vcf(self.path):
            self.read_mode = "regions_scan"
        # Lengths of the build the positions are checked against (the header's, else the run's).
        build = self.build or (expected if expected_build is not None else None)
        self._contig_lengths = CONTIG_LENGTHS.get(build, {}) if build else {}

    def _refuse_stale_index(self) -> None:
        """An index older than its file may point at records that moved: refuse it.

        htslib only warns, and a region read through a stale index silently returns nothing or
        the wrong records. Whole seconds, as htslib compares, so a fresh copy is not refused.
        """
        index = self._index_path()
        if int(os.stat(index).st_mtime) < int(os.stat(self.path).st_mtime):
            raise InputError(
                self.path,
                f"the index {os.path.basename(index)} is older than the file (stale: the records "
                "may have been changed or re-sorted since indexing)",
                "sort and re-index it (bcftools sort -Oz -o out.vcf.gz in.vcf && tabix -p vcf "
                "out.vcf.gz), or delete the stale index",
            )

    def _choose_dialect(self, header_text: str, caller: str | None) -> str:
        if caller is None or caller == "":
            return detect_dialect(header_text, self._fields)
        dialect = CALLER_ALIASES.get(caller.strip().lower().replace("-", "_"))
        if dialect is None:
            raise InputError(
                self.path,
                f"unknown caller {caller!r}",
                f"set caller to one of {', '.join(DIALECTS)} (or leave it empty to detect)",
            )
        return dialect

    def _choose_sample(self, header_text: str, sample: str | None) -> str | None:
        columns = ", ".join(self.samples) if self.samples else "none"
        if sample is not None and sample != "":
            if sample not in self.samples:
                raise InputError(
                    self.path,
                    f"sample column {sample!r} not found (columns: {columns})",
                    "set vcf_sample in the sample sheet to one of the columns",
                )
            return sample
        if not self.samples:
            return None
        if len(self.samples) == 1:
            return self.samples[0]
        tumour = _tumour_from_header(header_text, self.samples, self.dialect)
        if tumour is not None:
            return tumour
        raise InputError(
            self.path,
            f"{len(self.samples)} sample columns ({columns}) and nothing in the header says "
            "which is the tumour",
            "set vcf_sample in the sample sheet to the plasma sample's column",
        )

    def _detect_contig_style(self) -> str:
        names = self._seqnames
        if not names:
            # No ##contig lines and no index: look at the first record with a throwaway reader.
            try:
                probe = cyvcf2.VCF(self.path)
                first = next(iter(probe), None)
                names = [first.CHROM] if first is not None else []
                probe.close()
            except Exception:
                names = []
        return "chr" if any(name.lower().startswith("chr") for name in names) else "nochr"

    # -- iteration ------------------------------------------------------------------------------

    def _index_path(self) -> str | None:
        for suffix in (".tbi", ".csi"):
            if os.path.exists(self.path + suffix):
                return self.path + suffix
        return None

    def _file_contig(self, contig: str) -> str | None:
        by_normalised = {normalise_contig(name): name for name in self._seqnames}
        wanted = normalise_contig(contig)
        if by_normalised:
            return by_normalised.get(wanted)
        if self.contig_style == "chr":
            return "chrM" if wanted == "MT" else f"chr{wanted}"
        return wanted

    def _merged_regions(self) -> list[tuple[str, int, int]]:
        """Requested regions in the file's contig names, merged and in file order."""
        order = {name: index for index, name in enumerate(self._seqnames)}
        by_contig: dict[str, list[tuple[int, int]]] = {}
        for contig, start, end in self._regions or []:
            name = self._file_contig(str(contig))
            if name is None:
                continue
            by_contig.setdefault(name, []).append((int(start), int(end)))
        return [
            (name, start, end)
            for name in sorted(by_contig, key=lambda n: (order.get(n, len(order)), n))
            for start, end in merge_spans(by_contig[name])
        ]

    def _variants(self) -> Iterator[tuple[int, cyvcf2.Variant]]:
        """(record_no, variant) of each record to yield, in the read mode chosen."""
        if self.read_mode == "regions_index":
            yield from self._region_variants()
            return
        if self.read_mode == "regions_scan":
            yield from self._scanned_variants()
            return
        iterator = iter(self._vcf)
        while True:
            try:
                variant = next(iterator)
            except StopIteration:
                return
            except Exception as error:
                raise self._parse_error(error) from None
            if _is_blank_line(variant):
                self.blank_lines += 1
                continue
            self.records_read += 1
            yield self.records_read, variant

    def _parse_error(self, error: Exception) -> InputError:
        """htslib refused the next data line: name its line number in a text VCF."""
        record_no = self.records_read + 1
        header_lines = _text_header_lines(self.path)
        where = f"data record {record_no}"
        if header_lines is not None:
            where += f" (line {header_lines + self.blank_lines + record_no} of the file)"
        line_no = header_lines + self.blank_lines + record_no if header_lines else None
        return _wrap_htslib_error(self.path, error, record_no, where, line_no, self._fields.types)

    def _region_variants(self) -> Iterator:
        done: list[tuple[str, int, int]] = []
        for contig, start, end in self._merged_regions():
            try:
                with warnings.catch_warnings():
                    # cyvcf2 warns "no intervals found" for a panel gene without records: expected
                    warnings.filterwarnings("ignore", message="no intervals found")
                    iterator = iter(self._vcf(f"{contig}:{start}-{end}"))
                    variants = list(iterator)
                for variant in variants:
                    if _is_blank_line(variant):
                        self.blank_lines += 1
                        continue
                    # A long record can overlap two merged regions; it was read with the first.
                    if any(
                        name == contig and variant.start < done_end and variant.end >= done_start
                        for name, done_start, done_end in done
                    ):
                        continue
                    self.records_read += 1
                    yield self.records_read, variant
            except InputError:
                raise
            except Exception as error:
                where = f"record {self.records_read + 1} of the panel regions"
                raise _wrap_htslib_error(self.path, error, None, where) from None
            done.append((contig, start, end))

    def _scanned_variants(self) -> Iterator[tuple[int, cyvcf2.Variant]]:
        """Region records of a text VCF without an index: scan the lines, parse only the kept.

        The header and the overlapping lines go to a small VCF in a temporary folder; cyvcf2
        parses that, and each record keeps the ordinal of its line in the original file.
        """
        with tempfile.TemporaryDirectory(prefix="ctdna-vcf-regions-") as folder:
            subset = os.path.join(folder, "regions.vcf")
            numbers_path = os.path.join(folder, "record_numbers.bin")
            try:
                with (
                    open(subset, "wb", buffering=1 << 20) as out,
                    open(numbers_path, "wb") as numbers,
                ):
                    scan = write_region_lines(self.path, out, self._merged_regions(), numbers)
            except (EOFError, OSError, zlib.error) as error:
                raise InputError(
                    self.path,
                    f"the file cannot be read to its end ({str(error).strip() or 'damaged'})",
                    "re-copy the file, or re-compress it (bgzip -t checks it)",
                ) from None
            self.lines_scanned = scan.data_lines
            self.blank_lines = scan.blank_lines
            if not scan.kept:
                return
            vcf = cyvcf2.VCF(subset)
            try:
                iterator = iter(vcf)
                with open(numbers_path, "rb") as numbers:
                    for record_no, line_no in kept_numbers(numbers):
                        try:
                            variant = next(iterator)
                        except StopIteration:
                            return
                        except Exception as error:
                            where = f"data record {record_no} (line {line_no} of the file)"
                            raise _wrap_htslib_error(
                                self.path, error, record_no, where, line_no, self._fields.types
                            ) from None
                        if _is_blank_line(variant):  # e.g. an empty REF, as in a whole-file read
                            self.blank_lines += 1
                            continue
                        self.records_read += 1
                        yield record_no, variant
            finally:
                vcf.close()

    def __iter__(self) -> Iterator[VariantRecord]:
        first = None  # (record_no, detail) of the first record that contradicts itself
        for record_no, variant in self._variants():
            try:
                # cyvcf2 decodes a record's strings as UTF-8 when they are asked for
                records = list(self._split(variant, record_no))
            except UnicodeDecodeError:
                raise InputError(
                    self.path,
                    "the record holds bytes that are not UTF-8 text",
                    "fix or drop that record (iconv -f utf-8 -t utf-8 shows where)",
                    record=f"data record {record_no}",
                ) from None
            detail = next((r.inconsistency for r in records if r.inconsistency), None)
            if detail is not None:
                self.inconsistent_records += 1
                first = first or (record_no, detail)
            yield from records
        if refuses_file(self.records_read, self.inconsistent_records):
            raise InputError(
                self.path,
                f"{self.inconsistent_records} of {self.records_read} records contradict "
                f"themselves (first: data record {first[0]}: {first[1]})",
                f"check that the file is {self.dialect} output as written by the caller (or set "
                "`caller` in the sample sheet), and re-run the caller if it was altered",
            )

    def _split(self, variant, record_no: int) -> Iterator[VariantRecord]:
        ref = variant.REF
        alts = list(variant.ALT) or ["."]
        n_alts = len(alts)
        filters = tuple(
            name for name in (variant.FILTER or "").split(";") if name and name not in ("PASS", ".")
        )
        if alts == ["."]:
            counts = None
        else:
            counts = count_alleles(self.dialect, variant, n_alts, self._context)
        annotations: list[list[Annotation]] = [[] for _ in alts]
        for field in self._annotation_fields:
            value = variant.INFO.get(field.key)
            if isinstance(value, str) and value:
                for index, found in enumerate(field.per_allele(value, ref, alts)):
                    annotations[index].extend(found)
        raw_chrom = variant.CHROM
        for index, alt in enumerate(alts):
            allele_counts = counts[index] if counts is not None else None
            problem = _allele_problem(ref, alt)
            # a not-a-small-variant ALT is unreadable whatever its counts say; else a
            # contradiction is named before what the dialect could not count from it
            inconsistency = None
            if problem is None and allele_counts is not None:
                inconsistency = allele_counts.inconsistency
                problem = None if inconsistency else allele_counts.problem
            if problem is None and inconsistency is None:
                problem = self._position_problem(raw_chrom, variant.POS)
            yield VariantRecord(
                source=self.path,
                record_no=record_no,
                chrom=normalise_contig(raw_chrom),
                raw_chrom=raw_chrom,
                pos=variant.POS,
                ref=ref,
                alt=alt,
                alt_index=index + 1,
                n_alts=n_alts,
                filters=filters,
                depth=None if allele_counts is None else allele_counts.depth,
                alt_reads=None if allele_counts is None else allele_counts.alt_reads,
                vaf=None if allele_counts is None else allele_counts.vaf,
                caller=self.dialect,
                vcf_id=variant.ID or "",
                annotations=tuple(annotations[index]),
                problem=problem,
                inconsistency=inconsistency,
            )

    def _position_problem(self, raw_chrom: str, pos: int) -> str | None:
        length = self._contig_lengths.get(normalise_contig(raw_chrom))
        if length is not None and pos > length:
            build = self.build or "the run's genome_build"
            return f"position {pos} is beyond the end of {raw_chrom} in {build} ({length} bp)"
        return None

    # -- context manager ------------------------------------------------------------------------

    @property
    def undeclared_fields(self) -> list[str]:
        """FORMAT keys read although the header does not declare them (e.g. Strelka TAR/TIR)."""
        return sorted(f"FORMAT/{key}" for key in self._context.undeclared)

    def close(self) -> None:
        """Release the htslib handle."""
        vcf = getattr(self, "_vcf", None)
        if vcf is not None:
            vcf.close()
            self._vcf = None

    def __enter__(self) -> VcfReader:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def __repr__(self) -> str:
        return (
            f"VcfReader({Path(self.path).name!r}, dialect={self.dialect!r}, "
            f"sample={self.sample!r}, build={self.build!r})"
        )


def open_vcf(
    path: str | os.PathLike,
    *,
    sample: str | None = None,
    caller: str | None = None,
    expected_build: str | None = None,
    regions: list[tuple[str, int, int]] | None = None,
) -> VcfReader:
    """Open a small-variant VCF/BCF: detect dialect, sample column and build; refuse bad files.

    Raises InputError (one line naming the file) for a missing or non-VCF file, a file with nothing
    to count, an unknown `caller`, an absent or ambiguous sample column, or a build other than
    `expected_build`. Use it as a context manager and iterate it for `VariantRecord`s.
    """
    return VcfReader(
        path, sample=sample, caller=caller, expected_build=expected_build, regions=regions
    )
