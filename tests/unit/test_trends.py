"""Trend labels across draws (SPEC 5.5), with the detection rule of SPEC 5.2 setting the LoDs."""

import datetime

import pytest
from scipy.stats import fisher_exact

from ctdna_resistance.stats import is_supported, lod95
from ctdna_resistance.trends import (
    TEST_NAME,
    Draw,
    TrendCall,
    classify_trends,
    fisher_exact_two_sided,
    is_emerging,
)

RULE = {"background_error": 0.0005, "alpha": 0.01, "min_alt_reads": 3}
ALPHA = 0.01
START = datetime.date(2024, 1, 8)


def observed(index: int, alt_reads: int, depth: int) -> Draw:
    """A draw whose status follows the detection rule, with the LoD95 at its depth."""
    status = "detected" if is_supported(alt_reads, depth, **RULE) else "not_detected"
    date = START + datetime.timedelta(weeks=8 * index)
    return Draw(f"S{index}", date, status, alt_reads, depth, lod95(depth, **RULE))


def not_assessed(index: int) -> Draw:
    date = START + datetime.timedelta(weeks=8 * index)
    return Draw(f"S{index}", date, "not_assessed", None, None, None)


def labels(calls: list[TrendCall]) -> list[str]:
    return [call.label for call in calls]


def test_absent_at_a_too_shallow_baseline_is_first_seen_not_new():
    # Baseline at 150x cannot see 1% (its LoD95 is about 4%); at 3000x, 30 reads are a clear call.
    shallow = observed(0, 0, 150)
    assert shallow.status == "not_detected" and shallow.lod95 > 0.03
    calls = classify_trends([shallow, observed(1, 30, 3000)], alpha=ALPHA)
    assert labels(calls) == ["not_detected", "first_seen"]
    assert "S0: too shallow" in calls[1].reason
    assert not is_emerging(calls[1], 1)


def test_absent_at_an_adequate_baseline_is_new_and_emerging():
    calls = classify_trends([observed(0, 1, 3000), observed(1, 30, 3000)], alpha=ALPHA)
    assert labels(calls) == ["not_detected", "new"]
    assert calls[1].test == TEST_NAME
    assert calls[1].p_value == pytest.approx(
        fisher_exact([[1, 2999], [30, 2970]], alternative="two-sided").pvalue
    )
    assert is_emerging(calls[1], 1)


def test_not_assessed_baseline_then_detection_is_first_seen_with_the_reason():
    calls = classify_trends([not_assessed(0), observed(1, 30, 3000)], alpha=ALPHA)
    assert labels(calls) == ["not_assessed", "first_seen"]
    assert "S0: not assessed" in calls[1].reason


def test_one_adequate_absence_among_blind_draws_is_enough_for_new():
    draws = [not_assessed(0), observed(1, 0, 150), observed(2, 0, 3000), observed(3, 30, 3000)]
    calls = classify_trends(draws, alpha=ALPHA)
    assert calls[3].label == "new"
    assert "S2" in calls[3].reason and "S1" not in calls[3].reason


def test_a_detection_at_the_limit_is_new_when_the_earlier_draw_was_as_deep():
    # 5 reads at 2000x: supported, but VAF 0.25% is below the LoD95 at 2000x (about 0.46%).
    now = observed(1, 5, 2000)
    assert now.status == "detected" and now.lod95 > 5 / 2000
    same_depth = classify_trends([observed(0, 0, 2000), now], alpha=ALPHA)
    assert same_depth[1].label == "new"
    shallower = classify_trends([observed(0, 0, 1000), now], alpha=ALPHA)
    assert shallower[1].label == "first_seen"


def test_detected_at_baseline_is_pre_existing_then_tested_against_the_previous_draw():
    draws = [
        observed(0, 60, 3000),  # 2%
        observed(1, 62, 3000),  # 2%: no change
        observed(2, 150, 3000),  # 5%: up
        observed(3, 20, 3000),  # 0.67%: down
    ]
    calls = classify_trends(draws, alpha=ALPHA)
    assert labels(calls) == ["pre_existing", "stable", "rising", "falling"]
    assert calls[0].p_value is None
    expected = fisher_exact([[62, 2938], [150, 2850]]).pvalue
    assert calls[2].p_value == pytest.approx(expected)
    assert calls[1].p_value >= ALPHA > calls[2].p_value
    assert [is_emerging(c, i) for i, c in enumerate(calls)] == [False, False, True, False]


def test_rising_is_never_emerging_at_baseline():
    assert not is_emerging(TrendCall("rising", 0.001, TEST_NAME, ""), 0)
    assert not is_emerging(TrendCall("new", None, None, ""), 0)


