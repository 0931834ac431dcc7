"""Validation of the per-site background (issue 20): artefact false positives, power, LoD95.

Simulates normal-plasma counts with a known per-site error (each of ``sites`` positions x 3 ALTs:
a context rate x a mean-one lognormal site factor, over-dispersion rho between samples, per normal
an error drawn from Beta(mean, rho) and alt reads from Binomial(depth, error)), plus recurrent
artefacts (mean 0.2-0.6% in every normal), fits them with the product's own code
(background_build.fit_background) and compares, per allele:

* artefact sites, plasma with no tumour allele (its own error drawn the same way): the rate of
  calls with the fitted site model (false "new resistance"; must be <= alpha) and with the scalar
  model (``detection.background_error``), which calls most of them;
* clean sites, a grid of depth x VAF: the sensitivity with the fitted model against the exact
  limit, the detection probability of the same rule at the true mean and rho (a read shows the
  alt with probability v + (1 - v) e, e from the site's Beta);
* the LoD95 from the fitted model against the LoD95 from the true mean and rho, and the same
  share for an oracle that is told each site's true mean and estimates its rho by maximum
  likelihood from the same normals: how close to the truth those normals allow any fit to come;
* clean sites, plasma with no tumour allele: the rate of false calls per depth with the fitted
  model (alpha is the aim; above the normals' own depth it is not met, see README).

Run `python tests/validation/background_grid.py` for the README table;
tests/unit/test_background_validation.py asserts the same on a smaller simulation.
"""

from __future__ import annotations

import itertools
import sys

import numpy as np
from scipy.special import bdtrc
from scipy.stats import betabinom

from ctdna_resistance.background import context_class
from ctdna_resistance.background_build import Counts, fit_background
from ctdna_resistance.stats import beta_parameters, lod95_against, min_alt_reads_against

ALPHA, MIN_ALT = 0.01, 3
SCALAR_ERROR = 0.0005
CLASS_RATES = {"C>T": 2e-4, "C>A": 1e-4, "C>G": 3e-5, "T>A": 3e-5, "T>C": 6e-5, "T>G": 2e-5}
_COMPLEMENT = str.maketrans("ACGT", "TGCA")


def _beta_draws(rng, mean: float, rho: float, size) -> np.ndarray:
    return rng.beta(*beta_parameters(mean, rho), size=size)


def simulate_normals(seed: int, sites: int, normals: int, artefacts: int):
    """(Counts, truth) with truth[(position index, alt)] = (mean, rho, is_artefact)."""
    rng = np.random.default_rng(seed)
    bases = np.zeros((sites, normals, 2, 5), dtype=np.int32)
    refs, contexts, truth = [], [], {}
    artefact_at = set(rng.choice(sites, size=artefacts, replace=False).tolist())
    for index in range(sites):
        context = "".join(rng.choice(list("ACGT"), size=3))
        ref = context[1]
        depth = rng.integers(1500, 3000, size=normals)
        alt_total = np.zeros(normals, dtype=np.int64)
        artefact_alt = rng.choice([a for a in "ACGT" if a != ref]) if index in artefact_at else None
        for alt in "ACGT":
            if alt == ref:
                continue
            label = context_class(context, alt)
            change = label[2:5]
            mean = CLASS_RATES[change] * float(np.exp(rng.normal(-0.125, 0.5)))
            rho = float(10 ** rng.uniform(-4, -3))
            artefact = alt == artefact_alt
            if artefact:
                mean = float(rng.uniform(0.002, 0.006))
            errors = _beta_draws(rng, mean, rho, normals)
            alt_reads = rng.binomial(depth, errors)
            truth[(index, alt)] = (mean, rho, artefact)
            column = "ACGTN".index(alt)
            forward = rng.binomial(alt_reads, 0.5)
            bases[index, :, 0, column] = forward
            bases[index, :, 1, column] = alt_reads - forward
            alt_total += alt_reads
        reference = depth - alt_total
        forward = rng.binomial(reference, 0.5)
        bases[index, :, 0, "ACGTN".index(ref)] = forward
        bases[index, :, 1, "ACGTN".index(ref)] = reference - forward
        refs.append(ref)
        contexts.append(context)
    counts = Counts(["1"] * sites, np.arange(1, sites + 1), refs, contexts, bases)
    return counts, truth


