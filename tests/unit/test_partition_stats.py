"""Partition statistics (issue 17) against simulated ddPCR plates: detection reaches the exact
Poisson power, LoD95 is where simulated plates are detected 95% of the time, the plate's own
controls set the blank."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ctdna_resistance.assay_records import AssayRecord
from ctdna_resistance.partition_stats import (
    Blank,
    copies_per_partition,
    detect_partitions,
    detection_power,
    lod95_partitions,
    measure,
    plate_blank,
)
from ctdna_resistance.stats import min_supported_alt_reads

N = 15000  # accepted droplets of a QX200 well
TOTAL = 0.2  # copies per droplet: 3,000 genome copies, a typical plasma ctDNA input
ALPHA = 0.01
MIN_POSITIVE = 2


def simulate_plate(rng, fraction, blank, n=N, total=TOTAL):
    """One well, droplet by droplet: mutant and wild-type molecules Poisson per droplet, false
    mutant signals from each wild-type molecule (epsilon) and per droplet (r)."""
    mutant = rng.poisson(fraction * total, n)
    wild = rng.poisson((1 - fraction) * total, n)
    false = rng.poisson(blank.per_wildtype_copy * wild + blank.per_partition)
    return AssayRecord(
        source="sim", record_no=1, sample="S", target="KRAS G12D", well="A01",
        platform="ddpcr", dialect="generic",
        mutant_positives=int(((mutant + false) > 0).sum()),
        wildtype_positives=int((wild > 0).sum()),
        accepted_partitions=n,
    )  # fmt: skip


def detected_share(rng, fraction, blank, plates):
    """Share of simulated plates detected: each plate's blank from its own wild-type channel,
    as measure() does (detect_partitions is measure's call without the fraction interval)."""
    calls = []
    for _ in range(plates):
        plate = simulate_plate(rng, fraction, blank)
        wild = -math.log((N - plate.wildtype_positives) / N)
        p0 = blank.partition_probability(wild)
        calls.append(detect_partitions(plate.mutant_positives, N, p0, ALPHA, MIN_POSITIVE)[1])
    return float(np.mean(calls))


@pytest.mark.parametrize("fraction", [0.0005, 0.001, 0.002, 0.004])
def test_simulated_plates_reach_the_exact_poisson_power(fraction):
    rng = np.random.default_rng(17)
    blank = Blank(1e-4, 2e-5, "test")
    p0 = -math.expm1(-(blank.per_wildtype_copy * TOTAL + blank.per_partition))
    k_min = min_supported_alt_reads(N, p0, ALPHA, MIN_POSITIVE)
    exact = detection_power(fraction, N, TOTAL, blank, k_min)
    simulated = detected_share(rng, fraction, blank, 600)
    assert abs(simulated - exact) <= 0.05, (fraction, simulated, exact)


def test_lod95_is_where_simulated_plates_are_detected_95_percent_of_the_time():
    rng = np.random.default_rng(1717)
    blank = Blank(1e-4, 0.0, "test")
    p0 = -math.expm1(-(blank.per_wildtype_copy * TOTAL))
    k_min = min_supported_alt_reads(N, p0, ALPHA, MIN_POSITIVE)
    predicted = lod95_partitions(N, k_min, TOTAL, blank)
    # the simulated truth: the fraction at which 95% of plates are detected, by bisection on
    # a grid of simulated detection rates (1,000 plates a point, common random numbers)
    fractions = np.linspace(0.3 * predicted, 2.0 * predicted, 18)
    shares = [detected_share(np.random.default_rng(5), f, blank, 1000) for f in fractions]
    above = next(i for i, s in enumerate(shares) if s >= 0.95)
    low, high = fractions[above - 1], fractions[above]
    s_low, s_high = shares[above - 1], shares[above]
    truth = low + (0.95 - s_low) * (high - low) / (s_high - s_low)
    assert predicted == pytest.approx(truth, rel=0.10)
    # and a plate analysed says the same LoD95 as the formula
    m = measure([simulate_plate(rng, 0.0, blank)], blank, alpha=ALPHA,
                min_positive_partitions=MIN_POSITIVE)  # fmt: skip
    assert m.lod95 == pytest.approx(predicted, rel=0.05)
    assert not m.detected


def test_false_positive_rate_under_the_blank_stays_below_alpha():
    rng = np.random.default_rng(3)
    blank = Blank(5e-4, 1e-5, "test")
    assert detected_share(rng, 0.0, blank, 2000) <= ALPHA + 0.005


def _control(role, mutant, wild, n=N):
    return AssayRecord(
        source="plate", record_no=1, sample=role, target="KRAS G12D", well="H1",
        platform="ddpcr", dialect="generic", role=role, mutant_positives=mutant,
        wildtype_positives=wild, accepted_partitions=n,
    )  # fmt: skip


def test_plate_controls_set_the_blank_and_move_the_call():
    wildtype = _control("wildtype_control", 3, 3000)  # 3 false positives in ~3,350 wt copies
    ntc = _control("ntc", 1, 0)
    blank = plate_blank([wildtype, ntc], "KRAS G12D", configured_rate=1e-5)
    wt_copies = -math.log((N - 3000) / N) * N
    assert blank.per_wildtype_copy == pytest.approx(-math.log((N - 3) / N) * N / wt_copies)
    assert blank.per_partition == pytest.approx(1 / N)
    assert "1 wild-type control well(s)" in blank.source and "1 NTC well(s)" in blank.source
    # 4 mutant droplets: detected against the configured rate, not against this plate's blank
    sample = _control("sample", 4, 3000)
    assert measure([sample], Blank(1e-5, 0, "cfg"), alpha=ALPHA, min_positive_partitions=2).detected
    noisy = measure([sample], blank, alpha=ALPHA, min_positive_partitions=2)
    assert not noisy.detected and noisy.p_value > ALPHA
    assert noisy.limit_of_blank >= 2


def test_clean_wildtype_control_cannot_claim_a_rate_below_one_in_its_copies():
    clean = _control("wildtype_control", 0, 300)
    blank = plate_blank([clean], "KRAS G12D", configured_rate=0.01)
    assert blank.per_wildtype_copy == pytest.approx(1 / (-math.log((N - 300) / N) * N))
    assert plate_blank([], "KRAS G12D", 2e-4).per_wildtype_copy == 2e-4


def test_a_channel_without_positives_has_zero_copies_not_minus_zero():
    """-ln(N/N) is -0.0, which tables would print as '-0' (the demo's ddPCR NRAS at T1 did)."""
    assert math.copysign(1.0, copies_per_partition(15000, 15000)) == 1.0


def test_a_saturated_wild_type_channel_is_no_call_and_no_copy_number():
    """Every droplet wild-type positive: the wild-type copies, the fraction and the blank's false
    positives are unknown, so no detection is claimed and no depth is invented (not a crash)."""
    record = AssayRecord(
        source="plate.csv", record_no=2, sample="S", target="KRAS G12D", well="A01",
        platform="ddpcr", dialect="quantasoft", mutant_positives=30, wildtype_positives=N,
        accepted_partitions=N,
    )  # fmt: skip
    blank = Blank(per_wildtype_copy=1e-4, per_partition=0.0, source="configured")
    m = measure([record], blank, alpha=ALPHA, min_positive_partitions=MIN_POSITIVE)
    assert m.fraction is None and m.detected is False and m.p_value is None
    assert m.depth is None and m.alt_reads == 30 and "saturated" in m.note
