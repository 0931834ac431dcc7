"""Structural-variant VCF reader: Manta, DRAGEN, Delly, GRIDSS (and ESVEE), SvABA into `SvEvent`s.

Reads the text itself (plain or gzip/bgzip) rather than through htslib, because real SV VCFs break
htslib's assumptions: Manta candidate rows with fewer columns than the header, GRIDSS single
breakends, INFO values longer than a line buffer. Every data line is accounted for:

* a BND record and its mate (paired by MATEID, GRIDSS PARID, or an EVENT shared by exactly two
  records without a MATEID) become ONE event carrying the first mate's ``record_no``;
* a record whose mate is missing becomes an event with ``problem`` set ('mate ... not found');
* every other record (DEL/DUP/INV/INS/CNV, Delly TRA and one-line BND, GRIDSS single breakends,
  malformed rows) becomes one event of its own; single breakends get ``problem='single breakend'``
  and ``b == a``.

So ``records_read == 2 * (events built from a mate pair) + (all other events)``;
`SvReadResult.event_records` lists the data lines behind each event to make that checkable.

Breakend strand follows the VCF breakend notation: '+' when the retained sequence lies at and
before the position (the join is on its right, ``t[p[`` / ``t]p]``), '-' when it lies at and after
it (``]p]t`` / ``[p[t``); '' when the record does not say (Manta <INV> without INV3/INV5).

File-level trouble raises `InputError` (one line naming the file and what to do).
"""

from __future__ import annotations

import gzip
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from ctdna_resistance.errors import InputError
from ctdna_resistance.genome import CONTIG_LENGTHS
from ctdna_resistance.io.vcf import detect_build
from ctdna_resistance.records import BUILDS, SvBreakend, SvEvent, normalise_contig

__all__ = ["CALLERS", "SvReadResult", "detect_sv_caller", "read_sv_vcf"]

CALLERS = ("manta", "delly", "gridss", "svaba", "dragen", "generic")
_CALLER_ALIASES = {"manta": "manta", "dragen": "dragen", "delly": "delly", "delly2": "delly",
                   "gridss": "gridss", "esvee": "gridss", "purple": "gridss", "gripss": "gridss",
                   "svaba": "svaba", "generic": "generic"}  # fmt: skip
_BUILD_ALIASES = {"grch38": "GRCh38", "hg38": "GRCh38", "grch37": "GRCh37", "hg19": "GRCh37",
                  "b37": "GRCh37"}  # fmt: skip
# The breakend partner inside the brackets may itself contain ':' (HLA contigs): take the last one.
_BND_ALT = re.compile(r"^([^\[\]]*)([\[\]])(.+):(\d+)\2([^\[\]]*)$")
_TUMOUR_NAMES = ("TUMOR", "TUMOUR")


@dataclass
class SvReadResult:
    """What `read_sv_vcf` made of one file.

    ``event_records[i]`` holds the 1-based data lines behind ``events[i]`` (two for a mate pair),
    so that ``sorted(all of them) == 1..records_read``.
    """

    path: str
    caller: str
    sample: str | None
    build: str | None
    records_read: int
    events: list[SvEvent] = field(default_factory=list)
    event_records: list[tuple[int, ...]] = field(default_factory=list)

    @property
    def problems(self) -> list[SvEvent]:
        """Events the reader could not make whole (unpaired mates, single breakends, bad rows)."""
        return [event for event in self.events if event.problem is not None]


@dataclass
class _Header:
    lines: list[str]
    columns: list[str]
    info_ids: set[str]
    format_ids: set[str]

    @property
    def text(self) -> str:
        return "\n".join(self.lines)

    @property
    def samples(self) -> list[str]:
        return self.columns[9:]

    def meta(self, key: str) -> list[str]:
        prefix = f"##{key}="
        return [line[len(prefix) :] for line in self.lines if line.startswith(prefix)]


@dataclass
class _Record:
    record_no: int
    chrom: str
    pos: int
    vcf_id: str
    ref: str
    alt: str
    filters: tuple[str, ...]
    info: dict[str, str]
    sample: dict[str, str] | None  # the chosen sample's FORMAT values
    problem: str | None = None


