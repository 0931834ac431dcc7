"""The normalised record of a targeted-assay result (ddPCR, BEAMing; issue 17).

Every targeted-assay reader (io/quantasoft.py, io/targeted_assay.py) produces these, one per
well (or per row of a generic table) and target, with the counts of its mutant and wild-type
channels; partition_stats.py turns them into copies, fractional abundance and a detection call.
Kept apart from records.py (sequencing records) so that the two kinds of observation do not
share fields that mean different things (reads versus partitions).
"""

from __future__ import annotations

from dataclasses import dataclass

PLATFORMS = ("ddpcr", "beaming")
# What a well is on its plate: a patient's sample, or a control whose mutant channel tells the
# assay's false-positive rate (no-template control; wild-type-only DNA) or its sensitivity.
ROLES = ("sample", "ntc", "wildtype_control", "positive_control")


@dataclass(frozen=True, slots=True)
class AssayRecord:
    """One well (or one row of a generic table) of one target: mutant and wild-type counts.

    Partition-based results (ddPCR) give ``mutant_positives`` / ``wildtype_positives`` out of
    ``accepted_partitions``; copy-based ones (BEAMing beads, or a table of copies) give
    ``mutant_copies`` / ``wildtype_copies`` and no partitions. ``file_fraction`` and its interval
    are the fractional abundance the exporting software wrote (0-1), kept to check our own.
    """

    source: str
    record_no: int  # 1-based data line of the mutant channel's row, for messages
    sample: str  # the sample name as written in the file
    target: str  # the mutant assay's name as written in the file
    well: str
    platform: str  # one of PLATFORMS
    dialect: str  # the file layout (quantasoft, quantasoft_1.7.4, qx_manager, generic)
    role: str = "sample"  # one of ROLES
    gene: str = ""  # when the file names it apart from the target
    wildtype_target: str = ""
    mutant_positives: int | None = None
    wildtype_positives: int | None = None
    accepted_partitions: int | None = None
    mutant_copies: float | None = None
    wildtype_copies: float | None = None
    partition_volume_nl: float | None = None
    merged_wells: tuple[str, ...] = ()  # a merged row's constituent wells (QuantaSoft)
    file_fraction: float | None = None
    file_fraction_low: float | None = None
    file_fraction_high: float | None = None
    file_concentration: float | None = None  # mutant copies/uL as the file wrote it

    @property
    def has_partitions(self) -> bool:
        return self.accepted_partitions is not None and self.mutant_positives is not None
