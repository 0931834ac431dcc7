"""Synthetic serial-plasma cohorts with known truth, in the dialects of real variant callers."""

from ctdna_resistance.simulate.cohort import simulate_cohort

__all__ = ["simulate_cohort"]