def _open_text(path: str):
    with open(path, "rb") as handle:
        magic = handle.read(2)
    if magic == b"\x1f\x8b":
        return gzip.open(path, "rt", encoding="utf-8", errors="replace")
    return open(path, encoding="utf-8", errors="replace")


def _header_ids(lines: list[str], kind: str) -> set[str]:
    ids = set()
    for line in lines:
        if line.startswith(f"##{kind}=<"):
            match = re.search(r"ID=([^,>]+)", line)
            if match:
                ids.add(match.group(1))
    return ids


def detect_sv_caller(header_text: str, info_ids: set[str], format_ids: set[str]) -> str | None:
    """The SV caller that wrote a VCF header, or 'generic' for SV VCFs of unknown origin.

    None when nothing in the header marks an SV VCF (the records decide then).
    """
    lowered = header_text.lower()
    if "##source=dragen" in lowered or "##dragenversion" in lowered:
        return "dragen"
    if "##source=generatesvcandidates" in lowered:
        return "manta"
    if "##source=svaba" in lowered or {"SCTG", "EVDNC"} <= info_ids:
        return "svaba"
    if (
        "##gridssversion" in lowered
        or "##esveeversion" in lowered
        or {"VF", "REFPAIR"} <= format_ids
        or {"VF", "REFPAIR"} <= info_ids
    ):
        return "gridss"
    if "SVMETHOD" in info_ids or {"DV", "RV", "DR", "RR"} <= format_ids:
        return "delly"
    if "SVTYPE" in info_ids:
        return "generic"
    return None


def _int(value: str | None) -> int | None:
    if value is None or value in ("", "."):
        return None
    try:
        return int(float(value))
    except ValueError:
        return None


def _pair(value: str | None) -> tuple[int | None, int | None]:
    """A Manta 'ref,alt' pair."""
    if value is None:
        return None, None
    parts = value.split(",")
    if len(parts) != 2:
        return None, None
    return _int(parts[0]), _int(parts[1])


def _add(*values: int | None) -> int | None:
    present = [value for value in values if value is not None]
    return sum(present) if present else None


def _support(caller: str, record: _Record, single: bool) -> tuple[int | None, ...]:
    """(split_reads, spanning_reads, ref_reads) of the chosen sample, as the caller counts them."""
    fmt = record.sample or {}
    if caller in ("manta", "dragen", "generic") and ("PR" in fmt or "SR" in fmt):
        pr_ref, pr_alt = _pair(fmt.get("PR"))
        sr_ref, sr_alt = _pair(fmt.get("SR"))
        return sr_alt, pr_alt, _add(pr_ref, sr_ref)
    if caller == "delly" or (caller == "generic" and "DV" in fmt):
        return (
            _int(fmt.get("RV")),
            _int(fmt.get("DV")),
            _add(_int(fmt.get("RR")), _int(fmt.get("DR"))),
        )
    if caller == "svaba":
        alt, depth = _int(fmt.get("AD")), _int(fmt.get("DP"))
        ref = None if alt is None or depth is None else max(depth - alt, 0)
        return _int(fmt.get("SR")), _int(fmt.get("DR")), ref
    if caller == "gridss":
        values = fmt if fmt else record.info  # sites-only GRIDSS: INFO holds the totals
        ref = _add(_int(values.get("REF")), _int(values.get("REFPAIR")))
        if "SF" in values and "RP" not in values:  # ESVEE: split and discordant fragments
            return _int(values.get("SF")), _int(values.get("DF")), ref
        # GRIDSS counts most support as assembled fragments (VF), not as SR/RP reads: split
        # support is taken as the variant fragments that are not discordant pairs, so that
        # split + spanning == VF (BVF/BUM for single breakends) and the VAF is GRIDSS's own.
        total_key, pair_key = ("BVF", "BUM") if single else ("VF", "RP")
        total, pairs = _int(values.get(total_key)), _int(values.get(pair_key))
        if total is None:
            return _int(values.get("SR")), _int(values.get("RP")), ref
        pairs = min(pairs or 0, total)
        return total - pairs, pairs, ref
    return None, None, None