def _detection_probability(rng, depth: int, vaf: float, mean: float, rho: float, k: int) -> float:
    """P(alt reads >= k) in plasma at this VAF, the site's error drawn from its Beta."""
    if k > depth:
        return 0.0
    errors = _beta_draws(rng, mean, rho, 4000)
    p = vaf + (1 - vaf) * errors
    return float(np.mean(bdtrc(k - 1, depth, p)))


def _oracle_rho(alt: np.ndarray, depth: np.ndarray, mean: float) -> float:
    """The maximum-likelihood rho of one site's normals (alt, depth) given its true mean."""
    grid = 10 ** np.linspace(-6, -1.5, 91)
    loglik = [betabinom.logpmf(alt, depth, *beta_parameters(mean, rho)).sum() for rho in grid]
    return float(grid[int(np.argmax(loglik))])


def validate(seed=7, sites=300, normals=20, artefacts=12, depths=(1000, 3000, 10000),
             vafs=(0.001, 0.002, 0.005, 0.01), plasma_draws=400):  # fmt: skip
    """The numbers of the module docstring, as a dict of tables."""
    counts, truth = simulate_normals(seed, sites, normals, artefacts)
    fit = fit_background(counts, {"min_site_depth": 5000})
    fitted = {(int(r["pos"]) - 1, r["alt"]): r for r in fit.rows}
    rng = np.random.default_rng(seed + 1)
    # artefact sites: plasma draws with no tumour allele
    false_site, false_scalar, flagged = [], [], 0
    for (index, alt), (mean, rho, artefact) in truth.items():
        if not artefact:
            continue
        row = fitted[(index, alt)]
        flagged += row["flag"] == "recurrent_artefact"
        for depth in depths:
            errors = _beta_draws(rng, mean, rho, plasma_draws)
            alt_reads = rng.binomial(depth, errors)
            k_site = min_alt_reads_against(
                depth, float(row["mean_error"]), float(row["model_overdispersion"]), ALPHA, MIN_ALT
            )
            k_scalar = min_alt_reads_against(depth, SCALAR_ERROR, 0.0, ALPHA, MIN_ALT)
            false_site.append(float(np.mean(alt_reads >= k_site)))
            false_scalar.append(float(np.mean(alt_reads >= k_scalar)))
    # clean sites: power against the exact limit, and the LoD95
    power_rows = []
    clean = [(key, value) for key, value in truth.items() if not value[2]]
    picked = [clean[i] for i in rng.choice(len(clean), size=min(60, len(clean)), replace=False)]
    lod_errors = {depth: [] for depth in depths}
    oracle_errors = {depth: [] for depth in depths}
    for depth, vaf in itertools.product(depths, vafs):
        gaps = []
        for (index, alt), (mean, rho, _) in picked:
            row = fitted[(index, alt)]
            fit_mean, fit_rho = float(row["mean_error"]), float(row["model_overdispersion"])
            k_fit = min_alt_reads_against(depth, fit_mean, fit_rho, ALPHA, MIN_ALT)
            k_true = min_alt_reads_against(depth, mean, rho, ALPHA, MIN_ALT)
            sensitivity = _detection_probability(rng, depth, vaf, mean, rho, k_fit)
            limit = _detection_probability(rng, depth, vaf, mean, rho, k_true)
            gaps.append((sensitivity, limit))
        gaps = np.array(gaps)
        power_rows.append(
            {
                "depth": depth,
                "vaf": vaf,
                "sensitivity": float(gaps[:, 0].mean()),
                "limit": float(gaps[:, 1].mean()),
                "worst_gap": float(np.max(np.abs(gaps[:, 0] - gaps[:, 1]))),
            }
        )
    for depth in depths:
        for (index, alt), (mean, rho, _) in picked:
            row = fitted[(index, alt)]
            lod_fit = lod95_against(
                depth, float(row["mean_error"]), float(row["model_overdispersion"]), ALPHA, MIN_ALT
            )
            lod_true = lod95_against(depth, mean, rho, ALPHA, MIN_ALT)
            lod_errors[depth].append(abs(lod_fit / lod_true - 1))
            # the oracle: true mean, rho by maximum likelihood from the same normals
            alt_normals = counts.bases[index, :, :, "ACGTN".index(alt)].sum(axis=1)
            depth_normals = counts.bases[index].sum(axis=(1, 2))
            rho_oracle = _oracle_rho(alt_normals, depth_normals, mean)
            lod_oracle = lod95_against(depth, mean, rho_oracle, ALPHA, MIN_ALT)
            oracle_errors[depth].append(abs(lod_oracle / lod_true - 1))
    # clean sites: false calls in plasma without a tumour allele
    clean_false = {}
    for depth in depths:
        rates = []
        for (index, alt), (mean, rho, _) in picked:
            row = fitted[(index, alt)]
            k_fit = min_alt_reads_against(
                depth, float(row["mean_error"]), float(row["model_overdispersion"]), ALPHA, MIN_ALT
            )
            errors = _beta_draws(rng, mean, rho, 4000)
            rates.append(float(np.mean(bdtrc(k_fit - 1, depth, errors))))
        clean_false[depth] = float(np.mean(rates))
    return {
        "artefacts": artefacts,
        "artefacts_flagged": flagged,
        "false_positive_site": float(np.mean(false_site)),
        "false_positive_scalar": float(np.mean(false_scalar)),
        "power": power_rows,
        "lod_within_10pct": {
            depth: float(np.mean(np.array(errors) <= 0.10)) for depth, errors in lod_errors.items()
        },
        "lod_median_error": {
            depth: float(np.median(errors)) for depth, errors in lod_errors.items()
        },
        "oracle_lod_within_10pct": {
            depth: float(np.mean(np.array(errors) <= 0.10))
            for depth, errors in oracle_errors.items()
        },
        "false_positive_clean": clean_false,
    }


