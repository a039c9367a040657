"""Coverage of the g-computation (after matching) and IPW / AIPW intervals.

Each study draws ``--n`` people with three covariates (x1 normal, x2 binary, x3 normal), a
logistic treatment assignment (about 20 % treated) and two outcomes with a treatment effect
that varies with x1:

- binary: ``logit P(y = 1) = −0.5 + 0.5 x1 − 0.4 x2 + 0.3 x3 + t (0.6 + 0.3 x1)``;
- continuous: ``y = x1 + 0.5 x2 − 0.5 x3 + t (1 + 0.5 x1) + N(0, 1)``.

Truths, from the known outcome probabilities (no simulation error):

- after matching, the *sample* ATT over the matched participants (what the matched analysis
  estimates: the mean of ``p₁(x) − p₀(x)`` over them, and the ratio of the means for the RR);
- for IPW / AIPW (every participant kept), the *population* ATT, computed once from 4 million
  draws of the covariates weighted by the true propensity score.

The matched g-computation intervals also get their coverage of the population ATT reported,
for information: their delta method treats the participants' covariates as fixed, as
marginaleffects does.

Usage::

    python benchmarks/gcomp_coverage.py --studies 1000

Writes ``benchmarks/results/gcomp_coverage.md`` (or ``--out``).
"""

from __future__ import annotations

import argparse
import math
import platform
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from scipy.special import expit

from pfseval import __version__
from pfseval.designs.psm import aipw, ipw, marginal_effect, match
from pfseval.errors import PfsevalError

HERE = Path(__file__).resolve().parent
COVS = ["x1", "x2", "x3"]


def _covariates(rng: np.random.Generator, n: int) -> pd.DataFrame:
    return pd.DataFrame(
        {"x1": rng.normal(size=n), "x2": rng.integers(0, 2, n), "x3": rng.normal(size=n)}
    )


def _ps(x: pd.DataFrame) -> np.ndarray:
    return np.asarray(expit(-1.6 + 0.6 * x["x1"] + 0.5 * x["x2"] - 0.3 * x["x3"]))


def _p(x: pd.DataFrame, t: float) -> np.ndarray:
    lin = -0.5 + 0.5 * x["x1"] - 0.4 * x["x2"] + 0.3 * x["x3"] + t * (0.6 + 0.3 * x["x1"])
    return np.asarray(expit(lin))


def _mean_c(x: pd.DataFrame, t: float) -> np.ndarray:
    return np.asarray(x["x1"] + 0.5 * x["x2"] - 0.5 * x["x3"] + t * (1 + 0.5 * x["x1"]))


def population_truth(seed: int = 20240401, n: int = 4_000_000) -> dict[str, float]:
    """PATT on each scale: covariate draws weighted by the true propensity score."""
    x = _covariates(np.random.default_rng(seed), n)
    e = _ps(x)
    m1, m0 = np.average(_p(x, 1), weights=e), np.average(_p(x, 0), weights=e)
    c = np.average(_mean_c(x, 1) - _mean_c(x, 0), weights=e)
    return {"RD": m1 - m0, "RR": m1 / m0, "difference": float(c)}