class _SvVcf:
    def __init__(self, path, sample, caller, expected_build):
        self.path = str(path)
        if not os.path.exists(self.path):
            raise InputError(
                self.path, "file not found", "check the sv_vcf path in the sample sheet"
            )
        if not os.path.isfile(self.path):
            raise InputError(self.path, "not a readable file", "give the path of an SV VCF")
        self.expected_build = self._expected(expected_build)
        self.requested_sample = sample or None
        self.requested_caller = caller or None

    @staticmethod
    def _expected(expected_build: str | None) -> str | None:
        if expected_build is None:
            return None
        expected = _BUILD_ALIASES.get(expected_build.lower(), expected_build)
        if expected not in BUILDS:
            raise InputError(None, f"unknown genome build {expected_build!r}",
                             f"use one of {', '.join(BUILDS)}")  # fmt: skip
        return expected

    # -- reading ------------------------------------------------------------------------------

    def read(self) -> SvReadResult:
        try:
            with _open_text(self.path) as handle:
                header = self._header(handle)
                self._setup(header)
                records = self._records(handle, header)
        except (OSError, EOFError, gzip.BadGzipFile) as error:
            raise InputError(
                self.path,
                f"cannot read the file ({error})".replace("\n", " "),
                "check that it is a complete VCF or bgzipped VCF (gzip -t)",
            ) from None
        self._check_records(records)
        events, event_records = self._events(records)
        return SvReadResult(
            path=self.path,
            caller=self.caller,
            sample=self.sample,
            build=self.build,
            records_read=len(records),
            events=events,
            event_records=event_records,
        )

    def _header(self, handle) -> _Header:
        lines: list[str] = []
        first = True
        for raw in handle:
            line = raw.rstrip("\r\n")
            if first and not line.startswith("##fileformat=VCF"):
                raise InputError(self.path, "no ##fileformat=VCF line: not a VCF",
                                 "give the caller's SV VCF (plain or bgzipped)")  # fmt: skip
            first = False
            if line.startswith("##"):
                lines.append(line)
                continue
            if line.startswith("#CHROM"):
                columns = line[1:].split("\t")
                return _Header(lines, columns, _header_ids(lines, "INFO"),
                               _header_ids(lines, "FORMAT"))  # fmt: skip
            break
        raise InputError(self.path, "no #CHROM header line: not a VCF",
                         "give the caller's SV VCF (plain or bgzipped)")  # fmt: skip

    def _setup(self, header: _Header) -> None:
        text = header.text
        if self.requested_caller:
            caller = _CALLER_ALIASES.get(self.requested_caller.strip().lower())
            if caller is None:
                raise InputError(self.path, f"unknown SV caller {self.requested_caller!r}",
                                 f"set sv_caller to one of {', '.join(CALLERS)}")  # fmt: skip
            self.caller = caller
        else:
            self.caller = detect_sv_caller(text, header.info_ids, header.format_ids)
        if self.caller == "manta" and "SOMATIC" not in header.info_ids and "--tumorBam" in text:
            raise InputError(
                self.path,
                "Manta diploidSV VCF (germline calls of the normal of a tumour/normal run)",
                "give Manta's somaticSV.vcf.gz (or tumorSV.vcf.gz for tumour-only runs)",
            )
        self.build = detect_build(text)
        if self.expected_build and self.build and self.build != self.expected_build:
            raise InputError(
                self.path,
                f"header says {self.build} but genome_build is {self.expected_build}",
                f"give SV calls made against {self.expected_build} (or lift them over)",
            )
        self.sample = self._choose_sample(header)
        self._sample_column = None if self.sample is None else 9 + header.samples.index(self.sample)

    def _choose_sample(self, header: _Header) -> str | None:
        samples = header.samples
        columns = ", ".join(samples) if samples else "none"
        if self.requested_sample:
            if self.requested_sample not in samples:
                raise InputError(
                    self.path,
                    f"sample column {self.requested_sample!r} not found (columns: {columns})",
                    "set sv_sample in the sample sheet to one of the columns",
                )
            return self.requested_sample
        if len(samples) <= 1:
            return samples[0] if samples else None
        for value in header.meta("tumor_sample") + header.meta("tumour_sample"):
            if value.strip() in samples:
                return value.strip()
        literal = [name for name in samples if name.upper() in _TUMOUR_NAMES]
        if len(literal) == 1:
            return literal[0]
        if (
            self.caller in ("manta", "dragen")
            and "SOMATIC" in header.info_ids
            and len(samples) == 2
        ):
            return samples[1]  # Manta's somatic VCF writes the normal column first, then the tumour
        if self.caller == "svaba":
            for source in header.meta("source"):
                match = re.search(r"\s-t\s+(\S+)", source)
                if match and match.group(1) in samples:
                    return match.group(1)
        raise InputError(
            self.path,
            f"{len(samples)} sample columns ({columns}) and nothing in the header says which is "
            "the tumour",
            "set sv_sample in the sample sheet to the plasma sample's column",
        )

    def _records(self, handle, header: _Header) -> list[_Record]:
        records: list[_Record] = []
        n_columns = len(header.columns)
        # the '##' lines and the #CHROM line came first: line numbers of the file, for messages
        for line_no, raw in enumerate(handle, start=len(header.lines) + 2):
            line = raw.rstrip("\r\n")
            if not line.strip() or line.startswith("#"):
                continue
            record_no = len(records) + 1
            where = f"data record {record_no} (line {line_no} of the file)"
            fields = line.split("\t")
            if len(fields) < 8:
                raise InputError(self.path,
                                 f"{where} has {len(fields)} columns where a record has 8 or more",
                                 "check that the file is tab-separated and complete (not cut "
                                 "short)", record=record_no)  # fmt: skip
            try:
                pos = int(fields[1])
            except ValueError:
                raise InputError(self.path, f"{where}: POS {fields[1]!r} is not a number",
                                 "check that the file is a VCF and complete",
                                 record=record_no) from None  # fmt: skip
            info: dict[str, str] = {}
            for item in fields[7].split(";"):
                if item and item != ".":
                    key, _, value = item.partition("=")
                    info[key] = value
            problem = None
            sample_values = None
            if len(fields) != n_columns:
                problem = f"record has {len(fields)} columns, the header {n_columns}"
            elif self._sample_column is not None:
                keys = fields[8].split(":")
                values = fields[self._sample_column].split(":")
                sample_values = dict(zip(keys, values, strict=False))
            filters = tuple(
                name for name in fields[6].split(";") if name and name not in ("PASS", ".")
            )
            records.append(
                _Record(record_no, fields[0], pos, fields[2], fields[3], fields[4], filters, info,
                        sample_values, problem)
            )  # fmt: skip
        return records

    def _check_records(self, records: list[_Record]) -> None:
        if records and not any(
            "SVTYPE" in r.info or r.alt.startswith("<") or "[" in r.alt or "]" in r.alt
            for r in records
        ):
            raise InputError(
                self.path,
                "no record has SVTYPE, a symbolic or a breakend ALT: not an SV VCF",
                "give the caller's structural-variant VCF here (small variants go in `vcf`)",
            )
        if self.caller is None:
            self.caller = "generic"
        if records and all(r.info.get("SVTYPE") == "CNV" for r in records):
            raise InputError(
                self.path,
                "every record is SVTYPE=CNV: a copy-number VCF, not structural variants",
                "give the caller's SV VCF here (DRAGEN: *.sv.vcf.gz) and copy number to the "
                "copy-number input",
            )
        if self.expected_build and self.build is None:
            # No contig lines: a position past the end of a chromosome still tells the build.
            lengths = CONTIG_LENGTHS[self.expected_build]
            for record in records:
                chrom = normalise_contig(record.chrom)
                end = _int(record.info.get("END"))
                for position in (record.pos, end or 0):
                    if chrom in lengths and position > lengths[chrom]:
                        raise InputError(
                            self.path,
                            f"position {record.chrom}:{position} lies past the end of "
                            f"{self.expected_build} chromosome {chrom}: not {self.expected_build}",
                            f"give SV calls made against {self.expected_build}",
                            record=record.record_no,
                        )

    # -- events -------------------------------------------------------------------------------

    def _events(self, records: list[_Record]) -> tuple[list[SvEvent], list[tuple[int, ...]]]:
        by_id: dict[str, _Record] = {}
        for record in records:
            if record.vcf_id not in ("", "."):
                by_id.setdefault(record.vcf_id, record)
        by_event: dict[str, list[_Record]] = {}
        for record in records:
            if "EVENT" in record.info and not _mate_ids(record):
                by_event.setdefault(record.info["EVENT"], []).append(record)
        # Records naming a mate: a breakend that lost its own MATEID (a filter that rewrote
        # INFO) is still found from the mate that points to it, rather than counted twice.
        pointed_by: dict[str, list[_Record]] = {}
        for record in records:
            for mate_id in _mate_ids(record):
                pointed_by.setdefault(mate_id, []).append(record)
        used: set[int] = set()
        built: list[tuple[SvEvent, tuple[int, ...]]] = []
        for record in records:
            if record.record_no in used:
                continue
            used.add(record.record_no)
            if record.problem is None and _bnd(record.alt) is not None:
                mate = self._find_mate(record, by_id, by_event, used, pointed_by)
                if mate is not None:
                    used.add(mate.record_no)
                    built.append(
                        (self._pair_event(record, mate), (record.record_no, mate.record_no))
                    )
                    continue
            built.append((self._single_event(record), (record.record_no,)))
        return [event for event, _ in built], [numbers for _, numbers in built]

    @staticmethod
    def _find_mate(record, by_id, by_event, used, pointed_by) -> _Record | None:
        for mate_id in _mate_ids(record):
            mate = by_id.get(mate_id)
            if mate is not None and mate.record_no not in used and _bnd(mate.alt) is not None:
                return mate
        if not _mate_ids(record) and record.vcf_id not in ("", "."):
            # only an unambiguous back-pointer: exactly one record names this one as its mate
            naming = [r for r in pointed_by.get(record.vcf_id, []) if r.record_no not in used]
            if len(naming) == 1 and naming[0].problem is None and _bnd(naming[0].alt) is not None:
                return naming[0]
        group = by_event.get(record.info.get("EVENT", ""), [])
        if not _mate_ids(record) and len(group) == 2:
            mate = group[1] if group[0] is record else group[0]
            if mate.record_no not in used and _bnd(mate.alt) is not None:
                return mate
        return None

    def _event_id(self, record: _Record) -> str:
        return record.vcf_id if record.vcf_id not in ("", ".") else f"record{record.record_no}"

    def _pair_event(self, first: _Record, second: _Record) -> SvEvent:
        split, spanning, ref = _support(self.caller, first, single=False)
        local = _bnd(first.alt)[0]
        return SvEvent(
            source=self.path,
            record_no=first.record_no,
            event_id=self._event_id(first),
            sv_type=first.info.get("SVTYPE", "BND") or "BND",
            a=SvBreakend(normalise_contig(first.chrom), first.pos, local),
            b=SvBreakend(normalise_contig(second.chrom), second.pos, _bnd(second.alt)[0]),
            filters=tuple(dict.fromkeys(first.filters + second.filters)),
            caller=self.caller,
            split_reads=split,
            spanning_reads=spanning,
            ref_reads=ref,
        )

    def _single_event(self, record: _Record) -> SvEvent:
        a_chrom = normalise_contig(record.chrom)
        sv_type = record.info.get("SVTYPE", "") or ""
        problem = record.problem
        strand_a = strand_b = ""
        b_chrom, b_pos = a_chrom, record.pos
        single = _single_breakend(record.alt) or sv_type == "SGL"
        bnd = _bnd(record.alt)
        if problem is not None:
            pass
        elif single:
            problem = "single breakend"
            strand_a = "-" if record.alt.startswith(".") else "+"
            strand_b = strand_a
            sv_type = sv_type or "BND"
        elif bnd is not None:
            strand_a, remote_chrom, b_pos, strand_b = bnd
            b_chrom = normalise_contig(remote_chrom)
            sv_type = sv_type or "BND"
            mates = _mate_ids(record)
            if mates:
                problem = f"mate {mates[0]} not found"
            elif "EVENT" in record.info:
                problem = f"no mate for EVENT {record.info['EVENT']}"
            # else a one-line breakend (Delly BND): both sides are in the ALT
        else:
            sv_type = sv_type or _symbolic_type(record.alt)
            end = _int(record.info.get("END"))
            chrom2 = record.info.get("CHR2")
            pos2 = _int(record.info.get("POS2"))
            if sv_type in ("TRA", "BND") and chrom2:
                b_chrom = normalise_contig(chrom2)
                b_pos = pos2 if pos2 is not None else (end or record.pos)
            else:
                b_pos = end if end is not None else record.pos
            strand_a, strand_b = _orientation(sv_type, record.info)
            if sv_type == "CNV":
                problem = "copy-number record (SVTYPE=CNV), not a rearrangement"
            elif not sv_type:
                problem = f"no SVTYPE and ALT {record.alt[:20]!r} is not symbolic or a breakend"
        split, spanning, ref = _support(self.caller, record, single=single)
        return SvEvent(
            source=self.path,
            record_no=record.record_no,
            event_id=self._event_id(record),
            sv_type=sv_type or "BND",
            a=SvBreakend(a_chrom, record.pos, strand_a),
            b=SvBreakend(b_chrom, b_pos, strand_b),
            filters=record.filters,
            caller=self.caller,
            split_reads=split,
            spanning_reads=spanning,
            ref_reads=ref,
            problem=problem,
        )