def test_change_is_measured_against_the_last_draw_with_counts():
    draws = [observed(0, 60, 3000), not_assessed(1), observed(2, 150, 3000)]
    calls = classify_trends(draws, alpha=ALPHA)
    assert calls[2].label == "rising"
    assert "at S0" in calls[2].reason


def test_cleared_needs_an_lod_at_or_below_the_vaf_last_seen():
    draws = [observed(0, 60, 3000), observed(1, 0, 3000)]
    calls = classify_trends(draws, alpha=ALPHA)
    assert labels(calls) == ["pre_existing", "cleared"]
    assert calls[1].p_value == pytest.approx(fisher_exact([[60, 2940], [0, 3000]]).pvalue)
    # Last seen at 0.3%; a 500x draw (LoD95 about 1.3%) cannot say it is gone.
    shallow = classify_trends([observed(0, 9, 3000), observed(1, 0, 500)], alpha=ALPHA)
    assert shallow[1].label == "not_detected"
    assert "cannot call it cleared" in shallow[1].reason


def test_an_absence_blind_to_every_vaf_seen_is_not_evaluable():
    draws = [observed(0, 0, 150), observed(1, 30, 3000)]
    calls = classify_trends(draws, alpha=ALPHA, max_vaf_elsewhere=0.01)
    assert calls[0].label == "not_evaluable"
    assert calls[1].label == "first_seen"
    # The same absence is informative when the alteration reaches 10% somewhere.
    assert classify_trends(draws, alpha=ALPHA, max_vaf_elsewhere=0.10)[0].label == "not_detected"


def test_status_labels_pass_through_and_bad_input_is_refused():
    assert labels(classify_trends([not_assessed(0)], alpha=ALPHA)) == ["not_assessed"]
    with pytest.raises(ValueError, match="sorted"):
        classify_trends([observed(1, 0, 3000), observed(0, 0, 3000)], alpha=ALPHA)
    with pytest.raises(ValueError, match="unknown status"):
        classify_trends([Draw("S0", START, "present", 1, 10, None)], alpha=ALPHA)


@pytest.mark.parametrize(
    "table",
    [(0, 2000, 5, 2000), (5, 2000, 0, 2000), (3, 150, 30, 3000), (60, 3000, 62, 3000),
     (1000, 20000, 30, 20000), (7, 7, 0, 10), (0, 100, 0, 100), (12, 4000, 25, 5000)],
)  # fmt: skip
def test_fisher_two_sided_matches_scipy(table):
    alt1, depth1, alt2, depth2 = table
    expected = fisher_exact([[alt1, depth1 - alt1], [alt2, depth2 - alt2]]).pvalue
    assert fisher_exact_two_sided(alt1, depth1, alt2, depth2) == pytest.approx(expected, rel=1e-9)


def test_a_copy_number_call_that_stops_firing_is_not_cleared_and_says_why():
    # copy number has no reads and no LoD95: detected, then the call did not fire
    later = START + datetime.timedelta(weeks=8)
    draws = [
        Draw("S0", START, "detected", None, None, None),
        Draw("S1", later, "not_detected", None, None, None),
    ]
    calls = classify_trends(draws, alpha=ALPHA)
    assert labels(calls) == ["pre_existing", "not_detected"]
    assert calls[1].reason == (
        "not detected, no LoD95 at this draw (last detected at S0 (VAF unknown)): "
        "cannot call it cleared"
    )


def test_an_absence_judged_by_the_calls_own_rule_counts_as_adequate():
    # copy number and fusions: tracking marks not_detected only where the call would have fired
    later, last = START + datetime.timedelta(weeks=8), START + datetime.timedelta(weeks=16)
    judged = Draw("S1", later, "not_detected", None, None, None, True, "the call would have fired")
    calls = classify_trends([Draw("S0", START, "detected", None, None, None), judged], alpha=ALPHA)
    assert labels(calls) == ["pre_existing", "cleared"]
    assert calls[1].reason.startswith("the call would have fired; last detected at S0")
    calls = classify_trends(
        [Draw("S0", START, "not_detected", None, None, None, True, "fires at 10%"),
         Draw("S1", later, "not_evaluable", None, None, None, False, "TF too low"),
         Draw("S2", last, "detected", 30, 2766, None)],
        alpha=ALPHA,
    )  # fmt: skip
    assert labels(calls) == ["not_detected", "not_evaluable", "new"]
    assert calls[1].reason == "TF too low"
    assert "not detected at S0 (the call would have fired)" in calls[2].reason
