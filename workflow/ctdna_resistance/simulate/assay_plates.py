"""Simulated ddPCR plates (issue 17): one QuantaSoft results export per assayed draw.

A plate holds, per target (a mutant FAM probe and a wild-type HEX probe in one well), the
draw's sample well, a wild-type-only control well (genomic DNA without the mutation) and a
no-template control (NTC) well, as labs run them. Molecules fall into droplets at random:
the well's genome copies C (cfDNA input) split into mutant copies Poisson(C f) and wild-type
copies Poisson(C (1 - f)) at the draw's true fraction f (= the allele's true VAF, TF x CCF / 2),
plus false-positive mutant copies Poisson(epsilon x wild-type copies) (probe cross-reactivity);
each copy lands in one of the accepted droplets uniformly, and a droplet is positive in a
channel when it holds a copy of that channel's target. The export is written in the layout of
QuantaSoft up to 1.7 (the header of tests/formats/data/ddpcr/quantasoft_small.csv, daattali/ddpcr
inst/sample_data/small/small.csv): one row per well and channel, channel 1 rows first, with
Concentration (copies/uL at 0.85 nL droplets) and FractionalAbundance (percent) as QuantaSoft
computes them from the droplet counts; its Poisson/Total confidence columns are left empty.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

DROPLET_VOLUME_NL = 0.85  # QX200 droplets, as QuantaSoft computes concentration
ACCEPTED_DROPLETS = (12000, 18000)  # accepted droplets per well (QX200: typically 10k-18k)
INPUT_COPIES = (3000, 8000)  # genome copies per sample well (about 10-25 ng of cfDNA)
CONTROL_COPIES = 5000  # wild-type gDNA copies in the wild-type control well
FALSE_POSITIVE_RATE = 2e-5  # false-positive mutant copies per wild-type copy
EXPERIMENT = "Absolute Quantification"

_HEADER_TEXT = (
    "Well,ExptType,Experiment,Sample,TypeAssay,Assay,Status,Concentration,TotalConfMax,"
    "TotalConfMin,PoissonConfMax,PoissonConfMin,Positives,Negatives,Ch1+Ch2+,Ch1+Ch2-,Ch1-Ch2+,"
    "Ch1-Ch2-,Linkage,AcceptedDroplets,CNV,TotalCNVMax,TotalCNVMin,PoissonCNVMax,PoissonCNVMin,"
    "ReferenceCopies,UnknownCopies,Ratio,TotalRatioMax,TotalRatioMin,PoissonRatioMax,"
    "PoissonRatioMin,FractionalAbundance,TotalFractionalAbundanceMax,TotalFractionalAbundanceMin,"
    "PoissonFractionalAbundanceMax,PoissonFractionalAbundanceMin,ReferenceAssayNumber,"
    "TargetAssayNumber,MeanAmplitudeofPositives,MeanAmplitudeofNegatives,MeanAmplitudeTotal,"
    "ExperimentComments,MergedWells"
)
HEADER = _HEADER_TEXT.split(",")  # the header line as the real export spells it


@dataclass(frozen=True, slots=True)
class Well:
    """One well's droplet counts (both channels) and the truth behind them."""

    well: str
    sample: str
    target: str  # channel 1 (FAM): the mutant assay
    wildtype_target: str  # channel 2 (HEX)
    role: str  # sample | wildtype_control | ntc
    true_fraction: float
    input_copies: int  # expected genome copies loaded
    mutant_copies: int  # drawn, false positives included
    wildtype_copies: int
    false_positive_copies: int
    accepted: int
    both: int  # Ch1+Ch2+
    mutant_only: int  # Ch1+Ch2-
    wildtype_only: int  # Ch1-Ch2+

    @property
    def mutant_positives(self) -> int:
        return self.both + self.mutant_only

    @property
    def wildtype_positives(self) -> int:
        return self.both + self.wildtype_only