def _mate_ids(record: _Record) -> list[str]:
    value = record.info.get("MATEID") or record.info.get("PARID") or ""
    return [mate for mate in value.split(",") if mate and mate != "."]


def _bnd(alt: str) -> tuple[str, str, int, str] | None:
    """(local strand, remote contig, remote position, remote strand) of a breakend ALT."""
    match = _BND_ALT.match(alt)
    if match is None:
        return None
    before, bracket, contig, position, _after = match.groups()
    local = "+" if before else "-"
    remote = "-" if bracket == "[" else "+"
    return local, contig, int(position), remote


def _single_breakend(alt: str) -> bool:
    return len(alt) > 1 and (alt.startswith(".") or alt.endswith(".")) and _bnd(alt) is None


def _symbolic_type(alt: str) -> str:
    if alt.startswith("<") and alt.endswith(">"):
        return alt[1:-1].split(":")[0]
    return ""


def _orientation(sv_type: str, info: dict[str, str]) -> tuple[str, str]:
    connection = info.get("CT", "")  # Delly: 3to5 deletion-type, 5to3 duplication-type ...
    if connection in ("3to5", "5to3", "3to3", "5to5"):
        return ("+" if connection[0] == "3" else "-"), ("+" if connection[-1] == "3" else "-")
    if sv_type == "DEL":
        return "+", "-"
    if sv_type == "DUP":
        return "-", "+"
    if sv_type == "INV":
        if "INV3" in info:
            return "+", "+"
        if "INV5" in info:
            return "-", "-"
    return "", ""


def read_sv_vcf(
    path: str | os.PathLike,
    *,
    sample: str | None = None,
    caller: str | None = None,
    expected_build: str | None = None,
) -> SvReadResult:
    """Read an SV VCF (Manta, DRAGEN, Delly, GRIDSS/ESVEE, SvABA or generic) into `SvEvent`s.

    ``sample`` picks the tumour/plasma column (needed when the header does not tell); ``caller``
    overrides detection; ``expected_build`` refuses files made against the other build. Raises
    `InputError` for a missing file, a non-VCF, a small-variant or copy-number VCF, a Manta
    diploidSV file, an unknown caller, a missing or ambiguous sample column, or a build mismatch.
    """
    return _SvVcf(Path(path), sample, caller, expected_build).read()