def one_study(seed: int, n: int, patt: dict[str, float]) -> list[Any]:
    rng = np.random.default_rng(seed)
    d = _covariates(rng, n)
    d["id"] = np.arange(n)
    d["t"] = (rng.random(n) < _ps(d)).astype(int)
    d["yb"] = (rng.random(n) < np.where(d["t"] == 1, _p(d, 1), _p(d, 0))).astype(int)
    d["yc"] = _mean_c(d, 0) + d["t"] * (_mean_c(d, 1) - _mean_c(d, 0)) + rng.normal(size=n)
    out: list[Any] = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for label, mopts in (
            ("1:1, caliper 0.2 SD of logit", {"link": "linear.logit", "caliper": 0.2}),
            ("2:1 with replacement", {"ratio": 2, "replace": True}),
        ):
            m = match(d, treatment="t", covariates=COVS, id_col="id", **mopts)  # type: ignore[arg-type]
            tm = m.data.loc[(m.data["t"] == 1) & (m.weights.to_numpy() > 0)]
            p1, p0 = _p(tm, 1), _p(tm, 0)
            satt = {
                "RD": float(np.mean(p1 - p0)),
                "RR": float(np.mean(p1) / np.mean(p0)),
                "difference": float(np.mean(_mean_c(tm, 1) - _mean_c(tm, 0))),
            }
            for eff, y in (("RD", "yb"), ("RR", "yb"), ("difference", "yc")):
                name = f"g-computation {eff}, {label}"
                try:
                    est = marginal_effect(m, outcome=y, covariates=COVS, effect=eff)  # type: ignore[arg-type]
                    out.append((name, est.conf_low, est.conf_high, satt[eff], patt[eff]))
                except PfsevalError:
                    out.append((name, math.nan, math.nan, satt[eff], patt[eff]))
        for fn, eff, y in (
            (aipw, "RD", "yb"),
            (aipw, "difference", "yc"),
            (ipw, "difference", "yc"),
        ):
            name = f"{fn.__name__.upper()} {eff}, all people"
            try:
                est = fn(d, treatment="t", outcome=y, covariates=COVS)
                out.append((name, est.conf_low, est.conf_high, patt[eff], patt[eff]))
            except PfsevalError:
                out.append((name, math.nan, math.nan, patt[eff], patt[eff]))
    return out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--studies", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=1, help="seed of the first study")
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--n-jobs", type=int, default=1)
    ap.add_argument("--out", type=Path, default=HERE / "results" / "gcomp_coverage.md")
    args = ap.parse_args(argv)

    t0 = time.perf_counter()
    patt = population_truth()
    seeds = range(args.seed, args.seed + args.studies)
    results = Parallel(n_jobs=args.n_jobs)(delayed(one_study)(s, args.n, patt) for s in seeds)
    seconds = time.perf_counter() - t0
    df = pd.DataFrame(
        [r for study in results for r in study],
        columns=["spec", "low", "high", "truth", "patt"],
    )
    cmd = f"python benchmarks/gcomp_coverage.py --studies {args.studies}"
    if args.n != 2000:
        cmd += f" --n {args.n}"
    lines = [
        "# Coverage of g-computation (after matching), IPW and AIPW intervals",
        "",
        f"Command: `{cmd}`",
        "",
        f"pfseval {__version__}, Python {platform.python_version()}, numpy {np.__version__}, "
        f"pandas {pd.__version__}. {args.n} people per study, about 20% treated; data and "
        "truths as described in `benchmarks/gcomp_coverage.py`. Population ATT: "
        f"RD {patt['RD']:.4f}, RR {patt['RR']:.4f}, difference {patt['difference']:.4f}. "
        "Nominal level 95%; target band 93–97%. `coverage` is of the truth the method "
        "estimates (sample ATT of the matched participants after matching, population ATT "
        "for IPW/AIPW); `PATT` is the coverage of the population ATT. `MC SE` = "
        f"√(c(1−c)/studies). Total time {seconds:.0f} s on {args.n_jobs} core(s).",
        "",
        "| specification | studies | coverage | MC SE | PATT | below | above | mean width | refused |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for spec, g in df.groupby("spec", sort=False):
        ok = g.dropna(subset=["low", "high"])
        k = len(ok)
        cov = float(((ok["low"] <= ok["truth"]) & (ok["truth"] <= ok["high"])).mean())
        cov_p = float(((ok["low"] <= ok["patt"]) & (ok["patt"] <= ok["high"])).mean())
        below = float((ok["low"] > ok["truth"]).mean())
        above = float((ok["high"] < ok["truth"]).mean())
        width = float((ok["high"] - ok["low"]).mean())
        lines.append(
            f"| {spec} | {k} | {cov:.3f} | {math.sqrt(cov * (1 - cov) / k):.3f} | {cov_p:.3f} | "
            f"{below:.3f} | {above:.3f} | {width:.4g} | {len(g) - k} |"
        )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