def _fill_well(
    rng: np.random.Generator, well: str, sample: str, target: str, wildtype_target: str,
    role: str, fraction: float, copies: int,
) -> Well:  # fmt: skip
    accepted = int(rng.integers(*ACCEPTED_DROPLETS, endpoint=True))
    true_mutant = int(rng.poisson(copies * fraction))
    wildtype = int(rng.poisson(copies * (1 - fraction)))
    false_positive = int(rng.poisson(FALSE_POSITIVE_RATE * wildtype))
    mutant = true_mutant + false_positive
    mutant_hit = np.zeros(accepted, dtype=bool)
    mutant_hit[rng.integers(0, accepted, size=mutant)] = True
    wildtype_hit = np.zeros(accepted, dtype=bool)
    wildtype_hit[rng.integers(0, accepted, size=wildtype)] = True
    return Well(
        well, sample, target, wildtype_target, role, fraction, copies, mutant, wildtype,
        false_positive, accepted, int(np.sum(mutant_hit & wildtype_hit)),
        int(np.sum(mutant_hit & ~wildtype_hit)), int(np.sum(~mutant_hit & wildtype_hit)),
    )  # fmt: skip


def simulate_plate(
    rng: np.random.Generator, sample: str, targets: list[tuple[str, str, float]]
) -> list[Well]:
    """The plate of one draw: per (mutant target, wild-type target, true fraction), a sample
    well (row A), a wild-type control (row G) and an NTC (row H) in the target's column."""
    wells = []
    for column, (target, wildtype_target, fraction) in enumerate(targets, start=1):
        copies = int(rng.integers(*INPUT_COPIES, endpoint=True))
        for row, name, role, share, loaded in (
            ("A", sample, "sample", fraction, copies),
            ("G", "WT control", "wildtype_control", 0.0, CONTROL_COPIES),
            ("H", "NTC", "ntc", 0.0, 0),
        ):
            wells.append(
                _fill_well(
                    rng, f"{row}{column:02d}", name, target, wildtype_target, role, share, loaded
                )
            )
    return sorted(wells, key=lambda w: (w.well[1:], w.well[0]))


def _sig3(value: float) -> str:
    """QuantaSoft's number format: three significant figures, no trailing zeros."""
    if value == 0:
        return "0"
    text = f"{value:.3g}"
    return str(int(float(text))) if "e" in text else text


def _concentration(positives: int, accepted: int) -> float:
    copies = -math.log((accepted - positives) / accepted)
    return copies / (DROPLET_VOLUME_NL * 1e-3)


def render_quantasoft(wells: list[Well]) -> str:
    """The plate as a QuantaSoft (up to 1.7) results CSV: channel 1 rows, then channel 2 rows."""
    lines = [",".join(HEADER)]
    for channel in (1, 2):
        for w in wells:
            positives = w.mutant_positives if channel == 1 else w.wildtype_positives
            mutant_conc = _concentration(w.mutant_positives, w.accepted)
            wildtype_conc = _concentration(w.wildtype_positives, w.accepted)
            total = mutant_conc + wildtype_conc
            fraction = _sig3(100 * mutant_conc / total) if total > 0 else ""
            row = dict.fromkeys(HEADER, "")
            row.update(
                {
                    "Well": f'"{w.well}"',
                    "ExptType": EXPERIMENT,
                    "Experiment": '""',
                    "Sample": f'"{w.sample}"',
                    "TypeAssay": f"Ch{channel}Unknown",
                    "Assay": f'"{w.target if channel == 1 else w.wildtype_target}"',
                    "Status": '"Manual"',
                    "Concentration": _sig3(mutant_conc if channel == 1 else wildtype_conc),
                    "Positives": str(positives),
                    "Negatives": str(w.accepted - positives),
                    "Ch1+Ch2+": str(w.both),
                    "Ch1+Ch2-": str(w.mutant_only),
                    "Ch1-Ch2+": str(w.wildtype_only),
                    "Ch1-Ch2-": str(w.accepted - w.both - w.mutant_only - w.wildtype_only),
                    "AcceptedDroplets": str(w.accepted),
                    "FractionalAbundance": fraction,
                    "ReferenceAssayNumber": "1",
                    "TargetAssayNumber": "1",
                    "ExperimentComments": '""',
                }
            )
            lines.append(",".join(row[column] for column in HEADER))
    return "\n".join(lines) + "\n"


def expected_status(well: Well) -> str:
    """What the draw should show for the target, from the truth alone: ``detected`` when the
    expected mutant copies in the well are >= 15 (Poisson(15) falls below the few positive
    droplets a detection needs with probability < 1e-3), ``not_detected`` when the allele is
    absent, ``either`` in between."""
    if well.true_fraction <= 0:
        return "not_detected"
    return "detected" if well.input_copies * well.true_fraction >= 15 else "either"