def main() -> int:
    result = validate()
    print(f"artefact alleles flagged recurrent_artefact: {result['artefacts_flagged']} of "
          f"{result['artefacts']}")  # fmt: skip
    print(f"false calls at artefact sites (plasma without the allele): site model "
          f"{100 * result['false_positive_site']:.2f}%, scalar model "
          f"{100 * result['false_positive_scalar']:.1f}% (alpha {ALPHA})")  # fmt: skip
    print("\n| depth | VAF | sensitivity (fitted site model) | exact limit (true model) | "
          "sens - limit | worst site |")  # fmt: skip
    print("|---:|---:|---:|---:|---:|---:|")
    for row in result["power"]:
        print(
            f"| {row['depth']} | {100 * row['vaf']:.1f}% | {100 * row['sensitivity']:.1f}% | "
            f"{100 * row['limit']:.1f}% | {100 * (row['sensitivity'] - row['limit']):+.1f} pp | "
            f"{100 * row['worst_gap']:.1f} pp |"
        )
    print("\n| depth | LoD95 within 10% of the truth | median relative error | oracle (true mean, "
          "ML rho): within 10% | false calls at clean sites |")  # fmt: skip
    print("|---:|---:|---:|---:|---:|")
    for depth, share in result["lod_within_10pct"].items():
        print(
            f"| {depth} | {100 * share:.0f}% | {100 * result['lod_median_error'][depth]:.1f}% | "
            f"{100 * result['oracle_lod_within_10pct'][depth]:.0f}% | "
            f"{100 * result['false_positive_clean'][depth]:.2f}% |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
