"""Coverage of the output-indicator intervals (pfseval.designs.proportion) in simulated studies.

- ``rate``: one share x / n (e.g. the programme completion rate) with the Wilson interval
  (main) and Clopper–Pearson (alternative); truth = the population probability.
- ``mean_of_rates``: the mean of four correlated 0/1 domain rates, each over the people with
  data on that domain (the Kobe lifestyle-improvement rate), with the person-level bootstrap
  percentile interval; truth = the mean of the four population probabilities.

Run ``python benchmarks/proportion_coverage.py --n-studies 1000`` (about two minutes); it
writes ``benchmarks/results/proportion_coverage.md``.
"""

from __future__ import annotations

import argparse
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from pfseval.designs.proportion import mean_of_rates, rate
from pfseval.errors import PfsevalWarning

HERE = Path(__file__).resolve().parent


def _domains(
    rng: np.random.Generator, n: int, probs: np.ndarray, rho: float, missing: float
) -> pd.DataFrame:
    """Four 0/1 domains from a Gaussian copula with exchangeable correlation ``rho``."""
    k = len(probs)
    cov = np.full((k, k), rho) + np.eye(k) * (1 - rho)
    z = rng.multivariate_normal(np.zeros(k), cov, size=n)
    y = (z < stats.norm.ppf(probs)).astype(float)
    y[rng.random((n, k)) < missing] = np.nan
    return pd.DataFrame(y, columns=[f"d{j}" for j in range(k)])


def run(n_studies: int, n_boot: int, seed: int) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    ss = np.random.SeedSequence(seed)
    for n, p in [(30, 0.9), (55, 0.92), (100, 0.5), (30, 0.7)]:
        rng = np.random.default_rng(ss.spawn(1)[0])
        hit_w = hit_cp = 0
        for _ in range(n_studies):
            df = pd.DataFrame({"done": (rng.random(n) < p).astype(float)})
            est = rate(df, outcome="done")
            hit_w += est.conf_low <= p <= est.conf_high
            lo, hi = est.intervals["clopper_pearson"]
            hit_cp += lo <= p <= hi
        rows.append(
            {
                "indicator": "rate",
                "setting": f"n = {n}, p = {p}",
                "interval": "Wilson",
                "coverage": hit_w / n_studies,
            }
        )
        rows.append(
            {
                "indicator": "rate",
                "setting": f"n = {n}, p = {p}",
                "interval": "Clopper–Pearson",
                "coverage": hit_cp / n_studies,
            }
        )
    probs = np.array([0.85, 0.8, 0.9, 0.75])
    truth = float(probs.mean())
    for n, rho, miss in [(50, 0.3, 0.05), (100, 0.3, 0.05), (50, 0.6, 0.1)]:
        rng = np.random.default_rng(ss.spawn(1)[0])
        hit = 0
        widths = []
        for s in range(n_studies):
            df = _domains(rng, n, probs, rho, miss)
            est = mean_of_rates(df, outcomes=list(df.columns), n_boot=n_boot, seed=s)
            hit += est.conf_low <= truth <= est.conf_high
            widths.append(est.conf_high - est.conf_low)
        rows.append(
            {
                "indicator": "mean of 4 domain rates",
                "setting": f"n = {n}, correlation {rho}, {miss:.0%} missing per domain",
                "interval": f"bootstrap percentile (B = {n_boot})",
                "coverage": hit / n_studies,
            }
        )
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n-studies", type=int, default=1000)
    ap.add_argument("--n-boot", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=20261122)
    ap.add_argument("--out", type=Path, default=HERE / "results" / "proportion_coverage.md")
    a = ap.parse_args()
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PfsevalWarning)
        rows = run(a.n_studies, a.n_boot, a.seed)
    secs = time.perf_counter() - t0
    mc = 1.96 * (0.95 * 0.05 / a.n_studies) ** 0.5
    lines = [
        "# Output indicators (pfseval.designs.proportion): coverage of 95% intervals",
        "",
        f"Command: `python benchmarks/proportion_coverage.py --n-studies {a.n_studies} "
        f"--n-boot {a.n_boot} --seed {a.seed}` ({secs:.0f} s). Monte Carlo ±{mc:.3f} around 0.95.",
        "",
        "| indicator | setting | interval | coverage |",
        "| --- | --- | --- | ---: |",
    ]
    lines += [
        f"| {r['indicator']} | {r['setting']} | {r['interval']} | {float(r['coverage']):.3f} |"  # type: ignore[arg-type]
        for r in rows
    ]
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
